package io.vocodex.backend.cpu;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Codebook-search inputs shared by the CPU test ({@code CodebookSearchTest}) and the GPU parity test
 * ({@code CudaCodebookSearchTest}), with the contract written as plainly as possible ({@link #plain}).
 * Each case plants what a tiled search can get wrong: exact ties (duplicated codes, also straddling the
 * GPU's 128-code tiles and the CPU's cache tiles), all-equal distances, near-ties, non-finite frames and
 * codes, shapes that leave partial tiles and a dimension that is not a multiple of 4 (no float4 loads).
 */
public final class CodebookSearchCases {
    private CodebookSearchCases() {
    }

    /**
     * One search problem; {@code expected[t]} is the code the contract must give frame t, or -1 where
     * only {@link #plain} says.
     */
    public record Case(String name, float[] codebook, int numCodes, int dim, float[][] frames, int[] expected) {
        public float[] norms() {
            return CodebookSearch.codeNorms(codebook, numCodes, dim);
        }
    }

    /**
     * The contract, one frame and one code at a time: the lowest index among the codes of smallest
     * {@code sqrt(max((xx + yy) - 2 dot, 0))}, a NaN key ranking before every number.
     */
    public static int plain(float[] x, float[] cb, float[] norms, int n, int dim) {
        float xx = 0f;
        for (int d = 0; d < dim; d++) {
            xx = Math.fma(x[d], x[d], xx);
        }
        int best = -1;
        float bestKey = Float.POSITIVE_INFINITY;
        for (int c = 0; c < n; c++) {
            float dot = 0f;
            for (int d = 0; d < dim; d++) {
                dot = Math.fma(x[d], cb[c * dim + d], dot);
            }
            float key = (float) Math.sqrt(Math.max((xx + norms[c]) - 2f * dot, 0f));
            boolean bestIsNaN = best >= 0 && Float.isNaN(bestKey);
            if (best < 0 || (!bestIsNaN && (Float.isNaN(key) || key < bestKey))) {
                best = c;
                bestKey = key;
            }
        }
        return best;
    }

    static float[] gaussian(Random r, int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (r.nextGaussian() * scale);
        }
        return a;
    }

    static float[][] frames(Random r, int count, int dim, double scale) {
        float[][] x = new float[count][];
        for (int t = 0; t < count; t++) {
            x[t] = gaussian(r, dim, scale);
        }
        return x;
    }

    /**
     * The planted-ties case of {@code CodebookSearchTest} at {@code numCodes} codes: codes
     * {@code 5000 + 1000 j} duplicate codes {@code 100 + j} (frames 0..9 sit on codes 100..109: an exact
     * tie at distance ~0, lowest index wins), codes {@code 20000 + j, +1} are 1-ulp pairs (frames 10..19
     * next to them), frames 20..29 lie half-way between two random codes; 77 frames in all.
     */
    public static Case plantedTies(int dim, int numCodes) {
        Random r = new Random(dim);
        float[] cb = gaussian(r, numCodes * dim, 0.3);
        for (int j = 0; j < 20; j++) {
            System.arraycopy(cb, (100 + j) * dim, cb, (5000 + j * 1000) * dim, dim);
        }
        for (int j = 0; j < 20; j += 2) {
            int a = 20000 + j;
            System.arraycopy(cb, a * dim, cb, (a + 1) * dim, dim);
            cb[(a + 1) * dim + j % dim] = Math.nextUp(cb[a * dim + j % dim]);
        }
        int count = 77; // not a multiple of 4, 32 or 128
        float[][] x = frames(r, count, dim, 0.3);
        int[] expected = new int[count];
        java.util.Arrays.fill(expected, -1);
        for (int j = 0; j < 10; j++) {
            System.arraycopy(cb, (100 + j) * dim, x[j], 0, dim);
            expected[j] = 100 + j;
        }
        for (int j = 0; j < 10; j++) {
            int a = 20000 + 2 * j;
            for (int d = 0; d < dim; d++) {
                x[10 + j][d] = cb[a * dim + d] + 1e-3f * (d % 2 == 0 ? 1 : -1);
            }
        }
        for (int j = 0; j < 10; j++) {
            int a = 1 + r.nextInt(numCodes - 1);
            int b = 1 + r.nextInt(numCodes - 1);
            for (int d = 0; d < dim; d++) {
                x[20 + j][d] = (cb[a * dim + d] + cb[b * dim + d]) / 2;
            }
        }
        return new Case("planted ties dim " + dim, cb, numCodes, dim, x, expected);
    }

    /**
     * Duplicate pairs straddling tile boundaries: the GPU's 128-code tiles (127|128, 255|256, ...) and the
     * CPU's {@code TILE_CODES}-code tiles; frames sit on the HIGHER code of each pair, so a
     * search that lets a later tile win a tie returns the wrong one. 3000 codes (the last GPU tile is
     * partial), dim 20 (six CPU tiles, the last partial).
     */
    public static Case tileBoundaryTies() {
        int dim = 20;
        int n = 3000;
        Random r = new Random(11);
        float[] cb = gaussian(r, n * dim, 1.0);
        int cpuTile = 3 * CodebookSearch.TILE_CODES; // a CPU tile boundary that is not a power of two
        int[] lows = {127, 255, 511, 1023, 2047, cpuTile - 1, 383, 2943};
        float[][] x = frames(r, lows.length * 3 + 5, dim, 1.0);
        int[] expected = new int[x.length];
        java.util.Arrays.fill(expected, -1);
        for (int i = 0; i < lows.length; i++) {
            int lo = lows[i];
            int hi = lo + 1;
            System.arraycopy(cb, lo * dim, cb, hi * dim, dim);
            System.arraycopy(cb, hi * dim, x[i], 0, dim);
            expected[i] = lo;
            // a far copy in a later tile too: a three-way tie across tiles
            int far = (lo + 1000) % n;
            if (far > hi) {
                System.arraycopy(cb, lo * dim, cb, far * dim, dim);
            }
        }
        for (int i = 0; i < lows.length; i++) { // frames near (not on) a pair: a tie at a positive distance
            int lo = lows[i];
            for (int d = 0; d < dim; d++) {
                x[lows.length + i][d] = cb[lo * dim + d] + 1e-2f;
            }
            expected[lows.length + i] = lo;
        }
        return new Case("tile-boundary ties", cb, n, dim, x, expected);
    }

    /**
     * A codebook that does not fill its last CPU tile ({@code 2 TILE_CODES + 277} codes, dim 7: the
     * last tile holds 277 codes in shorter rows) with duplicate pairs across both CPU tile boundaries,
     * within the last tile, between its last code and code 0 (first and last tile), and a three-way tie
     * spanning all three tiles; frames sit on the higher copy. 101 frames: more than a CPU frame group,
     * not a multiple of the three frames a pass shares.
     */
    public static Case partialLastTileTies() {
        int dim = 7;
        int tile = CodebookSearch.TILE_CODES;
        int n = 2 * tile + 277;
        Random r = new Random(12);
        float[] cb = gaussian(r, n * dim, 1.0);
        int[][] pairs = {{tile - 1, tile}, {2 * tile - 1, 2 * tile}, {2 * tile + 5, n - 2}, {0, n - 1}, {3, tile + 3}, {3, 2 * tile + 3}};
        for (int[] p : pairs) {
            System.arraycopy(cb, p[0] * dim, cb, p[1] * dim, dim);
        }
        float[][] x = frames(r, 101, dim, 1.0);
        int[] expected = filled(x.length, -1);
        for (int i = 0; i < pairs.length; i++) {
            System.arraycopy(cb, pairs[i][1] * dim, x[i], 0, dim);
            expected[i] = pairs[i][0];
            for (int d = 0; d < dim; d++) { // near the pair, not on it, in the last frame group slots too
                x[x.length - 1 - i][d] = cb[pairs[i][0] * dim + d] + 1e-2f;
            }
            expected[x.length - 1 - i] = pairs[i][0];
        }
        return new Case("partial last CPU tile ties", cb, n, dim, x, expected);
    }

    /** Every code identical: every distance equal, so every frame gets code 0. 700 codes, dim 16. */
    public static Case allEqual() {
        int dim = 16;
        int n = 700;
        Random r = new Random(5);
        float[] row = gaussian(r, dim, 1.0);
        float[] cb = new float[n * dim];
        for (int c = 0; c < n; c++) {
            System.arraycopy(row, 0, cb, c * dim, dim);
        }
        float[][] x = frames(r, 40, dim, 1.0);
        int[] expected = new int[x.length]; // all 0
        return new Case("all-equal distances", cb, n, dim, x, expected);
    }

    /**
     * Non-finite values: frames with a NaN, +inf or -inf coordinate, a huge frame whose |x|^2 overflows,
     * and a code (600) with a +inf coordinate (its distance is NaN or +inf depending on the frame's sign
     * there). Policy: a frame with a NaN gets code 0 (every distance NaN); the rest as {@link #plain} says.
     */
    public static Case nonFinite() {
        int dim = 12;
        int n = 1200;
        Random r = new Random(9);
        float[] cb = gaussian(r, n * dim, 1.0);
        cb[600 * dim + 3] = Float.POSITIVE_INFINITY;
        float[][] x = frames(r, 10, dim, 1.0);
        int[] expected = new int[x.length];
        java.util.Arrays.fill(expected, -1);
        x[0][5] = Float.NaN;
        expected[0] = 0;
        x[1][0] = Float.POSITIVE_INFINITY;
        x[2][11] = Float.NEGATIVE_INFINITY;
        java.util.Arrays.fill(x[3], 1e20f); // |x|^2 = inf
        return new Case("non-finite frames and codes", cb, n, dim, x, expected);
    }

    /** A codebook with a NaN coordinate in code 900: every frame without a NaN of its own chooses 900. */
    public static Case nanCode() {
        int dim = 12;
        int n = 1200;
        Random r = new Random(10);
        float[] cb = gaussian(r, n * dim, 1.0);
        cb[900 * dim + 7] = Float.NaN;
        float[][] x = frames(r, 9, dim, 1.0);
        int[] expected = new int[x.length];
        java.util.Arrays.fill(expected, 900);
        return new Case("NaN code", cb, n, dim, x, expected);
    }

    /** The small edge cases (every shape but the 32768-code ones). */
    public static List<Case> edgeCases() {
        List<Case> all = new ArrayList<>();
        all.add(tileBoundaryTies());
        all.add(partialLastTileTies());
        all.add(allEqual());
        all.add(nonFinite());
        all.add(nanCode());
        Random r = new Random(4);
        // one frame, one code; fewer codes than a tile; dims 1 and 3 (partial 8-dim slice, no float4)
        all.add(new Case("1 frame x 1 code", gaussian(r, 5, 1), 1, 5, frames(r, 1, 5, 1), new int[] {0}));
        all.add(new Case("dim 1", gaussian(r, 300, 1), 300, 1, frames(r, 130, 1, 1), filled(130, -1)));
        all.add(new Case("dim 3, 129 codes", gaussian(r, 129 * 3, 1), 129, 3, frames(r, 257, 3, 1), filled(257, -1)));
        return all;
    }

    static int[] filled(int n, int v) {
        int[] a = new int[n];
        java.util.Arrays.fill(a, v);
        return a;
    }
}
