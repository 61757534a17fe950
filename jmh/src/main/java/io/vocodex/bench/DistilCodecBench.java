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

import java.util.concurrent.TimeUnit;

/**
 * DistilCodec encode and decode of {@code seconds} of audio (single shot per iteration: a
 * full-size 10 s decode takes tens of seconds on this scalar-Java path). {@code config} is
 * {@code released} (the full DistilCodec: ConvNeXt encoder to 1024, 32768 x 3584 codebook, HiFiGAN
 * from 1024 channels) or {@code tiny} (the golden's shape). Run e.g.
 * {@code java --add-modules jdk.incubator.vector -jar jmh/target/benchmarks.jar DistilCodecBench -p config=released -p seconds=10}.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx12g", "--add-modules=jdk.incubator.vector"})
@State(Scope.Benchmark)
public class DistilCodecBench {
    @Param({"released"})
    public String config;

    @Param({"10"})
    public int seconds;

    @Param({"2"})
    public int threads;

    BenchModels.Folder folder;
    Codec codec;
    Audio audio;
    Tokens tokens;

    @Setup(Level.Trial)
    public void setup() {
        folder = BenchModels.distilcodec(config);
        codec = Codec.load(folder.dir(), Device.cpu(threads));
        audio = BenchModels.noise(seconds * codec.sampleRate(), codec.sampleRate(), 1234);
        tokens = codec.encode(audio, 1.0);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        codec.close();
        folder.delete();
    }

    @Benchmark
    public Tokens cpu_distilcodec_encode_f32() {
        return codec.encode(audio, 1.0);
    }

    @Benchmark
    public Audio cpu_distilcodec_decode_f32() {
        return codec.decode(tokens);
    }
}
