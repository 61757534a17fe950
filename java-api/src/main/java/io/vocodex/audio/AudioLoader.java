package io.vocodex.audio;

import io.vocodex.Audio;
import io.vocodex.VocodexException;

import java.nio.file.Path;

/**
 * Loads a WAV file as the mono audio a codec takes: channels are averaged, the rate is converted
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
        WavData wav = WavReader.read(path);
        if (wav.sampleRate() != targetRate && mode != ResampleMode.RESAMPLE) {
            throw new VocodexException(path + ": file is " + wav.sampleRate() + " Hz, the model takes " + targetRate
                    + " Hz; pass --resample (or resample it yourself)");
        }
        float[] mono = downmix(wav.channels());
        if (mono.length == 0) {
            throw new VocodexException(path + ": empty audio (0 samples)");
        }
        Audio.of(mono, wav.sampleRate()).requireFinite(path.toString());
        if (wav.sampleRate() != targetRate) {
            mono = Resampler.resample(mono, wav.sampleRate(), targetRate);
        }
        Audio a = Audio.of(mono, targetRate);
        if (a.length() == 0) {
            throw new VocodexException(path + ": empty audio after resampling to " + targetRate + " Hz");
        }
        a.requireFinite(path.toString());
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
