package io.vocodex.backend.cpu;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link NnOps#silu(float)} computes {@code x / (1 + e^-x)} in float arithmetic with its own range
 * reduction and polynomial, and the arrays' SiLU ({@code NnOps.siluSpan}, Vector API or plain
 * loops) the same operations. Checked here: the two agree bit for bit over a sweep of float bit
 * patterns (both signs, every exponent) and the clamp boundaries; both are within 2 ulp of the
 * float64 expression {@code x / (1 + exp(-x))} (Math.exp) rounded to float for {@code x >= -88.37},
 * equal to that rounding on all but a few percent of values; below, where {@code e^-x} overflows a
 * float, the result is {@code -0} and the exact value under {@code 4e-37}.
 */
class SiluTest {
    private static final int STRIDE = 211; // ~20M of the 2^32 bit patterns, every exponent

    @Test
    void blockLoopsEqualScalarAndExactExpression() {
        int block = 1 << 16;
        float[] x = new float[block];
        float[] y = new float[block];
        long checked = 0;
        long differentFromRounded = 0;
        long bits = 0;
        while (bits < (1L << 32)) {
            int n = 0;
            for (; n < block && bits < (1L << 32); n++, bits += STRIDE) {
                x[n] = Float.intBitsToFloat((int) bits);
            }
            NnOps.siluSpan(x, y, 0, n);
            for (int i = 0; i < n; i++) {
                float v = x[i];
                float scalar = NnOps.silu(v);
                assertEquals(Float.floatToRawIntBits(scalar), Float.floatToRawIntBits(y[i]), "silu(" + v + ")");
                double exact = v / (1.0 + Math.exp(-(double) v));
                checkAgainstExact(v, scalar, exact);
                float rounded = (float) exact;
                if (!Float.isNaN(rounded) && Float.floatToRawIntBits(rounded) != Float.floatToRawIntBits(scalar)) {
                    differentFromRounded++;
                }
                checked++;
            }
        }
        // measured: 5.1% of the sweep (1 ulp from the rounding, 0.08% 2 ulp); a wrong polynomial
        // coefficient or reduction constant moves most values
        assertTrue(differentFromRounded <= checked / 16, differentFromRounded + " of " + checked + " differ");
    }

    /**
     * NaN where the exact value is NaN; within 2 ulp of its rounding for {@code x >= -88.37}; below
     * that ({@code e^-x} past the float range) {@code -0} with an exact value under {@code 4e-37}.
     */
    private static void checkAgainstExact(float v, float got, double exact) {
        float rounded = (float) exact;
        if (Float.isNaN(rounded)) {
            assertTrue(Float.isNaN(got), "silu(" + v + ") should be NaN, got " + got);
        } else if (v < -88.37f && Float.floatToRawIntBits(got) == Float.floatToRawIntBits(-0f)) {
            assertTrue(Math.abs(exact) < 4e-37, "silu(" + v + ") = -0 but exact " + exact);
        } else {
            assertEquals(rounded, got, 2 * Math.ulp(rounded), "silu(" + v + ")");
        }
    }

    @Test
    void specialValuesAndClampBoundaries() {
        // exactly the rounded exact value: NaN, infinities, zeros, the extremes, and x around both
        // clamps (-x = -88: 2^k is +0; -x = 89: 2^k is +infinity)
        float[] exactly = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, Float.MIN_VALUE,
                -Float.MIN_VALUE, Float.MAX_VALUE, -Float.MAX_VALUE, 700f, -709f, 88f, 88.5f, 89f, 100f, -88f,
                -87f, 1e-30f, -1e-30f, 17f, -1000f};
        float[] y = new float[exactly.length];
        NnOps.siluSpan(exactly, y, 0, exactly.length);
        for (int i = 0; i < exactly.length; i++) {
            double exact = exactly[i] / (1.0 + Math.exp(-(double) exactly[i]));
            assertEquals(Float.floatToRawIntBits((float) exact), Float.floatToRawIntBits(y[i]), "silu(" + exactly[i] + ")");
            assertEquals(Float.floatToRawIntBits(NnOps.silu(exactly[i])), Float.floatToRawIntBits(y[i]), "silu(" + exactly[i] + ")");
        }
        // every float from -88.5 to -88.2, across the point where e^-x leaves the float range
        int from = Float.floatToRawIntBits(-88.2f);
        int to = Float.floatToRawIntBits(-88.5f);
        float[] edge = new float[to - from + 1];
        for (int i = 0; i < edge.length; i++) {
            edge[i] = Float.intBitsToFloat(from + i);
        }
        float[] out = new float[edge.length];
        NnOps.siluSpan(edge, out, 0, edge.length);
        for (int i = 0; i < edge.length; i++) {
            assertEquals(Float.floatToRawIntBits(NnOps.silu(edge[i])), Float.floatToRawIntBits(out[i]), "silu(" + edge[i] + ")");
            checkAgainstExact(edge[i], out[i], edge[i] / (1.0 + Math.exp(-(double) edge[i])));
        }
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(NnOps.silu(-88.5f)), "past the float range of e^-x");
        assertTrue(NnOps.silu(-88.3f) < 0f, "inside it");
    }

    @Test
    void spansOfAnyLengthAndOffset() {
        java.util.Random r = new java.util.Random(3);
        float[] x = new float[1000];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (r.nextGaussian() * 8);
        }
        for (int from : new int[] {0, 1, 7, 255}) {
            for (int to : new int[] {from, from + 1, from + 255, from + 256, from + 257, 1000}) {
                float[] y = x.clone();
                NnOps.siluSpan(y, y, from, to); // in place
                for (int i = 0; i < x.length; i++) {
                    float want = i >= from && i < to ? NnOps.silu(x[i]) : x[i];
                    assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(y[i]), "[" + from + ", " + to + ") at " + i);
                }
            }
        }
    }
}
