package io.vocodex.backend.cpu;

/**
 * CPU kernels of a pre-norm transformer over TIME-MAJOR activations {@code float[T][D]} (one row
 * per time step), as Mimi's encoder/decoder transformers use them.
 *
 * <h2>Arithmetic contract</h2>
 * As in {@link CpuOps}, every output element is computed by one fixed sequence of operations that
 * depends only on the indices of the weights and on the (position-ordered) set of keys a query
 * sees, never on the number of rows, the chunk a row arrives in, or the thread count:
 * <ul>
 *   <li>linear: {@code acc = 0; for i ascending: acc = fma(w[o][i], x[i], acc)} (float32);</li>
 *   <li>layer norm: mean and biased variance accumulated in float64 in column order, the output
 *       {@code (x - mean) / sqrt(var + eps) * w + b} evaluated in float64, rounded once;</li>
 *   <li>GELU (erf form): evaluated in float64, rounded once;</li>
 *   <li>RoPE: the float32 steps of the original ({@code freq = exp(i * c)}, {@code angle = freq * t},
 *       {@code cos}/{@code sin}, then {@code re*cos - im*sin} as two rounded products and a
 *       rounded difference), so that positions in the thousands rotate exactly like the original;</li>
 *   <li>attention: for each query, scores, softmax and the weighted sum of values accumulated in
 *       float64 over the visible keys in ascending position order, rounded once.</li>
 * </ul>
 * A query that sees the same keys therefore gets bit-identical output in batch and streaming.
 */
public final class TransformerOps {
    private TransformerOps() {
    }

    /** Layer norm over the last dimension of {@code x [T][D]}; returns a new array. */
    public static float[][] layerNorm(float[][] x, float[] weight, float[] bias, double eps) {
        float[][] y = new float[x.length][];
        for (int t = 0; t < x.length; t++) {
            float[] r = x[t];
            int d = r.length;
            double mean = 0;
            for (float v : r) {
                mean += v;
            }
            mean /= d;
            double var = 0;
            for (float v : r) {
                double c = v - mean;
                var += c * c;
            }
            var /= d;
            y[t] = normalizeRow(r, mean, var, weight, bias, eps);
        }
        return y;
    }

    /**
     * {@link #layerNorm(float[][], float[], float[], double)} with the same bits, rows split over
     * {@code ctx}'s threads and four rows summed side by side. Each row's mean and variance are
     * the same float64 sums in the same order; only the four chains interleave, which hides the
     * latency of one chain of {@code D} dependent adds where the JIT vectorises the float/double
     * conversions (Temurin 25: {@code OpBench.cpu_layernorm*}, 250 x 512, 333 -> 209 us on one
     * thread; Java 17's C2 keeps them scalar, and there only the threads gain).
     */
    public static float[][] layerNorm(CpuContext ctx, float[][] x, float[] weight, float[] bias, double eps) {
        int rows = x.length;
        float[][] y = new float[rows][];
        if (rows == 0) {
            return y;
        }
        int groups = (rows + NORM_ROWS - 1) / NORM_ROWS;
        ctx.parallelFor(groups, 8L * NORM_ROWS * x[0].length, g -> {
            int t0 = g * NORM_ROWS;
            int n = Math.min(NORM_ROWS, rows - t0);
            if (n == 4 && x[t0].length == x[t0 + 1].length && x[t0].length == x[t0 + 2].length && x[t0].length == x[t0 + 3].length) {
                layerNorm4(x, y, t0, weight, bias, eps);
            } else {
                float[][] part = layerNorm(java.util.Arrays.copyOfRange(x, t0, t0 + n), weight, bias, eps);
                System.arraycopy(part, 0, y, t0, n);
            }
        });
        return y;
    }

    /** Rows per group of the parallel layer norm (the interleaved chains of {@link #layerNorm4}). */
    static final int NORM_ROWS = 4;

