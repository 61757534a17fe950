package io.vocodex.backend.cpu;

import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * The CPU backend's execution context: {@code threads - 1} worker threads that join the calling
 * thread in {@link #parallelFor}, owned by one codec and closed with it. Ops split work with {@link #parallelFor}; the split
 * never changes what any single output element computes, so results are identical for every
 * thread count (see {@link CpuOps} for the arithmetic contract).
 */
public final class CpuContext implements AutoCloseable {
    /** Stops the workers of a context that was dropped without {@link #close()}. */
    private static final Cleaner UNCLOSED = Cleaner.create();

    private final int threads;
    private final Worker[] workers;
    private final Cleaner.Cleanable stopWorkers;
    /** Calls of {@link #parallelFor} that were split over the workers (for tests of the cost models). */
    private final java.util.concurrent.atomic.AtomicLong splitCalls = new java.util.concurrent.atomic.AtomicLong();

    public CpuContext(int threads) {
        this.threads = Math.max(1, threads);
        this.workers = new Worker[this.threads - 1];
        for (int w = 0; w < workers.length; w++) {
            workers[w] = new Worker(w + 1);
            Thread t = new Thread(workers[w], "vocodex-cpu-" + (w + 1));
            t.setDaemon(true);
            workers[w].thread = t;
            t.start();
        }
        Worker[] owned = workers; // the action must not hold this context
        this.stopWorkers = workers.length == 0 ? null : UNCLOSED.register(this, () -> {
            for (Worker w : owned) {
                w.close();
            }
        });
    }

    /** A single-threaded context (no pool), handy for tests and references. */
    public static CpuContext singleThreaded() {
        return new CpuContext(1);
    }

    public int threads() {
        return threads;
    }

    /** How many {@link #parallelFor} calls so far were split over the worker threads. */
    long splitCalls() {
        return splitCalls.get();
    }

    /** Work below this many multiply-adds runs on the calling thread: handing it over costs more. */
    static final long MIN_PARALLEL_WORK = 50_000L;

    /**
     * Runs {@code body.accept(i)} for every {@code i} in {@code [0, n)}, in parallel chunks when
     * the pool has more than one thread and {@code n * costPerItem} is worth splitting.
     *
     * <p>The calling thread works too: it hands one claim loop to each worker and runs the
     * same loop itself, every loop taking the next unclaimed chunk until none is left, and then
     * waits only for chunks still running elsewhere. A streaming step makes dozens of calls of
     * about a millisecond each, so a worker that wakes late costs nothing (the caller has already
     * taken its chunks) instead of a full wake-up round trip per call. Which thread runs a chunk
     * never changes what an element computes.
     */
    public void parallelFor(int n, long costPerItem, IntConsumer body) {
        run(n, costPerItem, body, false, false);
    }

    /**
     * {@link #parallelFor} with one chunk per thread, each thread taking its own chunk first (thread
     * {@code k} of {@code threads} the items {@code [n*k/threads, n*(k+1)/threads)}; the calling
     * thread is 0) and only then any chunk still unclaimed. A loop that calls it again and again over
     * the same data (an LSTM's steps over its recurrent weights) then finds each thread's share
     * in that core's own cache, as long as the workers keep up; a late worker's chunk is run by
     * whoever is free, so no call waits on it.
     */
    public void parallelForAffine(int n, long costPerItem, IntConsumer body) {
        run(n, costPerItem, body, true, false);
    }

    /**
     * {@link #parallelForAffine}, with each chunk's items run in descending order when
     * {@code backwards} (each thread still runs the same items). Calling it with {@code backwards}
     * alternating walks every thread's data back and forth: when a thread's share is larger than
     * its core's cache, the items it ran last, still cached, are the first it runs next (an LSTM's
     * 4 MB of recurrent weights against a 2 MB L2).
     */
    public void parallelForAffine(int n, long costPerItem, boolean backwards, IntConsumer body) {
        run(n, costPerItem, body, true, backwards);
    }

    private void run(int n, long costPerItem, IntConsumer body, boolean affine, boolean backwards) {
        if (n <= 0) {
            return;
        }
        // n * costPerItem < MIN_PARALLEL_WORK, without the product (a caller passing a huge cost
        // to mean "always split" overflowed it into a negative total: StreamHub's ticks of 8 or
        // more streams ran on one thread)
        if (workers.length == 0 || n == 1 || costPerItem < (MIN_PARALLEL_WORK + n - 1) / n) {
            for (int k = 0; k < n; k++) {
                body.accept(backwards ? n - 1 - k : k);
            }
            return;
        }
        splitCalls.incrementAndGet();
        Chunks chunks = new Chunks(n, Math.min(n, affine ? threads : threads * CHUNKS_PER_THREAD), body, affine, backwards);
        for (Worker w : workers) {
            w.offer(chunks);
        }
        chunks.runClaimed(0);
        chunks.awaitAll();
    }

    /**
     * Chunks per thread of a {@link #parallelFor} call: small enough that the last chunk another
     * thread still runs when the caller runs out of work is short (the caller waits for it).
     */
    static final int CHUNKS_PER_THREAD = 16;

    /**
     * How long an idle worker keeps polling for the next call (yielding its core to any other
     * runnable thread between polls) before it parks. The calls of one streaming step or one
     * layer follow each other closely and a parked thread starts late on each (the Mimi step on
     * 2 threads took 20.2 ms with parked pool workers, 17.1 ms with these); between a live
     * stream's frames (tens of milliseconds apart) the worker parks and costs nothing.
     */
    static final long SPIN_NANOS = 100_000L;

    /**
     * A worker thread: runs the claim loop of each call it is offered. A call that it picks up
     * late, or never (a newer call replaced it first), is still complete: the calling thread claims
     * every chunk nobody else took.
     */
    private static final class Worker implements Runnable {
        /** This worker's place in {@link #parallelForAffine}'s order (the calling thread is 0). */
        final int index;
        Thread thread;
        private volatile Chunks offered;
        private volatile boolean parked;
        private volatile boolean closed;

        Worker(int index) {
            this.index = index;
        }

        void offer(Chunks chunks) {
            offered = chunks;
            if (parked) {
                LockSupport.unpark(thread);
            }
        }

        void close() {
            closed = true;
            LockSupport.unpark(thread);
        }

        @Override
        public void run() {
            long idleSince = System.nanoTime();
            int polls = 0;
            while (!closed) {
                Chunks c = offered;
                if (c != null) {
                    offered = null;
                    c.runClaimed(index);
                    idleSince = System.nanoTime();
                    polls = 0;
                    continue;
                }
                if (++polls % 64 != 0) {
                    Thread.onSpinWait();
                    continue;
                }
                if (System.nanoTime() - idleSince < SPIN_NANOS) {
                    // let a runnable thread have the core: on a machine with as many cores as
                    // threads, that is often the JIT compiling the next kernel while the caller
                    // runs serial code
                    Thread.yield();
                    continue;
                }
                // offer() writes offered, then reads parked; this writes parked, then reads offered:
                // at least one of the two sees the other's write, so no offer is slept through.
                parked = true;
                if (offered == null && !closed) {
                    LockSupport.park(this);
                }
                parked = false;
                idleSince = System.nanoTime();
            }
        }
    }

    /** One {@link #parallelFor} call's chunks, claimed one at a time by whichever thread is free. */
    private static final class Chunks {
        private final int n;
        private final int count;
        private final IntConsumer body;
        private final AtomicInteger nextChunk = new AtomicInteger();
        private final AtomicInteger finished = new AtomicInteger();
        /** Per-chunk claims when each thread starts at its own chunk (null: claimed in order). */
        private final java.util.concurrent.atomic.AtomicIntegerArray claimed;
        /** Each chunk's items in descending order. */
        private final boolean backwards;
        private volatile Throwable failure;

        Chunks(int n, int count, IntConsumer body, boolean affine, boolean backwards) {
            this.n = n;
            this.count = count;
            this.body = body;
            this.claimed = affine ? new java.util.concurrent.atomic.AtomicIntegerArray(count) : null;
            this.backwards = backwards;
        }

        /** The next chunk for thread {@code self} to run, or -1 when none is left. */
        private int claim(int self, int tried) {
            if (claimed == null) {
                int c = nextChunk.getAndIncrement();
                return c < count ? c : -1;
            }
            for (int k = tried; k < count; k++) {
                int c = (self + k) % count;
                if (claimed.get(c) == 0 && claimed.compareAndSet(c, 0, 1)) {
                    return c;
                }
            }
            return -1;
        }

        void runClaimed(int self) {
            int c;
            int tried = 0;
            while ((c = claim(self, tried)) >= 0) {
                tried = claimed == null ? 0 : (c - self % count + count) % count + 1;
                try {
                    if (failure == null) {
                        int from = (int) ((long) n * c / count);
                        int to = (int) ((long) n * (c + 1) / count);
                        for (int k = from; k < to; k++) {
                            body.accept(backwards ? from + to - 1 - k : k);
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
        if (stopWorkers != null) {
            stopWorkers.clean(); // closes every worker, once
        }
    }
}
