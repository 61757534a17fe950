package io.vocodex.nn;

import io.vocodex.backend.cpu.CpuContext;
import io.vocodex.backend.cpu.CpuOps;

/** ELU activation {@code x > 0 ? x : alpha * (exp(x) - 1)}; stateless, so streaming is trivial. */
public final class EluLayer implements StreamingModule {
    private static final ModuleState NO_STATE = new ModuleState() {
    };
    private final int channels;
    private final float alpha;

    public EluLayer(int channels, float alpha) {
        this.channels = channels;
        this.alpha = alpha;
    }

    @Override
    public float[][] forward(CpuContext ctx, float[][] x) {
        return CpuOps.elu(ctx, x, alpha);
    }

    /** {@link #forward} overwriting {@code x} (which the caller owns), with the same values. */
    void forwardInPlace(CpuContext ctx, float[][] x) {
        CpuOps.eluInPlace(ctx, x, alpha);
    }

    @Override
    public ModuleState newState() {
        return NO_STATE;
    }

    @Override
    public float[][] step(CpuContext ctx, ModuleState state, float[][] x) {
        return CpuOps.elu(ctx, x, alpha);
    }

    @Override
    public float[][] flush(CpuContext ctx, ModuleState state) {
        return Frames.empty(channels);
    }

    @Override
    public int outChannels() {
        return channels;
    }

    public float alpha() {
        return alpha;
    }
}
