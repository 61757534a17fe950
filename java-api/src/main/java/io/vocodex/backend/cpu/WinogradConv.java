package io.vocodex.backend.cpu;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A stride-1, single-group 1-d convolution computed with Winograd's minimal filtering algorithm
 * F(4, 4): about half the multiply-adds of the direct convolution for kernels of 3 to 13 taps
 * (7 products per 4 outputs and 4 taps instead of 16), at a rounding error of the same order: one
 * more transform on each side of the sums makes it ~2.5x the direct kernel's (rel L2 2-5e-7
 * against a float64 convolution in {@code WinogradConvTest}'s shapes, the direct kernel's 0.4-2e-7;
 * DistilCodec's full-size decoded audio is 3.75e-7 rel L2 from PyTorch's with it and without it,
 * docs/perf-history.md).
 *
 * <p>The kernel ({@code K} taps, dilation {@code d}) is zero-extended to {@code 4P} taps and cut
 * into {@code P = ceil(K/4)} pieces of four. The outputs of residue {@code r} modulo {@code d} form
 * an undilated convolution over that residue's input samples; they are grouped in tiles of four
 * consecutive outputs, {@code o = r + d(4τ + i)}, {@code i < 4}. Tile {@code τ} of piece {@code q}
 * reads the seven input samples {@code x[r - padLeft + d(4(τ + q) + s)]}, {@code s < 7}, so that
 * each input tile, transformed once ({@code V = Bᵀ D} at the points 0, ±1, ±2, 1/2 and ∞), serves
 * every piece: in the transformed domain the convolution becomes, for each of the seven points, an
 * undilated convolution over tiles with {@code P} taps and {@code Cin} input channels,
 * {@code Y_p[co][τ] = Σ_ci Σ_q U_p[co][ci][q] V_p[ci][τ + q]}, which runs on the same
 * register-blocked kernel as the direct convolutions ({@link VectorConv}); the output transform
 * {@code y = Aᵀ Y} and the bias follow. The weights are transformed once, in float64, when the
 * layer is built ({@code U = G g}, rounded to float).
 *
 * <p>Every output is computed by the same operations in the same order whatever the thread count,
 * the Vector API's presence or the work split, so those never change a bit. Tiles are anchored at
 * output 0 with period {@code 4d}: an output's bits depend on the input samples its tile reads,
 * which reach up to {@code 3d} samples beyond its own receptive field on each side
 * ({@link #tileReach()}). A caller that computes a long signal in overlapping pieces and needs the
 * pieces to agree bit for bit with the whole must start each piece at a multiple of {@link #period()}
 * outputs and give it that much more context.
 *
 * <pre>{@code
 * WinogradConv conv = new WinogradConv(weight, 512, 512, 11, 5);      // weight (Cout, Cin, K)
 * float[][] y = conv.forward(ctx, x, bias, 25, 25, null);             // "same" padding: (K-1)d/2
 * }</pre>
 */
public final class WinogradConv {
    /** Outputs per tile. */
    static final int M = 4;
    /** Taps per kernel piece. */
    static final int R = 4;
    /** Points of the transform, and transformed values per tile: {@code M + R - 1}. */
    static final int N = M + R - 1;

    /** The finite interpolation points (the seventh is ∞). */
    static final double[] POINTS = {0, 1, -1, 2, -2, 0.5};

    /**
     * Input transform {@code Bᵀ} (N x N) for the points {@link #POINTS} and ∞: every entry a small
     * dyadic rational, exact in float. Derived from {@link #AT} and {@link #G} by solving
     * {@code Σ_p Aᵀ[i][p] G[p][k] Bᵀ[p][s] = [s == i + k]}; {@code WinogradConvTest} checks it.
     */
    static final float[][] BT = {
        {-2f, 4f, 2.5f, -5f, -0.5f, 1f, 0f},
        {0f, 2f, -2f, -4.5f, 0.5f, 1f, 0f},
        {0f, -2f, 6f, -3.5f, -1.5f, 1f, 0f},
        {0f, 1f, -1.5f, -2f, 1.5f, 1f, 0f},
        {0f, -1f, 2.5f, 0f, -2.5f, 1f, 0f},
        {0f, 4f, 0f, -5f, 0f, 1f, 0f},
        {0f, -2f, 4f, 2.5f, -5f, -0.5f, 1f},
    };

    /** Output transform {@code Aᵀ} (M x N): {@code Aᵀ[i][p] = a_p^i}, and {@code [i == M-1]} at ∞. */
    static final float[][] AT = new float[M][N];

    /** Kernel transform {@code G} (N x R): {@code a_p^k / Π_{l≠p}(a_p - a_l)}, and {@code [k == R-1]} at ∞. */
    static final double[][] G = new double[N][R];

    static {
        for (int p = 0; p < N - 1; p++) {
            double f = 1;
            for (int l = 0; l < N - 1; l++) {
                if (l != p) {
                    f *= POINTS[p] - POINTS[l];
                }
            }
            for (int i = 0; i < M; i++) {
                AT[i][p] = (float) Math.pow(POINTS[p], i);
            }
            for (int k = 0; k < R; k++) {
                G[p][k] = Math.pow(POINTS[p], k) / f;
            }
        }
        AT[M - 1][N - 1] = 1f;
        G[N - 1][R - 1] = 1;
    }

    /** Non-zero columns of each row of {@link #BT} and {@link #AT}: the transforms skip the zeros. */
    private static final int[][] BT_COLS = nonZeroColumns(BT);
    private static final int[][] AT_COLS = nonZeroColumns(AT);

    /**
     * Tile positions per pass of the transformed-domain kernel over one unit of output: four register
     * blocks of four 16-lane vectors on AVX-512. A point's transformed input ({@code Cin x ~260}
     * floats, 0.5 MB at {@code Cin = 512}) stays in L2 while the kernel walks it, and the few
     * positions per residue that separate the residues' tiles waste little (at {@code d = 5},
     * 3-tap pieces: 12 of 256).
     */
    static final int UNIT_POSITIONS = 256;

    private static final boolean SIMD = Simd.enabled();

    private final int cin;
    private final int cout;
    private final int kernel;
    private final int dilation;
    private final int pieces;
    /** {@code u[p][co * cin * pieces + ci * pieces + q]}: piece {@code q}'s taps transformed at point {@code p}. */
    private final float[][] u;

    /**
     * Transforms {@code weight} ({@code (cout, cin, kernel)}, flattened) for dilation {@code dilation}.
     *
     * @throws IllegalArgumentException for non-positive sizes or a weight of the wrong length
     */
    public WinogradConv(float[] weight, int cout, int cin, int kernel, int dilation) {
        if (cout < 1 || cin < 1 || kernel < 1 || dilation < 1) {
            throw new IllegalArgumentException("bad Winograd conv shape: cout " + cout + ", cin " + cin
                    + ", kernel " + kernel + ", dilation " + dilation);
        }
        if (weight.length != (long) cout * cin * kernel) {
            throw new IllegalArgumentException("weight has " + weight.length + " floats, expected "
                    + (long) cout * cin * kernel + " = " + cout + " x " + cin + " x " + kernel);
        }
        this.cin = cin;
        this.cout = cout;
        this.kernel = kernel;
        this.dilation = dilation;
        this.pieces = (kernel + R - 1) / R;
        int terms = cin * pieces;
        this.u = new float[N][cout * terms];
        for (int co = 0; co < cout; co++) {
            for (int ci = 0; ci < cin; ci++) {
                int wBase = (co * cin + ci) * kernel;
                for (int q = 0; q < pieces; q++) {
                    for (int p = 0; p < N; p++) {
                        double s = 0;
                        for (int k = 0; k < R; k++) {
                            int tap = q * R + k;
                            if (tap < kernel) {
                                s += G[p][k] * weight[wBase + tap];
                            }
                        }
                        u[p][co * terms + ci * pieces + q] = (float) s;
                    }
                }
            }
        }
    }

    /**
     * Whether a convolution of this shape is worth computing this way: stride 1, one group, a kernel
     * of 3 to 13 taps, at least 64 output channels, and enough multiply-adds saved per output,
     * {@code Cin (K - 7P/4)} with {@code P = ceil(K/4)}, to pay for the transforms (about 300 of
     * them per output here): {@code Cin (4K - 7P) >= 1280}. Measured on one Zen 4 core against the
     * direct kernel, 10 s of DistilCodec's HiFi-GAN shapes (docs/perf-history.md): 1.77x at 512
     * channels and 11 taps, 1.25x at 512 and 3, 1.11x at 256 and 3 (the threshold), 0.95x at 128
     * and 3 (left direct), 1.18x at 64 and 11, 1.01x at 64 and 7 (left direct).
     */
    public static boolean suits(int cin, int cout, int kernel, int stride, int groups) {
        int pieces = (kernel + R - 1) / R;
        return stride == 1 && groups == 1 && kernel >= 3 && kernel <= 13 && cout >= 64
                && (long) cin * (4L * kernel - 7L * pieces) >= 1280;
    }

    /** Output positions between tile boundaries: outputs {@code o} and {@code o + period()} lie at the same place in their tiles. */
    public int period() {
        return period(dilation);
    }

    /** {@link #period()} of a conv with dilation {@code dilation}: {@code 4 * dilation}. */
    public static int period(int dilation) {
        return M * dilation;
    }

    /** Input samples beyond an output's receptive field, on each side, that its tile's transform reads. */
    public int tileReach() {
        return tileReach(dilation);
    }

    /** {@link #tileReach()} of a conv with dilation {@code dilation}: {@code 3 * dilation}. */
    public static int tileReach(int dilation) {
        return (M - 1) * dilation;
    }

    /** Input channels. */
    public int inChannels() {
        return cin;
    }

    /** Output channels. */
    public int outChannels() {
        return cout;
    }

    /** Taps of the (untransformed) kernel. */
    public int kernel() {
        return kernel;
    }

    /** Spacing of the taps. */
    public int dilation() {
        return dilation;
    }

    /**
     * The convolution of {@code x} zero-padded by {@code padLeft} and {@code padRight} columns, plus
     * {@code bias}, with {@code epilogue} (null: none) applied to each unit of the output as
     * {@link CpuOps#conv1dPadded} does.
     *
     * @param x input {@code (Cin, Tin)}, every row {@code Tin} long, not padded
     * @return {@code (Cout, Tout)} with {@code Tout = Tin + padLeft + padRight - (K-1)*dilation}
     */
    public float[][] forward(CpuContext ctx, float[][] x, float[] bias, int padLeft, int padRight,
                             CpuOps.ConvEpilogue epilogue) {
        if (x.length != cin) {
            throw new IllegalArgumentException("input has " + x.length + " channels, the conv takes " + cin);
        }
        if (padLeft < 0 || padRight < 0) {
            throw new IllegalArgumentException("negative padding " + padLeft + ", " + padRight);
        }
        if (bias != null && bias.length != cout) {
            throw new IllegalArgumentException("bias has " + bias.length + " values, the conv has " + cout + " outputs");
        }
        int tin = cin == 0 ? 0 : x[0].length;
        for (float[] row : x) {
            if (row.length != tin) {
                throw new IllegalArgumentException("input rows differ in length: " + row.length + " vs " + tin);
            }
        }
        int tout = Math.max(0, tin + padLeft + padRight - (kernel - 1) * dilation);
        float[][] out = CpuOps.newRows(ctx, cout, tout);
        if (tout == 0) {
            return out;
        }
        Geometry g = new Geometry(dilation, pieces, tout);
        int units = g.units;
        int parts = CpuOps.channelParts(ctx, cout / 6, units);
        int perPart = 6 * ((cout / 6 + parts - 1) / parts);
        int unitChannels = parts == 1 ? cout : Math.max(perPart, cout - (parts - 1) * perPart);
        // with the output channels split into parts (few units), each unit's input is transformed
        // once, up front, for all its parts: at most 4 x threads units then (CpuOps.channelParts)
        float[][][] shared = parts == 1 ? null : new float[units][][];
        if (shared != null) {
            ctx.parallelFor(units, (long) N * cin * g.rowLength * M, unit -> {
                shared[unit] = new float[N * cin][g.rowLength];
                transformInput(x, tin, padLeft, g, unit, shared[unit], new float[M][g.phaseLength]);
            });
        }
        int jobs = units * parts;
        int loops = Math.min(jobs, ctx.threads());
        AtomicInteger next = new AtomicInteger();
        // one claim loop per thread, each with its own scratch for all the units it takes (a 10 s
        // decode allocated ~5 GB of per-unit scratch before); units are claimed in order
        ctx.parallelFor(loops, (long) N * unitChannels * cin * pieces * g.positions * ((jobs + loops - 1) / loops), loop -> {
            Scratch scratch = null;
            for (int job = next.getAndIncrement(); job < jobs; job = next.getAndIncrement()) {
                int unit = job / parts;
                int part = job - unit * parts;
                int c0 = part * perPart;
                int c1 = part == parts - 1 ? cout : Math.min(cout, c0 + perPart);
                if (c0 >= c1) {
                    continue;
                }
                if (scratch == null) {
                    scratch = new Scratch(g, cin, unitChannels, shared == null);
                }
                float[][] v = shared != null ? shared[unit] : scratch.v;
                if (shared == null) {
                    transformInput(x, tin, padLeft, g, unit, v, scratch.ph);
                }
                multiply(v, g, c0, c1, scratch);
                int o0 = unit * g.outputsPerUnit;
                transformOutput(scratch.y, g, c0, c1, o0, tout, bias, out, scratch.q);
                if (epilogue != null) {
                    epilogue.apply(out, c0, c1, o0, Math.min(g.outputsPerUnit, tout - o0));
                }
            }
        });
        return out;
    }

    /**
     * A claim loop's working arrays, reused unit after unit. Stale values from an earlier unit are
     * only ever read into lanes whose results are dropped (lanes never mix), except where the
     * plain loops accumulate, which start from zeroed rows.
     */
    private final class Scratch {
        /** Transformed input, {@code v[p * cin + ci]} (null when the units' inputs are transformed up front). */
        final float[][] v;
        /** The input row's phases (null likewise). */
        final float[][] ph;
        /** Transformed outputs, {@code y[p][co - c0]}. */
        final float[][][] y;
        /** One row of the output transform. */
        final float[] q;
        /** The kernel's terms {@code ci * pieces + q}: the row each reads (set per point) and its shift {@code q}. */
        final float[][] termRows;
        final int[] termOffsets;
        /** The plain loops' shifted copies of a chunk of terms (null on the Vector API path). */
        final float[][] rows;

        Scratch(Geometry g, int cin, int channels, boolean ownInput) {
            v = ownInput ? new float[N * cin][g.rowLength] : null;
            ph = ownInput ? new float[M][g.phaseLength] : null;
            y = new float[N][channels][g.positions];
            q = new float[g.positions];
            termRows = new float[cin * pieces][];
            termOffsets = new int[cin * pieces];
            for (int j = 0; j < termOffsets.length; j++) {
                termOffsets[j] = j % pieces;
            }
            rows = SIMD ? null : new float[CpuOps.CHUNK][g.positions];
        }
    }

    /**
     * How a unit of output is laid out in the transformed domain: {@code tiles} tiles of each of the
     * {@code d} residues; residue {@code r}'s {@code tiles + pieces - 1} input tiles lie at
     * {@code r * stride} of each transformed row ({@code stride = tiles + pieces}: one spare slot
     * per residue lets both transforms run as single contiguous passes over all residues), so that
     * one pass of the kernel over {@code positions} consecutive positions computes every residue
     * (the positions between two residues' tiles are computed and dropped). The units share the
     * output's tiles in order, as many as fill {@link #UNIT_POSITIONS} positions each.
     */
    static final class Geometry {
        final int d;
        final int tiles;
        final int stride;
        final int positions;
        final int outputsPerUnit;
        final int units;
        /** Length of a transformed row: the kernel reads whole register blocks past {@code positions}. */
        final int rowLength;
        /** Length of a phase row: every residue's {@code stride} samples, and the one past the last that the spare slot reads. */
        final int phaseLength;

        Geometry(int d, int pieces, int tout) {
            this.d = d;
            // as many tiles as fill UNIT_POSITIONS: the kernel computes whole register blocks
            int maxTiles = Math.max(1, (UNIT_POSITIONS - (d - 1) * pieces) / d);
            int allTiles = (tout + M * d - 1) / (M * d);
            this.tiles = Math.min(maxTiles, allTiles);
            this.stride = tiles + pieces;
            this.positions = (d - 1) * stride + tiles;
            this.outputsPerUnit = M * d * tiles;
            this.units = (tout + outputsPerUnit - 1) / outputsPerUnit;
            int block = SIMD ? VectorConv.width() : 1;
            this.rowLength = Math.max(d * stride, ((positions + block - 1) / block) * block + pieces - 1);
            this.phaseLength = d * stride + (N - 1) / M;
        }
    }

    /**
     * {@code v[p * cin + ci][r * stride + t] = (Bᵀ D)[p]} of residue {@code r}'s input tile
     * {@code unit * tiles + t}. Each input row is first split into its {@code 4d} phases, laid out
     * as {@code ph[c][r * stride + j] = x[r + d c - padLeft + 4d(unit * tiles + j)]} for
     * {@code c < 4} (zeros outside the row), in which sample {@code s} of residue {@code r}'s tile
     * {@code t} is {@code ph[s % 4][r * stride + t + s / 4]}: the transform is then, for each point,
     * a few multiply-adds of contiguous rows over all residues at once, one fma chain per value in
     * the order of {@link #BT_COLS}.
     */
    private void transformInput(float[][] x, int tin, int padLeft, Geometry g, int unit, float[][] v, float[][] ph) {
        int d = g.d;
        int period = M * d;
        int span = d * g.stride;
        int origin = -padLeft + period * unit * g.tiles;
        for (int ci = 0; ci < cin; ci++) {
            float[] row = x[ci];
            for (int c = 0; c < M; c++) {
                float[] dst = ph[c];
                for (int r = 0; r < d; r++) {
                    int i0 = origin + r + d * c;
                    int at = r * g.stride;
                    int n = g.stride;
                    int j = 0;
                    for (; j < n && i0 + period * j < 0; j++) {
                        dst[at + j] = 0f;
                    }
                    int inside = Math.min(n, i0 >= tin ? 0 : (tin - 1 - i0) / period + 1);
                    for (; j < inside; j++) {
                        dst[at + j] = row[i0 + period * j];
                    }
                    for (; j < n; j++) {
                        dst[at + j] = 0f;
                    }
                }
            }
            for (int p = 0; p < N; p++) {
                float[] dst = v[p * cin + ci];
                int[] cols = BT_COLS[p];
                for (int k = 0; k < cols.length; k++) {
                    int sIdx = cols[k];
                    fmaRow(BT[p][sIdx], ph[sIdx % M], sIdx / M, dst, 0, span, k == 0);
                }
            }
        }
    }

    /** {@code dst[at + t] = fma(a, src[off + t], first ? 0 : dst[at + t])} for {@code t < n}: one link of the chains. */
    private static void fmaRow(float a, float[] src, int off, float[] dst, int at, int n, boolean first) {
        if (SIMD) {
            VectorConv.fmaRow(a, src, off, dst, at, n, first);
        } else if (first) {
            for (int t = 0; t < n; t++) {
                dst[at + t] = Math.fma(a, src[off + t], 0f);
            }
        } else {
            for (int t = 0; t < n; t++) {
                dst[at + t] = Math.fma(a, src[off + t], dst[at + t]);
            }
        }
    }

    /**
     * {@code y[p][co - c0][l] = Σ_ci Σ_q u[p][co][ci][q] v[p][ci][l + q]}, one fma chain per element
     * in term order: on the {@link VectorConv} kernel, or in the plain loops of {@link CpuOps#conv1d}
     * (each chunk of terms copied to scratch rows, then folded into every channel's row).
     */
    private void multiply(float[][] v, Geometry g, int c0, int c1, Scratch scratch) {
        float[][][] y = scratch.y;
        int terms = cin * pieces;
        float[][] rows = scratch.termRows;
        int[] offs = scratch.termOffsets;
        for (int p = 0; p < N; p++) {
            for (int j = 0; j < terms; j++) {
                rows[j] = v[p * cin + j / pieces];
            }
            float[][] yp = y[p];
            float[] up = u[p];
            if (SIMD) {
                VectorConv.run(rows, offs, terms, 0, g.positions, up, terms, c0, c1,
                        (co, from, acc, accOff, n) -> System.arraycopy(acc, accOff, yp[co - c0], from, n));
            } else {
                for (int co = c0; co < c1; co++) {
                    java.util.Arrays.fill(yp[co - c0], 0f);
                }
                for (int j0 = 0; j0 < terms; j0 += CpuOps.CHUNK) {
                    int cnt = Math.min(CpuOps.CHUNK, terms - j0);
                    for (int r = 0; r < cnt; r++) {
                        System.arraycopy(rows[j0 + r], offs[j0 + r], scratch.rows[r], 0, g.positions);
                    }
                    for (int co = c0; co < c1; co++) {
                        CpuOps.fmaRows(yp[co - c0], scratch.rows, 0, cnt, up, co * terms + j0, g.positions);
                    }
                }
            }
        }
    }

    /**
     * {@code out[co][o0 + r + d(4t + i)] = (Aᵀ Y)[i] + bias[co]} for the unit's outputs below
     * {@code tout}: row {@code i} of {@code Aᵀ Y} over all residues' tiles first (contiguous, one fma
     * chain per value in the order of {@link #AT_COLS}), then interleaved into the output row.
     */
    private static void transformOutput(float[][][] y, Geometry g, int c0, int c1, int o0, int tout, float[] bias,
                                        float[][] out, float[] q) {
        int d = g.d;
        for (int co = c0; co < c1; co++) {
            float[] dst = out[co];
            for (int i = 0; i < M; i++) {
                int[] cols = AT_COLS[i];
                for (int k = 0; k < cols.length; k++) {
                    int p = cols[k];
                    fmaRow(AT[i][p], y[p][co - c0], 0, q, 0, g.positions, k == 0);
                }
                for (int r = 0; r < d; r++) {
                    int first = o0 + r + d * i;
                    if (first >= tout) {
                        continue;
                    }
                    int n = Math.min(g.tiles, (tout - 1 - first) / (M * d) + 1);
                    int at = r * g.stride;
                    if (bias == null) {
                        for (int t = 0; t < n; t++) {
                            dst[first + M * d * t] = q[at + t];
                        }
                    } else {
                        float b = bias[co];
                        for (int t = 0; t < n; t++) {
                            dst[first + M * d * t] = q[at + t] + b;
                        }
                    }
                }
            }
        }
    }

    private static int[][] nonZeroColumns(float[][] m) {
        int[][] cols = new int[m.length][];
        for (int i = 0; i < m.length; i++) {
            int n = 0;
            for (float v : m[i]) {
                n += v != 0f ? 1 : 0;
            }
            cols[i] = new int[n];
            n = 0;
            for (int c = 0; c < m[i].length; c++) {
                if (m[i][c] != 0f) {
                    cols[i][n++] = c;
                }
            }
        }
        return cols;
    }
}
