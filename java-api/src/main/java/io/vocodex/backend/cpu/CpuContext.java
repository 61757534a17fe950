package io.vocodex.backend.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;
import java.util.function.IntConsumer;

/**
 * The CPU backend's execution context: a fork-join pool of a fixed number of worker threads,
 * owned by one codec and closed with it. Ops split work with {@link #parallelFor}; the split
 * never changes what any single output element computes, so results are identical for every
 * thread count (see {@link CpuOps} for the arithmetic contract).
 */
public final class CpuContext implements AutoCloseable {
    private final int threads;
    private final ForkJoinPool pool;

    public CpuContext(int threads) {
        this.threads = Math.max(1, threads);
        this.pool = this.threads == 1 ? null : new ForkJoinPool(this.threads);
    }

    /** A single-threaded context (no pool), handy for tests and references. */
    public static CpuContext singleThreaded() {
        return new CpuContext(1);
    }

    public int threads() {
        return threads;
    }

    /**
     * Runs {@code body.accept(i)} for every {@code i} in {@code [0, n)}, in parallel chunks when
     * the pool has more than one thread and {@code n * costPerItem} is worth splitting.
     */
    public void parallelFor(int n, long costPerItem, IntConsumer body) {
        if (n <= 0) {
            return;
        }
        if (pool == null || n == 1 || n * costPerItem < 50_000L) {
            for (int i = 0; i < n; i++) {
                body.accept(i);
            }
            return;
        }
        int chunks = Math.min(n, threads * 4);
        pool.invoke(new Range(0, n, Math.max(1, n / chunks), body));
    }

    private static final class Range extends RecursiveAction {
        private static final long serialVersionUID = 1L;
        private final int from;
        private final int to;
        private final int grain;
        private final transient IntConsumer body;

        Range(int from, int to, int grain, IntConsumer body) {
            this.from = from;
            this.to = to;
            this.grain = grain;
            this.body = body;
        }

        @Override
        protected void compute() {
            if (to - from <= grain) {
                for (int i = from; i < to; i++) {
                    body.accept(i);
                }
                return;
            }
            int mid = (from + to) >>> 1;
            invokeAll(new Range(from, mid, grain, body), new Range(mid, to, grain, body));
        }
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }
}
