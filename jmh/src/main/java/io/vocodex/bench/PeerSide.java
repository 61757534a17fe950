package io.vocodex.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vocodex.Audio;
import io.vocodex.Codec;
import io.vocodex.Device;
import io.vocodex.StreamingEncoder;
import io.vocodex.Tokens;
import io.vocodex.backend.cpu.CodebookSearch;
import io.vocodex.backend.cpu.CpuContext;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;

/**
 * The Vocodex side of the Mimi and DistilCodec peer benchmarks ({@code scripts/bench-peers}): writes
 * the model folder and input the peers load, and times what {@code vocodex bench} does not (the
 * streaming step, the codebook search alone). Three commands, each printing one JSON line (the
 * protocol of {@code vocodex bench}: warm-up iterations, then timed ones; median, min, all):
 *
 * <pre>
 *   java --add-modules jdk.incubator.vector -cp jmh/target/benchmarks.jar io.vocodex.bench.PeerSide write --codec mimi --out DIR [--seconds 10]
 *   java --add-modules jdk.incubator.vector -cp jmh/target/benchmarks.jar io.vocodex.bench.PeerSide write --codec distilcodec --config released|tiny --out DIR
 *   java --add-modules jdk.incubator.vector -cp jmh/target/benchmarks.jar io.vocodex.bench.PeerSide stream --model DIR [--threads N] [--bandwidth 1.1]
 *        [--prefill 130] [--steps 25] [--iterations 5] [--warmup 2]
 *   java --add-modules jdk.incubator.vector -cp jmh/target/benchmarks.jar io.vocodex.bench.PeerSide search [--codes 32768] [--dim 3584] [--frames 938]
 *        [--threads N] [--iterations 5] [--warmup 2]
 * </pre>
 *
 * <p>{@code write} puts under DIR: {@code model/} (config.json + model.safetensors with the original
 * tensor names: the very folder the JMH benchmarks write, {@link BenchModels}, seed 42),
 * {@code input.npy} (float32 [N]: 0.1 x gaussian from {@code java.util.Random(1234)}, the recipe of
 * {@code vocodex bench}), {@code vocodex_codes.npy} (int32 [K, T]: Vocodex's batch codes of that
 * input) and {@code peer.json} (sizes). The PyTorch and ONNX Runtime peers encode {@code input.npy}
 * and report the fraction of their codes equal to {@code vocodex_codes.npy}.
 *
 * <p>{@code stream}: a streaming encoder is fed {@code prefill} frames of the 10 s input (looped,
 * as {@code StreamBench} does: 130 Mimi frames fill the transformers' 250-slot KV rings), then each
 * iteration times {@code steps} pushes of one frame; the result is ms per frame.
 * {@code search}: {@link CodebookSearch#nearest} of {@code frames} seeded random vectors against a
 * seeded random {@code codes x dim} codebook; reports ms per search and frames per second.
 */
