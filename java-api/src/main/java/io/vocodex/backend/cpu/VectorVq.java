package io.vocodex.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register-blocked kernel behind {@link VqOps#nearestCodesByColumns} when {@link Simd#enabled()}.
 *
 * <p>Lanes are codes: over the column-major codebook ({@code [D][N]}), four frames x four vectors of
 * codes keep 16 distance accumulators in registers for the whole of {@code d = 0 .. D-1}, so each
 * loaded code vector serves four frames and each broadcast {@code -2x_d} serves four vectors. Every
 * lane computes exactly the plain loop's chain: {@code acc = acc + (-2x_d) * e_d} with a lanewise
 * multiply and then a lanewise add (two roundings, never an fma), then {@code + |x|^2},
 * {@code + |e|^2}, {@code max(., 0)} and the square root, all lanewise and correctly rounded, so
 * every distance has the plain loop's bits.
 *
 * <p>The argmin keeps, per frame and lane, the first strict minimum of the codes that lane saw (codes
 * reach a lane in ascending order) and its code; at the end the lanes are merged by value, ties to
 * the lowest code, which is the plain loop's first strict minimum. Codes past the last whole vector
 * run the plain scalar chain after the merge (their codes are higher, so strict comparison keeps the
 * order). NaN distances never compare less, in either path.
 *
 * <p>Only {@link VqOps} touches this class (see {@link VectorConv} for why).
 */
final class VectorVq {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Codes per register block. */
    private static final int W = 4 * L;

    private VectorVq() {
    }

    /** Codes per register block: the code parts of a split search start at multiples of it. */
    static int width() {
        return W;
    }

    /**
     * Nearest code in {@code [n0, n1)} of frames {@code [f0, f1)}: the first strict minimum of the
     * distances, starting from {@code +inf} with code {@code n0}; its distance and code go to
     * {@code bestDist[t - f0]} and {@code bestCode[t - f0]}.
     *
     * @param m2x {@code -2x} per frame, {@code m2x[t][d]}
     * @param xx {@code |x|^2} per frame
     */
    static void search(float[][] codebookT, float[] codeNorms, float[][] m2x, float[] xx, int dim,
                       int f0, int f1, int n0, int n1, float[] bestDist, int[] bestCode) {
        int g = f1 - f0;
        // With four frames or more, a last partial group of four is padded with copies of the last
        // frame (their minima are discarded), so batch searches run block4 only: a kernel that runs
        // rarely stays in the slow unoptimised tiers for long, and the Vector API is very slow there.
        int padded = g < 4 ? g : (g + 3) / 4 * 4;
        float[][] pm = new float[padded][];
        float[] mxx = new float[padded];
        for (int i = 0; i < padded; i++) {
            pm[i] = m2x[Math.min(f0 + i, f1 - 1)];
            mxx[i] = xx[Math.min(f0 + i, f1 - 1)];
        }
        float[] laneDist = new float[padded * L];
        int[] laneCode = new int[padded * L];
        java.util.Arrays.fill(laneDist, Float.POSITIVE_INFINITY);
        float[] scratch = new float[4 * W];
        int blocksEnd = n0 + (n1 - n0) / W * W;
        int vectorsEnd = n0 + (n1 - n0) / L * L;
        for (int c = n0; c < blocksEnd; c += W) {
            if (padded >= 4) {
                for (int i = 0; i < padded; i += 4) {
                    block4(codebookT, codeNorms, pm, mxx, dim, i, c, laneDist, laneCode, i * L, scratch);
                }
            } else {
                for (int i = 0; i < g; i++) {
                    block1(codebookT, codeNorms, pm[i], mxx[i], dim, c, laneDist, laneCode, i * L, scratch);
                }
            }
        }
        for (int c = blocksEnd; c < vectorsEnd; c += L) {
            for (int t = f0; t < f1; t++) {
                vector1(codebookT, codeNorms, m2x[t], xx[t], dim, c, laneDist, laneCode, (t - f0) * L, scratch);
            }
        }
        for (int t = f0; t < f1; t++) {
            int lo = (t - f0) * L;
            float best = Float.POSITIVE_INFINITY;
            int arg = n0;
            for (int l = 0; l < L; l++) {
                float v = laneDist[lo + l];
                int code = laneCode[lo + l];
                // a lane that never found a distance below +inf still holds +inf and is skipped
                if (v < best || (v == best && v != Float.POSITIVE_INFINITY && code < arg)) {
                    best = v;
                    arg = code;
                }
            }
            float[] m = m2x[t];
            float xt = xx[t];
            for (int n = vectorsEnd; n < n1; n++) {
                float acc = 0f;
                for (int d = 0; d < dim; d++) {
                    float p = m[d] * codebookT[d][n];
                    acc = acc + p;
                }
                acc = acc + xt;
                acc = acc + codeNorms[n];
                float dist = (float) Math.sqrt(Math.max(acc, 0f));
                if (dist < best) {
                    best = dist;
                    arg = n;
                }
            }
            bestDist[t - f0] = best;
            bestCode[t - f0] = arg;
        }
    }

    /**
     * Four frames x four vectors of codes starting at {@code c}, as two passes of two frames: a
     * four-frame body (16 accumulators, each a multiply and an add per dimension) is more than
     * Java 17's C2 intrinsifies in one compilation; past its node budget the remaining Vector API
     * calls run their Java fallback (tens of times slower).
     */
    private static void block4(float[][] cb, float[] norms, float[][] m2x, float[] xx, int dim, int t, int c,
                               float[] laneDist, int[] laneCode, int lo, float[] scratch) {
        block2(cb, m2x[t], m2x[t + 1], dim, c, scratch);
        keepFirstMinimum(scratch, 0, W, xx[t], norms, c, laneDist, laneCode, lo);
        keepFirstMinimum(scratch, W, W, xx[t + 1], norms, c, laneDist, laneCode, lo + L);
        block2(cb, m2x[t + 2], m2x[t + 3], dim, c, scratch);
        keepFirstMinimum(scratch, 0, W, xx[t + 2], norms, c, laneDist, laneCode, lo + 2 * L);
        keepFirstMinimum(scratch, W, W, xx[t + 3], norms, c, laneDist, laneCode, lo + 3 * L);
    }

    /** Two frames x four vectors of codes: the dot products into {@code scratch[0 .. 2W)}. */
    private static void block2(float[][] cb, float[] m0, float[] m1, int dim, int c, float[] scratch) {
        FloatVector a00 = FloatVector.broadcast(S, 0f);
        FloatVector a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        for (int d = 0; d < dim; d++) {
            float[] row = cb[d];
            FloatVector e0 = FloatVector.fromArray(S, row, c);
            FloatVector e1 = FloatVector.fromArray(S, row, c + L);
            FloatVector e2 = FloatVector.fromArray(S, row, c + 2 * L);
            FloatVector e3 = FloatVector.fromArray(S, row, c + 3 * L);
            FloatVector s = FloatVector.broadcast(S, m0[d]);
            a00 = e0.mul(s).add(a00);
            a01 = e1.mul(s).add(a01);
            a02 = e2.mul(s).add(a02);
            a03 = e3.mul(s).add(a03);
            s = FloatVector.broadcast(S, m1[d]);
            a10 = e0.mul(s).add(a10);
            a11 = e1.mul(s).add(a11);
            a12 = e2.mul(s).add(a12);
            a13 = e3.mul(s).add(a13);
        }
        a00.intoArray(scratch, 0);
        a01.intoArray(scratch, L);
        a02.intoArray(scratch, 2 * L);
        a03.intoArray(scratch, 3 * L);
        a10.intoArray(scratch, W);
        a11.intoArray(scratch, W + L);
        a12.intoArray(scratch, W + 2 * L);
        a13.intoArray(scratch, W + 3 * L);
    }

    /** One frame x four vectors of codes (the frames left over by {@link #block4}). */
    private static void block1(float[][] cb, float[] norms, float[] m, float xt, int dim, int c,
                               float[] laneDist, int[] laneCode, int lo, float[] scratch) {
        FloatVector a0 = FloatVector.broadcast(S, 0f);
        FloatVector a1 = a0, a2 = a0, a3 = a0;
        for (int d = 0; d < dim; d++) {
            float[] row = cb[d];
            FloatVector s = FloatVector.broadcast(S, m[d]);
            a0 = FloatVector.fromArray(S, row, c).mul(s).add(a0);
            a1 = FloatVector.fromArray(S, row, c + L).mul(s).add(a1);
            a2 = FloatVector.fromArray(S, row, c + 2 * L).mul(s).add(a2);
            a3 = FloatVector.fromArray(S, row, c + 3 * L).mul(s).add(a3);
        }
        a0.intoArray(scratch, 0);
        a1.intoArray(scratch, L);
        a2.intoArray(scratch, 2 * L);
        a3.intoArray(scratch, 3 * L);
        keepFirstMinimum(scratch, 0, W, xt, norms, c, laneDist, laneCode, lo);
    }

    /** One frame x one vector of codes (the whole vectors after the last block). */
    private static void vector1(float[][] cb, float[] norms, float[] m, float xt, int dim, int c,
                                float[] laneDist, int[] laneCode, int lo, float[] scratch) {
        FloatVector a = FloatVector.broadcast(S, 0f);
        for (int d = 0; d < dim; d++) {
            a = FloatVector.fromArray(S, cb[d], c).mul(FloatVector.broadcast(S, m[d])).add(a);
        }
        a.intoArray(scratch, 0);
        keepFirstMinimum(scratch, 0, L, xt, norms, c, laneDist, laneCode, lo);
    }

    /**
     * Folds the dot products {@code acc[off .. off+n-1]} of codes {@code c .. c+n-1} ({@code n} a
     * multiple of the vector length) of one frame, as distances in code order, into its per-lane
     * first strict minima at {@code laneDist/laneCode[lo ..]} (code {@code c + k} is lane {@code k % L}).
     * Scalar on purpose: the same operations as the plain path, and no masks (Java 17's C2 does not
     * intrinsify mask casts and blends in every context; their fallback is tens of times slower).
     */
    private static void keepFirstMinimum(float[] acc, int off, int n, float xt, float[] norms, int c,
                                         float[] laneDist, int[] laneCode, int lo) {
        for (int k0 = 0; k0 < n; k0 += L) {
            for (int l = 0; l < L; l++) {
                int k = k0 + l;
                float a = acc[off + k] + xt;
                a = a + norms[c + k];
                float dist = (float) Math.sqrt(Math.max(a, 0f));
                if (dist < laneDist[lo + l]) {
                    laneDist[lo + l] = dist;
                    laneCode[lo + l] = c + k;
                }
            }
        }
    }
}
