package io.vocodex.backend.cpu;

import java.util.Arrays;

/**
 * {@link CodebookSearch}'s codes for frames that are an affine projection {@code x = W h + b} of a
 * narrower vector {@code h}, found with far fewer operations when the codebook is wider than
 * {@code h} (DistilCodec: {@code h} has 1024 features, the codebook 32768 codes of 3584).
 *
 * <p>Since {@code x.e = h.(W^T e) + b.e}, the ranking score {@code |e|^2 - 2 x.e} of every code is
 * {@code c_e - 2 h.u_e} with {@code u_e = W^T e} and {@code c_e = |e|^2 - 2 b.e} computed once per
 * codebook: a pass over {@code in} features per code instead of {@code dim} (3.5 x fewer at
 * DistilCodec's size). Those scores are rounded differently from the contract's distances, so they
 * only select <em>candidates</em>: every code whose score is within a margin {@code M} of the frame's
 * smallest. The candidates' distances are then computed by {@link CodebookSearch}'s own kernel, with
 * its fma chains and ranking, and the lowest-index code of the smallest key among them is the
 * frame's code.
 *
 * <pre>{@code
 * FactoredSearch f = FactoredSearch.build(ctx, book, projectInWeight, projectInBias, 1024); // once
 * int[] codes = f.nearest(ctx, h, x); // h [T][1024]; x [T][3584] = project_in(h), as the model computed it
 * // codes equal CodebookSearch.nearest(ctx, x, book) for every frame
 * }</pre>
 *
 * <h2>Why the codes are exactly the contract's</h2>
 * {@code M} is a rigorous bound, per frame, on how far the computed score of a code can rank from
 * its contract distance, taken from the standard error bounds of floating-point dot products
 * ({@code gamma_k = k u / (1 - k u)}, {@code u = 2^-24}, for a sum of {@code k} rounded terms in any
 * order, with or without fma), whatever order the caller's projection summed in:
 * <ul>
 * <li>{@code x} itself differs from the exact {@code W h + b} by at most
 *     {@code gamma_(in+2) (|W_j| |h| + |b_j|)} per feature, so {@code 2 x.e} by
 *     {@code 2 gamma rho |e|}, {@code rho} the norm of those bounds;
 * <li>{@code u_e} is summed in blocks of {@value #SUM_CHUNK} dimensions, then the blocks in order,
 *     which keeps its error within {@code gamma_(64 + dim/64 + 2)} of the sums of magnitudes
 *     (about 30 times tighter than one chain over 3584 dimensions: 122 terms against 3584); {@code c_e} is summed in float64 and
 *     rounded once;
 * <li>the contract's own distance has its dot-product error ({@code gamma_dim |x| |e|}), its two
 *     roundings, the clamp at zero and the square root's rounding, under which two different
 *     distances may rank as a tie.
 * </ul>
 * Adding these for the frame's winner and for the code with the smallest score (with the largest
 * code norms of the book, and a factor 1.5 to spare) bounds how much worse than the smallest score
 * the winner's score can be; every code within it is a candidate, so the winner and every code tied
 * with it are among them. Candidates are scored in blocks of the packed codebook (a block's other
 * codes too: any code's exact distance may be offered without changing the winner), so a frame's
 * code never depends on the batch, the chunking or the thread count.
 *
 * <p>A frame falls back to {@link CodebookSearch#nearest} (same codes, full cost) when anything is
 * not finite, when its magnitudes are too large for the bounds ({@code 1e15}), or when more than
 * {@value #MAX_CANDIDATES} codes are candidates (nearly equidistant codes). Only built on the Vector
 * API layout ({@link #worthwhile}).
 */
public final class FactoredSearch {
    /** Dimensions per partial sum of {@code u_e}: the error bound grows with 64 + dim/64 terms, not dim. */
    static final int SUM_CHUNK = 64;
    /** Frames per pass of the scores ({@code 96 x numCodes} floats, 12 MiB at 32768 codes). */
    static final int FRAME_CHUNK = CodebookSearch.FRAME_GROUP;
    /**
     * More candidates than this in one frame: the frame is searched in full instead (each candidate
     * may cost a block of {@link VectorSearch#CODES} codes, and 64 blocks are an eighth of the full
     * search at DistilCodec's size).
     */
    static final int MAX_CANDIDATES = 64;
    /** Magnitudes beyond which a frame is searched in full (no float square can overflow below it). */
    static final double MAX_MAGNITUDE = 1e15;
    private static final double U = 0x1p-24;

