package io.vocodex.backend.cpu;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every kernel of {@link TransformerOps} and {@link VqOps} against a straightforward float64
 * reference written here (independent formulas: erf by Simpson integration, RoPE as complex
 * multiplication, attention with explicit masks), plus the invariances the contract promises
 * (row results independent of the number of rows and of the thread count).
 */
class TransformerOpsTest {
    static final Random R = new Random(7);

    static float[][] rand(int rows, int cols, double scale) {
        float[][] x = new float[rows][cols];
        for (float[] r : x) {
            for (int i = 0; i < cols; i++) {
                r[i] = (float) (scale * R.nextGaussian());
            }
        }
        return x;
    }

    static float[] rand(int n, double scale) {
        return rand(1, n, scale)[0];
    }

    static void near(double expected, double actual, double relTol, String what) {
        double tol = relTol * Math.max(1e-3, Math.abs(expected));
        assertTrue(Math.abs(expected - actual) <= tol, what + ": expected " + expected + ", got " + actual);
    }

    /** The tiled transpose, serial and threaded, on shapes across and off its 32 x 32 tiles. */
    @Test
    void transposeMovesEveryElement() {
        try (CpuContext ctx = new CpuContext(2)) {
            for (int[] shape : new int[][] {{0, 0}, {1, 1}, {3, 70}, {33, 32}, {64, 750}, {2048, 5}}) {
                float[][] x = rand(shape[0], shape[1], 1.0);
                for (float[][] y : new float[][][] {TransformerOps.transpose(x), TransformerOps.transpose(ctx, x)}) {
                    assertEquals(shape[0] == 0 ? 0 : shape[1], y.length, "rows of " + shape[0] + " x " + shape[1]);
                    for (int c = 0; c < y.length; c++) {
                        assertEquals(shape[0], y[c].length);
                        for (int r = 0; r < shape[0]; r++) {
                            assertEquals(x[r][c], y[c][r], "(" + r + ", " + c + ") of " + shape[0] + " x " + shape[1]);
                        }
                    }
                }
            }
        }
    }

    /** The threaded layer norm (four rows side by side) gives the serial one's bits, whatever the row count. */
    @Test
    void threadedLayerNormEqualsTheSerialOne() {
        for (int threads = 1; threads <= 2; threads++) {
            try (CpuContext ctx = new CpuContext(threads)) {
                for (int rows : new int[] {0, 1, 3, 4, 5, 8, 13, 250}) {
                    float[][] x = rand(rows, 96, 3.0);
                    for (int t = 0; t < rows; t += 3) {
                        x[t][t % 96] += 50f;
                    }
                    float[] w = rand(96, 1.0);
                    float[] b = rand(96, 0.1);
                    String at = rows + " rows, " + threads + " thread(s)";
                    float[][] want = TransformerOps.layerNorm(x, w, b, 1e-5);
                    float[][] got = TransformerOps.layerNorm(ctx, x, w, b, 1e-5);
                    assertEquals(rows, got.length, at);
                    for (int t = 0; t < rows; t++) {
                        assertArrayEquals(want[t], got[t], "row " + t + ", " + at);
                    }
                    float[][] plain = TransformerOps.layerNorm(ctx, x, null, null, 1e-5);
                    float[][] plainWant = TransformerOps.layerNorm(x, null, null, 1e-5);
                    for (int t = 0; t < rows; t++) {
                        assertArrayEquals(plainWant[t], plain[t], "no affine, row " + t + ", " + at);
                    }
                }
            }
        }
    }

    @Test
    void layerNormMatchesFloat64() {
        float[][] x = rand(5, 48, 2.0);
        for (int c = 0; c < 48; c++) {
            x[3][c] += 100f; // large mean: a naive float32 E[x^2]-E[x]^2 would lose digits here
        }
        float[] w = rand(48, 1.0);
        float[] b = rand(48, 0.1);
        float[][] y = TransformerOps.layerNorm(x, w, b, 1e-5);
        for (int t = 0; t < 5; t++) {
            double m = 0;
            for (float v : x[t]) {
                m += v;
            }
            m /= 48;
            double var = 0;
            for (float v : x[t]) {
                var += (v - m) * (v - m);
            }
            var /= 48;
            for (int c = 0; c < 48; c++) {
                double ref = (x[t][c] - m) / Math.sqrt(var + 1e-5) * w[c] + b[c];
                assertEquals(ref, y[t][c], Math.ulp((float) ref) * 1.01 + 1e-7, "row " + t + " col " + c);
            }
        }
    }

