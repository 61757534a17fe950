package io.vocodex.nn;

import io.vocodex.VocodexException;
import io.vocodex.backend.cpu.CpuContext;
import io.vocodex.backend.cpu.CpuOps;

/**
 * A transposed 1-d convolution with EnCodec's {@code SConvTranspose1d} trimming: of the
 * {@code P = K - stride} surplus samples, {@code ceil(P * trimRightRatio)} are cut on the right
 * when causal (the rest on the left), or {@code P/2} right and {@code P - P/2} left otherwise. The
 * output of {@code T} frames is {@code T * stride} samples.
 *
 * <p>Streaming keeps the last {@code ceil(K/stride) - 1} input frames as context: the
 * {@code stride} output samples of frame {@code q} read frames {@code q, q-1, ...}, so each new
 * frame finalises exactly {@code stride} samples, computed by the same kernel as batch mode.
 */
public final class ConvTranspose1dLayer implements StreamingModule {
    private final int inChannels;
    private final int outChannels;
    private final int kernel;
    private final int stride;
    private final int groups;
    private final boolean causal;
    private final double trimRightRatio;
    private final float[] weight; // (Cin, Cout/groups, K), weight-norm folded
    private final float[] bias;
    /** The weights' phase rows for batch forwards, made on the first one (null until then, or when unused). */
    private volatile float[][] phaseRows;
    private volatile boolean phaseRowsMade;

    public ConvTranspose1dLayer(int inChannels, int outChannels, int kernel, int stride, int groups,
                                boolean causal, double trimRightRatio, float[] weight, float[] bias) {
        if (weight.length != inChannels * (outChannels / groups) * kernel) {
            throw new VocodexException("transposed conv weight has " + weight.length + " values, expected "
                    + inChannels * (outChannels / groups) * kernel);
        }
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.kernel = kernel;
        this.stride = stride;
        this.groups = groups;
        this.causal = causal;
        this.trimRightRatio = trimRightRatio;
        this.weight = weight;
        this.bias = bias;
    }

    /** Samples cut on the right of the full transposed-conv output. */
    public int trimRight() {
        int p = kernel - stride;
        return causal ? (int) Math.ceil(p * trimRightRatio) : p / 2;
    }

    /** Samples cut on the left of the full transposed-conv output. */
    public int trimLeft() {
        return kernel - stride - trimRight();
    }

    /** Input frames each output frame reads: {@code ceil(K / stride)}. */
    public int taps() {
        return (kernel + stride - 1) / stride;
    }

    @Override
    public float[][] forward(CpuContext ctx, float[][] x) {
        int t = Frames.length(x);
        if (t == 0) {
            return Frames.empty(outChannels);
        }
        float[][] full = CpuOps.convTranspose1dFrames(ctx, x, weight, phaseRows(), bias, outChannels, kernel, stride,
                groups, 0, t + taps() - 1);
        int fullLen = (t - 1) * stride + kernel;
        return Frames.slice(full, trimLeft(), fullLen - trimRight());
    }

    /**
     * The phase rows the batch kernel reads, made once (a race makes them twice, equal): re-making
     * them per call took 7 % of a 10 s Mimi decode's JFR samples. Streaming steps pass null (they run few frames).
     */
    private float[][] phaseRows() {
        if (!phaseRowsMade) {
            phaseRows = CpuOps.transposedPhaseWeightsIfUsed(weight, inChannels, outChannels, kernel, stride, groups);
            phaseRowsMade = true;
        }
        return phaseRows;
    }

    static final class State implements ModuleState {
        float[][] context; // last taps-1 input frames (zeros before the stream starts)
        int leftToTrim;
        long framesSeen;
    }

    @Override
    public ModuleState newState() {
        if (!causal) {
            throw new VocodexException("a non-causal transposed convolution cannot stream");
        }
        State s = new State();
        s.context = new float[inChannels][taps() - 1];
        s.leftToTrim = trimLeft();
        return s;
    }

    @Override
    public float[][] step(CpuContext ctx, ModuleState s, float[][] x) {
        State st = (State) s;
        int n = Frames.length(x);
        if (n == 0) {
            return Frames.empty(outChannels);
        }
        int m = taps() - 1;
        float[][] xcat = Frames.concat(st.context, x);
        float[][] y = CpuOps.convTranspose1dFrames(ctx, xcat, weight, bias, outChannels, kernel, stride, groups, m, m + n);
        st.context = Frames.slice(xcat, n, n + m);
        st.framesSeen += n;
        if (st.leftToTrim > 0) {
            int drop = Math.min(st.leftToTrim, Frames.length(y));
            st.leftToTrim -= drop;
            y = Frames.slice(y, drop, Frames.length(y));
        }
        return y;
    }

    @Override
    public float[][] flush(CpuContext ctx, ModuleState s) {
        State st = (State) s;
        int tail = kernel - stride - trimRight();
        if (st.framesSeen == 0 || tail <= 0) {
            return Frames.empty(outChannels);
        }
        int m = taps() - 1;
        // Output frames past the last input frame read only the context (later frames are zero).
        float[][] y = CpuOps.convTranspose1dFrames(ctx, st.context, weight, bias, outChannels, kernel, stride, groups, m, 2 * m);
        int from = Math.min(st.leftToTrim, tail);
        return Frames.slice(y, from, tail);
    }

    @Override
    public int outChannels() {
        return outChannels;
    }

    public int inChannels() {
        return inChannels;
    }

    public int kernel() {
        return kernel;
    }

    public int stride() {
        return stride;
    }

    public int groups() {
        return groups;
    }

    /** A copy of the (weight-norm folded) weight {@code (Cin, Cout/groups, K)}. */
    public float[] weight() {
        return weight.clone();
    }

    /** A copy of the bias {@code (Cout)}, or null. */
    public float[] bias() {
        return bias == null ? null : bias.clone();
    }
}
