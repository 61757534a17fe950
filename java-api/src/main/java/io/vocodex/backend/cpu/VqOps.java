package io.vocodex.backend.cpu;

/**
 * Nearest-code search with the distance expression of {@code torch.cdist(x, e, p=2)} on its
 * matrix-product path ({@code _euclidean_dist}, taken for more than 25 rows):
 * {@code d = sqrt(max([-2x, |x|^2, 1] . [e, 1, |e|^2], 0))} in float32, then argmin with ties to
 * the lowest index. Mimi's {@code EuclideanCodebook._quantize} uses it; the square root can make
 * two nearly equal squared distances tie, and the lowest index then wins, so it is evaluated too.
 *
 * <p>Arithmetic: {@code |x|^2} and {@code |e|^2} are sums of squares accumulated in column order
 * (each product rounded, then added); the augmented dot product accumulates {@code (-2x_d) e_d}
 * in column order, then adds {@code |x|^2}, then {@code |e|^2}, each step rounded to float32:
 * the order of a reference (non-blocked) GEMM. Fixed per element, so batch and streaming agree.
 */
public final class VqOps {
    private VqOps() {
    }

    /** {@code |row|^2} per row of {@code m (rows, cols)}: products rounded, summed in column order. */
    public static float[] squaredNorms(float[] m, int rows, int cols) {
        float[] n = new float[rows];
        for (int r = 0; r < rows; r++) {
            float acc = 0f;
            for (int c = 0; c < cols; c++) {
                float v = m[r * cols + c];
                float p = v * v;
                acc = acc + p;
            }
            n[r] = acc;
        }
        return n;
    }

    /**
     * Nearest code of every column of {@code x (D, T)} in {@code codebook (N, D)}.
     *
     * @param codeNorms {@link #squaredNorms} of the codebook
     */
    public static int[] nearestCodes(CpuContext ctx, float[][] x, float[] codebook, float[] codeNorms, int numCodes) {
        int dim = x.length;
        int frames = dim == 0 ? 0 : x[0].length;
        int[] out = new int[frames];
        ctx.parallelFor(frames, (long) numCodes * dim, t -> {
            float[] m2x = new float[dim];
            float xx = 0f;
            for (int d = 0; d < dim; d++) {
                float v = x[d][t];
                m2x[d] = -2f * v;
                float p = v * v;
                xx = xx + p;
            }
            int best = 0;
            float bestDist = Float.POSITIVE_INFINITY;
            for (int n = 0; n < numCodes; n++) {
                int base = n * dim;
                float acc = 0f;
                for (int d = 0; d < dim; d++) {
                    float p = m2x[d] * codebook[base + d];
                    acc = acc + p;
                }
                acc = acc + xx;
                acc = acc + codeNorms[n];
                float dist = (float) Math.sqrt(Math.max(acc, 0f));
                if (dist < bestDist) { // strict: the lowest index wins ties
                    bestDist = dist;
                    best = n;
                }
            }
            out[t] = best;
        });
        return out;
    }

    /** {@code (N, D)} row-major to rows {@code [D][N]}: the layout {@link #nearestCodesByColumns} reads. */
    public static float[][] codebookColumns(float[] codebook, int numCodes, int dim) {
        float[][] t = new float[dim][numCodes];
        for (int n = 0; n < numCodes; n++) {
            for (int d = 0; d < dim; d++) {
                t[d][n] = codebook[n * dim + d];
            }
        }
        return t;
    }

    /** Frames that share each pass over a tile of codes. */
    static final int FRAME_GROUP = 8;
    /** Codes per tile: the tile's columns of the codebook ({@code D x 512} floats) stay in L2. */
    static final int CODE_TILE = 512;

    /**
     * {@link #nearestCodes} with the codebook in columns ({@link #codebookColumns}), bit-identical
     * to it: every distance keeps its operation order ({@code acc += (-2x_d) * e_d} for {@code d}
     * ascending, each product and sum rounded, then {@code + |x|^2}, {@code + |e|^2}, square root),
     * but the distances of all codes of a tile advance together (vectorised across codes), a tile is
     * shared by a group of frames, and with few frames the threads split the codes (each part's
     * first minimum, merged in code order with strict comparison, is the global first minimum).
     * When {@link Simd#enabled()}, the register-blocked {@link VectorVq} kernel computes the same
     * distances (lanewise multiply, then add: never an fma) and the same first minimum.
     *
     * <pre>{@code
     * float[][] columns = VqOps.codebookColumns(codebook, bins, dim);
     * float[] norms = VqOps.squaredNorms(codebook, bins, dim);
     * int[] codes = VqOps.nearestCodesByColumns(ctx, x, columns, norms); // x is [dim][frames]
     * }</pre>
     *
     * @param codebookT {@code [D][N]}
     */
    public static int[] nearestCodesByColumns(CpuContext ctx, float[][] x, float[][] codebookT, float[] codeNorms) {
        int dim = x.length;
        int frames = dim == 0 ? 0 : x[0].length;
        int numCodes = codeNorms.length;
        int[] out = new int[frames];
        if (frames == 0 || numCodes == 0) {
            return out;
        }
        if (Simd.enabled()) {
            return nearestCodesByColumnsVector(ctx, x, codebookT, codeNorms);
        }
        return nearestCodesByColumnsPlain(ctx, x, codebookT, codeNorms);
    }

