package io.vocodex.cli;

import io.vocodex.Audio;
import io.vocodex.Codec;
import io.vocodex.StreamingEncoder;
import io.vocodex.Tokens;
import io.vocodex.audio.AudioLoader;
import io.vocodex.audio.Npy;
import io.vocodex.audio.ResampleMode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

@Command(name = "encode", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Encode a WAV file into codes: an int32 .npy array of shape [codebooks, frames].",
            "The audio is mixed down to mono (channel average) and converted to the model's sample rate."})
final class EncodeCommand extends BaseCommand {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "DIR",
            description = "Model folder (config.json + model.safetensors), e.g. from 'vocodex import'.")
    Path model;

    @Parameters(index = "0", paramLabel = "IN.wav",
            description = "Input WAV: 8/16/24/32-bit PCM or 32/64-bit float, any channel count and sample rate.")
    Path input;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "CODES.npy",
            description = "Output codes, int32 [codebooks, frames].")
    Path output;

    @Option(names = {"-b", "--bandwidth"}, paramLabel = "KBPS", defaultValue = "6",
            description = "Target bandwidth in kbps; picks the number of codebooks (default: ${DEFAULT-VALUE}).")
    double bandwidth;

    @Option(names = "--chunk", paramLabel = "N",
            description = "Encode through the streaming encoder, N samples per push (the codes are identical "
                    + "to the whole-file encoding). Default: whole file at once.")
    Integer chunk;

    @Option(names = {"-t", "--threads"}, paramLabel = "N",
            description = "CPU worker threads (default: all available processors).")
    Integer threads;

    @Option(names = "--resample", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = {"--resample (the default): convert a file at another sample rate to the model's rate "
                    + "with a polyphase Kaiser-windowed sinc (beta 8.6, 64 zero crossings per side, cutoff at 0.94 "
                    + "of the lower Nyquist frequency, stopband >= 97 dB down).",
                "--no-resample: refuse such a file instead."})
    boolean resample;

    @Override
    public Integer call() {
        if (chunk != null && chunk < 1) {
            throw usage("--chunk must be >= 1, got " + chunk);
        }
        try (Codec codec = Codec.load(model, device(threads))) {
            AudioLoader.Loaded loaded = AudioLoader.loadDetailed(input, codec.sampleRate(),
                    resample ? ResampleMode.RESAMPLE : ResampleMode.REFUSE);
            Audio audio = loaded.audio();
            long t0 = System.nanoTime();
            Tokens tokens = chunk == null ? codec.encode(audio, bandwidth) : streamed(codec, audio, bandwidth, chunk);
            double secs = (System.nanoTime() - t0) / 1e9;
            Npy.writeInts(output, tokens.codes());
            String source = loaded.sourceChannels() + " ch " + loaded.sourceRate() + " Hz " + loaded.sourceEncoding()
                    + (loaded.resampled() ? ", resampled to " + codec.sampleRate() + " Hz" : "")
                    + (loaded.sourceChannels() > 1 ? ", downmixed" : "");
            err().printf("encoded %s (%s): %.3f s -> %d codebooks x %d frames at %s kbps in %.3f s "
                            + "(real-time factor %.4f)%s -> %s%n",
                    input, source, audio.durationSeconds(), tokens.numCodebooks(), tokens.numFrames(),
                    num(bandwidth), secs, secs / audio.durationSeconds(),
                    chunk == null ? "" : ", streamed in chunks of " + chunk, output);
            return 0;
        }
    }

    /** Feeds {@code audio} through a streaming encoder {@code chunk} samples at a time. */
    static Tokens streamed(Codec codec, Audio audio, double bandwidth, int chunk) {
        float[] pcm = audio.samples();
        List<Tokens> parts = new ArrayList<>();
        try (StreamingEncoder enc = codec.streamingEncoder(bandwidth)) {
            for (int i = 0; i < pcm.length; i += chunk) {
                parts.add(enc.push(Arrays.copyOfRange(pcm, i, Math.min(pcm.length, i + chunk))));
            }
            parts.add(enc.flush());
        }
        return concat(parts, codec);
    }

    static Tokens concat(List<Tokens> parts, Codec codec) {
        int k = 0;
        int frames = 0;
        for (Tokens t : parts) {
            if (t.numFrames() > 0) {
                k = Math.max(k, t.numCodebooks());
                frames += t.numFrames();
            }
        }
        int[][] codes = new int[k][frames];
        int at = 0;
        for (Tokens t : parts) {
            if (t.numFrames() == 0) {
                continue;
            }
            for (int q = 0; q < k; q++) {
                System.arraycopy(t.codes()[q], 0, codes[q], at, t.numFrames());
            }
            at += t.numFrames();
        }
        return new Tokens(codes, codec.frameRate(), codec.codebookSize());
    }
}
