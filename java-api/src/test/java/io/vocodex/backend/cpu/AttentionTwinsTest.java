package io.vocodex.backend.cpu;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The CPU twins of {@code cuda-kernels/attention.cu} ({@link OnlineSoftmaxAttention} for
 * {@code attention_flash_f32}; {@link ChannelMajorAttention} for {@code attention_f32},
 * {@code kv_ring_write_f32}, {@code attention_ring_f32}) against a plain float64 reference written here
 * (explicit masks; for the rings a literal slot-position table as {@code MimiTransformer.Stream} keeps),
 * on random inputs: contexts shorter and longer than the sequence, per-clip lengths, head dims that are
 * and are not multiples of 4, rings that wrap many times, chunks longer than the ring.
 *
 * <p>Tolerances, per element, relative to the largest |v| the query can see ({@code vmax}):
 * <ul>
 *   <li>exact twins: {@code 1e-6 vmax}: TransformerOps accumulates in float64 and rounds once, so the
 *       error is the final float rounding (2^-24 relative; measured max 4.9e-8 vmax);</li>
 *   <li>online softmax: {@code 2e-6 vmax}: float32 dot products (hd terms), the float32 running sum
 *       and rescales and the polynomial exp (≤ 2 ulp) each add a few 2^-24 relative errors; measured max
 *       3.0e-7 vmax over these cases with scores of magnitude up to ~10. Not bit-identical with
 *       TransformerOps (different summation order), so tokens in fp32 parity mode come from the exact
 *       kernels; this one is the fast mode.</li>
 * </ul>
 */
class AttentionTwinsTest {
    private static final CpuContext CPU = CpuContext.singleThreaded();

