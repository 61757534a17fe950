package io.vocodex.backend.cpu;

import static io.vocodex.backend.cpu.ParityCheck.gaussian;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * {@link WinogradConv}: its transforms are the F(4, 4) identity; every output equals, bit for bit,
 * a naive per-element restatement of the algorithm (on every kernel path: this class runs under the
 * plain loops and both Vector API block shapes), whatever the thread count; it is close to a
 * float64 convolution (rel L2 <= 3e-6 over random data, every element within 2e-5 of the sum of
 * |terms|; the direct float kernel's rel L2 on the same data is printed beside it); epilogues see
 * exactly what the separate pass would; pieces of a long signal computed with {@link
 * WinogradConv#period()}-aligned starts and {@link WinogradConv#tileReach()} more context agree
 * with the whole.
 */
class WinogradConvTest {
    @Test
    void transformsAreTheMinimalFilteringIdentity() {
        // Σ_p Aᵀ[i][p] G[p][k] Bᵀ[p][s] = [s == i + k]: output i of a tile is Σ_k g_k d_{i+k}
        for (int i = 0; i < WinogradConv.M; i++) {
            for (int k = 0; k < WinogradConv.R; k++) {
                for (int s = 0; s < WinogradConv.N; s++) {
                    double sum = 0;
                    for (int p = 0; p < WinogradConv.N; p++) {
                        sum += WinogradConv.AT[i][p] * WinogradConv.G[p][k] * WinogradConv.BT[p][s];
                    }
                    assertEquals(s == i + k ? 1.0 : 0.0, sum, 1e-12, "i " + i + ", k " + k + ", s " + s);
                }
            }
        }
    }

    @Test
    void equalsTheNaiveRestatementOnEveryThreadCountAndIsCloseToFloat64() {
        Random r = new Random(17);
        // cin, cout, tin, kernel, dilation, padLeft, padRight
        int[][] shapes = {
            {12, 13, 700, 11, 5, 25, 25},  // a HiFi-GAN dilated conv
            {9, 8, 300, 7, 3, 9, 9},
            {7, 6, 260, 3, 1, 1, 1},
            {5, 14, 131, 13, 1, 6, 6},     // four pieces, an output length that ends mid-tile
            {6, 5, 50, 5, 2, 4, 4},        // shorter than a unit
            {4, 4, 9, 3, 1, 0, 0},         // shorter than a tile
            {3, 7, 200, 1, 1, 0, 0},       // one tap: one piece of four with three zero taps
            {8, 6, 240, 4, 4, 3, 9},       // one-sided, unequal padding
            {4, 100, 300, 7, 3, 9, 9},     // enough outputs and few enough units that 2-3 threads split the channels
        };
        for (int[] s : shapes) {
            int cin = s[0], cout = s[1], tin = s[2], k = s[3], dil = s[4], pl = s[5], pr = s[6];
            float[][] x = gaussian(r, cin, tin, 1.0);
            float[] w = gaussian(r, cout * cin * k, 0.3);
            float[] b = gaussian(r, cout, 0.5);
            String where = java.util.Arrays.toString(s);
            WinogradConv conv = new WinogradConv(w, cout, cin, k, dil);
            float[][] want = naive(x, w, b, cout, k, dil, pl, pr);
            for (int threads = 1; threads <= 3; threads++) {
                try (CpuContext ctx = new CpuContext(threads)) {
                    float[][] got = conv.forward(ctx, x, b, pl, pr, null);
                    assertEquals(want.length, got.length, where);
                    for (int co = 0; co < cout; co++) {
                        assertArrayEquals(want[co], got[co], where + " channel " + co + ", " + threads + " thread(s)");
                    }
                }
            }
            checkFloat64(x, w, b, cout, k, dil, pl, pr, want, where);
        }
    }

    /**
     * Each output of the algorithm written out per element: the input tile's transform at each
     * point, the fma chain over (ci, piece) in ascending order, the output transform, the bias.
     */
    static float[][] naive(float[][] x, float[] w, float[] bias, int cout, int k, int dil, int pl, int pr) {
        int cin = x.length;
        int tin = x[0].length;
        int n = WinogradConv.N;
        int pieces = (k + 3) / 4;
        // kernel transform, computed here from the points
        double[] pts = {0, 1, -1, 2, -2, 0.5};
        double[][] g = new double[n][4];
        for (int p = 0; p < n - 1; p++) {
            double f = 1;
            for (int l = 0; l < n - 1; l++) {
                f *= l == p ? 1 : pts[p] - pts[l];
            }
            for (int j = 0; j < 4; j++) {
                g[p][j] = Math.pow(pts[p], j) / f;
            }
        }
        g[n - 1][3] = 1;
        int tout = Math.max(0, tin + pl + pr - (k - 1) * dil);
        float[][] y = new float[cout][tout];
        for (int co = 0; co < cout; co++) {
            for (int o = 0; o < tout; o++) {
                int res = o % dil;
                int sub = o / dil;
                int tau = sub / 4;
                int i = sub % 4;
                float[] ys = new float[n];
                for (int p = 0; p < n; p++) {
                    float acc = 0f;
                    for (int ci = 0; ci < cin; ci++) {
                        for (int q = 0; q < pieces; q++) {
                            double uq = 0;
                            for (int j = 0; j < 4; j++) {
                                int tap = 4 * q + j;
                                if (tap < k) {
                                    uq += g[p][j] * w[(co * cin + ci) * k + tap];
                                }
                            }
                            float v = 0f;
                            for (int s = 0; s < n; s++) {
                                if (WinogradConv.BT[p][s] != 0f) {
                                    int at = res - pl + dil * (4 * (tau + q) + s);
                                    float d = at >= 0 && at < tin ? x[ci][at] : 0f;
                                    v = Math.fma(WinogradConv.BT[p][s], d, v);
                                }
                            }
                            acc = Math.fma((float) uq, v, acc);
                        }
                    }
                    ys[p] = acc;
                }
                float out = 0f;
                for (int p = 0; p < n; p++) {
                    if (WinogradConv.AT[i][p] != 0f) {
                        out = Math.fma(WinogradConv.AT[i][p], ys[p], out);
                    }
                }
                y[co][o] = bias == null ? out : out + bias[co];
            }
        }
        return y;
    }

    private static void checkFloat64(float[][] x, float[] w, float[] b, int cout, int k, int dil, int pl, int pr,
                                      float[][] got, String where) {
        double err = 0, norm = 0, directErr = 0;
        float[][] direct;
        try (CpuContext ctx = new CpuContext(1)) {
            direct = CpuOps.conv1dPadded(ctx, x, w, b, cout, k, 1, dil, 1, pl, pr, null);
        }
        double[][][] ref = ParityCheck.paddedConvFloat64(x, w, b, cout, k, 1, dil, pl, got[0].length);
        for (int co = 0; co < cout; co++) {
            for (int t = 0; t < got[co].length; t++) {
                double sum = ref[0][co][t];
                assertEquals(sum, got[co][t], 2e-5 * ref[1][co][t] + 1e-30, where + " (" + co + ", " + t + ") vs float64");
                err += (got[co][t] - sum) * (got[co][t] - sum);
                directErr += (direct[co][t] - sum) * (direct[co][t] - sum);
                norm += sum * sum;
            }
        }
        double rel = Math.sqrt(err / Math.max(norm, 1e-300));
        System.out.printf("Winograd %s: rel L2 %.3g vs float64 (direct kernel %.3g)%n", where, rel,
                Math.sqrt(directErr / Math.max(norm, 1e-300)));
        assertTrue(rel <= 3e-6, where + ": rel L2 " + rel);
    }

    @Test
    void epilogueSeesWhatTheSeparatePassWould() {
        Random r = new Random(23);
        int cin = 10, cout = 9, tin = 1700, k = 7, dil = 3, pad = 9;
        float[][] x = gaussian(r, cin, tin, 2.0);
        float[] w = gaussian(r, cout * cin * k, 0.3);
        float[] b = gaussian(r, cout, 0.5);
        float[][] shortcut = gaussian(r, cout, tin, 1.0);
        WinogradConv conv = new WinogradConv(w, cout, cin, k, dil);
        for (int threads = 1; threads <= 2; threads++) {
            try (CpuContext ctx = new CpuContext(threads)) {
                float[][] plain = conv.forward(ctx, x, b, pad, pad, null);
                float[][] silu = conv.forward(ctx, x, b, pad, pad, CpuOps.ConvEpilogue.silu());
                float[][] wantSilu = NnOps.silu(ctx, plain);
                float[][] added = conv.forward(ctx, x, b, pad, pad, CpuOps.ConvEpilogue.add(shortcut));
                for (int c = 0; c < cout; c++) {
                    assertArrayEquals(wantSilu[c], silu[c], "silu epilogue, row " + c);
                    float[] want = new float[tin];
                    for (int t = 0; t < tin; t++) {
                        want[t] = shortcut[c][t] + plain[c][t];
                    }
                    assertArrayEquals(want, added[c], "add epilogue, row " + c);
                }
            }
        }
    }

    @Test
    void alignedPiecesWithTileReachAgreeWithTheWhole() {
        Random r = new Random(31);
        int cin = 6, cout = 5, tin = 900, k = 11, dil = 5, pad = 25;
        float[][] x = gaussian(r, cin, tin, 1.0);
        float[] w = gaussian(r, cout * cin * k, 0.3);
        WinogradConv conv = new WinogradConv(w, cout, cin, k, dil);
        try (CpuContext ctx = CpuContext.singleThreaded()) {
            float[][] whole = conv.forward(ctx, x, null, pad, pad, null);
            int context = pad + conv.tileReach(); // receptive field half-width, plus the tiles' reach
            for (int start = 0; start < tin; start += 7 * conv.period()) {
                int end = Math.min(tin, start + 7 * conv.period());
                int from = Math.max(0, start - ((context + conv.period() - 1) / conv.period()) * conv.period());
                int to = Math.min(tin, end + context);
                float[][] piece = new float[cin][];
                for (int c = 0; c < cin; c++) {
                    piece[c] = java.util.Arrays.copyOfRange(x[c], from, to);
                }
                float[][] y = conv.forward(ctx, piece, null, pad, pad, null);
                for (int c = 0; c < cout; c++) {
                    assertArrayEquals(java.util.Arrays.copyOfRange(whole[c], start, end),
                            java.util.Arrays.copyOfRange(y[c], start - from, end - from), "piece at " + start + ", row " + c);
                }
            }
            // a start off the tile grid gives other roundings: the alignment is needed
            float[][] shifted = new float[cin][];
            for (int c = 0; c < cin; c++) {
                shifted[c] = java.util.Arrays.copyOfRange(x[c], 1, tin);
            }
            float[][] y = conv.forward(ctx, shifted, null, pad, pad, null);
            boolean differs = false;
            for (int c = 0; c < cout; c++) {
                for (int t = 100; t < 800; t++) {
                    differs |= Float.floatToRawIntBits(y[c][t - 1]) != Float.floatToRawIntBits(whole[c][t]);
                }
            }
            assertTrue(differs, "an unaligned start should change some roundings");
        }
    }

    @Test
    void rejectsBadShapes() {
        assertThrows(IllegalArgumentException.class, () -> new WinogradConv(new float[10], 2, 2, 3, 1));
        assertThrows(IllegalArgumentException.class, () -> new WinogradConv(new float[0], 0, 2, 3, 1));
        WinogradConv conv = new WinogradConv(new float[12], 2, 2, 3, 1);
        try (CpuContext ctx = CpuContext.singleThreaded()) {
            assertThrows(IllegalArgumentException.class, () -> conv.forward(ctx, new float[3][20], null, 1, 1, null));
            assertThrows(IllegalArgumentException.class, () -> conv.forward(ctx, new float[2][20], null, -1, 1, null));
            assertThrows(IllegalArgumentException.class, () -> conv.forward(ctx, new float[2][20], new float[3], 1, 1, null));
            assertThrows(IllegalArgumentException.class, () -> conv.forward(ctx, new float[][] {new float[20], new float[19]}, null, 1, 1, null));
            assertEquals(0, conv.forward(ctx, new float[2][1], null, 0, 0, null)[0].length);
        }
        assertTrue(WinogradConv.suits(512, 512, 11, 1, 1));
        assertFalse(WinogradConv.suits(512, 512, 11, 2, 1));
        assertFalse(WinogradConv.suits(32, 32, 3, 1, 1));
        assertTrue(WinogradConv.suits(256, 256, 3, 1, 1));
        assertFalse(WinogradConv.suits(128, 128, 3, 1, 1));
        assertTrue(WinogradConv.suits(64, 64, 11, 1, 1));
        assertFalse(WinogradConv.suits(64, 64, 7, 1, 1));
        assertFalse(WinogradConv.suits(512, 1, 13, 1, 1));
        assertFalse(WinogradConv.suits(512, 512, 1, 1, 1));
    }
}
