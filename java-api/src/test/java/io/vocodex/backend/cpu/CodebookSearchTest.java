package io.vocodex.backend.cpu;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The blocked codebook search against (a) a float64 brute force and (b) the contract's plain
 * one-frame-at-a-time float32 loop, with planted exact ties (duplicated codes; frames equal to a
 * code) and near-ties (codes one float32 ulp apart, frames half-way between two codes).
 */
class CodebookSearchTest {
    static final int N = 32768;

    /** The contract, written as plainly as possible: one frame, one code at a time. */
    static int plain(float[] x, float[] cb, float[] norms, int n, int dim) {
        float xx = 0f;
        for (int d = 0; d < dim; d++) {
            xx = Math.fma(x[d], x[d], xx);
        }
        int best = -1;
        float bestKey = Float.POSITIVE_INFINITY;
        for (int c = 0; c < n; c++) {
            float dot = 0f;
            for (int d = 0; d < dim; d++) {
                dot = Math.fma(x[d], cb[c * dim + d], dot);
            }
            float key = (float) Math.sqrt(Math.max((xx + norms[c]) - 2f * dot, 0f));
            if (best < 0 || key < bestKey) {
                best = c;
                bestKey = key;
            }
        }
        return best;
    }

    /** float64 squared distances: best index (lowest on ties) and the gap to the runner-up. */
    static double[] exact(float[] x, float[] cb, int n, int dim) {
        double best = Double.POSITIVE_INFINITY;
        double second = Double.POSITIVE_INFINITY;
        int bi = -1;
        for (int c = 0; c < n; c++) {
            double s = 0;
            for (int d = 0; d < dim; d++) {
                double diff = (double) x[d] - cb[c * dim + d];
                s += diff * diff;
            }
            if (s < best) {
                second = best;
                best = s;
                bi = c;
            } else if (s < second) {
                second = s;
            }
        }
        return new double[] {bi, best, second};
    }

    static double dist64(float[] x, float[] cb, int c, int dim) {
        double s = 0;
        for (int d = 0; d < dim; d++) {
            double diff = (double) x[d] - cb[c * dim + d];
            s += diff * diff;
        }
        return s;
    }

    @Test
    void matchesFloat64AndPlainLoopWithPlantedTies() {
        for (int dim : new int[] {8, 13, 64}) {
            Random r = new Random(dim);
            float[] cb = new float[N * dim];
            for (int i = 0; i < cb.length; i++) {
                cb[i] = (float) (r.nextGaussian() * 0.3);
            }
            // exact ties: codes 5000.. duplicate codes 100.. (same row, so identical distances)
            for (int j = 0; j < 20; j++) {
                System.arraycopy(cb, (100 + j) * dim, cb, (5000 + j * 1000) * dim, dim);
            }
            // near-ties: code 20001+j = code 20000+j shifted by one ulp in one coordinate
            for (int j = 0; j < 20; j += 2) {
                int a = 20000 + j;
                System.arraycopy(cb, a * dim, cb, (a + 1) * dim, dim);
                cb[(a + 1) * dim + j % dim] = Math.nextUp(cb[a * dim + j % dim]);
            }
            float[] norms = CodebookSearch.codeNorms(cb, N, dim);
            int frames = 77; // not a multiple of the 4-frame block nor of the 32-frame group
            float[][] x = new float[frames][dim];
            for (int t = 0; t < frames; t++) {
                for (int d = 0; d < dim; d++) {
                    x[t][d] = (float) (r.nextGaussian() * 0.3);
                }
            }
            for (int j = 0; j < 10; j++) { // frames ON a duplicated code: an exact tie at distance ~0
                System.arraycopy(cb, (100 + j) * dim, x[j], 0, dim);
            }
            for (int j = 0; j < 10; j++) { // frames next to a near-tie pair
                int a = 20000 + 2 * j;
                for (int d = 0; d < dim; d++) {
                    x[10 + j][d] = cb[a * dim + d] + 1e-3f * (d % 2 == 0 ? 1 : -1);
                }
            }
            for (int j = 0; j < 10; j++) { // frames exactly half-way between two random codes
                int a = 1 + r.nextInt(N - 1);
                int b = 1 + r.nextInt(N - 1);
                for (int d = 0; d < dim; d++) {
                    x[20 + j][d] = (cb[a * dim + d] + cb[b * dim + d]) / 2;
                }
            }
            int[] got;
            try (CpuContext ctx = new CpuContext(2)) {
                got = CodebookSearch.nearest(ctx, x, cb, norms, N, dim);
            }
            int flips = 0;
            for (int t = 0; t < frames; t++) {
                assertEquals(plain(x[t], cb, norms, N, dim), got[t], "dim " + dim + " frame " + t + " vs the plain contract loop");
                double[] ex = exact(x[t], cb, N, dim);
                if (t < 10) {
                    assertEquals(100 + t, got[t], "exact tie goes to the lowest index (dim " + dim + ")");
                }
                if (got[t] != (int) ex[0]) {
                    // allowed only when float32 cannot tell the two apart
                    double gap = dist64(x[t], cb, got[t], dim) - ex[1];
                    double scale = 0;
                    for (int d = 0; d < dim; d++) {
                        scale += (double) x[t][d] * x[t][d];
                    }
                    scale += norms[got[t]];
                    assertTrue(gap <= 4 * dim * Math.ulp((float) scale), "dim " + dim + " frame " + t + ": chose " + got[t]
                            + ", float64 says " + (int) ex[0] + " by " + gap);
                    assertTrue(t >= 10 && t < 30, "frame " + t + " is not a planted near-tie but flipped");
                    flips++;
                } else if (ex[2] - ex[1] > 1e-4) {
                    assertEquals((int) ex[0], got[t]);
                }
            }
            // 20 frames were planted on near-ties (1-ulp code pairs, half-way points); random ones never flip
            assertTrue(flips <= 20, "too many float32 near-tie flips: " + flips);
        }
    }

    @Test
    void frameCodeDoesNotDependOnTheBatch() {
        int dim = 8;
        int n = 4096;
        Random r = new Random(3);
        float[] cb = new float[n * dim];
        for (int i = 0; i < cb.length; i++) {
            cb[i] = (float) r.nextGaussian();
        }
        float[] norms = CodebookSearch.codeNorms(cb, n, dim);
        float[][] x = new float[70][dim];
        for (float[] row : x) {
            for (int d = 0; d < dim; d++) {
                row[d] = (float) r.nextGaussian();
            }
        }
        int[] all = CodebookSearch.nearest(CpuContext.singleThreaded(), x, cb, norms, n, dim);
        for (int start : new int[] {0, 1, 3, 31, 33, 65}) {
            float[][] part = java.util.Arrays.copyOfRange(x, start, Math.min(x.length, start + 5));
            int[] got = CodebookSearch.nearest(CpuContext.singleThreaded(), part, cb, norms, n, dim);
            assertArrayEquals(java.util.Arrays.copyOfRange(all, start, start + got.length), got, "frames from " + start);
        }
        assertEquals(0, CodebookSearch.nearest(CpuContext.singleThreaded(), new float[0][dim], cb, norms, n, dim).length);
    }
}
