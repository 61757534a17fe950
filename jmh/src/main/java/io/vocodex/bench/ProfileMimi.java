package io.vocodex.bench;

import io.vocodex.Audio;
import io.vocodex.Codec;
import io.vocodex.Device;
import io.vocodex.backend.cpu.CpuContext;
import io.vocodex.backend.cpu.PackedLinear;
import io.vocodex.backend.cpu.TransformerOps;
import io.vocodex.codec.mimi.MimiConfig;
import io.vocodex.codec.mimi.MimiModel;
import io.vocodex.codec.mimi.MimiRandom;
import io.vocodex.codec.mimi.MimiTransformer;
import io.vocodex.nn.ModuleState;
import io.vocodex.nn.StreamingModule;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;

/**
 * Where the time goes in Mimi: the published architecture ({@link MimiConfig#mimi()}, random
 * weights) on 10 s of noise, printing milliseconds (best of 3, after one untimed encode + decode) per SEANet layer, for the encoder
 * transformer, the downsampling conv and the quantizer in batch mode, and the same for the decoder
 * (quantizer lookup, upsampling conv, decoder transformer, SEANet decoder layer by layer); then the transformer's ops
 * alone at the batch shape (250 rows) and the streaming shape (2 rows, 250 cached keys), scaled to
 * one transformer pass; then one streaming encoder step split into its stages (mean over 20
 * frames after 130 frames of warm-up, so the KV caches are full).
 *
 * <pre>
 *   java --add-modules jdk.incubator.vector -cp jmh/target/benchmarks.jar io.vocodex.bench.ProfileMimi [threads]
 * </pre>
 */
public final class ProfileMimi {
    private ProfileMimi() {
    }

