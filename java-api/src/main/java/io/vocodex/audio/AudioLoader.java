package io.vocodex.audio;

import io.vocodex.Audio;
import io.vocodex.VocodexException;

import java.nio.file.Path;

/**
 * Loads an audio file (WAV, FLAC, MP3 or Ogg Vorbis: see {@link AudioFiles}) as the mono audio a codec takes: channels are averaged, the rate is converted
 * with {@link Resampler} when allowed, and the result is checked to be non-empty and finite.
 *
 * <pre>{@code
 * Audio a = AudioLoader.load(Path.of("speech.wav"), codec.sampleRate(), ResampleMode.RESAMPLE);
 * }</pre>
 */
public final class AudioLoader {
    private AudioLoader() {
    }

    /** What was loaded: the mono audio at the target rate, and the file's own format. */
    public record Loaded(Audio audio, int sourceRate, int sourceChannels, int sourceFrames, String sourceEncoding) {
        public boolean resampled() {
            return sourceRate != audio.sampleRate();
        }
    }

    /** Mono audio at {@code targetRate} from {@code path}. */
    public static Audio load(Path path, int targetRate, ResampleMode mode) {
        return loadDetailed(path, targetRate, mode).audio();
    }

    /** Like {@link #load}, also reporting the source format (for tools that print what they did). */
    public static Loaded loadDetailed(Path path, int targetRate, ResampleMode mode) {
        if (targetRate < 1) {
            throw new VocodexException("target sample rate must be positive, got " + targetRate);
        }
        return prepare(AudioFiles.decode(path), path.toString(), targetRate, mode);
    }

    /**
     * The mono audio at {@code targetRate} of already decoded audio (downmix, resample, checks);
     * {@code name} is used in error messages.
     */
    public static Loaded prepare(DecodedAudio wav, String name, int targetRate, ResampleMode mode) {
        if (targetRate < 1) {
            throw new VocodexException("target sample rate must be positive, got " + targetRate);
        }
        if (wav.sampleRate() != targetRate && mode != ResampleMode.RESAMPLE) {
            throw new VocodexException(name + ": file is " + wav.sampleRate() + " Hz, the model takes " + targetRate
                    + " Hz; pass --resample (or resample it yourself)");
        }
        float[] mono = downmix(wav.channels());
        if (mono.length == 0) {
            throw new VocodexException(name + ": empty audio (0 samples)");
        }
        Audio.of(mono, wav.sampleRate()).requireFinite(name);
        if (wav.sampleRate() != targetRate) {
            mono = Resampler.resample(mono, wav.sampleRate(), targetRate);
        }
        Audio a = Audio.of(mono, targetRate);
        if (a.length() == 0) {
            throw new VocodexException(name + ": empty audio after resampling to " + targetRate + " Hz");
        }
        a.requireFinite(name);
        return new Loaded(a, wav.sampleRate(), wav.numChannels(), wav.numFrames(), wav.encoding());
    }

    /** The average of the channels (the channel itself when mono). */
    public static float[] downmix(float[][] channels) {
        if (channels.length == 1) {
            return channels[0];
        }
        int n = channels[0].length;
        float[] out = new float[n];
        int nc = channels.length;
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (float[] c : channels) {
                s += c[i];
            }
            out[i] = (float) (s / nc);
        }
        return out;
    }
}
