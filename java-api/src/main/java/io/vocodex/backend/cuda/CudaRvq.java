package io.vocodex.backend.cuda;

import io.vocodex.VocodexException;
import io.vocodex.backend.cpu.CpuOps;

/**
 * Host side of {@code rvq.cu}: residual vector quantization with Euclidean codebooks on the device.
 * {@link #encode} is {@code ResidualVectorQuantizer.encode} (one fused distance-GEMM + argmin launch
 * per codebook, the residual updated in place), {@link #decode} its {@code decode}; both are
 * bit-identical to the CPU. Codebooks {@code (nq, N, D)} and their squared norms (computed once with
 * {@code CpuOps.rowSquaredNorms}, as the CPU model does) are uploaded at construction.
 */
public final class CudaRvq implements AutoCloseable {
    private static final int FRAMES = 32;   // VX_RVQ_FRAMES
    private static final int THREADS = 256; // VX_RVQ_THREADS

    private final CudaContext ctx;
    private final int dim;
    private final int bins;
    private final int numQuantizers;
    private final DeviceBuffer codebooks;
    private final DeviceBuffer norms;

    /** {@code codebooks[k]} is codebook k, {@code (bins, dim)} row-major. */
    public CudaRvq(CudaContext ctx, int dim, int bins, float[][] codebooks) {
        this.ctx = ctx;
        this.dim = dim;
        this.bins = bins;
        this.numQuantizers = codebooks.length;
        float[] all = new float[numQuantizers * bins * dim];
        float[] n = new float[numQuantizers * bins];
        for (int k = 0; k < numQuantizers; k++) {
            if (codebooks[k].length != bins * dim) {
                throw new VocodexException("codebook " + k + " has " + codebooks[k].length + " values, expected " + bins * dim);
            }
            System.arraycopy(codebooks[k], 0, all, k * bins * dim, bins * dim);
            System.arraycopy(CpuOps.rowSquaredNorms(codebooks[k], bins, dim), 0, n, k * bins, bins);
        }
        this.codebooks = ctx.upload(all);
        this.norms = ctx.upload(n);
    }

    /**
     * Codes {@code (B, nq, T)} into {@code codes} for the residual {@code (B, D, T)}, which is consumed
     * (left as the residual after the first {@code nq - 1} codebooks; pass a copy to keep the latent).
     */
    public void encode(CudaStream s, DeviceBuffer residual, DeviceBuffer codes, int batch, int frames, int nq) {
        if (nq < 1 || nq > numQuantizers) {
            throw new VocodexException("nq " + nq + " outside 1.." + numQuantizers);
        }
        if (batch > 65535) {
            throw new VocodexException("batch " + batch + " > 65535");
        }
        for (int k = 0; k < nq; k++) {
            Args a = new Args().buf(residual).ptr(codebooks.at((long) k * bins * dim)).ptr(norms.at((long) k * bins))
                    .ptr(codes.at((long) k * frames)).i32(batch).i32(dim).i32(bins).i32(frames)
                    .i64((long) dim * frames).i32(frames).i64((long) nq * frames).i32(k + 1 < nq ? 1 : 0);
            ctx.launch(Kernel.RVQ_NEAREST_F32, s, CudaConv1d.ceilDiv(frames, FRAMES), batch, 1, THREADS, a.build());
        }
    }

    /** The quantized latent {@code (B, D, T)}: the sum in codebook order of the codes {@code (B, nq, T)}. */
    public void decode(CudaStream s, DeviceBuffer codes, DeviceBuffer out, int batch, int frames, int nq) {
        if (nq < 1 || nq > numQuantizers) {
            throw new VocodexException("nq " + nq + " outside 1.." + numQuantizers);
        }
        long n = (long) batch * dim * frames;
        Args a = new Args().buf(codes).buf(codebooks).buf(out).i32(batch).i32(nq).i32(bins).i32(dim).i32(frames)
                .i64((long) nq * frames).i32(frames).i64((long) dim * frames).i32(frames);
        ctx.launch(Kernel.RVQ_DECODE_F32, s, (int) ((n + THREADS - 1) / THREADS), 1, 1, THREADS, a.build());
    }

    @Override
    public void close() {
        codebooks.close();
        norms.close();
    }
}
