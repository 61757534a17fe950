package io.vocodex.backend.cpu;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The factored search ({@code x = W h + b}, candidates by {@code c_e - 2 h.u_e}, then the contract's
 * kernel) against {@link CodebookSearch#nearest} on the same frames: the same code for every frame,
 * on random codebooks, planted exact ties and one-ulp near-ties at distance ~0, codes that are all
 * equal (every code a candidate: full search), non-finite and huge frames, projections summed in
 * either order, 1 and 3 threads. On the plain-Java path (no Vector API) it is not offered.
 */
class FactoredSearchTest {
    static final int IN = 24;
    static final int DIM = 96;
    static final int CODES = 5000; // not a multiple of the 64-code groups

    record Setup(float[] w, float[] b, float[][] h, float[][] x) {
    }

    /** Random projection and frames; x summed ascending (even frames) or descending (odd), then the bias. */
    static Setup setup(Random rnd, int frames) {
        float[] w = new float[DIM * IN];
        float a = (float) (1 / Math.sqrt(IN));
        for (int i = 0; i < w.length; i++) {
            w[i] = (rnd.nextFloat() * 2 - 1) * a;
        }
        float[] b = new float[DIM];
        for (int j = 0; j < DIM; j++) {
            b[j] = (rnd.nextFloat() * 2 - 1) * 0.05f;
        }
        float[][] h = new float[frames][IN];
        for (float[] r : h) {
            for (int i = 0; i < IN; i++) {
                r[i] = (float) rnd.nextGaussian() * (0.5f + rnd.nextFloat());
            }
        }
        return new Setup(w, b, h, project(w, b, h));
    }

    static float[][] project(float[] w, float[] b, float[][] h) {
        float[][] x = new float[h.length][DIM];
        for (int f = 0; f < h.length; f++) {
            for (int j = 0; j < DIM; j++) {
                float acc = 0f;
                if (f % 2 == 0) {
                    for (int i = 0; i < IN; i++) {
                        acc = Math.fma(w[j * IN + i], h[f][i], acc);
                    }
                } else {
                    for (int i = IN - 1; i >= 0; i--) {
                        acc = Math.fma(w[j * IN + i], h[f][i], acc);
                    }
                }
                x[f][j] = acc + b[j];
            }
        }
        return x;
    }

    static float[] randomCodes(Random rnd) {
        float[] cb = new float[CODES * DIM];
        for (int i = 0; i < cb.length; i++) {
            cb[i] = rnd.nextFloat() - 0.5f;
        }
        return cb;
    }

    /** Factored codes of every frame equal the full search's, on 1 and 3 threads; the stats of the last call. */
    static FactoredSearch.Stats check(float[] cb, Setup s) {
        CodebookSearch.TiledCodebook book = CodebookSearch.pack(cb, CODES, DIM);
        FactoredSearch.Stats stats = null;
        for (int threads : new int[] {1, 3}) {
            try (CpuContext ctx = new CpuContext(threads)) {
                int[] want = CodebookSearch.nearest(ctx, s.x(), book);
                FactoredSearch f = FactoredSearch.build(ctx, book, s.w(), s.b(), IN);
                assertNotNull(f);
                stats = new FactoredSearch.Stats();
                int[] got = f.nearest(ctx, s.h(), s.x(), stats);
                assertArrayEquals(want, got, "threads " + threads);
            }
        }
        return stats;
    }

    @Test
    void randomCodebookGivesTheFullSearchCodesFromFewCandidates() {
        assertEquals(Simd.enabled(), FactoredSearch.worthwhile(CodebookSearch.pack(new float[DIM], 1, DIM), IN));
        assumeTrue(Simd.enabled(), "the factored search is only offered with the Vector API (worthwhile is false, checked above)");
        Random rnd = new Random(11);
        Setup s = setup(rnd, 300);
        FactoredSearch.Stats stats = check(randomCodes(rnd), s);
        assertEquals(300, stats.frames);
        assertEquals(0, stats.fullFrames, "no frame of random data needs the full search");
        // the margin is a few score spacings: a handful of candidates per frame, not the codebook
        assertTrue(stats.candidates <= 8L * stats.frames, stats.candidates + " candidates for " + stats.frames + " frames");
    }

    @Test
    void plantedTiesAtDistanceZeroAndOneUlpApart() {
        assumeTrue(Simd.enabled(), "the factored search is only offered with the Vector API");
        Random rnd = new Random(12);
        Setup s = setup(rnd, 200);
        float[] cb = randomCodes(rnd);
        // codes at random places (mostly in different 64-code blocks, which are scored separately)
        int[] places = new int[CODES];
        for (int i = 0; i < CODES; i++) {
            places[i] = i;
        }
        for (int i = CODES - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = places[i];
            places[i] = places[j];
            places[j] = t;
        }
        int next = 0;
        // frames 0..59: their own vector planted three times, two copies exact (a tie at key 0:
        // lowest index wins) and one a single ulp away in one coordinate
        for (int f = 0; f < 60; f++) {
            int c1 = places[next++];
            int c2 = places[next++];
            int c3 = places[next++];
            System.arraycopy(s.x()[f], 0, cb, c1 * DIM, DIM);
            System.arraycopy(s.x()[f], 0, cb, c2 * DIM, DIM);
            System.arraycopy(s.x()[f], 0, cb, c3 * DIM, DIM);
            int d = rnd.nextInt(DIM);
            cb[c3 * DIM + d] = f % 2 == 0 ? Math.nextUp(cb[c3 * DIM + d]) : Math.nextDown(cb[c3 * DIM + d]);
        }
        // frames 100..199: a code near the frame and four copies of it, each one ulp off in one
        // coordinate: five near-ties that only the contract's rounding separates
        for (int f = 100; f < 200; f++) {
            int c1 = places[next++];
            for (int j = 0; j < DIM; j++) {
                cb[c1 * DIM + j] = s.x()[f][j] + 0.02f * (float) rnd.nextGaussian();
            }
            for (int k = 0; k < 4; k++) {
                int c = places[next++];
                System.arraycopy(cb, c1 * DIM, cb, c * DIM, DIM);
                int d = rnd.nextInt(DIM);
                cb[c * DIM + d] = rnd.nextBoolean() ? Math.nextUp(cb[c * DIM + d]) : Math.nextDown(cb[c * DIM + d]);
            }
        }
        FactoredSearch.Stats stats = check(cb, s);
        assertTrue(stats.fullFrames < stats.frames, "the factored path ran");
    }

    @Test
    void equalCodesAndNonFiniteOrHugeFramesFallBackToTheFullSearch() {
        assumeTrue(Simd.enabled(), "the factored search is only offered with the Vector API");
        Random rnd = new Random(13);
        Setup s = setup(rnd, 40);
        float[] same = new float[CODES * DIM];
        for (int c = 0; c < CODES; c++) {
            System.arraycopy(s.x()[0], 0, same, c * DIM, DIM);
        }
        FactoredSearch.Stats stats = check(same, s);
        assertEquals(stats.frames, stats.fullFrames, "every code is a candidate: full search");

        s.h()[3][5] = Float.NaN;
        s.x()[3][7] = Float.NaN;
        s.h()[4][0] = Float.POSITIVE_INFINITY;
        s.x()[4][0] = Float.POSITIVE_INFINITY;
        for (int i = 0; i < IN; i++) {
            s.h()[5][i] *= 1e16f;
        }
        s.x()[5] = project(s.w(), s.b(), new float[][] {s.h()[5]})[0];
        s.x()[6] = s.x()[6].clone();
        s.x()[6][2] = -0f;
        stats = check(randomCodes(rnd), s);
        assertEquals(3, stats.fullFrames, "the NaN, infinite and huge frames");
    }

    @Test
    void nonFiniteWeightsBuildNothingAndShapesAreChecked() {
        assumeTrue(Simd.enabled(), "the factored search is only offered with the Vector API");
        Random rnd = new Random(14);
        Setup s = setup(rnd, 3);
        CodebookSearch.TiledCodebook book = CodebookSearch.pack(randomCodes(rnd), CODES, DIM);
        try (CpuContext ctx = new CpuContext(2)) {
            float[] w = s.w().clone();
            w[17] = Float.NaN;
            assertNull(FactoredSearch.build(ctx, book, w, s.b(), IN));
            float[] cb = randomCodes(rnd);
            cb[123] = Float.POSITIVE_INFINITY;
            assertNull(FactoredSearch.build(ctx, CodebookSearch.pack(cb, CODES, DIM), s.w(), s.b(), IN));
            assertThrows(IllegalArgumentException.class, () -> FactoredSearch.build(ctx, book, s.w(), s.b(), IN + 1));
            assertFalse(FactoredSearch.worthwhile(book, DIM / 2 + 1), "wider than half the codebook: not worth it");
            FactoredSearch f = FactoredSearch.build(ctx, book, s.w(), s.b(), IN);
            assertThrows(IllegalArgumentException.class, () -> f.nearest(ctx, s.h(), new float[2][DIM]));
            assertThrows(IllegalArgumentException.class, () -> f.nearest(ctx, new float[][] {new float[IN + 1]}, new float[1][DIM]));
        }
    }
}