    private static void layerNorm4(float[][] x, float[][] y, int t, float[] weight, float[] bias, double eps) {
        float[] r0 = x[t];
        float[] r1 = x[t + 1];
        float[] r2 = x[t + 2];
        float[] r3 = x[t + 3];
        int d = r0.length;
        double m0 = 0;
        double m1 = 0;
        double m2 = 0;
        double m3 = 0;
        for (int i = 0; i < d; i++) {
            m0 += r0[i];
            m1 += r1[i];
            m2 += r2[i];
            m3 += r3[i];
        }
        m0 /= d;
        m1 /= d;
        m2 /= d;
        m3 /= d;
        double v0 = 0;
        double v1 = 0;
        double v2 = 0;
        double v3 = 0;
        for (int i = 0; i < d; i++) {
            double c0 = r0[i] - m0;
            double c1 = r1[i] - m1;
            double c2 = r2[i] - m2;
            double c3 = r3[i] - m3;
            v0 += c0 * c0;
            v1 += c1 * c1;
            v2 += c2 * c2;
            v3 += c3 * c3;
        }
        y[t] = normalizeRow(r0, m0, v0 / d, weight, bias, eps);
        y[t + 1] = normalizeRow(r1, m1, v1 / d, weight, bias, eps);
        y[t + 2] = normalizeRow(r2, m2, v2 / d, weight, bias, eps);
        y[t + 3] = normalizeRow(r3, m3, v3 / d, weight, bias, eps);
    }

    /** {@code ((r - mean) / sqrt(var + eps)) * weight + bias} in float64, rounded once per element. */
    private static float[] normalizeRow(float[] r, double mean, double var, float[] weight, float[] bias, double eps) {
        int d = r.length;
        double inv = 1.0 / Math.sqrt(var + eps);
        float[] o = new float[d];
        // one loop per case: with the null tests hoisted, each is a plain loop C2 can vectorise
        if (weight != null && bias != null) {
            for (int i = 0; i < d; i++) {
                o[i] = (float) ((r[i] - mean) * inv * weight[i] + bias[i]);
            }
        } else if (weight != null) {
            for (int i = 0; i < d; i++) {
                o[i] = (float) ((r[i] - mean) * inv * weight[i]);
            }
        } else if (bias != null) {
            for (int i = 0; i < d; i++) {
                o[i] = (float) ((r[i] - mean) * inv + bias[i]);
            }
        } else {
            for (int i = 0; i < d; i++) {
                o[i] = (float) ((r[i] - mean) * inv);
            }
        }
        return o;
    }

    /**
     * {@code y[t][o] = sum_i w[o][i] * x[t][i]} for every row (PyTorch's {@code F.linear} without
     * bias, over {@code [T][in]} rows).
     *
     * @param w {@code (out, in)} row-major
     */
    public static float[][] linearRows(CpuContext ctx, float[][] x, float[] w, int out) {
        int rows = x.length;
        float[][] y = new float[rows][out];
        if (rows == 0) {
            return y;
        }
        int in = x[0].length;
        if (w.length != out * in) {
            throw new IllegalArgumentException("linear weight has " + w.length + " values, expected " + out + " x " + in);
        }
        ctx.parallelFor(rows, (long) out * in, t -> {
            float[] xr = x[t];
            float[] yr = y[t];
            for (int o = 0; o < out; o++) {
                float acc = 0f;
                int base = o * in;
                for (int i = 0; i < in; i++) {
                    acc = Math.fma(w[base + i], xr[i], acc);
                }
                yr[o] = acc;
            }
        });
        return y;
    }

    /** Rows of a batch tile in {@link #linearRows(CpuContext, float[][], PackedLinear)}: its accumulators stay in L1. */
    static final int LINEAR_ROW_TILE = 32;

    /**
     * Rows per work unit of the packed {@code linearRows}: up to {@value #LINEAR_ROW_TILE}, but
     * smaller when a few units would split unevenly over the threads (a narrow layer over a few
     * dozen rows, as in a SEANet streaming step: 1 panel x 3 tiles leaves one of 2 threads idle
     * half the time), as long as a tile keeps at least {@value #MIN_SPLIT_ROW_TILE} rows to share
     * each weight read. Units that already divide evenly stay whole: splitting a panel's rows
     * between threads reads its weights twice.
     */
    static int rowTile(int rows, int panels, int threads) {
        int tile = rows <= LINEAR_ROW_TILE + LINEAR_ROW_TILE / 2 ? rows : LINEAR_ROW_TILE;
        int tiles = (rows + tile - 1) / tile;
        if (threads == 1) {
            return tile;
        }
        int maxTiles = rows / MIN_SPLIT_ROW_TILE;
        while ((panels * tiles) % threads != 0 && panels * tiles < 4 * threads && tiles < maxTiles) {
            tiles++;
            tile = (rows + tiles - 1) / tiles;
        }
        return tile;
    }