    private final CodebookSearch.TiledCodebook book;
    private final CodebookSearch.TiledCodebook projectedBook; // u_e = W^T e, (numCodes, in), packed like the codebook
    private final float[] offsets;        // c_e = norms[e] - 2 b.e, rounded once
    private final int in;
    private final int dim;
    // inputs of the margin, all upper bounds over the codebook
    private final double maxCodeNorm;      // max |e|
    private final double maxCodeNormSq;    // max(norms[e], |e|^2) with its rounding
    private final double maxProjectedNorm; // max |u_e|
    private final double maxOffset;        // max |c_e|
    private final double weightFrobSq;     // sum_j |W_j|^2
    private final double weightBias;       // sum_j |W_j| |b_j|
    private final double biasNormSq;       // |b|^2

    private FactoredSearch(CodebookSearch.TiledCodebook book, CodebookSearch.TiledCodebook projectedBook, float[] offsets, int in,
            double maxCodeNorm, double maxCodeNormSq, double maxProjectedNorm, double maxOffset,
            double weightFrobSq, double weightBias, double biasNormSq) {
        this.book = book;
        this.projectedBook = projectedBook;
        this.offsets = offsets;
        this.in = in;
        this.dim = book.dim();
        this.maxCodeNorm = maxCodeNorm;
        this.maxCodeNormSq = maxCodeNormSq;
        this.maxProjectedNorm = maxProjectedNorm;
        this.maxOffset = maxOffset;
        this.weightFrobSq = weightFrobSq;
        this.weightBias = weightBias;
        this.biasNormSq = biasNormSq;
    }

    /**
     * Whether a factored search of a projection from {@code in} features can pay on {@code book}: the
     * Vector API layout (whose kernel scores the candidates) and at most half the codebook's width.
     */
    public static boolean worthwhile(CodebookSearch.TiledCodebook book, int in) {
        return Simd.enabled() && book.isGrouped() && in >= 1 && 2L * in <= book.dim();
    }

