package io.vocodex.backend.cpu;

import static io.vocodex.backend.cpu.ParityCheck.bitwise;
import static io.vocodex.backend.cpu.ParityCheck.close;
import static io.vocodex.backend.cpu.ParityCheck.gaussian;
import static io.vocodex.backend.cpu.ParityCheck.maxAbs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vocodex.model.SafetensorsFile;
import io.vocodex.model.SafetensorsWriter;
import io.vocodex.model.Weights;
import io.vocodex.nn.PadMode;
import io.vocodex.nn.ResidualVectorQuantizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every CPU op against (a) {@link ReferenceOps} in float64, within a stated tolerance, and (b) the
 * frozen naive loops of {@link NaiveOps}, bit for bit, single-threaded and with 3 threads.
 *
 * <h2>Tolerance</h2>
 * An element is accepted when {@code |a - ref| <= atol + rtol * |ref|}. For a reduction of length
 * {@code L} (conv: {@code Cin/groups * K}; linear: {@code I}) computed as one float32 fma chain, each
 * of the {@code L} roundings is at most {@code u = 2^-24 ~ 6e-8} of the running sum; with random signs
 * the errors add like a random walk, so the error scales like {@code u * sqrt(L) * |term| * sqrt(L)}
 * at worst-typical and like {@code u * sqrt(L) * |term|} for zero-mean terms. We take
 * {@code atol = 1e-6 * sqrt(L) * max|x| * max|w| + 1e-6 * max|bias|} (about {@code 16 u sqrt(L)} times
 * the largest possible term, which is itself several times the typical term for Gaussian data) and
 * {@code rtol = 1e-5} (about {@code 170 u}, covering the final bias add and the relative error when
 * the sum is far from zero). The worst observed ratio {@code |a-b| / (atol + rtol|ref|)} is printed at
 * the end; on these tests it stays well below 1, while a single misplaced or missing term (an error
 * of order {@code |term|}) exceeds the bound by orders of magnitude. The LSTM's error is amplified
 * through the recurrence and by sigmoid/tanh; its outputs are bounded by 1, so it uses a fixed
 * {@code atol = 2e-5, rtol = 1e-4}.
 */
class OpParityTest {
    private static final CpuContext ONE = CpuContext.singleThreaded();
    private static CpuContext three;

    @BeforeAll
    static void start() {
        three = new CpuContext(3);
        ParityCheck.worstRatio = 0;
    }

    @AfterAll
    static void stop() {
        three.close();
        System.out.printf("OpParityTest: worst |a-ref| / (atol + rtol*|ref|) = %.3g%n", ParityCheck.worstRatio);
    }

    static double convAtol(int reduction, float[][] x, float[] w, float[] bias) {
        return 1e-6 * Math.sqrt(Math.max(1, reduction)) * maxAbs(x) * maxAbs(w) + 1e-6 * maxAbs(bias) + 1e-30;
    }

    static final double RTOL = 1e-5;

    record ConvCase(int cin, int cout, int kernel, int stride, int dilation, int groups, int tin, boolean bias) {
        @Override
        public String toString() {
            return "conv " + cin + "->" + cout + " k" + kernel + " s" + stride + " d" + dilation + " g" + groups
                    + " Tin=" + tin + (bias ? "" : " nobias");
        }
    }

