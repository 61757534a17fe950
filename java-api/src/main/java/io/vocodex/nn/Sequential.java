package io.vocodex.nn;

import io.vocodex.backend.cpu.CpuContext;
import io.vocodex.backend.cpu.CpuOps;

import java.util.List;

/** Modules applied one after another; the streaming state is the list of the children's states. */
public final class Sequential implements StreamingModule {
    private final List<StreamingModule> modules;

    public Sequential(List<StreamingModule> modules) {
        this.modules = List.copyOf(modules);
    }

    public List<StreamingModule> modules() {
        return modules;
    }

    @Override
    public float[][] forward(CpuContext ctx, float[][] x) {
        return forward(ctx, x, null);
    }

    /**
     * {@code addend + forward(x)} (as {@link CpuOps#addInto}), the sum fused into the last conv when
     * the sequence ends with one: a residual block's branch plus its shortcut in one pass.
     */
    public float[][] forwardPlus(CpuContext ctx, float[][] x, float[][] addend) {
        return forward(ctx, x, addend);
    }

    /**
     * The batch forward, with the elementwise ops beside a conv fused into it (the same values bit
     * for bit, see {@link CpuOps.ConvEpilogue}): an ELU before a conv is written straight into the
     * conv's padded input, an ELU after it runs on each output unit while it is in cache, and so does
     * the sum with {@code addend} (null: none) when the conv ends the sequence. A high-rate SEANet
     * layer otherwise makes a full pass over memory for each of them. Likewise a residual block
     * followed by an ELU (and a conv) applies the ELU to its output as it writes it, straight into the
     * conv's padded input.
     */
    private float[][] forward(CpuContext ctx, float[][] x, float[][] addend) {
        float[][] y = x;
        StreamingModule previous = null;
        int n = modules.size();
        boolean added = false;
        for (int i = 0; i < n; i++) {
            StreamingModule m = modules.get(i);
            StreamingModule next = i + 1 < n ? modules.get(i + 1) : null;
            boolean eluFirst = m instanceof EluLayer && next instanceof Conv1dLayer;
            // a residual block, its ELU, a conv: the block writes elu(its output) into the conv's padded input
            boolean residualFirst = m instanceof ResidualBlock && next instanceof EluLayer
                    && i + 2 < n && modules.get(i + 2) instanceof Conv1dLayer;
            if (m instanceof ResidualBlock rb && next instanceof EluLayer elu && !residualFirst) {
                y = rb.forwardEluPadded(ctx, y, elu.alpha(), 0, 0); // the ELU as the block's epilogue
                previous = next;
                i++;
            } else if (residualFirst || eluFirst || m instanceof Conv1dLayer) {
                int convAt = residualFirst ? i + 2 : eluFirst ? i + 1 : i;
                Conv1dLayer conv = (Conv1dLayer) modules.get(convAt);
                int after = convAt + 1; // the module after the conv
                CpuOps.ConvEpilogue epilogue = null;
                if (after < n && modules.get(after) instanceof EluLayer eluAfter) {
                    epilogue = CpuOps.ConvEpilogue.elu(eluAfter.alpha());
                    after++;
                }
                if (addend != null && after == n) {
                    epilogue = CpuOps.ConvEpilogue.chain(epilogue, CpuOps.ConvEpilogue.add(addend));
                    added = true;
                }
                if (residualFirst) {
                    y = conv.forwardEluOf(ctx, (ResidualBlock) m, y, ((EluLayer) next).alpha(), epilogue);
                } else {
                    y = eluFirst ? conv.forwardElu(ctx, y, ((EluLayer) m).alpha(), epilogue) : conv.forward(ctx, y, epilogue);
                }
                previous = modules.get(after - 1);
                i = after - 1;
            } else if (m instanceof EluLayer elu && y != x && returnsFreshTensor(previous)) {
                elu.forwardInPlace(ctx, y); // nothing else holds y: skip a copy of the whole tensor
                previous = m;
            } else {
                y = m.forward(ctx, y);
                previous = m;
            }
        }
        if (addend != null && !added) {
            // the sequence did not end with a conv: sum into its output when that is a fresh tensor
            y = y == x || y == addend || !returnsFreshTensor(previous) ? CpuOps.add(addend, y) : CpuOps.addInto(ctx, addend, y);
        }
        return y;
    }

    static final class State implements ModuleState {
        final ModuleState[] children;

        State(ModuleState[] children) {
            this.children = children;
        }
    }

    @Override
    public ModuleState newState() {
        ModuleState[] c = new ModuleState[modules.size()];
        for (int i = 0; i < c.length; i++) {
            c[i] = modules.get(i).newState();
        }
        return new State(c);
    }

    @Override
    public float[][] step(CpuContext ctx, ModuleState s, float[][] x) {
        State st = (State) s;
        float[][] y = x;
        for (int i = 0; i < modules.size(); i++) {
            y = modules.get(i).step(ctx, st.children[i], y);
        }
        return y;
    }

    @Override
    public float[][] flush(CpuContext ctx, ModuleState s) {
        State st = (State) s;
        float[][] carry = null;
        for (int i = 0; i < modules.size(); i++) {
            StreamingModule m = modules.get(i);
            float[][] fromStep = carry == null ? Frames.empty(m.outChannels()) : m.step(ctx, st.children[i], carry);
            carry = Frames.concat(fromStep, m.flush(ctx, st.children[i]));
        }
        return carry;
    }

    /** A streaming state made of the children's states, one per module in order. */
    public ModuleState restoreState(ModuleState... children) {
        if (children.length != modules.size()) {
            throw new IllegalArgumentException(children.length + " states for " + modules.size() + " modules");
        }
        return new State(children.clone());
    }

    @Override
    public int outChannels() {
        return modules.get(modules.size() - 1).outChannels();
    }

    /** Layers whose batch {@code forward} always allocates its output (so a following ELU may overwrite it). */
    private static boolean returnsFreshTensor(StreamingModule m) {
        return m instanceof Conv1dLayer || m instanceof ConvTranspose1dLayer || m instanceof ResidualBlock;
    }
}
