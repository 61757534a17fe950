package io.vocodex.nn;

import io.vocodex.VocodexException;
import io.vocodex.backend.cpu.CpuContext;
import io.vocodex.backend.cpu.CpuOps;
import io.vocodex.backend.cpu.PackedLinear;

/**
 * A 1-d convolution with the padding rules of EnCodec's {@code SConv1d} (shared by Mimi's
 * {@code StreamingConv1d}): total padding {@code P = (K-1)*dilation + 1 - stride}, all on the left
 * when causal (split {@code P - P/2} left, {@code P/2} right otherwise), plus an extra right
 * padding that completes the last window, so that the output has {@code ceil(L / stride)} frames.
 *
 * <p>Streaming ({@link #step}) emits an output as soon as its window has arrived; the only
 * look-ahead is at the very start, where reflect padding mirrors samples {@code 1..P} and so needs
 * {@code P+1} samples before the first output. End padding is applied by {@link #flush}.
 */
public final class Conv1dLayer implements StreamingModule {
    private final int inChannels;
    private final int outChannels;
    private final int kernel;
    private final int stride;
    private final int dilation;
    private final int groups;
    private final boolean causal;
    private final PadMode padMode;
    private final float[] weight; // (Cout, Cin/groups, K), weight-norm folded
    private final PackedLinear weightPacked; // (Cout, Cin*K) packed for the few-frames kernel (groups == 1), else null
    private final float[] bias;   // (Cout) or null

    public Conv1dLayer(int inChannels, int outChannels, int kernel, int stride, int dilation, int groups,
                       boolean causal, PadMode padMode, float[] weight, float[] bias) {
        if (inChannels % groups != 0 || outChannels % groups != 0) {
            throw new VocodexException("conv channels " + inChannels + "->" + outChannels + " not divisible by groups " + groups);
        }
        if (weight.length != outChannels * (inChannels / groups) * kernel) {
            throw new VocodexException("conv weight has " + weight.length + " values, expected "
                    + outChannels * (inChannels / groups) * kernel);
        }
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.kernel = kernel;
        this.stride = stride;
        this.dilation = dilation;
        this.groups = groups;
        this.causal = causal;
        this.padMode = padMode;
        this.weight = weight;
        this.weightPacked = groups == 1 ? PackedLinear.pack(weight, outChannels, inChannels * kernel) : null;
        this.bias = bias;
    }

    /** Effective kernel span {@code (K-1)*dilation + 1}. */
    public int span() {
        return (kernel - 1) * dilation + 1;
    }

    /** Total padding {@code span - stride}. */
    public int paddingTotal() {
        return span() - stride;
    }

    /** EnCodec's {@code get_extra_padding_for_conv1d} for an input of {@code length} samples. */
    public int extraPadding(long length) {
        int span = span();
        int p = paddingTotal();
        // n_frames = (length - span + p) / stride + 1, as a real number; ceil of it
        long num = length - span + p;
        long nFramesCeil = Math.floorDiv(num + stride - 1, stride) + 1;
        long ideal = (nFramesCeil - 1) * stride + (span - p);
        return (int) Math.max(0, ideal - length);
    }

    @Override
    public float[][] forward(CpuContext ctx, float[][] x) {
        return forward(ctx, x, null);
    }

    /** {@link #forward} with {@code epilogue} applied to the output as it is computed (null: none). */
    public float[][] forward(CpuContext ctx, float[][] x, CpuOps.ConvEpilogue epilogue) {
        int len = Frames.length(x);
        int left = leftPadding();
        int right = rightPadding(len);
        // no padding (a 1x1 conv): the conv only reads its input, so it needs no copy
        float[][] padded = left == 0 && right == 0 ? x : padMode.pad(x, left, right);
        return conv(ctx, padded, Frames.length(padded), epilogue);
    }

    /**
     * {@code forward(elu(x))} (then {@code epilogue}), with the ELU written straight into the padded
     * input: one pass over {@code x} instead of an ELU pass and a padding copy. The same values bit
     * for bit: the interior is {@code elu(x)} and the edges are then filled from it by the pad rule,
     * which is exactly how padding {@code elu(x)} fills them.
     */
    public float[][] forwardElu(CpuContext ctx, float[][] x, float alpha, CpuOps.ConvEpilogue epilogue) {
        int len = Frames.length(x);
        int left = leftPadding();
        int right = rightPadding(len);
        if (!padMode.padsInPlace(len, left, right)) {
            return forward(ctx, CpuOps.elu(ctx, x, alpha), epilogue);
        }
        float[][] padded = CpuOps.eluIntoPadded(ctx, x, alpha, left, right);
        for (float[] row : padded) {
            padMode.fillPadding(row, left, len, right);
        }
        return conv(ctx, padded, Frames.length(padded), epilogue);
    }

    /**
     * {@code forward(elu(block.forward(x)))} (then {@code epilogue}), with the residual block writing
     * its ELU'd output straight into this conv's padded input (SEANet's block, ELU, downsampling conv):
     * the block's output is never stored. The same values bit for bit, as {@link #forwardElu}.
     */
    public float[][] forwardEluOf(CpuContext ctx, ResidualBlock block, float[][] x, float alpha, CpuOps.ConvEpilogue epilogue) {
        int len = Frames.length(x);
        int left = leftPadding();
        int right = rightPadding(len);
        if (!padMode.padsInPlace(len, left, right) || block.outChannels() != inChannels) {
            return forwardElu(ctx, block.forward(ctx, x), alpha, epilogue);
        }
        float[][] padded = block.forwardEluPadded(ctx, x, alpha, left, right);
        for (float[] row : padded) {
            padMode.fillPadding(row, left, len, right);
        }
        return conv(ctx, padded, len + left + right, epilogue);
    }

