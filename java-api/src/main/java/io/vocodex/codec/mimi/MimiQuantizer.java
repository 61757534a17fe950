package io.vocodex.codec.mimi;

import io.vocodex.backend.cpu.CpuContext;
import io.vocodex.backend.cpu.CpuOps;
import io.vocodex.backend.cpu.VqOps;
import io.vocodex.model.Weights;

/**
 * Mimi's {@code SplitResidualVectorQuantizer}: {@code rvq_first} (the {@code n_q_semantic}
 * semantic codebooks) and {@code rvq_rest} (the acoustic ones) are two independent residual VQs,
 * each with its OWN 1x1 input projection applied to the SAME latent and its own output projection;
 * the codes are concatenated (semantic first) and the decoded latents summed. Codebook vectors are
 * {@code embedding_sum / max(cluster_usage, 1e-5)} (the original's {@code EuclideanCodebook.embedding}).
 */
public final class MimiQuantizer {
    private static final float EPSILON = 1e-5f;

    private final Rvq first;
    private final Rvq rest;
    private final int bins;
    private final int nQSemantic;

    /** One {@code ResidualVectorQuantizer} with forced projections. */
    static final class Rvq {
        final int dim;
        final int inDim;
        final int outDim;
        final float[] inputProj;  // (dim, inDim)
        final float[] outputProj; // (outDim, dim)
        final float[][][] codebooks; // [k] columns [dim][bins] (VqOps.codebookColumns)
        final float[][] norms;

        Rvq(Weights w, int dim, int inDim, int outDim, int bins, int layers) {
            this.dim = dim;
            this.inDim = inDim;
            this.outDim = outDim;
            inputProj = w.floats("input_proj.weight", dim, inDim, 1);
            outputProj = w.floats("output_proj.weight", outDim, dim, 1);
            codebooks = new float[layers][][];
            norms = new float[layers][];
            for (int k = 0; k < layers; k++) {
                Weights cb = w.prefix("vq.layers." + k + "._codebook");
                float[] sum = cb.floats("embedding_sum", bins, dim);
                float[] usage = cb.floats("cluster_usage", bins);
                if (cb.contains("_initialized")) {
                    cb.floats("_initialized", 1);
                }
                float[] e = new float[bins * dim];
                for (int n = 0; n < bins; n++) {
                    float u = Math.max(usage[n], EPSILON);
                    for (int d = 0; d < dim; d++) {
                        e[n * dim + d] = sum[n * dim + d] / u;
                    }
                }
                codebooks[k] = VqOps.codebookColumns(e, bins, dim);
                norms[k] = VqOps.squaredNorms(e, bins, dim);
            }
        }

        int[][] encode(CpuContext ctx, float[][] latent, int nq, int bins) {
            float[][] residual = CpuOps.linearColumns(ctx, latent, inputProj, null, dim);
            int frames = residual.length == 0 ? 0 : residual[0].length;
            int[][] codes = new int[nq][];
            for (int k = 0; k < nq; k++) {
                int[] idx = VqOps.nearestCodesByColumns(ctx, residual, codebooks[k], norms[k]);
                codes[k] = idx;
                if (k + 1 < nq) {
                    float[][] cb = codebooks[k];
                    for (int d = 0; d < dim; d++) {
                        float[] r = residual[d];
                        float[] column = cb[d];
                        for (int t = 0; t < frames; t++) {
                            r[t] = r[t] - column[idx[t]];
                        }
                    }
                }
            }
            return codes;
        }

        /** output_proj of the sum (in codebook order) of the code vectors of rows {@code [from, to)}. */
        float[][] decode(CpuContext ctx, int[][] codes, int from, int to) {
            int frames = codes[from].length;
            float[][] q = new float[dim][frames];
            for (int k = from; k < to; k++) {
                float[][] cb = codebooks[k - from];
                int[] idx = codes[k];
                for (int d = 0; d < dim; d++) {
                    float[] o = q[d];
                    float[] column = cb[d];
                    for (int t = 0; t < frames; t++) {
                        o[t] = o[t] + column[idx[t]];
                    }
                }
            }
            return CpuOps.linearColumns(ctx, q, outputProj, null, outDim);
        }
    }

    public MimiQuantizer(MimiConfig.Quantizer c, Weights w) {
        this.bins = c.bins();
        this.nQSemantic = c.nQSemantic();
        first = new Rvq(w.prefix("rvq_first"), c.dimension(), c.inputDimension(), c.outputDimension(), c.bins(), c.nQSemantic());
        rest = new Rvq(w.prefix("rvq_rest"), c.dimension(), c.inputDimension(), c.outputDimension(), c.bins(),
                c.nQ() - c.nQSemantic());
    }

    public int bins() {
        return bins;
    }

    public int semanticCodebooks() {
        return nQSemantic;
    }

    /** Codes {@code (nq, T)} of {@code latent (D, T)}; {@code nq >= n_q_semantic}. */
    public int[][] encode(CpuContext ctx, float[][] latent, int nq) {
        int[][] sem = first.encode(ctx, latent, Math.min(nq, nQSemantic), bins);
        if (nq <= nQSemantic) {
            return sem;
        }
        int[][] ac = rest.encode(ctx, latent, nq - nQSemantic, bins);
        int[][] all = new int[nq][];
        System.arraycopy(sem, 0, all, 0, sem.length);
        System.arraycopy(ac, 0, all, sem.length, ac.length);
        return all;
    }

    /** The quantized latent {@code (D, T)} of codes {@code (K, T)}: semantic part plus acoustic part. */
    public float[][] decode(CpuContext ctx, int[][] codes) {
        int ks = Math.min(codes.length, nQSemantic);
        float[][] q = first.decode(ctx, codes, 0, ks);
        if (codes.length > nQSemantic) {
            q = CpuOps.add(q, rest.decode(ctx, codes, nQSemantic, codes.length));
        }
        return q;
    }

    // ---- weights for other backends (read-only copies) ----------------------------------------

    /**
     * One of the two residual VQs ({@code part 0}: {@code rvq_first}, {@code 1}: {@code rvq_rest}):
     * {@code inputProj (dim, inDim)}, {@code outputProj (outDim, dim)}, {@code codebooks[k] (bins, dim)}.
     * Copies; the quantizer stays immutable.
     */
    public record PartWeights(int dim, int inDim, int outDim, float[] inputProj, float[] outputProj, float[][] codebooks) {
    }

    /** Weights of {@code rvq_first} ({@code part = 0}) or {@code rvq_rest} ({@code part = 1}). */
    public PartWeights partWeights(int part) {
        Rvq r = part == 0 ? first : rest;
        float[][] books = new float[r.codebooks.length][];
        for (int k = 0; k < books.length; k++) {
            float[][] columns = r.codebooks[k]; // [dim][bins]
            int numCodes = columns[0].length;
            float[] rows = new float[numCodes * r.dim];
            for (int d = 0; d < r.dim; d++) {
                for (int n = 0; n < numCodes; n++) {
                    rows[n * r.dim + d] = columns[d][n];
                }
            }
            books[k] = rows;
        }
        return new PartWeights(r.dim, r.inDim, r.outDim, r.inputProj.clone(), r.outputProj.clone(), books);
    }
}