    /** {@link #nearestCodesByColumns} in plain Java: the path without the Vector API, and its tests' twin. */
    static int[] nearestCodesByColumnsPlain(CpuContext ctx, float[][] x, float[][] codebookT, float[] codeNorms) {
        int dim = x.length;
        int frames = dim == 0 ? 0 : x[0].length;
        int numCodes = codeNorms.length;
        int[] out = new int[frames];
        if (frames == 0 || numCodes == 0) {
            return out;
        }
        int groups = (frames + FRAME_GROUP - 1) / FRAME_GROUP;
        int threads = ctx.threads();
        int parts = threads == 1 || groups >= 4 * threads ? 1
                : Math.max(1, Math.min(numCodes / 256, (4 * threads + groups - 1) / groups));
        int perPart = (numCodes + parts - 1) / parts;
        float[][] bestDist = new float[groups * parts][];
        int[][] bestCode = new int[groups * parts][];
        ctx.parallelFor(groups * parts, (long) perPart * dim * Math.min(frames, FRAME_GROUP), u -> {
            int gi = u / parts;
            int part = u - gi * parts;
            int t0 = gi * FRAME_GROUP;
            int g = Math.min(FRAME_GROUP, frames - t0);
            int n0 = part * perPart;
            int n1 = Math.min(numCodes, n0 + perPart);
            float[][] m2x = new float[g][dim];
            float[] xx = new float[g];
            for (int j = 0; j < g; j++) {
                float acc = 0f;
                for (int d = 0; d < dim; d++) {
                    float v = x[d][t0 + j];
                    m2x[j][d] = -2f * v;
                    float p = v * v;
                    acc = acc + p;
                }
                xx[j] = acc;
            }
            float[] bd = new float[g];
            int[] bc = new int[g];
            java.util.Arrays.fill(bd, Float.POSITIVE_INFINITY);
            java.util.Arrays.fill(bc, n0);
            float[][] acc = new float[g][numCodes];
            for (int c0 = n0; c0 < n1; c0 += CODE_TILE) {
                int c1 = Math.min(n1, c0 + CODE_TILE);
                for (int d0 = 0; d0 < dim; d0 += CpuOps.CHUNK) {
                    int cnt = Math.min(CpuOps.CHUNK, dim - d0);
                    for (int j = 0; j < g; j++) {
                        mulAddRows(acc[j], codebookT, d0, cnt, m2x[j], c0, c1);
                    }
                }
                for (int j = 0; j < g; j++) {
                    float[] a = acc[j];
                    float xj = xx[j];
                    for (int n = c0; n < c1; n++) {
                        float v = a[n] + xj;
                        v = v + codeNorms[n];
                        a[n] = (float) Math.sqrt(Math.max(v, 0f));
                    }
                    float best = bd[j];
                    int arg = bc[j];
                    for (int n = c0; n < c1; n++) {
                        if (a[n] < best) { // strict: the lowest index wins ties
                            best = a[n];
                            arg = n;
                        }
                    }
                    bd[j] = best;
                    bc[j] = arg;
                }
            }
            bestDist[u] = bd;
            bestCode[u] = bc;
        });
        for (int gi = 0; gi < groups; gi++) {
            int t0 = gi * FRAME_GROUP;
            int g = Math.min(FRAME_GROUP, frames - t0);
            for (int j = 0; j < g; j++) {
                float bd = Float.POSITIVE_INFINITY;
                int bc = 0;
                for (int part = 0; part < parts; part++) {
                    int u = gi * parts + part;
                    if (bestDist[u][j] < bd) {
                        bd = bestDist[u][j];
                        bc = bestCode[u][j];
                    }
                }
                out[t0 + j] = bc;
            }
        }
        return out;
    }