    int leftPadding() {
        int p = paddingTotal();
        return causal ? p : p - p / 2;
    }

    int rightPadding(int len) {
        int p = paddingTotal();
        int extra = extraPadding(len);
        return causal ? extra : p / 2 + extra;
    }

    /** Streaming state: pending (padded) input columns and how much raw input has been seen. */
    static final class State implements ModuleState {
        final GrowableFrames pending;
        long rawSeen;
        boolean started;

        State(int channels, int capacity) {
            pending = new GrowableFrames(channels, capacity);
        }
    }

    @Override
    public ModuleState newState() {
        if (!causal) {
            throw new VocodexException("a non-causal convolution cannot stream: its outputs depend on future input");
        }
        if (stride > 1 && paddingTotal() < stride) {
            throw new VocodexException("streaming conv with kernel span " + span() + " < 2*stride " + stride + " is not supported");
        }
        return new State(inChannels, span() + stride);
    }

    @Override
    public float[][] step(CpuContext ctx, ModuleState s, float[][] x) {
        State st = (State) s;
        st.pending.append(x);
        st.rawSeen += Frames.length(x);
        int p = paddingTotal();
        if (!st.started) {
            int need = padMode == PadMode.REFLECT ? p + 1 : 0;
            if (st.pending.len < need || st.pending.len == 0) {
                return Frames.empty(outChannels);
            }
            // Prepend the left padding, now that the samples it mirrors are here.
            GrowableFrames g = st.pending;
            g.ensure(g.len + p);
            for (int c = 0; c < g.data.length; c++) {
                float[] row = g.data[c];
                float[] raw = row.clone();
                System.arraycopy(raw, 0, row, p, g.len);
                for (int i = 0; i < p; i++) {
                    row[p - 1 - i] = padMode.leftValue(raw, g.len, i + 1);
                }
            }
            g.len += p;
            st.started = true;
        }
        return emitComplete(ctx, st, st.pending.len);
    }

    private float[][] emitComplete(CpuContext ctx, State st, int available) {
        int span = span();
        if (available < span) {
            return Frames.empty(outChannels);
        }
        int n = (available - span) / stride + 1;
        float[][] y = conv(ctx, st.pending.data, (n - 1) * stride + span);
        st.pending.dropFront(n * stride);
        return y;
    }

    @Override
    public float[][] flush(CpuContext ctx, ModuleState s) {
        State st = (State) s;
        if (!st.started) {
            // Too little input to have started: the whole stream is still here; batch semantics.
            if (st.rawSeen == 0) {
                return Frames.empty(outChannels);
            }
            return forward(ctx, st.pending.copy(0, st.pending.len));
        }
        int extra = extraPadding(st.rawSeen);
        GrowableFrames g = st.pending;
        g.ensure(g.len + extra);
        for (int c = 0; c < g.data.length; c++) {
            float[] row = g.data[c];
            for (int i = 0; i < extra; i++) {
                row[g.len + i] = padMode.rightValue(row, g.len, i + 1);
            }
        }
        g.len += extra;
        return emitComplete(ctx, st, g.len);
    }

    /**
     * The conv over the first {@code tin} columns of padded input. A streaming step of one frame
     * leaves the deep layers only a handful of output columns; vectorising over time is then
     * useless, so a kernel vectorised over output channels takes over (also for the short, wide
     * layers at the end of an encoder, see {@link CpuOps#prefersPackedConv}). Both follow CpuOps's
     * arithmetic contract, so the choice never changes a bit.
     */
    private float[][] conv(CpuContext ctx, float[][] padded, int tin) {
        return conv(ctx, padded, tin, null);
    }

    private float[][] conv(CpuContext ctx, float[][] padded, int tin, CpuOps.ConvEpilogue epilogue) {
        int tout = tin < span() ? 0 : (tin - span()) / stride + 1;
        if (weightPacked != null && CpuOps.prefersPackedConv(tout, outChannels, inChannels, kernel)) {
            return CpuOps.conv1dFewFrames(ctx, padded, tin, weightPacked, bias, kernel, stride, dilation, epilogue);
        }
        return CpuOps.conv1d(ctx, padded, tin, weight, bias, outChannels, kernel, stride, dilation, groups, epilogue);
    }

    @Override
    public int outChannels() {
        return outChannels;
    }

    public int inChannels() {
        return inChannels;
    }

    public int stride() {
        return stride;
    }

    public int kernel() {
        return kernel;
    }

    public int dilation() {
        return dilation;
    }

    public int groups() {
        return groups;
    }

    public boolean causal() {
        return causal;
    }

    public PadMode padMode() {
        return padMode;
    }

    /** The weight itself (not a copy) for kernels that fuse this conv with its neighbours; never modified. */
    float[] weightShared() {
        return weight;
    }

    /** The bias itself (not a copy), or null; never modified. */
    float[] biasShared() {
        return bias;
    }

    /** A copy of the (weight-norm folded) weight {@code (Cout, Cin/groups, K)}, e.g. for a device upload. */
    public float[] weight() {
        return weight.clone();
    }

    /** A copy of the bias {@code (Cout)}, or null. */
    public float[] bias() {
        return bias == null ? null : bias.clone();
    }

    /**
     * A streaming state as {@link #step} would have left it (for a backend that ran the steps elsewhere,
     * e.g. the GPU StreamHub, to finish a stream on the CPU): the pending input columns
     * {@code (Cin, n)} (padded columns once started, raw ones before), the raw samples seen so far and
     * whether the left padding has been applied.
     */
    public ModuleState restoreState(float[][] pending, long rawSeen, boolean started) {
        State st = (State) newState();
        st.pending.append(pending);
        st.rawSeen = rawSeen;
        st.started = started;
        return st;
    }
}
