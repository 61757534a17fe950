package io.vocodex.backend.cpu;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The blocked codebook search against (a) a float64 brute force and (b) the contract's plain
 * one-frame-at-a-time float32 loop, with planted exact ties (duplicated codes; frames equal to a
 * code) and near-ties (codes one float32 ulp apart, frames half-way between two codes).
 */
class CodebookSearchTest {
    static final int N = 32768;

    /** float64 squared distances: best index (lowest on ties) and the gap to the runner-up. */
    static double[] exact(float[] x, float[] cb, int n, int dim) {
        double best = Double.POSITIVE_INFINITY;
        double second = Double.POSITIVE_INFINITY;
        int bi = -1;
        for (int c = 0; c < n; c++) {
            double s = 0;
            for (int d = 0; d < dim; d++) {
                double diff = (double) x[d] - cb[c * dim + d];
                s += diff * diff;
            }
            if (s < best) {
                second = best;
                best = s;
                bi = c;
            } else if (s < second) {
                second = s;
            }
        }
        return new double[] {bi, best, second};
    }

    static double dist64(float[] x, float[] cb, int c, int dim) {
        double s = 0;
        for (int d = 0; d < dim; d++) {
            double diff = (double) x[d] - cb[c * dim + d];
            s += diff * diff;
        }
        return s;
    }

    @Test
    void matchesFloat64AndPlainLoopWithPlantedTies() {
        for (int dim : new int[] {8, 13, 64}) {
            CodebookSearchCases.Case cs = CodebookSearchCases.plantedTies(dim, N);
            float[] cb = cs.codebook();
            float[] norms = cs.norms();
            float[][] x = cs.frames();
            int frames = x.length;
            int[] got;
            try (CpuContext ctx = new CpuContext(2)) {
                got = CodebookSearch.nearest(ctx, x, cb, norms, N, dim);
            }
            int flips = 0;
            for (int t = 0; t < frames; t++) {
                assertEquals(CodebookSearchCases.plain(x[t], cb, norms, N, dim), got[t], "dim " + dim + " frame " + t + " vs the plain contract loop");
                double[] ex = exact(x[t], cb, N, dim);
                if (cs.expected()[t] >= 0) {
                    assertEquals(cs.expected()[t], got[t], "exact tie goes to the lowest index (dim " + dim + ", frame " + t + ")");
                }
                if (got[t] != (int) ex[0]) {
                    // allowed only when float32 cannot tell the two apart
                    double gap = dist64(x[t], cb, got[t], dim) - ex[1];
                    double scale = 0;
                    for (int d = 0; d < dim; d++) {
                        scale += (double) x[t][d] * x[t][d];
                    }
                    scale += norms[got[t]];
                    assertTrue(gap <= 4 * dim * Math.ulp((float) scale), "dim " + dim + " frame " + t + ": chose " + got[t]
                            + ", float64 says " + (int) ex[0] + " by " + gap);
                    assertTrue(t >= 10 && t < 30, "frame " + t + " is not a planted near-tie but flipped");
                    flips++;
                } else if (ex[2] - ex[1] > 1e-4) {
                    assertEquals((int) ex[0], got[t]);
                }
            }
            // 20 frames were planted on near-ties (1-ulp code pairs, half-way points); random ones never flip
            assertTrue(flips <= 20, "too many float32 near-tie flips: " + flips);
        }
    }

    /**
     * Ties straddling the CPU's and the GPU's tiles, all-equal distances, non-finite frames and codes,
     * tiny and odd shapes: the blocked search equals the plain loop, and the planted answers.
     */
    @Test
    void edgeCasesMatchThePlainContractLoop() {
        for (CodebookSearchCases.Case cs : CodebookSearchCases.edgeCases()) {
            float[] norms = cs.norms();
            int[] got;
            try (CpuContext ctx = new CpuContext(2)) {
                got = CodebookSearch.nearest(ctx, cs.frames(), cs.codebook(), norms, cs.numCodes(), cs.dim());
            }
            for (int t = 0; t < got.length; t++) {
                int plain = CodebookSearchCases.plain(cs.frames()[t], cs.codebook(), norms, cs.numCodes(), cs.dim());
                assertEquals(plain, got[t], cs.name() + ", frame " + t + " vs the plain contract loop");
                if (cs.expected()[t] >= 0) {
                    assertEquals(cs.expected()[t], got[t], cs.name() + ", frame " + t);
                }
                boolean finite = true;
                for (float v : cs.frames()[t]) {
                    finite &= Float.isFinite(v) && Math.abs(v) < 1e15f;
                }
                for (float v : cs.codebook()) {
                    finite &= Float.isFinite(v);
                }
                if (finite) { // float64 agrees wherever its best-vs-runner-up gap is far above float32 rounding
                    double[] ex = exact(cs.frames()[t], cs.codebook(), cs.numCodes(), cs.dim());
                    if (ex[2] - ex[1] > 1e-4) {
                        assertEquals((int) ex[0], got[t], cs.name() + ", frame " + t + " vs float64");
                    }
                }
            }
        }
    }

    /** The policy for non-finite input, spelled out: NaN frame -> 0; a +inf code wins the frames whose distance to it is NaN. */
    @Test
    void nonFinitePolicy() {
        CodebookSearchCases.Case cs = CodebookSearchCases.nonFinite();
        int[] got = CodebookSearch.nearest(CpuContext.singleThreaded(), cs.frames(), cs.codebook(), cs.norms(), cs.numCodes(), cs.dim());
        assertEquals(0, got[0], "frame with a NaN");
        for (int t = 4; t < got.length; t++) { // finite frames: code 600 (+inf at d = 3) gives inf - inf = NaN when x[3] > 0
            float x3 = cs.frames()[t][3];
            if (x3 > 0) {
                assertEquals(600, got[t], "finite frame " + t + " with x[3] > 0 meets NaN at code 600 first");
            } else {
                assertTrue(got[t] != 600, "finite frame " + t + " with x[3] < 0 is at +inf from code 600");
            }
        }
    }

