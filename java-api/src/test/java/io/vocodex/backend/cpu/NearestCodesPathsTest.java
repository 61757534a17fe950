package io.vocodex.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every path of {@link VqOps#nearestCodesByColumns} (the plain-Java blocked loop, and the Vector API
 * kernel {@link VectorVq} when this run has it) against the one-frame-at-a-time row loop
 * {@link VqOps#nearestCodes}, code for code: random shapes whose dimension and code count are not
 * multiples of the vector length, 1 and 3 threads, 1 to 125 frames, exact ties (duplicated codes),
 * near-ties that only the exact rounding order decides, and NaN / infinite inputs.
 */
class NearestCodesPathsTest {
    private static CpuContext three;

    @BeforeAll
    static void start() {
        three = new CpuContext(3);
    }

    @AfterAll
    static void stop() {
        three.close();
    }

    /** Asserts that all paths and thread counts give the row loop's codes; returns them. */
    static int[] checkAllPaths(float[][] x, float[] cb, int n, int dim, String label) {
        float[] norms = VqOps.squaredNorms(cb, n, dim);
        float[][] columns = VqOps.codebookColumns(cb, n, dim);
        int[] want = VqOps.nearestCodes(CpuContext.singleThreaded(), x, cb, norms, n);
        CpuContext one = CpuContext.singleThreaded();
        assertArrayEquals(want, VqOps.nearestCodesByColumnsPlain(one, x, columns, norms), label + ", plain, 1 thread");
        assertArrayEquals(want, VqOps.nearestCodesByColumnsPlain(three, x, columns, norms), label + ", plain, 3 threads");
        assertArrayEquals(want, VqOps.nearestCodesByColumns(one, x, columns, norms), label + ", default path, 1 thread");
        assertArrayEquals(want, VqOps.nearestCodesByColumns(three, x, columns, norms), label + ", default path, 3 threads");
        if (Simd.enabled()) {
            assertArrayEquals(want, VqOps.nearestCodesByColumnsVector(one, x, columns, norms), label + ", Vector API, 1 thread");
            assertArrayEquals(want, VqOps.nearestCodesByColumnsVector(three, x, columns, norms), label + ", Vector API, 3 threads");
        }
        return want;
    }

    static float[] randomCodebook(Random r, int n, int dim, double scale) {
        float[] cb = new float[n * dim];
        for (int i = 0; i < cb.length; i++) {
            cb[i] = (float) (scale * r.nextGaussian());
        }
        return cb;
    }

    static float[][] randomFrames(Random r, int dim, int frames, double scale) {
        float[][] x = new float[dim][frames];
        for (float[] row : x) {
            for (int t = 0; t < frames; t++) {
                row[t] = (float) (scale * r.nextGaussian());
            }
        }
        return x;
    }

    static void setFrame(float[][] x, int t, float[] cb, int code, int dim) {
        for (int d = 0; d < dim; d++) {
            x[d][t] = cb[code * dim + d];
        }
    }

    @Test
    void randomShapesThreadsAndFrameCounts() {
        Random r = new Random(11);
        int[][] shapes = { // {dim, codes, frames}
            {1, 5, 3}, {7, 1, 4}, {7, 16, 5}, {16, 63, 1}, {17, 64, 2}, {17, 65, 17}, {33, 100, 13},
            {20, 130, 125}, {256, 2048, 1}, {256, 2048, 3}, {256, 2048, 9}, {255, 1000, 40}, {13, 4097, 2},
        };
        for (int[] s : shapes) {
            int dim = s[0];
            int n = s[1];
            int frames = s[2];
            float[] cb = randomCodebook(r, n, dim, 1.0);
            float[][] x = randomFrames(r, dim, frames, 1.0);
            checkAllPaths(x, cb, n, dim, "dim " + dim + ", " + n + " codes, " + frames + " frames");
        }
    }

    @Test
    void exactTiesGoToTheLowestCodeWhereverTheDuplicatesLie() {
        Random r = new Random(12);
        int dim = 19;
        int n = 1100; // blocks of 64 codes, parts of 256 codes, a tail of 12 codes after the last vector
        float[] cb = randomCodebook(r, n, dim, 0.5);
        // copies of code 3 in the same lane of a later vector (3+16), in another lane (5), in a
        // later block (200), in a later part (700) and in the scalar tail (1095); code 1090 (the
        // tail) duplicated later in the tail only
        for (int copy : new int[] {19, 5, 200, 700, 1095}) {
            System.arraycopy(cb, 3 * dim, cb, copy * dim, dim);
        }
        System.arraycopy(cb, 1090 * dim, cb, 1099 * dim, dim);
        // code 40 copied to lower codes: the lowest copy (7) must win over the original
        System.arraycopy(cb, 40 * dim, cb, 7 * dim, dim);
        System.arraycopy(cb, 40 * dim, cb, 30 * dim, dim);
        for (int frames : new int[] {1, 2, 5, 21}) {
            float[][] x = randomFrames(r, dim, frames, 0.5);
            setFrame(x, 0, cb, 700, dim);
            if (frames > 1) {
                setFrame(x, 1, cb, 1099, dim);
            }
            if (frames > 2) {
                setFrame(x, 2, cb, 40, dim);
            }
            int[] got = checkAllPaths(x, cb, n, dim, "ties, " + frames + " frames");
            assertEquals(3, got[0], "a frame on code 3's copies");
            if (frames > 1) {
                assertEquals(1090, got[1], "a frame on code 1090's copy");
            }
            if (frames > 2) {
                assertEquals(7, got[2], "a frame on code 40's lower copies");
            }
        }
    }

    /**
     * Codes one float32 ulp apart in one coordinate and frames on or between them: their distances
     * differ in the last bits (or tie after the square root, or clamp to zero at large magnitudes),
     * so a path that rounded in another order (an fma, a reassociated sum) picks other codes.
     */
    @Test
    void nearTiesAreDecidedExactlyAsTheRowLoopDecidesThem() {
        Random r = new Random(13);
        for (double scale : new double[] {1.0, 300.0}) {
            int dim = 37;
            int n = 600;
            int clusters = 40;
            float[] cb = randomCodebook(r, n, dim, scale);
            for (int k = 0; k < clusters; k++) {
                int base = r.nextInt(n);
                for (int copy = 0; copy < 6; copy++) {
                    int to = r.nextInt(n);
                    System.arraycopy(cb, base * dim, cb, to * dim, dim);
                    int c = r.nextInt(dim);
                    float v = cb[to * dim + c];
                    int ulps = r.nextInt(3) - 1;
                    cb[to * dim + c] = ulps == 0 ? v : ulps > 0 ? Math.nextUp(v) : Math.nextDown(v);
                }
            }
            int frames = 70;
            float[][] x = new float[dim][frames];
            for (int t = 0; t < frames; t++) {
                int code = r.nextInt(n);
                for (int d = 0; d < dim; d++) {
                    float e = cb[code * dim + d];
                    // on the code, or nudged by an ulp or a relative 1e-6
                    x[d][t] = switch (t % 3) {
                        case 0 -> e;
                        case 1 -> Math.nextUp(e);
                        default -> (float) (e * (1 + 1e-6 * r.nextGaussian()));
                    };
                }
            }
            checkAllPaths(x, cb, n, dim, "near ties, scale " + scale);
        }
    }

    @Test
    void nanAndInfiniteInputsPickTheSameCodes() {
        Random r = new Random(14);
        int dim = 21;
        int n = 333;
        float[] cb = randomCodebook(r, n, dim, 1.0);
        cb[10 * dim + 4] = Float.NaN; // a NaN code never wins
        cb[11 * dim] = Float.POSITIVE_INFINITY; // an infinite norm: distance +inf or NaN
        cb[300 * dim + 2] = Float.NEGATIVE_INFINITY;
        cb[12 * dim + 5] = 3e19f; // its square overflows the norm to +inf
        int frames = 11;
        float[][] x = randomFrames(r, dim, frames, 1.0);
        x[3][0] = Float.NaN; // every distance NaN: code 0
        x[0][1] = Float.POSITIVE_INFINITY; // |x|^2 = +inf
        x[5][2] = Float.NEGATIVE_INFINITY;
        for (int d = 0; d < dim; d++) {
            x[d][3] = 2e19f; // |x|^2 overflows
            x[d][4] = 1e-30f; // products underflow to subnormals and zero
        }
        setFrame(x, 5, cb, 11, dim); // on the code with an infinite coordinate
        setFrame(x, 6, cb, 12, dim);
        setFrame(x, 7, cb, 10, dim); // on the NaN code
        int[] got = checkAllPaths(x, cb, n, dim, "NaN and infinities");
        assertEquals(0, got[0], "a NaN frame has no finite distance: the first code");
        // a codebook whose every distance is NaN or +inf: code 0 as well
        float[] allInf = randomCodebook(r, 50, dim, 1.0);
        for (int k = 0; k < 50; k++) {
            allInf[k * dim + k % dim] = Float.POSITIVE_INFINITY;
        }
        int[] none = checkAllPaths(randomFrames(r, dim, 6, 1.0), allInf, 50, dim, "no finite distance");
        assertArrayEquals(new int[6], none);
    }
}
