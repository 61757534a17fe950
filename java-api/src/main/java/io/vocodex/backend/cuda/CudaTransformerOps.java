package io.vocodex.backend.cuda;

import io.vocodex.VocodexException;

/**
 * Host side of {@code transformer.cu}: the per-position kernels of Mimi's transformer layers around the
 * attention ({@link CudaAttention}) and the projections ({@link CudaConv1d} with K = 1), on channel-major
 * {@code (B, C, T)} activations (channel stride {@code rowStride}, clips {@code batchStride} apart).
 * Each kernel's CPU twin is the {@code TransformerOps} function of the same name (time-major there):
 * layer norm and the layer-scale add are bit-identical by construction; RoPE and GELU evaluate the
 * Java double expressions with the device's double {@code cos}/{@code sin}/{@code exp}, which may differ
 * in the last bit of a double and so, very rarely, in the float result.
 * <pre>{@code
 * CudaTransformerOps ops = new CudaTransformerOps(cuda);
 * ops.layerNorm(s, h, (long) dim * t, t, n1, (long) dim * t, t, normW, normB, batch, dim, t, 1e-5);
 * ops.rope(s, qkv, 3L * dim * t, t, 0, heads, headDim, freqs, null, batch, t);
 * }</pre>
 */
public final class CudaTransformerOps {
    private static final int THREADS = 256; // VX_TR_THREADS

    private final CudaContext ctx;

    public CudaTransformerOps(CudaContext ctx) {
        this.ctx = ctx;
    }

    /** {@code y = layerNorm(x)} over the channels of every column {@code t < tlen}; {@code y} may be {@code x}. */
    public void layerNorm(CudaStream s, DeviceBuffer x, long xBatchStride, int xRowStride, DeviceBuffer y,
                          long yBatchStride, int yRowStride, DeviceBuffer weight, DeviceBuffer bias,
                          int batch, int dim, int tlen, double eps) {
        Args a = new Args().buf(x).i64(xBatchStride).i32(xRowStride).buf(y).i64(yBatchStride).i32(yRowStride)
                .buf(weight).buf(bias).i32(batch).i32(dim).i32(tlen).i64(Double.doubleToRawLongBits(eps));
        ctx.launch(Kernel.LAYER_NORM_F32, s, blocks((long) batch * tlen), 1, 1, THREADS, a.build());
    }

    /**
     * Rotary embedding in place on channels {@code col0 .. col0 + heads*headDim} (interleaved pairs);
     * column {@code t} of clip {@code b} is at position {@code firstPositions[b] + t}.
     *
     * @param freqs {@code TransformerOps.ropeFrequencies(headDim, maxPeriod)} on the device
     * @param firstPositions {@code batch} ints, or null for 0
     */
    public void rope(CudaStream s, DeviceBuffer x, long xBatchStride, int xRowStride, int col0, int heads, int headDim,
                     DeviceBuffer freqs, DeviceBuffer firstPositions, int batch, int tlen) {
        if (headDim % 2 != 0) {
            throw new VocodexException("RoPE needs an even head dim, got " + headDim);
        }
        Args a = new Args().buf(x).i64(xBatchStride).i32(xRowStride).i32(col0).i32(heads).i32(headDim)
                .buf(freqs).buf(firstPositions).i32(batch).i32(tlen);
        ctx.launch(Kernel.ROPE_F32, s, blocks((long) batch * tlen * (headDim / 2)), 1, 1, THREADS, a.build());
    }

    /** GELU (erf form) in place on the first {@code n} floats of {@code x}. */
    public void gelu(CudaStream s, DeviceBuffer x, long n) {
        ctx.launch(Kernel.GELU_F32, s, blocks(n), 1, 1, THREADS, new Args().buf(x).i64(n).build());
    }

    /** {@code x += scale[c] * u} (or {@code x += u} when {@code scale} is null); x and u share the strides. */
    public void scaleAdd(CudaStream s, DeviceBuffer x, DeviceBuffer u, long batchStride, int rowStride, DeviceBuffer scale,
                         int batch, int dim, int tlen) {
        Args a = new Args().buf(x).buf(u).i64(batchStride).i32(rowStride).buf(scale).i32(batch).i32(dim).i32(tlen);
        ctx.launch(Kernel.SCALE_ADD_F32, s, blocks((long) batch * dim * tlen), 1, 1, THREADS, a.build());
    }

    private static int blocks(long items) {
        long b = (items + THREADS - 1) / THREADS;
        if (b > Integer.MAX_VALUE) {
            throw new VocodexException("launch of " + items + " items is too large");
        }
        return (int) b;
    }
}
