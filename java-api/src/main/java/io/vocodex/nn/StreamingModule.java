package io.vocodex.nn;

import io.vocodex.backend.cpu.CpuContext;

/**
 * A layer over channel-major activations {@code float[C][T]} with two modes that compute the
 * same numbers:
 * <ul>
 *   <li>{@link #forward}: the whole sequence at once (batch mode), exactly as the original model;</li>
 *   <li>{@link #step} / {@link #flush}: the sequence in arbitrary chunks over an explicit
 *       {@link ModuleState}. {@code step} returns every output sample that is already final (its
 *       whole receptive field has arrived); {@code flush} ends the stream and returns the rest,
 *       including whatever the original computes from end-of-sequence padding. The concatenation
 *       of all step outputs and the flush output equals {@code forward} of the concatenated input,
 *       bit for bit.</li>
 * </ul>
 * Modules are immutable and shared between threads; all mutable data lives in the state.
 */
public interface StreamingModule {
    /** Output for the whole input {@code x (Cin, T)}. */
    float[][] forward(CpuContext ctx, float[][] x);

    /** A fresh state for one stream. */
    ModuleState newState();

    /** Feeds {@code x (Cin, n)}, {@code n >= 0}; returns the outputs that became final {@code (Cout, m)}. */
    float[][] step(CpuContext ctx, ModuleState state, float[][] x);

    /** Ends the stream: returns the remaining outputs. The state must not be stepped afterwards. */
    float[][] flush(CpuContext ctx, ModuleState state);

    /** Output channel count. */
    int outChannels();
}
