package io.vocodex.nn;

import io.vocodex.backend.cpu.CpuContext;
import io.vocodex.backend.cpu.CpuOps;
import io.vocodex.backend.cpu.FusedResidual;

import java.util.List;

/**
 * {@code y = shortcut(x) + block(x)} (EnCodec's {@code SEANetResnetBlock}: the block is
 * ELU, conv k, ELU, conv 1; the shortcut a 1x1 conv or the identity when {@code true_skip}).
 * In streaming the two branches may finalise outputs at different times (the block's reflect
 * padding waits for a few samples at the start), so each keeps its not-yet-summed outputs.
 *
 * <p>The batch forward of a SEANet block (ELU, stride-1 conv, ELU, 1x1 conv; identity or 1x1
 * shortcut) runs as one pass over time tiles ({@link FusedResidual}) on long inputs, with the same
 * values bit for bit.
 */
public final class ResidualBlock implements StreamingModule {
    private final StreamingModule block;
    private final StreamingModule shortcut; // null = identity
    private final Fusable fusable; // null: the block is not SEANet's, the ops run one by one

    public ResidualBlock(StreamingModule block, StreamingModule shortcut) {
        this.block = block;
        this.shortcut = shortcut;
        this.fusable = Fusable.of(block, shortcut);
    }

    /** A SEANet block's parts, as {@link FusedResidual} takes them. */
    private record Fusable(float alpha1, Conv1dLayer conv1, FusedResidual.Conv c1, float alpha2, FusedResidual.Conv c2,
                           FusedResidual.Conv shortcut) {
        static Fusable of(StreamingModule block, StreamingModule shortcut) {
            if (!(block instanceof Sequential seq) || seq.modules().size() != 4) {
                return null;
            }
            List<StreamingModule> m = seq.modules();
            if (!(m.get(0) instanceof EluLayer elu1) || !(m.get(1) instanceof Conv1dLayer conv1)
                    || !(m.get(2) instanceof EluLayer elu2) || !(m.get(3) instanceof Conv1dLayer conv2)) {
                return null;
            }
            if (conv1.stride() != 1 || conv1.groups() != 1 || !pointwise(conv2)
                    || conv2.inChannels() != conv1.outChannels() || conv2.outChannels() != conv1.inChannels()) {
                return null;
            }
            FusedResidual.Conv s = null;
            if (shortcut != null) {
                if (!(shortcut instanceof Conv1dLayer sc) || !pointwise(sc)
                        || sc.inChannels() != conv1.inChannels() || sc.outChannels() != conv1.inChannels()) {
                    return null;
                }
                s = spec(sc);
            }
            return new Fusable(elu1.alpha(), conv1, spec(conv1), elu2.alpha(), spec(conv2), s);
        }

        private static boolean pointwise(Conv1dLayer c) {
            return c.kernel() == 1 && c.stride() == 1 && c.groups() == 1;
        }

        private static FusedResidual.Conv spec(Conv1dLayer c) {
            return new FusedResidual.Conv(c.weightShared(), c.biasShared(), c.inChannels(), c.outChannels(), c.kernel(), c.dilation());
        }
    }

    @Override
    public float[][] forward(CpuContext ctx, float[][] x) {
        float[][] fused = fusedForward(ctx, x, Float.NaN, 0, 0);
        if (fused != null) {
            return fused;
        }
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

    /**
     * {@code elu(forward(x))} with {@code alpha}, written into the interior {@code [left, left + len)}
     * of rows of {@code left + len + right} columns whose edges are left zero (for the caller's pad
     * rule), as {@link CpuOps#eluIntoPadded} of the forward: the input of the conv after the block's
     * ELU, without storing the block's output when the block runs fused.
     */
    float[][] forwardEluPadded(CpuContext ctx, float[][] x, float alpha, int left, int right) {
        float[][] fused = fusedForward(ctx, x, alpha, left, right);
        if (fused != null) {
            return fused;
        }
        float[][] y = forward(ctx, x);
        if (left == 0 && right == 0 && y != x) {
            CpuOps.eluInPlace(ctx, y, alpha); // the forward's output is a fresh tensor
            return y;
        }
        return CpuOps.eluIntoPadded(ctx, y, alpha, left, right);
    }

    /** The block by {@link FusedResidual}, or null where it does not run so (the caller runs the ops one by one). */
    private float[][] fusedForward(CpuContext ctx, float[][] x, float outAlpha, int outLeft, int outRight) {
        int len = Frames.length(x);
        if (fusable == null || x.length != fusable.c1().cin() || !FusedResidual.suits(ctx, x.length, fusable.c1().cout(), len)) {
            return null;
        }
        for (float[] row : x) {
            if (row.length != len) {
                return null;
            }
        }
        Conv1dLayer conv1 = fusable.conv1();
        int left = conv1.leftPadding();
        int right = conv1.rightPadding(len);
        PadMode pad = conv1.padMode();
        if (!pad.padsInPlace(len, left, right) || left + right != conv1.span() - 1) {
            return null;
        }
        // the values the pad rule puts at conv1's padded columns (before its ELU, which commutes with padding)
        float[][] leftEdge = new float[x.length][left];
        float[][] rightEdge = new float[x.length][right];
        for (int c = 0; c < x.length; c++) {
            for (int q = 0; q < left; q++) {
                leftEdge[c][q] = pad.leftValue(x[c], len, left - q);
            }
            for (int i = 0; i < right; i++) {
                rightEdge[c][i] = pad.rightValue(x[c], len, i + 1);
            }
        }
        return FusedResidual.forward(ctx, x, leftEdge, rightEdge, fusable.alpha1(), fusable.c1(), fusable.alpha2(),
                fusable.c2(), fusable.shortcut(), outAlpha, outLeft, outRight);
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