    /** The fewest rows {@link #rowTile} splits down to. */
    static final int MIN_SPLIT_ROW_TILE = 8;

    /**
     * {@link #linearRows(CpuContext, float[][], float[], int)} with a packed weight, bit-identical
     * to it: every output still accumulates {@code acc = fma(w[o][i], x[i], acc)} over {@code i}
     * ascending from 0, but vectorised across a panel of outputs. Work units are (panel, tile of
     * rows), numbered tile-fastest so that the tiles of one panel run back to back on one thread
     * and the panel (256 outputs x inputs) is read from memory once and then from L2; a unit
     * walks the inputs in chunks of {@value CpuOps#CHUNK} and folds each chunk into every row of
     * its tile. A streaming step of a few rows streams the whole weight once, split over the
     * threads by panel.
     */
    public static float[][] linearRows(CpuContext ctx, float[][] x, PackedLinear w) {
        int rows = x.length;
        int out = w.outFeatures();
        int in = w.inFeatures();
        float[][] y = new float[rows][out];
        if (rows == 0) {
            return y;
        }
        if (x[0].length != in) {
            throw new IllegalArgumentException("linear input has " + x[0].length + " features, weight takes " + in);
        }
        final int panels = w.panelCount();
        final int tile = rowTile(rows, panels, ctx.threads());
        final int tiles = (rows + tile - 1) / tile;
        ctx.parallelFor(panels * tiles, (long) Math.min(out, PackedLinear.PANEL) * in * tile, u -> {
            int p = u / tiles;
            int t0 = (u % tiles) * tile;
            int t1 = Math.min(rows, t0 + tile);
            int o0 = p * PackedLinear.PANEL;
            int width = w.panelWidth(p);
            if (Simd.enabled()) {
                VectorConv.linearPanel(w.flat[p], in, x, t0, t1, width, y, o0);
                return;
            }
            float[][] panel = w.rows[p];
            float[][] acc = new float[t1 - t0][width];
            for (int i0 = 0; i0 < in; i0 += CpuOps.CHUNK) {
                int cnt = Math.min(CpuOps.CHUNK, in - i0);
                for (int t = t0; t < t1; t++) {
                    CpuOps.fmaRows(acc[t - t0], panel, i0, cnt, x[t], i0, width);
                }
            }
            for (int t = t0; t < t1; t++) {
                System.arraycopy(acc[t - t0], 0, y[t], o0, width);
            }
        });
        return y;
    }

    /** GELU {@code 0.5 x (1 + erf(x / sqrt 2))} (PyTorch's default, exact form) in place. */
    public static void geluInPlace(float[][] x) {
        for (float[] r : x) {
            geluRange(r, 0, r.length);
        }
    }

    /** {@link #geluInPlace} over the rows {@code [from, to)}, in parallel (rows are independent). */
    public static void geluInPlace(CpuContext ctx, float[][] x, int from, int to) {
        int cols = x.length == 0 ? 0 : x[0].length;
        int blocksPerRow = (cols + GELU_BLOCK - 1) / GELU_BLOCK;
        ctx.parallelFor((to - from) * blocksPerRow, GELU_BLOCK * 64L, u -> {
            int t = from + u / blocksPerRow;
            int i0 = (u % blocksPerRow) * GELU_BLOCK;
            geluRange(x[t], i0, Math.min(x[t].length, i0 + GELU_BLOCK));
        });
    }

    /**
     * {@link #gelu(float)} of {@code r[from, to)} in place, bit for bit, through {@link ErfTable}:
     * for {@code |z| < 6} the GELU is first evaluated with the table's erf; where every double
     * within the table's error bound of that value rounds to the same float, that float is what
     * {@link #erf}'s arithmetic gives too and is kept. The rest (a result near a rounding midpoint,
     * or a large negative {@code x} where {@code 1 + erf} cancels, or {@code |z| >= 6}, NaN, zero)
     * is recomputed by {@link #gelu(float)}.
     * With the Vector API ({@link Simd#enabled()}) {@link VectorGelu} does the same with a
     * polynomial erf in vector lanes, equally bit for bit.
     */
    static void geluRange(float[] r, int from, int to) {
        if (Simd.enabled()) {
            VectorGelu.geluRange(r, from, to);
            return;
        }
        for (int j = from; j < to; j++) {
            float x = r[j];
            float out = geluShortcut(x);
            r[j] = out == out ? out : gelu(x);
        }
    }