    static List<ConvCase> convCases() {
        List<ConvCase> cases = new ArrayList<>();
        // EnCodec-like shapes (scaled-down T) and edge cases
        cases.add(new ConvCase(1, 32, 7, 1, 1, 1, 406, true));
        cases.add(new ConvCase(32, 16, 3, 1, 1, 1, 300, true));
        cases.add(new ConvCase(16, 32, 1, 1, 1, 1, 300, true));
        cases.add(new ConvCase(16, 8, 3, 1, 3, 1, 257, true));
        cases.add(new ConvCase(32, 64, 4, 2, 1, 1, 500, true));
        cases.add(new ConvCase(64, 128, 8, 4, 1, 1, 480, true));
        cases.add(new ConvCase(24, 40, 10, 5, 1, 1, 333, true));
        cases.add(new ConvCase(16, 32, 16, 8, 1, 1, 415, true));
        cases.add(new ConvCase(12, 20, 5, 2, 3, 1, 400, true));  // strided and dilated: gathered windows, none shared
        cases.add(new ConvCase(128, 32, 7, 1, 1, 1, 75, true));
        cases.add(new ConvCase(32, 1, 7, 1, 1, 1, 500, true));
        cases.add(new ConvCase(3, 512, 3, 1, 1, 1, 500, true));   // several time tiles
        cases.add(new ConvCase(2, 256, 3, 1, 2, 1, 2000, false)); // several tiles and a short last one
        cases.add(new ConvCase(4, 64, 3, 1, 1, 1, 1700, true));   // two 1024-tiles
        cases.add(new ConvCase(8, 8, 3, 1, 1, 4, 100, true));
        cases.add(new ConvCase(4, 6, 3, 1, 1, 2, 0, true));       // empty input
        cases.add(new ConvCase(4, 6, 3, 1, 1, 2, 1, true));       // shorter than the kernel
        cases.add(new ConvCase(4, 6, 3, 1, 1, 2, 3, true));       // exactly one output
        cases.add(new ConvCase(4, 6, 16, 8, 1, 1, 16, true));
        // the Vector API kernel's edges: 32 columns (its threshold), one block +- 1, several passes
        // over the terms (> 64 terms), channel counts with 1-3 left over after blocks of 4
        cases.add(new ConvCase(5, 7, 3, 1, 1, 1, 34, true));
        cases.add(new ConvCase(9, 6, 3, 1, 2, 1, 67, true));
        cases.add(new ConvCase(9, 9, 3, 1, 2, 1, 68, false));
        cases.add(new ConvCase(40, 13, 3, 1, 1, 1, 131, true));
        cases.add(new ConvCase(64, 36, 7, 1, 3, 1, 700, true));
        cases.add(new ConvCase(48, 20, 4, 2, 1, 1, 1031, true));
        cases.add(new ConvCase(70, 11, 1, 1, 1, 1, 129, true));
        Random rnd = new Random(11);
        int[] kernels = {1, 2, 3, 4, 5, 7, 8, 10, 11, 16};
        int[] groupsChoice = {1, 1, 2, 4};
        for (int i = 0; i < 70; i++) {
            int groups = groupsChoice[rnd.nextInt(groupsChoice.length)];
            int cin = groups * (1 + rnd.nextInt(groups == 1 ? 13 : 5));
            int cout = groups * (1 + rnd.nextInt(groups == 1 ? 13 : 5));
            int kernel = kernels[rnd.nextInt(kernels.length)];
            int stride = 1 + rnd.nextInt(8);
            int dilation = 1 + rnd.nextInt(3);
            int tin = rnd.nextInt(8) == 0 ? rnd.nextInt(4) : rnd.nextInt(501);
            cases.add(new ConvCase(cin, cout, kernel, stride, dilation, groups, tin, rnd.nextInt(5) != 0));
        }
        return cases;
    }

    @Test
    void conv1dMatchesReferenceAndNaiveLoops() {
        Random rnd = new Random(1);
        for (ConvCase cc : convCases()) {
            int reduction = cc.cin / cc.groups * cc.kernel;
            float[][] x = gaussian(rnd, cc.cin, cc.tin, 1.0);
            ParityCheck.sprinkleSpecials(rnd, x);
            float[] w = gaussian(rnd, cc.cout * reduction, 1.0 / Math.sqrt(reduction));
            float[] b = cc.bias ? gaussian(rnd, cc.cout, 0.5) : null;
            float[][] naive = NaiveOps.conv1d(x, cc.tin, w, b, cc.cout, cc.kernel, cc.stride, cc.dilation, cc.groups);
            float[][] one = CpuOps.conv1d(ONE, x, w, b, cc.cout, cc.kernel, cc.stride, cc.dilation, cc.groups);
            float[][] par = CpuOps.conv1d(three, x, w, b, cc.cout, cc.kernel, cc.stride, cc.dilation, cc.groups);
            bitwise(cc + " (1 thread)", naive, one);
            bitwise(cc + " (3 threads)", naive, par);
            double[][] ref = ReferenceOps.conv1d(x, w, b, cc.cout, cc.kernel, cc.stride, cc.dilation, cc.groups);
            close(cc.toString(), ref, one, convAtol(reduction, x, w, b), RTOL);
        }
    }