    /**
     * Precomputes {@code u_e} and {@code c_e} for {@code book} and the projection
     * {@code x = weight h + bias} ({@code weight} row-major {@code (book.dim(), in)}, PyTorch's
     * {@code nn.Linear.weight}): {@code 2 numCodes dim in} flops (240 G at DistilCodec's size, about
     * what searching {@code in} frames in full costs; ~3.1 s on one Zen 4 core), spread over
     * {@code ctx}'s threads, and {@code numCodes * in} floats. The sums run on the search's own
     * kernel with {@code W}'s columns as the frames, over the packed codebook in place. Returns null
     * when the weights, bias or codes are not all finite or too large for the error bounds (the
     * caller then searches in full).
     *
     * @throws IllegalArgumentException when the shapes disagree or {@link #worthwhile} is false
     */
    public static FactoredSearch build(CpuContext ctx, CodebookSearch.TiledCodebook book, float[] weight, float[] bias, int in) {
        int dim = book.dim();
        int numCodes = book.numCodes();
        if (!worthwhile(book, in) || weight.length != (long) dim * in || bias.length != dim) {
            throw new IllegalArgumentException("factored search: weight of " + weight.length + " values, bias of "
                    + bias.length + ", for a (" + numCodes + ", " + dim + ") codebook from " + in + " features");
        }
        double frob = 0;
        double wb = 0;
        double bb = 0;
        for (int j = 0; j < dim; j++) {
            double row = 0;
            for (int i = 0; i < in; i++) {
                double v = weight[j * in + i];
                row += v * v;
            }
            double bj = bias[j];
            if (!Double.isFinite(row) || !Double.isFinite(bj) || row > MAX_MAGNITUDE * MAX_MAGNITUDE
                    || Math.abs(bj) > MAX_MAGNITUDE) {
                return null;
            }
            frob += row;
            wb += Math.sqrt(row) * Math.abs(bj);
            bb += bj * bj;
        }
        // W's columns as "frames" of the codebook's own dot-product kernel, which reads the packed
        // codebook in place: sums[i][c] = u_(code c)[i], fma chains over SUM_CHUNK dimensions each,
        // then the chunks added in order
        int step = VectorSearch.FRAMES;
        int slots = (in + step - 1) / step * step;
        float[][] columns = new float[slots][dim];
        for (int j = 0; j < dim; j++) {
            for (int i = 0; i < in; i++) {
                columns[i][j] = weight[j * in + i];
            }
        }
        for (int i = in; i < slots; i++) {
            columns[i] = columns[in - 1]; // padding slots reread the last column and are never used
        }
        float[] u = new float[numCodes * in];
        float[] offsets = new float[numCodes];
        double[] codeNorm = new double[numCodes];
        double[] codeNormSq = new double[numCodes];
        double[] projNorm = new double[numCodes];
        boolean[] bad = new boolean[1];
        int groupCodes = VectorSearch.GROUP_CODES;
        int blockCodes = VectorSearch.CODES;
        int groups = (numCodes + groupCodes - 1) / groupCodes;
        float[] norms = book.norms();
        ctx.parallelFor(groups, 2L * groupCodes * dim * in, g -> {
            float[] data = book.groupData(g);
            int code0 = g * groupCodes;
            int cw = Math.min(groupCodes, numCodes - code0);
            float[][] sum = new float[slots][groupCodes];
            float[][] part = new float[slots][groupCodes];
            for (int d0 = 0; d0 < dim; d0 += SUM_CHUNK) {
                int d1 = Math.min(dim, d0 + SUM_CHUNK);
                float[][] target = d0 == 0 ? sum : part;
                for (int s = 0; s < slots; s += step) {
                    for (int b = 0; b * blockCodes < cw; b++) {
                        VectorSearch.frames(data, (b * dim + d0) * blockCodes, b, d0, d1, columns, target, s, true);
                    }
                }
                if (d0 > 0) {
                    for (int i = 0; i < in; i++) {
                        float[] a = sum[i];
                        float[] q = part[i];
                        for (int c = 0; c < cw; c++) {
                            a[c] += q[c];
                        }
                    }
                }
            }
            for (int c = 0; c < cw; c++) {
                int code = code0 + c;
                int at = (c / blockCodes) * dim * blockCodes + c % blockCodes;
                double ee = 0;
                double be = 0;
                for (int j = 0; j < dim; j++, at += blockCodes) {
                    double v = data[at];
                    ee += v * v;
                    be += bias[j] * v;
                }
                double uu = 0;
                for (int i = 0; i < in; i++) {
                    float v = sum[i][c];
                    uu += (double) v * v;
                    u[code * in + i] = v;
                }
                float off = (float) (norms[code] - 2 * be);
                if (!Double.isFinite(ee) || !Double.isFinite(uu) || !Float.isFinite(off) || !Float.isFinite(norms[code])
                        || ee > MAX_MAGNITUDE * MAX_MAGNITUDE) {
                    bad[0] = true;
                }
                codeNorm[code] = Math.sqrt(ee);
                codeNormSq[code] = Math.max(ee, norms[code]);
                projNorm[code] = Math.sqrt(uu);
                offsets[code] = off;
            }
        });
        if (bad[0]) {
            return null;
        }
        double maxE = 0;
        double maxE2 = 0;
        double maxU = 0;
        double maxC = 0;
        for (int k = 0; k < numCodes; k++) {
            maxE = Math.max(maxE, codeNorm[k]);
            maxE2 = Math.max(maxE2, codeNormSq[k]);
            maxU = Math.max(maxU, projNorm[k]);
            maxC = Math.max(maxC, Math.abs(offsets[k]));
        }
        double grow = 1 + 4 * gamma(dim); // the float64 norms' own rounding, generously
        // packed like a codebook of width in (the norms are not used: the offsets take their place)
        return new FactoredSearch(book, CodebookSearch.pack(u, offsets, numCodes, in), offsets, in,
                maxE * grow, maxE2 * grow * (1 + 2 * gamma(dim)), maxU * grow, maxC * (1 + 2 * U),
                frob * grow, wb * grow, bb * grow);
    }

    static double gamma(int k) {
        return k * U / (1 - k * U);
    }

    /** Features of {@code h}. */
    public int inFeatures() {
        return in;
    }

    /** Counts of one {@link #nearest} call, for tests and logs. */
    static final class Stats {
        long frames;
        long candidates;
        long fullFrames;
    }

