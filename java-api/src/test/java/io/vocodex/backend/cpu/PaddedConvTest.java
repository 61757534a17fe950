package io.vocodex.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * {@link CpuOps#conv1dPadded} reads its zero padding without a padded copy; it must give exactly
 * the bits of {@code conv1d(zeroPad(x))}, and its fused epilogues ({@code silu}, {@code siluInto},
 * {@code accumulateInto}) exactly those of the separate passes, on every kernel path (this class
 * runs under the plain loops and both Vector API block shapes) and thread count. The padded conv
 * is also checked against a plain float64 sum (tolerance: 1e-5 relative to the sum of |terms|).
 */
class PaddedConvTest {
    private static float[][] gaussian(Random r, int rows, int cols, double scale) {
        float[][] x = new float[rows][cols];
        for (float[] row : x) {
            for (int i = 0; i < cols; i++) {
                row[i] = (float) (scale * r.nextGaussian());
            }
        }
        return x;
    }

    @Test
    void paddedConvEqualsConvOfThePaddedCopy() {
        Random r = new Random(5);
        // cin, cout, tin, kernel, stride, dilation, padLeft, padRight
        int[][] shapes = {
            {8, 12, 300, 11, 1, 5, 25, 25},   // a HiFi-GAN dilated conv: windows reach far into both pads
            {16, 6, 200, 3, 1, 1, 1, 1},
            {5, 7, 97, 7, 1, 3, 9, 9},        // odd sizes: partial blocks, remainder channels
            {6, 9, 150, 4, 2, 1, 3, 0},       // strided, one-sided
            {3, 4, 40, 13, 1, 1, 6, 6},       // shorter than one block of positions
            {4, 5, 10, 3, 1, 1, 1, 1},        // too short for the vector kernel: the copy path
        };
        for (int[] s : shapes) {
            int cin = s[0], cout = s[1], tin = s[2], k = s[3], stride = s[4], dil = s[5], pl = s[6], pr = s[7];
            float[][] x = gaussian(r, cin, tin, 1.0);
            float[] w = gaussian(r, 1, cout * cin * k, 0.2)[0];
            float[] b = gaussian(r, 1, cout, 0.5)[0];
            String where = java.util.Arrays.toString(s);
            for (int threads = 1; threads <= 3; threads += 2) {
                try (CpuContext ctx = new CpuContext(threads)) {
                    float[][] want = CpuOps.conv1d(ctx, NnOps.zeroPad(x, pl, pr), w, b, cout, k, stride, dil, 1);
                    float[][] got = CpuOps.conv1dPadded(ctx, x, w, b, cout, k, stride, dil, 1, pl, pr, null);
                    assertEquals(want.length, got.length, where);
                    for (int co = 0; co < cout; co++) {
                        assertArrayEquals(want[co], got[co], where + " channel " + co + ", " + threads + " thread(s)");
                    }
                    if (threads == 1) {
                        checkFloat64(x, w, b, cout, k, stride, dil, pl, got, where);
                    }
                }
            }
        }
        try (CpuContext ctx = new CpuContext(1)) {
            float[][] x = new float[2][40];
            assertThrows(IllegalArgumentException.class,
                    () -> CpuOps.conv1dPadded(ctx, x, new float[6], null, 1, 3, 1, 1, 1, -1, 0, null));
        }
    }

    private static void checkFloat64(float[][] x, float[] w, float[] b, int cout, int k, int stride, int dil, int pl,
                                      float[][] got, String where) {
        double[][][] ref = ParityCheck.paddedConvFloat64(x, w, b, cout, k, stride, dil, pl, got[0].length);
        for (int co = 0; co < cout; co++) {
            for (int t = 0; t < got[co].length; t++) {
                assertEquals(ref[0][co][t], got[co][t], 1e-5 * ref[1][co][t] + 1e-30, where + " (" + co + ", " + t + ") vs float64");
            }
        }
    }

    @Test
    void siluAndAccumulateEpiloguesEqualTheSeparatePasses() {
        Random r = new Random(9);
        int cin = 12, cout = 10, tin = 1500, k = 7, dil = 3, pad = 9;
        float[][] x = gaussian(r, cin, tin, 2.0);
        float[] w = gaussian(r, 1, cout * cin * k, 0.3)[0];
        float[] b = gaussian(r, 1, cout, 0.5)[0];
        float[][] shortcut = gaussian(r, cout, tin, 1.0);
        for (int threads = 1; threads <= 2; threads++) {
            try (CpuContext ctx = new CpuContext(threads)) {
                float[][] conv = CpuOps.conv1dPadded(ctx, x, w, b, cout, k, 1, dil, 1, pad, pad, null);

                float[][] silu = CpuOps.conv1dPadded(ctx, x, w, b, cout, k, 1, dil, 1, pad, pad, CpuOps.ConvEpilogue.silu());
                float[][] wantSilu = NnOps.silu(ctx, conv);
                assertRowsEqual(wantSilu, silu, "silu epilogue");

                float[][] into = CpuOps.newRows(ctx, cout, tin);
                float[][] sum = NnOps.silu(ctx, shortcut); // any starting sum
                float[][] wantSum = new float[cout][];
                float[][] wantAdded = new float[cout][];
                for (int c = 0; c < cout; c++) {
                    wantAdded[c] = new float[tin];
                    wantSum[c] = sum[c].clone();
                    for (int t = 0; t < tin; t++) {
                        wantAdded[c][t] = shortcut[c][t] + conv[c][t];
                        wantSum[c][t] = wantSum[c][t] + wantAdded[c][t];
                    }
                }
                float[][] added = CpuOps.conv1dPadded(ctx, x, w, b, cout, k, 1, dil, 1, pad, pad,
                        CpuOps.ConvEpilogue.chain(CpuOps.ConvEpilogue.add(shortcut),
                                CpuOps.ConvEpilogue.chain(CpuOps.ConvEpilogue.siluInto(into),
                                        CpuOps.ConvEpilogue.accumulateInto(sum))));
                assertRowsEqual(wantAdded, added, "add epilogue");
                assertRowsEqual(NnOps.silu(ctx, wantAdded), into, "siluInto epilogue");
                assertRowsEqual(wantSum, sum, "accumulateInto epilogue");
            }
        }
    }

    private static void assertRowsEqual(float[][] want, float[][] got, String where) {
        assertEquals(want.length, got.length, where);
        for (int c = 0; c < want.length; c++) {
            assertArrayEquals(want[c], got[c], where + ", row " + c);
        }
    }
}
