package io.vocodex.backend.cpu;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A SEANet residual block's batch forward in one pass over time:
 * {@code y = shortcut(x) + conv2(elu(conv1(pad(elu(x)))))}, optionally followed by
 * {@code elu(y)}, with {@code conv1} of any kernel and dilation (stride 1) and {@code conv2} and
 * the shortcut 1x1 convs (the shortcut may be the identity).
 *
 * <p>Why: at the encoder's and decoder's full-rate layers the block's tensors do not fit any cache
 * (64 x 240000 floats is 61 MB), so running it op by op, even with the element-wise ops fused into
 * the convs, sends each intermediate through memory: the padded ELU copy, the hidden layer, the
 * shortcut. Here the threads take tiles of output positions instead, and each tile's input window,
 * hidden layer and sums stay in the core's L2 while the whole block runs over it; only {@code x}
 * is read and {@code y} written.
 *
 * <p>Every element gets exactly the operations of the unfused path (the same {@link VectorConv}
 * fma chains over the terms in the same order, bias then sum, the same ELU function), so the result
 * is bit for bit what {@link CpuOps#eluIntoPadded}, {@link CpuOps#conv1d} with its epilogues and
 * {@link CpuOps#addInto} give, whatever the tile or thread. Only with the Vector API kernels
 * ({@link Simd#enabled()}); the caller runs the unfused ops otherwise.
 *
 * <pre>{@code
 * // Mimi's encoder block at 64 channels: ELU, causal conv k3 64 -> 32 (two zero columns on the
 * // left), ELU, conv 1x1 32 -> 64, identity skip
 * float[][] y = FusedResidual.forward(ctx, x, new float[64][2], new float[64][0], 1f,
 *         new FusedResidual.Conv(w1, b1, 64, 32, 3, 1), 1f, new FusedResidual.Conv(w2, b2, 32, 64, 1, 1),
 *         null, Float.NaN, 0, 0);
 * }</pre>
 */
public final class FusedResidual {
    private FusedResidual() {
    }

    /**
     * A stride-1, ungrouped conv's parameters: weight {@code (cout, cin, kernel)} flattened, bias
     * {@code (cout)} or null.
     */
    public record Conv(float[] weight, float[] bias, int cin, int cout, int kernel, int dilation) {
        public Conv {
            if (weight.length != cout * cin * kernel) {
                throw new IllegalArgumentException("conv weight has " + weight.length + " values, expected " + cout * cin * kernel);
            }
            if (bias != null && bias.length != cout) {
                throw new IllegalArgumentException("conv bias has " + bias.length + " values, expected " + cout);
            }
            if (kernel < 1 || dilation < 1) {
                throw new IllegalArgumentException("kernel " + kernel + ", dilation " + dilation);
            }
        }

        int span() {
            return (kernel - 1) * dilation + 1;
        }
    }

    /** Floats of a tile's widest buffer (256 KB: the input window, hidden layer and sums of a tile then share a 1 MB L2). */
    static final int TILE_FLOATS = 64 * 1024;

    /** Output positions per tile for a block of {@code channels} channels: a multiple of the kernel's block width. */
    static int tileLength(int channels) {
        int w = VectorConv.width();
        int n = Math.max(w, TILE_FLOATS / Math.max(1, channels) / w * w);
        return Math.min(n, 16 * w);
    }

    /**
     * Whether {@link #forward} runs on {@code len} positions of a block of {@code channels} channels
     * with a hidden layer of {@code hidden}: with the Vector API kernels, and enough tiles for every
     * thread (shorter inputs split channels instead, which the unfused convs do).
     */
    public static boolean suits(CpuContext ctx, int channels, int hidden, int len) {
        if (!Simd.enabled() || channels < 1) {
            return false;
        }
        int tile = tileLength(Math.max(channels, hidden));
        long tiles = (len + (long) tile - 1) / tile;
        return tiles >= 2L * ctx.threads();
    }

    /**
     * The block over {@code x (C, len)} (every row {@code len} long).
     *
     * @param leftEdge {@code leftEdge[c][q]}: the value of padded column {@code q < left} of
     *        {@code conv1}'s input before the ELU (the pad rule's choice of input sample, or 0)
     * @param rightEdge {@code rightEdge[c][i]}: likewise for padded column {@code left + len + i}
     * @param alpha1 the ELU before {@code conv1}
     * @param conv1 {@code C -> H}, padded by {@code left + right = span - 1}
     * @param alpha2 the ELU between the convs
     * @param conv2 {@code H -> C}, 1x1
     * @param shortcut {@code C -> C}, 1x1, or null for the identity
     * @param outAlpha an ELU applied to the sum, or NaN for none
     * @param outLeft columns left free before the output (the caller's next padding), likewise {@code outRight} after
     * @return {@code (C, outLeft + len + outRight)}, columns outside {@code [outLeft, outLeft + len)} zero
     */
    public static float[][] forward(CpuContext ctx, float[][] x, float[][] leftEdge, float[][] rightEdge,
                                    float alpha1, Conv conv1, float alpha2, Conv conv2, Conv shortcut,
                                    float outAlpha, int outLeft, int outRight) {
        if (!Simd.enabled()) {
            throw new IllegalStateException("FusedResidual needs the Vector API kernels: " + Simd.reason());
        }
        int channels = x.length;
        int len = channels == 0 ? 0 : x[0].length;
        int left = leftEdge.length == 0 ? 0 : leftEdge[0].length;
        int right = rightEdge.length == 0 ? 0 : rightEdge[0].length;
        int hidden = conv1.cout();
        if (conv1.cin() != channels || conv2.cin() != hidden || conv2.cout() != channels || conv2.kernel() != 1
                || (shortcut != null && (shortcut.cin() != channels || shortcut.cout() != channels || shortcut.kernel() != 1))
                || left + right != conv1.span() - 1 || leftEdge.length != channels || rightEdge.length != channels) {
            throw new IllegalArgumentException("residual block shapes do not chain: " + channels + " channels, padding "
                    + left + "+" + right + ", conv1 " + conv1.cin() + "->" + hidden + " span " + conv1.span()
                    + ", conv2 " + conv2.cin() + "->" + conv2.cout() + " k" + conv2.kernel());
        }
        for (float[] row : x) {
            if (row.length != len) {
                throw new IllegalArgumentException("rows of unequal length: " + row.length + " and " + len);
            }
        }
        float[][] out = CpuOps.newRows(ctx, channels, outLeft + len + outRight);
        if (len == 0) {
            return out;
        }
        int tile = tileLength(Math.max(channels, hidden));
        int tiles = (len + tile - 1) / tile;
        int loops = Math.min(tiles, ctx.threads());
        long costPerLoop = (long) Math.min(tile, len) * ((long) channels * hidden * (conv1.kernel() + 1)
                + (shortcut == null ? 0 : (long) channels * channels)) * ((tiles + loops - 1) / loops);
        AtomicInteger next = new AtomicInteger();
        // one claim loop per thread with its own tile buffers; tiles are claimed in order
        ctx.parallelFor(loops, costPerLoop, loop -> {
            Tile buffers = null;
            for (int ti = next.getAndIncrement(); ti < tiles; ti = next.getAndIncrement()) {
                if (buffers == null) {
                    buffers = new Tile(channels, hidden, tile, conv1, shortcut != null);
                }
                int t0 = ti * tile;
                runTile(x, len, left, leftEdge, rightEdge, alpha1, conv1, alpha2, conv2, shortcut,
                        outAlpha, outLeft, out, t0, Math.min(tile, len - t0), buffers);
            }
        });
        return out;
    }

    /** A claim loop's buffers, reused tile after tile (stale values only reach discarded lanes). */
    private static final class Tile {
        /** {@code elu(pad(x))} over the tile's input window, one row per input channel. */
        final float[][] window;
        /** Hidden layer {@code (H, tile)}. */
        final float[][] hidden;
        /** Shortcut outputs {@code (C, tile)}, or null for the identity. */
        final float[][] shortcut;
        final float[][] conv1Rows;
        final int[] conv1Offs;
        final int[] zeroOffs;
        final CpuOps.EluScratch elu = new CpuOps.EluScratch();

        Tile(int channels, int hiddenChannels, int tile, Conv conv1, boolean withShortcut) {
            int w = VectorConv.width();
            // whole register blocks past the last position, so the kernel reads every window in place,
            // and whole ELU steps past the window (see eluLength)
            int padded = (tile + w - 1) / w * w;
            window = new float[channels][eluLength(padded + conv1.span() - 1)];
            hidden = new float[hiddenChannels][padded];
            shortcut = withShortcut ? new float[channels][padded] : null;
            int terms = channels * conv1.kernel();
            conv1Rows = new float[terms][];
            conv1Offs = new int[terms];
            for (int j = 0; j < terms; j++) {
                int ci = j / conv1.kernel();
                conv1Rows[j] = window[ci];
                conv1Offs[j] = (j - ci * conv1.kernel()) * conv1.dilation();
            }
            zeroOffs = new int[Math.max(channels, hiddenChannels)];
        }
    }

    /**
     * {@code n} rounded up to whole steps of the vector ELU: a tile's buffers run their ELU over that
     * many columns, the stale ones past the tile's included (they feed only discarded lanes), so that
     * no row ends in the plain loop's remainder (a window of 1026 columns left two values per row to
     * it, 6 % of the block's JFR samples).
     */
    static int eluLength(int n) {
        int step = VectorElu.step();
        return (n + step - 1) / step * step;
    }

    private static void runTile(float[][] x, int len, int left, float[][] leftEdge, float[][] rightEdge,
                                float alpha1, Conv conv1, float alpha2, Conv conv2, Conv shortcut,
                                float outAlpha, int outLeft, float[][] out, int t0, int n, Tile b) {
        int channels = x.length;
        int hiddenChannels = conv1.cout();
        int windowLength = n + conv1.span() - 1;
        // conv1's input window: padded columns [t0, t0 + windowLength), the ELU over all of it
        // (the pad rule picks input samples, or zeros, and ELU is element-wise: pad(elu(x)) == elu(pad(x)),
        // and elu(+0) is +0)
        for (int c = 0; c < channels; c++) {
            float[] row = b.window[c];
            float[] src = x[c];
            int p = t0;
            int end = t0 + windowLength;
            for (; p < Math.min(left, end); p++) {
                row[p - t0] = leftEdge[c][p];
            }
            int interiorEnd = Math.min(end, left + len);
            if (p < interiorEnd) {
                System.arraycopy(src, p - left, row, p - t0, interiorEnd - p);
                p = interiorEnd;
            }
            for (; p < end; p++) {
                row[p - t0] = rightEdge[c][p - left - len];
            }
            CpuOps.eluRange(row, row, 0, eluLength(windowLength), alpha1, b.elu);
        }
        float[] w1 = conv1.weight();
        float[] bias1 = conv1.bias();
        float[][] hidden = b.hidden;
        int terms1 = channels * conv1.kernel();
        VectorConv.run(b.conv1Rows, b.conv1Offs, terms1, 0, n, w1, terms1, 0, hiddenChannels, (co, from, acc, accOff, cnt) ->
                VectorConv.storeWithBias(acc, accOff, hidden[co], from, cnt, bias1 != null, bias1 == null ? 0f : bias1[co]));
        for (int h = 0; h < hiddenChannels; h++) {
            CpuOps.eluRange(hidden[h], hidden[h], 0, eluLength(n), alpha2, b.elu);
        }
        float[][] addend;
        int addendBase;
        if (shortcut == null) {
            addend = x;
            addendBase = t0;
        } else {
            float[] ws = shortcut.weight();
            float[] biasS = shortcut.bias();
            float[][] s = b.shortcut;
            // the 1x1 shortcut reads x in place (its last block gathers past the row's end as zeros)
            VectorConv.run(x, b.zeroOffs, channels, t0, n, ws, channels, 0, channels, (co, from, acc, accOff, cnt) ->
                    VectorConv.storeWithBias(acc, accOff, s[co], from, cnt, biasS != null, biasS == null ? 0f : biasS[co]));
            addend = s;
            addendBase = 0;
        }
        float[] w2 = conv2.weight();
        float[] bias2 = conv2.bias();
        int o = outLeft + t0;
        float[][] add = addend;
        VectorConv.run(hidden, b.zeroOffs, hiddenChannels, 0, n, w2, hiddenChannels, 0, channels, (co, from, acc, accOff, cnt) ->
                VectorConv.storeWithBiasPlus(acc, accOff, add[co], addendBase + from, out[co], o + from, cnt,
                        bias2 != null, bias2 == null ? 0f : bias2[co]));
        if (!Float.isNaN(outAlpha)) {
            for (int c = 0; c < channels; c++) {
                CpuOps.eluRange(out[c], out[c], o, o + n, outAlpha, b.elu);
            }
        }
    }
}
