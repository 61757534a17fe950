package io.vocodex.backend.cpu;

import io.vocodex.VocodexException;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** MelOps and NnOps against float64 references written independently (direct DFT, textbook formulas). */
class MelNnOpsTest {
    @Test
    void erfKnownValues() {
        double[][] v = {{0, 0}, {0.5, 0.5204998778130465}, {1, 0.8427007929497149}, {2, 0.9953222650189527},
                {-3, -0.9999779095030014}, {0.01, 0.011283415555849618}, {5.5, 0.9999999999999927}};
        for (double[] p : v) {
            assertEquals(p[1], NnOps.erf(p[0]), 4e-16, "erf(" + p[0] + ")");
        }
    }

    @Test
    void activationsMatchFloat64() {
        for (double x = -12; x <= 12; x += 0.01) {
            float f = (float) x;
            double gelu = GeluTest.exactGelu(f);
            // float arithmetic: within 6 ulp of the rounded value (GeluTest), 6.5 ulp of the exact one
            assertEquals(gelu, NnOps.gelu(f), 6.5 * Math.ulp((float) gelu), "gelu(" + f + ")");
            double silu = f / (1 + Math.exp(-f));
            // float arithmetic: within 2 ulp of the rounded value (SiluTest), 2.2 ulp of the exact one
            assertEquals(silu, NnOps.silu(f), 2.5 * Math.ulp((float) silu));
        }
    }

    @Test
    void layerNormMatchesFloat64() {
        Random r = new Random(1);
        int c = 37;
        int t = 9;
        float[][] x = new float[c][t];
        float[] w = new float[c];
        float[] b = new float[c];
        for (int i = 0; i < c; i++) {
            w[i] = (float) r.nextGaussian();
            b[i] = (float) r.nextGaussian();
            for (int j = 0; j < t; j++) {
                x[i][j] = (float) (3 + r.nextGaussian() * 2);
            }
        }
        float[][] y = NnOps.layerNormChannels(x, w, b, 1e-6);
        for (int j = 0; j < t; j++) {
            double mean = 0;
            for (int i = 0; i < c; i++) {
                mean += x[i][j] / (double) c;
            }
            double var = 0;
            for (int i = 0; i < c; i++) {
                var += (x[i][j] - mean) * (x[i][j] - mean) / c;
            }
            for (int i = 0; i < c; i++) {
                double ref = (x[i][j] - mean) / Math.sqrt(var + 1e-6) * w[i] + b[i];
                assertEquals(ref, y[i][j], 2 * Math.ulp((float) ref));
            }
        }
    }

    @Test
    void logMelMatchesDirectDft() {
        int nFft = 1024;
        int hop = 256;
        int sr = 24000;
        Random r = new Random(2);
        float[] y = new float[3000];
        for (int i = 0; i < y.length; i++) {
            y[i] = (float) (0.3 * Math.sin(2 * Math.PI * 440 * i / sr) + 0.05 * r.nextGaussian());
        }
        double[] win = MelOps.hannWindow(nFft, nFft);
        double[][] fb = MelOps.melFilterbank(nFft / 2 + 1, 0, 12000, 128, sr, true);
        float[][] mel = MelOps.logMel(CpuContext.singleThreaded(), y, nFft, hop, nFft, win, fb);
        int pad = (nFft - hop) / 2;
        int frames = (y.length + 2 * pad - nFft) / hop + 1;
        assertEquals(frames, mel[0].length);
        for (int t = 0; t < frames; t += 3) {
            double[] mag = new double[nFft / 2 + 1];
            for (int k = 0; k <= nFft / 2; k++) {
                double re = 0;
                double im = 0;
                for (int n = 0; n < nFft; n++) {
                    int p = t * hop + n - pad; // reflect padding
                    int idx = p < 0 ? -p : p >= y.length ? 2 * (y.length - 1) - p : p;
                    double v = (0.5 - 0.5 * Math.cos(2 * Math.PI * n / nFft)) * y[idx];
                    re += v * Math.cos(2 * Math.PI * k * n / nFft);
                    im -= v * Math.sin(2 * Math.PI * k * n / nFft);
                }
                mag[k] = Math.sqrt(re * re + im * im + 1e-6);
            }
            for (int m = 0; m < 128; m++) {
                double s = 0;
                for (int k = 0; k < mag.length; k++) {
                    s += fb[m][k] * mag[k];
                }
                assertEquals(Math.log(Math.max(s, 1e-5)), mel[m][t], 2e-6, "mel " + m + " frame " + t);
            }
        }
        // filterbank: triangles peak at 1 before normalisation, i.e. max of row m = enorm_m * ~1
        for (double[] row : fb) {
            double max = 0;
            for (double v : row) {
                max = Math.max(max, v);
            }
            assertEquals(true, max > 0, "every mel band has support");
        }
        assertThrows(VocodexException.class, () -> MelOps.logMel(CpuContext.singleThreaded(), new float[384], nFft, hop, nFft, win, fb));
    }

