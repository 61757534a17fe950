package io.vocodex.backend.cpu;

/**
 * Windowed causal multi-head attention by an online (streaming) softmax in float32: the CPU twin of
 * the CUDA kernel {@code attention_flash_f32}, reproducing its order of operations exactly, so the
 * two are bit-identical.
 *
 * <p>Per query {@code i} and head, over the visible keys {@code j} ({@code 0 <= i - j < context}) in
 * ascending order, with {@code d} split into {@link #SPLIT} interleaved lanes ({@code d = 4c + r}):
 * <pre>
 *   part_r = fma chain over c ascending of q[d] * k_j[d]        (float32)
 *   s      = ((part_0 + part_1) + (part_2 + part_3)) * scale    (scale = 1 / sqrt(hd) in float32)
 *   if s &gt; m: corr = exp(m - s) (0 while m = -inf); l *= corr; acc[d] *= corr; m = s
 *   p = exp(s - m); l += p; acc[d] = fma(p, v_j[d], acc[d])
 *   out[d] = acc[d] / l
 * </pre>
 * where {@code exp} is {@link #expNonPositive}, a float polynomial the kernel evaluates with the same
 * separately rounded operations. It never stores a score row: memory is {@code O(hd)} per query.
 *
 * <p>It is NOT bit-identical to {@link TransformerOps#attention}, which accumulates in float64 and
 * normalises after a max pass: the float32 dot products and the running rescale give relative errors
 * of a few float32 ulps of the largest value (see {@code AttentionTwinsTest} for the bound).
 * Token parity with the original therefore uses the exact kernels; this one is the fast mode.
 *
 * <p>Layout (the device's): a clip's projected rows {@code [q | k | v]} form a channel-major
 * {@code (3 dim, T)} block, channel {@code c} of column {@code t} at
 * {@code b * qkvBatchStride + c * qkvRowStride + t}; the output is {@code (dim, T)} per clip.
 * <pre>{@code
 * float[] out = new float[batch * dim * t];
 * OnlineSoftmaxAttention.attend(qkv, 3 * dim * t, t, out, dim * t, t, lengths, batch, t, dim, heads, 250);
 * }</pre>
 */
public final class OnlineSoftmaxAttention {
    /** Threads per query in the kernel ({@code VX_FLASH_SPLIT}): the dot product's four partial chains. */
    public static final int SPLIT = 4;

    private static final float LOG2E = Float.intBitsToFloat(0x3fb8aa3b);
    private static final float LN2_HI = Float.intBitsToFloat(0x3f317200);
    private static final float LN2_LO = Float.intBitsToFloat(0x35bfbe8e);
    private static final float C8 = Float.intBitsToFloat(0x37d00d01); // 1/8!
    private static final float C7 = Float.intBitsToFloat(0x39500d01); // 1/7!
    private static final float C6 = Float.intBitsToFloat(0x3ab60b61); // 1/6!
    private static final float C5 = Float.intBitsToFloat(0x3c088889); // 1/5!
    private static final float C4 = Float.intBitsToFloat(0x3d2aaaab); // 1/4!
    private static final float C3 = Float.intBitsToFloat(0x3e2aaaab); // 1/3!

    private OnlineSoftmaxAttention() {
    }

    /**
     * {@code e^x} for {@code x <= 0} in float32 ({@code vx_exp_nonpositive}): 0 below -87 (smaller than
     * 2^-125, invisible next to the softmax's largest term 1); else {@code x = k ln2 + r} (Cody-Waite,
     * |r| ≤ 0.35), the degree-8 Taylor polynomial of {@code e^r} in Horner form, times {@code 2^k}.
     * Within 2 float ulps of {@code Math.exp} on [-87, 0] (measured max 1 ulp, {@code AttentionTwinsTest}).
     */
    public static float expNonPositive(float x) {
        if (!(x >= -87f)) {
            return Float.isNaN(x) ? x : 0f;
        }
        float k = (float) Math.rint(x * LOG2E);
        float r = (x - k * LN2_HI) - k * LN2_LO;
        float p = C8;
        p = p * r + C7;
        p = p * r + C6;
        p = p * r + C5;
        p = p * r + C4;
        p = p * r + C3;
        p = p * r + 0.5f;
        p = p * r + 1f;
        p = p * r + 1f;
        return p * Float.intBitsToFloat(((int) k + 127) << 23);
    }

    /**
     * Batch attention of every clip: query {@code i < lengths[b]} sees keys {@code j} with
     * {@code 0 <= i - j < context}; columns at or beyond a clip's length are not written.
     *
     * @param lengths per clip, or null for {@code tmax} each
     */
    public static void attend(float[] qkv, int qkvBatchStride, int qkvRowStride, float[] out, int outBatchStride,
                              int outRowStride, int[] lengths, int batch, int tmax, int dim, int heads, int context) {
        int hd = dim / heads;
        float scale = 1f / (float) Math.sqrt((float) hd);
        float[] q = new float[hd];
        float[] acc = new float[hd];
        float[] part = new float[SPLIT];
        for (int b = 0; b < batch; b++) {
            int len = lengths == null ? tmax : lengths[b];
            int base = b * qkvBatchStride;
            for (int h = 0; h < heads; h++) {
                int qc = base + h * hd * qkvRowStride;
                int kc = base + (dim + h * hd) * qkvRowStride;
                int vc = base + (2 * dim + h * hd) * qkvRowStride;
                for (int i = 0; i < len; i++) {
                    for (int d = 0; d < hd; d++) {
                        q[d] = qkv[qc + d * qkvRowStride + i];
                    }
                    java.util.Arrays.fill(acc, 0f);
                    float m = Float.NEGATIVE_INFINITY;
                    float l = 0f;
                    for (int j = Math.max(0, i - context + 1); j <= i; j++) {
                        for (int r = 0; r < SPLIT; r++) {
                            float pr = 0f;
                            for (int d = r; d < hd; d += SPLIT) {
                                pr = Math.fma(q[d], qkv[kc + d * qkvRowStride + j], pr);
                            }
                            part[r] = pr;
                        }
                        float s = ((part[0] + part[1]) + (part[2] + part[3])) * scale;
                        if (s > m) {
                            float corr = m == Float.NEGATIVE_INFINITY ? 0f : expNonPositive(m - s);
                            l = l * corr;
                            for (int d = 0; d < hd; d++) {
                                acc[d] = acc[d] * corr;
                            }
                            m = s;
                        }
                        float p = expNonPositive(s - m);
                        l = l + p;
                        for (int d = 0; d < hd; d++) {
                            acc[d] = Math.fma(p, qkv[vc + d * qkvRowStride + j], acc[d]);
                        }
                    }
                    int oc = b * outBatchStride + h * hd * outRowStride + i;
                    for (int d = 0; d < hd; d++) {
                        out[oc + d * outRowStride] = l > 0f ? acc[d] / l : Float.NaN;
                    }
                }
            }
        }
    }
}
