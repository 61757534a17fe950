package io.vocodex.backend.cpu;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The streaming-step LSTM kernel is bit-identical to CpuOps.lstmLayer (outputs and h/c state). */
class LstmFewStepsTest {
    @Test
    void bitIdenticalToLstmLayer() {
        Random r = new Random(9);
        try (CpuContext ctx = new CpuContext(2)) {
            for (int trial = 0; trial < 40; trial++) {
                int hidden = 1 + r.nextInt(70);
                int in = 1 + r.nextInt(50);
                int steps = r.nextInt(CpuOps.LSTM_PACK_MIN_STEPS);
                Layer l = Layer.random(r, in, hidden, steps);
                float[][] x = l.x;
                float[] wih = l.wih;
                float[] whh = l.whh;
                float[] bih = l.bih;
                float[] bhh = l.bhh;
                float[] h1 = l.h;
                float[] c1 = l.c;
                float[] h2 = h1.clone();
                float[] c2 = c1.clone();
                float[][] want = CpuOps.lstmLayer(ctx, x, wih, whh, bih, bhh, h1, c1);
                float[][] got = CpuOps.lstmLayerFewSteps(x, CpuOps.transposeMatrix(wih, 4 * hidden, in),
                        CpuOps.transposeMatrix(whh, 4 * hidden, hidden), bih, bhh, h2, c2);
                float[] h3 = h2.clone();
                float[] c3 = c2.clone();
                float[] h4 = h2.clone();
                float[] c4 = c2.clone();
                // one more run from the state both reached: the packed kernel must continue identically
                float[][] more = CpuOps.lstmLayerFewSteps(x, CpuOps.transposeMatrix(wih, 4 * hidden, in),
                        CpuOps.transposeMatrix(whh, 4 * hidden, hidden), bih, bhh, h3, c3);
                float[][] packed = CpuOps.lstmLayerFewSteps(ctx, x, PackedLinear.pack(wih, 4 * hidden, in),
                        PackedLinear.pack(whh, 4 * hidden, hidden), bih, bhh, h4, c4);
                for (int j = 0; j < hidden; j++) {
                    assertEquals(Float.floatToRawIntBits(h3[j]), Float.floatToRawIntBits(h4[j]), "packed h " + j);
                    assertEquals(Float.floatToRawIntBits(c3[j]), Float.floatToRawIntBits(c4[j]), "packed c " + j);
                    for (int t = 0; t < steps; t++) {
                        assertEquals(Float.floatToRawIntBits(more[j][t]), Float.floatToRawIntBits(packed[j][t]), "packed y " + j + "," + t);
                    }
                }
                for (int j = 0; j < hidden; j++) {
                    assertEquals(Float.floatToRawIntBits(h1[j]), Float.floatToRawIntBits(h2[j]), "h " + j);
                    assertEquals(Float.floatToRawIntBits(c1[j]), Float.floatToRawIntBits(c2[j]), "c " + j);
                    for (int t = 0; t < steps; t++) {
                        assertEquals(Float.floatToRawIntBits(want[j][t]), Float.floatToRawIntBits(got[j][t]), "y " + j + "," + t);
                    }
                }
            }
        }
    }

    /**
     * The long-sequence path of {@link CpuOps#lstmLayer} (packed recurrent weights, step-major gates
     * and outputs) equals the streaming kernel run a few steps at a time, bit for bit: outputs and
     * the final state, hidden sizes across and off the 64-unit blocks, 1 and 2 threads.
     */
    @Test
    void longSequencesEqualTheStepKernelChunkByChunk() {
        Random r = new Random(31);
        for (int threads = 1; threads <= 2; threads++) {
            try (CpuContext ctx = new CpuContext(threads)) {
                for (int hidden : new int[] {5, 64, 70, 130}) {
                    int in = 1 + r.nextInt(40);
                    int steps = CpuOps.LSTM_PACK_MIN_STEPS + r.nextInt(60);
                    Layer l = Layer.random(r, in, hidden, steps);
                    float[][] x = l.x;
                    float[] h1 = l.h;
                    float[] c1 = l.c;
                    float[] h2 = h1.clone();
                    float[] c2 = c1.clone();
                    float[][] whole = CpuOps.lstmLayer(ctx, x, l.wih, l.whh, l.bih, l.bhh, h1, c1);
                    float[] wihT = CpuOps.transposeMatrix(l.wih, 4 * hidden, in);
                    float[] whhT = CpuOps.transposeMatrix(l.whh, 4 * hidden, hidden);
                    float[] bih = l.bih;
                    float[] bhh = l.bhh;
                    String at = "hidden " + hidden + ", " + steps + " steps, " + threads + " thread(s)";
                    assertEquals(hidden, whole.length, at);
                    for (int t0 = 0; t0 < steps; t0 += CpuOps.LSTM_PACK_MIN_STEPS - 1) {
                        int t1 = Math.min(steps, t0 + CpuOps.LSTM_PACK_MIN_STEPS - 1);
                        float[][] chunk = new float[in][t1 - t0];
                        for (int i = 0; i < in; i++) {
                            System.arraycopy(x[i], t0, chunk[i], 0, t1 - t0);
                        }
                        float[][] part = CpuOps.lstmLayerFewSteps(chunk, wihT, whhT, bih, bhh, h2, c2);
                        for (int j = 0; j < hidden; j++) {
                            for (int t = t0; t < t1; t++) {
                                assertEquals(Float.floatToRawIntBits(part[j][t - t0]), Float.floatToRawIntBits(whole[j][t]),
                                        "y " + j + "," + t + ", " + at);
                            }
                        }
                    }
                    for (int j = 0; j < hidden; j++) {
                        assertEquals(Float.floatToRawIntBits(h2[j]), Float.floatToRawIntBits(h1[j]), "h " + j + ", " + at);
                        assertEquals(Float.floatToRawIntBits(c2[j]), Float.floatToRawIntBits(c1[j]), "c " + j + ", " + at);
                    }
                }
            }
        }
    }

    /** A random layer's input, weights and initial state. */
    private record Layer(float[][] x, float[] wih, float[] whh, float[] bih, float[] bhh, float[] h, float[] c) {
        static Layer random(Random r, int in, int hidden, int steps) {
            return new Layer(rnd(r, in, steps), rnd(r, 1, 4 * hidden * in)[0], rnd(r, 1, 4 * hidden * hidden)[0],
                    rnd(r, 1, 4 * hidden)[0], rnd(r, 1, 4 * hidden)[0], rnd(r, 1, hidden)[0], rnd(r, 1, hidden)[0]);
        }
    }

    static float[][] rnd(Random r, int rows, int cols) {
        float[][] m = new float[rows][cols];
        for (float[] row : m) {
            for (int i = 0; i < cols; i++) {
                row[i] = (float) (0.5 * r.nextGaussian());
            }
        }
        return m;
    }
}