    public static void main(String[] args) throws Exception {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 1;
        MimiConfig config = MimiConfig.mimi();
        Path dir = Files.createTempDirectory("vocodex-profile-mimi");
        MimiRandom.writeModelFolder(config, 42, dir);
        try (Codec codec = Codec.load(dir, Device.cpu(threads)); CpuContext ctx = new CpuContext(threads)) {
            MimiModel m = (MimiModel) codec.model();
            Random r = new Random(1234);
            float[] x = new float[10 * config.sampleRate()];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (0.1 * r.nextGaussian());
            }
            // one untimed encode + decode first, so that no line times the JIT compiling a kernel
            codec.decode(codec.encode(Audio.of(x, config.sampleRate()), 1.1));
            System.out.println("batch encode (10 s, " + threads + " thread(s))");
            float[][] h = ProfileEncodec.run(ctx, m.encoderModules(), new float[][] {x});
            float[][] seanet = h;
            float[][] tr = time("encoder transformer (8 layers, 250 rows)", () -> m.encoderTransformer(ctx, seanet));
            float[][] latent = time("downsample conv", () -> m.downsampleLayer().forward(ctx, tr));
            int[][] codes = time("quantizer encode (8 codebooks)", () -> m.quantizer().encode(ctx, latent, 8));

            System.out.println("batch decode (10 s, " + threads + " thread(s))");
            float[][] quantized = time("quantizer decode (8 codebooks)", () -> m.decodeLatent(ctx, codes));
            float[][] up = time("upsample conv (transposed)", () -> m.upsample(ctx, quantized));
            float[][] dtr = time("decoder transformer (8 layers, 250 rows)", () -> m.decoderTransformer(ctx, up));
            ProfileEncodec.run(ctx, m.decoderModules(), dtr);

            MimiConfig.Transformer t = config.transformer();
            transformerOps(ctx, t, 250, "batch");
            transformerOps(ctx, t, 2, "streaming step");

            System.out.println("streaming encode step (one 1920-sample frame; mean of 20 after 130 frames)");
            streaming(ctx, m, x);
        } finally {
            try (var files = Files.list(dir)) {
                for (Path p : (Iterable<Path>) files::iterator) {
                    Files.delete(p);
                }
            }
            Files.delete(dir);
        }
    }

    /** Each transformer op at {@code rows} rows (keys: the last 250 positions), times its count in one 8-layer pass. */
    static void transformerOps(CpuContext ctx, MimiConfig.Transformer t, int rows, String label) {
        int d = t.dModel();
        int ff = t.dimFeedforward();
        int layers = t.numLayers();
        int keys = t.context();
        Random r = new Random(7);
        float[][] x = randomRows(r, rows, d);
        float[][] xf = randomRows(r, rows, ff);
        PackedLinear wQkv = PackedLinear.pack(randomFloats(r, 3 * d * d), 3 * d, d);
        PackedLinear wOut = PackedLinear.pack(randomFloats(r, d * d), d, d);
        PackedLinear w1 = PackedLinear.pack(randomFloats(r, ff * d), ff, d);
        PackedLinear w2 = PackedLinear.pack(randomFloats(r, d * ff), d, ff);
        float[] ln = randomFloats(r, d);
        float[][] q = randomRows(r, rows, d);
        float[][] kv = randomRows(r, keys, d);
        int[] lo = new int[rows];
        int[] hi = new int[rows];
        for (int i = 0; i < rows; i++) {
            hi[i] = keys - rows + i;
            lo[i] = Math.max(0, hi[i] - keys + 1);
        }
        System.out.printf("transformer ops, %s shape (%d rows; ms per 8-layer pass)%n", label, rows);
        double total = 0;
        total += layers * timeOp("layer norm x2", 2, () -> TransformerOps.layerNorm(ctx, x, ln, ln, 1e-5));
        total += layers * timeOp("linear in_proj (3D x D)", 1, () -> TransformerOps.linearRows(ctx, x, wQkv));
        total += layers * timeOp("rope (q and k)", 2, () -> {
            TransformerOps.ropeInPlace(q, 0, t.numHeads(), t.headDim(), 1000, t.maxPeriod());
            return q;
        });
        if (rows == keys) {
            total += layers * timeOp("attention (" + keys + " keys)", 1,
                    () -> TransformerOps.attention(ctx, q, 0, kv, 0, kv, 0, t.numHeads(), t.headDim(), lo, hi));
        } else {
            // a stream's queries read its ring KV cache directly
            TransformerOps.KeyValueColumns ring = new TransformerOps.KeyValueColumns(t.numHeads(), t.headDim(), keys);
            for (int j = 0; j < keys; j++) {
                ring.put(j, kv[j], 0, kv[j], 0);
            }
            float[][] att = new float[rows][d];
            total += layers * timeOp("attention (" + keys + " cached keys)", 1, () -> {
                ctx.parallelFor(rows * t.numHeads(), 1L << 20, u -> TransformerOps.attendHead(q[u / t.numHeads()], 0, ring,
                        u % t.numHeads(), lo[u / t.numHeads()], hi[u / t.numHeads()] - lo[u / t.numHeads()] + 1,
                        new double[keys], new double[t.headDim()], att[u / t.numHeads()]));
                return att;
            });
        }
        total += layers * timeOp("linear out_proj (D x D)", 1, () -> TransformerOps.linearRows(ctx, x, wOut));
        total += layers * timeOp("linear1 (FF x D)", 1, () -> TransformerOps.linearRows(ctx, x, w1));
        total += layers * timeOp("gelu (FF)", 1, () -> {
            TransformerOps.geluInPlace(ctx, xf, 0, xf.length);
            return xf;
        });
        total += layers * timeOp("linear2 (D x FF)", 1, () -> TransformerOps.linearRows(ctx, xf, w2));
        System.out.printf("  %-40s %8.2f ms%n", "sum of ops x " + layers + " layers", total);
    }

    /** Best-of-5 time of {@code op} times {@code count}, printed per layer and returned. */
    static double timeOp(String name, int count, Supplier<Object> op) {
        double best = Double.MAX_VALUE;
        for (int rep = 0; rep < 5; rep++) {
            long t0 = System.nanoTime();
            op.get();
            best = Math.min(best, (System.nanoTime() - t0) / 1e6);
        }
        System.out.printf("  %-40s %8.3f ms per layer%n", name, best * count);
        return best * count;
    }

    static <T> T time(String name, Supplier<T> op) {
        T out = null;
        double best = Double.MAX_VALUE;
        for (int rep = 0; rep < 3; rep++) {
            long t0 = System.nanoTime();
            out = op.get();
            best = Math.min(best, (System.nanoTime() - t0) / 1e6);
        }
        System.out.printf("  %-40s %8.1f ms%n", name, best);
        return out;
    }

    static void streaming(CpuContext ctx, MimiModel m, float[] audio) {
        List<StreamingModule> seanet = m.encoderModules();
        ModuleState[] states = new ModuleState[seanet.size()];
        for (int i = 0; i < states.length; i++) {
            states[i] = seanet.get(i).newState();
        }
        MimiTransformer.Stream tr = m.encoderTransformerModule().newStream();
        ModuleState down = m.downsampleLayer().newState();
        int hop = m.hopLength();
        int warm = 130;
        int measured = 20;
        double[] seanetNs = new double[seanet.size()];
        double trNs = 0;
        double downNs = 0;
        double rvqNs = 0;
        for (int f = 0; f < warm + measured; f++) {
            int start = (f * hop) % (audio.length - hop);
            float[][] h = {java.util.Arrays.copyOfRange(audio, start, start + hop)};
            boolean count = f >= warm;
            for (int i = 0; i < states.length; i++) {
                long t0 = System.nanoTime();
                h = seanet.get(i).step(ctx, states[i], h);
                if (count) {
                    seanetNs[i] += System.nanoTime() - t0;
                }
            }
            long t0 = System.nanoTime();
            h = tr.step(ctx, h);
            long t1 = System.nanoTime();
            h = m.downsampleLayer().step(ctx, down, h);
            long t2 = System.nanoTime();
            m.quantizer().encode(ctx, h, 8);
            long t3 = System.nanoTime();
            if (count) {
                trNs += t1 - t0;
                downNs += t2 - t1;
                rvqNs += t3 - t2;
            }
        }
        double seanetTotal = 0;
        for (int i = 0; i < seanetNs.length; i++) {
            double ms = seanetNs[i] / measured / 1e6;
            seanetTotal += ms;
            System.out.printf("  %2d %-37s %8.3f ms%n", i, seanet.get(i).getClass().getSimpleName(), ms);
        }
        System.out.printf("  %-40s %8.3f ms%n", "SEANet total", seanetTotal);
        System.out.printf("  %-40s %8.3f ms%n", "encoder transformer (2 positions)", trNs / measured / 1e6);
        System.out.printf("  %-40s %8.3f ms%n", "downsample conv", downNs / measured / 1e6);
        System.out.printf("  %-40s %8.3f ms%n", "quantizer (8 codebooks)", rvqNs / measured / 1e6);
        System.out.printf("  %-40s %8.3f ms%n", "step total",
                seanetTotal + (trNs + downNs + rvqNs) / measured / 1e6);
    }

    static float[][] randomRows(Random r, int rows, int cols) {
        float[][] x = new float[rows][];
        for (int i = 0; i < rows; i++) {
            x[i] = randomFloats(r, cols);
        }
        return x;
    }

    static float[] randomFloats(Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (0.05 * r.nextGaussian());
        }
        return x;
    }
}
