package io.vocodex.backend.cpu;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link NnOps#silu(float)} computes {@code e^-x} with its own range reduction and polynomial, and
 * the arrays' SiLU ({@code NnOps.siluSpan}) the same arithmetic in block loops. Checked here: the
 * two agree bit for bit over a sweep of float bit patterns (both signs, every exponent) and the
 * clamp boundaries, and both are within 1 ulp of the float64 expression {@code x / (1 + exp(-x))}
 * with Math.exp, equal to its rounding on all but a handful of values.
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
                float rounded = (float) exact;
                if (Float.isNaN(rounded)) {
                    assertTrue(Float.isNaN(scalar), "silu(" + v + ") should be NaN");
                } else if (Float.floatToRawIntBits(rounded) != Float.floatToRawIntBits(scalar)) {
                    differentFromRounded++;
                    assertEquals(rounded, scalar, Math.ulp(rounded), "silu(" + v + ")");
                }
                checked++;
            }
        }
        // a 1-ulp difference needs the exact value within ~1e-14 relative of a float rounding midpoint
        assertTrue(differentFromRounded <= checked / 1_000_000, differentFromRounded + " of " + checked + " differ");
    }

    @Test
    void specialValuesAndClampBoundaries() {
        float[] v = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, Float.MIN_VALUE,
                -Float.MIN_VALUE, Float.MAX_VALUE, -Float.MAX_VALUE, 700f, 700.5f, -709f, -709.5f, -709.8f, -710f,
                -711f, 745f, -745f, 88.7f, -88.7f, 1e-30f, -1e-30f};
        float[] y = new float[v.length];
        NnOps.siluSpan(v, y, 0, v.length);
        for (int i = 0; i < v.length; i++) {
            double exact = v[i] / (1.0 + Math.exp(-(double) v[i]));
            assertEquals(Float.floatToRawIntBits((float) exact), Float.floatToRawIntBits(y[i]), "silu(" + v[i] + ")");
            assertEquals(Float.floatToRawIntBits(NnOps.silu(v[i])), Float.floatToRawIntBits(y[i]), "silu(" + v[i] + ")");
        }
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