    @Test
    void conv1dChannelBlockingsAreBitIdentical() {
        // the Vector API kernel takes output channels six, four and one at a time (32 = 4 x 6 + 2 x 4):
        // every split must give the naive loop's bits, on one thread and on three
        Random rnd = new Random(5);
        for (int cout : new int[] {1, 4, 5, 6, 8, 12, 14, 18, 32, 34, 64}) {
            int cin = 3;
            int kernel = 3;
            int tin = 150;
            float[][] x = gaussian(rnd, cin, tin, 1.0);
            float[] w = gaussian(rnd, cout * cin * kernel, 0.3);
            float[] b = gaussian(rnd, cout, 0.1);
            float[][] naive = NaiveOps.conv1d(x, tin, w, b, cout, kernel, 1, 1, 1);
            bitwise("cout " + cout, naive, CpuOps.conv1d(ONE, x, tin, w, b, cout, kernel, 1, 1, 1));
            bitwise("cout " + cout + " (3 threads)", naive, CpuOps.conv1d(three, x, tin, w, b, cout, kernel, 1, 1, 1));
        }
    }

    @Test
    void conv1dOverAPrefixOfALongerBuffer() {
        // streaming calls pass a longer buffer and the number of valid columns
        Random rnd = new Random(2);
        for (int stride = 1; stride <= 5; stride++) {
            int cin = 6;
            int cout = 10;
            int kernel = 2 * stride + 1;
            float[][] x = gaussian(rnd, cin, 300, 1.0);
            float[] w = gaussian(rnd, cout * cin * kernel, 0.2);
            float[] b = gaussian(rnd, cout, 0.1);
            for (int tin : new int[] {0, kernel - 1, kernel, 97, 299}) {
                float[][] prefix = ParityCheck.truncate(x, tin);
                float[][] naive = NaiveOps.conv1d(prefix, tin, w, b, cout, kernel, stride, 1, 1);
                bitwise("prefix s" + stride + " tin " + tin, naive, CpuOps.conv1d(ONE, x, tin, w, b, cout, kernel, stride, 1, 1));
                bitwise("prefix s" + stride + " tin " + tin + " (3 threads)", naive,
                        CpuOps.conv1d(three, x, tin, w, b, cout, kernel, stride, 1, 1));
            }
        }
    }