    /**
     * {@link #gelu(float)} through {@link ErfTable} where that provably rounds to the same float,
     * else NaN (the GELU of a NaN is recomputed too).
     */
    static float geluShortcut(float x) {
        double v = x;
        double z = v / Math.sqrt(2.0);
        double a = Math.abs(z);
        if (!(a < ErfTable.LIMIT)) {
            return Float.NaN;
        }
        double m = ErfTable.erf(a);
        double e = z < 0 ? -m : m;
        double g = 0.5 * v * (1.0 + e);
        float f = (float) g;
        return ErfTable.roundsLikeAnything(g, f, Math.abs(v) * ErfTable.TRANSFORMER_GELU_TOLERANCE[(int) a]) ? f : Float.NaN;
    }

    /**
     * GELU of one value with {@link #erf}'s arithmetic: {@code (float) (0.5 v (1 + erf(v / sqrt 2)))}
     * in float64, except that {@code erf = +-1} exactly for {@code |z| >= 6} (what erf's continued
     * fraction gives for every float there: erfc(6) ~ 2e-17 is under half an ulp of 1).
     */
    static float gelu(float x) {
        double v = x;
        double z = v / Math.sqrt(2.0);
        double e = Math.abs(z) >= 6.0 ? (z < 0 ? -1.0 : 1.0) : erf(z);
        return (float) (0.5 * v * (1.0 + e));
    }

    static final int GELU_BLOCK = 256;

    /**
     * The error function to ~1e-15 relative accuracy: for {@code |z| < 3} the all-positive series
     * {@code erf z = 2/sqrt(pi) e^{-z^2} sum_n 2^n z^{2n+1} / (1*3*...*(2n+1))} (no cancellation),
     * beyond it {@code 1 - erfc z} with erfc's continued fraction.
     */
    public static double erf(double z) {
        if (Double.isNaN(z)) {
            return z;
        }
        double a = Math.abs(z);
        double r;
        if (a < 3.0) {
            double z2 = a * a;
            double term = a;
            double sum = a;
            for (int n = 1; n < 200; n++) {
                term *= 2.0 * z2 / (2 * n + 1);
                sum += term;
                if (term < sum * 1e-17) {
                    break;
                }
            }
            r = 2.0 / Math.sqrt(Math.PI) * Math.exp(-z2) * sum;
        } else if (a < 27.0) {
            r = 1.0 - erfcContinuedFraction(a);
        } else {
            r = 1.0;
        }
        return z < 0 ? -r : r;
    }

    /** erfc(a) for a >= 3: e^{-a^2}/sqrt(pi) * 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + ...)))), modified Lentz. */
    static double erfcContinuedFraction(double a) {
        double tiny = 1e-300;
        double f = a;
        double c = a;
        double d = 0;
        for (int n = 1; n < 500; n++) {
            double an = n / 2.0;
            d = a + an * d;
            d = Math.abs(d) < tiny ? tiny : d;
            c = a + an / c;
            c = Math.abs(c) < tiny ? tiny : c;
            d = 1.0 / d;
            double delta = c * d;
            f *= delta;
            if (Math.abs(delta - 1.0) < 1e-16) {
                break;
            }
        }
        return Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
    }

    /**
     * Rotary embedding with interleaved pairs {@code (x[2i], x[2i+1])} applied in place to the
     * columns {@code [col0, col0 + heads*headDim)} of each row; row {@code t} is at position
     * {@code firstPosition + t}. Frequencies {@code exp(-i * 2 ln(maxPeriod) / headDim)}, computed
     * with the original's float32 rounding.
     */
    public static void ropeInPlace(float[][] x, int col0, int heads, int headDim, long firstPosition, double maxPeriod) {
        int half = headDim / 2;
        float[] freqs = ropeFrequencies(headDim, maxPeriod);
        for (int t = 0; t < x.length; t++) {
            float pos = (float) (firstPosition + t);
            float[] r = x[t];
            for (int i = 0; i < half; i++) {
                float angle = freqs[i] * pos;
                float cos = (float) Math.cos(angle);
                float sin = (float) Math.sin(angle);
                for (int h = 0; h < heads; h++) {
                    int c = col0 + h * headDim + 2 * i;
                    float re = r[c];
                    float im = r[c + 1];
                    float a = re * cos;
                    float b = im * sin;
                    float e = re * sin;
                    float f = im * cos;
                    r[c] = a - b;
                    r[c + 1] = e + f;
                }
            }
        }
    }

