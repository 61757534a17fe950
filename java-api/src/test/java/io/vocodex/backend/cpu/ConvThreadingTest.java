package io.vocodex.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * Large convolutions with fewer than four output channels (a decoder's output conv: 64 -> 1) split
 * over the threads like the others, and give the same bits as on one thread. The Vector API path
 * once estimated their units' cost as 0 (it counts channels in fours) and ran them on one thread
 * whatever the context's size.
 */
class ConvThreadingTest {
    @Test
    void narrowOutputConvsRunOnAllThreadsWithTheSameResult() {
        Random r = new Random(11);
        int cin = 64;
        int k = 7;
        int tout = 24000;
        int tin = tout + k - 1;
        float[][] x = new float[cin][tin];
        for (float[] row : x) {
            for (int i = 0; i < tin; i++) {
                row[i] = (float) r.nextGaussian();
            }
        }
        for (int cout = 1; cout <= 5; cout++) {
            float[] w = new float[cout * cin * k];
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) (r.nextGaussian() / 20);
            }
            float[] bias = {0.5f, -0.25f, 0.125f, 1f, -1f};
            float[][] one;
            try (CpuContext ctx = CpuContext.singleThreaded()) {
                one = CpuOps.conv1d(ctx, x, w, bias, cout, k, 1, 1, 1);
            }
            try (CpuContext ctx = new CpuContext(2)) {
                long before = ctx.splitCalls();
                float[][] two = CpuOps.conv1d(ctx, x, w, bias, cout, k, 1, 1, 1);
                assertTrue(ctx.splitCalls() > before, "a " + cin + " -> " + cout + " conv over " + tout
                        + " samples (" + (long) cout * cin * k * tout + " multiply-adds) ran on one thread");
                for (int co = 0; co < cout; co++) {
                    assertArrayEquals(one[co], two[co], "channel " + co + " of " + cout);
                }
            }
        }
    }

    /** Large outputs are allocated (zeroed) row by row on the threads; small ones in one go. */
    @Test
    void largeOutputsAreAllocatedOnAllThreads() {
        try (CpuContext ctx = new CpuContext(2)) {
            long before = ctx.splitCalls();
            float[][] big = CpuOps.newRows(ctx, 64, 1 << 15);
            assertTrue(ctx.splitCalls() > before, "a 64 x 32768 output should be allocated on both threads");
            assertEquals(64, big.length);
            for (float[] row : big) {
                assertEquals(1 << 15, row.length);
                for (float v : row) {
                    assertEquals(0f, v);
                }
            }
            long mid = ctx.splitCalls();
            float[][] small = CpuOps.newRows(ctx, 4, 100);
            assertEquals(mid, ctx.splitCalls(), "a small output is allocated on the calling thread");
            assertEquals(4, small.length);
            assertEquals(100, small[3].length);
            assertEquals(0, CpuOps.newRows(ctx, 3, 0)[2].length);
        }
    }
}