    /** Fewest frames per work item of the Vector API search (a multiple of its four-frame block). */
    static final int VECTOR_MIN_FRAME_CHUNK = 16;

    /**
     * {@link #nearestCodesByColumns} on {@link VectorVq} (only when {@link Simd#enabled()}): work items are chunks of frames, and with
     * fewer chunks than threads the codes are split too (parts start at multiples of the kernel's
     * block, each part's first minimum merged in code order with strict comparison).
     */
    static int[] nearestCodesByColumnsVector(CpuContext ctx, float[][] x, float[][] codebookT, float[] codeNorms) {
        int dim = x.length;
        int frames = dim == 0 ? 0 : x[0].length;
        int numCodes = codeNorms.length;
        if (frames == 0 || numCodes == 0) {
            return new int[frames];
        }
        float[][] m2x = new float[frames][dim];
        float[] xx = new float[frames];
        for (int t = 0; t < frames; t++) {
            float acc = 0f;
            for (int d = 0; d < dim; d++) {
                float v = x[d][t];
                m2x[t][d] = -2f * v;
                float p = v * v;
                acc = acc + p;
            }
            xx[t] = acc;
        }
        int threads = ctx.threads();
        // about two chunks per thread; each pass over a block of codes serves all frames of a chunk
        int perChunk = Math.max(VECTOR_MIN_FRAME_CHUNK, ((frames + 2 * threads - 1) / (2 * threads) + 3) / 4 * 4);
        int chunks = (frames + perChunk - 1) / perChunk;
        int block = VectorVq.width();
        int parts = threads == 1 || chunks >= 2 * threads ? 1
                : Math.max(1, Math.min(numCodes / (4 * block), (2 * threads + chunks - 1) / chunks));
        int perPart = (numCodes / parts + block - 1) / block * block;
        float[][] bestDist = new float[chunks * parts][perChunk];
        int[][] bestCode = new int[chunks * parts][perChunk];
        ctx.parallelFor(chunks * parts, (long) perPart * dim * Math.min(frames, perChunk), u -> {
            int chunk = u / parts;
            int part = u - chunk * parts;
            int f0 = chunk * perChunk;
            int f1 = Math.min(frames, f0 + perChunk);
            int n0 = Math.min(numCodes, part * perPart);
            int n1 = part == parts - 1 ? numCodes : Math.min(numCodes, n0 + perPart);
            VectorVq.search(codebookT, codeNorms, m2x, xx, dim, f0, f1, n0, n1, bestDist[u], bestCode[u]);
        });
        int[] out = new int[frames];
        for (int t = 0; t < frames; t++) {
            int chunk = t / perChunk;
            int j = t - chunk * perChunk;
            float bd = Float.POSITIVE_INFINITY;
            int bc = 0;
            for (int part = 0; part < parts; part++) {
                int u = chunk * parts + part;
                if (bestDist[u][j] < bd) {
                    bd = bestDist[u][j];
                    bc = bestCode[u][j];
                }
            }
            out[t] = bc;
        }
        return out;
    }

    /**
     * {@code acc[n] = (((acc[n] + s[k0] * rows[k0][n]) + s[k0+1] * rows[k0+1][n]) + ...)} for
     * {@code n in [from, to)}, {@code cnt <= 6} terms in ascending order, every product and sum
     * rounded (no fma: the contract's reference-GEMM order).
     */
    static void mulAddRows(float[] acc, float[][] rows, int k0, int cnt, float[] s, int from, int to) {
        switch (cnt) {
            case 6 -> {
                float[] r0 = rows[k0];
                float[] r1 = rows[k0 + 1];
                float[] r2 = rows[k0 + 2];
                float[] r3 = rows[k0 + 3];
                float[] r4 = rows[k0 + 4];
                float[] r5 = rows[k0 + 5];
                float s0 = s[k0];
                float s1 = s[k0 + 1];
                float s2 = s[k0 + 2];
                float s3 = s[k0 + 3];
                float s4 = s[k0 + 4];
                float s5 = s[k0 + 5];
                for (int n = from; n < to; n++) {
                    float a = acc[n];
                    a = a + s0 * r0[n];
                    a = a + s1 * r1[n];
                    a = a + s2 * r2[n];
                    a = a + s3 * r3[n];
                    a = a + s4 * r4[n];
                    a = a + s5 * r5[n];
                    acc[n] = a;
                }
            }
            default -> {
                for (int k = k0; k < k0 + cnt; k++) {
                    float[] r = rows[k];
                    float sk = s[k];
                    for (int n = from; n < to; n++) {
                        acc[n] = acc[n] + sk * r[n];
                    }
                }
            }
        }
    }
}