    @Test
    void packedLinearRowsIsBitIdenticalToThePlainLoop() {
        // outputs across panels (one ragged), inputs not a multiple of the chunk, rows across tiles
        // (the Vector API kernel: 6- and 4-row groups and leftover rows, 64-output blocks and
        // leftover outputs, more than one 128-input pass; one to three rows take the matrix-vector
        // path: sixteen-, eight-, one-vector and scalar outputs, more than one 256-input pass)
        int[][] shapes = {{1, 23, 70}, {2, 300, 13}, {37, 513, 70}, {70, 256, 6}, {5, 1, 1},
                {7, 200, 300}, {9, 640, 129}, {4, 64, 256}, {10, 200, 130}, {15, 70, 33}, {3, 530, 300},
                {1, 520, 600}, {2, 777, 257}};
        try (CpuContext three = new CpuContext(3)) {
            for (int[] sh : shapes) {
                int rows = sh[0];
                int out = sh[1];
                int in = sh[2];
                float[][] x = rand(rows, in, 1.0);
                float[] w = rand(out * in, 0.2);
                PackedLinear packed = PackedLinear.pack(w, out, in);
                assertArrayEquals(w, packed.unpack(), "pack/unpack round trip");
                float[][] plain = TransformerOps.linearRows(CpuContext.singleThreaded(), x, w, out);
                float[][] one = TransformerOps.linearRows(CpuContext.singleThreaded(), x, packed);
                float[][] many = TransformerOps.linearRows(three, x, packed);
                for (int t = 0; t < rows; t++) {
                    assertArrayEquals(plain[t], one[t], "packed differs from plain, shape " + rows + "x" + out + "x" + in + " row " + t);
                    assertArrayEquals(plain[t], many[t], "3 threads differ, row " + t);
                }
            }
        }
    }

    @Test
    void linearRowsMatchesFloat64AndIsRowIndependent() {
        float[][] x = rand(37, 70, 1.0);
        float[] w = rand(23 * 70, 0.2);
        float[][] y = TransformerOps.linearRows(CpuContext.singleThreaded(), x, w, 23);
        try (CpuContext four = new CpuContext(4)) {
            float[][] y4 = TransformerOps.linearRows(four, x, w, 23);
            for (int t = 0; t < 37; t++) {
                assertArrayEquals(y[t], y4[t], "thread count changed row " + t);
                float[][] alone = TransformerOps.linearRows(CpuContext.singleThreaded(), new float[][] {x[t]}, w, 23);
                assertArrayEquals(y[t], alone[0], "row " + t + " alone differs");
            }
        }
        for (int t = 0; t < 37; t++) {
            for (int o = 0; o < 23; o++) {
                double ref = 0;
                double mag = 0;
                for (int i = 0; i < 70; i++) {
                    ref += (double) w[o * 70 + i] * x[t][i];
                    mag += Math.abs((double) w[o * 70 + i] * x[t][i]);
                }
                assertEquals(ref, y[t][o], 70 * Math.ulp((float) mag), "row " + t + " out " + o);
            }
        }
    }

    /** erf by composite Simpson integration of 2/sqrt(pi) e^{-s^2} (an independent reference). */
    static double erfBySimpson(double z) {
        int n = 20000;
        double h = z / n;
        double sum = 1 + Math.exp(-z * z);
        for (int i = 1; i < n; i++) {
            double s = i * h;
            sum += (i % 2 == 1 ? 4 : 2) * Math.exp(-s * s);
        }
        return 2 / Math.sqrt(Math.PI) * sum * h / 3;
    }

    @Test
    void erfMatchesIntegralAndKnownValues() {
        for (double z = -7; z <= 7; z += 0.173) {
            near(erfBySimpson(z), TransformerOps.erf(z), 1e-12, "erf(" + z + ")");
        }
        assertEquals(0.0, TransformerOps.erf(0.0));
        near(0.8427007929497149, TransformerOps.erf(1.0), 1e-15, "erf(1)");
        near(0.9999779095030014, TransformerOps.erf(3.0), 1e-15, "erf(3)");
        near(1 - 1.5374597944280349e-12, TransformerOps.erf(5.0), 1e-15, "erf(5)");
        assertEquals(1.0, TransformerOps.erf(30.0));
        assertEquals(-1.0, TransformerOps.erf(-30.0));
    }

