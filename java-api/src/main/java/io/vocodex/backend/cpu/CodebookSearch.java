package io.vocodex.backend.cpu;

import java.util.Arrays;

/**
 * Nearest-neighbour search in a large Euclidean codebook (e.g. DistilCodec's 32768 codes of
 * dimension 3584). The codebook is packed once, at load, into a {@link TiledCodebook}: tiles of
 * {@link #TILE_CODES} consecutive codes stored dimension-major (one short array per tile and
 * dimension holding that coordinate of every code in the tile), with the code norms. A task takes a
 * group of frames and a range of tiles; for each tile it walks the dimensions in blocks small enough
 * to stay in L1 and, three frames at a time, adds {@code x_d * e_nd} to one accumulator per
 * (frame, code). The innermost loop runs over contiguous codes with independent accumulators, so the
 * JIT turns it into SIMD fma instructions, each lane doing exactly the scalar fma of one code.
 *
 * <pre>{@code
 * CodebookSearch.TiledCodebook book = CodebookSearch.pack(codebook, 32768, 3584); // once
 * int[] codes = CodebookSearch.nearest(ctx, frames, book);                        // frames [T][3584]
 * }</pre>
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
 *
 * <p>Tasks that cover different code ranges of the same frames each keep their range's winner
 * (first NaN, else lowest index of the smallest key); merging the ranges in ascending order with the
 * same rule gives exactly the winner of one pass over all codes, so the split is free to follow the
 * thread count.
 */
public final class CodebookSearch {
    /**
     * Frames per task: they share each codebook block while it is in cache (94 frames, a second of
     * audio, read the codebook once). 192 measured the same on one thread.
     */
    static final int FRAME_GROUP = 96;
    /**
     * Codes per tile: the length of the innermost (vectorised) loop. Long enough that the loop's
     * scalar pre/post iterations are a small share, short enough that a group's accumulators
     * ({@code FRAME_GROUP * TILE_CODES} floats, 192 KiB) stay in L2.
     */
    public static final int TILE_CODES = 512;
    /** Dimensions per block: {@code TILE_CODES * DIM_BLOCK} floats (32 KiB) of codebook stay in L1 while a group's frames pass over them. */
    static final int DIM_BLOCK = 16;
    /** Frames a pass over a block shares each codebook load between (the kernel's register blocking). */
    private static final int FRAMES_PER_PASS = 3;

    private CodebookSearch() {
    }

    /**
     * A codebook {@code (numCodes, dim)} packed for {@link #nearest(CpuContext, float[][], TiledCodebook)},
     * in the layout of the kernel that will read it (chosen once, at pack time, by {@link Simd#enabled()}):
     * <ul>
     * <li>plain loops: tiles of {@link #TILE_CODES} codes, one row per tile and dimension: code
     *     {@code n}'s coordinate {@code d} is {@code tileRows[(n / TILE_CODES) * dim + d][n % TILE_CODES]}
     *     (the last tile's rows hold only the remaining codes);
     * <li>Vector API: groups of {@link VectorSearch#GROUP_CODES} codes, each one flat array of
     *     {@link VectorSearch#BLOCKS_PER_GROUP} blocks of {@link VectorSearch#CODES} codes stored
     *     dimension-major: code {@code c} of group {@code g} (block {@code b = c / CODES}) at
     *     {@code groups[g][(b * dim + d) * CODES + c % CODES]}, the last group padded with zero codes
     *     (never offered). The kernel reads its slices in place: each is contiguous, so it streams
     *     from memory in order, and needs no copy into an L1 scratch.
     * </ul>
     * The same 4 bytes per coordinate as the row-major codebook (plus the last group's padding);
     * read-only and shared once built.
     */
    public static final class TiledCodebook {
        private final float[][] tileRows; // plain loops: [tile * dim + d][code within tile]; else null
        private final float[][] groups;   // Vector API: [group][(block * dim + d) * CODES + lane]; else null
        private final float[] norms;
        private final int numCodes;
        private final int dim;

