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

    /**
     * Work a conv does on each unit of its output right after computing it, while the unit is still
     * in cache: the fused form of an elementwise op that follows the conv (SEANet's conv -> ELU, and
     * a residual block's final conv -> sum with the shortcut). An epilogue must compute each element
     * exactly as the separate op would ({@link #elu(CpuContext, float[][], float)},
     * {@link #addInto}), so fusing never changes a bit; units never overlap, so it may run on any
     * thread.
     *
     * <pre>{@code
     * float[][] y = CpuOps.conv1d(ctx, x, x[0].length, w, b, cout, k, 1, 1, 1, ConvEpilogue.elu(1f));
     * // == CpuOps.elu(ctx, CpuOps.conv1d(ctx, x, w, b, cout, k, 1, 1, 1), 1f), bit for bit
     * }</pre>
     */
    @FunctionalInterface
    public interface ConvEpilogue {
        /** Transforms {@code out[co][t0 .. t0+n)} for {@code co} in {@code [c0, c1)} in place. */
        void apply(float[][] out, int c0, int c1, int t0, int n);

        /** {@code out = elu(out)}, as {@link #elu(CpuContext, float[][], float)}. */
        static ConvEpilogue elu(float alpha) {
            return (out, c0, c1, t0, n) -> {
                EluScratch scratch = new EluScratch();
                for (int co = c0; co < c1; co++) {
                    eluRange(out[co], out[co], t0, t0 + n, alpha, scratch);
                }
            };
        }

        /** {@code out = addend + out}, as {@link #addInto}{@code (ctx, addend, out)}. */
        static ConvEpilogue add(float[][] addend) {
            return (out, c0, c1, t0, n) -> addRows(addend, out, out, c0, c1, t0, n);
        }

        /** {@code out = silu(out)}, as {@link NnOps#siluInPlace(CpuContext, float[][])}. */
        static ConvEpilogue silu() {
            return (out, c0, c1, t0, n) -> siluRows(out, out, c0, c1, t0, n);
        }

        /**
         * {@code dst = silu(out)}, {@code out} unchanged, as {@link NnOps#silu(CpuContext, float[][])}
         * into {@code dst} (rows at least as long as the conv's output).
         */
        static ConvEpilogue siluInto(float[][] dst) {
            return (out, c0, c1, t0, n) -> siluRows(out, dst, c0, c1, t0, n);
        }

        /** {@code sum = sum + out}, {@code out} unchanged (an accumulation into another tensor). */
        static ConvEpilogue accumulateInto(float[][] sum) {
            return (out, c0, c1, t0, n) -> addRows(sum, out, sum, c0, c1, t0, n);
        }

        /** {@code dst[c][t] = a[c][t] + b[c][t]} over the unit ({@code dst} may be {@code a} or {@code b}). */
        private static void addRows(float[][] a, float[][] b, float[][] dst, int c0, int c1, int t0, int n) {
            for (int c = c0; c < c1; c++) {
                float[] ar = a[c];
                float[] br = b[c];
                float[] d = dst[c];
                for (int t = t0; t < t0 + n; t++) {
                    d[t] = ar[t] + br[t];
                }
            }
        }

        /** {@code dst[c][t] = silu(src[c][t])} over the unit, one block scratch for all its rows. */
        private static void siluRows(float[][] src, float[][] dst, int c0, int c1, int t0, int n) {
            NnOps.SiluScratch scratch = new NnOps.SiluScratch(Math.min(NnOps.SILU_BLOCK, n));
            for (int c = c0; c < c1; c++) {
                NnOps.siluSpan(src[c], dst[c], t0, t0 + n, scratch);
            }
        }

        /** {@code first}, then {@code second} (either may be null: the other alone). */
        static ConvEpilogue chain(ConvEpilogue first, ConvEpilogue second) {
            if (first == null || second == null) {
                return first == null ? second : first;
            }
            return (out, c0, c1, t0, n) -> {
                first.apply(out, c0, c1, t0, n);
                second.apply(out, c0, c1, t0, n);
            };
        }
    }

    /**
     * {@link #conv1d} over the first {@code tin} columns of {@code x} only (streaming buffers are longer).
     *
     * <p>Implementation: the reduction of each output element is the flat term list
     * {@code j = cl*K + k} (input channel major, tap minor), whose weights {@code w[co*Cin/g*K + j]}
     * are contiguous. Work units are (group, block of output channels, tile of output time); a unit
     * walks the term list in chunks of up to {@value #CHUNK} terms, copies each term's shifted input
     * segment into a scratch row starting at index 0 (a plain contiguous loop over index 0.. is what
     * C2 auto-vectorises; a loop-invariant offset in the index defeats it on Java 17), and then
     * folds the chunk into every output channel's accumulator row in term order. Per element that is
     * exactly the contract's fma sequence; tiles, blocks and threads only change which elements are
     * computed together.
     */
    public static float[][] conv1d(CpuContext ctx, float[][] x, int tin, float[] w, float[] bias,
                                   int cout, int kernel, int stride, int dilation, int groups) {
        return conv1d(ctx, x, tin, w, bias, cout, kernel, stride, dilation, groups, null);
    }

    /**
     * {@link #conv1d(CpuContext, float[][], int, float[], float[], int, int, int, int, int)} with an
     * {@link ConvEpilogue} applied to each unit of the output (null: none).
     */
    public static float[][] conv1d(CpuContext ctx, float[][] x, int tin, float[] w, float[] bias,
                                   int cout, int kernel, int stride, int dilation, int groups, ConvEpilogue epilogue) {
        int cin = x.length;
        int span = (kernel - 1) * dilation + 1;
        int tout = tin < span ? 0 : (tin - span) / stride + 1;
        if (groups == 1 && tout >= SIMD_MIN_COLUMNS && Simd.enabled()) {
            return conv1dSimd(ctx, x, w, bias, cout, kernel, stride, dilation, 0, tout, epilogue);
        }
        float[][] out = newRows(ctx, cout, tout);
        if (tout == 0) {
            return out;
        }
        final int cinPerGroup = cin / groups;
        final int coutPerGroup = cout / groups;
        final int terms = cinPerGroup * kernel;
        // Polyphase view for strided convs so that every term is a contiguous run:
        // x[ci][t*stride + off] == phases[ci][off % stride][t + off / stride].
        final float[][][] phases = stride == 1 ? null : polyphase(ctx, x, tin, stride);
        final int tile = timeTile(tout, coutPerGroup);
        final int nTiles = (tout + tile - 1) / tile;
        final int parts = channelParts(ctx, coutPerGroup, (long) groups * nTiles);
        final int perPart = (coutPerGroup + parts - 1) / parts;
        final int units = nTiles * groups * parts;
        ctx.parallelFor(units, (long) perPart * terms * Math.min(tile, tout), u -> {
            int ti = u / (groups * parts);
            int rest = u - ti * groups * parts;
            int g = rest / parts;
            int part = rest - g * parts;
            int c0 = g * coutPerGroup + part * perPart;
            int c1 = Math.min(g * coutPerGroup + coutPerGroup, c0 + perPart);
            if (c0 >= c1) {
                return;
            }
            int t0 = ti * tile;
            int n = Math.min(tile, tout - t0);
            boolean whole = n == tout;
            float[][] acc = new float[c1 - c0][];
            for (int co = c0; co < c1; co++) {
                acc[co - c0] = whole ? out[co] : new float[n];
            }
            float[][] rows = new float[CHUNK][n];
            for (int j0 = 0; j0 < terms; j0 += CHUNK) {
                int cnt = Math.min(CHUNK, terms - j0);
                for (int r = 0; r < cnt; r++) {
                    int term = j0 + r;
                    int cl = term / kernel;
                    int off = (term - cl * kernel) * dilation;
                    int ci = g * cinPerGroup + cl;
                    if (phases == null) {
                        System.arraycopy(x[ci], t0 + off, rows[r], 0, n);
                    } else {
                        System.arraycopy(phases[ci][off % stride], t0 + off / stride, rows[r], 0, n);
                    }
                }
                for (int co = c0; co < c1; co++) {
                    fmaRows(acc[co - c0], rows, 0, cnt, w, co * terms + j0, n);
                }
            }
            for (int co = c0; co < c1; co++) {
                float[] a = acc[co - c0];
                if (bias != null) {
                    addScalar(a, bias[co], n);
                }
                if (!whole) {
                    System.arraycopy(a, 0, out[co], t0, n);
                }
            }
            if (epilogue != null) {
                epilogue.apply(out, c0, c1, t0, n);
            }
        });
        return out;
    }

    /**
     * {@link #conv1d(CpuContext, float[][], int, float[], float[], int, int, int, int, int, ConvEpilogue)}
     * of {@code x} zero-padded by {@code padLeft} and {@code padRight} columns (PyTorch's
     * {@code Conv1d(padding=...)}), without making the padded copy: on the {@link VectorConv} kernel
     * the windows that reach into the padding are gathered with zeros, which feeds every output
     * element exactly the fma chain that the padded copy would (the zero terms included), so the
     * result is bit for bit {@code conv1d(ctx, zeroPad(x, padLeft, padRight), ...)}. Elsewhere (plain
     * loops, grouped or very short convs, rows of unequal length) it makes the copy.
     *
     * <pre>{@code
     * float[][] y = CpuOps.conv1dPadded(ctx, x, w, b, cout, 7, 1, 3, 9, 9, null); // k7, dilation 3, "same" length
     * }</pre>
     *
     * @param x input {@code (Cin, Tin)}, every row {@code Tin} long, not padded
     * @return {@code (Cout, Tout)} with {@code Tout = (Tin + padLeft + padRight - (K-1)*dilation - 1) / stride + 1}
     */
    public static float[][] conv1dPadded(CpuContext ctx, float[][] x, float[] w, float[] bias, int cout, int kernel,
                                         int stride, int dilation, int groups, int padLeft, int padRight, ConvEpilogue epilogue) {
        if (padLeft < 0 || padRight < 0) {
            throw new IllegalArgumentException("negative padding " + padLeft + ", " + padRight);
        }
        int tin = x.length == 0 ? 0 : x[0].length;
        boolean equalRows = true;
        for (float[] row : x) {
            equalRows &= row.length == tin;
        }
        int span = (kernel - 1) * dilation + 1;
        int padded = tin + padLeft + padRight;
        int tout = padded < span ? 0 : (padded - span) / stride + 1;
        if (groups == 1 && equalRows && tin > 0 && tout >= SIMD_MIN_COLUMNS && Simd.enabled()) {
            return conv1dSimd(ctx, x, w, bias, cout, kernel, stride, dilation, padLeft, tout, epilogue);
        }
        float[][] p = padLeft == 0 && padRight == 0 ? x : NnOps.zeroPad(x, padLeft, padRight);
        return conv1d(ctx, p, padded, w, bias, cout, kernel, stride, dilation, groups, epilogue);
    }

    /** Output columns from which {@link #conv1d} uses the {@link VectorConv} kernel (when {@link Simd#enabled()}). */
    static final int SIMD_MIN_COLUMNS = 32;

    /**
     * {@link #conv1d} (groups = 1) on the {@link VectorConv} kernel: term {@code j = ci*K + k} reads
     * row {@code x[ci]} at {@code t*stride + k*dilation}; the kernel gathers each block's windows
     * (strided ones too) into a contiguous panel, so no de-interleaved copy of the input is made.
     * Columns at or past {@code tin} (a streaming buffer's unused tail) feed only positions at or
     * past {@code tout}, whose lanes are discarded. Units are (tile of output time, part of the
     * output channels). {@code padLeft > 0}: the input is read as if it started with that many zero
     * columns and ended with zeros (every row must then be exactly the input's length: the kernel
     * gathers zeros past a row's end).
     */
    private static float[][] conv1dSimd(CpuContext ctx, float[][] x, float[] w, float[] bias,
                                        int cout, int kernel, int stride, int dilation, int padLeft, int tout,
                                        ConvEpilogue epilogue) {
        int cin = x.length;
        int terms = cin * kernel;
        float[][] rows = new float[terms][];
        int[] offs = new int[terms];
        for (int j = 0; j < terms; j++) {
            int ci = j / kernel;
            rows[j] = x[ci];
            offs[j] = (j - ci * kernel) * dilation - padLeft;
        }
        float[][] out = newRows(ctx, cout, tout);
        int tile = 8 * VectorConv.width();
        int nTiles = (tout + tile - 1) / tile;
        int parts = channelParts(ctx, cout / 4, nTiles);
        int perPart = 4 * ((cout / 4 + parts - 1) / parts);
        int units = nTiles * parts;
        // channels of the widest unit: perPart is 0 below 4 output channels, where the one part
        // takes them all (a cost of 0 ran a decoder's 64 -> 1 output conv on one thread)
        int unitChannels = parts == 1 ? cout : Math.max(perPart, cout - (parts - 1) * perPart);
        ctx.parallelFor(units, (long) unitChannels * terms * Math.min(tile, tout), u -> {
            int ti = u / parts;
            int part = u - ti * parts;
            int c0 = part * perPart;
            int c1 = part == parts - 1 ? cout : Math.min(cout, c0 + perPart);
            if (c0 >= c1) {
                return;
            }
            int t0 = ti * tile;
            int n = Math.min(tile, tout - t0);
            prefetchRows(x, t0 * stride - padLeft, (t0 + n - 1) * stride + (kernel - 1) * dilation + 1 - padLeft);
            VectorConv.run(rows, offs, stride, terms, t0, n, w, terms, c0, c1, (co, from, acc, accOff, cnt) ->
                    VectorConv.storeWithBias(acc, accOff, out[co], t0 + from, cnt, bias != null, bias == null ? 0f : bias[co]));
            if (epilogue != null) {
                epilogue.apply(out, c0, c1, t0, n);
            }
        });
        return out;
    }

    /**
     * {@code new float[rows][cols]}, with the rows of a large tensor allocated on {@code ctx}'s
     * threads. Java zeroes every new array in the allocating thread, before the conv starts: a
     * full-rate SEANet layer's output is 61 MB (64 x 240000), and a Mimi encode of 10 s allocates
     * ~670 MB of such outputs (JMH {@code -prof gc}), zeroed on one thread until this.
     */
    public static float[][] newRows(CpuContext ctx, int rows, int cols) {
        if (ctx.threads() == 1 || rows < 2 || (long) rows * cols < PARALLEL_ALLOC_MIN) {
            return new float[rows][cols];
        }
        float[][] y = new float[rows][];
        ctx.parallelFor(rows, cols, r -> y[r] = new float[cols]);
        return y;
    }

    /** Floats from which {@link #newRows} allocates rows in parallel (4 MB: a hand-over costs microseconds). */
    static final long PARALLEL_ALLOC_MIN = 1L << 20;

    /** {@link #prefetchRows} runs unless {@code -Dvocodex.prefetch=false} (a switch for measuring it; results are identical). */
    static final boolean PREFETCH = !"false".equals(System.getProperty("vocodex.prefetch"));

    /** Where {@link #prefetchRows} leaves its sum, so that C2 keeps the loads (racy writes of a float: harmless). */
    static float prefetched;

    /**
     * Reads one float per cache line of {@code x[c][from, to)}, row after row, before a unit's conv
     * kernel runs. The kernel reads all input rows side by side, 64 positions of each at a time:
     * with 64 or more rows that is more concurrent streams than the hardware prefetchers follow,
     * so its loads wait on memory; this pass walks each row's run sequentially, which the
     * prefetchers do follow, and leaves the unit's input in L2 (measured in docs/perf-history.md).
     */
    static void prefetchRows(float[][] x, int from, int to) {
        if (!PREFETCH) {
            return;
        }
        float s = 0f;
        for (float[] r : x) {
            int end = Math.min(to, r.length);
            for (int i = Math.max(0, from); i < end; i += 16) {
                s += r[i];
            }
        }
        prefetched = s;
    }

    /** Terms folded per pass over an accumulator row (larger bodies stop C2 from unrolling/vectorising). */
    static final int CHUNK = 6;

    /** Output time tile: accumulators of a unit ({@code channels x tile}) should sit in L2, scratch rows in L1. */
    static int timeTile(int tout, int channels) {
        return tileWithin(tout, channels, 128);
    }

    /**
     * Frames per tile: the largest power of two up to 1024 (and down to {@code floor}) whose
     * {@code floatsPerFrame} floats per frame stay within 64 K floats; all {@code frames} when they
     * are under one and a half tiles.
     */
    private static int tileWithin(int frames, long floatsPerFrame, int floor) {
        int tile = 1024;
        while (tile > floor && tile * floatsPerFrame > 64 * 1024) {
            tile >>= 1;
        }
        if (frames <= tile + tile / 2) {
            return frames; // one tile: accumulate straight into the output rows
        }
        return tile;
    }

    /**
     * Input frames per unit of a transposed conv: {@link #timeTile}'s rule applied to the unit's
     * output, {@code stride} times as long as its input, since each of the stride phases writes every
     * stride-th float of it: while the unit's output rows stay in L2 the phases fill each line before
     * it goes to memory (with 1 MB of output per unit, each line went out and came back per phase).
     */
    static int transposedTimeTile(int tin, int channels, int stride) {
        return tileWithin(tin, (long) channels * stride, 64);
    }

    /** How many parts to split a group's output channels into, so that every thread gets work. */
    static int channelParts(CpuContext ctx, int channelsPerGroup, long otherUnits) {
        int threads = ctx.threads();
        if (threads == 1 || otherUnits >= 4L * threads) {
            return 1;
        }
        int want = (int) ((4L * threads + otherUnits - 1) / otherUnits);
        return Math.max(1, Math.min(want, channelsPerGroup / 8));
    }

    /** {@code a[i] = a[i] + b} for {@code i < n}. */
    static void addScalar(float[] a, float b, int n) {
        for (int i = 0; i < n; i++) {
            a[i] = a[i] + b;
        }
    }

    /**
     * {@code acc[i] = fma(w[wOff+cnt-1], rows[rOff+cnt-1][i], ... fma(w[wOff], rows[rOff][i], acc[i]))}
     * for {@code i < n}: {@code cnt <= CHUNK} terms folded in ascending order.
     */
    static void fmaRows(float[] acc, float[][] rows, int rOff, int cnt, float[] w, int wOff, int n) {
        switch (cnt) {
            case 6 -> fma6(acc, rows[rOff], rows[rOff + 1], rows[rOff + 2], rows[rOff + 3], rows[rOff + 4], rows[rOff + 5],
                    w[wOff], w[wOff + 1], w[wOff + 2], w[wOff + 3], w[wOff + 4], w[wOff + 5], n);
            case 5 -> fma5(acc, rows[rOff], rows[rOff + 1], rows[rOff + 2], rows[rOff + 3], rows[rOff + 4],
                    w[wOff], w[wOff + 1], w[wOff + 2], w[wOff + 3], w[wOff + 4], n);
            case 4 -> fma4(acc, rows[rOff], rows[rOff + 1], rows[rOff + 2], rows[rOff + 3],
                    w[wOff], w[wOff + 1], w[wOff + 2], w[wOff + 3], n);
            case 3 -> fma3(acc, rows[rOff], rows[rOff + 1], rows[rOff + 2], w[wOff], w[wOff + 1], w[wOff + 2], n);
            case 2 -> fma2(acc, rows[rOff], rows[rOff + 1], w[wOff], w[wOff + 1], n);
            case 1 -> fma1(acc, rows[rOff], w[wOff], n);
            default -> {
                for (int r = 0; r < cnt; r += CHUNK) {
                    fmaRows(acc, rows, rOff + r, Math.min(CHUNK, cnt - r), w, wOff + r, n);
                }
            }
        }
    }

    static void fma6(float[] acc, float[] r0, float[] r1, float[] r2, float[] r3, float[] r4, float[] r5,
                     float w0, float w1, float w2, float w3, float w4, float w5, int n) {
        for (int i = 0; i < n; i++) {
            float a = acc[i];
            a = Math.fma(w0, r0[i], a);
            a = Math.fma(w1, r1[i], a);
            a = Math.fma(w2, r2[i], a);
            a = Math.fma(w3, r3[i], a);
            a = Math.fma(w4, r4[i], a);
            a = Math.fma(w5, r5[i], a);
            acc[i] = a;
        }
    }

    static void fma5(float[] acc, float[] r0, float[] r1, float[] r2, float[] r3, float[] r4,
                     float w0, float w1, float w2, float w3, float w4, int n) {
        for (int i = 0; i < n; i++) {
            float a = acc[i];
            a = Math.fma(w0, r0[i], a);
            a = Math.fma(w1, r1[i], a);
            a = Math.fma(w2, r2[i], a);
            a = Math.fma(w3, r3[i], a);
            a = Math.fma(w4, r4[i], a);
            acc[i] = a;
        }
    }

    static void fma4(float[] acc, float[] r0, float[] r1, float[] r2, float[] r3,
                     float w0, float w1, float w2, float w3, int n) {
        for (int i = 0; i < n; i++) {
            float a = acc[i];
            a = Math.fma(w0, r0[i], a);
            a = Math.fma(w1, r1[i], a);
            a = Math.fma(w2, r2[i], a);
            a = Math.fma(w3, r3[i], a);
            acc[i] = a;
        }
    }

    static void fma3(float[] acc, float[] r0, float[] r1, float[] r2, float w0, float w1, float w2, int n) {
        for (int i = 0; i < n; i++) {
            float a = acc[i];
            a = Math.fma(w0, r0[i], a);
            a = Math.fma(w1, r1[i], a);
            a = Math.fma(w2, r2[i], a);
            acc[i] = a;
        }
    }

    static void fma2(float[] acc, float[] r0, float[] r1, float w0, float w1, int n) {
        for (int i = 0; i < n; i++) {
            float a = acc[i];
            a = Math.fma(w0, r0[i], a);
            a = Math.fma(w1, r1[i], a);
            acc[i] = a;
        }
    }

    static void fma1(float[] acc, float[] r0, float w0, int n) {
        for (int i = 0; i < n; i++) {
            acc[i] = Math.fma(w0, r0[i], acc[i]);
        }
    }

    static float[][][] polyphase(CpuContext ctx, float[][] x, int tin, int stride) {
        float[][][] ph = new float[x.length][stride][];
        ctx.parallelFor(x.length, tin, ci -> {
            float[] xr = x[ci];
            for (int p = 0; p < stride; p++) {
                int n = tin > p ? (tin - p + stride - 1) / stride : 0;
                float[] r = new float[n];
                for (int t = 0; t < n; t++) {
                    r[t] = xr[t * stride + p];
                }
                ph[ci][p] = r;
            }
        });
        return ph;
    }

    /**
     * Transposed 1-d convolution evaluated frame by frame: for every input frame index
     * {@code q in [qFrom, qTo)} it writes the {@code stride} output samples
     * {@code y[q*stride + p]}, {@code p in [0, stride)}, which read input frames {@code q, q-1, ...};
     * frames outside {@code [0, Tx)} count as zero. The full PyTorch output of length
     * {@code (T-1)*stride + K} is {@code qFrom = 0, qTo = T + ceil(K/stride) - 1}, truncated.
     *
     * <p>Terms that read a frame outside {@code [0, Tx)} are skipped, not multiplied by zero; the
     * frames where that happens (at most {@code ceil(K/stride) - 1} at either end) take a scalar path,
     * the interior runs the chunked row kernel of {@link #conv1d}.
     *
     * @param x input {@code (Cin, Tx)}
     * @param w weight {@code (Cin, Cout/groups, K)} flattened, as PyTorch stores it
     * @return {@code (Cout, (qTo - qFrom) * stride)}
     */
    public static float[][] convTranspose1dFrames(CpuContext ctx, float[][] x, float[] w, float[] bias,
                                                  int cout, int kernel, int stride, int groups, int qFrom, int qTo) {
        return convTranspose1dFrames(ctx, x, w, null, bias, cout, kernel, stride, groups, qFrom, qTo);
    }

    /**
     * {@link #convTranspose1dFrames(CpuContext, float[][], float[], float[], int, int, int, int, int, int)}
     * with the weights' phase rows made once by the caller ({@link #transposedPhaseWeightsIfUsed}, or
     * null to make them per call when needed): a layer that runs many batches keeps them.
     */
    public static float[][] convTranspose1dFrames(CpuContext ctx, float[][] x, float[] w, float[][] phaseWeightRows,
                                                  float[] bias, int cout, int kernel, int stride, int groups,
                                                  int qFrom, int qTo) {
        int cin = x.length;
        final int tx = cin == 0 ? 0 : x[0].length;
        final int nq = Math.max(0, qTo - qFrom);
        float[][] out = newRows(ctx, cout, nq * stride);
        if (nq == 0) {
            return out;
        }
        final int cinPerGroup = cin / groups;
        final int coutPerGroup = cout / groups;
        final int taps = (kernel + stride - 1) / stride;
        // the Vector API kernel reads the weights of a phase as rows (co, ci*tapsP + m): repack per call
        final float[][] phaseWeights = groups == 1 && Simd.enabled() && nq >= SIMD_MIN_COLUMNS
                ? (phaseWeightRows != null ? phaseWeightRows : transposedPhaseWeights(w, cin, cout, kernel, stride)) : null;
        // and its terms ci*tapsP + m read row x[ci] at offset -m (the same for every unit)
        final float[][][] phaseRows = phaseWeights == null ? null : new float[stride][][];
        final int[][] phaseOffsets = phaseWeights == null ? null : new int[stride][];
        for (int p = 0; phaseWeights != null && p < stride; p++) {
            int tapsP = p < kernel ? (kernel - p + stride - 1) / stride : 0;
            phaseRows[p] = new float[cin * tapsP][];
            phaseOffsets[p] = new int[cin * tapsP];
            for (int term = 0; term < cin * tapsP; term++) {
                phaseRows[p][term] = x[term / tapsP];
                phaseOffsets[p][term] = -(term % tapsP);
            }
        }
        final int tile = transposedTimeTile(nq, coutPerGroup, stride);
        final int nTiles = (nq + tile - 1) / tile;
        final int parts = channelParts(ctx, coutPerGroup, (long) groups * nTiles);
        final int perPart = (coutPerGroup + parts - 1) / parts;
        final int units = nTiles * groups * parts;
        ctx.parallelFor(units, (long) perPart * cinPerGroup * kernel * Math.min(tile, nq), u -> {
            int ti = u / (groups * parts);
            int rest = u - ti * groups * parts;
            int g = rest / parts;
            int part = rest - g * parts;
            int c0 = g * coutPerGroup + part * perPart;
            int c1 = Math.min(g * coutPerGroup + coutPerGroup, c0 + perPart);
            if (c0 >= c1) {
                return;
            }
            int i0 = ti * tile;
            int n = Math.min(tile, nq - i0);
            // interior frames q (every tap m < taps reads a frame in [0, tx)): q >= taps-1 and q < tx
            int q0 = qFrom + i0;
            int jLo = Math.min(n, Math.max(0, taps - 1 - q0));
            int jHi = Math.max(jLo, Math.min(n, tx - q0));
            int ni = jHi - jLo;
            // scratch of the plain path only (the Vector API kernel keeps its own per block)
            boolean plain = phaseWeights == null;
            float[][] acc = plain ? new float[c1 - c0][ni] : null;
            float[][] rows = plain ? new float[CHUNK][ni] : null;
            float[] wt = plain ? new float[CHUNK] : null;
            int[] wIdx = plain ? new int[CHUNK] : null;
            if (ni > 0 && !plain) {
                // every phase reads the same interior frames q - m of every input row
                prefetchRows(x, q0 + jLo - (taps - 1), q0 + jHi);
            }
            for (int p = 0; p < stride; p++) {
                int tapsP = p < kernel ? (kernel - p + stride - 1) / stride : 0;
                int terms = cinPerGroup * tapsP;
                if (ni > 0 && phaseWeights != null) {
                    final int first = (i0 + jLo) * stride + p;
                    VectorConv.run(phaseRows[p], phaseOffsets[p], terms, q0 + jLo, ni, phaseWeights[p], terms, c0, c1,
                            (co, from, a, accOff, cnt) -> storeStrided(a, accOff, cnt, bias, co, out[co], first + from * stride, stride));
                } else if (ni > 0) {
                    for (float[] a : acc) {
                        java.util.Arrays.fill(a, 0f);
                    }
                    for (int j0 = 0; j0 < terms; j0 += CHUNK) {
                        int cnt = Math.min(CHUNK, terms - j0);
                        for (int r = 0; r < cnt; r++) {
                            int term = j0 + r;
                            int cl = term / tapsP;
                            int m = term - cl * tapsP;
                            int ci = g * cinPerGroup + cl;
                            System.arraycopy(x[ci], q0 + jLo - m, rows[r], 0, ni);
                            wIdx[r] = ci * coutPerGroup * kernel + p + m * stride;
                        }
                        for (int co = c0; co < c1; co++) {
                            int colOff = (co - g * coutPerGroup) * kernel;
                            for (int r = 0; r < cnt; r++) {
                                wt[r] = w[wIdx[r] + colOff];
                            }
                            fmaRows(acc[co - c0], rows, 0, cnt, wt, 0, ni);
                        }
                    }
                    for (int co = c0; co < c1; co++) {
                        storeStrided(acc[co - c0], 0, ni, bias, co, out[co], (i0 + jLo) * stride + p, stride);
                    }
                }
                for (int j = 0; j < n; j++) {
                    if (j == jLo) {
                        j = jHi;
                        if (j >= n) {
                            break;
                        }
                    }
                    int q = q0 + j;
                    // weight of (ci, co, tap m) at wArr[base + ci*sCi + co*sCo + m*sM]: the phase rows
                    // when made (groups == 1; contiguous over ci*tapsP + m, the contract's order), else
                    // PyTorch's (Cin, Cout/groups, K) layout
                    float[] wArr;
                    int base;
                    int sCi;
                    int sCo;
                    int sM;
                    if (phaseWeights != null) {
                        wArr = phaseWeights[p];
                        base = 0;
                        sCi = tapsP;
                        sCo = cinPerGroup * tapsP;
                        sM = 1;
                    } else {
                        wArr = w;
                        base = p - g * coutPerGroup * kernel;
                        sCi = coutPerGroup * kernel;
                        sCo = kernel;
                        sM = stride;
                    }
                    int o = (i0 + j) * stride + p;
                    int co = c0;
                    // four output channels side by side: independent chains, each in contract order
                    for (; co + 4 <= c1; co += 4) {
                        float a0 = 0f;
                        float a1 = 0f;
                        float a2 = 0f;
                        float a3 = 0f;
                        for (int cl = 0; cl < cinPerGroup; cl++) {
                            int ci = g * cinPerGroup + cl;
                            float[] xr = x[ci];
                            int wBase = base + ci * sCi + co * sCo;
                            for (int m = 0; m < tapsP; m++) {
                                int f = q - m;
                                if (f >= 0 && f < tx) {
                                    float xv = xr[f];
                                    int wi = wBase + m * sM;
                                    a0 = Math.fma(wArr[wi], xv, a0);
                                    a1 = Math.fma(wArr[wi + sCo], xv, a1);
                                    a2 = Math.fma(wArr[wi + 2 * sCo], xv, a2);
                                    a3 = Math.fma(wArr[wi + 3 * sCo], xv, a3);
                                }
                            }
                        }
                        out[co][o] = bias == null ? a0 : a0 + bias[co];
                        out[co + 1][o] = bias == null ? a1 : a1 + bias[co + 1];
                        out[co + 2][o] = bias == null ? a2 : a2 + bias[co + 2];
                        out[co + 3][o] = bias == null ? a3 : a3 + bias[co + 3];
                    }
                    for (; co < c1; co++) {
                        float a = 0f;
                        for (int cl = 0; cl < cinPerGroup; cl++) {
                            int ci = g * cinPerGroup + cl;
                            float[] xr = x[ci];
                            int wBase = base + ci * sCi + co * sCo;
                            for (int m = 0; m < tapsP; m++) {
                                int f = q - m;
                                if (f >= 0 && f < tx) {
                                    a = Math.fma(wArr[wBase + m * sM], xr[f], a);
                                }
                            }
                        }
                        out[co][o] = bias == null ? a : a + bias[co];
                    }
                }
            }
        });
        return out;
    }

    /** {@code row[o + j*stride] = a[aOff + j] (+ bias[co])} for {@code j < n}: one phase of a transposed conv's output. */
    private static void storeStrided(float[] a, int aOff, int n, float[] bias, int co, float[] row, int o, int stride) {
        if (bias == null) {
            for (int j = 0; j < n; j++) {
                row[o + j * stride] = a[aOff + j];
            }
        } else {
            float b = bias[co];
            for (int j = 0; j < n; j++) {
                row[o + j * stride] = a[aOff + j] + b;
            }
        }
    }

    /**
     * The phase rows ({@link #transposedPhaseWeights}) that {@link #convTranspose1dFrames} reads on
     * the Vector API path, or null where it would not read them (groups != 1, or the Vector API off);
     * as many floats as the weights. Example, once per layer:
     * {@code float[][] rows = CpuOps.transposedPhaseWeightsIfUsed(w, 512, 256, 16, 8, 1);}
     */
    public static float[][] transposedPhaseWeightsIfUsed(float[] w, int cin, int cout, int kernel, int stride, int groups) {
        return groups == 1 && Simd.enabled() ? transposedPhaseWeights(w, cin, cout, kernel, stride) : null;
    }

    /**
     * Per phase {@code p} of a transposed conv (groups = 1), the weights as rows of output channels
     * over the terms {@code ci*tapsP + m}: {@code wp[p][co*terms + ci*tapsP + m] = w[ci][co][p + m*stride]}.
     */
    static float[][] transposedPhaseWeights(float[] w, int cin, int cout, int kernel, int stride) {
        float[][] wp = new float[stride][];
        for (int p = 0; p < stride; p++) {
            int tapsP = p < kernel ? (kernel - p + stride - 1) / stride : 0;
            int terms = cin * tapsP;
            float[] r = new float[cout * terms];
            for (int co = 0; co < cout; co++) {
                for (int ci = 0; ci < cin; ci++) {
                    int src = (ci * cout + co) * kernel + p;
                    int dst = co * terms + ci * tapsP;
                    for (int m = 0; m < tapsP; m++) {
                        r[dst + m] = w[src + m * stride];
                    }
                }
            }
            wp[p] = r;
        }
        return wp;
    }

    /** Output columns up to which {@link #conv1dFewFrames} beats the time-vectorised kernel. */
    public static final int FEW_FRAMES = 16;

    /**
     * Whether {@link #conv1dFewFrames(CpuContext, float[][], int, PackedLinear, float[], int, int, int)}
     * beats {@link #conv1d} (groups = 1): for a few output columns always; otherwise only for wide
     * layers (at least 512 output channels, or 256 and up to 256 columns, with the gathered
     * windows under 32 MB) whose columns fill less than 3/4 of the time-vectorised kernel's blocks
     * ({@link VectorConv#width()} columns each: 75 columns run as 128). Where the blocks are full,
     * the time-vectorised kernel is the faster one since its 6 x 4 register blocking and strided
     * gather (2026-11-25): OpBench {@code cpu_conv1d_f32_c256to512_k12_s6_t2000} against
     * {@code cpu_convpacked_f32_...} and the same pair at {@code c512to1024_k16_s8_t250}
     * (docs/perf-history.md). Without the Vector API the plain kernels keep the older rule (wide
     * layers always packed).
     */
    public static boolean prefersPackedConv(int tout, int cout, int cin, int kernel) {
        if (tout <= FEW_FRAMES) {
            return true;
        }
        boolean wide = cout >= 512 || (cout >= 256 && tout <= 256);
        if (!wide || (long) tout * cin * kernel > 1L << 23) {
            return false;
        }
        if (!Simd.enabled()) {
            return true;
        }
        int width = VectorConv.width();
        long computed = (long) (tout + width - 1) / width * width;
        return 4L * tout < 3L * computed;
    }

    /** {@code (Cout, Cin, K)} to {@code (Cin*K, Cout)}: the layout {@link #conv1dFewFrames} reads. */
    public static float[] transposeConvWeight(float[] w, int cout, int cin, int kernel) {
        float[] t = new float[w.length];
        for (int co = 0; co < cout; co++) {
            for (int j = 0; j < cin * kernel; j++) {
                t[j * cout + co] = w[co * cin * kernel + j];
            }
        }
        return t;
    }

    /**
     * {@link #conv1d} (groups = 1) for outputs of only a few columns, as in a streaming step: for
     * each output column, all output channels advance together (vectorised over channels) through
     * the (ci, k) terms in the contract's order, so results are bit-identical to {@link #conv1d}.
     *
     * @param wByTap weight in {@code (Cin*K, Cout)} layout, from {@link #transposeConvWeight}
     */
    public static float[][] conv1dFewFrames(float[][] x, int tin, float[] wByTap, float[] bias,
                                            int cout, int kernel, int stride, int dilation) {
        int cin = x.length;
        int span = (kernel - 1) * dilation + 1;
        int tout = tin < span ? 0 : (tin - span) / stride + 1;
        float[][] out = new float[cout][tout];
        float[] acc = new float[cout];
        for (int t = 0; t < tout; t++) {
            java.util.Arrays.fill(acc, 0f);
            for (int ci = 0; ci < cin; ci++) {
                float[] xr = x[ci];
                for (int k = 0; k < kernel; k++) {
                    float xv = xr[t * stride + k * dilation];
                    int base = (ci * kernel + k) * cout;
                    for (int co = 0; co < cout; co++) {
                        acc[co] = Math.fma(wByTap[base + co], xv, acc[co]);
                    }
                }
            }
            for (int co = 0; co < cout; co++) {
                out[co][t] = bias == null ? acc[co] : acc[co] + bias[co];
            }
        }
        return out;
    }

    /**
     * {@link #conv1d} (groups = 1) for outputs of only a few columns, with the weight packed as a
     * linear layer {@code (Cout, Cin*K)} ({@code PackedLinear.pack(w, cout, cin * kernel)}, the
     * conv weight's own row-major layout): the few input windows are gathered into rows
     * {@code [t][ci*K + k]} and multiplied by {@link TransformerOps#linearRows(CpuContext, float[][], PackedLinear)}.
     * Each output keeps the contract's order (terms {@code ci*K + k} ascending from 0, then
     * {@code + bias}), so the result is bit-identical to {@link #conv1d}; unlike the plain
     * few-frames loop, every weight is read once for all columns, and the threads split the outputs.
     */
    public static float[][] conv1dFewFrames(CpuContext ctx, float[][] x, int tin, PackedLinear w, float[] bias,
                                            int kernel, int stride, int dilation) {
        return conv1dFewFrames(ctx, x, tin, w, bias, kernel, stride, dilation, null);
    }

    /** {@link #conv1dFewFrames(CpuContext, float[][], int, PackedLinear, float[], int, int, int)} with an epilogue over the whole output (null: none). */
    public static float[][] conv1dFewFrames(CpuContext ctx, float[][] x, int tin, PackedLinear w, float[] bias,
                                            int kernel, int stride, int dilation, ConvEpilogue epilogue) {
        int cin = x.length;
        int cout = w.outFeatures();
        int span = (kernel - 1) * dilation + 1;
        int tout = tin < span ? 0 : (tin - span) / stride + 1;
        float[][] windows = new float[tout][cin * kernel];
        for (int ci = 0; ci < cin; ci++) {
            float[] xr = x[ci];
            for (int t = 0; t < tout; t++) {
                float[] row = windows[t];
                for (int k = 0; k < kernel; k++) {
                    row[ci * kernel + k] = xr[t * stride + k * dilation];
                }
            }
        }
        float[][] acc = TransformerOps.linearRows(ctx, windows, w);
        float[][] out = new float[cout][tout];
        for (int t = 0; t < tout; t++) {
            float[] a = acc[t];
            for (int co = 0; co < cout; co++) {
                out[co][t] = bias == null ? a[co] : a[co] + bias[co];
            }
        }
        if (epilogue != null && tout > 0) {
            // few columns: one pass over the output, channels split over the threads
            int parts = Math.min(cout, 4 * ctx.threads());
            int per = (cout + parts - 1) / parts;
            ctx.parallelFor(parts, (long) per * tout * 16, p -> {
                int c0 = p * per;
                int c1 = Math.min(cout, c0 + per);
                if (c0 < c1) {
                    epilogue.apply(out, c0, c1, 0, tout);
                }
            });
        }
        return out;
    }

    /** ELU in place: {@code x > 0 ? x : alpha * (exp(x) - 1)}. */
    public static void eluInPlace(float[][] x, float alpha) {
        EluScratch scratch = new EluScratch();
        for (float[] row : x) {
            eluRow(row, row, row.length, alpha, scratch);
        }
    }

    /** A copy of {@code x} with ELU applied (one pass, no intermediate copy). */
    public static float[][] elu(float[][] x, float alpha) {
        float[][] y = new float[x.length][];
        EluScratch scratch = new EluScratch();
        for (int c = 0; c < x.length; c++) {
            y[c] = new float[x[c].length];
            eluRow(x[c], y[c], x[c].length, alpha, scratch);
        }
        return y;
    }

    /** {@link #elu(float[][], float)} with the rows split over {@code ctx}'s threads (rows are independent). */
    public static float[][] elu(CpuContext ctx, float[][] x, float alpha) {
        float[][] y = new float[x.length][];
        int blocks = (x.length + ELU_ROWS_PER_TASK - 1) / ELU_ROWS_PER_TASK;
        long perBlock = x.length == 0 ? 0 : 16L * ELU_ROWS_PER_TASK * x[0].length;
        ctx.parallelFor(blocks, perBlock, b -> {
            EluScratch scratch = new EluScratch(); // one per task: rows of a step can be 2 columns short
            for (int c = b * ELU_ROWS_PER_TASK; c < Math.min(x.length, (b + 1) * ELU_ROWS_PER_TASK); c++) {
                y[c] = new float[x[c].length];
                eluRow(x[c], y[c], x[c].length, alpha, scratch);
            }
        });
        return y;
    }

    /**
     * {@code elu(x)} written into the interior {@code [left, left + len)} of new rows of
     * {@code left + len + right} columns (the edges stay 0 for the caller's padding rule): a conv's
     * padded input made in the same pass as the ELU before it. Rows are split over the threads.
     */
    public static float[][] eluIntoPadded(CpuContext ctx, float[][] x, float alpha, int left, int right) {
        float[][] y = new float[x.length][];
        int blocks = (x.length + ELU_ROWS_PER_TASK - 1) / ELU_ROWS_PER_TASK;
        long perBlock = x.length == 0 ? 0 : 16L * ELU_ROWS_PER_TASK * x[0].length;
        ctx.parallelFor(blocks, perBlock, b -> {
            EluScratch scratch = new EluScratch();
            for (int c = b * ELU_ROWS_PER_TASK; c < Math.min(x.length, (b + 1) * ELU_ROWS_PER_TASK); c++) {
                float[] src = x[c];
                float[] dst = new float[left + src.length + right];
                // chunks that stay in L1 between the copy and the in-place ELU over them
                for (int i = 0; i < src.length; i += ELU_COPY_CHUNK) {
                    int m = Math.min(ELU_COPY_CHUNK, src.length - i);
                    System.arraycopy(src, i, dst, left + i, m);
                    eluRange(dst, dst, left + i, left + i + m, alpha, scratch);
                }
                y[c] = dst;
            }
        });
        return y;
    }

    /** Columns per copy-then-ELU chunk of {@link #eluIntoPadded} (16 KB). */
    static final int ELU_COPY_CHUNK = 4096;

    /** {@link #elu(CpuContext, float[][], float)} in place (for a tensor nothing else holds). */
    public static void eluInPlace(CpuContext ctx, float[][] x, float alpha) {
        int blocks = (x.length + ELU_ROWS_PER_TASK - 1) / ELU_ROWS_PER_TASK;
        long perBlock = x.length == 0 ? 0 : 16L * ELU_ROWS_PER_TASK * x[0].length;
        ctx.parallelFor(blocks, perBlock, b -> {
            EluScratch scratch = new EluScratch();
            for (int c = b * ELU_ROWS_PER_TASK; c < Math.min(x.length, (b + 1) * ELU_ROWS_PER_TASK); c++) {
                eluRow(x[c], x[c], x[c].length, alpha, scratch);
            }
        });
    }

    /** Rows per task of the parallel {@link #elu(CpuContext, float[][], float)}. */
    static final int ELU_ROWS_PER_TASK = 32;

    static final float ELU_LOG2E = 1.44269504088896341f;
    static final float ELU_LN2_HI = 0.693145751953125f;       // ln 2 rounded to 16 bits: k * LN2_HI is exact
    static final float ELU_LN2_LO = 1.428606765330187045e-06f;
    /** 1.5 * 2^23: {@code (y + ROUNDER) - ROUNDER} is {@code rint(y)} (ties to even) for {@code |y| <= 2^22}. */
    static final float ELU_ROUNDER = 12582912f;
    static final int ELU_ROUNDER_BITS = 0x4B400000;
    static final int ELU_BLOCK = 256;

    /** Per-call block scratch of {@link #eluRow} (one per caller, never shared). */
    static final class EluScratch {
        final float[] in = new float[ELU_BLOCK];
        final float[] big = new float[ELU_BLOCK];
        final float[] r = new float[ELU_BLOCK];
        final float[] scale = new float[ELU_BLOCK];
        final float[] neg = new float[ELU_BLOCK];
        private VectorElu.Scratch vector;

        VectorElu.Scratch vector() {
            if (vector == null) {
                vector = VectorElu.newScratch();
            }
            return vector;
        }
    }

    /**
     * {@code y[i] = x[i] > 0 ? x[i] : alpha * expm1(x[i])} with a branch-free float expm1
     * (Math.expm1 is a slow library call: it made ELU ~40% of EnCodec's CPU time).
     * expm1 is computed as {@code 2^k expm1(r) + (2^k - 1)} with {@code x = k ln2 + r},
     * {@code |r| <= ln2/2} and a degree-8 Taylor polynomial for {@code expm1(r)} (truncation < 3e-9
     * relative); within 1 ulp of {@code Math.expm1} everywhere (see Expm1Test), far inside the
     * parity budget. {@link #expm1NonPositive} is the same arithmetic for one value.
     *
     * <p>C2 (Java 17) vectorises none of it as one loop (the body is too large and mixes float and
     * int lanes), so a block runs as six small loops that each vectorise, over block scratch;
     * {@code k} comes from the rounding constant instead of {@code Math.rint} (same value; only a
     * zero's sign can differ, which changes neither {@code r} nor {@code 2^k}) and the final
     * select is done on the bit patterns. Every value is bit-identical to {@link #expm1NonPositive}'s
     * path (EluExactTest compares them over a dense sweep of all floats).
     */
    static void eluRow(float[] x, float[] y, int n, float alpha, EluScratch s) {
        eluRange(x, y, 0, n, alpha, s);
    }

    /**
     * {@link #eluRow(float[], float[], int, float, EluScratch)} over {@code [from, to)} of both arrays
     * ({@code y} may be {@code x}). Every value gets the same bits whichever path or block runs it.
     */
    static void eluRange(float[] x, float[] y, int from, int to, float alpha, EluScratch s) {
        // With the Vector API on (and alpha >= 1, as in every SEANet), VectorElu does all but the
        // last few values with the same arithmetic: two of the loops below stay scalar on Java 17's C2.
        float[] in = s.in;
        float[] big = s.big;
        float[] r = s.r;
        float[] scale = s.scale;
        float[] neg = s.neg;
        int n = to - from;
        int start = from;
        if (Simd.enabled() && n >= VectorElu.step() && VectorElu.handles(alpha)) {
            int vectorEnd = to - n % VectorElu.step();
            VectorElu.Scratch vector = s.vector();
            for (; start < vectorEnd; start += VectorElu.BLOCK) {
                VectorElu.eluBlock(x, y, start, Math.min(VectorElu.BLOCK, vectorEnd - start), alpha, vector);
            }
            start = vectorEnd;
        }
        for (int i0 = start; i0 < to; i0 += ELU_BLOCK) {
            int m = Math.min(ELU_BLOCK, to - i0);
            System.arraycopy(x, i0, in, 0, m);
            eluReduce(in, big, r, m);
            eluScale(big, scale, m);
            eluPolynomial(r, m);
            eluNegative(scale, r, neg, alpha, m);
            eluSelect(in, neg, m);
            System.arraycopy(in, 0, y, i0, m);
        }
    }

    /** {@link #eluRow(float[], float[], int, float, EluScratch)} with its own scratch (scripts/check-elu-port calls this one). */
    static void eluRow(float[] x, float[] y, int n, float alpha) {
        eluRow(x, y, n, alpha, new EluScratch());
    }

    /** {@code t = clamp(v, -87, 0)}, {@code big = t log2e + ROUNDER} (so {@code k = big - ROUNDER}), {@code r = t - k ln2}. */
    private static void eluReduce(float[] in, float[] big, float[] r, int m) {
        for (int j = 0; j < m; j++) {
            float t = Math.max(Math.min(in[j], 0f), -87f);
            float b = t * ELU_LOG2E + ELU_ROUNDER;
            float k = b - ELU_ROUNDER;
            big[j] = b;
            r[j] = (t - k * ELU_LN2_HI) - k * ELU_LN2_LO;
        }
    }

    /** {@code 2^k} from the bits of {@code k + ROUNDER} (k in [-126, 0]). */
    private static void eluScale(float[] big, float[] scale, int m) {
        for (int j = 0; j < m; j++) {
            scale[j] = Float.intBitsToFloat((Float.floatToRawIntBits(big[j]) - ELU_ROUNDER_BITS + 127) << 23);
        }
    }

    /** {@code r <- expm1(r) = r + r^2 p(r)}. */
    private static void eluPolynomial(float[] r, int m) {
        for (int j = 0; j < m; j++) {
            r[j] = expm1Reduced(r[j]);
        }
    }

    /**
     * {@code expm1(r) = r + r^2 p(r)} for {@code |r| <= ln2/2}, {@code p} the degree-6 Horner tail of
     * the Taylor series (the ELU's, the SiLU's and the LSTM's activations; {@code VectorElu.polynomial}
     * is the same operations on lanes).
     */
    static float expm1Reduced(float r) {
        float p = 1f / 40320f;
        p = p * r + 1f / 5040f;
        p = p * r + 1f / 720f;
        p = p * r + 1f / 120f;
        p = p * r + 1f / 24f;
        p = p * r + 1f / 6f;
        p = p * r + 0.5f;
        return r + r * r * p;
    }

    /** {@code alpha * (2^k expm1(r) + (2^k - 1))}. */
    private static void eluNegative(float[] scale, float[] em1r, float[] neg, float alpha, int m) {
        for (int j = 0; j < m; j++) {
            float sc = scale[j];
            neg[j] = alpha * (sc * em1r[j] + (sc - 1f));
        }
    }

    /** {@code in[j] = in[j] > 0 ? in[j] : neg[j]} on bit patterns: {@code v > 0} iff its bits are in {@code [1, 0x7f800000]}. */
    private static void eluSelect(float[] in, float[] neg, int m) {
        for (int j = 0; j < m; j++) {
            int b = Float.floatToRawIntBits(in[j]);
            int positive = ~((b - 1) | (0x7f800000 - b)) >> 31; // all ones iff 1 <= b <= 0x7f800000
            in[j] = Float.intBitsToFloat((b & positive) | (Float.floatToRawIntBits(neg[j]) & ~positive));
        }
    }

    /** expm1 for {@code t in [-87, 0]}; see {@link #eluRow}. */
    static float expm1NonPositive(float t) {
        float k = (float) Math.rint(t * ELU_LOG2E);
        float r = (t - k * ELU_LN2_HI) - k * ELU_LN2_LO;
        float em1r = expm1Reduced(r);
        float scale = Float.intBitsToFloat(((int) k + 127) << 23); // 2^k, k in [-126, 0]
        return scale * em1r + (scale - 1f);
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

    /**
     * {@code b[c][t] = a[c][t] + b[c][t]} in place (the same sums as {@link #add}: float addition
     * commutes exactly), returning {@code b}: for a residual sum whose branch output is a fresh
     * tensor, so that no third tensor is allocated. The rows are split over {@code ctx}'s threads.
     */
    public static float[][] addInto(CpuContext ctx, float[][] a, float[][] b) {
        int len = b.length == 0 ? 0 : b[0].length;
        ctx.parallelFor(b.length, len, c -> {
            float[] ar = a[c];
            float[] br = b[c];
            for (int t = 0; t < br.length; t++) {
                br[t] = ar[t] + br[t];
            }
        });
        return b;
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
     * channel-major input, i.e. a GEMM {@code (O, I) x (I, T)}. It is exactly a kernel-1 convolution
     * (same weight layout, same per-element fma order), so it shares that kernel.
     *
     * @param w {@code (O, I)} row-major
     */
    public static float[][] linearColumns(CpuContext ctx, float[][] x, float[] w, float[] bias, int outFeatures) {
        int t = x.length == 0 ? 0 : x[0].length;
        if (x.length == 0) {
            return new float[outFeatures][t];
        }
        return conv1d(ctx, x, t, w, bias, outFeatures, 1, 1, 1, 1);
    }

    /**
     * {@code y[o] = sum_i w[o][i] * v[i]} (no bias), accumulated in the contract's order. Four rows
     * run side by side (independent fma chains, each {@code v[i]} loaded once per four rows).
     */
    public static void matVec(float[] w, int outFeatures, int in, float[] v, float[] y) {
        int o = 0;
        for (; o + 4 <= outFeatures; o += 4) {
            float a0 = 0f;
            float a1 = 0f;
            float a2 = 0f;
            float a3 = 0f;
            int b0 = o * in;
            int b1 = b0 + in;
            int b2 = b1 + in;
            int b3 = b2 + in;
            for (int i = 0; i < in; i++) {
                float vi = v[i];
                a0 = Math.fma(w[b0 + i], vi, a0);
                a1 = Math.fma(w[b1 + i], vi, a1);
                a2 = Math.fma(w[b2 + i], vi, a2);
                a3 = Math.fma(w[b3 + i], vi, a3);
            }
            y[o] = a0;
            y[o + 1] = a1;
            y[o + 2] = a2;
            y[o + 3] = a3;
        }
        for (; o < outFeatures; o++) {
            float acc = 0f;
            int base = o * in;
            for (int i = 0; i < in; i++) {
                acc = Math.fma(w[base + i], v[i], acc);
            }
            y[o] = acc;
        }
    }

    /** Hidden units per block of the packed recurrent weights in {@link #lstmLayer}. */
    static final int LSTM_BLOCK = 64;

    /** Below this many steps {@link #lstmLayer} keeps {@code whh} row-major rather than repacking it. */
    public static final int LSTM_PACK_MIN_STEPS = 8;

    /**
     * {@link #lstmLayer} for fewer than {@link #LSTM_PACK_MIN_STEPS} steps (a streaming step) with
     * weights transposed once at load ({@link #transposeMatrix}): every product is vectorised over
     * the 4H gate rows, each row still accumulating over its inputs in ascending order, so the
     * result is bit-identical to {@link #lstmLayer}.
     *
     * @param wihT {@code (I, 4H)}; {@code whhT} {@code (H, 4H)}
     */
    public static float[][] lstmLayerFewSteps(float[][] x, float[] wihT, float[] whhT, float[] bih, float[] bhh,
                                              float[] h, float[] c) {
        int hidden = h.length;
        int in = x.length;
        int g4 = 4 * hidden;
        int steps = in == 0 ? 0 : x[0].length;
        float[][] y = new float[hidden][steps];
        float[] gx = new float[g4];
        float[] gh = new float[g4];
        LstmCellScratch scratch = new LstmCellScratch(hidden);
        for (int t = 0; t < steps; t++) {
            java.util.Arrays.fill(gx, 0f);
            for (int i = 0; i < in; i++) {
                float xv = x[i][t];
                int base = i * g4;
                for (int o = 0; o < g4; o++) {
                    gx[o] = Math.fma(wihT[base + o], xv, gx[o]);
                }
            }
            java.util.Arrays.fill(gh, 0f);
            for (int i = 0; i < hidden; i++) {
                float hv = h[i];
                int base = i * g4;
                for (int o = 0; o < g4; o++) {
                    gh[o] = Math.fma(whhT[base + o], hv, gh[o]);
                }
            }
            lstmCellStep(gx, gh, bih, bhh, h, c, y, t, scratch);
        }
        return y;
    }

    /**
     * {@link #lstmLayerFewSteps} with the weights packed as linear layers ({@code PackedLinear.pack(wih, 4H, I)},
     * {@code PackedLinear.pack(whh, 4H, H)}), bit-identical to it and to {@link #lstmLayer}: the input
     * projection of all steps is one {@link TransformerOps#linearRows(CpuContext, float[][], PackedLinear)}
     * (each weight read once for every step), the recurrent product one per step; each gate row still
     * accumulates over its inputs in ascending order from 0, and the threads split the gate rows.
     */
    public static float[][] lstmLayerFewSteps(CpuContext ctx, float[][] x, PackedLinear wih, PackedLinear whh,
                                              float[] bih, float[] bhh, float[] h, float[] c) {
        int hidden = h.length;
        int steps = x.length == 0 ? 0 : x[0].length;
        float[][] y = new float[hidden][steps];
        if (steps == 0) {
            return y;
        }
        float[][] gxRows = TransformerOps.linearRows(ctx, TransformerOps.transpose(x), wih); // [T][4H]
        float[][] hRow = {h};
        LstmCellScratch scratch = new LstmCellScratch(hidden);
        for (int t = 0; t < steps; t++) {
            float[] gx = gxRows[t];
            float[] gh = TransformerOps.linearRows(ctx, hRow, whh)[0];
            lstmCellStep(gx, gh, bih, bhh, h, c, y, t, scratch);
        }
        return y;
    }

    /**
     * One LSTM cell update from the gate projections of step {@code t} ({@code gx}: input part, {@code gh}:
     * recurrent part, both {@code [i | f | g | o]} of length 4H): updates {@code h}, {@code c} and column
     * {@code t} of {@code y}, in the operation order {@link #lstmLayer} uses.
     */
    private static void lstmCellStep(float[] gx, float[] gh, float[] bih, float[] bhh, float[] h, float[] c,
                                     float[][] y, int t, LstmCellScratch scratch) {
        int hidden = h.length;
        // gh is this step's own product: the pre-activations overwrite it
        for (int o = 0; o < 4 * hidden; o++) {
            gh[o] = (gx[o] + (bih[o] + bhh[o])) + gh[o];
        }
        lstmCell(gh, hidden, c, 0, h, 0, scratch);
        for (int j = 0; j < hidden; j++) {
            y[j][t] = h[j];
        }
    }

    /** {@code (rows, cols)} row-major to {@code (cols, rows)} row-major. */
    public static float[] transposeMatrix(float[] m, int rows, int cols) {
        float[] t = new float[m.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = m[r * cols + c];
            }
        }
        return t;
    }

    /**
     * One LSTM layer over a whole sequence, PyTorch gate order (i, f, g, o).
     * The input projection is one GEMM over all steps; the recurrence is a matrix-vector per step.
     *
     * <p>For the recurrence over at least {@value #LSTM_PACK_MIN_STEPS} steps, {@code whh} is repacked
     * once per call into blocks of
     * {@value #LSTM_BLOCK} hidden units: block {@code b} holds, for every input {@code i}, the
     * contiguous row of its 4 gates' weights, so the step's matrix-vector product runs vectorised
     * across outputs (each output still accumulates over {@code i} ascending) and each block can also
     * apply its units' gate nonlinearities; blocks run in parallel.
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
        return lstmLayer(ctx, x, PackedLinear.pack(wih, 4 * hidden, x.length), whh, bih, bhh, h, c);
    }

    /**
     * {@link #lstmLayer(CpuContext, float[][], float[], float[], float[], float[], float[], float[])}
     * with {@code wih} packed once at load ({@code PackedLinear.pack(wih, 4H, I)}, as {@code LstmLayer}
     * keeps it): the input projection of all steps is one
     * {@link TransformerOps#linearRows(CpuContext, float[][], PackedLinear)}, which writes it step-major
     * as the recurrence reads it; same bits (each gate row accumulates over its inputs in ascending
     * order from 0, as in the channel-major conv kernel).
     */
    public static float[][] lstmLayer(CpuContext ctx, float[][] x, PackedLinear wih, float[] whh, float[] bih, float[] bhh,
                                      float[] h, float[] c) {
        int hidden = h.length;
        int steps = x.length == 0 ? 0 : x[0].length;
        if (steps == 0) {
            return new float[hidden][0];
        }
        float[][] gxByStep = TransformerOps.linearRows(ctx, TransformerOps.transpose(ctx, x), wih); // [T][4H]
        float[] bsum = new float[4 * hidden];
        for (int o = 0; o < 4 * hidden; o++) {
            bsum[o] = bih[o] + bhh[o];
        }
        if (steps < LSTM_PACK_MIN_STEPS) {
            // too few steps to repay repacking whh: row-major matrix-vector products
            float[][] y = new float[hidden][steps];
            float[] gh = new float[4 * hidden];
            LstmCellScratch scratch = new LstmCellScratch(hidden);
            for (int t = 0; t < steps; t++) {
                matVec(whh, 4 * hidden, hidden, h, gh);
                float[] gxt = gxByStep[t];
                for (int o = 0; o < 4 * hidden; o++) {
                    gh[o] = (gxt[o] + bsum[o]) + gh[o];
                }
                lstmCell(gh, hidden, c, 0, h, 0, scratch);
                for (int j = 0; j < hidden; j++) {
                    y[j][t] = h[j];
                }
            }
            return y;
        }
        int blocks = (hidden + LSTM_BLOCK - 1) / LSTM_BLOCK;
        // With the Vector API each block is one array, input row after input row (a row of 4 * nj
        // weights per input): the step's product then streams its block from cache or memory as the
        // packed linears do (docs/perf-history.md); the plain loops keep one array per input row.
        final boolean simd = Simd.enabled();
        float[][][] packed = simd ? null : new float[blocks][hidden][];
        float[][] packedFlat = simd ? new float[blocks][] : null;
        float[][] gh = new float[blocks][];
        float[][][] ghRow = new float[blocks][][]; // gh[b] as the one output row of matVecPanel
        LstmCellScratch[] cellScratch = new LstmCellScratch[blocks];
        ctx.parallelFor(blocks, 4L * LSTM_BLOCK * hidden, b -> {
            int j0 = b * LSTM_BLOCK;
            int nj = Math.min(LSTM_BLOCK, hidden - j0);
            int width = 4 * nj;
            float[][] pb = simd ? null : packed[b];
            float[] flat = simd ? new float[hidden * width] : null;
            if (!simd) {
                for (int i = 0; i < hidden; i++) {
                    pb[i] = new float[width];
                }
            }
            // cache-blocked transpose: 16 inputs at a time, reading each source row's 64-byte run
            for (int i0 = 0; i0 < hidden; i0 += 16) {
                int i1 = Math.min(hidden, i0 + 16);
                for (int gate = 0; gate < 4; gate++) {
                    for (int jj = 0; jj < nj; jj++) {
                        int src = (gate * hidden + j0 + jj) * hidden;
                        int dst = gate * nj + jj;
                        for (int i = i0; i < i1; i++) {
                            if (simd) {
                                flat[i * width + dst] = whh[src + i];
                            } else {
                                pb[i][dst] = whh[src + i];
                            }
                        }
                    }
                }
            }
            if (simd) {
                packedFlat[b] = flat;
            }
            gh[b] = new float[width];
            ghRow[b] = new float[][] {gh[b]};
            cellScratch[b] = new LstmCellScratch(nj);
        });
        final float[][] hRow = {h};
        // The steps read the projection and write y step-major: in the (channels, time) layout each
        // step touched 4H + H cache lines (4 bytes of each), 6 MB of them for 10 s, which pushed
        // the recurrent weights out of the cores' caches; y goes back to (channels, time) at the end.
        float[][] yByStep = new float[steps][hidden];
        for (int t = 0; t < steps; t++) {
            final float[] gxt = gxByStep[t];
            final float[] yt = yByStep[t];
            // each thread keeps its blocks from step to step: its share of whh stays in its core's
            // cache; and every other step walks its share backwards, so the blocks it ran last (still
            // in cache when the share is larger than the cache) are the first it needs again
            ctx.parallelForAffine(blocks, 4L * LSTM_BLOCK * hidden, (t & 1) == 1, b -> {
                int j0 = b * LSTM_BLOCK;
                int nj = Math.min(LSTM_BLOCK, hidden - j0);
                float[] acc = gh[b];
                if (simd) {
                    VectorConv.matVecPanel(packedFlat[b], hidden, hRow, 0, 1, 4 * nj, ghRow[b], 0, ghRow[b]);
                } else {
                    float[][] rows = packed[b];
                    java.util.Arrays.fill(acc, 0f);
                    for (int i0 = 0; i0 < hidden; i0 += CHUNK) {
                        fmaRows(acc, rows, i0, Math.min(CHUNK, hidden - i0), h, i0, 4 * nj);
                    }
                }
                for (int gate = 0; gate < 4; gate++) {
                    for (int jj = 0; jj < nj; jj++) {
                        int o = gate * hidden + j0 + jj;
                        acc[gate * nj + jj] = (gxt[o] + bsum[o]) + acc[gate * nj + jj];
                    }
                }
                lstmCell(acc, nj, c, j0, yt, j0, cellScratch[b]);
            });
            // h for the next step: every block has read the old h by now
            System.arraycopy(yt, 0, h, 0, hidden);
        }
        return TransformerOps.transpose(ctx, yByStep);
    }

    /**
     * The LSTM's tanh in float arithmetic: {@code tanh|v| = -e / (e + 2)} with
     * {@code e = expm1(-2|v|)} by {@link #expm1NonPositive} (the ELU's; its argument clamped at
     * -87, where {@code e} is -1 in float), the sign of {@code v} copied back (so +-0 stay +-0, NaN
     * stays NaN, +-inf give +-1). Within 2 ulp of {@code Math.tanh} rounded to float over a dense
     * sweep of all floats (TanhTest); no cancellation near 0, where {@code e ~ -2|v|}.
     * {@link #tanhSpan} computes the same values, bit for bit, in vector passes.
     */
    static float tanh(float v) {
        float e = expm1NonPositive(Math.max(-2f * Math.abs(v), -87f));
        return Math.copySign(-e / (e + 2f), v);
    }

    /**
     * The LSTM's sigmoid {@code 1 / (1 + e^-v)} in float arithmetic: the denominator of
     * {@link NnOps#silu(float)} (so within 2 ulp of the rounded exact value, SiluTest's bound
     * carries over: {@code silu(v) = v * sigmoid(v)} shares every step but the final division).
     */
    static float sigmoid(float v) {
        return 1f / NnOps.siluDenominator(v);
    }

    /**
     * {@code y[i] = tanh(x[i])} for {@code i} in {@code [from, to)} ({@code y} may be {@code x}),
     * {@link #tanh}'s bits: the clamped {@code -2|v|} into {@code arg} (at least {@code to - from}
     * long), its {@code expm1} by {@link #eluRange} (alpha 1: exactly {@link #expm1NonPositive} on
     * arguments {@code <= 0}, on the Vector API where it runs), then the division and the sign.
     */
    static void tanhSpan(float[] x, float[] y, int from, int to, float[] arg, EluScratch scratch) {
        int m = to - from;
        for (int j = 0; j < m; j++) {
            arg[j] = Math.max(-2f * Math.abs(x[from + j]), -87f);
        }
        eluRange(arg, arg, 0, m, 1f, scratch);
        for (int j = 0; j < m; j++) {
            float e = arg[j];
            y[from + j] = Math.copySign(-e / (e + 2f), x[from + j]);
        }
    }

    /** Scratch of {@link #lstmCell} for up to {@code n} units: one per caller, never shared. */
    static final class LstmCellScratch {
        final float[] cell;
        final float[] arg;
        final EluScratch expm1 = new EluScratch();
        final NnOps.SiluScratch sigmoid;

        LstmCellScratch(int n) {
            cell = new float[n];
            arg = new float[n];
            sigmoid = new NnOps.SiluScratch(Math.min(NnOps.SILU_BLOCK, 2 * n));
        }
    }

    /**
     * The LSTM cell update of {@code n} units from their gate pre-activations {@code g = [i | f | g | o]}
     * ({@code 4n} values, overwritten): {@code c' = sigmoid(f) c + sigmoid(i) tanh(g)},
     * {@code h = sigmoid(o) tanh(c')}, each product and sum rounded separately in that order;
     * {@code c[cOff ..]} and {@code h[hOff ..]} receive them. The activations run as spans
     * ({@link NnOps#sigmoidSpan}, {@link #tanhSpan}): vector passes with the Vector API, the same
     * bits as the scalar {@link #sigmoid} and {@link #tanh}.
     */
    static void lstmCell(float[] g, int n, float[] c, int cOff, float[] h, int hOff, LstmCellScratch s) {
        NnOps.sigmoidSpan(g, g, 0, 2 * n, s.sigmoid);
        tanhSpan(g, g, 2 * n, 3 * n, s.arg, s.expm1);
        NnOps.sigmoidSpan(g, g, 3 * n, 4 * n, s.sigmoid);
        float[] cell = s.cell;
        for (int j = 0; j < n; j++) {
            float cn = g[n + j] * c[cOff + j] + g[j] * g[2 * n + j];
            c[cOff + j] = cn;
            cell[j] = cn;
        }
        tanhSpan(cell, cell, 0, n, s.arg, s.expm1);
        for (int j = 0; j < n; j++) {
            h[hOff + j] = g[3 * n + j] * cell[j];
        }
    }

    /**
     * Nearest code for each column of {@code x (D, T)} in {@code codebook (N, D)}: the argmin of
     * {@code (|x|^2 - 2 x.e) + |e|^2}, the expression (and float32 rounding) of the original
     * EnCodec/Mimi Euclidean codebooks; ties go to the lowest index, as argmax does.
     *
     * <p>Vectorised across frames: a unit takes a tile of frames (and, when there are few frames
     * and several threads, a contiguous range of codes, merged afterwards in code order), and for each
     * code folds the dimensions in ascending order into a row of dot products, one per frame.
     *
     * @param codeNorms {@code |e|^2} per code, precomputed at load with {@link #rowSquaredNorms}
     */
    public static int[] nearestCodes(CpuContext ctx, float[][] x, float[] codebook, float[] codeNorms, int numCodes) {
        int dim = x.length;
        int frames = dim == 0 ? 0 : x[0].length;
        int[] out = new int[frames];
        if (frames == 0 || numCodes <= 0) {
            return out;
        }
        final int tile = frames <= 384 ? frames : 256;
        final int nTiles = (frames + tile - 1) / tile;
        int threads = ctx.threads();
        final int parts = threads == 1 || nTiles >= 4 * threads ? 1
                : Math.max(1, Math.min(numCodes / 64, (4 * threads + nTiles - 1) / nTiles));
        final int perPart = (numCodes + parts - 1) / parts;
        final float[][] bestDist = new float[nTiles * parts][];
        final int[][] bestCode = new int[nTiles * parts][];
        ctx.parallelFor(nTiles * parts, (long) perPart * dim * Math.min(tile, frames), u -> {
            int ti = u / parts;
            int part = u - ti * parts;
            int n0 = part * perPart;
            int n1 = Math.min(numCodes, n0 + perPart);
            int t0 = ti * tile;
            int n = Math.min(tile, frames - t0);
            float[][] rows;
            if (n == frames) {
                rows = x;
            } else {
                rows = new float[dim][n];
                for (int d = 0; d < dim; d++) {
                    System.arraycopy(x[d], t0, rows[d], 0, n);
                }
            }
            float[] xx = new float[n];
            for (int d = 0; d < dim; d++) {
                float[] r = rows[d];
                for (int j = 0; j < n; j++) {
                    xx[j] = Math.fma(r[j], r[j], xx[j]);
                }
            }
            float[] bd = new float[n];
            int[] bc = new int[n];
            java.util.Arrays.fill(bd, Float.POSITIVE_INFINITY);
            java.util.Arrays.fill(bc, n0);
            if (Simd.enabled() && n >= SIMD_MIN_COLUMNS) {
                // the same dot products (dimensions ascending from 0) on the register-blocked kernel;
                // it hands over each block's codes in ascending order, so ties still go to the lowest
                int[] zero = new int[dim];
                VectorConv.run(rows, zero, dim, 0, n, codebook, dim, n0, n1, (code, from, dots, off, cnt) -> {
                    float norm = codeNorms[code];
                    for (int j = 0; j < cnt; j++) {
                        float dist = (xx[from + j] - 2f * dots[off + j]) + norm;
                        if (dist < bd[from + j]) {
                            bd[from + j] = dist;
                            bc[from + j] = code;
                        }
                    }
                });
                bestDist[u] = bd;
                bestCode[u] = bc;
                return;
            }
            float[] dot = new float[n];
            for (int code = n0; code < n1; code++) {
                java.util.Arrays.fill(dot, 0f);
                int base = code * dim;
                for (int d0 = 0; d0 < dim; d0 += CHUNK) {
                    fmaRows(dot, rows, d0, Math.min(CHUNK, dim - d0), codebook, base + d0, n);
                }
                float norm = codeNorms[code];
                for (int j = 0; j < n; j++) {
                    float dist = (xx[j] - 2f * dot[j]) + norm;
                    if (dist < bd[j]) { // strict: the lowest index wins ties
                        bd[j] = dist;
                        bc[j] = code;
                    }
                }
            }
            bestDist[u] = bd;
            bestCode[u] = bc;
        });
        for (int ti = 0; ti < nTiles; ti++) {
            int t0 = ti * tile;
            int n = Math.min(tile, frames - t0);
            for (int j = 0; j < n; j++) {
                // parts in code order; a later part wins only if strictly closer, as in one scan
                float bd = Float.POSITIVE_INFINITY;
                int bc = 0;
                for (int part = 0; part < parts; part++) {
                    int u = ti * parts + part;
                    if (bestDist[u][j] < bd) {
                        bd = bestDist[u][j];
                        bc = bestCode[u][j];
                    }
                }
                out[t0 + j] = bc;
            }
        }
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
