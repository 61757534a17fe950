package io.vocodex.bench;

import io.vocodex.Audio;
import io.vocodex.Codec;
import io.vocodex.Device;
import io.vocodex.StreamHub;
import io.vocodex.StreamingEncoder;
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
 * Streaming step latency, full-size models, CPU backend.
 *
 * <ul>
 *   <li>{@code cpu_encodec24k_streampush_f32_320}: one {@link StreamingEncoder#push} of one EnCodec
 *       frame (320 samples = 13.33 ms of audio at 24 kHz, 6 kbps) into a long-running stream.</li>
 *   <li>{@code cpu_mimi_streampush_f32_1920}: one push of one Mimi frame (1920 samples = 80 ms,
 *       8 codebooks). The stream is first fed {@value #MIMI_PREFILL_FRAMES} frames (10.4 s) so the
 *       transformers' KV rings (context 250 = 10 s) are full: the steady-state cost.</li>
 *   <li>{@code cpu_encodec24k_hubtick_f32_320}: {@link StreamHub} with {@code streams} live EnCodec
 *       streams: push one frame to each, then one {@link StreamHub#tick()} (every stream steps one
 *       frame, streams in parallel on the codec's threads). Real time holds while ms/op &lt; 13.33.</li>
 * </ul>
 * ms per frame = the score; real-time factor = score / frame duration ({@code scripts/bench_report.py}).
 *
 * <pre>
 *   java --add-modules jdk.incubator.vector -jar jmh/target/benchmarks.jar StreamBench
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx6g", "--add-modules=jdk.incubator.vector"})
public class StreamBench {
    static final int MIMI_PREFILL_FRAMES = 130;

    /** One live stream of a model; the audio is a 10 s loop of seeded noise pushed frame by frame. */
    @State(Scope.Benchmark)
    public abstract static class Live {
        @Param({"1", "2"})
        public int threads;

        BenchModels.Folder folder;
        Codec codec;
        StreamingEncoder encoder;
        float[][] frames;
        int next;

        abstract BenchModels.Folder folder();

        abstract double kbps();

        void open() {
            folder = folder();
            codec = Codec.load(folder.dir(), Device.cpu(threads));
            int hop = codec.hopLength();
            Audio a = BenchModels.noise(10 * codec.sampleRate(), codec.sampleRate(), 1234);
            frames = new float[a.length() / hop][];
            for (int i = 0; i < frames.length; i++) {
                frames[i] = java.util.Arrays.copyOfRange(a.samples(), i * hop, (i + 1) * hop);
            }
            encoder = codec.streamingEncoder(kbps());
        }

        Tokens step() {
            Tokens t = encoder.push(frames[next]);
            next = (next + 1) % frames.length;
            return t;
        }

        void close() {
            encoder.close();
            codec.close();
            folder.delete();
        }
    }

    @State(Scope.Benchmark)
    public static class EncodecLive extends Live {
        @Override
        BenchModels.Folder folder() {
            return BenchModels.encodec24khz();
        }

        @Override
        double kbps() {
            return 6.0;
        }

        @Setup(Level.Trial)
        public void setup() {
            open();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            close();
        }
    }

    @State(Scope.Benchmark)
    public static class MimiLive extends Live {
        @Override
        BenchModels.Folder folder() {
            return BenchModels.mimi();
        }

        @Override
        double kbps() {
            return 8 * 0.1375;
        }

        @Setup(Level.Trial)
        public void setup() {
            open();
            for (int i = 0; i < MIMI_PREFILL_FRAMES; i++) {
                step();
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            close();
        }
    }

    @State(Scope.Benchmark)
    public static class Hub {
        @Param({"1", "2"})
        public int threads;

        @Param({"1", "2", "4", "8", "16", "32"})
        public int streams;

        BenchModels.Folder folder;
        Codec codec;
        StreamHub hub;
        List<StreamHub.StreamSession> sessions;
        float[][] frames;
        int next;

        @Setup(Level.Trial)
        public void setup() {
            folder = BenchModels.encodec24khz();
            codec = Codec.load(folder.dir(), Device.cpu(threads));
            hub = new StreamHub(codec, 6.0, streams);
            int hop = hub.frameSamples();
            Audio a = BenchModels.noise(10 * codec.sampleRate(), codec.sampleRate(), 1234);
            frames = new float[a.length() / hop][];
            for (int i = 0; i < frames.length; i++) {
                frames[i] = java.util.Arrays.copyOfRange(a.samples(), i * hop, (i + 1) * hop);
            }
            sessions = new ArrayList<>();
            for (int i = 0; i < streams; i++) {
                sessions.add(hub.open());
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            hub.close();
            codec.close();
            folder.delete();
        }
    }

    @Benchmark
    public Tokens cpu_encodec24k_streampush_f32_320(EncodecLive s) {
        return s.step();
    }

    @Benchmark
    public Tokens cpu_mimi_streampush_f32_1920(MimiLive s) {
        return s.step();
    }

    /** All {@code streams} streams advance one 320-sample frame; tokens are polled so nothing accumulates. */
    @Benchmark
    public int cpu_encodec24k_hubtick_f32_320(Hub h) {
        float[] frame = h.frames[h.next];
        h.next = (h.next + 1) % h.frames.length;
        for (StreamHub.StreamSession s : h.sessions) {
            s.push(frame);
        }
        int stepped = h.hub.tick();
        int frames = 0;
        for (StreamHub.StreamSession s : h.sessions) {
            frames += s.poll().numFrames();
        }
        return stepped + frames;
    }
}
