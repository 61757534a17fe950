package io.vocodex.bench;

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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * The machine's ceilings as the JVM reaches them, for the roofline in docs/benchmarks.md.
 *
 * <ul>
 *   <li>{@code cpu_fma_f32_peak}: each of {@code threads} threads repeatedly applies
 *       {@value #CHAIN} dependent {@code Math.fma} to every element of its own L1-resident
 *       {@value #N_L1}-float array; C2 vectorises the loop (as it does the CPU backend's kernels)
 *       and the unrolled iterations give independent chains. FLOP per op =
 *       {@code threads * 2 * CHAIN * N_L1 * REPS}; GFLOP/s = that / time.</li>
 *   <li>{@code cpu_fma_f32_peak_vectorapi}: the same with the Vector API (12 register chains), the
 *       ceiling of the kernels that use it ({@code io.vocodex.backend.cpu.VectorConv}).</li>
 *   <li>{@code cpu_triad_f32_64Mi}: STREAM triad {@code a[i] = b[i] + s * c[i]} over 64 Mi floats
 *       (3 x 256 MiB per thread, far beyond the caches), each thread its own arrays. Bytes per op
 *       = {@code threads * 12 * 64 Mi} (STREAM's count: write-allocate traffic not included).</li>
 * </ul>
 * {@code scripts/bench_report.py} turns the scores into GFLOP/s and GB/s.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx6g", "--add-modules=jdk.incubator.vector"})
@State(Scope.Benchmark)
public class CeilingBench {
    static final int N_L1 = 2048;
    static final int CHAIN = 16;
    static final int REPS = 2000;
    static final int N_MEM = 64 << 20;

    @Param({"1", "2"})
    public int threads;

    ExecutorService pool;
    float[][] l1;
    float[][] a;
    float[][] b;
    float[][] c;

    @Setup(Level.Trial)
    public void setup() {
        pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "ceiling");
            t.setDaemon(true);
            return t;
        });
        l1 = new float[threads][N_L1];
        a = new float[threads][];
        b = new float[threads][];
        c = new float[threads][];
        for (int t = 0; t < threads; t++) {
            java.util.Arrays.fill(l1[t], 0.5f);
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        pool.shutdownNow();
    }

    private void run(List<Runnable> work) {
        List<Future<?>> fs = new ArrayList<>();
        for (Runnable r : work) {
            fs.add(pool.submit(r));
        }
        try {
            for (Future<?> f : fs) {
                f.get();
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static void fmaKernel(float[] x) {
        final float m = 0.999999f;
        final float k = 1e-7f;
        for (int rep = 0; rep < REPS; rep++) {
            for (int i = 0; i < x.length; i++) {
                float v = x[i];
                v = Math.fma(v, m, k); v = Math.fma(v, m, k); v = Math.fma(v, m, k); v = Math.fma(v, m, k);
                v = Math.fma(v, m, k); v = Math.fma(v, m, k); v = Math.fma(v, m, k); v = Math.fma(v, m, k);
                v = Math.fma(v, m, k); v = Math.fma(v, m, k); v = Math.fma(v, m, k); v = Math.fma(v, m, k);
                v = Math.fma(v, m, k); v = Math.fma(v, m, k); v = Math.fma(v, m, k); v = Math.fma(v, m, k);
                x[i] = v;
            }
        }
    }

    static void triad(float[] a, float[] b, float[] c, float s) {
        for (int i = 0; i < a.length; i++) {
            a[i] = b[i] + s * c[i];
        }
    }

    /**
     * The Vector API's FMA peak (what {@code io.vocodex.backend.cpu.VectorConv}'s kernels are written
     * with): 12 independent vector accumulators, each advanced by {@value #VECTOR_STEPS} fmas with
     * register operands only, for {@value #VECTOR_LANE_STEPS} lane-steps per chain whatever the
     * vector width. FLOP per op = {@code threads * 2 * 12 * VECTOR_LANE_STEPS}.
     */
    @Benchmark
    public float cpu_fma_f32_peak_vectorapi() {
        List<Runnable> work = new ArrayList<>();
        float[] sink = new float[threads];
        for (int t = 0; t < threads; t++) {
            int slot = t;
            work.add(() -> sink[slot] = VectorPeak.run(VECTOR_LANE_STEPS / VectorPeak.lanes()));
        }
        run(work);
        return sink[0];
    }

    static final int VECTOR_LANE_STEPS = 16 << 20;

    @Benchmark
    public float cpu_fma_f32_peak() {
        List<Runnable> work = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            float[] x = l1[t];
            work.add(() -> fmaKernel(x));
        }
        run(work);
        return l1[0][7];
    }

    @Benchmark
    public float cpu_triad_f32_64Mi() {
        if (a[0] == null) { // allocated on first use: the FMA benchmark does not need 768 MiB per thread
            for (int t = 0; t < threads; t++) {
                a[t] = new float[N_MEM];
                b[t] = new float[N_MEM];
                c[t] = new float[N_MEM];
                java.util.Arrays.fill(b[t], 1f);
                java.util.Arrays.fill(c[t], 2f);
            }
        }
        List<Runnable> work = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            float[] x = a[t];
            float[] y = b[t];
            float[] z = c[t];
            work.add(() -> triad(x, y, z, 3f));
        }
        run(work);
        return a[0][11];
    }
}