    @Test
    void geluMatchesFloat64() {
        float[][] x = rand(3, 200, 3.0);
        float[][] y = new float[3][];
        for (int t = 0; t < 3; t++) {
            y[t] = x[t].clone();
        }
        TransformerOps.geluInPlace(y);
        for (int t = 0; t < 3; t++) {
            for (int i = 0; i < 200; i++) {
                double v = x[t][i];
                double ref = 0.5 * v * (1 + erfBySimpson(v / Math.sqrt(2)));
                assertEquals(ref, y[t][i], Math.ulp((float) ref) + 1e-12, "gelu(" + v + ")");
            }
        }
    }

    @Test
    void vectorisedGeluIsBitIdenticalToTheScalarErf() {
        Random r = new Random(11);
        int cols = 1000;
        float[][] x = new float[6][cols];
        for (int t = 0; t < x.length; t++) {
            for (int i = 0; i < cols; i++) {
                double scale = new double[] {1e-30, 1e-3, 0.5, 2, 4.2, 50}[t];
                x[t][i] = (float) (scale * r.nextGaussian());
            }
        }
        // edges: zeros, the |z| = 3 branch point (x = 3 sqrt 2) on both sides, NaN, infinities, subnormals
        float edge = (float) (3 * Math.sqrt(2));
        float[] specials = {0f, -0f, edge, Math.nextDown(edge), Math.nextUp(edge), -edge, Math.nextDown(-edge),
            Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MIN_VALUE, -Float.MIN_VALUE, 1e-20f, 38f, -38f};
        System.arraycopy(specials, 0, x[2], 17, specials.length);
        float[][] expected = new float[x.length][cols];
        for (int t = 0; t < x.length; t++) {
            for (int i = 0; i < cols; i++) {
                double v = x[t][i];
                expected[t][i] = (float) (0.5 * v * (1.0 + TransformerOps.erf(v / Math.sqrt(2.0))));
            }
        }
        float[][] a = new float[x.length][];
        float[][] b = new float[x.length][];
        for (int t = 0; t < x.length; t++) {
            a[t] = x[t].clone();
            b[t] = x[t].clone();
        }
        TransformerOps.geluInPlace(a);
        try (CpuContext two = new CpuContext(2)) {
            TransformerOps.geluInPlace(two, b, 0, b.length);
        }
        for (int t = 0; t < x.length; t++) {
            assertArrayEquals(expected[t], a[t], "row " + t);
            assertArrayEquals(expected[t], b[t], "row " + t + ", 2 threads");
        }
    }

    @Test
    void ropeIsAComplexRotationByPositionTimesFrequency() {
        int heads = 3;
        int hd = 8;
        float[][] x = rand(6, heads * hd + 5, 1.0); // 5 columns before the rotated block
        float[][] y = new float[6][];
        for (int t = 0; t < 6; t++) {
            y[t] = x[t].clone();
        }
        long first = 1234;
        TransformerOps.ropeInPlace(y, 5, heads, hd, first, 10000);
        for (int t = 0; t < 6; t++) {
            for (int c = 0; c < 5; c++) {
                assertEquals(x[t][c], y[t][c], "columns before col0 untouched");
            }
            for (int h = 0; h < heads; h++) {
                for (int i = 0; i < hd / 2; i++) {
                    double theta = (first + t) * Math.pow(10000, -2.0 * i / hd);
                    int c = 5 + h * hd + 2 * i;
                    double re = x[t][c] * Math.cos(theta) - x[t][c + 1] * Math.sin(theta);
                    double im = x[t][c] * Math.sin(theta) + x[t][c + 1] * Math.cos(theta);
                    // float32 angles at position ~1e3 carry ~1e-4 rad of rounding, as in the original
                    assertEquals(re, y[t][c], 2e-3, "re t=" + t + " h=" + h + " i=" + i);
                    assertEquals(im, y[t][c + 1], 2e-3, "im t=" + t + " h=" + h + " i=" + i);
                }
            }
        }
        // The float32 frequencies are the original's float32 expression.
        float[] f = TransformerOps.ropeFrequencies(64, 10000);
        assertEquals(1f, f[0]);
        assertEquals((float) Math.exp(31 * (float) (-Math.log(10000) * 2 / 64)), f[31]);
    }

