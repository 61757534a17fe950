package io.vocodex.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Random;

/**
 * The Vector API kernels of attention against the plain loops, compared in float64 bit for bit (a
 * one-ulp float64 difference, e.g. from a fused multiply-add, almost never survives the final
 * rounding to float32, so the float32 tests of {@link TransformerOps} could not see it). Runs where
 * the kernels are in use; the plain-Java execution of the build has nothing to compare.
 */
class VectorAttentionTest {
    private final Random r = new Random(99);

    @BeforeEach
    void needsTheVectorKernels() {
        assumeTrue(Simd.enabled(), "Vector API kernels not in use: " + Simd.reason());
    }

    private double[][] rand(int rows, int cols) {
        double[][] x = new double[rows][cols];
        for (double[] row : x) {
            for (int i = 0; i < cols; i++) {
                // full float64 values: with float32 ones (what the callers store) a product is exact
                // and a fused multiply-add would go unnoticed
                row[i] = r.nextGaussian();
            }
        }
        return x;
    }

    @Test
    void scoresAreThePlainDotProducts() {
        for (int headDim : new int[] {64, 20, 3}) {
            for (int m : new int[] {1, 2, 3, 4, 5, 9}) { // 1-3: the few-queries kernels
                int cap = 70;
                double[][] keys = rand(2 * headDim, cap); // two heads: the kernel reads rows k0 ..
                double[][] q = rand(m, headDim);
                for (int[] range : new int[][] {{0, cap}, {3, 3 + 37}, {1, 51}, {5, 6}, {60, 70}, {8, 8}}) {
                    double[][] fast = new double[m][cap];
                    VectorAttention.scores(q, keys, headDim, range[0], range[1], fast);
                    for (int i = 0; i < m; i++) {
                        double[] plain = new double[cap];
                        for (int d = 0; d < headDim; d++) {
                            for (int s = range[0]; s < range[1]; s++) {
                                plain[s] += q[i][d] * keys[headDim + d][s];
                            }
                        }
                        assertArrayEquals(plain, fast[i], "head dim " + headDim + ", queries " + m + ", query " + i);
                    }
                }
            }
        }
    }

    @Test
    void scalingMaximumAndWeightsAreThePlainOnes() {
        for (int[] range : new int[][] {{0, 50}, {7, 30}, {3, 5}, {9, 9}}) {
            double[] x = rand(1, 50)[0];
            x[10] = 40; // a clear maximum inside most ranges
            double[] fast = x.clone();
            double[] plain = x.clone();
            double scale = 1.0 / Math.sqrt(64);
            double fastMax = VectorAttention.scaleAndMax(fast, range[0], range[1], scale, -1e300);
            double plainMax = -1e300;
            for (int s = range[0]; s < range[1]; s++) {
                plain[s] = plain[s] * scale;
                plainMax = Math.max(plainMax, plain[s]);
            }
            assertArrayEquals(plain, fast);
            assertEquals(plainMax, fastMax);
            VectorAttention.divide(fast, range[0], range[1], 3.7);
            for (int s = range[0]; s < range[1]; s++) {
                plain[s] = plain[s] / 3.7;
            }
            assertArrayEquals(plain, fast);
        }
        double[] nan = {1, 2, Double.NaN, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17};
        assertEquals(Double.NaN, VectorAttention.scaleAndMax(nan, 0, nan.length, 1.0, Double.NEGATIVE_INFINITY));
    }

    @Test
    void weightedSumIsThePlainAccumulation() {
        for (int headDim : new int[] {64, 20, 5}) {
            double[][] values = rand(40, headDim);
            double[] w = rand(1, 40)[0];
            for (int[] range : new int[][] {{0, 40}, {13, 29}, {39, 40}, {4, 4}}) {
                double[] fast = rand(1, headDim)[0];
                double[] plain = fast.clone();
                VectorAttention.accumulate(w, values, range[0], range[1], fast, headDim);
                for (int s = range[0]; s < range[1]; s++) {
                    for (int d = 0; d < headDim; d++) {
                        plain[d] += w[s] * values[s][d];
                    }
                }
                assertArrayEquals(plain, fast, "head dim " + headDim);
            }
        }
    }
}