        private TiledCodebook(float[][] tileRows, float[][] groups, float[] norms, int numCodes, int dim) {
            this.tileRows = tileRows;
            this.groups = groups;
            this.norms = norms;
            this.numCodes = numCodes;
            this.dim = dim;
        }

        public int numCodes() {
            return numCodes;
        }

        public int dim() {
            return dim;
        }

        /** Codes per tile (plain layout) or group (Vector API layout). */
        int tileCodes() {
            return groups != null ? VectorSearch.GROUP_CODES : TILE_CODES;
        }

        int tiles() {
            return (numCodes + tileCodes() - 1) / tileCodes();
        }

        /** Whether this is the Vector API layout (groups of {@link VectorSearch#GROUP_CODES} codes). */
        public boolean isGrouped() {
            return groups != null;
        }

        /** Group {@code g}'s flat array in the Vector API layout (read-only, shared). */
        float[] groupData(int g) {
            return groups[g];
        }

        /** {@link #codeNorms} of the codebook (read-only, shared). */
        public float[] norms() {
            return norms;
        }

        /** Coordinate {@code d} of code {@code code}. */
        public float get(int code, int d) {
            if (groups != null) {
                int c = code % VectorSearch.GROUP_CODES;
                int codes = VectorSearch.CODES;
                return groups[code / VectorSearch.GROUP_CODES][((c / codes) * dim + d) * codes + c % codes];
            }
            return tileRows[(code / TILE_CODES) * dim + d][code % TILE_CODES];
        }

        /** Writes code {@code code}'s vector into {@code dst[0..dim)}. */
        public void copyCode(int code, float[] dst) {
            if (groups != null) {
                int c = code % VectorSearch.GROUP_CODES;
                int codes = VectorSearch.CODES;
                float[] group = groups[code / VectorSearch.GROUP_CODES];
                int at = (c / codes) * dim * codes + c % codes;
                for (int d = 0; d < dim; d++, at += codes) {
                    dst[d] = group[at];
                }
                return;
            }
            int base = (code / TILE_CODES) * dim;
            int lane = code % TILE_CODES;
            for (int d = 0; d < dim; d++) {
                dst[d] = tileRows[base + d][lane];
            }
        }

        /** The codebook row-major {@code (numCodes, dim)}: a new array (e.g. to upload to a device). */
        public float[] toRowMajor() {
            float[] out = new float[numCodes * dim];
            float[] code = new float[dim];
            for (int n = 0; n < numCodes; n++) {
                copyCode(n, code);
                System.arraycopy(code, 0, out, n * dim, dim);
            }
            return out;
        }
    }

    /** {@link #pack(float[], float[], int, int)} with the norms computed here. */
    public static TiledCodebook pack(float[] codebook, int numCodes, int dim) {
        return pack(codebook, codeNorms(codebook, numCodes, dim), numCodes, dim);
    }

    /**
     * Packs {@code codebook (numCodes, dim)} row-major into tiles; {@code norms} must be its
     * {@link #codeNorms} (kept, not copied). The caller may drop {@code codebook} afterwards.
     */
    public static TiledCodebook pack(float[] codebook, float[] norms, int numCodes, int dim) {
        if (numCodes < 1 || dim < 1 || (long) numCodes * dim > codebook.length || norms.length < numCodes) {
            throw new IllegalArgumentException("codebook of " + codebook.length + " floats, " + norms.length
                    + " norms: not (" + numCodes + ", " + dim + ")");
        }
        if (Simd.enabled()) {
            return new TiledCodebook(null, packGroups(codebook, numCodes, dim), norms, numCodes, dim);
        }
        int tiles = (numCodes + TILE_CODES - 1) / TILE_CODES;
        float[][] rows = new float[tiles * dim][];
        int dimChunk = 64; // read 64 consecutive floats of a code, write them to 64 rows
        for (int t = 0; t < tiles; t++) {
            int first = t * TILE_CODES;
            int width = Math.min(TILE_CODES, numCodes - first);
            for (int d = 0; d < dim; d++) {
                rows[t * dim + d] = new float[width];
            }
            for (int d0 = 0; d0 < dim; d0 += dimChunk) {
                int d1 = Math.min(dim, d0 + dimChunk);
                for (int c = 0; c < width; c++) {
                    int base = (first + c) * dim;
                    for (int d = d0; d < d1; d++) {
                        rows[t * dim + d][c] = codebook[base + d];
                    }
                }
            }
        }
        return new TiledCodebook(rows, null, norms, numCodes, dim);
    }

