package io.vocodex.backend.cpu;

/**
 * Nearest-neighbour search in a large Euclidean codebook (e.g. DistilCodec's 32768 codes of
 * dimension 3584), organised like a blocked GEMM: a task takes a group of frames, walks the
 * codebook in tiles small enough to stay in cache, and within a tile computes the dot products of
 * four frames with each code in one pass over the code's row. Code norms are computed once, at
 * load ({@link #codeNorms}).
 *
 * <h2>Arithmetic contract</h2>
 * For frame {@code x} and code {@code e_n}: {@code xx = sum_d fma(x_d, x_d)}, {@code yy_n} likewise
 * (both fma-accumulated in ascending {@code d}), {@code dot = sum_d fma(x_d, e_nd)} in ascending
 * {@code d}, and {@code dist = (xx + yy_n) - 2 dot}, all in float32: the expression order of the
 * original's {@code cdist} ({@code x2 + y2 + (-2 x.e)}). The chosen code is the argmin of
 * {@code sqrt(max(dist, 0))} with the LOWEST index on ties, exactly what the original's
 * {@code argmax(-cdist)} selects (two distances that differ but round to the same square root are
 * a tie there too). A NaN distance (from a non-finite frame or code) ranks before every number, also
 * as there ({@code torch.argmax} takes the first NaN): a frame with a NaN gets code 0, and the first
 * code with a NaN coordinate wins every frame. Every distance is computed by the same sequence of
 * operations whatever the number of frames, the tile, the frame's position in its group or the
 * thread count, so a frame's code never depends on the rest of the batch. The CUDA twin
 * ({@code CudaCodebookSearch}) computes the same distances with the same operations and ranks them
 * the same way, so it returns the same codes.
 */
public final class CodebookSearch {
    /** Frames per task: they share each codebook tile while it is in cache. */
    static final int FRAME_GROUP = 32;
    /** Target bytes of codebook per tile. */
    static final int TILE_BYTES = 128 * 1024;

    private CodebookSearch() {
    }

    /** {@code |e_n|^2} of every row of {@code codebook (numCodes, dim)}, fma-accumulated in column order. */
    public static float[] codeNorms(float[] codebook, int numCodes, int dim) {
        float[] n = new float[numCodes];
        for (int r = 0; r < numCodes; r++) {
            float acc = 0f;
            int base = r * dim;
            for (int d = 0; d < dim; d++) {
                float v = codebook[base + d];
                acc = Math.fma(v, v, acc);
            }
            n[r] = acc;
        }
        return n;
    }

    /**
     * Nearest code of every frame.
     *
     * @param x frames {@code [T][dim]} (frame-major: one contiguous vector per frame)
     * @param codebook {@code (numCodes, dim)} row-major
     * @param norms {@link #codeNorms} of the codebook
     * @return code index per frame
     */
    public static int[] nearest(CpuContext ctx, float[][] x, float[] codebook, float[] norms, int numCodes, int dim) {
        int frames = x.length;
        int[] out = new int[frames];
        int groups = (frames + FRAME_GROUP - 1) / FRAME_GROUP;
        int tile = Math.max(1, Math.min(numCodes, TILE_BYTES / (4 * Math.max(1, dim))));
        ctx.parallelFor(groups, (long) FRAME_GROUP * numCodes * dim, g -> {
            int from = g * FRAME_GROUP;
            int to = Math.min(frames, from + FRAME_GROUP);
            int n = to - from;
            float[] xx = new float[n];
            float[] bestDist = new float[n];
            float[] bestKey = new float[n];
            int[] best = new int[n];
            for (int f = 0; f < n; f++) {
                float[] v = x[from + f];
                float acc = 0f;
                for (int d = 0; d < dim; d++) {
                    acc = Math.fma(v[d], v[d], acc);
                }
                xx[f] = acc;
                bestDist[f] = Float.NaN; // "no candidate yet"
                best[f] = -1;
            }
            for (int c0 = 0; c0 < numCodes; c0 += tile) {
                int c1 = Math.min(numCodes, c0 + tile);
                int f = 0;
                for (; f + 4 <= n; f += 4) {
                    float[] a = x[from + f];
                    float[] b = x[from + f + 1];
                    float[] c = x[from + f + 2];
                    float[] e = x[from + f + 3];
                    for (int code = c0; code < c1; code++) {
                        int base = code * dim;
                        float da = 0f;
                        float db = 0f;
                        float dc = 0f;
                        float de = 0f;
                        for (int d = 0; d < dim; d++) {
                            float w = codebook[base + d];
                            da = Math.fma(a[d], w, da);
                            db = Math.fma(b[d], w, db);
                            dc = Math.fma(c[d], w, dc);
                            de = Math.fma(e[d], w, de);
                        }
                        float yy = norms[code];
                        offer(f, code, (xx[f] + yy) - 2f * da, bestDist, bestKey, best);
                        offer(f + 1, code, (xx[f + 1] + yy) - 2f * db, bestDist, bestKey, best);
                        offer(f + 2, code, (xx[f + 2] + yy) - 2f * dc, bestDist, bestKey, best);
                        offer(f + 3, code, (xx[f + 3] + yy) - 2f * de, bestDist, bestKey, best);
                    }
                }
                for (; f < n; f++) {
                    float[] a = x[from + f];
                    for (int code = c0; code < c1; code++) {
                        int base = code * dim;
                        float da = 0f;
                        for (int d = 0; d < dim; d++) {
                            da = Math.fma(a[d], codebook[base + d], da);
                        }
                        offer(f, code, (xx[f] + norms[code]) - 2f * da, bestDist, bestKey, best);
                    }
                }
            }
            for (int i = 0; i < n; i++) {
                out[from + i] = Math.max(0, best[i]);
            }
        });
        return out;
    }

    /**
     * Codes arrive in ascending index order per frame; a code replaces the current best only if its
     * key {@code sqrt(max(dist, 0))} ranks strictly before it (so the lowest index wins ties). Since the
     * key is monotone in {@code dist}, a smaller key implies a smaller distance, which is checked
     * first so that the square root is only taken for improving candidates. A NaN distance ranks
     * before every number, as in the original's {@code argmax(-cdist)} (torch's argmax takes the first
     * NaN): the first NaN code of a frame is final.
     */
    private static void offer(int f, int code, float dist, float[] bestDist, float[] bestKey, int[] best) {
        if (best[f] < 0 || (dist != dist && bestDist[f] == bestDist[f])) {
            best[f] = code;
            bestDist[f] = dist;
            bestKey[f] = key(dist);
            return;
        }
        if (dist < bestDist[f]) { // false while the best is NaN
            float k = key(dist);
            if (k < bestKey[f]) {
                best[f] = code;
                bestDist[f] = dist;
                bestKey[f] = k;
            }
        }
    }

    static float key(float dist) {
        return (float) Math.sqrt(Math.max(dist, 0f));
    }
}
