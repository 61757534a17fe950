package io.vocodex.peers;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vocodex.Audio;
import io.vocodex.Codec;
import io.vocodex.Device;

import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;

/**
 * ONNX Runtime (CPU execution provider) peer for the EnCodec, Mimi and DistilCodec benchmarks:
 * times encode.onnx (audio float32 [1, 1, N] -> codes int64 [1, K, T]) and decode.onnx (codes ->
 * audio [1, 1, S]) made by {@code scripts/export_{encodec,mimi,distilcodec}_onnx.py} and prints ONE
 * JSON line:
 *
 * <pre>
 * {"peer":"onnxruntime","model":"encodec24k","ort":..., "threads":N, "encode_ms_median":..., "encode_ms_min":...,
 *  "encode_ms_all":[...], "decode_ms_median":..., ..., "codes_equal_fraction":...}
 * </pre>
 *
 * <p>Threads: intra-op pool = N, inter-op = 1, sequential execution, all graph optimisations.
 * Input: seeded noise (0.1 x gaussian, {@code java.util.Random(1234)}, the recipe of
 * {@code vocodex bench}), or with {@code --peer-dir DIR} (written by
 * {@code io.vocodex.bench.PeerSide write}) that same noise read from {@code DIR/input.npy}.
 * Cross-check, to show that both engines run the same model: with {@code --vocodex-model DIR} (the
 * Vocodex folder imported from the same weights) it encodes the input with Vocodex; with
 * {@code --peer-dir} it reads Vocodex's codes from {@code DIR/vocodex_codes.npy}; either way it
 * reports the fraction of identical codes.
 *
 * <pre>
 *   java -jar peers/target/vocodex-peers.jar --onnx DIR [--threads N] [--iterations I] [--warmup W]
 *        [--vocodex-model DIR | --peer-dir DIR]
 * </pre>
 */
public final class OnnxRuntimePeer {
    private OnnxRuntimePeer() {
    }