    @Test
    void convTransposeMatchesReferenceAndNaiveLoops() {
        Random rnd = new Random(3);
        List<int[]> cases = new ArrayList<>(); // cin, cout, kernel, stride, groups, T
        cases.add(new int[] {64, 32, 16, 8, 1, 40});
        cases.add(new int[] {32, 16, 10, 5, 1, 100});
        cases.add(new int[] {16, 8, 8, 4, 1, 300});
        cases.add(new int[] {8, 4, 4, 2, 1, 500});
        cases.add(new int[] {4, 512, 4, 2, 1, 300}); // several tiles
        cases.add(new int[] {8, 8, 3, 1, 2, 50});
        cases.add(new int[] {4, 4, 2, 3, 1, 20});    // stride > kernel: phases without taps
        cases.add(new int[] {6, 3, 7, 2, 1, 1});
        cases.add(new int[] {6, 3, 7, 2, 1, 0});
        cases.add(new int[] {40, 13, 8, 4, 1, 170}); // Vector API kernel: > 64 terms, channels left over
        cases.add(new int[] {20, 9, 10, 5, 1, 33});
        for (int i = 0; i < 40; i++) {
            int groups = new int[] {1, 1, 2, 4}[rnd.nextInt(4)];
            int cin = groups * (1 + rnd.nextInt(6));
            int cout = groups * (1 + rnd.nextInt(6));
            int stride = 1 + rnd.nextInt(8);
            int kernel = 1 + rnd.nextInt(16);
            cases.add(new int[] {cin, cout, kernel, stride, groups, rnd.nextInt(200)});
        }
        for (int[] c : cases) {
            int cin = c[0];
            int cout = c[1];
            int kernel = c[2];
            int stride = c[3];
            int groups = c[4];
            int t = c[5];
            String what = "convtr " + cin + "->" + cout + " k" + kernel + " s" + stride + " g" + groups + " T=" + t;
            float[][] x = gaussian(rnd, cin, t, 1.0);
            ParityCheck.sprinkleSpecials(rnd, x);
            int reduction = cin / groups * ((kernel + stride - 1) / stride);
            float[] w = gaussian(rnd, cin * (cout / groups) * kernel, 1.0 / Math.sqrt(reduction));
            float[] b = rnd.nextInt(4) == 0 ? null : gaussian(rnd, cout, 0.5);
            int taps = (kernel + stride - 1) / stride;
            int m = taps - 1;
            int[][] ranges = {{0, t + m}, {m, t}, {m, m + Math.max(0, t - m)}, {Math.min(t, 3), t + m}, {t / 3, t / 2 + 1},
                    {0, 0}};
            for (int[] r : ranges) {
                float[][] naive = NaiveOps.convTranspose1dFrames(x, w, b, cout, kernel, stride, groups, r[0], r[1]);
                bitwise(what + " q[" + r[0] + "," + r[1] + ")", naive,
                        CpuOps.convTranspose1dFrames(ONE, x, w, b, cout, kernel, stride, groups, r[0], r[1]));
                bitwise(what + " q[" + r[0] + "," + r[1] + ") (3 threads)", naive,
                        CpuOps.convTranspose1dFrames(three, x, w, b, cout, kernel, stride, groups, r[0], r[1]));
                float[][] phaseRows = CpuOps.transposedPhaseWeightsIfUsed(w, cin, cout, kernel, stride, groups);
                bitwise(what + " q[" + r[0] + "," + r[1] + ") (phase rows made once)", naive,
                        CpuOps.convTranspose1dFrames(ONE, x, w, phaseRows, b, cout, kernel, stride, groups, r[0], r[1]));
            }
            float[][] full = CpuOps.convTranspose1dFrames(ONE, x, w, b, cout, kernel, stride, groups, 0, t + m);
            double[][] ref = ReferenceOps.convTranspose1d(x, w, b, cout, kernel, stride, groups);
            int len = t == 0 ? 0 : (t - 1) * stride + kernel;
            close(what, ref, ParityCheck.truncate(full, len), convAtol(reduction, x, w, b), RTOL);
        }
    }

    @Test
    void linearAndMatVecMatchReferenceAndNaiveLoops() {
        Random rnd = new Random(4);
        int[][] shapes = {{1, 1, 1}, {3, 5, 0}, {7, 9, 1}, {64, 256, 75}, {33, 130, 17}, {512, 64, 3}, {5, 2048, 2}, {16, 48, 499}};
        for (int[] s : shapes) {
            int in = s[0];
            int out = s[1];
            int t = s[2];
            String what = "linear " + in + "->" + out + " T=" + t;
            float[][] x = gaussian(rnd, in, t, 1.0);
            float[] w = gaussian(rnd, out * in, 1.0 / Math.sqrt(in));
            float[] b = gaussian(rnd, out, 0.3);
            float[][] naive = NaiveOps.linearColumns(x, w, b, out);
            float[][] one = CpuOps.linearColumns(ONE, x, w, b, out);
            bitwise(what, naive, one);
            bitwise(what + " (3 threads)", naive, CpuOps.linearColumns(three, x, w, b, out));
            bitwise(what + " no bias", NaiveOps.linearColumns(x, w, null, out), CpuOps.linearColumns(three, x, w, null, out));
            close(what, ReferenceOps.linear(x, w, b, out), one, convAtol(in, x, w, b), RTOL);

            float[] v = gaussian(rnd, in, 1.0);
            float[] yNaive = new float[out];
            float[] y = new float[out];
            NaiveOps.matVec(w, out, in, v, yNaive);
            CpuOps.matVec(w, out, in, v, y);
            bitwise("matVec " + in + "->" + out, yNaive, y);
            close("matVec " + in + "->" + out, new double[][] {ReferenceOps.matVec(w, out, in, v)}, new float[][] {y},
                    convAtol(in, new float[][] {v}, w, null), RTOL);
        }
    }

