package io.vocodex.backend.cpu;

/**
 * Element-wise and per-frame kernels for ConvNeXt / HiFi-GAN style models, over channel-major
 * activations {@code float[C][T]}. Each output element depends only on its own frame (layer norm)
 * or its own input element (activations) and is computed in float64 with one final rounding to
 * float32, so results never depend on the sequence length, the batch or the thread count.
 */
public final class NnOps {
    private NnOps() {
    }

    /**
     * Layer norm over the channels of every frame: {@code (x - mean) / sqrt(var + eps) * w + b} with
     * the biased variance, as both {@code F.layer_norm} on channels-last data and ConvNeXt's
     * channels-first {@code LayerNorm} compute it. Mean and variance are accumulated in float64
     * in channel order (two passes).
     */
    public static float[][] layerNormChannels(float[][] x, float[] weight, float[] bias, double eps) {
        int c = x.length;
        int t = c == 0 ? 0 : x[0].length;
        float[][] y = new float[c][t];
        for (int j = 0; j < t; j++) {
            double sum = 0;
            for (int i = 0; i < c; i++) {
                sum += x[i][j];
            }
            double mean = sum / c;
            double ss = 0;
            for (int i = 0; i < c; i++) {
                double d = x[i][j] - mean;
                ss += d * d;
            }
            double inv = 1.0 / Math.sqrt(ss / c + eps);
            for (int i = 0; i < c; i++) {
                y[i][j] = (float) ((x[i][j] - mean) * inv * weight[i] + bias[i]);
            }
        }
        return y;
    }

    /** Exact (erf) GELU in place: {@code x/2 * (1 + erf(x / sqrt 2))}, PyTorch's default {@code nn.GELU()}. */
    public static void geluInPlace(float[][] x) {
        for (float[] row : x) {
            for (int i = 0; i < row.length; i++) {
                row[i] = gelu(row[i]);
            }
        }
    }

    public static float gelu(float v) {
        double x = v;
        return (float) (0.5 * x * (1.0 + erf(x * 0.7071067811865476)));
    }

    /** SiLU in place: {@code x * sigmoid(x)}. */
    public static void siluInPlace(float[][] x) {
        for (float[] row : x) {
            for (int i = 0; i < row.length; i++) {
                row[i] = silu(row[i]);
            }
        }
    }

    public static float silu(float v) {
        double x = v;
        return (float) (x / (1.0 + Math.exp(-x)));
    }

    /** A copy of {@code x} with SiLU applied. */
    public static float[][] silu(float[][] x) {
        float[][] y = CpuOps.copy(x);
        siluInPlace(y);
        return y;
    }

    /** tanh in place. */
    public static void tanhInPlace(float[][] x) {
        for (float[] row : x) {
            for (int i = 0; i < row.length; i++) {
                row[i] = (float) Math.tanh(row[i]);
            }
        }
    }

    /**
     * The error function in float64, accurate to a few ulps: for {@code |x| < 6} the everywhere
     * positive series {@code erf(x) = 2/sqrt(pi) e^{-x^2} sum_n 2^n x^{2n+1} / (2n+1)!!} (no
     * cancellation), beyond that {@code +-1} (erfc(6) < 2.2e-17).
     */
    public static double erf(double x) {
        double ax = Math.abs(x);
        if (Double.isNaN(x)) {
            return x;
        }
        if (ax >= 6) {
            return Math.signum(x);
        }
        double x2 = ax * ax;
        double term = ax;
        double sum = ax;
        for (int n = 1; n < 200; n++) {
            term *= 2 * x2 / (2 * n + 1);
            sum += term;
            if (term < sum * 1e-17) {
                break;
            }
        }
        double r = 2 / Math.sqrt(Math.PI) * Math.exp(-x2) * sum;
        r = Math.min(r, 1.0);
        return x < 0 ? -r : r;
    }

    /** {@code a + b} elementwise in place into {@code a}. */
    public static void addInPlace(float[][] a, float[][] b) {
        for (int c = 0; c < a.length; c++) {
            float[] ar = a[c];
            float[] br = b[c];
            for (int t = 0; t < ar.length; t++) {
                ar[t] = ar[t] + br[t];
            }
        }
    }

    /** Zero padding of {@code left}/{@code right} columns. */
    public static float[][] zeroPad(float[][] x, int left, int right) {
        int len = x.length == 0 ? 0 : x[0].length;
        float[][] y = new float[x.length][len + left + right];
        for (int c = 0; c < x.length; c++) {
            System.arraycopy(x[c], 0, y[c], left, len);
        }
        return y;
    }
}