    /**
     * The context overloads do the serial ops' per-element arithmetic, only split across threads: bit
     * for bit equal for 1-3 threads, with rows longer than a span, an empty row and a single frame.
     */
    @Test
    void threadedOverloadsEqualTheSerialOps() {
        Random r = new Random(21);
        for (int[] shape : new int[][] {{3, 9000}, {70, 130}, {5, 1}, {2, 0}}) {
            float[][] x = new float[shape[0]][shape[1]];
            for (float[] row : x) {
                for (int i = 0; i < row.length; i++) {
                    row[i] = (float) (r.nextGaussian() * 3);
                }
            }
            float[] w = new float[shape[0]];
            float[] b = new float[shape[0]];
            for (int c = 0; c < w.length; c++) {
                w[c] = (float) r.nextGaussian();
                b[c] = (float) r.nextGaussian();
            }
            for (int threads = 1; threads <= 3; threads++) {
                try (CpuContext ctx = new CpuContext(threads)) {
                    String at = shape[0] + "x" + shape[1] + ", " + threads + " thread(s)";
                    org.junit.jupiter.api.Assertions.assertArrayEquals(NnOps.layerNormChannels(x, w, b, 1e-6),
                            NnOps.layerNormChannels(ctx, x, w, b, 1e-6), "layer norm " + at);
                    org.junit.jupiter.api.Assertions.assertArrayEquals(NnOps.silu(x), NnOps.silu(ctx, x), "silu " + at);
                    float[][] serial = CpuOps.copy(x); // the plain element loops
                    float[][] threaded = CpuOps.copy(x);
                    for (float[] row : serial) {
                        for (int i = 0; i < row.length; i++) {
                            row[i] = NnOps.gelu(row[i]);
                        }
                    }
                    NnOps.geluInPlace(ctx, threaded);
                    org.junit.jupiter.api.Assertions.assertArrayEquals(serial, threaded, "gelu " + at);
                    for (float[] row : serial) {
                        for (int i = 0; i < row.length; i++) {
                            row[i] = CpuOps.tanh(NnOps.silu(row[i]));
                        }
                    }
                    NnOps.siluInPlace(ctx, threaded);
                    NnOps.tanhInPlace(ctx, threaded);
                    org.junit.jupiter.api.Assertions.assertArrayEquals(serial, threaded, "silu, tanh " + at);
                    if (shape[1] > 0) { // the ops did something
                        org.junit.jupiter.api.Assertions.assertNotEquals(x[0][0], threaded[0][0]);
                    }
                }
            }
        }
    }

    /**
     * The lane-parallel GELU equals {@link NnOps#gelu(float)} bit for bit: every span length 1..40 (partial
     * lane blocks), inputs from 1e-3 to 10 in scale, and in the blocks the values that end the series early
     * or never (0, -0, subnormals), that leave it ({@code |x| / sqrt 2} at and around 6, infinities, NaN)
     * and very negative ones where 1 + erf cancels.
     */
    @Test
    void laneParallelGeluEqualsTheScalarGelu() {
        Random r = new Random(22);
        float[] specials = {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, 1e-30f, -1e-20f, 8.485281f, -8.485281f,
            Math.nextDown(8.485281f), Math.nextUp(-8.485281f), 8.49f, -8.48f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
            Float.NaN, -5f, -7.5f, -8.4f, 3f, 0.5f};
        int checked = 0;
        for (double scale : new double[] {1e-3, 0.3, 1, 3, 10}) {
            for (int len = 1; len <= 40; len++) {
                float[] row = new float[len + 3];
                for (int i = 0; i < row.length; i++) {
                    row[i] = r.nextInt(5) == 0 ? specials[r.nextInt(specials.length)] : (float) (r.nextGaussian() * scale);
                }
                float[] want = row.clone();
                for (int i = 2; i < 2 + len; i++) {
                    want[i] = NnOps.gelu(want[i]);
                }
                NnOps.geluSpan(row, 2, 2 + len);
                for (int i = 0; i < row.length; i++) {
                    assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(row[i]),
                            "scale " + scale + ", span " + len + ", element " + i + " (x = " + (i >= 2 && i < 2 + len ? "gelu input" : "outside") + ")");
                    checked++;
                }
            }
        }
        assertEquals(5 * (40 * 41 / 2 + 3 * 40), checked);
    }
}
