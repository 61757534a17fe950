package io.vocodex;

import java.util.Arrays;

/**
 * Mono PCM audio as 32-bit floats in [-1, 1] at a given sample rate.
 *
 * <pre>{@code
 * Audio a = Audio.of(samples, 24_000);
 * double seconds = a.durationSeconds();
 * }</pre>
 *
 * <p>The sample array is not copied; treat it as immutable once wrapped.
 */
public final class Audio {
    private final float[] samples;
    private final int sampleRate;

    private Audio(float[] samples, int sampleRate) {
        if (samples == null) {
            throw new VocodexException("audio samples are null");
        }
        if (sampleRate <= 0) {
            throw new VocodexException("sample rate must be positive, got " + sampleRate);
        }
        this.samples = samples;
        this.sampleRate = sampleRate;
    }

    /** Wraps {@code samples} (not copied) at {@code sampleRate} Hz. */
    public static Audio of(float[] samples, int sampleRate) {
        return new Audio(samples, sampleRate);
    }

    /** The samples (shared, not a copy). */
    public float[] samples() {
        return samples;
    }

    public int sampleRate() {
        return sampleRate;
    }

    public int length() {
        return samples.length;
    }

    public double durationSeconds() {
        return samples.length / (double) sampleRate;
    }

    /** A copy of samples {@code [from, to)}. */
    public Audio slice(int from, int to) {
        return new Audio(Arrays.copyOfRange(samples, from, to), sampleRate);
    }

    /**
     * Throws a {@link VocodexException} naming {@code source} if any sample is NaN or infinite:
     * a single NaN would silently poison every code of the clip.
     */
    public Audio requireFinite(String source) {
        for (int i = 0; i < samples.length; i++) {
            if (!Float.isFinite(samples[i])) {
                throw new VocodexException(source + ": sample " + i + " (t=" + String.format("%.4f", i / (double) sampleRate)
                        + " s) is " + samples[i] + "; audio must be finite");
            }
        }
        return this;
    }

    @Override
    public String toString() {
        return "Audio[" + samples.length + " samples @ " + sampleRate + " Hz]";
    }
}