    static float[] rand(Random r, int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (scale * r.nextGaussian());
        }
        return a;
    }

    /** float64 masked softmax attention of one query row over explicit key/value rows; NaN if none. */
    static double[] reference(float[] q, float[][] k, float[][] v, boolean[] visible, int heads, int hd) {
        double[] out = new double[heads * hd];
        for (int h = 0; h < heads; h++) {
            double max = Double.NEGATIVE_INFINITY;
            double[] s = new double[k.length];
            for (int j = 0; j < k.length; j++) {
                double dot = 0;
                for (int e = 0; e < hd; e++) {
                    dot += (double) q[h * hd + e] * k[j][h * hd + e];
                }
                s[j] = visible[j] ? dot / Math.sqrt(hd) : Double.NEGATIVE_INFINITY;
                max = Math.max(max, s[j]);
            }
            double z = 0;
            for (int j = 0; j < k.length; j++) {
                z += visible[j] ? Math.exp(s[j] - max) : 0;
            }
            for (int e = 0; e < hd; e++) {
                double acc = 0;
                for (int j = 0; j < k.length; j++) {
                    if (visible[j]) {
                        acc += Math.exp(s[j] - max) / z * v[j][h * hd + e];
                    }
                }
                out[h * hd + e] = max == Double.NEGATIVE_INFINITY ? Double.NaN : acc;
            }
        }
        return out;
    }

    static double vmax(float[][] v, boolean[] visible, int h, int hd) {
        double m = 0;
        for (int j = 0; j < v.length; j++) {
            for (int e = 0; e < hd && visible[j]; e++) {
                m = Math.max(m, Math.abs(v[j][h * hd + e]));
            }
        }
        return m;
    }

    /** Batch case: qkv (B, 3D, T) flat, checks out (B, D, T) against the reference; returns max err / vmax. */
    static double checkBatch(String what, float[] qkv, float[] out, int[] lens, int batch, int t, int dim, int heads,
                             int context, double tol) {
        int hd = dim / heads;
        double worst = 0;
        for (int b = 0; b < batch; b++) {
            float[][] rows = ChannelMajorAttention.timeMajor(qkv, b * 3 * dim * t, t, 3 * dim, t);
            float[][] k = new float[t][];
            float[][] v = new float[t][];
            for (int j = 0; j < t; j++) {
                k[j] = Arrays.copyOfRange(rows[j], dim, 2 * dim);
                v[j] = Arrays.copyOfRange(rows[j], 2 * dim, 3 * dim);
            }
            for (int i = 0; i < t; i++) {
                for (int c = 0; c < dim; c++) {
                    float got = out[b * dim * t + c * t + i];
                    if (i >= lens[b]) {
                        assertEquals(-7f, got, what + ": column " + i + " beyond length " + lens[b] + " was written");
                    }
                }
                if (i >= lens[b]) {
                    continue;
                }
                boolean[] vis = new boolean[t];
                for (int j = 0; j < t; j++) {
                    vis[j] = j <= i && i - j < context && j < lens[b];
                }
                double[] ref = reference(rows[i], k, v, vis, heads, hd);
                for (int c = 0; c < dim; c++) {
                    double vm = vmax(v, vis, c / hd, hd);
                    double err = Math.abs(out[b * dim * t + c * t + i] - ref[c]) / vm;
                    if (!(err <= tol)) {
                        fail(what + ": clip " + b + " query " + i + " channel " + c + ": " + out[b * dim * t + c * t + i]
                                + " vs float64 " + ref[c] + " (error " + err + " vmax > " + tol + ")");
                    }
                    worst = Math.max(worst, err);
                }
            }
        }
        return worst;
    }

    @Test
    void expNonPositiveIsWithinTwoUlpsOfMathExp() {
        int worst = 0;
        for (int bits = 0; bits < 0x42ae0000; bits += 97) { // every 97th float in [-87, -0]
            float x = -Float.intBitsToFloat(bits);
            int ulps = Math.abs(Float.floatToRawIntBits(OnlineSoftmaxAttention.expNonPositive(x))
                    - Float.floatToRawIntBits((float) Math.exp(x)));
            worst = Math.max(worst, ulps);
        }
        System.out.println("[attention twins] expNonPositive vs (float) Math.exp on [-87, 0]: max " + worst + " ulp");
        assertTrue(worst <= 2, "expNonPositive is " + worst + " ulps from Math.exp");
        assertEquals(1f, OnlineSoftmaxAttention.expNonPositive(0f));
        assertEquals(0f, OnlineSoftmaxAttention.expNonPositive(Float.NEGATIVE_INFINITY));
        assertEquals(0f, OnlineSoftmaxAttention.expNonPositive(-88f));
        assertTrue(Float.isNaN(OnlineSoftmaxAttention.expNonPositive(Float.NaN)));
    }

    @Test
    void batchTwinsMatchFloat64WithWindowsAndLengths() {
        Random r = new Random(11);
        int t = 37;
        int[][] shapes = {{16, 2}, {24, 4}, {128, 2}}; // head dims 8, 6 (not a multiple of 4), 64
        double worstExact = 0;
        double worstOnline = 0;
        for (int[] shape : shapes) {
            int dim = shape[0];
            int heads = shape[1];
            for (int context : new int[] {1, 3, 8, 36, 37, 100}) {
                int batch = 3;
                int[] lens = {t, 20, 1};
                float[] qkv = rand(r, batch * 3 * dim * t, 1.5);
                String what = "dim " + dim + " heads " + heads + " context " + context;
                float[] exact = new float[batch * dim * t];
                Arrays.fill(exact, -7f);
                ChannelMajorAttention.batchAttend(CPU, qkv, 3 * dim * t, t, exact, dim * t, t, lens, batch, t, dim, heads,
                        context);
                worstExact = Math.max(worstExact, checkBatch("exact " + what, qkv, exact, lens, batch, t, dim, heads, context,
                        1e-6));
                float[] online = new float[batch * dim * t];
                Arrays.fill(online, -7f);
                OnlineSoftmaxAttention.attend(qkv, 3 * dim * t, t, online, dim * t, t, lens, batch, t, dim, heads, context);
                worstOnline = Math.max(worstOnline, checkBatch("online " + what, qkv, online, lens, batch, t, dim, heads,
                        context, 2e-6));
            }
        }
        System.out.printf("[attention twins] max error / vmax vs float64: exact %.3g, online softmax %.3g%n",
                worstExact, worstOnline);
    }

    @Test
    void onlineSoftmaxIsCloseToTransformerOpsOnLargeScores() {
        // Peaky softmax (scores up to ~30): the running max is rescaled often and exp underflows.
        Random r = new Random(5);
        int t = 90;
        int dim = 128;
        int heads = 2;
        float[] qkv = rand(r, 3 * dim * t, 2.0);
        for (int context : new int[] {250, 16}) {
            float[] exact = new float[dim * t];
            float[] online = new float[dim * t];
            ChannelMajorAttention.batchAttend(CPU, qkv, 3 * dim * t, t, exact, dim * t, t, null, 1, t, dim, heads, context);
            OnlineSoftmaxAttention.attend(qkv, 3 * dim * t, t, online, dim * t, t, null, 1, t, dim, heads, context);
            double vmax = 0;
            for (int i = 2 * dim * t; i < 3 * dim * t; i++) {
                vmax = Math.max(vmax, Math.abs(qkv[i]));
            }
            io.vocodex.testing.Compare.maxAbs("online softmax vs TransformerOps, context " + context, exact, online,
                    2e-6 * vmax);
            // The exact twin IS TransformerOps.attention on the time-major rows, bit for bit.
            float[][] rows = ChannelMajorAttention.timeMajor(qkv, 0, t, 3 * dim, t);
            int[] lo = new int[t];
            int[] hi = new int[t];
            for (int i = 0; i < t; i++) {
                lo[i] = Math.max(0, i - context + 1);
                hi[i] = i;
            }
            float[][] att = TransformerOps.attention(CPU, rows, 0, rows, dim, rows, 2 * dim, heads, dim / heads, lo, hi);
            for (int i = 0; i < t; i++) {
                for (int c = 0; c < dim; c++) {
                    assertEquals(Float.floatToIntBits(att[i][c]), Float.floatToIntBits(exact[c * t + i]));
                }
            }
        }
    }

    /** One streaming run: random chunk sizes from {@code chunks}, checked against a literal slot table. */
    static void runRings(Random r, int dim, int heads, int cap, int context, int[] chunks, int steps) {
        int hd = dim / heads;
        int streams = 3;
        int rings = 4;
        int[] ringIndex = {2, 0, 3};
        float[] ringK = new float[rings * dim * cap];
        float[] ringV = new float[rings * dim * cap];
        Arrays.fill(ringK, Float.NaN); // an unwritten column that is read would poison the result
        Arrays.fill(ringV, Float.NaN);
        int[] offsets = new int[streams];
        float[][][] slotK = new float[streams][cap][];
        float[][][] slotV = new float[streams][cap][];
        long[][] slotPos = new long[streams][cap];
        for (long[] p : slotPos) {
            Arrays.fill(p, -1);
        }
        for (int step = 0; step < steps; step++) {
            int n = chunks[r.nextInt(chunks.length)];
            float[] qkv = rand(r, streams * 3 * dim * n, 1.5);
            ChannelMajorAttention.ringWrite(qkv, 3 * dim * n, n, ringK, ringV, dim * cap, cap, ringIndex, offsets, streams, n,
                    dim);
            float[] out = new float[streams * dim * n];
            ChannelMajorAttention.ringAttend(CPU, qkv, 3 * dim * n, n, ringK, ringV, dim * cap, cap, ringIndex, offsets, out,
                    dim * n, n, streams, n, dim, heads, context);
            for (int s = 0; s < streams; s++) {
                float[][] rows = ChannelMajorAttention.timeMajor(qkv, s * 3 * dim * n, n, 3 * dim, n);
                for (int i = 0; i < n; i++) { // RingKVCache.complete: write the whole chunk first
                    int slot = (int) ((offsets[s] + i) % cap);
                    slotK[s][slot] = Arrays.copyOfRange(rows[i], dim, 2 * dim);
                    slotV[s][slot] = Arrays.copyOfRange(rows[i], 2 * dim, 3 * dim);
                    slotPos[s][slot] = offsets[s] + i;
                }
                for (int i = 0; i < n; i++) {
                    long pq = offsets[s] + i;
                    boolean[] vis = new boolean[cap];
                    for (int slot = 0; slot < cap; slot++) {
                        long pk = slotPos[s][slot];
                        vis[slot] = pk >= 0 && pq - pk >= 0 && pq - pk < context;
                    }
                    float[][] kk = new float[cap][];
                    float[][] vv = new float[cap][];
                    for (int slot = 0; slot < cap; slot++) {
                        kk[slot] = vis[slot] ? slotK[s][slot] : new float[dim];
                        vv[slot] = vis[slot] ? slotV[s][slot] : new float[dim];
                    }
                    double[] ref = reference(rows[i], kk, vv, vis, heads, hd);
                    for (int c = 0; c < dim; c++) {
                        float got = out[s * dim * n + c * n + i];
                        String what = "cap " + cap + " context " + context + " step " + step + " stream " + s + " position "
                                + pq + " channel " + c;
                        if (Double.isNaN(ref[c])) {
                            assertTrue(Float.isNaN(got), what + ": no visible key, expected NaN, got " + got);
                            continue;
                        }
                        double err = Math.abs(got - ref[c]) / vmax(vv, vis, c / hd, hd);
                        assertTrue(err <= 1e-6, what + ": " + got + " vs float64 " + ref[c] + " (error " + err + " vmax)");
                    }
                }
                offsets[s] += n;
            }
        }
    }

    @Test
    void ringTwinsMatchALiteralSlotTableAsTheRingsWrap() {
        Random r = new Random(3);
        runRings(r, 16, 2, 5, 5, new int[] {2}, 12);          // Mimi: chunks of 2, capacity = context
        runRings(r, 24, 4, 8, 8, new int[] {1, 2, 3}, 20);    // head dim 6, mixed chunk sizes
        runRings(r, 16, 2, 8, 5, new int[] {1, 2}, 15);       // context shorter than the ring
        runRings(r, 16, 2, 4, 10, new int[] {1, 2}, 15);      // context longer than the ring
        runRings(r, 16, 2, 3, 3, new int[] {5, 1}, 8);        // chunks longer than the ring: NaN queries
    }

    @Test
    void ringWithOnePositionChunksEqualsBatchBitForBit() {
        // Chunks of 1 with capacity = context hold exactly the batch window: same keys, same order.
        Random r = new Random(9);
        int dim = 32;
        int heads = 4;
        int t = 23;
        for (int context : new int[] {4, 30}) {
            float[] qkv = rand(r, 3 * dim * t, 1.0);
            float[] batch = new float[dim * t];
            ChannelMajorAttention.batchAttend(CPU, qkv, 3 * dim * t, t, batch, dim * t, t, null, 1, t, dim, heads, context);
            float[] ringK = new float[dim * context];
            float[] ringV = new float[dim * context];
            for (int p = 0; p < t; p++) {
                float[] col = new float[3 * dim];
                for (int c = 0; c < 3 * dim; c++) {
                    col[c] = qkv[c * t + p];
                }
                int[] off = {p};
                int[] ring = {0};
                ChannelMajorAttention.ringWrite(col, 3 * dim, 1, ringK, ringV, dim * context, context, ring, off, 1, 1, dim);
                float[] out = new float[dim];
                ChannelMajorAttention.ringAttend(CPU, col, 3 * dim, 1, ringK, ringV, dim * context, context, ring, off, out,
                        dim, 1, 1, 1, dim, heads, context);
                for (int c = 0; c < dim; c++) {
                    assertEquals(Float.floatToIntBits(batch[c * t + p]), Float.floatToIntBits(out[c]),
                            "context " + context + " position " + p + " channel " + c);
                }
            }
        }
    }
}
