package io.vocodex.nn;

import io.vocodex.backend.cpu.CpuContext;
import io.vocodex.backend.cpu.CpuOps;

/**
 * {@code y = shortcut(x) + block(x)} (EnCodec's {@code SEANetResnetBlock}: the block is
 * ELU, conv k, ELU, conv 1; the shortcut a 1x1 conv or the identity when {@code true_skip}).
 * In streaming the two branches may finalise outputs at different times (the block's reflect
 * padding waits for a few samples at the start), so each keeps its not-yet-summed outputs.
 */
public final class ResidualBlock implements StreamingModule {
    private final StreamingModule block;
    private final StreamingModule shortcut; // null = identity

    public ResidualBlock(StreamingModule block, StreamingModule shortcut) {
        this.block = block;
        this.shortcut = shortcut;
    }

    @Override
    public float[][] forward(CpuContext ctx, float[][] x) {
        float[][] s = shortcut == null ? x : shortcut.forward(ctx, x);
        if (block instanceof Sequential seq) {
            // the sum fused into the block's last conv (Sequential.forwardPlus), the same values
            return seq.forwardPlus(ctx, x, s);
        }
        float[][] b = block.forward(ctx, x);
        // a conv's output is a fresh tensor: sum into it, unless a degenerate block handed back its
        // input or the shortcut's output
        return b == x || b == s ? CpuOps.add(s, b) : CpuOps.addInto(ctx, s, b);
    }

    static final class State implements ModuleState {
        final ModuleState blockState;
        final ModuleState shortcutState;
        float[][] pendingBlock;
        float[][] pendingShortcut;

        State(ModuleState b, ModuleState s, int channels) {
            blockState = b;
            shortcutState = s;
            pendingBlock = Frames.empty(channels);
            pendingShortcut = Frames.empty(channels);
        }
    }

    @Override
    public ModuleState newState() {
        return new State(block.newState(), shortcut == null ? null : shortcut.newState(), block.outChannels());
    }

    @Override
    public float[][] step(CpuContext ctx, ModuleState s, float[][] x) {
        State st = (State) s;
        float[][] b = block.step(ctx, st.blockState, x);
        float[][] sc = shortcut == null ? x : shortcut.step(ctx, st.shortcutState, x);
        return combine(st, b, sc);
    }

    private float[][] combine(State st, float[][] b, float[][] sc) {
        st.pendingBlock = Frames.concat(st.pendingBlock, b);
        st.pendingShortcut = Frames.concat(st.pendingShortcut, sc);
        int n = Math.min(Frames.length(st.pendingBlock), Frames.length(st.pendingShortcut));
        if (n == 0) {
            return Frames.empty(block.outChannels());
        }
        float[][] y = CpuOps.add(Frames.slice(st.pendingShortcut, 0, n), Frames.slice(st.pendingBlock, 0, n));
        st.pendingBlock = Frames.slice(st.pendingBlock, n, Frames.length(st.pendingBlock));
        st.pendingShortcut = Frames.slice(st.pendingShortcut, n, Frames.length(st.pendingShortcut));
        return y;
    }

    @Override
    public float[][] flush(CpuContext ctx, ModuleState s) {
        State st = (State) s;
        float[][] b = block.flush(ctx, st.blockState);
        float[][] sc = shortcut == null ? Frames.empty(block.outChannels()) : shortcut.flush(ctx, st.shortcutState);
        return combine(st, b, sc);
    }

    @Override
    public int outChannels() {
        return block.outChannels();
    }

    /** The block branch (ELU, conv k, ELU, conv 1 in EnCodec). */
    public StreamingModule block() {
        return block;
    }

    /** The shortcut branch, or null for the identity ({@code true_skip}). */
    public StreamingModule shortcut() {
        return shortcut;
    }

    /**
     * A streaming state from the branches' states, with no outputs pending in either branch (both have
     * finalised the same number of samples), as a backend that ran the steps elsewhere hands it back.
     */
    public ModuleState restoreState(ModuleState blockState, ModuleState shortcutState) {
        return new State(blockState, shortcut == null ? null : shortcutState, block.outChannels());
    }
}