public final class PeerSide {
    private PeerSide() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length == 0) {
            usage();
        }
        Map<String, String> o = options(Arrays.copyOfRange(args, 1, args.length));
        switch (args[0]) {
            case "write" -> write(o);
            case "stream" -> stream(o);
            case "search" -> search(o);
            default -> usage();
        }
    }

    private static void usage() {
        System.err.println("usage: PeerSide write --codec mimi|distilcodec [--config released|tiny] --out DIR [--seconds S]\n"
                + "       PeerSide stream --model DIR [--threads N] [--bandwidth KBPS] [--prefill F] [--steps S]"
                + " [--iterations I] [--warmup W]\n"
                + "       PeerSide search [--codes N] [--dim D] [--frames F] [--threads N] [--iterations I] [--warmup W]");
        System.exit(2);
    }

    private static Map<String, String> options(String[] args) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                usage();
            }
            m.put(args[i].substring(2), args[++i]);
        }
        return m;
    }

    private static int threads(Map<String, String> o) {
        return Integer.parseInt(o.getOrDefault("threads", String.valueOf(Runtime.getRuntime().availableProcessors())));
    }

    private static void write(Map<String, String> o) throws IOException {
        String codecName = o.getOrDefault("codec", "");
        String config = o.getOrDefault("config", "released");
        Path out = Path.of(o.getOrDefault("out", ""));
        double seconds = Double.parseDouble(o.getOrDefault("seconds", "10"));
        Path model = out.resolve("model");
        Files.createDirectories(model);
        double bandwidth;
        switch (codecName) {
            case "mimi" -> {
                BenchModels.writeMimi(model);
                bandwidth = MimiBench.KBPS;
                config = "mimi";
            }
            case "distilcodec" -> {
                BenchModels.writeDistilCodec(config, model);
                bandwidth = 1.0;
            }
            default -> throw new IllegalArgumentException("--codec mimi|distilcodec, got " + codecName);
        }
        try (Codec codec = Codec.load(model, Device.cpu(threads(o)))) {
            int samples = (int) Math.round(seconds * codec.sampleRate());
            Audio audio = BenchModels.noise(samples, codec.sampleRate(), 1234);
            Tokens t = codec.encode(audio, bandwidth);
            int[][] codes = t.codes();
            writeNpy(out.resolve("input.npy"), "<f4", new int[] {samples}, audio.samples(), null);
            writeNpy(out.resolve("vocodex_codes.npy"), "<i4", new int[] {codes.length, codes[0].length}, null, codes);
            ObjectNode meta = new ObjectMapper().createObjectNode();
            meta.put("source", "io.vocodex.bench.PeerSide write");
            meta.put("codec", codecName);
            meta.put("config", config);
            meta.put("weights_seed", 42);
            meta.put("input", "0.1 x gaussian, java.util.Random(1234)");
            meta.put("seconds", seconds);
            meta.put("samples", samples);
            meta.put("sample_rate", codec.sampleRate());
            meta.put("bandwidth", bandwidth);
            meta.put("n_codebooks", codes.length);
            meta.put("frames", codes[0].length);
            meta.put("hop_length", codec.hopLength());
            Files.writeString(out.resolve("peer.json"), meta.toPrettyString() + "\n");
            System.out.println(meta);
        }
    }

    private static void stream(Map<String, String> o) throws IOException {
        Path model = Path.of(o.getOrDefault("model", ""));
        int threads = threads(o);
        double bandwidth = Double.parseDouble(o.getOrDefault("bandwidth", String.valueOf(MimiBench.KBPS)));
        int prefill = Integer.parseInt(o.getOrDefault("prefill", String.valueOf(StreamBench.MIMI_PREFILL_FRAMES)));
        int steps = Integer.parseInt(o.getOrDefault("steps", "25"));
        int iterations = Integer.parseInt(o.getOrDefault("iterations", "5"));
        int warmup = Integer.parseInt(o.getOrDefault("warmup", "2"));
        try (Codec codec = Codec.load(model, Device.cpu(threads))) {
            int hop = codec.hopLength();
            Audio a = BenchModels.noise(10 * codec.sampleRate(), codec.sampleRate(), 1234);
            float[][] frames = new float[a.length() / hop][];
            for (int i = 0; i < frames.length; i++) {
                frames[i] = Arrays.copyOfRange(a.samples(), i * hop, (i + 1) * hop);
            }
            double[] ms = new double[iterations];
            int next = 0;
            try (StreamingEncoder enc = codec.streamingEncoder(bandwidth)) {
                for (int i = 0; i < prefill; i++) {
                    enc.push(frames[next]);
                    next = (next + 1) % frames.length;
                }
                for (int it = -warmup; it < iterations; it++) {
                    long t0 = System.nanoTime();
                    for (int s = 0; s < steps; s++) {
                        enc.push(frames[next]);
                        next = (next + 1) % frames.length;
                    }
                    if (it >= 0) {
                        ms[it] = (System.nanoTime() - t0) / 1e6 / steps;
                    }
                }
            }
            ObjectNode r = result("stream_step", threads, ms);
            r.put("frame_samples", hop);
            r.put("frame_ms", 1000.0 * hop / codec.sampleRate());
            r.put("prefill_frames", prefill);
            r.put("steps_per_iteration", steps);
            r.put("bandwidth", bandwidth);
            System.out.println(r);
        }
    }

    private static void search(Map<String, String> o) {
        int codes = Integer.parseInt(o.getOrDefault("codes", "32768"));
        int dim = Integer.parseInt(o.getOrDefault("dim", "3584"));
        int frames = Integer.parseInt(o.getOrDefault("frames", "938"));
        int threads = threads(o);
        int iterations = Integer.parseInt(o.getOrDefault("iterations", "5"));
        int warmup = Integer.parseInt(o.getOrDefault("warmup", "2"));
        Random r = new Random(7);
        float[] codebook = new float[codes * dim];
        for (int i = 0; i < codebook.length; i++) {
            codebook[i] = (float) r.nextGaussian();
        }
        float[][] x = new float[frames][dim];
        for (float[] row : x) {
            for (int d = 0; d < dim; d++) {
                row[d] = (float) r.nextGaussian();
            }
        }
        float[] norms = CodebookSearch.codeNorms(codebook, codes, dim);
        // packed once, as the model does at load (the row-major overload packs on every call)
        CodebookSearch.TiledCodebook book = CodebookSearch.pack(codebook, norms, codes, dim);
        codebook = null;
        double[] ms = new double[iterations];
        try (CpuContext ctx = new CpuContext(threads)) {
            for (int it = -warmup; it < iterations; it++) {
                long t0 = System.nanoTime();
                CodebookSearch.nearest(ctx, x, book);
                if (it >= 0) {
                    ms[it] = (System.nanoTime() - t0) / 1e6;
                }
            }
        }
        ObjectNode res = result("search", threads, ms);
        res.put("codes", codes);
        res.put("dim", dim);
        res.put("frames", frames);
        res.put("frames_per_s", round3(frames / (res.get("search_ms_median").asDouble() / 1e3)));
        res.put("gflops", round3(2.0 * frames * codes * dim / (res.get("search_ms_median").asDouble() / 1e3) / 1e9));
        System.out.println(res);
    }

    private static ObjectNode result(String op, int threads, double[] ms) {
        ObjectNode r = new ObjectMapper().createObjectNode();
        r.put("peer", "vocodex");
        r.put("threads", threads);
        r.put("iterations", ms.length);
        double[] s = ms.clone();
        Arrays.sort(s);
        int m = s.length / 2;
        r.put(op + "_ms_median", round3(s.length % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2));
        r.put(op + "_ms_min", round3(s[0]));
        ArrayNode all = r.putArray(op + "_ms_all");
        for (double v : ms) {
            all.add(round3(v));
        }
        r.put("java", System.getProperty("java.version"));
        return r;
    }

    private static double round3(double v) {
        return Math.round(v * 1000) / 1000.0;
    }

    /** NumPy .npy version 1.0, C order: {@code floats} for "<f4" (1-D), {@code ints} for "<i4" (2-D). */
    static void writeNpy(Path file, String descr, int[] shape, float[] floats, int[][] ints) {
        StringBuilder sh = new StringBuilder("(");
        for (int d : shape) {
            sh.append(d).append(", ");
        }
        String shapeText = shape.length == 1 ? "(" + shape[0] + ",)" : sh.substring(0, sh.length() - 2) + ")";
        StringBuilder header = new StringBuilder("{'descr': '" + descr + "', 'fortran_order': False, 'shape': "
                + shapeText + ", }");
        while ((10 + header.length() + 1) % 64 != 0) {
            header.append(' ');
        }
        header.append('\n');
        long count = 1;
        for (int d : shape) {
            count *= d;
        }
        ByteBuffer b = ByteBuffer.allocate(10 + header.length() + (int) (4 * count)).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
        b.putShort((short) header.length()).put(header.toString().getBytes(StandardCharsets.US_ASCII));
        if (floats != null) {
            for (float v : floats) {
                b.putFloat(v);
            }
        } else {
            for (int[] row : ints) {
                for (int v : row) {
                    b.putInt(v);
                }
            }
        }
        try {
            Files.write(file, b.array());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
