package io.vocodex.backend.cpu;

/**
 * Element-wise and per-frame kernels for ConvNeXt / HiFi-GAN style models, over channel-major
 * activations {@code float[C][T]}. Each output element depends only on its own frame (layer norm,
 * in float64 with one final rounding to float32) or its own input element (the SiLU and the GELU, in
 * float arithmetic, the same operations on every path), so results never depend on the sequence
 * length, the batch or the thread count. The
 * {@link CpuContext} overloads split the same per-element work across the context's threads.
 *
 * <pre>{@code
 * NnOps.geluInPlace(ctx, hidden);                        // (4C, T), in place
 * float[][] y = NnOps.layerNormChannels(ctx, x, w, b, 1e-6);
 * }</pre>
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
        return layerNormChannels(SERIAL, x, weight, bias, eps);
    }

    /** {@link #layerNormChannels(float[][], float[], float[], double)} with blocks of frames on {@code ctx}'s threads. */
    public static float[][] layerNormChannels(CpuContext ctx, float[][] x, float[] weight, float[] bias, double eps) {
        int c = x.length;
        int t = c == 0 ? 0 : x[0].length;
        float[][] y = new float[c][t];
        int blocks = (t + FRAME_BLOCK - 1) / FRAME_BLOCK;
        ctx.parallelFor(blocks, (long) FRAME_BLOCK * c * 8, b -> layerNormFrames(x, y, weight, bias, eps, b * FRAME_BLOCK,
                Math.min(t, (b + 1) * FRAME_BLOCK)));
        return y;
    }

    /**
     * Frames {@code [from, to)}: per frame the same float64 sums in channel order as a frame-by-frame
     * loop, but walked channel by channel so that every row is read contiguously.
     */
    private static void layerNormFrames(float[][] x, float[][] y, float[] weight, float[] bias, double eps, int from, int to) {
        int c = x.length;
        int n = to - from;
        double[] mean = new double[n];
        double[] ss = new double[n];
        for (int i = 0; i < c; i++) {
            float[] row = x[i];
            for (int j = 0; j < n; j++) {
                mean[j] += row[from + j];
            }
        }
        for (int j = 0; j < n; j++) {
            mean[j] = mean[j] / c;
        }
        for (int i = 0; i < c; i++) {
            float[] row = x[i];
            for (int j = 0; j < n; j++) {
                double d = row[from + j] - mean[j];
                ss[j] += d * d;
            }
        }
        double[] inv = ss; // 1 / sqrt(var + eps), in place
        for (int j = 0; j < n; j++) {
            inv[j] = 1.0 / Math.sqrt(ss[j] / c + eps);
        }
        for (int i = 0; i < c; i++) {
            float[] row = x[i];
            float[] out = y[i];
            double w = weight[i];
            double b = bias[i];
            for (int j = 0; j < n; j++) {
                out[from + j] = (float) ((row[from + j] - mean[j]) * inv[j] * w + b);
            }
        }
    }

    /**
     * GELU in place, {@code x/2 * (1 + erf(x / sqrt 2))} (PyTorch's default {@code nn.GELU()}), in
     * float arithmetic: {@link #gelu(float)} on every value.
     */
    public static void geluInPlace(float[][] x) {
        geluInPlace(SERIAL, x);
    }

    /** {@link #geluInPlace(float[][])} on {@code ctx}'s threads. */
    public static void geluInPlace(CpuContext ctx, float[][] x) {
        forEachSpan(ctx, x, 30, (c, from, to) -> geluSpan(x[c], from, to));
    }

    /**
     * {@code row[j] = gelu(row[j])} for {@code j} in {@code [from, to)}, exactly {@link #gelu(float)}'s
     * arithmetic: with the Vector API, {@link VectorFloatGelu}'s passes over the span's whole
     * vectors; otherwise (and for the remainder) the scalar function.
     */
    static void geluSpan(float[] row, int from, int to) {
        int start = from;
        if (Simd.enabled() && to - from >= VectorFloatGelu.step()) {
            VectorElu.Scratch scratch = VectorElu.newScratch();
            int vectorEnd = to - (to - from) % VectorFloatGelu.step();
            for (; start < vectorEnd; start += VectorElu.BLOCK) {
                VectorFloatGelu.geluBlock(row, start, Math.min(VectorElu.BLOCK, vectorEnd - start), scratch);
            }
            start = vectorEnd;
        }
        for (int j = start; j < to; j++) {
            row[j] = gelu(row[j]);
        }
    }

    /**
     * The GELU of one value in float arithmetic, {@code max(x, 0) - a/2 erfc(a / sqrt 2)} with
     * {@code a = min(|x|, 13)}: {@code erfc(a / sqrt 2) = e^(-a^2/2) Q(a)}, {@code Q} the scaled
     * complementary error function as a degree-9 polynomial in {@code t = 1 / (1 + 0.35 a)}
     * ({@link #GELU_Q}, {@code scripts/fit_gelu_float.py}); {@code a^2 = h + l} exactly
     * ({@code l = fma(a, a, -h)}), {@code e^(-h/2)} by the ELU's range reduction and {@code expm1}
     * polynomial, and {@code e^(-l/2)} as {@code 1 - l/2}. No cancellation anywhere: for negative
     * {@code x} the result is {@code -(a/2) erfc}, for positive {@code x - (a/2) erfc}. Within 6 ulp of
     * the exact value rounded to float for {@code |x| < 13} (GeluTest; PyTorch's own float GELU,
     * whose {@code erf} is good to ~1e-7 absolute, is off by far more where {@code 1 + erf}
     * cancels); beyond, the exact tail (under 1e-37 in magnitude) is replaced by
     * {@code (13/2) erfc(13 / sqrt 2) ~ 6e-38}: {@code gelu(x) = x} for {@code x >= 13},
     * {@code -6e-38} for {@code x <= -13} and {@code -inf}; NaN stays NaN.
     */
    public static float gelu(float v) {
        float a = Math.min(Math.abs(v), GELU_A_MAX);
        float h = a * a;
        float y = -0.5f * h;
        float big = y * CpuOps.ELU_LOG2E + CpuOps.ELU_ROUNDER;
        float k = big - CpuOps.ELU_ROUNDER;
        float r = (y - k * CpuOps.ELU_LN2_HI) - k * CpuOps.ELU_LN2_LO;
        float e = siluScale(big) * (CpuOps.expm1Reduced(r) + 1f);
        float t = 1f / Math.fma(GELU_C, a, 1f);
        float[] c = GELU_Q;
        float q = c[9];
        q = Math.fma(q, t, c[8]);
        q = Math.fma(q, t, c[7]);
        q = Math.fma(q, t, c[6]);
        q = Math.fma(q, t, c[5]);
        q = Math.fma(q, t, c[4]);
        q = Math.fma(q, t, c[3]);
        q = Math.fma(q, t, c[2]);
        q = Math.fma(q, t, c[1]);
        q = Math.fma(q, t, c[0]);
        float l = Math.fma(a, a, -h);
        float tail = (0.5f * a) * (e * Math.fma(-0.5f * l, q, q));
        return Math.max(v, 0f) - tail;
    }

    /**
     * Where {@link #gelu(float)} stops following {@code |x|}: {@code e^(-a^2/2)} is a normal float
     * up to here ({@code 2^k} with {@code k >= -122}), and {@code x - tail} rounds to {@code x}.
     */
    static final float GELU_A_MAX = 13f;
    /** {@code t = 1 / (1 + GELU_C a)} maps {@code [0, 13]} onto {@code (0.18, 1]}. */
    static final float GELU_C = 0.35f;
    /**
     * {@code erfcx(a / sqrt 2) ~ sum_k GELU_Q[k] t^k} on {@code [0, 13]}, largest relative error
     * 5.6e-8 with the coefficients rounded to float ({@code scripts/fit_gelu_float.py}).
     */
    static final float[] GELU_Q = {
        -4.7962184908101335e-06f, 0.2793456017971039f, 0.2787918150424957f, 0.24436098337173462f, 0.19649195671081543f, -0.01753159426152706f, 0.2820524573326111f, -0.4829750955104828f, 0.275363951921463f, -0.05589532107114792f,
    };

    /** SiLU in place: {@code x * sigmoid(x)}. */
    public static void siluInPlace(float[][] x) {
        siluInPlace(SERIAL, x);
    }

    /** {@link #siluInPlace(float[][])} on {@code ctx}'s threads. */
    public static void siluInPlace(CpuContext ctx, float[][] x) {
        forEachSpan(ctx, x, 30, (c, from, to) -> siluSpan(x[c], x[c], from, to));
    }

    /**
     * SiLU of one value, {@code x / (1 + e^-x)}, in float arithmetic (the arrays' SiLU,
     * {@link #siluSpan}, gives exactly this). {@code e^-x = 2^k e^r}: {@code -x} clamped to
     * {@code [-88, 89]}, {@code k = rint(-x log2e)}, {@code r = -x - k ln2} (two parts), and
     * {@code e^r = 1 + expm1(r)} with the ELU's degree-8 polynomial
     * ({@link CpuOps#expm1NonPositive}'s); then {@code x / (2^k e^r + 1)}. Within 2 ulp of the
     * exact value rounded to float wherever {@code x >= -88} (SiluTest: every value of a dense sweep
     * of all floats). Below {@code x = -88.37}, where {@code e^-x} overflows a float, the result is
     * {@code -0} (the exact value is smaller than {@code 4e-37} there); {@code silu(-inf)} is NaN as
     * {@code -inf * sigmoid(-inf)} is.
     */
    public static float silu(float v) {
        return v / siluDenominator(v);
    }

    /** {@code 2^k e^r + 1 = e^-v + 1}: every step of {@link #silu(float)} but the division (also the LSTM's sigmoid's). */
    static float siluDenominator(float v) {
        float t = Math.max(Math.min(-v, SILU_T_MAX), SILU_T_MIN);
        float big = t * CpuOps.ELU_LOG2E + CpuOps.ELU_ROUNDER;
        float k = big - CpuOps.ELU_ROUNDER;
        float r = (t - k * CpuOps.ELU_LN2_HI) - k * CpuOps.ELU_LN2_LO;
        return siluScale(big) * (CpuOps.expm1Reduced(r) + 1f) + 1f;
    }

    /**
     * The clamp of {@code -x}: from {@code -88} ({@code k = -127}, whose {@code 2^k} bits are +0:
     * {@code 1 + e^-x} is exactly 1 long before) to {@code 89} ({@code k} at most 128, whose bits
     * are +infinity, so {@code x / inf = -0}; {@code e^r + 1 > 0} keeps the product from NaN).
     */
    static final float SILU_T_MIN = -88f;
    static final float SILU_T_MAX = 89f;

    /** {@code 2^k} from the bits of {@code k + ROUNDER}, {@code k} in {@code [-127, 128]} (-127: +0, 128: +inf). */
    private static float siluScale(float big) {
        return Float.intBitsToFloat((Float.floatToRawIntBits(big) - CpuOps.ELU_ROUNDER_BITS + 127) << 23);
    }

    static final int SILU_BLOCK = 256;

    /**
     * {@code y[i] = silu(x[i])} for {@code i} in {@code [from, to)} ({@code y} may be {@code x}), with
     * exactly {@link #silu(float)}'s arithmetic: with the Vector API, {@link VectorSilu}'s three passes
     * over the span's whole vectors; otherwise (and for the remainder) four plain loops over a block.
     */
    static void siluSpan(float[] x, float[] y, int from, int to) {
        siluSpan(x, y, from, to, new SiluScratch(Math.min(SILU_BLOCK, to - from)));
    }

    /** Block scratch of {@link #siluSpan}: one per caller (never shared), reusable over spans of up to {@code n} values per block. */
    static final class SiluScratch {
        final float[] big;
        final float[] r;
        final VectorElu.Scratch vector; // null without the Vector API

        SiluScratch(int n) {
            n = Math.max(0, n);
            big = new float[n];
            r = new float[n];
            vector = Simd.enabled() && n >= VectorSilu.step() ? VectorElu.newScratch() : null;
        }
    }

    /** {@link #siluSpan(float[], float[], int, int)} with the caller's scratch (made for at least {@code min(SILU_BLOCK, to - from)} values). */
    static void siluSpan(float[] x, float[] y, int from, int to, SiluScratch scratch) {
        span(x, y, from, to, scratch, false);
    }

    /** {@code y[i] = CpuOps.sigmoid(x[i])} over {@code [from, to)}: {@link #siluSpan}'s passes with the numerator 1. */
    static void sigmoidSpan(float[] x, float[] y, int from, int to, SiluScratch scratch) {
        span(x, y, from, to, scratch, true);
    }

    private static void span(float[] x, float[] y, int from, int to, SiluScratch scratch, boolean sigmoid) {
        int start = from;
        if (scratch.vector != null && to - from >= VectorSilu.step()) {
            int vectorEnd = to - (to - from) % VectorSilu.step();
            for (; start < vectorEnd; start += VectorElu.BLOCK) {
                if (sigmoid) {
                    VectorSilu.sigmoidBlock(x, y, start, Math.min(VectorElu.BLOCK, vectorEnd - start), scratch.vector);
                } else {
                    VectorSilu.siluBlock(x, y, start, Math.min(VectorElu.BLOCK, vectorEnd - start), scratch.vector);
                }
            }
            start = vectorEnd;
        }
        float[] big = scratch.big;
        float[] r = scratch.r;
        for (int b0 = start; b0 < to; b0 += SILU_BLOCK) {
            int m = Math.min(SILU_BLOCK, to - b0);
            for (int j = 0; j < m; j++) {
                float t = Math.max(Math.min(-x[b0 + j], SILU_T_MAX), SILU_T_MIN);
                float bg = t * CpuOps.ELU_LOG2E + CpuOps.ELU_ROUNDER;
                float k = bg - CpuOps.ELU_ROUNDER;
                big[j] = bg;
                r[j] = (t - k * CpuOps.ELU_LN2_HI) - k * CpuOps.ELU_LN2_LO;
            }
            for (int j = 0; j < m; j++) {
                r[j] = CpuOps.expm1Reduced(r[j]);
            }
            for (int j = 0; j < m; j++) {
                big[j] = siluScale(big[j]);
            }
            for (int j = 0; j < m; j++) {
                y[b0 + j] = (sigmoid ? 1f : x[b0 + j]) / (big[j] * (r[j] + 1f) + 1f);
            }
        }
    }

    /** A copy of {@code x} with SiLU applied. */
    public static float[][] silu(float[][] x) {
        return silu(SERIAL, x);
    }

    /** {@link #silu(float[][])} on {@code ctx}'s threads. */
    public static float[][] silu(CpuContext ctx, float[][] x) {
        float[][] y = new float[x.length][];
        for (int c = 0; c < x.length; c++) {
            y[c] = new float[x[c].length];
        }
        forEachSpan(ctx, x, 30, (c, from, to) -> siluSpan(x[c], y[c], from, to));
        return y;
    }

    /** tanh in place. */
    public static void tanhInPlace(float[][] x) {
        tanhInPlace(SERIAL, x);
    }

    /** {@link #tanhInPlace(float[][])} on {@code ctx}'s threads. */
    public static void tanhInPlace(CpuContext ctx, float[][] x) {
        // CpuOps.tanhSpan: CpuOps.tanh's bits, on the Vector API where it runs
        forEachSpan(ctx, x, 30, (c, from, to) -> {
            float[] arg = new float[Math.min(TANH_CHUNK, to - from)];
            CpuOps.EluScratch scratch = new CpuOps.EluScratch();
            for (int i = from; i < to; i += TANH_CHUNK) {
                CpuOps.tanhSpan(x[c], x[c], i, Math.min(to, i + TANH_CHUNK), arg, scratch);
            }
        });
    }

    /** Values per {@link CpuOps#tanhSpan} call of {@link #tanhInPlace(CpuContext, float[][])} (its scratch stays in L1). */
    private static final int TANH_CHUNK = 512;

    /** Frames per layer-norm task. */
    private static final int FRAME_BLOCK = 64;
    /** Elements per element-wise task. */
    private static final int SPAN = 4096;
    /** The overloads without a context run here (no pool: the calling thread). */
    private static final CpuContext SERIAL = CpuContext.singleThreaded();

    /** What an element-wise op does to elements {@code [from, to)} of row {@code c}. */
    @FunctionalInterface
    private interface Span {
        void apply(int c, int from, int to);
    }

    /** {@code op} over every row of {@code x} in spans of at most {@link #SPAN} elements, spread over {@code ctx}'s threads. */
    private static void forEachSpan(CpuContext ctx, float[][] x, long costPerElement, Span op) {
        int[] firstSpan = new int[x.length + 1];
        for (int c = 0; c < x.length; c++) {
            firstSpan[c + 1] = firstSpan[c] + (x[c].length + SPAN - 1) / SPAN;
        }
        int spans = firstSpan[x.length];
        ctx.parallelFor(spans, SPAN * costPerElement, s -> {
            int c = java.util.Arrays.binarySearch(firstSpan, s);
            if (c < 0) {
                c = -c - 2;
            }
            while (firstSpan[c + 1] == firstSpan[c]) { // skip empty rows sharing this start
                c++;
            }
            int from = (s - firstSpan[c]) * SPAN;
            op.apply(c, from, Math.min(x[c].length, from + SPAN));
        });
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