    /** The Vector API layout of {@link TiledCodebook}: one flat, zero-padded array per group of codes. */
    private static float[][] packGroups(float[] codebook, int numCodes, int dim) {
        int groupCodes = VectorSearch.GROUP_CODES;
        int codes = VectorSearch.CODES;
        int groupCount = (numCodes + groupCodes - 1) / groupCodes;
        float[][] groups = new float[groupCount][];
        for (int g = 0; g < groupCount; g++) {
            float[] flat = new float[groupCodes * dim];
            int first = g * groupCodes;
            int width = Math.min(groupCodes, numCodes - first);
            for (int c = 0; c < width; c++) {
                int src = (first + c) * dim;
                int dst = (c / codes) * dim * codes + c % codes;
                for (int d = 0; d < dim; d++) {
                    flat[dst + d * codes] = codebook[src + d];
                }
            }
            groups[g] = flat;
        }
        return groups;
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
     * Nearest code of every frame in a row-major codebook: packs it (a copy of the codebook) and
     * searches. For repeated searches pack once ({@link #pack}) and call
     * {@link #nearest(CpuContext, float[][], TiledCodebook)}.
     *
     * @param x frames {@code [T][dim]} (frame-major: one contiguous vector per frame)
     * @param codebook {@code (numCodes, dim)} row-major
     * @param norms {@link #codeNorms} of the codebook
     * @return code index per frame
     */
    public static int[] nearest(CpuContext ctx, float[][] x, float[] codebook, float[] norms, int numCodes, int dim) {
        return nearest(ctx, x, pack(codebook, norms, numCodes, dim));
    }

    /**
     * Nearest code of every frame.
     *
     * @param x frames {@code [T][dim]} (frame-major: one contiguous vector per frame)
     * @return code index per frame
     */
    public static int[] nearest(CpuContext ctx, float[][] x, TiledCodebook book) {
        int frames = x.length;
        int dim = book.dim;
        int[] out = new int[frames];
        if (frames == 0) {
            return out;
        }
        float[] xx = new float[frames];
        for (int f = 0; f < frames; f++) {
            xx[f] = squaredNorm(x[f], dim);
        }
        int groups = (frames + FRAME_GROUP - 1) / FRAME_GROUP;
        int tiles = book.tiles();
        // split the codes too, so that a few frames still keep every thread busy
        int ranges = Math.min(tiles, Math.max(1, (4 * ctx.threads() + groups - 1) / groups));
        int tilesPerRange = (tiles + ranges - 1) / ranges;
        int rangeCount = (tiles + tilesPerRange - 1) / tilesPerRange;
        int[] rangeBest = new int[frames * rangeCount];       // [frame][range]
        float[] rangeDist = new float[frames * rangeCount];
        float[] rangeKey = new float[frames * rangeCount];
        long cost = (long) FRAME_GROUP * tilesPerRange * book.tileCodes() * dim;
        ctx.parallelFor(groups * rangeCount, cost, task -> {
            int g = task / rangeCount;
            int range = task % rangeCount;
            int from = g * FRAME_GROUP;
            int n = Math.min(frames, from + FRAME_GROUP) - from;
            int tileFrom = range * tilesPerRange;
            int tileTo = Math.min(tiles, tileFrom + tilesPerRange);
            if (Simd.enabled()) {
                searchRangeVector(x, from, n, xx, book, tileFrom, tileTo, rangeBest, rangeDist, rangeKey, rangeCount, range);
            } else {
                searchRange(x, from, n, xx, book, tileFrom, tileTo, rangeBest, rangeDist, rangeKey, rangeCount, range);
            }
        });
        for (int f = 0; f < frames; f++) {
            int at = f * rangeCount;
            int best = rangeBest[at];
            float bestKey = rangeKey[at];
            boolean bestIsNaN = rangeDist[at] != rangeDist[at];
            for (int r = 1; r < rangeCount && !bestIsNaN; r++) { // ascending ranges: a later one wins only strictly
                float dist = rangeDist[at + r];
                if (dist != dist) {
                    best = rangeBest[at + r];
                    bestIsNaN = true;
                } else if (rangeKey[at + r] < bestKey) {
                    best = rangeBest[at + r];
                    bestKey = rangeKey[at + r];
                }
            }
            out[f] = best;
        }
        return out;
    }

    /** Winner of frames {@code [from, from + n)} among the codes of tiles {@code [tileFrom, tileTo)}. */
    private static void searchRange(float[][] x, int from, int n, float[] xx, TiledCodebook book, int tileFrom, int tileTo,
            int[] rangeBest, float[] rangeDist, float[] rangeKey, int rangeCount, int range) {
        int dim = book.dim;
        int slots = (n + FRAMES_PER_PASS - 1) / FRAMES_PER_PASS * FRAMES_PER_PASS;
        // (frame, code) accumulators; slots past n are scratch for the last pass (they reread the last frame)
        float[][] acc = new float[slots][TILE_CODES];
        float[][] in = new float[slots][];
        for (int s = 0; s < slots; s++) {
            in[s] = x[from + Math.min(s, n - 1)];
        }
        float[] bestDist = new float[n];
        float[] bestKey = new float[n];
        int[] best = new int[n];
        Arrays.fill(best, -1);
        for (int t = tileFrom; t < tileTo; t++) {
            int first = t * TILE_CODES;
            int width = Math.min(TILE_CODES, book.numCodes - first);
            for (float[] a : acc) {
                Arrays.fill(a, 0, width, 0f);
            }
            int rowBase = t * dim;
            for (int d0 = 0; d0 < dim; d0 += DIM_BLOCK) {
                int d1 = Math.min(dim, d0 + DIM_BLOCK);
                for (int s = 0; s < slots; s += FRAMES_PER_PASS) {
                    accumulate3(book.tileRows, rowBase, width, d0, d1, in[s], in[s + 1], in[s + 2],
                            acc[s], acc[s + 1], acc[s + 2]);
                }
            }
            float[] norms = book.norms;
            for (int f = 0; f < n; f++) {
                float[] a = acc[f];
                float xf = xx[from + f];
                for (int c = 0; c < width; c++) {
                    offer(f, first + c, (xf + norms[first + c]) - 2f * a[c], bestDist, bestKey, best);
                }
            }
        }
        publish(from, n, best, bestDist, bestKey, rangeBest, rangeDist, rangeKey, rangeCount, range);
    }

    /** Stores a task's winners of frames {@code [from, from + n)} in its range's column of {@code [frame][range]}. */
    private static void publish(int from, int n, int[] best, float[] bestDist, float[] bestKey,
            int[] rangeBest, float[] rangeDist, float[] rangeKey, int rangeCount, int range) {
        for (int f = 0; f < n; f++) {
            int at = (from + f) * rangeCount + range;
            rangeBest[at] = best[f];
            rangeDist[at] = bestDist[f];
            rangeKey[at] = bestKey[f];
        }
    }

    /**
     * {@link #searchRange} with the dot products on the Vector API ({@link VectorSearch}) over the
     * codebook's groups of {@link VectorSearch#GROUP_CODES} codes: for each group the dimensions go by
     * in slices of {@link VectorSearch#DIMS} (contiguous in the group's array, so they stay in cache while
     * the frames pass), four (or six) frames at a time with their sums in registers.
     * The same fma chain per (frame, code), the same distances offered in the same ascending code
     * order per frame: the same winners.
     */
    private static void searchRangeVector(float[][] x, int from, int n, float[] xx, TiledCodebook book, int tileFrom,
            int tileTo, int[] rangeBest, float[] rangeDist, float[] rangeKey, int rangeCount, int range) {
        int dim = book.dim;
        int codes = VectorSearch.GROUP_CODES;
        int blockCodes = VectorSearch.CODES;
        int frames = VectorSearch.FRAMES;
        int slots = (n + frames - 1) / frames * frames;
        // (frame, code) sums of one group (all zero when dim is 0); slots past n reread the last
        // frame and are never offered
        float[][] acc = new float[slots][codes];
        float[][] in = new float[slots][];
        for (int s = 0; s < slots; s++) {
            in[s] = x[from + Math.min(s, n - 1)];
        }
        float[] bestDist = new float[n];
        float[] bestKey = new float[n];
        int[] best = new int[n];
        Arrays.fill(best, -1);
        float[] norms = book.norms;
        for (int t = tileFrom; t < tileTo; t++) {
            float[] group = book.groups[t];
            int code0 = t * codes;
            int cw = Math.min(codes, book.numCodes - code0);
            for (int d0 = 0; d0 < dim; d0 += VectorSearch.DIMS) {
                int d1 = Math.min(dim, d0 + VectorSearch.DIMS);
                for (int s = 0; s < slots; s += frames) {
                    for (int b = 0; b * blockCodes < cw; b++) {
                        VectorSearch.frames(group, (b * dim + d0) * blockCodes, b, d0, d1, in, acc, s, d0 == 0);
                    }
                }
            }
            for (int f = 0; f < n; f++) {
                float[] a = acc[f];
                float xf = xx[from + f];
                for (int c = 0; c < cw; c++) {
                    offer(f, code0 + c, (xf + norms[code0 + c]) - 2f * a[c], bestDist, bestKey, best);
                }
            }
        }
        publish(from, n, best, bestDist, bestKey, rangeBest, rangeDist, rangeKey, rangeCount, range);
    }

    /**
     * {@code aK[c] = fma(xK[d], rows[rowBase + d][c], aK[c])} for {@code d} ascending in
     * {@code [d0, d1)}, every {@code c < width}, three frames sharing each codebook load. Two
     * dimensions per pass over the codes halve the accumulator traffic. The loop over {@code c} is the
     * vectorised one: every array in it is indexed by {@code c} alone, which C2 needs to vectorise
     * it, and its body is small enough for C2 to unroll it to a full AVX-512 vector (with a third
     * dimension it fell back to scalar code on JDK 17; three frames measured faster than four).
     */
    private static void accumulate3(float[][] rows, int rowBase, int width, int d0, int d1,
            float[] x0, float[] x1, float[] x2, float[] a0, float[] a1, float[] a2) {
        int d = d0;
        for (; d + 2 <= d1; d += 2) {
            float[] p = rows[rowBase + d];
            float[] q = rows[rowBase + d + 1];
            float s0 = x0[d];
            float s1 = x1[d];
            float s2 = x2[d];
            float t0 = x0[d + 1];
            float t1 = x1[d + 1];
            float t2 = x2[d + 1];
            for (int c = 0; c < width; c++) {
                float w = p[c];
                float v = q[c];
                a0[c] = Math.fma(t0, v, Math.fma(s0, w, a0[c]));
                a1[c] = Math.fma(t1, v, Math.fma(s1, w, a1[c]));
                a2[c] = Math.fma(t2, v, Math.fma(s2, w, a2[c]));
            }
        }
        if (d < d1) {
            float[] p = rows[rowBase + d];
            float s0 = x0[d];
            float s1 = x1[d];
            float s2 = x2[d];
            for (int c = 0; c < width; c++) {
                float w = p[c];
                a0[c] = Math.fma(s0, w, a0[c]);
                a1[c] = Math.fma(s1, w, a1[c]);
                a2[c] = Math.fma(s2, w, a2[c]);
            }
        }
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

    /** {@code xx} of the contract: {@code sum_d fma(v_d, v_d)} in ascending {@code d < dim}. */
    static float squaredNorm(float[] v, int dim) {
        float acc = 0f;
        for (int d = 0; d < dim; d++) {
            acc = Math.fma(v[d], v[d], acc);
        }
        return acc;
    }

    static float key(float dist) {
        return (float) Math.sqrt(Math.max(dist, 0f));
    }
}
