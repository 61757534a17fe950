package io.vocodex.bench;

import io.vocodex.codec.encodec.EncodecConfig;
import io.vocodex.codec.encodec.EncodecRandom;
import io.vocodex.codec.mimi.MimiConfig;
import io.vocodex.codec.mimi.MimiRandom;

import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.stream.Stream;

/**
 * Two builds of the library timed side by side in ONE process, alternating call by call, so that
 * both see the same machine load (on a shared VM, runs minutes apart can differ by 2x). Each jar is
 * loaded by its own child-first class loader; the model is the published architecture with random
 * weights (seed 42), 10 s of seeded noise. Prints best / median / worst milliseconds per call.
 *
 * <pre>
 *   java --add-modules jdk.incubator.vector -cp jmh/target/benchmarks.jar io.vocodex.bench.SideBySide MODEL THREADS WHAT REPS A.jar B.jar
 *     MODEL: mimi | encodec; WHAT: stream (one frame pushed into a live stream, after 130 / 50
 *     frames of warm-up) | encode | decode (10 s); A.jar, B.jar: java-api jars of the two builds
 * </pre>
 */
public final class SideBySide {
    private SideBySide() {
    }

    /** Loads {@code io.vocodex.*} (except this benchmark package) from its own jar first. */
    static final class ChildFirst extends URLClassLoader {
        ChildFirst(Path jar, ClassLoader parent) throws Exception {
            super(new URL[] {jar.toUri().toURL()}, parent);
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (!name.startsWith("io.vocodex.") || name.startsWith("io.vocodex.bench.")) {
                return super.loadClass(name, resolve);
            }
            synchronized (getClassLoadingLock(name)) {
                Class<?> c = findLoadedClass(name);
                if (c == null) {
                    c = findClass(name);
                }
                if (resolve) {
                    resolveClass(c);
                }
                return c;
            }
        }
    }

    /** One build's codec, called through reflection (both builds share the public API). */
    static final class Build {
        final Object codec;
        final Object audio;
        final Method encode;
        final Method decode;
        final Method streamingEncoder;
        final Method push;
        final Method close;
        Object tokens;
        Object stream;

        Build(ClassLoader cl, Path dir, int threads, float[] x, int sampleRate) throws Exception {
            Class<?> codecClass = cl.loadClass("io.vocodex.Codec");
            Class<?> deviceClass = cl.loadClass("io.vocodex.Device");
            Class<?> audioClass = cl.loadClass("io.vocodex.Audio");
            Object device = deviceClass.getMethod("cpu", int.class).invoke(null, threads);
            codec = codecClass.getMethod("load", Path.class, deviceClass).invoke(null, dir, device);
            audio = audioClass.getMethod("of", float[].class, int.class).invoke(null, x, sampleRate);
            encode = codecClass.getMethod("encode", audioClass, double.class);
            decode = codecClass.getMethod("decode", cl.loadClass("io.vocodex.Tokens"));
            streamingEncoder = codecClass.getMethod("streamingEncoder", double.class);
            push = cl.loadClass("io.vocodex.StreamingEncoder").getMethod("push", float[].class);
            close = codecClass.getMethod("close");
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 6) {
            System.err.println("usage: SideBySide mimi|encodec THREADS stream|encode|decode REPS A.jar B.jar");
            System.exit(2);
        }
        String model = args[0];
        int threads = Integer.parseInt(args[1]);
        String what = args[2];
        int reps = Integer.parseInt(args[3]);
        Path[] jars = {Path.of(args[4]), Path.of(args[5])};
        boolean mimi = model.equals("mimi");
        double kbps = mimi ? 8 * 0.1375 : 6.0;
        int hop = mimi ? 1920 : 320;
        int sampleRate = 24_000;
        Path dir = Files.createTempDirectory("vocodex-sidebyside");
        try {
            if (mimi) {
                MimiRandom.writeModelFolder(MimiConfig.mimi(), 42, dir);
            } else {
                EncodecRandom.writeModelFolder(EncodecConfig.encodec24khz(), 42, dir);
            }
            Random r = new Random(1234);
            float[] x = new float[10 * sampleRate];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (0.1 * r.nextGaussian());
            }
            int frames = x.length / hop;
            Build[] builds = new Build[2];
            for (int k = 0; k < 2; k++) {
                builds[k] = new Build(new ChildFirst(jars[k], SideBySide.class.getClassLoader()), dir, threads, x, sampleRate);
            }
            double[][] ms = new double[2][reps];
            if (what.equals("stream")) {
                int warm = mimi ? 130 : 50;
                for (Build b : builds) {
                    b.stream = b.streamingEncoder.invoke(b.codec, kbps);
                    for (int f = 0; f < warm; f++) {
                        b.push.invoke(b.stream, (Object) frame(x, f % frames, hop));
                    }
                }
                for (int i = 0; i < reps; i++) {
                    float[] frame = frame(x, (warm + i) % frames, hop);
                    for (int k = 0; k < 2; k++) {
                        long t0 = System.nanoTime();
                        builds[k].push.invoke(builds[k].stream, (Object) frame);
                        ms[k][i] = (System.nanoTime() - t0) / 1e6;
                    }
                }
            } else {
                for (Build b : builds) {
                    b.tokens = b.encode.invoke(b.codec, b.audio, kbps); // warm-up, and the codes to decode
                    if (what.equals("decode")) {
                        b.decode.invoke(b.codec, b.tokens);
                    }
                }
                for (int i = 0; i < reps; i++) {
                    for (int k = 0; k < 2; k++) {
                        Build b = builds[k];
                        long t0 = System.nanoTime();
                        if (what.equals("encode")) {
                            b.encode.invoke(b.codec, b.audio, kbps);
                        } else {
                            b.decode.invoke(b.codec, b.tokens);
                        }
                        ms[k][i] = (System.nanoTime() - t0) / 1e6;
                    }
                }
            }
            for (int k = 0; k < 2; k++) {
                double[] s = ms[k].clone();
                Arrays.sort(s);
                System.out.printf("%s %s %d thread(s) %s: best %.1f ms, median %.1f ms, worst %.1f ms (n=%d)%n",
                        model, what, threads, (k == 0 ? "A " : "B ") + jars[k], s[0], s[s.length / 2], s[s.length - 1], reps);
                builds[k].close.invoke(builds[k].codec);
            }
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static float[] frame(float[] x, int index, int hop) {
        return Arrays.copyOfRange(x, index * hop, (index + 1) * hop);
    }
}
