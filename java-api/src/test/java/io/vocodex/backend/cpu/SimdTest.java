package io.vocodex.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * The build runs the tests twice over the CPU kernels: with the Vector API kernels (the default
 * execution adds {@code jdk.incubator.vector}) and without them ({@code -Dvocodex.simd=false}); the
 * property {@code vocodex.simd.expected} says which, so that neither run silently tests the other path.
 */
class SimdTest {
    @Test
    void theKernelPathIsTheOneThisRunExpects() {
        String expected = System.getProperty("vocodex.simd.expected");
        System.out.println("[simd] " + Simd.reason());
        if (expected != null) {
            assertEquals(Boolean.parseBoolean(expected), Simd.enabled(), Simd.reason());
        }
    }

    /**
     * The build also runs the kernel tests with {@code -Dvocodex.simd.blockVectors=2} and {@code =4},
     * so that both register-block shapes are checked on every machine, whatever its vector width.
     */
    @Test
    void theRegisterBlockShapeIsTheOneThisRunAsksFor() {
        String asked = System.getProperty("vocodex.simd.blockVectors", "");
        if (!Simd.enabled() || asked.isEmpty()) {
            return;
        }
        assertEquals(Integer.parseInt(asked), VectorConv.width() / VectorConv.lanes(), Simd.reason());
        assertEquals(asked.equals("4"), TwoVectorBlocks.FOUR_VECTORS);
    }

    @Test
    void theDefaultShapeFollowsTheVectorWidthAndBadSettingsAreRefused() {
        assertEquals(true, TwoVectorBlocks.chooseFourVectors("", 16));
        assertEquals(false, TwoVectorBlocks.chooseFourVectors("", 8));
        assertEquals(false, TwoVectorBlocks.chooseFourVectors("2", 16));
        assertEquals(true, TwoVectorBlocks.chooseFourVectors("4", 8));
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> TwoVectorBlocks.chooseFourVectors("3", 8));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("\"3\""), e.getMessage());
    }

    /**
     * JDK 20 removed the Vector API's byte-array methods that VectorElu and VectorSilu use on Java 17;
     * the detection must agree with the running JDK, or those kernels fail with NoSuchMethodError
     * (they did on JDK 25 before the check existed).
     */
    @Test
    void theBitCastFormMatchesTheRunningJdk() {
        if (!Simd.enabled()) {
            return;
        }
        assertEquals(Runtime.version().feature() <= 19, VectorBits.BYTE_ARRAYS,
                "Java " + Runtime.version() + ": byte-array vector methods detected = " + VectorBits.BYTE_ARRAYS);
    }
}
