package io.vocodex.backend.cpu;

/**
 * The CPU backend's compute kernels over channel-major activations {@code float[C][T]}.
 *
 * <h2>Arithmetic contract</h2>
 * Every output element is computed by ONE fixed sequence of fused multiply-adds whose order
 * depends only on the weights' indices, never on the length of the sequence, the position of a
 * tile, the batch or the thread count:
 * <ul>
 *   <li>conv1d: {@code acc = 0; for ci ascending: for k ascending: acc = fma(w, x, acc); out = acc + bias};</li>
 *   <li>transposed conv (polyphase): {@code acc = 0; for ci: for m ascending (tap p + m*stride): acc = fma(w, x[q-m], acc); out = acc + bias};</li>
 *   <li>matrix-vector / linear: {@code acc = 0; for i ascending: acc = fma(w, x, acc); out = acc + bias}.</li>
 * </ul>
 * This is what makes streaming bit-identical to batch (a chunk boundary changes no sum) and each
 * clip of a batch bit-identical to its solo run. Faster implementations must keep it; the tests
 * compare them with these loops for exact equality and with {@code ReferenceOps} (float64) for
 * accuracy.
 */
public final class CpuOps {
    private CpuOps() {
    }

    /**
     * Plain (unpadded) 1-d convolution.
     *
     * @param x input {@code (Cin, Tin)}, already padded
     * @param w weight {@code (Cout, Cin/groups, K)} flattened
     * @param bias {@code (Cout)} or null
     * @return {@code (Cout, Tout)} with {@code Tout = (Tin - (K-1)*dilation - 1) / stride + 1}
     */
    public static float[][] conv1d(CpuContext ctx, float[][] x, float[] w, float[] bias,
                                   int cout, int kernel, int stride, int dilation, int groups) {
        return conv1d(ctx, x, x.length == 0 ? 0 : x[0].length, w, bias, cout, kernel, stride, dilation, groups);
    }

    /** {@link #conv1d} over the first {@code tin} columns of {@code x} only (streaming buffers are longer). */
    public static float[][] conv1d(CpuContext ctx, float[][] x, int tin, float[] w, float[] bias,
                                   int cout, int kernel, int stride, int dilation, int groups) {
        int cin = x.length;
        int span = (kernel - 1) * dilation + 1;
        int tout = tin < span ? 0 : (tin - span) / stride + 1;
        float[][] out = new float[cout][tout];
        if (tout == 0) {
            return out;
        }
        int cinPerGroup = cin / groups;
        int coutPerGroup = cout / groups;
        // Polyphase view for strided convs so that every inner loop is contiguous:
        // x[ci][t*stride + off] == phases[ci][off % stride][t + off / stride].
        final float[][][] phases = stride == 1 ? null : polyphase(x, tin, stride);
        ctx.parallelFor(cout, (long) cinPerGroup * kernel * tout, co -> {
            float[] acc = out[co];
            int g = co / coutPerGroup;
            int wBase = co * cinPerGroup * kernel;
            for (int cl = 0; cl < cinPerGroup; cl++) {
                int ci = g * cinPerGroup + cl;
                for (int k = 0; k < kernel; k++) {
                    float wv = w[wBase + cl * kernel + k];
                    int off = k * dilation;
                    float[] xr;
                    int shift;
                    if (phases == null) {
                        xr = x[ci];
                        shift = off;
                    } else {
                        xr = phases[ci][off % stride];
                        shift = off / stride;
                    }
                    for (int t = 0; t < tout; t++) {
                        acc[t] = Math.fma(wv, xr[t + shift], acc[t]);
                    }
                }
            }
            if (bias != null) {
                float b = bias[co];
                for (int t = 0; t < tout; t++) {
                    acc[t] = acc[t] + b;
                }
            }
        });
        return out;
    }

    static float[][][] polyphase(float[][] x, int tin, int stride) {
        float[][][] ph = new float[x.length][stride][];
        for (int ci = 0; ci < x.length; ci++) {
            for (int p = 0; p < stride; p++) {
                int n = tin > p ? (tin - p + stride - 1) / stride : 0;
                float[] r = new float[n];
                for (int t = 0; t < n; t++) {
                    r[t] = x[ci][t * stride + p];
                }
                ph[ci][p] = r;
            }
        }
        return ph;
    }

