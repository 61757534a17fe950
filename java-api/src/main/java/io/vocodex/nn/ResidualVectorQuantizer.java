package io.vocodex.nn;

import io.vocodex.backend.cpu.CpuContext;
import io.vocodex.backend.cpu.CpuOps;
import io.vocodex.model.Weights;

/**
 * Residual vector quantization with Euclidean codebooks (EnCodec's {@code ResidualVectorQuantizer}):
 * codebook {@code k} quantizes the residual left by codebooks {@code 0..k-1}. Reads
 * {@code vq.layers.{k}._codebook.embed} {@code (bins, dim)}; the training statistics
 * ({@code inited}, {@code cluster_size}, {@code embed_avg}) are accepted and ignored.
 * Squared code norms are computed once at load.
 */
public final class ResidualVectorQuantizer {
    private final int dim;
    private final int bins;
    private final float[][] codebooks; // [k] (bins, dim)
    private final float[][] codeNorms; // [k] (bins)

    public ResidualVectorQuantizer(int dim, int bins, int numQuantizers, Weights w) {
        this.dim = dim;
        this.bins = bins;
        codebooks = new float[numQuantizers][];
        codeNorms = new float[numQuantizers][];
        for (int k = 0; k < numQuantizers; k++) {
            Weights cb = w.prefix("vq.layers." + k + "._codebook");
            codebooks[k] = cb.floats("embed", bins, dim);
            codeNorms[k] = CpuOps.rowSquaredNorms(codebooks[k], bins, dim);
            for (String stat : new String[] {"inited", "cluster_size", "embed_avg"}) {
                cb.markUsed(stat);
            }
        }
    }

    public int numQuantizers() {
        return codebooks.length;
    }

    public int bins() {
        return bins;
    }

    public int dim() {
        return dim;
    }

    /** A copy of codebook {@code k} {@code (bins, dim)}. */
    public float[] codebook(int k) {
        return codebooks[k].clone();
    }

    /** Codes {@code (nq, T)} of {@code latent (dim, T)} using the first {@code nq} codebooks. */
    public int[][] encode(CpuContext ctx, float[][] latent, int nq) {
        int frames = Frames.length(latent);
        float[][] residual = CpuOps.copy(latent);
        int[][] codes = new int[nq][];
        for (int k = 0; k < nq; k++) {
            int[] idx = CpuOps.nearestCodes(ctx, residual, codebooks[k], codeNorms[k], bins);
            codes[k] = idx;
            if (k + 1 < nq) {
                float[] cb = codebooks[k];
                for (int d = 0; d < dim; d++) {
                    float[] r = residual[d];
                    for (int t = 0; t < frames; t++) {
                        r[t] = r[t] - cb[idx[t] * dim + d];
                    }
                }
            }
        }
        return codes;
    }

    /** The quantized latent {@code (dim, T)}: the sum, in codebook order, of the selected codes. */
    public float[][] decode(int[][] codes) {
        int frames = codes.length == 0 ? 0 : codes[0].length;
        float[][] out = new float[dim][frames];
        for (int k = 0; k < codes.length; k++) {
            float[] cb = codebooks[k];
            int[] idx = codes[k];
            for (int d = 0; d < dim; d++) {
                float[] o = out[d];
                for (int t = 0; t < frames; t++) {
                    o[t] = o[t] + cb[idx[t] * dim + d];
                }
            }
        }
        return out;
    }

    /**
     * For diagnostics: the gap between the best and second-best distance of each chosen code
     * {@code (nq, T)}; a tiny gap marks a code that float rounding may legitimately flip.
     */
    public float[][] margins(float[][] latent, int[][] codes) {
        int nq = codes.length;
        int frames = Frames.length(latent);
        float[][] residual = CpuOps.copy(latent);
        float[][] out = new float[nq][frames];
        for (int k = 0; k < nq; k++) {
            float[] cb = codebooks[k];
            for (int t = 0; t < frames; t++) {
                double best = Double.POSITIVE_INFINITY;
                double second = Double.POSITIVE_INFINITY;
                for (int n = 0; n < bins; n++) {
                    double dist = 0;
                    for (int d = 0; d < dim; d++) {
                        double diff = residual[d][t] - cb[n * dim + d];
                        dist += diff * diff;
                    }
                    if (dist < best) {
                        second = best;
                        best = dist;
                    } else if (dist < second) {
                        second = dist;
                    }
                }
                out[k][t] = (float) (second - best);
                for (int d = 0; d < dim; d++) {
                    residual[d][t] -= cb[codes[k][t] * dim + d];
                }
            }
        }
        return out;
    }
}
