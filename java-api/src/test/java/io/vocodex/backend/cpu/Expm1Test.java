package io.vocodex.backend.cpu;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The vectorisable expm1 behind ELU stays within 1 ulp of Math.expm1 over the whole ELU range. */
class Expm1Test {
    @Test
    void withinOneUlpOfLibraryExpm1() {
        double worst = 0;
        float at = 0;
        // every 97th float bit pattern in [-87, 0] plus dense sampling of tiny magnitudes
        for (int bits = Float.floatToIntBits(-0f); bits <= Float.floatToIntBits(-87f); bits += 97) {
            float v = Float.intBitsToFloat(bits);
            float ref = (float) Math.expm1(v);
            double ulps = Math.abs(ref - CpuOps.expm1NonPositive(v)) / Math.ulp(ref);
            if (ulps > worst) {
                worst = ulps;
                at = v;
            }
        }
        assertTrue(worst <= 1.0, "max error " + worst + " ulp at " + at);
    }

    @Test
    void eluEdgeValues() {
        float[] x = {0f, -0f, 1e-30f, -1e-30f, -1e-8f, 3f, -100f, -87f, Float.MAX_VALUE};
        float[][] y = CpuOps.elu(new float[][] {x}, 1f);
        assertEquals(0f, y[0][0]);
        assertEquals(1e-30f, y[0][2]);
        assertEquals(-1e-30f, y[0][3], Math.ulp(1e-30f));
        assertEquals((float) Math.expm1(-1e-8), y[0][4], Math.ulp(1e-8f));
        assertEquals(3f, y[0][5]);
        assertEquals(-1f, y[0][6]);
        assertEquals(-1f, y[0][7]);
        assertEquals(Float.MAX_VALUE, y[0][8]);
    }
}
