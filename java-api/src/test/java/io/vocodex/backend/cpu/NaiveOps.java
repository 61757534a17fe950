package io.vocodex.backend.cpu;

/**
 * A frozen copy of the original, obviously-correct single-threaded CPU loops, kept as the
 * bit-exact oracle for the optimised kernels in {@link CpuOps}: each output element is the
 * arithmetic contract's fma sequence spelled out with no blocking, tiling or threading.
 */
final class NaiveOps {
    private NaiveOps() {
    }

    static float[][] conv1d(float[][] x, int tin, float[] w, float[] bias,
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
        for (int co = 0; co < cout; co++) {
            float[] acc = out[co];
            int g = co / coutPerGroup;
            int wBase = co * cinPerGroup * kernel;
            for (int cl = 0; cl < cinPerGroup; cl++) {
                int ci = g * cinPerGroup + cl;
                for (int k = 0; k < kernel; k++) {
                    float wv = w[wBase + cl * kernel + k];
                    int off = k * dilation;
                    float[] xr = x[ci];
                    for (int t = 0; t < tout; t++) {
                        acc[t] = Math.fma(wv, xr[t * stride + off], acc[t]);
                    }
                }
            }
            if (bias != null) {
                float b = bias[co];
                for (int t = 0; t < tout; t++) {
                    acc[t] = acc[t] + b;
                }
            }
        }
        return out;
    }

    static float[][] convTranspose1dFrames(float[][] x, float[] w, float[] bias,
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
        for (int co = 0; co < cout; co++) {
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
        }
        return out;
    }

    static float[][] linearColumns(float[][] x, float[] w, float[] bias, int outFeatures) {
        int in = x.length;
        int t = in == 0 ? 0 : x[0].length;
        float[][] out = new float[outFeatures][t];
        for (int o = 0; o < outFeatures; o++) {
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
        }
        return out;
    }

    static void matVec(float[] w, int outFeatures, int in, float[] v, float[] y) {
        for (int o = 0; o < outFeatures; o++) {
            float acc = 0f;
            int base = o * in;
            for (int i = 0; i < in; i++) {
                acc = Math.fma(w[base + i], v[i], acc);
            }
            y[o] = acc;
        }
    }

    static float[][] lstmLayer(float[][] x, float[] wih, float[] whh, float[] bih, float[] bhh, float[] h, float[] c) {
        int hidden = h.length;
        int steps = x.length == 0 ? 0 : x[0].length;
        float[][] gx = linearColumns(x, wih, null, 4 * hidden);
        float[][] y = new float[hidden][steps];
        float[] gh = new float[4 * hidden];
        for (int t = 0; t < steps; t++) {
            matVec(whh, 4 * hidden, hidden, h, gh);
            for (int j = 0; j < hidden; j++) {
                float gi = (gx[j][t] + (bih[j] + bhh[j])) + gh[j];
                float gf = (gx[hidden + j][t] + (bih[hidden + j] + bhh[hidden + j])) + gh[hidden + j];
                float gg = (gx[2 * hidden + j][t] + (bih[2 * hidden + j] + bhh[2 * hidden + j])) + gh[2 * hidden + j];
                float go = (gx[3 * hidden + j][t] + (bih[3 * hidden + j] + bhh[3 * hidden + j])) + gh[3 * hidden + j];
                // the scalar activations define the LSTM's (TanhTest checks them against float64)
                float cn = CpuOps.sigmoid(gf) * c[j] + CpuOps.sigmoid(gi) * CpuOps.tanh(gg);
                c[j] = cn;
                h[j] = CpuOps.sigmoid(go) * CpuOps.tanh(cn);
                y[j][t] = h[j];
            }
        }
        return y;
    }

    static int[] nearestCodes(float[][] x, float[] codebook, float[] codeNorms, int numCodes) {
        int dim = x.length;
        int frames = dim == 0 ? 0 : x[0].length;
        int[] out = new int[frames];
        for (int t = 0; t < frames; t++) {
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
                if (dist < bestDist) {
                    bestDist = dist;
                    best = n;
                }
            }
            out[t] = best;
        }
        return out;
    }
}
