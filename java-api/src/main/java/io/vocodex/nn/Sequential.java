package io.vocodex.nn;

import io.vocodex.backend.cpu.CpuContext;

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
        float[][] y = x;
        StreamingModule previous = null;
        for (StreamingModule m : modules) {
            if (m instanceof EluLayer elu && y != x && returnsFreshTensor(previous)) {
                elu.forwardInPlace(ctx, y); // nothing else holds y: skip a copy of the whole tensor
            } else {
                y = m.forward(ctx, y);
            }
            previous = m;
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