    /**
     * Transposed 1-d convolution evaluated frame by frame: for every input frame index
     * {@code q in [qFrom, qTo)} it writes the {@code stride} output samples
     * {@code y[q*stride + p]}, {@code p in [0, stride)}, which read input frames {@code q, q-1, ...};
     * frames outside {@code [0, Tx)} count as zero. The full PyTorch output of length
     * {@code (T-1)*stride + K} is {@code qFrom = 0, qTo = T + ceil(K/stride) - 1}, truncated.
     *
     * @param x input {@code (Cin, Tx)}
     * @param w weight {@code (Cin, Cout/groups, K)} flattened, as PyTorch stores it
     * @return {@code (Cout, (qTo - qFrom) * stride)}
     */
    public static float[][] convTranspose1dFrames(CpuContext ctx, float[][] x, float[] w, float[] bias,
                                                  int cout, int kernel, int stride, int groups, int qFrom, int qTo) {
        int cin = x.length;
        int tx = cin == 0 ? 0 : x[0].length;
        int nq = Math.max(0, qTo - qFrom);
        float[][] out = new float[cout][nq * stride];
        if (nq == 0) {
            return out;
        }
        int cinPerGroup = cin / groups;
        int coutPerGroup = cout / groups;
        int taps = (kernel + stride - 1) / stride;
        ctx.parallelFor(cout, (long) cinPerGroup * kernel * nq, co -> {
            int g = co / coutPerGroup;
            int col = co - g * coutPerGroup;
            float[] acc = new float[nq];
            float[] row = out[co];
            for (int p = 0; p < stride; p++) {
                java.util.Arrays.fill(acc, 0f);
                for (int cl = 0; cl < cinPerGroup; cl++) {
                    int ci = g * cinPerGroup + cl;
                    float[] xr = x[ci];
                    int wBase = (ci * coutPerGroup + col) * kernel;
                    for (int m = 0; m < taps; m++) {
                        int k = p + m * stride;
                        if (k >= kernel) {
                            break;
                        }
                        float wv = w[wBase + k];
                        // frames q - m for q in [qFrom, qTo), restricted to [0, tx)
                        int qLo = Math.max(qFrom, m);
                        int qHi = Math.min(qTo, tx + m);
                        for (int q = qLo; q < qHi; q++) {
                            acc[q - qFrom] = Math.fma(wv, xr[q - m], acc[q - qFrom]);
                        }
                    }
                }
                float b = bias == null ? 0f : bias[co];
                for (int i = 0; i < nq; i++) {
                    row[i * stride + p] = bias == null ? acc[i] : acc[i] + b;
                }
            }
        });
        return out;
    }

    /** ELU in place: {@code x > 0 ? x : alpha * (exp(x) - 1)}. */
    public static void eluInPlace(float[][] x, float alpha) {
        for (float[] row : x) {
            for (int t = 0; t < row.length; t++) {
                float v = row[t];
                if (v <= 0f) {
                    row[t] = (float) (alpha * Math.expm1(v));
                }
            }
        }
    }

    /** A copy of {@code x} with ELU applied. */
    public static float[][] elu(float[][] x, float alpha) {
        float[][] y = copy(x);
        eluInPlace(y, alpha);
        return y;
    }

    /** {@code a + b} elementwise into a new array (shapes must match). */
    public static float[][] add(float[][] a, float[][] b) {
        float[][] y = new float[a.length][];
        for (int c = 0; c < a.length; c++) {
            float[] ar = a[c];
            float[] br = b[c];
            float[] r = new float[ar.length];
            for (int t = 0; t < r.length; t++) {
                r[t] = ar[t] + br[t];
            }
            y[c] = r;
        }
        return y;
    }

    public static float[][] copy(float[][] x) {
        float[][] y = new float[x.length][];
        for (int c = 0; c < x.length; c++) {
            y[c] = x[c].clone();
        }
        return y;
    }

    /**
     * {@code y[o][t] = bias[o] + sum_i w[o][i] * x[i][t]} for every column t: a linear layer over
     * channel-major input, i.e. a GEMM {@code (O, I) x (I, T)}.
     *
     * @param w {@code (O, I)} row-major
     */
    public static float[][] linearColumns(CpuContext ctx, float[][] x, float[] w, float[] bias, int outFeatures) {
        int in = x.length;
        int t = in == 0 ? 0 : x[0].length;
        float[][] out = new float[outFeatures][t];
        ctx.parallelFor(outFeatures, (long) in * t, o -> {
            float[] acc = out[o];
            int base = o * in;
            for (int i = 0; i < in; i++) {
                float wv = w[base + i];
                float[] xr = x[i];
                for (int j = 0; j < t; j++) {
                    acc[j] = Math.fma(wv, xr[j], acc[j]);
                }
            }
            if (bias != null) {
                float b = bias[o];
                for (int j = 0; j < t; j++) {
                    acc[j] = acc[j] + b;
                }
            }
        });
        return out;
    }

