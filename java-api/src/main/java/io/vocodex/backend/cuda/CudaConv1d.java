package io.vocodex.backend.cuda;

import io.vocodex.VocodexException;
import io.vocodex.nn.PadMode;

/**
 * Host side of {@code conv1d.cu}: a 1-d convolution over {@code (B, Cin, T)} activations as an
 * implicit GEMM, with the input padding (EnCodec {@code SConv1d} rules), an optional ELU on the input
 * and an optional residual add in the epilogue fused into the one launch. {@link Precision#FP32} is
 * bit-identical to {@code CpuOps.conv1d} on the padded (and ELU'd) input, plus {@code CpuOps.add}.
 * Launches into existing buffers; allocates nothing on the device.
 */
public final class CudaConv1d {
    private static final int EXACT_BM = 64; // VX_EXACT_BM etc. in common.cuh
    private static final int EXACT_BN = 64;
    private static final int EXACT_THREADS = 256;
    private static final int TC_BM = 64;
    private static final int TC_BN = 64;
    private static final int TC_THREADS = 128;

    /** Weights and hyper-parameters of one convolution; {@code w} is {@code (Cout, Cin/groups, K)}. */
    public record Layer(int cin, int cout, int kernel, int stride, int dilation, int groups,
                        DeviceBuffer weight, DeviceBuffer bias) {
        public Layer {
            if (cin % groups != 0 || cout % groups != 0) {
                throw new VocodexException("conv channels " + cin + "->" + cout + " not divisible by groups " + groups);
            }
        }

        public int span() {
            return (kernel - 1) * dilation + 1;
        }
    }

    /**
     * How the raw input of {@code len} samples is read: {@code left} padding on the left, reflect rows no
     * longer than the padding zero-extended to {@code lenExt}, giving {@code tout} outputs.
     */
    public record Padding(int len, int left, int right, int lenExt, PadMode mode, int tout) {
        /** No padding: the first {@code len} columns of an already padded buffer. */
        public static Padding none(int len, int span, int stride) {
            int tout = len < span ? 0 : (len - span) / stride + 1;
            return new Padding(len, 0, 0, len, PadMode.CONSTANT, tout);
        }

        /** EnCodec's {@code SConv1d} padding (as {@code Conv1dLayer.forward}) for a raw input of {@code len} samples. */
        public static Padding encodec(int len, int kernel, int stride, int dilation, boolean causal, PadMode mode) {
            int span = (kernel - 1) * dilation + 1;
            int p = span - stride;
            long num = (long) len - span + p;
            long nFramesCeil = Math.floorDiv(num + stride - 1, stride) + 1;
            long ideal = (nFramesCeil - 1) * stride + (span - p);
            int extra = (int) Math.max(0, ideal - len);
            int left = causal ? p : p - p / 2;
            int right = causal ? extra : p / 2 + extra;
            int lenExt = mode == PadMode.REFLECT && len <= Math.max(left, right) ? Math.max(left, right) + 1 : len;
            int padded = len + left + right;
            int tout = padded < span ? 0 : (padded - span) / stride + 1;
            return new Padding(len, left, right, lenExt, mode, tout);
        }
    }

    private final CudaContext ctx;

    public CudaConv1d(CudaContext ctx) {
        this.ctx = ctx;
    }

    /**
     * {@code y[b] = residual[b] + conv(pad(elu?(x[b])))} for {@code b < batch}.
     *
     * @param x input, row {@code c} of clip {@code b} at {@code b*xBatchStride + c*xRowStride}
     * @param residual added in the epilogue, same layout as {@code y}; may be {@code y} itself, or null
     * @param elu whether to apply ELU({@code alpha}) to the input as it is read
     */
    public void launch(CudaStream s, Precision precision, Layer layer, Padding pad, int batch,
                       DeviceBuffer x, long xBatchStride, int xRowStride,
                       DeviceBuffer y, long yBatchStride, int yRowStride,
                       DeviceBuffer residual, boolean elu, float alpha) {
        if (pad.tout() == 0 || batch == 0) {
            return;
        }
        if (pad.len() < 1) {
            throw new VocodexException("conv input is empty");
        }
        Args a = new Args().buf(x).buf(layer.weight()).buf(layer.bias()).buf(residual).buf(y)
                .i32(batch).i32(layer.cin()).i32(layer.cout()).i32(layer.kernel()).i32(layer.stride())
                .i32(layer.dilation()).i32(layer.groups())
                .i32(pad.len()).i32(pad.lenExt()).i32(pad.left()).i32(pad.mode().ordinal()).i32(pad.tout())
                .i64(xBatchStride).i32(xRowStride).i64(yBatchStride).i32(yRowStride)
                .i32(elu ? 1 : 0).f32(alpha);
        int coutG = layer.cout() / layer.groups();
        int z = batch * layer.groups();
        if (precision == Precision.TF32) {
            ctx.launch(Kernel.CONV1D_TF32, s, ceilDiv(pad.tout(), TC_BN), ceilDiv(coutG, TC_BM), z, TC_THREADS, a.build());
        } else {
            ctx.launch(Kernel.CONV1D_F32, s, ceilDiv(pad.tout(), EXACT_BN), ceilDiv(coutG, EXACT_BM), z, EXACT_THREADS, a.build());
        }
    }

    static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
