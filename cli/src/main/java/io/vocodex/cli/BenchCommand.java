package io.vocodex.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vocodex.Audio;
import io.vocodex.Codec;
import io.vocodex.Tokens;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Time encode and decode of seeded noise (0.1 x gaussian, seed 1234) at the model's rate.",
            "Prints one JSON line: {\"peer\":\"vocodex\",\"threads\",\"seconds\",\"bandwidth\",\"encode_ms_median\","
                    + "\"encode_ms_min\",\"decode_ms_median\",\"decode_ms_min\",\"encode_ms_all\",\"decode_ms_all\",\"java\",\"cpu_kernels\"}."})
final class BenchCommand extends BaseCommand {
    @Option(names = {"-m", "--model"}, required = true, paramLabel = "DIR", description = "Model folder.")
    Path model;

    @Option(names = {"-s", "--seconds"}, defaultValue = "10", paramLabel = "S",
            description = "Seconds of audio per iteration (default: ${DEFAULT-VALUE}).")
    double seconds;

    @Option(names = {"-b", "--bandwidth"}, defaultValue = "6", paramLabel = "KBPS",
            description = "Bandwidth in kbps (default: ${DEFAULT-VALUE}).")
    double bandwidth;

    @Option(names = {"-t", "--threads"}, paramLabel = "N",
            description = "CPU worker threads (default: all available processors).")
    Integer threads;

    @Option(names = {"-n", "--iterations"}, defaultValue = "5", paramLabel = "N",
            description = "Timed iterations (default: ${DEFAULT-VALUE}).")
    int iterations;

    @Option(names = "--warmup", defaultValue = "2", paramLabel = "N",
            description = "Untimed warm-up iterations first (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Override
    public Integer call() {
        if (!(seconds > 0) || Double.isInfinite(seconds)) {
            throw usage("--seconds must be positive, got " + seconds);
        }
        if (iterations < 1) {
            throw usage("--iterations must be >= 1, got " + iterations);
        }
        if (warmup < 0) {
            throw usage("--warmup must be >= 0, got " + warmup);
        }
        try (Codec codec = Codec.load(model, device(threads))) {
            long n = Math.round(seconds * codec.sampleRate());
            if (n < 1 || n > Integer.MAX_VALUE - 8) {
                throw usage("--seconds " + seconds + " gives " + n + " samples");
            }
            float[] pcm = new float[(int) n];
            Random rng = new Random(1234);
            for (int i = 0; i < pcm.length; i++) {
                pcm[i] = (float) (0.1 * rng.nextGaussian());
            }
            Audio audio = Audio.of(pcm, codec.sampleRate());
            double[] enc = new double[iterations];
            double[] dec = new double[iterations];
            for (int it = -warmup; it < iterations; it++) {
                long t0 = System.nanoTime();
                Tokens tokens = codec.encode(audio, bandwidth);
                long t1 = System.nanoTime();
                codec.decode(tokens);
                long t2 = System.nanoTime();
                if (it >= 0) {
                    enc[it] = (t1 - t0) / 1e6;
                    dec[it] = (t2 - t1) / 1e6;
                }
            }
            ObjectNode o = new ObjectMapper().createObjectNode();
            o.put("peer", "vocodex");
            o.put("threads", codec.device().threads());
            o.put("seconds", seconds);
            o.put("bandwidth", bandwidth);
            o.put("encode_ms_median", round3(median(enc)));
            o.put("encode_ms_min", round3(Arrays.stream(enc).min().orElseThrow()));
            o.put("decode_ms_median", round3(median(dec)));
            o.put("decode_ms_min", round3(Arrays.stream(dec).min().orElseThrow()));
            for (double v : enc) {
                o.withArray("encode_ms_all").add(round3(v));
            }
            for (double v : dec) {
                o.withArray("decode_ms_all").add(round3(v));
            }
            o.put("java", System.getProperty("java.version"));
            o.put("cpu_kernels", io.vocodex.backend.cpu.Simd.reason());
            out().println(o.toString());
            return 0;
        }
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int m = s.length / 2;
        return s.length % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2;
    }

    static double round3(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
