package io.vocodex.audio;

/**
 * The decoded contents of a WAV file: one float array per channel, values scaled to [-1, 1)
 * for integer PCM (float files are passed through as stored), plus the file's format.
 *
 * @param channels      samples {@code [channel][frame]}; every channel has the same length
 * @param sampleRate    frames per second
 * @param bitsPerSample container bits per sample (8, 16, 24, 32 or 64)
 * @param encoding      {@code pcm_u8}, {@code pcm_s16le}, {@code pcm_s24le}, {@code pcm_s32le},
 *                      {@code pcm_f32le} or {@code pcm_f64le}
 */
public record WavData(float[][] channels, int sampleRate, int bitsPerSample, String encoding) {
    public int numChannels() {
        return channels.length;
    }

    /** Frames (samples per channel). */
    public int numFrames() {
        return channels.length == 0 ? 0 : channels[0].length;
    }

    public double durationSeconds() {
        return numFrames() / (double) sampleRate;
    }
}