    /**
     * Nearest code of every frame: exactly {@code CodebookSearch.nearest(ctx, x, book)}.
     *
     * @param h the projection's inputs {@code [T][in]}
     * @param x the frames searched, {@code [T][dim]}: {@code weight h[t] + bias} summed in float32 in
     *          any order (as the caller's linear layer computed them)
     */
    public int[] nearest(CpuContext ctx, float[][] h, float[][] x) {
        return nearest(ctx, h, x, new Stats());
    }

    int[] nearest(CpuContext ctx, float[][] h, float[][] x, Stats stats) {
        int frames = x.length;
        if (h.length != frames) {
            throw new IllegalArgumentException("factored search: " + h.length + " inputs for " + frames + " frames");
        }
        for (int f = 0; f < frames; f++) {
            if (h[f].length != in || x[f].length != dim) {
                throw new IllegalArgumentException("factored search: frame " + f + " has " + h[f].length + " inputs and "
                        + x[f].length + " features, expected " + in + " and " + dim);
            }
        }
        int[] out = new int[frames];
        int[][] candidates = new int[frames][]; // null: the frame is searched in full
        // one score buffer for every chunk (12 MiB at 96 frames x 32768 codes)
        float[][] dots = new float[Math.min(frames, FRAME_CHUNK)][book.numCodes()];
        for (int f0 = 0; f0 < frames; f0 += FRAME_CHUNK) {
            int n = Math.min(frames, f0 + FRAME_CHUNK) - f0;
            int start = f0;
            dots(ctx, Arrays.copyOfRange(h, f0, f0 + n), dots);
            ctx.parallelFor(n, 4L * book.numCodes(), i -> candidates[start + i] = select(h[start + i], x[start + i], dots[i]));
        }
        int fullCount = 0;
        for (int[] c : candidates) {
            fullCount += c == null ? 1 : 0;
        }
        stats.frames += frames;
        stats.fullFrames += fullCount;
        if (fullCount > 0) {
            float[][] rest = new float[fullCount][];
            int at = 0;
            for (int f = 0; f < frames; f++) {
                if (candidates[f] == null) {
                    rest[at++] = x[f];
                }
            }
            int[] codes = CodebookSearch.nearest(ctx, rest, book);
            at = 0;
            for (int f = 0; f < frames; f++) {
                if (candidates[f] == null) {
                    out[f] = codes[at++];
                }
            }
        }
        score(ctx, x, candidates, out, stats);
        return out;
    }

    /**
     * {@code dots[t][e] = h[t].u_e} for every code and {@code t < h.length}: {@link CodebookSearch}'s
     * dot-product kernel over the packed {@code u} (its groups of codes, slices of
     * {@link VectorSearch#DIMS} inputs, four frames at a time), a task per group of codes.
     */
    private void dots(CpuContext ctx, float[][] h, float[][] dots) {
        int n = h.length;
        int numCodes = book.numCodes();
        int step = VectorSearch.FRAMES;
        int slots = (n + step - 1) / step * step;
        float[][] rows = new float[slots][];
        for (int s = 0; s < slots; s++) {
            rows[s] = h[Math.min(s, n - 1)];
        }
        int groupCodes = VectorSearch.GROUP_CODES;
        int blockCodes = VectorSearch.CODES;
        int groups = (numCodes + groupCodes - 1) / groupCodes;
        ctx.parallelFor(groups, 2L * groupCodes * in * n, g -> {
            float[] data = projectedBook.groupData(g);
            float[][] acc = new float[slots][groupCodes];
            int code0 = g * groupCodes;
            int cw = Math.min(groupCodes, numCodes - code0);
            for (int d0 = 0; d0 < in; d0 += VectorSearch.DIMS) {
                int d1 = Math.min(in, d0 + VectorSearch.DIMS);
                for (int s = 0; s < slots; s += step) {
                    for (int b = 0; b * blockCodes < cw; b++) {
                        VectorSearch.frames(data, (b * in + d0) * blockCodes, b, d0, d1, rows, acc, s, d0 == 0);
                    }
                }
            }
            for (int t = 0; t < n; t++) {
                System.arraycopy(acc[t], 0, dots[t], code0, cw);
            }
        });
    }

