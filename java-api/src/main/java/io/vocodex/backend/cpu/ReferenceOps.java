package io.vocodex.backend.cpu;

import io.vocodex.nn.PadMode;

/**
 * Plain, obviously-correct float64 reference implementations of the ops the CPU backend runs,
 * for accuracy tests of the float32 kernels in {@link CpuOps} and of the layers built on them.
 * Every op reads float32 inputs, computes in double with the textbook formula (no tiling, no
 * polyphase tricks, no fma ordering contract) and returns double results. Speed is no concern.
 *
 * <p>Layouts follow PyTorch: activations are channel-major {@code (C, T)}; conv weights
 * {@code (Cout, Cin/groups, K)}, transposed-conv weights {@code (Cin, Cout/groups, K)}, linear
 * weights {@code (O, I)}, codebooks {@code (N, D)}, all flattened row-major.
 */
public final class ReferenceOps {
    private ReferenceOps() {
    }

    /**
     * {@code torch.nn.functional.conv1d} without padding:
     * {@code y[co][t] = bias[co] + sum_{cl,k} w[co][cl][k] * x[g*Cin/g + cl][t*stride + k*dilation]}.
     *
     * @param x input {@code (Cin, Tin)}
     * @param bias {@code (Cout)} or null
     * @return {@code (Cout, Tout)}, {@code Tout = (Tin - (K-1)*dilation - 1) / stride + 1} (0 if negative)
     */
    public static double[][] conv1d(float[][] x, float[] w, float[] bias,
                                    int cout, int kernel, int stride, int dilation, int groups) {
        int cin = x.length;
        int tin = cin == 0 ? 0 : x[0].length;
        int span = (kernel - 1) * dilation + 1;
        int tout = tin < span ? 0 : (tin - span) / stride + 1;
        int cinG = cin / groups;
        int coutG = cout / groups;
        double[][] y = new double[cout][tout];
        for (int co = 0; co < cout; co++) {
            int g = co / coutG;
            for (int t = 0; t < tout; t++) {
                double s = bias == null ? 0.0 : bias[co];
                for (int cl = 0; cl < cinG; cl++) {
                    for (int k = 0; k < kernel; k++) {
                        s += (double) w[(co * cinG + cl) * kernel + k] * x[g * cinG + cl][t * stride + k * dilation];
                    }
                }
                y[co][t] = s;
            }
        }
        return y;
    }

    /**
     * {@code torch.nn.functional.conv_transpose1d}, full output (no padding, no output padding):
     * every input frame {@code q} scatters {@code x[ci][q] * w[ci][col][k]} into {@code y[co][q*stride + k]}.
     *
     * @param x input {@code (Cin, T)}
     * @return {@code (Cout, (T-1)*stride + K)} ({@code (Cout, 0)} for {@code T = 0})
     */
    public static double[][] convTranspose1d(float[][] x, float[] w, float[] bias,
                                             int cout, int kernel, int stride, int groups) {
        int cin = x.length;
        int t = cin == 0 ? 0 : x[0].length;
        int len = t == 0 ? 0 : (t - 1) * stride + kernel;
        int cinG = cin / groups;
        int coutG = cout / groups;
        double[][] y = new double[cout][len];
        for (int co = 0; co < cout; co++) {
            if (bias != null) {
                java.util.Arrays.fill(y[co], bias[co]);
            }
        }
        for (int ci = 0; ci < cin; ci++) {
            int g = ci / cinG;
            for (int col = 0; col < coutG; col++) {
                int co = g * coutG + col;
                for (int q = 0; q < t; q++) {
                    for (int k = 0; k < kernel; k++) {
                        y[co][q * stride + k] += (double) x[ci][q] * w[(ci * coutG + col) * kernel + k];
                    }
                }
            }
        }
        return y;
    }

    /** ELU: {@code x > 0 ? x : alpha * (exp(x) - 1)}. */
    public static double[][] elu(float[][] x, double alpha) {
        double[][] y = new double[x.length][];
        for (int c = 0; c < x.length; c++) {
            y[c] = new double[x[c].length];
            for (int t = 0; t < x[c].length; t++) {
                double v = x[c][t];
                y[c][t] = v > 0 ? v : alpha * (Math.exp(v) - 1.0);
            }
        }
        return y;
    }

