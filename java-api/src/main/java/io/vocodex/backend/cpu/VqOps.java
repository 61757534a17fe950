package io.vocodex.backend.cpu;

/**
 * Nearest-code search with the distance expression of {@code torch.cdist(x, e, p=2)} on its
 * matrix-product path ({@code _euclidean_dist}, taken for more than 25 rows):
 * {@code d = sqrt(max([-2x, |x|^2, 1] . [e, 1, |e|^2], 0))} in float32, then argmin with ties to
 * the lowest index. Mimi's {@code EuclideanCodebook._quantize} uses it; the square root can make
 * two nearly equal squared distances tie, and the lowest index then wins, so it is evaluated too.
 *
 * <p>Arithmetic: {@code |x|^2} and {@code |e|^2} are sums of squares accumulated in column order
 * (each product rounded, then added); the augmented dot product accumulates {@code (-2x_d) e_d}
 * in column order, then adds {@code |x|^2}, then {@code |e|^2}, each step rounded to float32:
 * the order of a reference (non-blocked) GEMM. Fixed per element, so batch and streaming agree.
 */
public final class VqOps {
    private VqOps() {
    }

    /** {@code |row|^2} per row of {@code m (rows, cols)}: products rounded, summed in column order. */
    public static float[] squaredNorms(float[] m, int rows, int cols) {
        float[] n = new float[rows];
        for (int r = 0; r < rows; r++) {
            float acc = 0f;
            for (int c = 0; c < cols; c++) {
                float v = m[r * cols + c];
                float p = v * v;
                acc = acc + p;
            }
            n[r] = acc;
        }
        return n;
    }

    /**
     * Nearest code of every column of {@code x (D, T)} in {@code codebook (N, D)}.
     *
     * @param codeNorms {@link #squaredNorms} of the codebook
     */
    public static int[] nearestCodes(CpuContext ctx, float[][] x, float[] codebook, float[] codeNorms, int numCodes) {
        int dim = x.length;
        int frames = dim == 0 ? 0 : x[0].length;
        int[] out = new int[frames];
        ctx.parallelFor(frames, (long) numCodes * dim, t -> {
            float[] m2x = new float[dim];
            float xx = 0f;
            for (int d = 0; d < dim; d++) {
                float v = x[d][t];
                m2x[d] = -2f * v;
                float p = v * v;
                xx = xx + p;
            }
            int best = 0;
            float bestDist = Float.POSITIVE_INFINITY;
            for (int n = 0; n < numCodes; n++) {
                int base = n * dim;
                float acc = 0f;
                for (int d = 0; d < dim; d++) {
                    float p = m2x[d] * codebook[base + d];
                    acc = acc + p;
                }
                acc = acc + xx;
                acc = acc + codeNorms[n];
                float dist = (float) Math.sqrt(Math.max(acc, 0f));
                if (dist < bestDist) { // strict: the lowest index wins ties
                    bestDist = dist;
                    best = n;
                }
            }
            out[t] = best;
        });
        return out;
    }
}
