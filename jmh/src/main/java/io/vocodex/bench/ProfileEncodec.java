package io.vocodex.bench;

import io.vocodex.Audio;
import io.vocodex.Codec;
import io.vocodex.Device;
import io.vocodex.backend.cpu.CpuContext;
import io.vocodex.codec.encodec.EncodecConfig;
import io.vocodex.codec.encodec.EncodecModel;
import io.vocodex.codec.encodec.EncodecRandom;
import io.vocodex.nn.StreamingModule;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * Where the time goes: runs the full-size EnCodec 24 kHz encoder and decoder on 10 s of audio
 * layer by layer and prints milliseconds per layer (best of 3, after one untimed encode + decode),
 * to decide what to optimise.
 *
 * <pre>
 *   java --add-modules jdk.incubator.vector -cp jmh/target/benchmarks.jar io.vocodex.bench.ProfileEncodec [threads]
 * </pre>
 */
public final class ProfileEncodec {
    private ProfileEncodec() {
    }

    public static void main(String[] args) throws Exception {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : 1;
        Path dir = Files.createTempDirectory("vocodex-profile");
        EncodecRandom.writeModelFolder(EncodecConfig.encodec24khz(), 42, dir);
        try (Codec codec = Codec.load(dir, Device.cpu(threads)); CpuContext ctx = new CpuContext(threads)) {
            EncodecModel m = (EncodecModel) codec.model();
            Random r = new Random(1234);
            float[] x = new float[240_000];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (0.1 * r.nextGaussian());
            }
            // one untimed pass first, so that no layer is timed before the JIT has compiled the kernels
            codec.decode(codec.encode(Audio.of(x, 24_000), 6.0));
            float[][] h = {x};
            System.out.println("encoder (10 s, " + threads + " thread(s))");
            h = run(ctx, m.encoderModules(), h);
            long t0 = System.nanoTime();
            int[][] codes = m.quantizer().encode(ctx, h, 8);
            System.out.printf("  %-40s %8.1f ms%n", "rvq encode (8 x 1024)", (System.nanoTime() - t0) / 1e6);
            System.out.println("decoder");
            run(ctx, m.decoderModules(), m.dequantize(codes));
        }
    }

    static float[][] run(CpuContext ctx, Iterable<StreamingModule> modules, float[][] h) {
        double total = 0;
        int i = 0;
        for (StreamingModule mod : modules) {
            float[][] out = null;
            double best = Double.MAX_VALUE;
            for (int rep = 0; rep < 3; rep++) {
                long t0 = System.nanoTime();
                out = mod.forward(ctx, h);
                best = Math.min(best, (System.nanoTime() - t0) / 1e6);
            }
            total += best;
            System.out.printf("  %2d %-37s %8.1f ms  -> (%d, %d)%n", i++, mod.getClass().getSimpleName(), best, out.length, out[0].length);
            h = out;
        }
        System.out.printf("  %-40s %8.1f ms%n", "total", total);
        return h;
    }
}
