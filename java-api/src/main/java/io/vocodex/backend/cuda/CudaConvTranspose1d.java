package io.vocodex.backend.cuda;

/**
 * Host side of {@code conv_transpose1d.cu}: the polyphase transposed convolution of
 * {@code CpuOps.convTranspose1dFrames} over {@code (B, Cin, Tx)} activations, bit-identical to it.
 * Output frames {@code q in [qFrom, qFrom + nq)} each produce {@code stride} samples at
 * {@code (q - qFrom) * stride + p}; callers trim as {@code ConvTranspose1dLayer} does.
 */
public final class CudaConvTranspose1d {
    private static final int BM = 64;
    private static final int BN = 64;
    private static final int THREADS = 256;

    /** Weights {@code (Cin, Cout/groups, K)} as PyTorch stores them. */
    public record Layer(int cin, int cout, int kernel, int stride, int groups, DeviceBuffer weight, DeviceBuffer bias) {
    }

    private final CudaContext ctx;

    public CudaConvTranspose1d(CudaContext ctx) {
        this.ctx = ctx;
    }

    public void launch(CudaStream s, Layer layer, int batch, int tx, int qFrom, int nq,
                       DeviceBuffer x, long xBatchStride, int xRowStride,
                       DeviceBuffer y, long yBatchStride, int yRowStride) {
        if (nq <= 0 || batch == 0) {
            return;
        }
        int coutG = layer.cout() / layer.groups();
        // grid z = clips x groups x stride may not exceed 65535 (Mimi's depthwise upsample: 1024 per clip)
        int perLaunch = Math.max(1, 65535 / (layer.groups() * layer.stride()));
        for (int b0 = 0; b0 < batch; b0 += perLaunch) {
            int nb = Math.min(perLaunch, batch - b0);
            Args a = new Args().ptr(x.at(b0 * xBatchStride)).buf(layer.weight()).buf(layer.bias()).ptr(y.at(b0 * yBatchStride))
                    .i32(nb).i32(layer.cin()).i32(layer.cout()).i32(layer.kernel()).i32(layer.stride()).i32(layer.groups())
                    .i32(tx).i32(qFrom).i32(nq)
                    .i64(xBatchStride).i32(xRowStride).i64(yBatchStride).i32(yRowStride);
            ctx.launch(Kernel.CONV_TRANSPOSE1D_F32, s, CudaConv1d.ceilDiv(nq, BN), CudaConv1d.ceilDiv(coutG, BM),
                    nb * layer.groups() * layer.stride(), THREADS, a.build());
        }
    }
}