    /** {@code freqs[i] = exp(i * (-ln(maxPeriod) * 2 / headDim))} in float32 as the original computes it. */
    public static float[] ropeFrequencies(int headDim, double maxPeriod) {
        int half = headDim / 2;
        float c = (float) (-Math.log(maxPeriod) * 2 / headDim);
        float[] f = new float[half];
        for (int i = 0; i < half; i++) {
            f[i] = (float) Math.exp((float) i * c);
        }
        return f;
    }

    /**
     * Multi-head attention of each query row over a window of key rows: query {@code i} sees key
     * rows {@code lo[i] .. hi[i]} inclusive (rows in ascending position order), per head
     * {@code softmax(q.k * scale) v}.
     *
     * <p>The keys and values are first laid out as a {@link KeyValueColumns} block (float64,
     * keys column-wise); then each parallel unit is one head of a block of {@value #QUERY_BLOCK}
     * consecutive queries, which runs {@link #attendHeadQueries} so that every key and value row is
     * read once per block rather than once per query. A block whose windows do not start in
     * non-decreasing order falls back to one {@link #attendHead} per query. Either way each query
     * gets the contract's arithmetic, so the result is the same as one query at a time.
     *
     * @param q rows {@code [Tq][*]}, head {@code h} in columns {@code qCol + h*headDim ...}
     * @param k rows {@code [Tk][*]}, head {@code h} in columns {@code kCol + h*headDim ...}
     * @param v rows {@code [Tk][*]}, head {@code h} in columns {@code vCol + h*headDim ...}
     * @return {@code [Tq][heads*headDim]} (heads concatenated, PyTorch's {@code "b h t d -> b t (h d)"})
     */
    public static float[][] attention(CpuContext ctx, float[][] q, int qCol, float[][] k, int kCol, float[][] v, int vCol,
                                      int heads, int headDim, int[] lo, int[] hi) {
        int tq = q.length;
        float[][] out = new float[tq][heads * headDim];
        KeyValueColumns kv = new KeyValueColumns(heads, headDim, Math.max(1, k.length));
        ctx.parallelFor(heads, (long) headDim * k.length, h -> kv.putHead(h, k, kCol, v, vCol));
        int blocks = (tq + QUERY_BLOCK - 1) / QUERY_BLOCK;
        long costPerUnit = (long) headDim * Math.max(1, k.length) * 2 * Math.min(QUERY_BLOCK, tq);
        ctx.parallelFor(blocks * heads, costPerUnit, u -> {
            int b = u / heads;
            int h = u - b * heads;
            int i0 = b * QUERY_BLOCK;
            int m = Math.min(QUERY_BLOCK, tq - i0);
            if (startsInOrder(lo, hi, i0, m)) {
                float[][] qb = new float[m][];
                float[][] ob = new float[m][];
                int[] firstSlot = new int[m];
                int[] count = new int[m];
                for (int i = 0; i < m; i++) {
                    qb[i] = q[i0 + i];
                    ob[i] = out[i0 + i];
                    firstSlot[i] = lo[i0 + i];
                    count[i] = hi[i0 + i] - lo[i0 + i] + 1;
                }
                attendHeadQueries(qb, qCol, kv, h, firstSlot, count, new double[m][kv.capacity],
                        new double[m][headDim], ob);
            } else {
                double[] scores = new double[kv.capacity];
                double[] acc = new double[headDim];
                for (int i = i0; i < i0 + m; i++) {
                    attendHead(q[i], qCol, kv, h, lo[i], hi[i] - lo[i] + 1, scores, acc, out[i]);
                }
            }
        });
        return out;
    }

    /** Consecutive queries that {@link #attention} hands to one {@link #attendHeadQueries} call. */
    static final int QUERY_BLOCK = 16;

    /**
     * Whether the non-empty windows of queries {@code i0 .. i0+m-1} start in non-decreasing order
     * within the keys (what {@link #attendHeadQueries} requires; their union then spans at most
     * all keys, its capacity).
     */
    private static boolean startsInOrder(int[] lo, int[] hi, int i0, int m) {
        int last = 0;
        for (int i = i0; i < i0 + m; i++) {
            if (hi[i] < lo[i]) {
                continue;
            }
            if (lo[i] < last) {
                return false;
            }
            last = lo[i];
        }
        return true;
    }

