package io.vocodex.audio;

/**
 * The decoded contents of an audio file of any supported container: one float array per channel
 * (integer sources scaled to [-1, 1)), the file's sample rate and what it was.
 *
 * @param channels   samples {@code [channel][frame]}; every channel has the same length
 * @param sampleRate frames per second of the file
 * @param container  {@code wav}, {@code flac}, {@code mp3} or {@code ogg}
 * @param encoding   the codec inside, e.g. {@code pcm_s16le}, {@code flac_s24}, {@code mp3}, {@code vorbis}
 */
public record DecodedAudio(float[][] channels, int sampleRate, String container, String encoding) {
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
