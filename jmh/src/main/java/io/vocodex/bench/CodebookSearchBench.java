package io.vocodex.bench;

import io.vocodex.backend.cpu.CodebookSearch;
import io.vocodex.backend.cpu.CpuContext;
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
 * DistilCodec's nearest-code search on the CPU at full size: {@code frames} frames (94 = one second of
 * audio) against a random 32768 x 3584 codebook (470 MB), {@link CodebookSearch#nearest} with
 * {@code threads} workers. Frames per second = {@code frames / (s/op)}; GFLOP/s = {@code 2 * frames *
 * 32768 * 3584 / (s/op) / 1e9}. The codebook is packed ({@link CodebookSearch#pack}) in the setup,
 * as the model packs it at load. Single shot per iteration. Run e.g.
 * {@code java --add-modules jdk.incubator.vector -jar jmh/target/benchmarks.jar CodebookSearchBench -p threads=2}.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 3)
@Fork(value = 1, jvmArgsAppend = {"-Xmx3g", "--add-modules=jdk.incubator.vector"})
@State(Scope.Benchmark)
public class CodebookSearchBench {
    static final int CODES = 32768;
    static final int DIM = 3584;

    @Param({"94"})
    public int frames;

    @Param({"2"})
    public int threads;

    CodebookSearch.TiledCodebook book;
    float[][] x;
    CpuContext ctx;

    @Setup(Level.Trial)
    public void setup() {
        Random r = new Random(7);
        float[] codebook = new float[CODES * DIM];
        for (int i = 0; i < codebook.length; i++) {
            codebook[i] = (float) (0.05 * r.nextGaussian());
        }
        book = CodebookSearch.pack(codebook, CODES, DIM); // once, as the model does at load
        x = new float[frames][DIM];
        for (float[] row : x) {
            for (int d = 0; d < DIM; d++) {
                row[d] = (float) (0.05 * r.nextGaussian());
            }
        }
        ctx = new CpuContext(threads);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        ctx.close();
    }

    @Benchmark
    public int[] cpu_codebooksearch_f32_32768x3584() {
        return CodebookSearch.nearest(ctx, x, book);
    }
}
