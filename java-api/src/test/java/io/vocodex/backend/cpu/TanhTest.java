package io.vocodex.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** {@link CpuOps#tanh} must equal {@code (float) Math.tanh(v)} bit for bit (it is the LSTM's tanh). */
class TanhTest {
    private static void check(float v) {
        float expected = (float) Math.tanh(v);
        float got = CpuOps.tanh(v);
        if (Float.floatToRawIntBits(expected) != Float.floatToRawIntBits(got)) {
            assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(got),
                    "tanh(" + v + " = 0x" + Integer.toHexString(Float.floatToRawIntBits(v)) + "): " + expected + " vs " + got);
        }
    }

    @Test
    void equalsMathTanhOnASweepOfFloatBitPatterns() {
        // every 61st bit pattern: all exponents and signs, ~70 million values
        for (long bits = 0; bits <= 0xFFFFFFFFL; bits += 61) {
            check(Float.intBitsToFloat((int) bits));
        }
    }

    @Test
    void equalsMathTanhAtEdges() {
        float[] edges = {0f, -0f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MIN_VALUE,
            -Float.MIN_VALUE, Float.MIN_NORMAL, 0x1p-10f, Math.nextDown(0x1p-10f), Math.nextUp(0x1p-10f), -0x1p-10f,
            1f, -1f, 9.01f, 9.011f, 20f, 44f, 355f, 400f, Float.MAX_VALUE, -Float.MAX_VALUE};
        for (float v : edges) {
            check(v);
        }
    }

    @Test
    void theExactFallbackIsReachedNearRoundingMidpoints() {
        // the fast value must sometimes land within the tolerance of a midpoint, or the test above
        // would not exercise the fallback; count such inputs in a dense range
        int near = 0;
        for (int bits = Float.floatToRawIntBits(0.01f); bits < Float.floatToRawIntBits(4f); bits += 3) {
            float v = Float.intBitsToFloat(bits);
            double t = 1.0 - 2.0 / (Math.exp(2.0 * v) + 1.0);
            float f = (float) t;
            double up = ((double) f + (double) Math.nextUp(f)) * 0.5;
            double down = ((double) f + (double) Math.nextDown(f)) * 0.5;
            if (Math.abs(t - up) <= CpuOps.TANH_TOLERANCE || Math.abs(t - down) <= CpuOps.TANH_TOLERANCE) {
                near++;
                check(v);
            }
        }
        assertTrue(near > 0, "no input came near a midpoint: the fallback is never exercised");
        System.out.println("TanhTest: " + near + " inputs took the exact fallback");
    }
}