    @Test
    void frameCodeDoesNotDependOnTheBatch() {
        int dim = 8;
        int n = 4096;
        Random r = new Random(3);
        float[] cb = new float[n * dim];
        for (int i = 0; i < cb.length; i++) {
            cb[i] = (float) r.nextGaussian();
        }
        float[] norms = CodebookSearch.codeNorms(cb, n, dim);
        float[][] x = new float[70][dim];
        for (float[] row : x) {
            for (int d = 0; d < dim; d++) {
                row[d] = (float) r.nextGaussian();
            }
        }
        int[] all = CodebookSearch.nearest(CpuContext.singleThreaded(), x, cb, norms, n, dim);
        for (int start : new int[] {0, 1, 3, 31, 33, 65}) {
            float[][] part = java.util.Arrays.copyOfRange(x, start, Math.min(x.length, start + 5));
            int[] got = CodebookSearch.nearest(CpuContext.singleThreaded(), part, cb, norms, n, dim);
            assertArrayEquals(java.util.Arrays.copyOfRange(all, start, start + got.length), got, "frames from " + start);
        }
        assertEquals(0, CodebookSearch.nearest(CpuContext.singleThreaded(), new float[0][dim], cb, norms, n, dim).length);
    }

    /**
     * Every dimension 1..20 (odd ones leave a single-dimension step in the kernel; those below 16 a
     * partial dimension block), a codebook that leaves a partial last tile, more frames than a group
     * and not a multiple of the three frames a pass shares, 1 to 5 threads (which changes how the codes
     * are split between tasks): always the plain contract loop's codes.
     */
    @Test
    void everyDimAndThreadCountMatchesThePlainLoop() {
        int n = CodebookSearch.TILE_CODES + 89;
        for (int dim = 1; dim <= 20; dim++) {
            Random r = new Random(100 + dim);
            float[] cb = CodebookSearchCases.gaussian(r, n * dim, 1.0);
            float[][] x = CodebookSearchCases.frames(r, CodebookSearch.FRAME_GROUP + 4, dim, 1.0);
            float[] norms = CodebookSearch.codeNorms(cb, n, dim);
            int[] want = new int[x.length];
            for (int t = 0; t < x.length; t++) {
                want[t] = CodebookSearchCases.plain(x[t], cb, norms, n, dim);
            }
            CodebookSearch.TiledCodebook book = CodebookSearch.pack(cb, n, dim);
            for (int threads = 1; threads <= 5; threads += 2) {
                try (CpuContext ctx = new CpuContext(threads)) {
                    assertArrayEquals(want, CodebookSearch.nearest(ctx, x, book), "dim " + dim + ", " + threads + " thread(s)");
                }
            }
        }
    }

    /**
     * Dimensions beyond one slice of the Vector API kernel (512 with 16 lanes, 64 with 8: the sums go
     * to memory and back between slices) and a last group of codes that is not full: still the plain
     * contract loop's codes.
     */
    @Test
    void dimensionsOverSeveralSlicesMatchThePlainLoop() {
        int n = 3 * 64 + 29;
        for (int dim : new int[] {511, 1100}) {
            Random r = new Random(7 + dim);
            float[] cb = CodebookSearchCases.gaussian(r, n * dim, 1.0);
            float[][] x = CodebookSearchCases.frames(r, 11, dim, 1.0);
            float[] norms = CodebookSearch.codeNorms(cb, n, dim);
            int[] want = new int[x.length];
            for (int t = 0; t < x.length; t++) {
                want[t] = CodebookSearchCases.plain(x[t], cb, norms, n, dim);
            }
            CodebookSearch.TiledCodebook book = CodebookSearch.pack(cb, n, dim);
            assertArrayEquals(cb, book.toRowMajor(), "dim " + dim + ": layout round trip");
            for (int threads = 1; threads <= 2; threads++) {
                try (CpuContext ctx = new CpuContext(threads)) {
                    assertArrayEquals(want, CodebookSearch.nearest(ctx, x, book), "dim " + dim + ", " + threads + " thread(s)");
                }
            }
        }
    }

    /** The tiled layout holds exactly the row-major codebook: element access, code copies, the round trip. */
    @Test
    void tiledCodebookRoundTrips() {
        for (int n : new int[] {1, 5, CodebookSearch.TILE_CODES, 2 * CodebookSearch.TILE_CODES + 3}) {
            int dim = 9;
            float[] cb = CodebookSearchCases.gaussian(new Random(n), n * dim, 1.0);
            CodebookSearch.TiledCodebook book = CodebookSearch.pack(cb, n, dim);
            assertArrayEquals(cb, book.toRowMajor(), n + " codes");
            assertArrayEquals(CodebookSearch.codeNorms(cb, n, dim), book.norms());
            float[] row = new float[dim];
            for (int c = 0; c < n; c += Math.max(1, n / 7)) {
                book.copyCode(c, row);
                assertArrayEquals(java.util.Arrays.copyOfRange(cb, c * dim, (c + 1) * dim), row, "code " + c);
                assertEquals(cb[c * dim + 4], book.get(c, 4));
            }
        }
    }
}