    /**
     * Keys and values of attention laid out for vectorised scoring, in float64 (C2 on Java 17 does
     * not vectorise float-to-double conversion, and the contract multiplies in float64): key
     * component {@code c = h*headDim + d} of slot {@code s} at {@code keys[c][s]} (a row per
     * component, so one query's scores over many slots are one vectorised loop per component), value
     * of head {@code h} at slot {@code s} in {@code values[h][s]}. Used as the whole key sequence in
     * batch and as the ring KV cache of a stream ({@code slot = position % capacity}).
     */
    public static final class KeyValueColumns {
        final int heads;
        final int headDim;
        final int capacity;
        final double[][] keys;
        final double[][][] values;

        public KeyValueColumns(int heads, int headDim, int capacity) {
            this.heads = heads;
            this.headDim = headDim;
            this.capacity = capacity;
            this.keys = new double[heads * headDim][capacity];
            this.values = new double[heads][capacity][headDim];
        }

        public int capacity() {
            return capacity;
        }

        /**
         * Stores head {@code h} of every row {@code j} of {@code k} and {@code v} at slot {@code j}
         * (as {@link #put} per row, but a key component at a time: a transposition that reads each
         * row's few cache lines of the head while they are still in L1).
         */
        void putHead(int h, float[][] k, int kCol, float[][] v, int vCol) {
            for (int c = h * headDim; c < (h + 1) * headDim; c++) {
                double[] kr = keys[c];
                for (int j = 0; j < k.length; j++) {
                    kr[j] = k[j][kCol + c];
                }
            }
            double[][] vh = values[h];
            for (int j = 0; j < v.length; j++) {
                double[] vr = vh[j];
                float[] row = v[j];
                int o = vCol + h * headDim;
                for (int d = 0; d < headDim; d++) {
                    vr[d] = row[o + d];
                }
            }
        }

        /** Stores one position's key ({@code k[kCol ...]}) and value ({@code v[vCol ...]}) at {@code slot}. */
        public void put(int slot, float[] k, int kCol, float[] v, int vCol) {
            for (int c = 0; c < heads * headDim; c++) {
                keys[c][slot] = k[kCol + c];
            }
            for (int h = 0; h < heads; h++) {
                double[] vr = values[h][slot];
                for (int d = 0; d < headDim; d++) {
                    vr[d] = v[vCol + h * headDim + d];
                }
            }
        }
    }

    /**
     * Head {@code h} of one query over {@code n} keys in ascending position order, stored in
     * {@code kv} at slots {@code firstSlot, firstSlot+1, ...} (modulo its capacity); writes
     * {@code out[h*headDim ...]}. The one-query case of {@link #attendHeadQueries}.
     *
     * @param scores scratch of at least {@code kv.capacity()}; {@code acc} scratch of {@code headDim}
     */
    public static void attendHead(float[] q, int qCol, KeyValueColumns kv, int h, int firstSlot, int n,
                                  double[] scores, double[] acc, float[] out) {
        attendHeadQueries(new float[][] {q}, qCol, kv, h, new int[] {firstSlot}, new int[] {n},
                new double[][] {scores}, new double[][] {acc}, new float[][] {out});
    }

