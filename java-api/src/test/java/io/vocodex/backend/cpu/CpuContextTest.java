package io.vocodex.backend.cpu;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

class CpuContextTest {
    @Test
    void parallelForRunsEveryIndexExactlyOnce() {
        for (int threads = 1; threads <= 3; threads++) {
            try (CpuContext ctx = new CpuContext(threads)) {
                for (int n : new int[] {1, 2, 3, 7, 8, 100, 1001}) {
                    AtomicIntegerArray hits = new AtomicIntegerArray(n);
                    for (int rep = 0; rep < 20; rep++) {
                        ctx.parallelFor(n, 1_000_000L, hits::incrementAndGet);
                    }
                    for (int i = 0; i < n; i++) {
                        assertEquals(20, hits.get(i), "threads=" + threads + " n=" + n + " i=" + i);
                    }
                }
            }
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
}