    /**
     * The candidates of one frame in ascending order, from its factored scores {@code dots[e] = h.u_e};
     * null when the frame must be searched in full.
     */
    private int[] select(float[] h, float[] x, float[] dots) {
        double hh = 0;
        for (float v : h) {
            hh += (double) v * v;
        }
        double xx = 0;
        for (float v : x) {
            xx += (double) v * v;
        }
        double hn = Math.sqrt(hh);
        double xn = Math.sqrt(xx);
        if (!(hn <= MAX_MAGNITUDE) || !(xn <= MAX_MAGNITUDE)) { // also NaN
            return null;
        }
        int codes = offsets.length;
        float min = Float.POSITIVE_INFINITY;
        float max = Float.NEGATIVE_INFINITY;
        for (int e = 0; e < codes; e++) {
            float s = offsets[e] - 2f * dots[e];
            min = Math.min(min, s); // a NaN stays
            max = Math.max(max, s);
        }
        if (!Float.isFinite(min) || !Float.isFinite(max)) {
            return null;
        }
        double limit = min + margin(hn, xn);
        int[] picked = new int[MAX_CANDIDATES];
        int count = 0;
        for (int e = 0; e < codes; e++) {
            if (offsets[e] - 2f * dots[e] <= limit) {
                if (count == MAX_CANDIDATES) {
                    return null;
                }
                picked[count++] = e;
            }
        }
        picked = Arrays.copyOf(picked, count);
        return picked;
    }

    /**
     * How much larger than the frame's smallest score the winner's score can be (class comment): the
     * sum of the bounds on each rounding, for the winner and for the code of the smallest score.
     */
    double margin(double hn, double xn) {
        double e = maxCodeNorm;
        double e2 = maxCodeNormSq;
        double un = maxProjectedNorm;
        // rho >= |a|, a_j = sum_i |W_ji h_i| + |b_j|: the projection's sums of magnitudes
        double rho = Math.sqrt(hn * hn * weightFrobSq + 2 * hn * weightBias + biasNormSq);
        int chunks = (dim + SUM_CHUNK - 1) / SUM_CHUNK;
        // x versus the exact W h + b, seen through 2 x.e
        double alpha = 2 * gamma(in + 2) * rho * e;
        // the factored score versus |e|^2 - 2 (W h + b).e: u_e's sums, c_e's rounding, h.u_e's sums, the subtraction
        double a = 2 * gamma(SUM_CHUNK + chunks + 2) * rho * e
                + 2 * U * maxOffset + 1e-12 * (e2 + 2 * Math.sqrt(biasNormSq) * e) // c_e's float64 sums, generously
                + 2 * gamma(in + 1) * hn * un
                + U * (maxOffset + 2 * (1 + gamma(in)) * hn * un);
        // the contract's distance versus xx + yy - 2 x.e: its dot product and its two roundings
        double xx = xn * xn * (1 + 2 * gamma(dim));
        double beta = 3 * U * (xx + e2) + (2 * gamma(dim) * (1 + U) + 2 * U) * xn * e;
        // ties of the key sqrt(max(d, 0)): the clamp (d >= -|norm errors| - beta) and the root's rounding
        double tau = gamma(dim) * (xx + e2) + beta + 4.1 * U * (xx + e2 + 2 * xn * e + beta);
        // subnormal results lose their relative bound: an absolute allowance per rounded term, scaled
        // by what multiplies it downstream
        double tiny = (dim + in + 64) * 0x1p-126 * (1 + 2 * (hn * Math.sqrt(in) + xn + e));
        return 1.5 * (2 * a + 2 * alpha + 2 * beta + tau) + tiny;
    }