    /**
     * Head {@code h} of the queries {@code q[i]}, {@code i < q.length}: query {@code i} sees
     * {@code n[i]} keys in ascending position order at slots {@code firstSlot[i], firstSlot[i]+1, ...}
     * (modulo the capacity). The runs must start in non-decreasing position order and together
     * span at most the capacity, as the queries of a chunk of consecutive positions do. Writes
     * {@code out[i][h*headDim ...]}.
     *
     * <p>Arithmetic per the contract, for each query: each score is
     * {@code dot = 0; for d ascending: dot += (double) q * k} (the float64 product of two floats is
     * exact), scaled by {@code 1/sqrt(headDim)}; then max, {@code exp(s - max)} and their sum in key
     * order; then {@code acc[d] += (s / sum) * v[d]} in key order, rounded once. The scores of all
     * keys advance together (vectorised across slots), and the keys are walked in tiles of
     * {@value #KEY_TILE} whose value rows serve every query before the next tile is read: neither
     * changes any element's order. With {@link Simd#enabled()} the scores, the scaling, the max and
     * the weighted sum run as {@link VectorAttention} kernels (the same operations lane by lane;
     * the exponentials stay scalar {@link Math#exp}).
     *
     * @param scores per query, scratch of at least {@code kv.capacity()}; {@code acc} per query, of {@code headDim}
     */
    public static void attendHeadQueries(float[][] q, int qCol, KeyValueColumns kv, int h,
                                         int[] firstSlot, int[] n, double[][] scores, double[][] acc, float[][] out) {
        int m = q.length;
        int headDim = kv.headDim;
        int cap = kv.capacity;
        int o0 = h * headDim;
        // The union run: from the earliest-starting query's first slot to the end of the longest-reaching one.
        int first = -1;
        int span = 0;
        int[] offset = new int[m]; // where query i's run starts within the union run
        for (int i = 0; i < m; i++) {
            if (n[i] <= 0) {
                continue;
            }
            if (first < 0) {
                first = firstSlot[i];
                span = n[i];
            } else {
                offset[i] = Math.floorMod(firstSlot[i] - first, cap);
                span = Math.max(span, offset[i] + n[i]);
            }
        }
        for (int i = 0; i < m; i++) {
            if (n[i] <= 0) {
                // No visible key: PyTorch's softmax over an all -inf row gives NaN.
                for (int d = 0; d < headDim; d++) {
                    out[i][o0 + d] = Float.NaN;
                }
            }
        }
        if (first < 0) {
            return;
        }
        boolean simd = Simd.enabled();
        int a0 = first;
        int a1 = Math.min(cap, first + span);   // first run of slots [a0, a1)
        int b1 = span - (a1 - a0);              // wrapped run [0, b1)
        int qc = qCol + o0;
        if (simd) {
            double[][] qd = new double[m][headDim];
            for (int i = 0; i < m; i++) {
                for (int d = 0; d < headDim; d++) {
                    qd[i][d] = q[i][qc + d];
                }
            }
            VectorAttention.scores(qd, kv.keys, o0, a0, a1, scores);
            VectorAttention.scores(qd, kv.keys, o0, 0, b1, scores);
        } else {
            for (int i = 0; i < m; i++) {
                java.util.Arrays.fill(scores[i], a0, a1, 0.0);
                java.util.Arrays.fill(scores[i], 0, b1, 0.0);
            }
            for (int d = 0; d < headDim; d++) {
                double[] kr = kv.keys[o0 + d];
                for (int i = 0; i < m; i++) {
                    double qd = q[i][qc + d];
                    double[] sc = scores[i];
                    for (int s = a0; s < a1; s++) {
                        sc[s] += qd * kr[s];
                    }
                    for (int s = 0; s < b1; s++) {
                        sc[s] += qd * kr[s];
                    }
                }
            }
        }
        double scale = 1.0 / Math.sqrt(headDim);
        for (int i = 0; i < m; i++) {
            if (n[i] <= 0) {
                continue;
            }
            double[] sc = scores[i];
            // query i's run: slots [f, e1) then, wrapped, [0, e2)
            int f = firstSlot[i];
            int e1 = Math.min(cap, f + n[i]);
            int e2 = n[i] - (e1 - f);
            double max = Double.NEGATIVE_INFINITY;
            if (simd) {
                max = VectorAttention.scaleAndMax(sc, f, e1, scale, max);
                max = VectorAttention.scaleAndMax(sc, 0, e2, scale, max);
            } else {
                for (int s = f; s < e1; s++) {
                    sc[s] = sc[s] * scale;
                    max = Math.max(max, sc[s]);
                }
                for (int s = 0; s < e2; s++) {
                    sc[s] = sc[s] * scale;
                    max = Math.max(max, sc[s]);
                }
            }
            double sum = 0;
            for (int s = f; s < e1; s++) {
                sc[s] = Math.exp(sc[s] - max);
                sum += sc[s];
            }
            for (int s = 0; s < e2; s++) {
                sc[s] = Math.exp(sc[s] - max);
                sum += sc[s];
            }
            // the weights s / sum, in place
            if (simd) {
                VectorAttention.divide(sc, f, e1, sum);
                VectorAttention.divide(sc, 0, e2, sum);
            } else {
                for (int s = f; s < e1; s++) {
                    sc[s] = sc[s] / sum;
                }
                for (int s = 0; s < e2; s++) {
                    sc[s] = sc[s] / sum;
                }
            }
            java.util.Arrays.fill(acc[i], 0, headDim, 0.0);
        }
        double[][] vh = kv.values[h];
        // Walk the union run in position order, a tile of keys at a time; each query takes the keys
        // of its own run within the tile, in order (union position j is slot (a0 + j) mod cap).
        for (int j0 = 0; j0 < span; j0 += KEY_TILE) {
            int j1 = Math.min(span, j0 + KEY_TILE);
            for (int i = 0; i < m; i++) {
                int from = Math.max(j0, offset[i]);
                int to = Math.min(j1, offset[i] + n[i]);
                if (n[i] <= 0 || from >= to) {
                    continue;
                }
                int s0 = a0 + from < cap ? a0 + from : a0 + from - cap;
                int len = to - from;
                int unwrapped = Math.min(len, cap - s0);
                accumulate(simd, scores[i], vh, s0, s0 + unwrapped, acc[i], headDim);
                accumulate(simd, scores[i], vh, 0, len - unwrapped, acc[i], headDim);
            }
        }
        for (int i = 0; i < m; i++) {
            if (n[i] <= 0) {
                continue;
            }
            for (int d = 0; d < headDim; d++) {
                out[i][o0 + d] = (float) acc[i][d];
            }
        }
    }

