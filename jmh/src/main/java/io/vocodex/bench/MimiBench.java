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

import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * End to end: encode and decode of 10 s of audio at 8 codebooks (1.1 kbps) with the published Mimi
 * architecture ({@code MimiConfig.mimi()}, random weights, seed 42), on the CPU backend with 1 and
 * 2 threads (batch mode: 125 code frames, transformer context 250).
 * Real-time factor = 10 s / the reported time.
 *
 * <pre>
 *   mvn -q -pl jmh -am package -DskipTests
 *   java --add-modules jdk.incubator.vector -jar jmh/target/benchmarks.jar MimiBench
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1, time = 5)
@Measurement(iterations = 5, time = 5)
@Fork(value = 1, jvmArgsAppend = {"-Xmx6g", "--add-modules=jdk.incubator.vector"})
public class MimiBench {
    static final int SECONDS = 10;
    static final double KBPS = 8 * 0.1375;

    @Param({"1", "2"})
    public int threads;

    BenchModels.Folder folder;
    Codec codec;
    Audio audio;
    Tokens tokens;

    @Setup(Level.Trial)
    public void setup() {
        folder = BenchModels.mimi();
        codec = Codec.load(folder.dir(), Device.cpu(threads));
        Random r = new Random(1234);
        float[] x = new float[SECONDS * codec.sampleRate()];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (0.1 * r.nextGaussian());
        }
        audio = Audio.of(x, codec.sampleRate());
        tokens = codec.encode(audio, KBPS);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        codec.close();
        folder.delete();
    }

    /** 10 s, 8 codebooks. */
    @Benchmark
    public Tokens cpu_mimi_encode_f32_10s() {
        return codec.encode(audio, KBPS);
    }

    /** 8 codebooks x 125 frames. */
    @Benchmark
    public Audio cpu_mimi_decode_f32_10s() {
        return codec.decode(tokens);
    }
}
