package io.vocodex.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The LSTM's activations, {@link CpuOps#tanh} and {@link CpuOps#sigmoid}, are float arithmetic of
 * their own. Checked here over sweeps of float bit patterns (both signs, every exponent): the span
 * forms ({@link CpuOps#tanhSpan}, {@link NnOps#sigmoidSpan}; the Vector API passes where they run)
 * equal the scalar functions bit for bit, and both are within 2 ulp of the float64 value
 * ({@code Math.tanh}, {@code 1 / (1 + Math.exp(-v))}) rounded to float; the sigmoid's results below
 * the smallest normal float ({@code v < -87.3}) are within that distance of it instead.
 */
class TanhTest {
    private static final int BLOCK = 64; // the LSTM's units per block

    @Test
    void tanhSpansEqualScalarAndMathTanh() {
        // every 61st bit pattern: ~70 million values
        float[] x = new float[BLOCK];
        float[] y = new float[BLOCK];
        float[] arg = new float[BLOCK];
        CpuOps.EluScratch scratch = new CpuOps.EluScratch();
        long differ = 0;
        long checked = 0;
        long bits = 0;
        while (bits <= 0xFFFFFFFFL) {
            int n = 0;
            for (; n < BLOCK && bits <= 0xFFFFFFFFL; n++, bits += 61) {
                x[n] = Float.intBitsToFloat((int) bits);
            }
            CpuOps.tanhSpan(x, y, 0, n, arg, scratch);
            for (int i = 0; i < n; i++) {
                float v = x[i];
                float scalar = CpuOps.tanh(v);
                if (Float.floatToRawIntBits(scalar) != Float.floatToRawIntBits(y[i])) {
                    assertEquals(Float.floatToRawIntBits(scalar), Float.floatToRawIntBits(y[i]), "tanhSpan(" + v + ")");
                }
                float exact = (float) Math.tanh(v);
                if (Float.floatToRawIntBits(exact) != Float.floatToRawIntBits(scalar)) {
                    differ++;
                    assertEquals(exact, scalar, 2 * Math.ulp(exact), "tanh(" + v + ")");
                }
                checked++;
            }
        }
        // measured: ~3 % of the values 1 ulp from Math.tanh's rounding, ~0.15 % 2 ulp
        assertTrue(differ <= checked / 16, differ + " of " + checked + " differ from Math.tanh");
    }

    @Test
    void tanhAtEdges() {
        float[] edges = {0f, -0f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MIN_VALUE,
            -Float.MIN_VALUE, Float.MIN_NORMAL, 1e-30f, -1e-30f, 0x1p-10f, -0x1p-10f, 20f, -20f, 43.5f, 44f, 355f,
            Float.MAX_VALUE, -Float.MAX_VALUE};
        for (float v : edges) {
            float exact = (float) Math.tanh(v);
            assertEquals(Float.floatToRawIntBits(exact), Float.floatToRawIntBits(CpuOps.tanh(v)), "tanh(" + v + ")");
        }
        float[] y = new float[edges.length];
        CpuOps.tanhSpan(edges, y, 0, edges.length, new float[edges.length], new CpuOps.EluScratch());
        for (int i = 0; i < edges.length; i++) {
            assertEquals(Float.floatToRawIntBits(CpuOps.tanh(edges[i])), Float.floatToRawIntBits(y[i]), "tanhSpan(" + edges[i] + ")");
        }
    }

    @Test
    void sigmoidSpansEqualScalarAndTheExactValue() {
        float[] x = new float[BLOCK];
        float[] y = new float[BLOCK];
        NnOps.SiluScratch scratch = new NnOps.SiluScratch(BLOCK);
        long bits = 0;
        while (bits <= 0xFFFFFFFFL) {
            int n = 0;
            for (; n < BLOCK && bits <= 0xFFFFFFFFL; n++, bits += 61) {
                x[n] = Float.intBitsToFloat((int) bits);
            }
            NnOps.sigmoidSpan(x, y, 0, n, scratch);
            for (int i = 0; i < n; i++) {
                float v = x[i];
                float scalar = CpuOps.sigmoid(v);
                if (Float.floatToRawIntBits(scalar) != Float.floatToRawIntBits(y[i])) {
                    assertEquals(Float.floatToRawIntBits(scalar), Float.floatToRawIntBits(y[i]), "sigmoidSpan(" + v + ")");
                }
                float exact = (float) (1.0 / (1.0 + Math.exp(-(double) v)));
                if (Float.isNaN(exact)) {
                    assertTrue(Float.isNaN(scalar), "sigmoid(" + v + ")");
                } else if (exact < Float.MIN_NORMAL) {
                    assertEquals(exact, scalar, Float.MIN_NORMAL, "sigmoid(" + v + ")");
                } else if (exact != scalar) {
                    assertEquals(exact, scalar, 2 * Math.ulp(exact), "sigmoid(" + v + ")");
                }
            }
        }
        assertEquals(0.5f, CpuOps.sigmoid(0f));
        assertEquals(0.5f, CpuOps.sigmoid(-0f));
        assertEquals(1f, CpuOps.sigmoid(Float.POSITIVE_INFINITY));
        assertEquals(0f, CpuOps.sigmoid(Float.NEGATIVE_INFINITY));
    }
}
