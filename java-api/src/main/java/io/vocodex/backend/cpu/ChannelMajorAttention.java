package io.vocodex.backend.cpu;

/**
 * The exact (parity-mode) attention kernels of {@code cuda-kernels/attention.cu} on the CPU, over the
 * device's channel-major layout: the CPU twins of {@code attention_f32}, {@code kv_ring_write_f32}
 * and {@code attention_ring_f32}. The arithmetic is {@link TransformerOps#attention} itself (the
 * kernels follow its float64 order, see docs/cuda.md); what these methods add is the device's
 * addressing: windows per clip and per-clip lengths for the batch, and the streams' KV rings.
 *
 * <h2>Layout</h2>
 * A clip's (or stream chunk's) projected rows {@code [q | k | v]} are a {@code (3 dim, T)} block:
 * channel {@code c} of column {@code t} at {@code b * qkvBatchStride + c * qkvRowStride + t}; outputs
 * are {@code (dim, T)} blocks. A KV ring of one layer is a {@code (dim, cap)} block per ring, ring
 * {@code r} at {@code r * ringStride}; position {@code p} lives in column {@code p % cap}.
 *
 * <h2>Ring semantics</h2>
 * As {@code MimiTransformer.Stream}: a chunk of {@code n} positions {@code off .. off+n-1} is first
 * written into the ring (when {@code n > cap} only its last {@code cap} positions survive), then query
 * {@code pq} sees every position {@code pk} still in the ring ({@code pk >= off + n - cap}) with
 * {@code 0 <= pq - pk < context}, in ascending position order.
 * <pre>{@code
 * ChannelMajorAttention.ringWrite(chunkQkv, 3 * dim * n, n, ringK, ringV, dim * cap, cap, ringOf, offsets, streams, n, dim);
 * ChannelMajorAttention.ringAttend(cpu, chunkQkv, 3 * dim * n, n, ringK, ringV, dim * cap, cap, ringOf, offsets,
 *         out, dim * n, n, streams, n, dim, heads, context);
 * }</pre>
 */
public final class ChannelMajorAttention {
    private ChannelMajorAttention() {
    }

    /**
     * Twin of {@code attention_f32}: query {@code i < lengths[b]} of clip {@code b} sees keys
     * {@code j} with {@code 0 <= i - j < context}; columns beyond a clip's length are not written.
     *
     * @param lengths per clip, or null for {@code tmax} each
     */
    public static void batchAttend(CpuContext ctx, float[] qkv, int qkvBatchStride, int qkvRowStride, float[] out,
                                   int outBatchStride, int outRowStride, int[] lengths, int batch, int tmax, int dim,
                                   int heads, int context) {
        for (int b = 0; b < batch; b++) {
            int len = lengths == null ? tmax : lengths[b];
            if (len == 0) {
                continue;
            }
            float[][] rows = timeMajor(qkv, b * qkvBatchStride, qkvRowStride, 3 * dim, len);
            int[] lo = new int[len];
            int[] hi = new int[len];
            for (int i = 0; i < len; i++) {
                lo[i] = Math.max(0, i - context + 1);
                hi[i] = i;
            }
            float[][] att = TransformerOps.attention(ctx, rows, 0, rows, dim, rows, 2 * dim, heads, dim / heads, lo, hi);
            store(att, out, b * outBatchStride, outRowStride);
        }
    }

    /**
     * Twin of {@code kv_ring_write_f32}: the keys and values of column {@code i} of stream {@code s}'s
     * chunk go to column {@code (offsets[s] + i) % cap} of ring {@code ringIndex[s]}.
     */
    public static void ringWrite(float[] qkv, int qkvBatchStride, int qkvRowStride, float[] ringK, float[] ringV,
                                 int ringStride, int cap, int[] ringIndex, int[] offsets, int streams, int n, int dim) {
        for (int s = 0; s < streams; s++) {
            for (int i = Math.max(0, n - cap); i < n; i++) {
                int col = (int) (((long) offsets[s] + i) % cap);
                for (int c = 0; c < dim; c++) {
                    int dst = ringIndex[s] * ringStride + c * cap + col;
                    ringK[dst] = qkv[s * qkvBatchStride + (dim + c) * qkvRowStride + i];
                    ringV[dst] = qkv[s * qkvBatchStride + (2 * dim + c) * qkvRowStride + i];
                }
            }
        }
    }

    /**
     * Twin of {@code attention_ring_f32}: the {@code n} queries of every stream's chunk over its ring,
     * which already holds the chunk ({@link #ringWrite} first).
     */
    public static void ringAttend(CpuContext ctx, float[] qkv, int qkvBatchStride, int qkvRowStride, float[] ringK,
                                  float[] ringV, int ringStride, int cap, int[] ringIndex, int[] offsets, float[] out,
                                  int outBatchStride, int outRowStride, int streams, int n, int dim, int heads,
                                  int context) {
        int hd = dim / heads;
        for (int s = 0; s < streams; s++) {
            long end = (long) offsets[s] + n;
            float[][] q = timeMajor(qkv, s * qkvBatchStride, qkvRowStride, dim, n);
            float[][] att = new float[n][];
            for (int i = 0; i < n; i++) {
                long pq = (long) offsets[s] + i;
                long lo = Math.max(Math.max(0, end - cap), pq - context + 1);
                int count = (int) Math.max(0, pq - lo + 1);
                float[][] kk = new float[count][dim];
                float[][] vv = new float[count][dim];
                for (int j = 0; j < count; j++) {
                    int col = (int) ((lo + j) % cap);
                    for (int c = 0; c < dim; c++) {
                        kk[j][c] = ringK[ringIndex[s] * ringStride + c * cap + col];
                        vv[j][c] = ringV[ringIndex[s] * ringStride + c * cap + col];
                    }
                }
                att[i] = TransformerOps.attention(ctx, new float[][] {q[i]}, 0, kk, 0, vv, 0, heads, hd,
                        new int[] {0}, new int[] {count - 1})[0];
            }
            store(att, out, s * outBatchStride, outRowStride);
        }
    }

    /** Rows {@code [t][c]} of the first {@code channels} channels and {@code len} columns of a block. */
    static float[][] timeMajor(float[] x, int offset, int rowStride, int channels, int len) {
        float[][] rows = new float[len][channels];
        for (int c = 0; c < channels; c++) {
            for (int t = 0; t < len; t++) {
                rows[t][c] = x[offset + c * rowStride + t];
            }
        }
        return rows;
    }

    private static void store(float[][] rows, float[] out, int offset, int rowStride) {
        for (int t = 0; t < rows.length; t++) {
            for (int c = 0; c < rows[t].length; c++) {
                out[offset + c * rowStride + t] = rows[t][c];
            }
        }
    }
}
