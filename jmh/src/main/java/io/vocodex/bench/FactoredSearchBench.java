package io.vocodex.bench;

import io.vocodex.backend.cpu.CodebookSearch;
import io.vocodex.backend.cpu.CpuContext;
import io.vocodex.backend.cpu.FactoredSearch;
import io.vocodex.backend.cpu.TransformerOps;
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
 * DistilCodec's first-layer search the way the CPU model runs it once built ({@link FactoredSearch}):
 * {@code frames} frames projected from 1024 features into a random 32768 x 3584 codebook, against the
 * full search of the same frames ({@link CodebookSearch#nearest}, what {@code CodebookSearchBench}
 * measures), and the one-time build ({@code u_e = W^T e} for every code). The setup checks that
 * both searches give the same codes. Single shot per iteration. Run e.g.
 * {@code java --add-modules jdk.incubator.vector -jar jmh/target/benchmarks.jar FactoredSearchBench -p frames=937 -p threads=1}.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 1)
@Measurement(iterations = 3)
@Fork(value = 1, jvmArgsAppend = {"-Xmx6g", "--add-modules=jdk.incubator.vector"})
@State(Scope.Benchmark)
public class FactoredSearchBench {
    static final int CODES = 32768;
    static final int DIM = 3584;
    static final int IN = 1024;

    @Param({"937"})
    public int frames;

    @Param({"2"})
    public int threads;

    CodebookSearch.TiledCodebook book;
    float[] weight;
    float[] bias;
    float[][] h;
    float[][] x;
    FactoredSearch factored;
    CpuContext ctx;

    @Setup(Level.Trial)
    public void setup() {
        Random r = new Random(7);
        float[] codebook = new float[CODES * DIM];
        for (int i = 0; i < codebook.length; i++) {
            codebook[i] = r.nextFloat() - 0.5f; // DistilCodecRandom's range
        }
        book = CodebookSearch.pack(codebook, CODES, DIM);
        weight = new float[DIM * IN];
        double a = 1 / Math.sqrt(IN);
        for (int i = 0; i < weight.length; i++) {
            weight[i] = (float) ((r.nextDouble() * 2 - 1) * a);
        }
        bias = new float[DIM];
        for (int j = 0; j < DIM; j++) {
            bias[j] = (float) ((r.nextDouble() * 2 - 1) * 0.02);
        }
        h = new float[frames][IN];
        for (float[] row : h) {
            for (int i = 0; i < IN; i++) {
                row[i] = (float) r.nextGaussian();
            }
        }
        ctx = new CpuContext(threads);
        x = TransformerOps.linearRows(ctx, h, weight, DIM);
        for (float[] row : x) {
            for (int j = 0; j < DIM; j++) {
                row[j] += bias[j];
            }
        }
        factored = FactoredSearch.build(ctx, book, weight, bias, IN);
        if (!java.util.Arrays.equals(factored.nearest(ctx, h, x), CodebookSearch.nearest(ctx, x, book))) {
            throw new IllegalStateException("factored and full search disagree");
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        ctx.close();
    }

    @Benchmark
    public int[] cpu_factoredsearch_f32_32768x3584_from1024() {
        return factored.nearest(ctx, h, x);
    }

    @Benchmark
    public int[] cpu_codebooksearch_f32_32768x3584() {
        return CodebookSearch.nearest(ctx, x, book);
    }

    @Benchmark
    public FactoredSearch cpu_factoredsearch_build_f32_32768x3584_from1024() {
        return FactoredSearch.build(ctx, book, weight, bias, IN);
    }
}