    /** {@code y[o] = sum_i w[o][i] * v[i]} (no bias), accumulated in the contract's order. */
    public static void matVec(float[] w, int outFeatures, int in, float[] v, float[] y) {
        for (int o = 0; o < outFeatures; o++) {
            float acc = 0f;
            int base = o * in;
            for (int i = 0; i < in; i++) {
                acc = Math.fma(w[base + i], v[i], acc);
            }
            y[o] = acc;
        }
    }

    /**
     * One LSTM layer over a whole sequence, PyTorch gate order (i, f, g, o).
     * The input projection is one GEMM over all steps; the recurrence is a matrix-vector per step.
     *
     * @param x {@code (I, T)}
     * @param wih {@code (4H, I)}, whh {@code (4H, H)}; biases {@code (4H)}
     * @param h hidden state {@code (H)}, read and updated in place
     * @param c cell state {@code (H)}, read and updated in place
     * @return {@code (H, T)}
     */
    public static float[][] lstmLayer(CpuContext ctx, float[][] x, float[] wih, float[] whh, float[] bih, float[] bhh,
                                      float[] h, float[] c) {
        int hidden = h.length;
        int steps = x.length == 0 ? 0 : x[0].length;
        float[][] gx = linearColumns(ctx, x, wih, null, 4 * hidden); // (4H, T)
        float[][] y = new float[hidden][steps];
        float[] gh = new float[4 * hidden];
        for (int t = 0; t < steps; t++) {
            matVec(whh, 4 * hidden, hidden, h, gh);
            for (int j = 0; j < hidden; j++) {
                float gi = (gx[j][t] + (bih[j] + bhh[j])) + gh[j];
                float gf = (gx[hidden + j][t] + (bih[hidden + j] + bhh[hidden + j])) + gh[hidden + j];
                float gg = (gx[2 * hidden + j][t] + (bih[2 * hidden + j] + bhh[2 * hidden + j])) + gh[2 * hidden + j];
                float go = (gx[3 * hidden + j][t] + (bih[3 * hidden + j] + bhh[3 * hidden + j])) + gh[3 * hidden + j];
                float cn = sigmoid(gf) * c[j] + sigmoid(gi) * (float) Math.tanh(gg);
                c[j] = cn;
                h[j] = sigmoid(go) * (float) Math.tanh(cn);
                y[j][t] = h[j];
            }
        }
        return y;
    }

    static float sigmoid(float v) {
        return (float) (1.0 / (1.0 + Math.exp(-v)));
    }

    /**
     * Nearest code for each column of {@code x (D, T)} in {@code codebook (N, D)}: the argmin of
     * {@code (|x|^2 - 2 x.e) + |e|^2}, the expression (and float32 rounding) of the original
     * EnCodec/Mimi Euclidean codebooks; ties go to the lowest index, as argmax does.
     *
     * @param codeNorms {@code |e|^2} per code, precomputed at load with {@link #rowSquaredNorms}
     */
    public static int[] nearestCodes(CpuContext ctx, float[][] x, float[] codebook, float[] codeNorms, int numCodes) {
        int dim = x.length;
        int frames = dim == 0 ? 0 : x[0].length;
        int[] out = new int[frames];
        ctx.parallelFor(frames, (long) numCodes * dim, t -> {
            float[] v = new float[dim];
            float xx = 0f;
            for (int d = 0; d < dim; d++) {
                v[d] = x[d][t];
                xx = Math.fma(v[d], v[d], xx);
            }
            int best = 0;
            float bestDist = Float.POSITIVE_INFINITY;
            for (int n = 0; n < numCodes; n++) {
                float dot = 0f;
                int base = n * dim;
                for (int d = 0; d < dim; d++) {
                    dot = Math.fma(v[d], codebook[base + d], dot);
                }
                float dist = (xx - 2f * dot) + codeNorms[n];
                if (dist < bestDist) { // strict: the lowest index wins ties
                    bestDist = dist;
                    best = n;
                }
            }
            out[t] = best;
        });
        return out;
    }

    /** {@code |row|^2} for each row of {@code m (rows, cols)}, fma-accumulated in column order. */
    public static float[] rowSquaredNorms(float[] m, int rows, int cols) {
        float[] n = new float[rows];
        for (int r = 0; r < rows; r++) {
            float acc = 0f;
            for (int c = 0; c < cols; c++) {
                float v = m[r * cols + c];
                acc = Math.fma(v, v, acc);
            }
            n[r] = acc;
        }
        return n;
    }
}
