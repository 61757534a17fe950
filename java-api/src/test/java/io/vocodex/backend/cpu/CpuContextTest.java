package io.vocodex.backend.cpu;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CpuContextTest {
    /** How a test calls one of the loops. */
    private interface Loop {
        void run(CpuContext ctx, int n, java.util.function.IntConsumer body);
    }

    private static void assertEveryIndexRunsOnce(String name, Loop loop, int[] sizes, int reps) {
        for (int threads = 1; threads <= 3; threads++) {
            try (CpuContext ctx = new CpuContext(threads)) {
                for (int n : sizes) {
                    AtomicIntegerArray hits = new AtomicIntegerArray(n);
                    for (int rep = 0; rep < reps; rep++) {
                        loop.run(ctx, n, hits::incrementAndGet);
                    }
                    for (int i = 0; i < n; i++) {
                        assertEquals(reps, hits.get(i), name + " threads=" + threads + " n=" + n + " i=" + i);
                    }
                }
            }
        }
    }

    @Test
    void parallelForRunsEveryIndexExactlyOnce() {
        assertEveryIndexRunsOnce("parallelFor", (ctx, n, body) -> ctx.parallelFor(n, 1_000_000L, body),
                new int[] {1, 2, 3, 7, 8, 100, 1001}, 20);
    }

    @Test
    void parallelForAffineRunsEveryIndexExactlyOnce() {
        int[] sizes = {1, 2, 3, 7, 8, 100};
        assertEveryIndexRunsOnce("parallelForAffine", (ctx, n, body) -> ctx.parallelForAffine(n, 1_000_000L, body), sizes, 200);
        assertEveryIndexRunsOnce("parallelForAffine backwards",
                (ctx, n, body) -> ctx.parallelForAffine(n, 1_000_000L, true, body), sizes, 200);
    }

    /**
     * Backwards, every chunk's items run in descending order (an LSTM walks each thread's weight
     * blocks back and forth): on one thread the whole range, on more each thread's share.
     */
    @Test
    void parallelForAffineBackwardsRunsEachChunkInDescendingOrder() {
        for (int threads = 1; threads <= 3; threads++) {
            try (CpuContext ctx = new CpuContext(threads)) {
                for (int n : new int[] {1, 2, 5, 8, 13}) {
                    int chunks = Math.min(n, threads);
                    for (int rep = 0; rep < 50; rep++) {
                        java.util.Map<Thread, java.util.List<Integer>> seen = new java.util.concurrent.ConcurrentHashMap<>();
                        ctx.parallelForAffine(n, 1_000_000L, true,
                                i -> seen.computeIfAbsent(Thread.currentThread(), t -> new java.util.ArrayList<>()).add(i));
                        for (java.util.List<Integer> order : seen.values()) {
                            for (int k = 1; k < order.size(); k++) {
                                int a = order.get(k - 1);
                                int b = order.get(k);
                                boolean sameChunk = chunkOf(a, n, chunks) == chunkOf(b, n, chunks);
                                assertTrue(!sameChunk || b < a, "threads=" + threads + " n=" + n + ": " + order);
                            }
                        }
                    }
                }
            }
        }
        try (CpuContext ctx = CpuContext.singleThreaded()) {
            java.util.List<Integer> order = new java.util.ArrayList<>();
            ctx.parallelForAffine(4, 1_000_000L, true, order::add);
            assertEquals(java.util.List.of(3, 2, 1, 0), order);
        }
    }

    /** The chunk of item {@code i}: {@code [n*c/chunks, n*(c+1)/chunks)}. */
    private static int chunkOf(int i, int n, int chunks) {
        for (int c = 0; c < chunks; c++) {
            if (i < (int) ((long) n * (c + 1) / chunks)) {
                return c;
            }
        }
        return -1;
    }

    /** With a worker that keeps up, each thread runs its own share: the worker's chunk is the second half. */
    @Test
    void parallelForAffineGivesEachThreadItsOwnChunkFirst() throws Exception {
        try (CpuContext ctx = new CpuContext(2)) {
            Thread caller = Thread.currentThread();
            for (int rep = 0; rep < 5; rep++) {
                // both chunks wait for each other: they finish only if each thread ran one
                CountDownLatch both = new CountDownLatch(2);
                Thread[] ranBy = new Thread[2];
                ctx.parallelForAffine(2, 1_000_000L, i -> {
                    ranBy[i] = Thread.currentThread();
                    both.countDown();
                    try {
                        assertTrue(both.await(10, TimeUnit.SECONDS), "the other chunk never ran beside this one");
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                });
                assertSame(caller, ranBy[0], "chunk 0 belongs to the calling thread");
                assertTrue(ranBy[1] != caller, "chunk 1 belongs to the worker");
            }
        }
    }

    @Test
    void parallelForAffineRethrowsTheBodysException() {
        IllegalArgumentException boom = new IllegalArgumentException("boom");
        try (CpuContext ctx = new CpuContext(2)) {
            RuntimeException thrown = assertThrows(RuntimeException.class, () -> ctx.parallelForAffine(8, 1_000_000L, i -> {
                if (i == 5) {
                    throw boom;
                }
            }));
            assertSame(boom, thrown);
        }
    }

    @Test
    void parallelForRethrowsTheBodysException() {
        IllegalArgumentException boom = new IllegalArgumentException("boom");
        try (CpuContext ctx = new CpuContext(2)) {
            RuntimeException thrown = assertThrows(RuntimeException.class, () -> ctx.parallelFor(64, 1_000_000L, i -> {
                if (i == 37) {
                    throw boom;
                }
            }));
            assertSame(boom, thrown);
            // the context stays usable after a failed call
            AtomicIntegerArray hits = new AtomicIntegerArray(64);
            ctx.parallelFor(64, 1_000_000L, hits::incrementAndGet);
            for (int i = 0; i < 64; i++) {
                assertEquals(1, hits.get(i));
            }
        }
    }

    /**
     * Two chunks that each wait for the other: they finish only if a worker runs one while the caller
     * runs the other, so the call proves that the (possibly parked) worker woke up for it.
     */
    @Test
    void aParkedWorkerWakesForTheNextCall() throws Exception {
        try (CpuContext ctx = new CpuContext(2)) {
            for (int rep = 0; rep < 5; rep++) {
                Thread.sleep(5 + TimeUnit.NANOSECONDS.toMillis(CpuContext.SPIN_NANOS)); // the worker parks
                CountDownLatch both = new CountDownLatch(2);
                boolean[] met = new boolean[2];
                ctx.parallelFor(2, 1_000_000L, i -> {
                    both.countDown();
                    try {
                        met[i] = both.await(10, TimeUnit.SECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                assertTrue(met[0] && met[1], "the worker did not join call " + rep);
            }
        }
    }

    /** A cost that makes {@code n * cost} overflow still splits the work (it once made the call serial). */
    @Test
    void aHugeCostPerItemStillSplits() {
        try (CpuContext ctx = new CpuContext(2)) {
            for (int n : new int[] {2, 8, 33}) {
                CountDownLatch both = new CountDownLatch(2);
                boolean[] met = new boolean[2];
                ctx.parallelFor(n, Long.MAX_VALUE / 4, i -> {
                    if (i < 2) {
                        both.countDown();
                        try {
                            met[i] = both.await(10, TimeUnit.SECONDS);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                });
                assertTrue(met[0] && met[1], "n=" + n + " ran on one thread");
            }
        }
    }

    @Test
    void callsFromSeveralThreadsShareOneContext() throws Exception {
        try (CpuContext ctx = new CpuContext(2)) {
            int n = 257;
            AtomicIntegerArray hits = new AtomicIntegerArray(n);
            Thread[] callers = new Thread[3];
            for (int c = 0; c < callers.length; c++) {
                callers[c] = new Thread(() -> {
                    for (int rep = 0; rep < 200; rep++) {
                        ctx.parallelFor(n, 1_000_000L, hits::incrementAndGet);
                    }
                });
                callers[c].start();
            }
            for (Thread t : callers) {
                t.join();
            }
            for (int i = 0; i < n; i++) {
                assertEquals(600, hits.get(i), "i=" + i);
            }
        }
    }

    @Test
    void closeStopsTheWorkers() throws Exception {
        CpuContext ctx = new CpuContext(3);
        ctx.parallelFor(64, 1_000_000L, i -> { });
        ctx.close();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (workersAlive() > baselineWorkers && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        // (other tests' contexts may stop meanwhile, never start: none runs concurrently)
        assertTrue(workersAlive() <= baselineWorkers, "worker threads left running after close()");
        ctx.close(); // closing twice is harmless
    }

    private final int baselineWorkers = workersAlive();

    private static int workersAlive() {
        int alive = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("vocodex-cpu-") && t.isAlive()) {
                alive++;
            }
        }
        return alive;
    }
}
