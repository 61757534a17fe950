package io.vocodex.nn;

/** Marker for the explicit per-stream state of a {@link StreamingModule}. */
public interface ModuleState {
}