    @Test
    void lstmMatchesReferenceAndNaiveLoops() {
        Random rnd = new Random(5);
        // H = 300: the recurrent product in two 256-input passes, a last block of 44 units (176 gate outputs)
        int[][] shapes = {{3, 1, 5}, {16, 5, 7}, {8, 16, 0}, {16, 16, 1}, {32, 64, 40}, {20, 70, 12}, {64, 130, 9}, {8, 300, 9}};
        for (int[] s : shapes) {
            int in = s[0];
            int hidden = s[1];
            int t = s[2];
            String what = "lstm I=" + in + " H=" + hidden + " T=" + t;
            double scale = 1.0 / Math.sqrt(hidden);
            float[][] x = gaussian(rnd, in, t, 1.0);
            float[] wih = gaussian(rnd, 4 * hidden * in, scale);
            float[] whh = gaussian(rnd, 4 * hidden * hidden, scale);
            float[] bih = gaussian(rnd, 4 * hidden, scale);
            float[] bhh = gaussian(rnd, 4 * hidden, scale);
            float[] h0 = gaussian(rnd, hidden, 0.5);
            float[] c0 = gaussian(rnd, hidden, 0.5);
            float[] hn = h0.clone();
            float[] cn = c0.clone();
            float[][] naive = NaiveOps.lstmLayer(x, wih, whh, bih, bhh, hn, cn);
            for (CpuContext ctx : new CpuContext[] {ONE, three}) {
                float[] h = h0.clone();
                float[] c = c0.clone();
                float[][] y = CpuOps.lstmLayer(ctx, x, wih, whh, bih, bhh, h, c);
                bitwise(what + " y (" + ctx.threads() + " threads)", naive, y);
                bitwise(what + " h", hn, h);
                bitwise(what + " c", cn, c);
            }
            double[] hr = new double[hidden];
            double[] cr = new double[hidden];
            for (int j = 0; j < hidden; j++) {
                hr[j] = h0[j];
                cr[j] = c0[j];
            }
            double[][] ref = ReferenceOps.lstmLayer(x, wih, whh, bih, bhh, hr, cr);
            close(what, ref, naive, 2e-5, 1e-4);
            close(what + " final c", new double[][] {cr}, new float[][] {cn}, 2e-5, 1e-4);
        }
    }

    @Test
    void eluMatchesReference() {
        Random rnd = new Random(6);
        float[][] x = gaussian(rnd, 7, 333, 3.0);
        close("elu", ReferenceOps.elu(x, 1.0), CpuOps.elu(x, 1.0f), 1e-7, 1e-6);
        close("elu alpha 0.5", ReferenceOps.elu(x, 0.5), CpuOps.elu(x, 0.5f), 1e-7, 1e-6);
    }

