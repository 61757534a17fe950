package io.vocodex.backend.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntConsumer;

/**
 * The CPU backend's execution context: {@code threads - 1} pool workers that join the calling
 * thread in {@link #parallelFor}, owned by one codec and closed with it. Ops split work with {@link #parallelFor}; the split
 * never changes what any single output element computes, so results are identical for every
 * thread count (see {@link CpuOps} for the arithmetic contract).
 */
public final class CpuContext implements AutoCloseable {
    private final int threads;
    private final ForkJoinPool pool;

    public CpuContext(int threads) {
        this.threads = Math.max(1, threads);
        this.pool = this.threads == 1 ? null : new ForkJoinPool(this.threads - 1);
    }

    /** A single-threaded context (no pool), handy for tests and references. */
    public static CpuContext singleThreaded() {
        return new CpuContext(1);
    }

    public int threads() {
        return threads;
    }

    /** Work below this many multiply-adds runs on the calling thread: handing it over costs more. */
    static final long MIN_PARALLEL_WORK = 50_000L;

    /**
     * Runs {@code body.accept(i)} for every {@code i} in {@code [0, n)}, in parallel chunks when
     * the pool has more than one thread and {@code n * costPerItem} is worth splitting.
     *
     * <p>The calling thread works too: it hands one claim loop to each pool worker and runs the
     * same loop itself, every loop taking the next unclaimed chunk until none is left, and then
     * waits only for chunks still running elsewhere. A streaming step makes dozens of calls of
     * about a millisecond each, so a worker that wakes late costs nothing (the caller has already
     * taken its chunks) instead of a full wake-up round trip per call. Which thread runs a chunk
     * never changes what an element computes.
     */
    public void parallelFor(int n, long costPerItem, IntConsumer body) {
        if (n <= 0) {
            return;
        }
        if (pool == null || n == 1 || n * costPerItem < MIN_PARALLEL_WORK) {
            for (int i = 0; i < n; i++) {
                body.accept(i);
            }
            return;
        }
        Chunks chunks = new Chunks(n, Math.min(n, threads * 4), body);
        for (int w = 1; w < threads; w++) {
            pool.execute(chunks::runClaimed);
        }
        chunks.runClaimed();
        chunks.awaitAll();
    }

    /** One {@link #parallelFor} call's chunks, claimed one at a time by whichever thread is free. */
    private static final class Chunks {
        private final int n;
        private final int count;
        private final IntConsumer body;
        private final AtomicInteger nextChunk = new AtomicInteger();
        private final AtomicInteger finished = new AtomicInteger();
        private volatile Throwable failure;

        Chunks(int n, int count, IntConsumer body) {
            this.n = n;
            this.count = count;
            this.body = body;
        }

        void runClaimed() {
            int c;
            while ((c = nextChunk.getAndIncrement()) < count) {
                try {
                    if (failure == null) {
                        int from = (int) ((long) n * c / count);
                        int to = (int) ((long) n * (c + 1) / count);
                        for (int i = from; i < to; i++) {
                            body.accept(i);
                        }
                    }
                } catch (Throwable t) {
                    failure = t;
                } finally {
                    finished.incrementAndGet();
                }
            }
        }

        /** Waits for the chunks other threads claimed (each already running), then rethrows any failure. */
        void awaitAll() {
            int spins = 0;
            while (finished.get() < count) {
                if (++spins < 1 << 14) {
                    Thread.onSpinWait();
                } else {
                    Thread.yield();
                }
            }
            Throwable t = failure;
            if (t instanceof RuntimeException) {
                throw (RuntimeException) t;
            }
            if (t instanceof Error) {
                throw (Error) t;
            }
            if (t != null) {
                throw new IllegalStateException(t);
            }
        }
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }
}
