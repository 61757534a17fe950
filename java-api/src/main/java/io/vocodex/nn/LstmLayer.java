package io.vocodex.nn;

import io.vocodex.backend.cpu.CpuContext;
import io.vocodex.backend.cpu.CpuOps;
import io.vocodex.backend.cpu.PackedLinear;
import io.vocodex.model.Weights;

/**
 * A stack of unidirectional LSTM layers over time (EnCodec's {@code SLSTM}), PyTorch weight
 * names {@code weight_ih_l{k}}, {@code weight_hh_l{k}}, {@code bias_ih_l{k}}, {@code bias_hh_l{k}},
 * with an optional skip connection {@code y = lstm(x) + x}. The state is each layer's
 * {@code (h, c)}, so streaming is exact by construction.
 */
public final class LstmLayer implements StreamingModule {
    private final int dim;
    private final int layers;
    private final boolean skip;
    private final float[][] whh;
    private final PackedLinear[] wihPacked; // the input projection's layout (batch and streaming)
    private final PackedLinear[] whhPacked;
    private final float[][] bih;
    private final float[][] bhh;

    /** Reads the weights under {@code w} (e.g. {@code encoder.model.13.lstm}). */
    public LstmLayer(int dim, int layers, boolean skip, Weights w) {
        this.dim = dim;
        this.layers = layers;
        this.skip = skip;
        whh = new float[layers][];
        wihPacked = new PackedLinear[layers];
        whhPacked = new PackedLinear[layers];
        bih = new float[layers][];
        bhh = new float[layers][];
        for (int l = 0; l < layers; l++) {
            whh[l] = w.floats("weight_hh_l" + l, 4 * dim, dim);
            wihPacked[l] = PackedLinear.pack(w.floats("weight_ih_l" + l, 4 * dim, dim), 4 * dim, dim);
            whhPacked[l] = PackedLinear.pack(whh[l], 4 * dim, dim);
            bih[l] = w.floats("bias_ih_l" + l, 4 * dim);
            bhh[l] = w.floats("bias_hh_l" + l, 4 * dim);
        }
    }

    /** Per-layer hidden and cell state {@code (layers, dim)}. */
    public static final class State implements ModuleState {
        final float[][] h;
        final float[][] c;

        State(int layers, int dim) {
            h = new float[layers][dim];
            c = new float[layers][dim];
        }
    }

    @Override
    public float[][] forward(CpuContext ctx, float[][] x) {
        return step(ctx, newState(), x);
    }

    @Override
    public ModuleState newState() {
        return new State(layers, dim);
    }

    @Override
    public float[][] step(CpuContext ctx, ModuleState s, float[][] x) {
        State st = (State) s;
        if (Frames.length(x) == 0) {
            return Frames.empty(dim);
        }
        float[][] y = x;
        for (int l = 0; l < layers; l++) {
            // A streaming step has a frame or two: the kernel over packed weights is much faster
            // there and computes the same bits (CpuOps arithmetic contract).
            y = Frames.length(y) < CpuOps.LSTM_PACK_MIN_STEPS
                    ? CpuOps.lstmLayerFewSteps(ctx, y, wihPacked[l], whhPacked[l], bih[l], bhh[l], st.h[l], st.c[l])
                    : CpuOps.lstmLayer(ctx, y, wihPacked[l], whh[l], bih[l], bhh[l], st.h[l], st.c[l]);
        }
        return skip ? CpuOps.add(y, x) : y;
    }

    @Override
    public float[][] flush(CpuContext ctx, ModuleState state) {
        return Frames.empty(dim);
    }

    @Override
    public int outChannels() {
        return dim;
    }

    public int layers() {
        return layers;
    }

    /** Whether the output is {@code lstm(x) + x}. */
    public boolean skip() {
        return skip;
    }

    /** Copies of layer {@code l}'s weights {@code (4H, H)} and biases {@code (4H)}, PyTorch gate order i, f, g, o. */
    public float[] weightIh(int l) {
        return wihPacked[l].unpack();
    }

    public float[] weightHh(int l) {
        return whh[l].clone();
    }

    public float[] biasIh(int l) {
        return bih[l].clone();
    }

    public float[] biasHh(int l) {
        return bhh[l].clone();
    }

    /** A streaming state holding (copies of) each layer's {@code h} and {@code c} {@code (layers, H)}. */
    public ModuleState restoreState(float[][] h, float[][] c) {
        State st = new State(layers, dim);
        for (int l = 0; l < layers; l++) {
            System.arraycopy(h[l], 0, st.h[l], 0, dim);
            System.arraycopy(c[l], 0, st.c[l], 0, dim);
        }
        return st;
    }
}