    @Test
    void padMatchesReference() {
        Random rnd = new Random(7);
        for (PadMode mode : PadMode.values()) {
            for (int len : new int[] {1, 2, 3, 5, 6, 7, 20}) {
                for (int[] lr : new int[][] {{0, 0}, {6, 0}, {3, 3}, {0, 6}, {2, 5}, {7, 1}}) {
                    float[][] x = gaussian(rnd, 2, len, 1.0);
                    double[][] ref = ReferenceOps.pad(x, lr[0], lr[1], mode);
                    close(mode + " pad len " + len + " (" + lr[0] + "," + lr[1] + ")", ref, mode.pad(x, lr[0], lr[1]), Double.MIN_VALUE, 0);
                }
            }
        }
        // hand-checked values: reflect mirrors without the edge, zero-extends short input first
        float[][] x = {{1, 2, 3}};
        assertArrayEquals(new double[] {3, 2, 1, 2, 3, 2, 1}, ReferenceOps.pad(x, 2, 2, PadMode.REFLECT)[0]);
        assertArrayEquals(new double[] {1, 1, 1, 2, 3, 3}, ReferenceOps.pad(x, 2, 1, PadMode.REPLICATE)[0]);
        assertArrayEquals(new double[] {0, 1, 2, 3, 0, 0}, ReferenceOps.pad(x, 1, 2, PadMode.CONSTANT)[0]);
        // len 3 <= max pad 4: extended to [1 2 3 0 0], reflected, the trailing extension dropped
        assertArrayEquals(new double[] {0, 0, 3, 2, 1, 2, 3, 0, 0}, ReferenceOps.pad(x, 4, 2, PadMode.REFLECT)[0]);
    }

    /** Codes chosen by the optimised op must equal the naive op's, and the float64 argmin up to near ties. */
    private static void checkCodes(String what, float[][] x, float[] cb, int n) {
        float[] norms = CpuOps.rowSquaredNorms(cb, n, x.length);
        int[] naive = NaiveOps.nearestCodes(x, cb, norms, n);
        assertArrayEquals(naive, CpuOps.nearestCodes(ONE, x, cb, norms, n), what);
        assertArrayEquals(naive, CpuOps.nearestCodes(three, x, cb, norms, n), what + " (3 threads)");
        int[] ref = ReferenceOps.nearestCodes(x, cb, n);
        for (int t = 0; t < ref.length; t++) {
            if (ref[t] != naive[t]) {
                double dRef = ReferenceOps.squaredDistance(x, t, cb, ref[t]);
                double dGot = ReferenceOps.squaredDistance(x, t, cb, naive[t]);
                double scale = 0;
                for (int d = 0; d < x.length; d++) {
                    scale += (double) x[d][t] * x[d][t];
                }
                scale += Math.max(norms[ref[t]], norms[naive[t]]);
                assertTrue(dGot - dRef <= 1e-5 * scale + 1e-30,
                        what + " frame " + t + ": code " + naive[t] + " (dist " + dGot + ") vs float64 argmin " + ref[t]
                                + " (dist " + dRef + "), more than a rounding-level near tie");
            }
        }
    }

    @Test
    void nearestCodesMatchReferenceAndNaiveLoops() {
        Random rnd = new Random(8);
        int[][] shapes = {{1, 1, 1}, {3, 7, 0}, {8, 2, 33}, {8, 64, 75}, {128, 300, 75}, {16, 1024, 20}, {32, 130, 400},
                {4, 50, 700}};
        for (int[] s : shapes) {
            int dim = s[0];
            int n = s[1];
            int t = s[2];
            checkCodes("codes D=" + dim + " N=" + n + " T=" + t, gaussian(rnd, dim, t, 1.0), gaussian(rnd, n * dim, 1.0), n);
        }
    }

