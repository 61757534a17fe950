package io.vocodex.backend.cuda;

import io.vocodex.VocodexException;
import io.vocodex.backend.cpu.VqOps;
import io.vocodex.codec.mimi.MimiQuantizer;

/**
 * Mimi's split residual VQ ({@link MimiQuantizer}) on the device: for each part ({@code rvq_first},
 * {@code rvq_rest}) its 1x1 input projection of the latent ({@code conv1d_f32}, K = 1), then one
 * {@code vq_cdist_nearest_f32} launch per codebook (Mimi's {@code cdist} distance, residual updated in
 * place); decoding sums each part's code vectors ({@code rvq_decode_f32}), projects them
 * ({@code conv1d_f32}, K = 1) and adds the parts ({@code add_f32}). All bit-identical to the CPU by
 * construction. Codebooks and their {@link VqOps#squaredNorms} are uploaded at construction.
 */
final class CudaMimiQuantizer implements AutoCloseable {
    private static final int FRAMES = 32;   // VX_RVQ_FRAMES
    private static final int THREADS = 256; // VX_RVQ_THREADS

    private final CudaContext cuda;
    private final CudaConv1d conv;
    private final CudaElementwise elementwise;
    private final Part[] parts = new Part[2];
    private final int nQSemantic;
    final int latentDim;

    /** One residual VQ: projections and codebooks on the device. */
    private final class Part implements AutoCloseable {
        final int dim;
        final int books;
        final int bins;
        final CudaConv1d.Layer inputProj;  // (dim, latentDim)
        final CudaConv1d.Layer outputProj; // (latentDim, dim)
        final DeviceBuffer codebooks;      // (books, bins, dim)
        final DeviceBuffer norms;          // (books, bins)

        Part(MimiQuantizer.PartWeights w, int bins) {
            this.dim = w.dim();
            this.books = w.codebooks().length;
            this.bins = bins;
            float[] all = new float[Math.max(1, books * bins * dim)];
            float[] n = new float[Math.max(1, books * bins)];
            for (int k = 0; k < books; k++) {
                System.arraycopy(w.codebooks()[k], 0, all, k * bins * dim, bins * dim);
                System.arraycopy(VqOps.squaredNorms(w.codebooks()[k], bins, dim), 0, n, k * bins, bins);
            }
            DeviceBuffer in = cuda.upload(w.inputProj());
            DeviceBuffer out = cuda.upload(w.outputProj());
            this.inputProj = new CudaConv1d.Layer(w.inDim(), dim, 1, 1, 1, 1, in, null);
            this.outputProj = new CudaConv1d.Layer(dim, w.outDim(), 1, 1, 1, 1, out, null);
            this.codebooks = cuda.upload(all);
            this.norms = cuda.upload(n);
        }

        @Override
        public void close() {
            inputProj.weight().close();
            outputProj.weight().close();
            codebooks.close();
            norms.close();
        }
    }

    CudaMimiQuantizer(CudaContext cuda, MimiQuantizer q) {
        this.cuda = cuda;
        this.conv = new CudaConv1d(cuda);
        this.elementwise = new CudaElementwise(cuda);
        this.nQSemantic = q.semanticCodebooks();
        try {
            parts[0] = new Part(q.partWeights(0), q.bins());
            parts[1] = new Part(q.partWeights(1), q.bins());
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        this.latentDim = parts[0].inputProj.cin();
    }

    /** Floats of the residual scratch {@link #encode} needs per clip and frame. */
    int residualFloatsPerFrame() {
        return Math.max(parts[0].dim, parts[1].dim);
    }

    /**
     * Codes {@code (B, nq, T)} of {@code latent (B, latentDim, T)} into {@code codes}; {@code residual}
     * holds {@code B * T * residualFloatsPerFrame()} floats.
     */
    void encode(CudaStream s, DeviceBuffer latent, DeviceBuffer residual, DeviceBuffer codes, int batch, int frames, int nq) {
        if (batch > 65535) {
            throw new VocodexException("batch " + batch + " > 65535");
        }
        int first = Math.min(nq, nQSemantic);
        encodePart(s, parts[0], latent, residual, codes, 0, first, batch, frames, nq);
        if (nq > nQSemantic) {
            encodePart(s, parts[1], latent, residual, codes, nQSemantic, nq - nQSemantic, batch, frames, nq);
        }
    }

    private void encodePart(CudaStream s, Part p, DeviceBuffer latent, DeviceBuffer residual, DeviceBuffer codes, int row0,
                            int count, int batch, int frames, int nq) {
        conv.launch(s, Precision.FP32, p.inputProj, CudaConv1d.Padding.none(frames, 1, 1), batch, latent,
                (long) latentDim * frames, frames, residual, (long) p.dim * frames, frames, null, false, 0f);
        for (int k = 0; k < count; k++) {
            Args a = new Args().buf(residual).ptr(p.codebooks.at((long) k * p.bins * p.dim)).ptr(p.norms.at((long) k * p.bins))
                    .ptr(codes.at((long) (row0 + k) * frames)).i32(batch).i32(p.dim).i32(p.bins).i32(frames)
                    .i64((long) p.dim * frames).i32(frames).i64((long) nq * frames).i32(k + 1 < count ? 1 : 0);
            cuda.launch(Kernel.VQ_CDIST_NEAREST_F32, s, CudaConv1d.ceilDiv(frames, FRAMES), batch, 1, THREADS, a.build());
        }
    }

    /**
     * The quantized latent {@code (1, latentDim, T)} of codes {@code (nq, T)} into {@code out}; {@code sum} and
     * {@code rest} are scratch of {@code T * max(dim, latentDim)} floats each.
     */
    void decode(CudaStream s, DeviceBuffer codes, DeviceBuffer out, DeviceBuffer sum, DeviceBuffer rest, int frames, int nq) {
        int first = Math.min(nq, nQSemantic);
        decodePart(s, parts[0], codes, 0, first, sum, out, frames, nq);
        if (nq > nQSemantic) {
            decodePart(s, parts[1], codes, nQSemantic, nq - nQSemantic, sum, rest, frames, nq);
            elementwise.add(s, out, rest, out, (long) latentDim * frames);
        }
    }

    private void decodePart(CudaStream s, Part p, DeviceBuffer codes, int row0, int count, DeviceBuffer sum, DeviceBuffer out,
                            int frames, int nq) {
        long n = (long) p.dim * frames;
        Args a = new Args().ptr(codes.at((long) row0 * frames)).buf(p.codebooks).buf(sum).i32(1).i32(count).i32(p.bins)
                .i32(p.dim).i32(frames).i64((long) nq * frames).i32(frames).i64((long) p.dim * frames).i32(frames);
        cuda.launch(Kernel.RVQ_DECODE_F32, s, (int) ((n + THREADS - 1) / THREADS), 1, 1, THREADS, a.build());
        conv.launch(s, Precision.FP32, p.outputProj, CudaConv1d.Padding.none(frames, 1, 1), 1, sum, n, frames,
                out, (long) latentDim * frames, frames, null, false, 0f);
    }

    @Override
    public void close() {
        for (Part p : parts) {
            if (p != null) {
                p.close();
            }
        }
    }
}