    /**
     * A linear layer over channel-major input: {@code y[o][t] = bias[o] + sum_i w[o][i] * x[i][t]}.
     *
     * @param x {@code (I, T)}
     * @param w {@code (O, I)}
     * @param bias {@code (O)} or null
     */
    public static double[][] linear(float[][] x, float[] w, float[] bias, int outFeatures) {
        int in = x.length;
        int t = in == 0 ? 0 : x[0].length;
        double[][] y = new double[outFeatures][t];
        for (int o = 0; o < outFeatures; o++) {
            for (int j = 0; j < t; j++) {
                double s = bias == null ? 0.0 : bias[o];
                for (int i = 0; i < in; i++) {
                    s += (double) w[o * in + i] * x[i][j];
                }
                y[o][j] = s;
            }
        }
        return y;
    }

    /** {@code y[o] = sum_i w[o][i] * v[i]}. */
    public static double[] matVec(float[] w, int outFeatures, int in, float[] v) {
        double[] y = new double[outFeatures];
        for (int o = 0; o < outFeatures; o++) {
            double s = 0;
            for (int i = 0; i < in; i++) {
                s += (double) w[o * in + i] * v[i];
            }
            y[o] = s;
        }
        return y;
    }

    /**
     * One unidirectional LSTM layer ({@code torch.nn.LSTM}, gate order i, f, g, o), in double:
     * {@code gates = W_ih x_t + b_ih + W_hh h + b_hh}; {@code c = sigmoid(f) c + sigmoid(i) tanh(g)};
     * {@code h = sigmoid(o) tanh(c)}.
     *
     * @param x {@code (I, T)}
     * @param wih {@code (4H, I)}; whh {@code (4H, H)}; bih, bhh {@code (4H)}
     * @param h initial hidden state {@code (H)}, updated in place to the final one
     * @param c initial cell state {@code (H)}, updated in place to the final one
     * @return the hidden states {@code (H, T)}
     */
    public static double[][] lstmLayer(float[][] x, float[] wih, float[] whh, float[] bih, float[] bhh,
                                       double[] h, double[] c) {
        int in = x.length;
        int hidden = h.length;
        int steps = in == 0 ? 0 : x[0].length;
        double[][] y = new double[hidden][steps];
        double[] gates = new double[4 * hidden];
        for (int t = 0; t < steps; t++) {
            for (int o = 0; o < 4 * hidden; o++) {
                double s = (double) bih[o] + bhh[o];
                for (int i = 0; i < in; i++) {
                    s += (double) wih[o * in + i] * x[i][t];
                }
                for (int i = 0; i < hidden; i++) {
                    s += (double) whh[o * hidden + i] * h[i];
                }
                gates[o] = s;
            }
            for (int j = 0; j < hidden; j++) {
                double ig = sigmoid(gates[j]);
                double fg = sigmoid(gates[hidden + j]);
                double gg = Math.tanh(gates[2 * hidden + j]);
                double og = sigmoid(gates[3 * hidden + j]);
                c[j] = fg * c[j] + ig * gg;
                h[j] = og * Math.tanh(c[j]);
                y[j][t] = h[j];
            }
        }
        return y;
    }

    static double sigmoid(double v) {
        return 1.0 / (1.0 + Math.exp(-v));
    }

    /** Squared Euclidean distance between column {@code t} of {@code x (D, T)} and code {@code n}. */
    public static double squaredDistance(float[][] x, int t, float[] codebook, int n) {
        int dim = x.length;
        double s = 0;
        for (int d = 0; d < dim; d++) {
            double diff = (double) x[d][t] - codebook[n * dim + d];
            s += diff * diff;
        }
        return s;
    }