    public static void main(String[] args) throws Exception {
        Path onnxDir = null;
        Path vocodexModel = null;
        Path peerDir = null;
        int threads = 1;
        int iterations = 5;
        int warmup = 2;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--onnx" -> onnxDir = Path.of(args[++i]);
                case "--vocodex-model" -> vocodexModel = Path.of(args[++i]);
                case "--peer-dir" -> peerDir = Path.of(args[++i]);
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--iterations" -> iterations = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                default -> {
                    System.err.println("usage: --onnx DIR [--threads N] [--iterations I] [--warmup W] [--vocodex-model DIR | --peer-dir DIR]");
                    System.exit(2);
                }
            }
        }
        if (onnxDir == null) {
            System.err.println("--onnx DIR is required (made by scripts/export_{encodec,mimi,distilcodec}_onnx.py)");
            System.exit(2);
        }
        ObjectMapper om = new ObjectMapper();
        JsonNode meta = om.readTree(Files.readString(onnxDir.resolve("onnx.json")));
        int samples = meta.get("samples").asInt();
        int sampleRate = meta.get("sample_rate").asInt();
        double bandwidth = meta.get("bandwidth").asDouble();
        String model = meta.has("model") ? meta.get("model").asText() : "encodec24k";

        float[] pcm;
        int[][] vocodexCodes = null;
        if (peerDir != null) {
            pcm = Npy.readFloats(peerDir.resolve("input.npy"));
            vocodexCodes = Npy.readInts2d(peerDir.resolve("vocodex_codes.npy"));
            if (pcm.length != samples) {
                throw new IllegalArgumentException(peerDir.resolve("input.npy") + " holds " + pcm.length
                        + " samples; the ONNX graphs were exported for " + samples);
            }
        } else {
            pcm = new float[samples];
            Random rng = new Random(1234);
            for (int i = 0; i < pcm.length; i++) {
                pcm[i] = (float) (0.1 * rng.nextGaussian());
            }
        }

        OrtEnvironment env = OrtEnvironment.getEnvironment();
        double[] enc = new double[iterations];
        double[] dec = new double[iterations];
        long[] codesFlat;
        long[] codesShape;
        long decodedSamples;
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            so.setIntraOpNumThreads(threads);
            so.setInterOpNumThreads(1);
            so.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            try (OrtSession encS = env.createSession(onnxDir.resolve("encode.onnx").toString(), so);
                 OrtSession decS = env.createSession(onnxDir.resolve("decode.onnx").toString(), so);
                 OnnxTensor audio = OnnxTensor.createTensor(env, FloatBuffer.wrap(pcm), new long[] {1, 1, samples})) {
                String encIn = encS.getInputNames().iterator().next();
                String decIn = decS.getInputNames().iterator().next();
                codesFlat = null;
                codesShape = null;
                decodedSamples = 0;
                for (int it = -warmup; it < iterations; it++) {
                    long t0 = System.nanoTime();
                    long[] flat;
                    long[] shape;
                    try (OrtSession.Result r = encS.run(Map.of(encIn, audio))) {
                        OnnxTensor codes = (OnnxTensor) r.get(0);
                        shape = codes.getInfo().getShape();
                        LongBuffer lb = codes.getLongBuffer();
                        flat = new long[lb.remaining()];
                        lb.get(flat);
                    }
                    long t1 = System.nanoTime();
                    try (OnnxTensor codes = OnnxTensor.createTensor(env, LongBuffer.wrap(flat), shape);
                         OrtSession.Result r = decS.run(Map.of(decIn, codes))) {
                        OnnxTensor y = (OnnxTensor) r.get(0);
                        decodedSamples = y.getInfo().getShape()[2];
                        y.getFloatBuffer();
                    }
                    long t2 = System.nanoTime();
                    if (it >= 0) {
                        enc[it] = (t1 - t0) / 1e6;
                        dec[it] = (t2 - t1) / 1e6;
                    }
                    codesFlat = flat;
                    codesShape = shape;
                }
            }
        }

        ObjectNode o = om.createObjectNode();
        o.put("peer", "onnxruntime");
        o.put("model", model);
        o.put("ort", env.getVersion());
        o.put("provider", "CPUExecutionProvider");
        o.put("threads", threads);
        o.put("seconds", samples / (double) sampleRate);
        o.put("bandwidth", bandwidth);
        o.put("n_codebooks", codesShape[1]);
        o.put("frames", codesShape[2]);
        o.put("decoded_samples", decodedSamples);
        o.put("iterations", iterations);
        put(o, "encode", enc);
        put(o, "decode", dec);
        o.put("onnx_export", meta.get("source").asText() + ", opset " + meta.get("opset").asInt() + ", torch "
                + meta.get("torch").asText() + ", static shapes");
        if (vocodexModel != null) {
            try (Codec codec = Codec.load(vocodexModel, Device.cpu(threads))) {
                vocodexCodes = codec.encode(Audio.of(pcm, sampleRate), bandwidth).codes();
            }
        }
        if (vocodexCodes != null) {
            int[][] c = vocodexCodes;
            int k = (int) codesShape[1];
            int n = (int) codesShape[2];
            long same = 0;
            long total = (long) k * n;
            if (c.length == k && c[0].length == n) {
                for (int q = 0; q < k; q++) {
                    for (int f = 0; f < n; f++) {
                        if (c[q][f] == codesFlat[q * n + f]) {
                            same++;
                        }
                    }
                }
            }
            o.put("codes_equal_fraction", total == 0 ? 0 : same / (double) total);
            o.put("codes_first_codebook_equal_fraction", firstEqual(c, codesFlat, n));
        }
        o.put("java", System.getProperty("java.version"));
        System.out.println(o);
    }

    private static double firstEqual(int[][] c, long[] flat, int n) {
        if (c.length == 0 || c[0].length != n) {
            return 0;
        }
        int same = 0;
        for (int f = 0; f < n; f++) {
            if (c[0][f] == flat[f]) {
                same++;
            }
        }
        return same / (double) n;
    }

    private static void put(ObjectNode o, String op, double[] ms) {
        double[] s = ms.clone();
        Arrays.sort(s);
        int m = s.length / 2;
        double median = s.length % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2;
        o.put(op + "_ms_median", round3(median));
        o.put(op + "_ms_min", round3(s[0]));
        ArrayNode all = o.putArray(op + "_ms_all");
        for (double v : ms) {
            all.add(round3(v));
        }
    }

    private static double round3(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
