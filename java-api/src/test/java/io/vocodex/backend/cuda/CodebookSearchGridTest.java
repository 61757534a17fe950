package io.vocodex.backend.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** No GPU needed: {@link CudaCodebookSearch#grid} covers every frame tile and every code tile exactly once. */
class CodebookSearchGridTest {
    @Test
    void gridCoversEveryTileOnceAndFillsTheGpu() {
        for (int frames : new int[] {1, 94, 128, 129, 938, 9380, 100_000}) {
            for (int codes : new int[] {1, 127, 128, 129, 3000, 32768}) {
                for (int sms : new int[] {1, 108, 132}) {
                    int[] g = CudaCodebookSearch.grid(frames, codes, sms);
                    int codeTiles = (codes + 127) / 128;
                    assertEquals((frames + 127) / 128, g[0]);
                    // ranges [y * perSplit, (y + 1) * perSplit) cover [0, codeTiles), the last one non-empty
                    assertTrue((long) g[1] * g[2] >= codeTiles, frames + "x" + codes);
                    assertTrue((long) (g[1] - 1) * g[2] < codeTiles, frames + "x" + codes);
                    long blocks = (long) g[0] * g[1];
                    long wanted = (long) CudaCodebookSearch.TARGET_WAVES * CudaCodebookSearch.BLOCKS_PER_SM * sms;
                    // whole tiles per range: rounding may halve the split count, never more
                    assertTrue(2 * blocks >= Math.min(wanted, (long) g[0] * codeTiles), "too few blocks: " + blocks);
                }
            }
        }
        assertEquals(256, CudaCodebookSearch.grid(94, 32768, 132)[1], "94 frames: one 128-code tile per block");
    }
}