    @Test
    void attentionMatchesMaskedSoftmaxInFloat64() {
        int t = 9;
        int heads = 2;
        int hd = 4;
        float[][] qkv = rand(t, 3 * heads * hd, 1.0);
        int d = heads * hd;
        int ctxLen = 4;
        int[] lo = new int[t];
        int[] hi = new int[t];
        for (int i = 0; i < t; i++) {
            lo[i] = Math.max(0, i - ctxLen + 1);
            hi[i] = i;
        }
        float[][] out = TransformerOps.attention(CpuContext.singleThreaded(), qkv, 0, qkv, d, qkv, 2 * d, heads, hd, lo, hi);
        for (int i = 0; i < t; i++) {
            for (int h = 0; h < heads; h++) {
                double[] s = new double[t];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < t; j++) {
                    boolean visible = j <= i && i - j < ctxLen;
                    double dot = 0;
                    for (int e = 0; e < hd; e++) {
                        dot += (double) qkv[i][h * hd + e] * qkv[j][d + h * hd + e];
                    }
                    s[j] = visible ? dot / Math.sqrt(hd) : Double.NEGATIVE_INFINITY;
                    max = Math.max(max, s[j]);
                }
                double z = 0;
                for (int j = 0; j < t; j++) {
                    s[j] = Math.exp(s[j] - max);
                    z += s[j];
                }
                for (int e = 0; e < hd; e++) {
                    double ref = 0;
                    for (int j = 0; j < t; j++) {
                        ref += s[j] / z * qkv[j][2 * d + h * hd + e];
                    }
                    assertEquals(ref, out[i][h * hd + e], Math.ulp((float) ref) + 1e-12, "query " + i + " head " + h);
                }
            }
        }
        // A query's output depends only on its visible keys: recompute query 7 alone over rows 4..7.
        float[][] keys = java.util.Arrays.copyOfRange(qkv, 4, 8);
        float[][] one = TransformerOps.attention(CpuContext.singleThreaded(), new float[][] {qkv[7]}, 0, keys, d, keys, 2 * d,
                heads, hd, new int[] {0}, new int[] {3});
        assertArrayEquals(out[7], one[0]);
    }

    /** The contract's attention written out plainly, one (query, head) at a time, keys in position order. */
    static float[][] plainAttention(float[][] q, int qCol, float[][] k, int kCol, float[][] v, int vCol,
                                    int heads, int headDim, int[] lo, int[] hi) {
        float[][] out = new float[q.length][heads * headDim];
        double scale = 1.0 / Math.sqrt(headDim);
        for (int i = 0; i < q.length; i++) {
            for (int h = 0; h < heads; h++) {
                int n = hi[i] - lo[i] + 1;
                if (n <= 0) {
                    java.util.Arrays.fill(out[i], h * headDim, (h + 1) * headDim, Float.NaN);
                    continue;
                }
                double[] s = new double[n];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < n; j++) {
                    double dot = 0;
                    for (int d = 0; d < headDim; d++) {
                        dot += (double) q[i][qCol + h * headDim + d] * k[lo[i] + j][kCol + h * headDim + d];
                    }
                    s[j] = dot * scale;
                    max = Math.max(max, s[j]);
                }
                double sum = 0;
                for (int j = 0; j < n; j++) {
                    s[j] = Math.exp(s[j] - max);
                    sum += s[j];
                }
                double[] acc = new double[headDim];
                for (int j = 0; j < n; j++) {
                    double p = s[j] / sum;
                    for (int d = 0; d < headDim; d++) {
                        acc[d] += p * v[lo[i] + j][vCol + h * headDim + d];
                    }
                }
                for (int d = 0; d < headDim; d++) {
                    out[i][h * headDim + d] = (float) acc[d];
                }
            }
        }
        return out;
    }

    @Test
    void attentionIsBitIdenticalToThePlainLoopsIncludingRingWrap() {
        int heads = 3;
        int hd = 16;
        int d = heads * hd;
        int t = 40;
        float[][] qkv = rand(t, 3 * d, 1.5);
        int[] lo = new int[t];
        int[] hi = new int[t];
        for (int i = 0; i < t; i++) {
            lo[i] = Math.max(0, i - 11);
            hi[i] = i;
        }
        hi[5] = lo[5] - 1; // a query that sees nothing: NaN, as PyTorch
        float[][] plain = plainAttention(qkv, 0, qkv, d, qkv, 2 * d, heads, hd, lo, hi);
        try (CpuContext two = new CpuContext(2)) {
            for (CpuContext c : new CpuContext[] {CpuContext.singleThreaded(), two}) {
                float[][] fast = TransformerOps.attention(c, qkv, 0, qkv, d, qkv, 2 * d, heads, hd, lo, hi);
                for (int i = 0; i < t; i++) {
                    assertArrayEquals(plain[i], fast[i], "query " + i);
                }
            }
        }
        // Ring of capacity 12 holding positions 28..39 at slot p % 12: the run of keys wraps around.
        TransformerOps.KeyValueColumns ring = new TransformerOps.KeyValueColumns(heads, hd, 12);
        for (int p = 0; p < t; p++) {
            ring.put(p % 12, qkv[p], d, qkv[p], 2 * d);
        }
        for (int p = 30; p < t; p++) {
            int first = Math.max(28, p - 11);
            float[] out = new float[d];
            for (int h = 0; h < heads; h++) {
                TransformerOps.attendHead(qkv[p], 0, ring, h, first % 12, p - first + 1, new double[12], new double[hd], out);
            }
            float[][] ref = plainAttention(new float[][] {qkv[p]}, 0, qkv, d, qkv, 2 * d, heads, hd,
                    new int[] {first}, new int[] {p});
            assertArrayEquals(ref[0], out, "ring query at position " + p);
        }
        // A chunk's queries together (positions 36..39, ring filled up to 39), one pass per head.
        float[][] chunkOut = new float[4][d];
        int[] firstSlot = new int[4];
        int[] count = new int[4];
        for (int i = 0; i < 4; i++) {
            int p = 36 + i;
            int first = Math.max(28, p - 11);
            firstSlot[i] = first % 12;
            count[i] = p - first + 1;
        }
        count[1] = 0; // and one that sees nothing
        float[][] chunkQ = java.util.Arrays.copyOfRange(qkv, 36, 40);
        for (int h = 0; h < heads; h++) {
            TransformerOps.attendHeadQueries(chunkQ, 0, ring, h, firstSlot, count, new double[4][12], new double[4][hd], chunkOut);
        }
        for (int i = 0; i < 4; i++) {
            int p = 36 + i;
            int first = Math.max(28, p - 11);
            float[][] ref = plainAttention(new float[][] {qkv[p]}, 0, qkv, d, qkv, 2 * d, heads, hd,
                    new int[] {first}, new int[] {i == 1 ? first - 1 : p});
            assertArrayEquals(ref[0], chunkOut[i], "chunk query " + i);
        }
    }

    /**
     * The batch path (one head of a block of consecutive queries per parallel unit, sharing key and
     * value reads, Vector API kernels when enabled) against the contract written out one (query,
     * head) at a time and against {@link TransformerOps#attendHead} per (query, head): bit for bit,
     * for lengths around the query block and the vector widths, a context shorter than the length,
     * head sizes that are and are not a multiple of the lanes, and 1 or 3 threads.
     */
    @Test
    void batchAttentionByQueryBlocksIsBitIdenticalToOneQueryAtATime() {
        try (CpuContext three = new CpuContext(3)) {
            for (int hd : new int[] {64, 20}) {
                int heads = 2;
                int d = heads * hd;
                for (int t : new int[] {1, 5, 16, 17, 40, 100}) {
                    for (int context : new int[] {7, 250}) {
                        // large scores too, so that some exponentials underflow to 0
                        float[][] qkv = rand(t, 3 * d, t % 2 == 0 ? 1.0 : 3.0);
                        int[] lo = new int[t];
                        int[] hi = new int[t];
                        for (int i = 0; i < t; i++) {
                            lo[i] = Math.max(0, i - context + 1);
                            hi[i] = i;
                        }
                        float[][] plain = plainAttention(qkv, 0, qkv, d, qkv, 2 * d, heads, hd, lo, hi);
                        TransformerOps.KeyValueColumns kv = new TransformerOps.KeyValueColumns(heads, hd, t);
                        for (int j = 0; j < t; j++) {
                            kv.put(j, qkv[j], d, qkv[j], 2 * d);
                        }
                        float[][] single = new float[t][d];
                        for (int i = 0; i < t; i++) {
                            for (int h = 0; h < heads; h++) {
                                TransformerOps.attendHead(qkv[i], 0, kv, h, lo[i], hi[i] - lo[i] + 1, new double[t],
                                        new double[hd], single[i]);
                            }
                        }
                        for (CpuContext c : new CpuContext[] {CpuContext.singleThreaded(), three}) {
                            float[][] batch = TransformerOps.attention(c, qkv, 0, qkv, d, qkv, 2 * d, heads, hd, lo, hi);
                            for (int i = 0; i < t; i++) {
                                String where = "head dim " + hd + ", length " + t + ", context " + context
                                        + ", threads " + c.threads() + ", query " + i;
                                assertArrayEquals(plain[i], batch[i], where);
                                assertArrayEquals(single[i], batch[i], where);
                            }
                        }
                    }
                }
            }
            // Windows that do not start in order (a block falls back to one query at a time), and an empty one.
            int heads = 2;
            int hd = 20;
            int d = heads * hd;
            int t = 37;
            float[][] qkv = rand(t, 3 * d, 1.0);
            int[] lo = new int[t];
            int[] hi = new int[t];
            for (int i = 0; i < t; i++) {
                lo[i] = (i * 7) % 11;
                hi[i] = Math.min(t - 1, lo[i] + 3 + i % 13);
            }
            hi[20] = lo[20] - 1;
            float[][] plain = plainAttention(qkv, 0, qkv, d, qkv, 2 * d, heads, hd, lo, hi);
            for (CpuContext c : new CpuContext[] {CpuContext.singleThreaded(), three}) {
                float[][] batch = TransformerOps.attention(c, qkv, 0, qkv, d, qkv, 2 * d, heads, hd, lo, hi);
                for (int i = 0; i < t; i++) {
                    assertArrayEquals(plain[i], batch[i], "unordered windows, query " + i);
                }
            }
            assertTrue(Float.isNaN(plain[20][0]));
        }
    }

    @Test
    void nearestCodesByColumnsIsBitIdenticalToTheRowLoop() {
        int dim = 20;
        int n = 1500; // three code tiles, the last one ragged
        float[] cb = flat(rand(n, dim, 0.3));
        System.arraycopy(cb, 10 * dim, cb, 1200 * dim, dim); // an exact tie across tiles and parts
        float[] norms = VqOps.squaredNorms(cb, n, dim);
        float[][] columns = VqOps.codebookColumns(cb, n, dim);
        try (CpuContext three = new CpuContext(3)) {
            for (int frames : new int[] {1, 2, 9, 40}) {
                float[][] x = rand(dim, frames, 0.3);
                for (int c = 0; c < dim; c++) {
                    x[c][0] = cb[10 * dim + c];
                }
                int[] want = VqOps.nearestCodes(CpuContext.singleThreaded(), x, cb, norms, n);
                assertArrayEquals(want, VqOps.nearestCodesByColumns(CpuContext.singleThreaded(), x, columns, norms), frames + " frames");
                assertArrayEquals(want, VqOps.nearestCodesByColumns(three, x, columns, norms), frames + " frames, 3 threads");
                assertEquals(10, want[0]);
            }
        }
    }

    @Test
    void nearestCodesIsTheCdistArgminWithLowestIndexTies() {
        int dim = 16;
        int n = 300;
        float[] cb = flat(rand(n, dim, 0.3));
        // Duplicate code 10 at 200 and 250: ties must pick 10.
        System.arraycopy(cb, 10 * dim, cb, 200 * dim, dim);
        System.arraycopy(cb, 10 * dim, cb, 250 * dim, dim);
        float[][] x = rand(dim, 40, 0.3);
        for (int c = 0; c < dim; c++) {
            x[c][0] = cb[10 * dim + c]; // exactly on the duplicated code
        }
        float[] norms = VqOps.squaredNorms(cb, n, dim);
        int[] got = VqOps.nearestCodes(CpuContext.singleThreaded(), x, cb, norms, n);
        assertEquals(10, got[0]);
        for (int t = 0; t < 40; t++) {
            double best = Double.POSITIVE_INFINITY;
            double second = Double.POSITIVE_INFINITY;
            int arg = -1;
            for (int k = 0; k < n; k++) {
                double dd = 0;
                for (int c = 0; c < dim; c++) {
                    double diff = (double) x[c][t] - cb[k * dim + c];
                    dd += diff * diff;
                }
                double dist = Math.sqrt(dd);
                if (dist < best) {
                    second = best;
                    best = dist;
                    arg = k;
                } else if (dist < second) {
                    second = dist;
                }
            }
            if (second - best > 1e-4) { // unambiguous in float32: must agree with float64
                assertEquals(arg, got[t], "frame " + t);
            }
        }
    }

    static float[] flat(float[][] x) {
        float[] r = new float[x.length * x[0].length];
        for (int i = 0; i < x.length; i++) {
            System.arraycopy(x[i], 0, r, i * x[0].length, x[0].length);
        }
        return r;
    }
}
