package io.vocodex.audio;

/** What {@link AudioLoader} does when a file's sample rate differs from the one wanted. */
public enum ResampleMode {
    /** Convert with {@link Resampler} (band-limited, Kaiser-windowed sinc). */
    RESAMPLE,
    /** Refuse with a {@link io.vocodex.VocodexException} naming both rates. */
    REFUSE
}