    /**
     * The nearest code (squared Euclidean distance, in double) for each column of {@code x (D, T)} in
     * {@code codebook (N, D)}; on an exact tie the lowest index wins.
     */
    public static int[] nearestCodes(float[][] x, float[] codebook, int numCodes) {
        int frames = x.length == 0 ? 0 : x[0].length;
        int[] out = new int[frames];
        for (int t = 0; t < frames; t++) {
            int best = 0;
            double bestDist = Double.POSITIVE_INFINITY;
            for (int n = 0; n < numCodes; n++) {
                double d = squaredDistance(x, t, codebook, n);
                if (d < bestDist) {
                    bestDist = d;
                    best = n;
                }
            }
            out[t] = best;
        }
        return out;
    }

    /**
     * Residual vector quantization: codebook {@code k} picks the nearest code to the residual left by
     * codebooks {@code 0..k-1} (the residual kept in double).
     *
     * @param latent {@code (D, T)}
     * @param codebooks {@code [k] (N, D)}
     * @return codes {@code (nq, T)}
     */
    public static int[][] rvqEncode(float[][] latent, float[][] codebooks, int numCodes, int nq) {
        int dim = latent.length;
        int frames = dim == 0 ? 0 : latent[0].length;
        double[][] residual = new double[dim][frames];
        for (int d = 0; d < dim; d++) {
            for (int t = 0; t < frames; t++) {
                residual[d][t] = latent[d][t];
            }
        }
        int[][] codes = new int[nq][frames];
        for (int k = 0; k < nq; k++) {
            float[] cb = codebooks[k];
            for (int t = 0; t < frames; t++) {
                int best = 0;
                double bestDist = Double.POSITIVE_INFINITY;
                for (int n = 0; n < numCodes; n++) {
                    double s = 0;
                    for (int d = 0; d < dim; d++) {
                        double diff = residual[d][t] - cb[n * dim + d];
                        s += diff * diff;
                    }
                    if (s < bestDist) {
                        bestDist = s;
                        best = n;
                    }
                }
                codes[k][t] = best;
                for (int d = 0; d < dim; d++) {
                    residual[d][t] -= cb[best * dim + d];
                }
            }
        }
        return codes;
    }

    /** The quantized latent {@code (D, T)}: the sum over codebooks of the selected codes. */
    public static double[][] rvqDecode(int[][] codes, float[][] codebooks, int dim) {
        int frames = codes.length == 0 ? 0 : codes[0].length;
        double[][] y = new double[dim][frames];
        for (int k = 0; k < codes.length; k++) {
            for (int t = 0; t < frames; t++) {
                for (int d = 0; d < dim; d++) {
                    y[d][t] += codebooks[k][codes[k][t] * dim + d];
                }
            }
        }
        return y;
    }

    /**
     * EnCodec's {@code pad1d}: pads {@code x (C, L)} with {@code left}/{@code right} columns.
     * CONSTANT pads zeros; REPLICATE repeats the edge sample; REFLECT mirrors without repeating the
     * edge ({@code x[-d] = x[d]}, {@code x[L-1+d] = x[L-1-d]}), and when {@code L <= max(left, right)}
     * first appends {@code max(left, right) - L + 1} zeros, reflects that, and drops those zeros'
     * trace from the right end again.
     */
    public static double[][] pad(float[][] x, int left, int right, PadMode mode) {
        int len = x.length == 0 ? 0 : x[0].length;
        double[][] y = new double[x.length][len + left + right];
        for (int c = 0; c < x.length; c++) {
            double[] src;
            int extra = 0;
            if (mode == PadMode.REFLECT && len <= Math.max(left, right)) {
                extra = Math.max(left, right) - len + 1;
            }
            int n = len + extra;
            src = new double[n];
            for (int i = 0; i < len; i++) {
                src[i] = x[c][i];
            }
            for (int i = 0; i < n + left + right - extra; i++) {
                int pos = i - left; // position in the (extended) source
                double v;
                if (pos >= 0 && pos < n) {
                    v = src[pos];
                } else if (mode == PadMode.CONSTANT) {
                    v = 0;
                } else if (mode == PadMode.REPLICATE) {
                    v = pos < 0 ? src[0] : src[n - 1];
                } else {
                    v = pos < 0 ? src[-pos] : src[2 * (n - 1) - pos];
                }
                y[c][i] = v;
            }
        }
        return y;
    }
}