    /** Keys per tile of {@link #attendHeadQueries}' weighted sum: 32 value rows of 64 float64 (16 KiB) stay in L1. */
    static final int KEY_TILE = 32;

    /** {@code acc[d] += w[s] * values[s][d]} for slots {@code s} in {@code [from, to)} ascending. */
    private static void accumulate(boolean simd, double[] w, double[][] values, int from, int to, double[] acc,
                                   int headDim) {
        if (simd) {
            VectorAttention.accumulate(w, values, from, to, acc, headDim);
            return;
        }
        for (int s = from; s < to; s++) {
            double p = w[s];
            double[] vr = values[s];
            for (int d = 0; d < headDim; d++) {
                acc[d] += p * vr[d];
            }
        }
    }

    /** {@code x[t][i] += scale[i] * u[t][i]} (layer scale then residual add, each rounded to float32). */
    public static void addScaledInPlace(float[][] x, float[] scale, float[][] u) {
        for (int t = 0; t < x.length; t++) {
            float[] xr = x[t];
            float[] ur = u[t];
            for (int i = 0; i < xr.length; i++) {
                float s = scale == null ? ur[i] : scale[i] * ur[i];
                xr[i] = xr[i] + s;
            }
        }
    }

    /** {@code [C][T] -> [T][C]}. */
    public static float[][] transpose(float[][] x) {
        float[][] y = new float[x.length == 0 ? 0 : x[0].length][x.length];
        for (int band = 0; band < y.length; band += TRANSPOSE_TILE) {
            transposeBand(x, y, band);
        }
        return y;
    }

    /** {@link #transpose(float[][])} with bands of output rows split over {@code ctx}'s threads. */
    public static float[][] transpose(CpuContext ctx, float[][] x) {
        float[][] y = new float[x.length == 0 ? 0 : x[0].length][x.length];
        int bands = (y.length + TRANSPOSE_TILE - 1) / TRANSPOSE_TILE;
        ctx.parallelFor(bands, (long) TRANSPOSE_TILE * x.length / 4, b -> transposeBand(x, y, b * TRANSPOSE_TILE));
        return y;
    }

    /**
     * Output rows {@code [c0, c0 + TRANSPOSE_TILE)} of {@code y = x^T}, in square tiles whose source
     * and destination lines stay in L1 (a whole output row at a time would reread every source
     * line once per output row).
     */
    private static void transposeBand(float[][] x, float[][] y, int c0) {
        int c1 = Math.min(y.length, c0 + TRANSPOSE_TILE);
        for (int r0 = 0; r0 < x.length; r0 += TRANSPOSE_TILE) {
            int r1 = Math.min(x.length, r0 + TRANSPOSE_TILE);
            for (int r = r0; r < r1; r++) {
                float[] src = x[r];
                for (int c = c0; c < c1; c++) {
                    y[c][r] = src[c];
                }
            }
        }
    }

    static final int TRANSPOSE_TILE = 32;
}