    @Test
    void nearestCodesBreakExactTiesTowardsTheLowestIndex() {
        Random rnd = new Random(9);
        int dim = 16;
        int n = 256; // with 3 threads and few frames the codes are split into ranges: ties cross them
        float[] cb = gaussian(rnd, n * dim, 1.0);
        int[][] dup = {{10, 200}, {70, 71}, {5, 255}, {130, 131}};
        for (int[] p : dup) {
            System.arraycopy(cb, p[0] * dim, cb, p[1] * dim, dim);
        }
        float[][] x = new float[dim][dup.length * 2 + 1];
        for (int k = 0; k < dup.length; k++) {
            for (int d = 0; d < dim; d++) {
                x[d][2 * k] = cb[dup[k][0] * dim + d];                          // exactly on the code
                x[d][2 * k + 1] = cb[dup[k][0] * dim + d] + 1e-3f * (d % 3 - 1); // near it
            }
        }
        for (int d = 0; d < dim; d++) {
            x[d][dup.length * 2] = 100f; // far from everything: still a unique, deterministic answer
        }
        float[] norms = CpuOps.rowSquaredNorms(cb, n, dim);
        for (CpuContext ctx : new CpuContext[] {ONE, three}) {
            int[] got = CpuOps.nearestCodes(ctx, x, cb, norms, n);
            for (int k = 0; k < dup.length; k++) {
                assertEquals(dup[k][0], got[2 * k], "exact tie " + dup[k][0] + "/" + dup[k][1]);
                assertEquals(dup[k][0], got[2 * k + 1], "near a duplicated code " + dup[k][0] + "/" + dup[k][1]);
            }
        }
        int[] ref = ReferenceOps.nearestCodes(x, cb, n);
        for (int k = 0; k < dup.length; k++) {
            assertEquals(dup[k][0], ref[2 * k], "reference: exact tie");
        }
        checkCodes("ties", x, cb, n);

        // an all-identical codebook: every frame maps to code 0
        float[] same = new float[n * dim];
        for (int i = 0; i < n; i++) {
            System.arraycopy(cb, 0, same, i * dim, dim);
        }
        float[][] y = gaussian(rnd, dim, 40, 1.0);
        float[] sn = CpuOps.rowSquaredNorms(same, n, dim);
        for (CpuContext ctx : new CpuContext[] {ONE, three}) {
            assertArrayEquals(new int[40], CpuOps.nearestCodes(ctx, y, same, sn, n));
        }
    }

    @Test
    void nearestCodesNearTiesFollowTheNaiveArithmetic() {
        // Pairs of codes one float ulp apart in one coordinate, frames halfway between: the float32
        // decision is a rounding matter, so the optimised op must reproduce the naive one exactly,
        // and may differ from float64 only within the near-tie margin.
        Random rnd = new Random(10);
        int dim = 24;
        int n = 192;
        float[] cb = gaussian(rnd, n * dim, 1.0);
        int frames = 60;
        float[][] x = new float[dim][frames];
        for (int f = 0; f < frames; f++) {
            int a = rnd.nextInt(n / 2) * 2;
            int b = a + 1;
            System.arraycopy(cb, a * dim, cb, b * dim, dim);
            int d0 = rnd.nextInt(dim);
            cb[b * dim + d0] = Math.nextUp(cb[a * dim + d0]);
            for (int d = 0; d < dim; d++) {
                x[d][f] = cb[a * dim + d] + (float) (rnd.nextGaussian() * 1e-6);
            }
        }
        checkCodes("near ties", x, cb, n);
    }

    @Test
    void rvqMatchesReference(@TempDir Path dir) {
        Random rnd = new Random(12);
        int dim = 8;
        int bins = 64;
        int nq = 4;
        float[][] codebooks = new float[nq][];
        SafetensorsWriter wr = new SafetensorsWriter();
        for (int k = 0; k < nq; k++) {
            codebooks[k] = gaussian(rnd, bins * dim, 1.0 / (k + 1));
            wr.put("vq.layers." + k + "._codebook.embed", new long[] {bins, dim}, codebooks[k]);
        }
        Path file = dir.resolve("rvq.safetensors");
        wr.write(file);
        float[][] latent = gaussian(rnd, dim, 150, 1.0);
        try (SafetensorsFile sf = SafetensorsFile.open(file)) {
            ResidualVectorQuantizer rvq = new ResidualVectorQuantizer(dim, bins, nq, Weights.of(sf));
            for (CpuContext ctx : new CpuContext[] {ONE, three}) {
                int[][] codes = rvq.encode(ctx, latent, nq);
                int[][] ref = ReferenceOps.rvqEncode(latent, codebooks, bins, nq);
                for (int k = 0; k < nq; k++) {
                    assertArrayEquals(ref[k], codes[k], "rvq codebook " + k + " (no near ties in this data)");
                }
                close("rvq decode", ReferenceOps.rvqDecode(codes, codebooks, dim), rvq.decode(codes), 1e-6, 1e-6);
            }
        }
    }
}