    /**
     * Scores every frame's candidates with {@link CodebookSearch}'s kernel, block by block of the
     * packed codebook (each block once, with every frame that has a candidate in it), and keeps each
     * frame's smallest key, lowest index first; frames already searched in full are skipped.
     */
    private void score(CpuContext ctx, float[][] x, int[][] candidates, int[] out, Stats stats) {
        int frames = x.length;
        int blockCodes = VectorSearch.CODES;
        int blocks = (book.numCodes() + blockCodes - 1) / blockCodes;
        // (frame, block) pairs, grouped by block in CSR form, frames ascending within a block
        int[] perBlock = new int[blocks + 1];
        int[][] frameBlocks = new int[frames][];
        for (int f = 0; f < frames; f++) {
            int[] c = candidates[f];
            if (c == null) {
                continue;
            }
            stats.candidates += c.length;
            int[] bl = new int[c.length];
            int n = 0;
            for (int code : c) {
                int b = code / blockCodes;
                if (n == 0 || bl[n - 1] != b) {
                    bl[n++] = b;
                }
            }
            frameBlocks[f] = Arrays.copyOf(bl, n);
            for (int i = 0; i < n; i++) {
                perBlock[bl[i] + 1]++;
            }
        }
        for (int b = 0; b < blocks; b++) {
            perBlock[b + 1] += perBlock[b];
        }
        int pairs = perBlock[blocks];
        int[] pairFrame = new int[pairs];
        int[] fill = Arrays.copyOf(perBlock, blocks);
        for (int f = 0; f < frames; f++) {
            if (frameBlocks[f] != null) {
                for (int b : frameBlocks[f]) {
                    pairFrame[fill[b]++] = f;
                }
            }
        }
        float[] xxs = new float[frames];
        for (int f = 0; f < frames; f++) {
            if (candidates[f] != null) {
                xxs[f] = CodebookSearch.squaredNorm(x[f], dim);
            }
        }
        int[] pairBest = new int[pairs];
        float[] pairKey = new float[pairs];
        int[] used = new int[blocks];
        int usedCount = 0;
        for (int b = 0; b < blocks; b++) {
            if (perBlock[b + 1] > perBlock[b]) {
                used[usedCount++] = b;
            }
        }
        int[] usedBlocks = Arrays.copyOf(used, usedCount);
        ctx.parallelFor(usedCount, 2L * dim * blockCodes * 4, task -> {
            int b = usedBlocks[task];
            scoreBlock(b, perBlock[b], perBlock[b + 1], pairFrame, x, xxs, pairBest, pairKey);
        });
        // each frame's pairs, blocks ascending: a later block wins only with a strictly smaller key
        int[] bestKeyCode = new int[frames];
        float[] bestKey = new float[frames];
        Arrays.fill(bestKeyCode, -1);
        for (int b = 0; b < blocks; b++) {
            for (int p = perBlock[b]; p < perBlock[b + 1]; p++) {
                int f = pairFrame[p];
                if (bestKeyCode[f] < 0 || pairKey[p] < bestKey[f]) {
                    bestKeyCode[f] = pairBest[p];
                    bestKey[f] = pairKey[p];
                }
            }
        }
        for (int f = 0; f < frames; f++) {
            if (candidates[f] != null) {
                out[f] = bestKeyCode[f];
            }
        }
    }

    /** The winner of each frame in pairs {@code [p0, p1)} (all of block {@code b}) among the block's codes. */
    private void scoreBlock(int b, int p0, int p1, int[] pairFrame, float[][] x, float[] xxs, int[] pairBest, float[] pairKey) {
        int blockCodes = VectorSearch.CODES;
        int perGroup = VectorSearch.BLOCKS_PER_GROUP;
        int group = b / perGroup;
        int inGroup = b % perGroup;
        float[] data = book.groupData(group);
        int n = p1 - p0;
        int step = VectorSearch.FRAMES;
        int slots = (n + step - 1) / step * step;
        float[][] in = new float[slots][];
        for (int s = 0; s < slots; s++) {
            in[s] = x[pairFrame[p0 + Math.min(s, n - 1)]];
        }
        float[][] acc = new float[slots][VectorSearch.GROUP_CODES];
        for (int d0 = 0; d0 < dim; d0 += VectorSearch.DIMS) {
            int d1 = Math.min(dim, d0 + VectorSearch.DIMS);
            for (int s = 0; s < slots; s += step) {
                VectorSearch.frames(data, (inGroup * dim + d0) * blockCodes, inGroup, d0, d1, in, acc, s, d0 == 0);
            }
        }
        float[] norms = book.norms();
        int code0 = b * blockCodes;
        int width = Math.min(blockCodes, book.numCodes() - code0);
        for (int i = 0; i < n; i++) {
            int f = pairFrame[p0 + i];
            float xf = xxs[f];
            float[] a = acc[i];
            int best = -1;
            float bestDist = 0f;
            float bestKey = 0f;
            for (int c = 0; c < width; c++) {
                float dist = (xf + norms[code0 + c]) - 2f * a[inGroup * blockCodes + c];
                if (best < 0 || dist < bestDist) {
                    float k = CodebookSearch.key(dist);
                    if (best < 0 || k < bestKey) {
                        best = code0 + c;
                        bestDist = dist;
                        bestKey = k;
                    }
                }
            }
            pairBest[p0 + i] = best;
            pairKey[p0 + i] = bestKey;
        }
    }
}
