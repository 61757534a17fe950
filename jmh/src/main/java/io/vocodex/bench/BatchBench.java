package io.vocodex.bench;

import io.vocodex.Audio;
import io.vocodex.Codec;
import io.vocodex.Device;
import io.vocodex.Tokens;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Batch throughput: {@link Codec#encodeBatch} of {@code batch} clips of {@value #CLIP_SECONDS} s
 * each (different seeded noise per clip), full-size models, CPU backend with 1 and 2 threads.
 * Batch sizes: 1, 2, 4, 8 for EnCodec; 1, 2, 4 for Mimi.
 * Throughput in audio seconds per second = {@code batch * 2 s / (ms/op / 1000)}
 * ({@code scripts/bench_report.py} does the conversion).
 *
 * <p>Names: {@code cpu_<model>_encodebatch_f32_<clip length>}, parameters {@code batch} and
 * {@code threads}. EnCodec at 6 kbps (8 codebooks), Mimi at 8 codebooks (1.1 kbps).
 *
 * <pre>
 *   java --add-modules jdk.incubator.vector -jar jmh/target/benchmarks.jar BatchBench
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx6g", "--add-modules=jdk.incubator.vector"})
public class BatchBench {
    static final int CLIP_SECONDS = 2;

    /** Shared parameters and clips; subclasses pick the model. */
    @State(Scope.Benchmark)
    public abstract static class Clips {
        @Param({"1", "2"})
        public int threads;

        BenchModels.Folder folder;
        Codec codec;
        List<Audio> clips;

        abstract BenchModels.Folder folder();

        abstract int batch();

        void load() {
            int batch = batch();
            folder = folder();
            codec = Codec.load(folder.dir(), Device.cpu(threads));
            clips = new ArrayList<>();
            for (int i = 0; i < batch; i++) {
                clips.add(BenchModels.noise(CLIP_SECONDS * codec.sampleRate(), codec.sampleRate(), 1234 + i));
            }
        }

        void unload() {
            codec.close();
            folder.delete();
        }
    }

    @State(Scope.Benchmark)
    public static class Encodec extends Clips {
        @Param({"1", "2", "4", "8"})
        public int batch;

        @Override
        int batch() {
            return batch;
        }

        @Override
        BenchModels.Folder folder() {
            return BenchModels.encodec24khz();
        }

        @Setup(Level.Trial)
        public void setup() {
            load();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            unload();
        }
    }

    @State(Scope.Benchmark)
    public static class Mimi extends Clips {
        /** Mimi runs at about real time per thread here: up to 4 clips keeps the run short. */
        @Param({"1", "2", "4"})
        public int batch;

        @Override
        int batch() {
            return batch;
        }

        @Override
        BenchModels.Folder folder() {
            return BenchModels.mimi();
        }

        @Setup(Level.Trial)
        public void setup() {
            load();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            unload();
        }
    }

    /** EnCodec 24 kHz, 6 kbps: batch x 2 s clips. */
    @Benchmark
    public List<Tokens> cpu_encodec24k_encodebatch_f32_2s(Encodec s) {
        return s.codec.encodeBatch(s.clips, 6.0);
    }

    /** Mimi, 8 codebooks: batch x 2 s clips. */
    @Benchmark
    public List<Tokens> cpu_mimi_encodebatch_f32_2s(Mimi s) {
        return s.codec.encodeBatch(s.clips, 8 * 0.1375);
    }
}
