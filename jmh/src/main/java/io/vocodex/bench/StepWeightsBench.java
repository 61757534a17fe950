package io.vocodex.bench;

import io.vocodex.backend.cpu.CpuContext;
import io.vocodex.backend.cpu.PackedLinear;
import io.vocodex.backend.cpu.TransformerOps;
import io.vocodex.backend.cpu.VqOps;
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
 * How fast a streaming step reads weights that are not in any cache: a step of a Mimi-sized model
 * reads 100 MB or more of weights once (more than the L3), so its few rows are bound by memory
 * bandwidth. Each op walks 128 MB of distinct weights:
 * <ul>
 *   <li>{@code cpu_linearstep_f32_c512to2048_x2_128MB}: the 2 rows of a step through 32 packed
 *       linears 512 -> 2048 (4 MB each); GB/s = 134.2 / (ms/op);</li>
 *   <li>{@code cpu_nearest_f32_n2048_d256_t1_128MB}: one frame's nearest code in 64 codebooks of
 *       2048 x 256 (2 MB each, column-major as the quantizers keep them); GB/s = 134.2 / (ms/op).</li>
 * </ul>
 * Compare with {@code CeilingBench.cpu_triad_f32_64Mi} (the machine's streaming bandwidth). Run e.g.
 * {@code java --add-modules jdk.incubator.vector -jar jmh/target/benchmarks.jar StepWeightsBench -p threads=1}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g", "--add-modules=jdk.incubator.vector"})
@State(Scope.Benchmark)
public class StepWeightsBench {
    static final int LINEARS = 32;
    static final int CODEBOOKS = 64;
    static final int CODES = 2048;
    static final int DIM = 256;

    @Param({"1", "2"})
    public int threads;

    CpuContext ctx;
    PackedLinear[] linears;
    float[][] rows;
    float[][][] codebooks;
    float[][] codeNorms;
    float[][] frame;

    @Setup(Level.Trial)
    public void setup() {
        ctx = new CpuContext(threads);
        Random r = new Random(3);
        float[] w = new float[2048 * 512];
        linears = new PackedLinear[LINEARS];
        for (int l = 0; l < LINEARS; l++) {
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) (0.05 * r.nextGaussian());
            }
            linears[l] = PackedLinear.pack(w, 2048, 512);
        }
        rows = new float[2][512];
        for (float[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                row[i] = (float) r.nextGaussian();
            }
        }
        codebooks = new float[CODEBOOKS][][];
        codeNorms = new float[CODEBOOKS][];
        float[] cb = new float[CODES * DIM];
        for (int b = 0; b < CODEBOOKS; b++) {
            for (int i = 0; i < cb.length; i++) {
                cb[i] = (float) r.nextGaussian();
            }
            codebooks[b] = VqOps.codebookColumns(cb, CODES, DIM);
            codeNorms[b] = VqOps.squaredNorms(cb, CODES, DIM);
        }
        frame = new float[DIM][1];
        for (float[] d : frame) {
            d[0] = (float) r.nextGaussian();
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        ctx.close();
    }

    @Benchmark
    public float cpu_linearstep_f32_c512to2048_x2_128MB() {
        float sum = 0f;
        for (PackedLinear l : linears) {
            sum += TransformerOps.linearRows(ctx, rows, l)[1][7];
        }
        return sum;
    }

    @Benchmark
    public int cpu_nearest_f32_n2048_d256_t1_128MB() {
        int sum = 0;
        for (int b = 0; b < CODEBOOKS; b++) {
            sum += VqOps.nearestCodesByColumns(ctx, frame, codebooks[b], codeNorms[b])[0];
        }
        return sum;
    }
}
