package io.vocodex.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register-blocked multiply-accumulate kernel behind {@link CpuOps#conv1d}, the interior of
 * {@link CpuOps#convTranspose1dFrames} and {@link CpuOps#linearColumns} when {@link Simd#enabled()}.
 *
 * <p>It computes, for output channels {@code co} and output positions {@code l},
 * <pre>
 *   acc = 0;  for j = 0 .. terms-1:  acc = fma(w[co*wStride + j], rows[j][base + offs[j] + l], acc)
 * </pre>
 * i.e. every output element is exactly the contract's chain of fused multiply-adds over the terms in
 * ascending order. Lanes are output positions (a block is {@link #width()} = 4 vectors of them
 * with 512-bit vectors, 2 with narrower ones: {@link TwoVectorBlocks}) and
 * six output channels (then four, then one) share each loaded input vector, so 24 (12) accumulators stay
 * in registers while the terms stream through; the terms are walked in slices of {@link #TERMS_PER_PASS} (whose input rows
 * then stay in L1 for all output channels) and the accumulators are stored to and reloaded from a
 * scratch block between slices, which rounds nothing (a float store is exact). Hence the results are
 * bit-identical to the plain-Java loops, whatever the block, slice or thread.
 *
 * <p>Only {@link Simd}, {@link CpuOps} and {@link WinogradConv} touch this class: it links against
 * {@code jdk.incubator.vector}, which is resolved only when the JVM runs with
 * {@code --add-modules jdk.incubator.vector}.
 */
final class VectorConv {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /**
     * Four vectors per block where the vectors are 512 bits wide (AVX-512: 32 registers hold the 24
     * accumulators); two, in {@link TwoVectorBlocks}, on narrower units (AVX2's 16 registers).
     */
    private static final boolean FOUR_VECTORS = TwoVectorBlocks.FOUR_VECTORS;
    private static final int W = FOUR_VECTORS ? 4 * L : TwoVectorBlocks.W;

    /**
     * Terms per pass over a block, between which the accumulators go to a scratch block and back.
     * With four-vector blocks 128: the pass's input windows (at most 128 x 64 floats, fewer when
     * taps share a row) and weights stay within L1, and half the passes of 64 measured 3-6 % faster
     * on large convs ({@code OpBench} {@code cpu_conv1d_f32_c512_k11_d5_t2048}: 122.0, 123.0 ->
     * 114.2, 116.7 ms on one Zen 4 core) and no slower on few-channel ones. With two-vector blocks
     * (AVX2) 64, as measured there before.
     */
    static final int TERMS_PER_PASS = FOUR_VECTORS ? 128 : 64;

    private VectorConv() {
    }

    static int lanes() {
        return L;
    }

    /** Output positions per register block. */
    static int width() {
        return W;
    }

    /** Receives one block of accumulated sums (no bias added) of one output channel. */
    interface Sink {
        /**
         * @param co output channel
         * @param from first output position of the block (relative to the {@code run} call)
         * @param acc sums of positions {@code from .. from+n-1} at {@code acc[accOff ..]}
         */
        void put(int co, int from, float[] acc, int accOff, int n);
    }

    /**
     * Runs the kernel for output channels {@code [c0, c1)} and output positions {@code [0, n)}.
     *
     * @param rows input row of each term (rows may repeat: the taps of one channel share it)
     * @param offs offset of each term within its row; position {@code l} reads {@code rows[j][base + offs[j] + l]}
     * @param w weights, {@code w[co*wStride + j]}
     */
    static void run(float[][] rows, int[] offs, int terms, int base, int n, float[] w, int wStride,
                    int c0, int c1, Sink sink) {
        run(rows, offs, 1, terms, base, n, w, wStride, c0, c1, sink);
    }

    /**
     * {@link #run} over a strided input: position {@code l} of term {@code j} reads
     * {@code rows[j][(base + l) * stride + offs[j]]}. Strided blocks (and blocks at the edge of a
     * row) are gathered slice by slice into a contiguous panel that the kernels read instead, so a
     * strided convolution needs no de-interleaved copy of its whole input.
     */
    static void run(float[][] rows, int[] offs, int stride, int terms, int base, int n, float[] w, int wStride,
                    int c0, int c1, Sink sink) {
        int channels = c1 - c0;
        float[] acc = new float[channels * W];
        // channels go six at a time, then four, then one; a remainder of 2 or 3 (32 = 5 x 6 + 2)
        // takes one six back so that it goes as fours (32 = 4 x 6 + 2 x 4)
        int sixes = channels / 6;
        if (sixes > 0 && channels % 6 % 4 != 0 && (channels % 6 + 6) % 4 == 0) {
            sixes--;
        }
        int sixesEnd = c0 + 6 * sixes;
        // a stride-1 block reads its windows in place when all of them lie inside their rows:
        // offs[j] + bo >= 0 and offs[j] + bo + W <= rows[j].length for every term j
        int minOff = Integer.MAX_VALUE;
        int minRoom = Integer.MAX_VALUE;
        for (int j = 0; j < terms; j++) {
            minOff = Math.min(minOff, offs[j]);
            minRoom = Math.min(minRoom, rows[j].length - offs[j]);
        }
        float[] panel = null;
        float[][] panelRows = null;
        int[] panelOffs = null;
        for (int b0 = 0; b0 < n; b0 += W) {
            int nb = Math.min(W, n - b0);
            int bo = base + b0;
            boolean gather = stride != 1 || bo + minOff < 0 || bo + W > minRoom;
            if (gather && panel == null) {
                // the kernels read term j of a slice at panel[(j % TERMS_PER_PASS) * W ..]
                panel = new float[TERMS_PER_PASS * W];
                panelRows = new float[terms][];
                panelOffs = new int[terms];
                for (int j = 0; j < terms; j++) {
                    panelRows[j] = panel;
                    panelOffs[j] = (j % TERMS_PER_PASS) * W;
                }
            }
            float[][] src = gather ? panelRows : rows;
            int[] so = gather ? panelOffs : offs;
            int sb = gather ? 0 : bo;
            for (int j0 = 0; j0 < terms; j0 += TERMS_PER_PASS) {
                int j1 = Math.min(terms, j0 + TERMS_PER_PASS);
                if (gather) {
                    pack(rows, offs, stride, j0, j1, bo, panel);
                }
                boolean first = j0 == 0;
                int co = c0;
                // FOUR_VECTORS is a constant: C2 keeps one call per loop
                for (; co < sixesEnd; co += 6) {
                    if (FOUR_VECTORS) {
                        block6(src, so, sb, w, co * wStride + j0, wStride, j0, j1, acc, (co - c0) * W, first);
                    } else {
                        TwoVectorBlocks.conv6(src, so, sb, w, co * wStride + j0, wStride, j0, j1, acc, (co - c0) * W, first);
                    }
                }
                for (; co + 4 <= c1; co += 4) {
                    if (FOUR_VECTORS) {
                        block4(src, so, sb, w, co * wStride + j0, wStride, j0, j1, acc, (co - c0) * W, first);
                    } else {
                        TwoVectorBlocks.conv4(src, so, sb, w, co * wStride + j0, wStride, j0, j1, acc, (co - c0) * W, first);
                    }
                }
                for (; co < c1; co++) {
                    if (FOUR_VECTORS) {
                        block1(src, so, sb, w, co * wStride + j0, j0, j1, acc, (co - c0) * W, first);
                    } else {
                        TwoVectorBlocks.conv1(src, so, sb, w, co * wStride + j0, j0, j1, acc, (co - c0) * W, first);
                    }
                }
            }
            for (int co = c0; co < c1; co++) {
                sink.put(co, b0, acc, (co - c0) * W, nb);
            }
        }
    }

    /**
     * {@code dst[at + t] = fma(a, src[off + t], first ? 0 : dst[at + t])} for {@code t < n}: one link
     * of {@link WinogradConv}'s transform chains, lane by lane the plain loop's operations.
     */
    static void fmaRow(float a, float[] src, int off, float[] dst, int at, int n, boolean first) {
        FloatVector va = FloatVector.broadcast(S, a);
        int t = 0;
        if (first) {
            FloatVector zero = FloatVector.zero(S);
            for (; t + L <= n; t += L) {
                FloatVector.fromArray(S, src, off + t).fma(va, zero).intoArray(dst, at + t);
            }
            for (; t < n; t++) {
                dst[at + t] = Math.fma(a, src[off + t], 0f);
            }
        } else {
            for (; t + L <= n; t += L) {
                FloatVector.fromArray(S, src, off + t).fma(va, FloatVector.fromArray(S, dst, at + t)).intoArray(dst, at + t);
            }
            for (; t < n; t++) {
                dst[at + t] = Math.fma(a, src[off + t], dst[at + t]);
            }
        }
    }

    /**
     * {@code dst[dstOff + l] = acc[accOff + l] + bias} for {@code l < n} (or a plain copy when
     * {@code hasBias} is false: a {@code + 0} would turn -0 into +0), vectorised: a block's epilogue.
     */
    static void storeWithBias(float[] acc, int accOff, float[] dst, int dstOff, int n, boolean hasBias, float bias) {
        if (!hasBias) {
            System.arraycopy(acc, accOff, dst, dstOff, n);
            return;
        }
        int l = 0;
        for (; l + L <= n; l += L) {
            FloatVector.fromArray(S, acc, accOff + l).add(bias).intoArray(dst, dstOff + l);
        }
        for (; l < n; l++) {
            dst[dstOff + l] = acc[accOff + l] + bias;
        }
    }

    /**
     * {@code dst[dstOff + l] = addend[addOff + l] + (acc[accOff + l] + bias)} for {@code l < n} (no
     * {@code + bias} when {@code hasBias} is false), vectorised: {@link #storeWithBias} followed by
     * the sum with a residual branch ({@link CpuOps.ConvEpilogue#add}), the same two roundings.
     */
    static void storeWithBiasPlus(float[] acc, int accOff, float[] addend, int addOff, float[] dst, int dstOff, int n,
                                  boolean hasBias, float bias) {
        int l = 0;
        if (hasBias) {
            for (; l + L <= n; l += L) {
                FloatVector sum = FloatVector.fromArray(S, acc, accOff + l).add(bias);
                FloatVector.fromArray(S, addend, addOff + l).add(sum).intoArray(dst, dstOff + l);
            }
            for (; l < n; l++) {
                dst[dstOff + l] = addend[addOff + l] + (acc[accOff + l] + bias);
            }
        } else {
            for (; l + L <= n; l += L) {
                FloatVector.fromArray(S, addend, addOff + l).add(FloatVector.fromArray(S, acc, accOff + l)).intoArray(dst, dstOff + l);
            }
            for (; l < n; l++) {
                dst[dstOff + l] = addend[addOff + l] + acc[accOff + l];
            }
        }
    }

    /**
     * Copies the window of each term {@code j0 <= j < j1} ({@code rows[j][(bo + l) * stride + offs[j]]},
     * {@code l < W}) to {@code panel[(j - j0) * W + l]}, zero where the window runs past either end of
     * its row (lanes are independent, so the zeros only feed positions that are discarded). A strided
     * term whose window is the previous tap's shifted by one position (the same row, {@code offs}
     * larger by {@code stride}, as taps {@code k} and {@code k + stride} of one channel are) copies
     * that window and gathers only its last element.
     */
    private static void pack(float[][] rows, int[] offs, int stride, int j0, int j1, int bo, float[] panel) {
        for (int j = j0; j < j1; j++) {
            float[] r = rows[j];
            int s = bo * stride + offs[j];
            int p = (j - j0) * W;
            int last = s + (W - 1) * stride;
            if (stride == 1 && s >= 0 && last < r.length) {
                System.arraycopy(r, s, panel, p, W);
            } else if (s >= 0 && last < r.length) {
                int prev = j - stride;
                int l = 0;
                if (prev >= j0 && rows[prev] == r && offs[prev] + stride == offs[j]) {
                    System.arraycopy(panel, (prev - j0) * W + 1, panel, p, W - 1);
                    l = W - 1;
                }
                for (; l < W; l++) {
                    panel[p + l] = r[s + l * stride];
                }
            } else {
                for (int l = 0; l < W; l++) {
                    int i = s + l * stride;
                    panel[p + l] = i >= 0 && i < r.length ? r[i] : 0f;
                }
            }
        }
    }

    /**
     * Six output channels x four vectors of positions (24 accumulators); weights of channel r at
     * {@code wi + r*ws}. {@link #block4} and {@link #block1} are the same loop written out for fewer
     * channels (the remainders): Java cannot keep an array of vectors in registers, so each
     * register-block width is its own unrolled method (and its own compilation root).
     */
    private static void block6(float[][] rows, int[] offs, int bo, float[] w, int wi, int ws, int j0, int j1,
                               float[] acc, int ab, boolean first) {
        FloatVector a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33, a40, a41, a42, a43, a50, a51, a52, a53;
        if (first) {
            a00 = FloatVector.broadcast(S, 0f);
            a01 = a00; a02 = a00; a03 = a00; a10 = a00; a11 = a00; a12 = a00; a13 = a00; a20 = a00; a21 = a00; a22 = a00; a23 = a00; a30 = a00; a31 = a00; a32 = a00; a33 = a00; a40 = a00; a41 = a00; a42 = a00; a43 = a00; a50 = a00; a51 = a00; a52 = a00; a53 = a00;
        } else {
            a00 = FloatVector.fromArray(S, acc, ab);
            a01 = FloatVector.fromArray(S, acc, ab + L);
            a02 = FloatVector.fromArray(S, acc, ab + 2 * L);
            a03 = FloatVector.fromArray(S, acc, ab + 3 * L);
            a10 = FloatVector.fromArray(S, acc, ab + W);
            a11 = FloatVector.fromArray(S, acc, ab + W + L);
            a12 = FloatVector.fromArray(S, acc, ab + W + 2 * L);
            a13 = FloatVector.fromArray(S, acc, ab + W + 3 * L);
            a20 = FloatVector.fromArray(S, acc, ab + 2 * W);
            a21 = FloatVector.fromArray(S, acc, ab + 2 * W + L);
            a22 = FloatVector.fromArray(S, acc, ab + 2 * W + 2 * L);
            a23 = FloatVector.fromArray(S, acc, ab + 2 * W + 3 * L);
            a30 = FloatVector.fromArray(S, acc, ab + 3 * W);
            a31 = FloatVector.fromArray(S, acc, ab + 3 * W + L);
            a32 = FloatVector.fromArray(S, acc, ab + 3 * W + 2 * L);
            a33 = FloatVector.fromArray(S, acc, ab + 3 * W + 3 * L);
            a40 = FloatVector.fromArray(S, acc, ab + 4 * W);
            a41 = FloatVector.fromArray(S, acc, ab + 4 * W + L);
            a42 = FloatVector.fromArray(S, acc, ab + 4 * W + 2 * L);
            a43 = FloatVector.fromArray(S, acc, ab + 4 * W + 3 * L);
            a50 = FloatVector.fromArray(S, acc, ab + 5 * W);
            a51 = FloatVector.fromArray(S, acc, ab + 5 * W + L);
            a52 = FloatVector.fromArray(S, acc, ab + 5 * W + 2 * L);
            a53 = FloatVector.fromArray(S, acc, ab + 5 * W + 3 * L);
        }
        for (int j = j0; j < j1; j++, wi++) {
            float[] row = rows[j];
            int o = bo + offs[j];
            FloatVector x0 = FloatVector.fromArray(S, row, o);
            FloatVector x1 = FloatVector.fromArray(S, row, o + L);
            FloatVector x2 = FloatVector.fromArray(S, row, o + 2 * L);
            FloatVector x3 = FloatVector.fromArray(S, row, o + 3 * L);
            FloatVector w0 = FloatVector.broadcast(S, w[wi]);
            a00 = x0.fma(w0, a00);
            a01 = x1.fma(w0, a01);
            a02 = x2.fma(w0, a02);
            a03 = x3.fma(w0, a03);
            FloatVector w1 = FloatVector.broadcast(S, w[wi + ws]);
            a10 = x0.fma(w1, a10);
            a11 = x1.fma(w1, a11);
            a12 = x2.fma(w1, a12);
            a13 = x3.fma(w1, a13);
            FloatVector w2 = FloatVector.broadcast(S, w[wi + 2 * ws]);
            a20 = x0.fma(w2, a20);
            a21 = x1.fma(w2, a21);
            a22 = x2.fma(w2, a22);
            a23 = x3.fma(w2, a23);
            FloatVector w3 = FloatVector.broadcast(S, w[wi + 3 * ws]);
            a30 = x0.fma(w3, a30);
            a31 = x1.fma(w3, a31);
            a32 = x2.fma(w3, a32);
            a33 = x3.fma(w3, a33);
            FloatVector w4 = FloatVector.broadcast(S, w[wi + 4 * ws]);
            a40 = x0.fma(w4, a40);
            a41 = x1.fma(w4, a41);
            a42 = x2.fma(w4, a42);
            a43 = x3.fma(w4, a43);
            FloatVector w5 = FloatVector.broadcast(S, w[wi + 5 * ws]);
            a50 = x0.fma(w5, a50);
            a51 = x1.fma(w5, a51);
            a52 = x2.fma(w5, a52);
            a53 = x3.fma(w5, a53);
        }
        a00.intoArray(acc, ab);
        a01.intoArray(acc, ab + L);
        a02.intoArray(acc, ab + 2 * L);
        a03.intoArray(acc, ab + 3 * L);
        a10.intoArray(acc, ab + W);
        a11.intoArray(acc, ab + W + L);
        a12.intoArray(acc, ab + W + 2 * L);
        a13.intoArray(acc, ab + W + 3 * L);
        a20.intoArray(acc, ab + 2 * W);
        a21.intoArray(acc, ab + 2 * W + L);
        a22.intoArray(acc, ab + 2 * W + 2 * L);
        a23.intoArray(acc, ab + 2 * W + 3 * L);
        a30.intoArray(acc, ab + 3 * W);
        a31.intoArray(acc, ab + 3 * W + L);
        a32.intoArray(acc, ab + 3 * W + 2 * L);
        a33.intoArray(acc, ab + 3 * W + 3 * L);
        a40.intoArray(acc, ab + 4 * W);
        a41.intoArray(acc, ab + 4 * W + L);
        a42.intoArray(acc, ab + 4 * W + 2 * L);
        a43.intoArray(acc, ab + 4 * W + 3 * L);
        a50.intoArray(acc, ab + 5 * W);
        a51.intoArray(acc, ab + 5 * W + L);
        a52.intoArray(acc, ab + 5 * W + 2 * L);
        a53.intoArray(acc, ab + 5 * W + 3 * L);
    }

    /** Four output channels x four vectors of positions; weights of channel r at {@code wi + r*ws}. */
    private static void block4(float[][] rows, int[] offs, int bo, float[] w, int wi, int ws, int j0, int j1,
                               float[] acc, int ab, boolean first) {
        FloatVector a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33;
        if (first) {
            a00 = FloatVector.broadcast(S, 0f);
            a01 = a00; a02 = a00; a03 = a00;
            a10 = a00; a11 = a00; a12 = a00; a13 = a00;
            a20 = a00; a21 = a00; a22 = a00; a23 = a00;
            a30 = a00; a31 = a00; a32 = a00; a33 = a00;
        } else {
            a00 = FloatVector.fromArray(S, acc, ab);
            a01 = FloatVector.fromArray(S, acc, ab + L);
            a02 = FloatVector.fromArray(S, acc, ab + 2 * L);
            a03 = FloatVector.fromArray(S, acc, ab + 3 * L);
            a10 = FloatVector.fromArray(S, acc, ab + W);
            a11 = FloatVector.fromArray(S, acc, ab + W + L);
            a12 = FloatVector.fromArray(S, acc, ab + W + 2 * L);
            a13 = FloatVector.fromArray(S, acc, ab + W + 3 * L);
            a20 = FloatVector.fromArray(S, acc, ab + 2 * W);
            a21 = FloatVector.fromArray(S, acc, ab + 2 * W + L);
            a22 = FloatVector.fromArray(S, acc, ab + 2 * W + 2 * L);
            a23 = FloatVector.fromArray(S, acc, ab + 2 * W + 3 * L);
            a30 = FloatVector.fromArray(S, acc, ab + 3 * W);
            a31 = FloatVector.fromArray(S, acc, ab + 3 * W + L);
            a32 = FloatVector.fromArray(S, acc, ab + 3 * W + 2 * L);
            a33 = FloatVector.fromArray(S, acc, ab + 3 * W + 3 * L);
        }
        for (int j = j0; j < j1; j++, wi++) {
            float[] row = rows[j];
            int o = bo + offs[j];
            FloatVector x0 = FloatVector.fromArray(S, row, o);
            FloatVector x1 = FloatVector.fromArray(S, row, o + L);
            FloatVector x2 = FloatVector.fromArray(S, row, o + 2 * L);
            FloatVector x3 = FloatVector.fromArray(S, row, o + 3 * L);
            FloatVector w0 = FloatVector.broadcast(S, w[wi]);
            a00 = x0.fma(w0, a00);
            a01 = x1.fma(w0, a01);
            a02 = x2.fma(w0, a02);
            a03 = x3.fma(w0, a03);
            FloatVector w1 = FloatVector.broadcast(S, w[wi + ws]);
            a10 = x0.fma(w1, a10);
            a11 = x1.fma(w1, a11);
            a12 = x2.fma(w1, a12);
            a13 = x3.fma(w1, a13);
            FloatVector w2 = FloatVector.broadcast(S, w[wi + 2 * ws]);
            a20 = x0.fma(w2, a20);
            a21 = x1.fma(w2, a21);
            a22 = x2.fma(w2, a22);
            a23 = x3.fma(w2, a23);
            FloatVector w3 = FloatVector.broadcast(S, w[wi + 3 * ws]);
            a30 = x0.fma(w3, a30);
            a31 = x1.fma(w3, a31);
            a32 = x2.fma(w3, a32);
            a33 = x3.fma(w3, a33);
        }
        a00.intoArray(acc, ab);
        a01.intoArray(acc, ab + L);
        a02.intoArray(acc, ab + 2 * L);
        a03.intoArray(acc, ab + 3 * L);
        a10.intoArray(acc, ab + W);
        a11.intoArray(acc, ab + W + L);
        a12.intoArray(acc, ab + W + 2 * L);
        a13.intoArray(acc, ab + W + 3 * L);
        a20.intoArray(acc, ab + 2 * W);
        a21.intoArray(acc, ab + 2 * W + L);
        a22.intoArray(acc, ab + 2 * W + 2 * L);
        a23.intoArray(acc, ab + 2 * W + 3 * L);
        a30.intoArray(acc, ab + 3 * W);
        a31.intoArray(acc, ab + 3 * W + L);
        a32.intoArray(acc, ab + 3 * W + 2 * L);
        a33.intoArray(acc, ab + 3 * W + 3 * L);
    }

    /** One output channel x four vectors of positions (the channels left over by {@link #block4}). */
    private static void block1(float[][] rows, int[] offs, int bo, float[] w, int wi, int j0, int j1,
                               float[] acc, int ab, boolean first) {
        FloatVector a0, a1, a2, a3;
        if (first) {
            a0 = FloatVector.broadcast(S, 0f);
            a1 = a0;
            a2 = a0;
            a3 = a0;
        } else {
            a0 = FloatVector.fromArray(S, acc, ab);
            a1 = FloatVector.fromArray(S, acc, ab + L);
            a2 = FloatVector.fromArray(S, acc, ab + 2 * L);
            a3 = FloatVector.fromArray(S, acc, ab + 3 * L);
        }
        for (int j = j0; j < j1; j++, wi++) {
            float[] row = rows[j];
            int o = bo + offs[j];
            FloatVector wv = FloatVector.broadcast(S, w[wi]);
            a0 = FloatVector.fromArray(S, row, o).fma(wv, a0);
            a1 = FloatVector.fromArray(S, row, o + L).fma(wv, a1);
            a2 = FloatVector.fromArray(S, row, o + 2 * L).fma(wv, a2);
            a3 = FloatVector.fromArray(S, row, o + 3 * L).fma(wv, a3);
        }
        a0.intoArray(acc, ab);
        a1.intoArray(acc, ab + L);
        a2.intoArray(acc, ab + 2 * L);
        a3.intoArray(acc, ab + 3 * L);
    }

    /** Inputs per pass of {@link #matVecPanel}: a pass's slice of a 256-wide panel (256 KB) stays in L2 for the next row. */
    static final int MATVEC_INPUTS = 256;

    /**
     * {@link #linearPanel} for one to three rows (a streaming step; also the LSTM's recurrent
     * product, one row per step over a block of 4 x 64 gate outputs): eight or sixteen vectors of
     * outputs per register block, so that each pass reads 512 bytes or a whole 1 KB panel row per
     * input and the weights stream from memory; the 4- and 6-row blocks would hop to the next
     * panel row after 4 vectors, or after one cache line with 8 lanes (a 512 x 16-tap conv's panel
     * is 8 MB, beyond a Zen 3 core's 512 KB L2, and was then re-read 16 times). The inputs go in
     * passes of {@value #MATVEC_INPUTS} so that the second and third rows find the pass's weights in
     * L2. Each output is the same fma chain over {@code i} ascending from 0: the same bits as the
     * blocks.
     */
    static void matVecPanel(float[] panel, int in, float[][] x, int t0, int t1, int width, float[][] y, int o0) {
        // a pass's partial sums wait in a private scratch, not in y: another thread's panel may share
        // the cache line at either end of these columns (sums kept in y measured ~8 % slower on 2
        // threads, StepWeightsBench)
        matVecPanel(panel, in, x, t0, t1, width, y, o0, new float[t1 - t0][width]);
    }

    /**
     * {@link #matVecPanel(float[], int, float[][], int, int, int, float[][], int)} with the caller's
     * scratch {@code acc} ({@code t1 - t0} rows of at least {@code width}); {@code acc} may be
     * {@code y} itself when {@code t0 == 0} and {@code o0 == 0} (an output no other thread writes
     * near: the LSTM's per-block gate row, every step).
     */
    static void matVecPanel(float[] panel, int in, float[][] x, int t0, int t1, int width, float[][] y, int o0,
                            float[][] acc) {
        int rows = t1 - t0;
        int o = 0;
        if (L == 16) {
            for (; o + 16 * L <= width; o += 16 * L) {
                for (int i0 = 0; i0 < in; i0 += MATVEC_INPUTS) {
                    int i1 = Math.min(in, i0 + MATVEC_INPUTS);
                    for (int t = 0; t < rows; t++) {
                        matVec16(panel, width, o, i0, i1, x[t0 + t], acc[t], i0 == 0);
                    }
                }
            }
        }
        for (; o + 8 * L <= width; o += 8 * L) {
            for (int i0 = 0; i0 < in; i0 += MATVEC_INPUTS) {
                int i1 = Math.min(in, i0 + MATVEC_INPUTS);
                for (int t = 0; t < rows; t++) {
                    matVec8(panel, width, o, i0, i1, x[t0 + t], acc[t], i0 == 0);
                }
            }
        }
        for (; o + L <= width; o += L) {
            for (int t = 0; t < rows; t++) {
                float[] v = x[t0 + t];
                FloatVector a = FloatVector.broadcast(S, 0f);
                for (int i = 0; i < in; i++) {
                    a = FloatVector.fromArray(S, panel, i * width + o).fma(FloatVector.broadcast(S, v[i]), a);
                }
                a.intoArray(acc[t], o);
            }
        }
        for (; o < width; o++) {
            for (int t = 0; t < rows; t++) {
                float[] v = x[t0 + t];
                float a = 0f;
                for (int i = 0; i < in; i++) {
                    a = Math.fma(panel[i * width + o], v[i], a);
                }
                acc[t][o] = a;
            }
        }
        for (int t = 0; t < rows; t++) {
            if (acc[t] != y[t0 + t] || o0 != 0) {
                System.arraycopy(acc[t], 0, y[t0 + t], o0, width);
            }
        }
    }

    /** Inputs {@code [i0, i1)} of outputs {@code o .. o+16L-1} of one row: sixteen accumulators. */
    private static void matVec16(float[] panel, int ld, int o, int i0, int i1, float[] v, float[] y, boolean first) {
        FloatVector a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15;
        if (first) {
            a0 = FloatVector.broadcast(S, 0f);
            a1 = a0; a2 = a0; a3 = a0; a4 = a0; a5 = a0; a6 = a0; a7 = a0; a8 = a0; a9 = a0; a10 = a0; a11 = a0; a12 = a0; a13 = a0; a14 = a0; a15 = a0;
        } else {
            a0 = FloatVector.fromArray(S, y, o + 0 * L);
            a1 = FloatVector.fromArray(S, y, o + 1 * L);
            a2 = FloatVector.fromArray(S, y, o + 2 * L);
            a3 = FloatVector.fromArray(S, y, o + 3 * L);
            a4 = FloatVector.fromArray(S, y, o + 4 * L);
            a5 = FloatVector.fromArray(S, y, o + 5 * L);
            a6 = FloatVector.fromArray(S, y, o + 6 * L);
            a7 = FloatVector.fromArray(S, y, o + 7 * L);
            a8 = FloatVector.fromArray(S, y, o + 8 * L);
            a9 = FloatVector.fromArray(S, y, o + 9 * L);
            a10 = FloatVector.fromArray(S, y, o + 10 * L);
            a11 = FloatVector.fromArray(S, y, o + 11 * L);
            a12 = FloatVector.fromArray(S, y, o + 12 * L);
            a13 = FloatVector.fromArray(S, y, o + 13 * L);
            a14 = FloatVector.fromArray(S, y, o + 14 * L);
            a15 = FloatVector.fromArray(S, y, o + 15 * L);
        }
        // r stepped by ld, not recomputed as i * ld + o: about 1.5x the memory throughput (C2, Zen 4)
        for (int i = i0, r = i0 * ld + o; i < i1; i++, r += ld) {
            FloatVector b = FloatVector.broadcast(S, v[i]);
            a0 = FloatVector.fromArray(S, panel, r + 0 * L).fma(b, a0);
            a1 = FloatVector.fromArray(S, panel, r + 1 * L).fma(b, a1);
            a2 = FloatVector.fromArray(S, panel, r + 2 * L).fma(b, a2);
            a3 = FloatVector.fromArray(S, panel, r + 3 * L).fma(b, a3);
            a4 = FloatVector.fromArray(S, panel, r + 4 * L).fma(b, a4);
            a5 = FloatVector.fromArray(S, panel, r + 5 * L).fma(b, a5);
            a6 = FloatVector.fromArray(S, panel, r + 6 * L).fma(b, a6);
            a7 = FloatVector.fromArray(S, panel, r + 7 * L).fma(b, a7);
            a8 = FloatVector.fromArray(S, panel, r + 8 * L).fma(b, a8);
            a9 = FloatVector.fromArray(S, panel, r + 9 * L).fma(b, a9);
            a10 = FloatVector.fromArray(S, panel, r + 10 * L).fma(b, a10);
            a11 = FloatVector.fromArray(S, panel, r + 11 * L).fma(b, a11);
            a12 = FloatVector.fromArray(S, panel, r + 12 * L).fma(b, a12);
            a13 = FloatVector.fromArray(S, panel, r + 13 * L).fma(b, a13);
            a14 = FloatVector.fromArray(S, panel, r + 14 * L).fma(b, a14);
            a15 = FloatVector.fromArray(S, panel, r + 15 * L).fma(b, a15);
        }
        a0.intoArray(y, o + 0 * L);
        a1.intoArray(y, o + 1 * L);
        a2.intoArray(y, o + 2 * L);
        a3.intoArray(y, o + 3 * L);
        a4.intoArray(y, o + 4 * L);
        a5.intoArray(y, o + 5 * L);
        a6.intoArray(y, o + 6 * L);
        a7.intoArray(y, o + 7 * L);
        a8.intoArray(y, o + 8 * L);
        a9.intoArray(y, o + 9 * L);
        a10.intoArray(y, o + 10 * L);
        a11.intoArray(y, o + 11 * L);
        a12.intoArray(y, o + 12 * L);
        a13.intoArray(y, o + 13 * L);
        a14.intoArray(y, o + 14 * L);
        a15.intoArray(y, o + 15 * L);
    }

    /** Inputs {@code [i0, i1)} of outputs {@code o .. o+8L-1} of one row: eight accumulators. */
    private static void matVec8(float[] panel, int ld, int o, int i0, int i1, float[] v, float[] y, boolean first) {
        FloatVector a0, a1, a2, a3, a4, a5, a6, a7;
        if (first) {
            a0 = FloatVector.broadcast(S, 0f);
            a1 = a0; a2 = a0; a3 = a0; a4 = a0; a5 = a0; a6 = a0; a7 = a0;
        } else {
            a0 = FloatVector.fromArray(S, y, o + 0 * L);
            a1 = FloatVector.fromArray(S, y, o + 1 * L);
            a2 = FloatVector.fromArray(S, y, o + 2 * L);
            a3 = FloatVector.fromArray(S, y, o + 3 * L);
            a4 = FloatVector.fromArray(S, y, o + 4 * L);
            a5 = FloatVector.fromArray(S, y, o + 5 * L);
            a6 = FloatVector.fromArray(S, y, o + 6 * L);
            a7 = FloatVector.fromArray(S, y, o + 7 * L);
        }
        // r stepped by ld, not recomputed as i * ld + o: about 1.5x the memory throughput (C2, Zen 4)
        for (int i = i0, r = i0 * ld + o; i < i1; i++, r += ld) {
            FloatVector b = FloatVector.broadcast(S, v[i]);
            a0 = FloatVector.fromArray(S, panel, r + 0 * L).fma(b, a0);
            a1 = FloatVector.fromArray(S, panel, r + 1 * L).fma(b, a1);
            a2 = FloatVector.fromArray(S, panel, r + 2 * L).fma(b, a2);
            a3 = FloatVector.fromArray(S, panel, r + 3 * L).fma(b, a3);
            a4 = FloatVector.fromArray(S, panel, r + 4 * L).fma(b, a4);
            a5 = FloatVector.fromArray(S, panel, r + 5 * L).fma(b, a5);
            a6 = FloatVector.fromArray(S, panel, r + 6 * L).fma(b, a6);
            a7 = FloatVector.fromArray(S, panel, r + 7 * L).fma(b, a7);
        }
        a0.intoArray(y, o + 0 * L);
        a1.intoArray(y, o + 1 * L);
        a2.intoArray(y, o + 2 * L);
        a3.intoArray(y, o + 3 * L);
        a4.intoArray(y, o + 4 * L);
        a5.intoArray(y, o + 5 * L);
        a6.intoArray(y, o + 6 * L);
        a7.intoArray(y, o + 7 * L);
    }

    /** Inputs per pass of {@link #linearPanel}: a pass's weight slice (inputs x 4 vectors) stays in L1. */
    static final int INPUTS_PER_PASS = 128;

    /**
     * One packed panel of a linear layer over rows {@code [t0, t1)}:
     * {@code y[t][o0 + o] = sum_i panel[i][o] * x[t][i]} for {@code o < width}, each output the fma
     * chain over {@code i} ascending from 0 (the contract of
     * {@link TransformerOps#linearRows(CpuContext, float[][], PackedLinear)}). Six (then four, then
     * one) rows x four (or two: {@link TwoVectorBlocks}) vectors of outputs accumulate in registers; the inputs go in passes of
     * {@value #INPUTS_PER_PASS}, whose weight slice is reused from L1 by every row of the tile.
     */
    static void linearPanel(float[] panel, int in, float[][] x, int t0, int t1, int width, float[][] y, int o0) {
        int rows = t1 - t0;
        if (rows < 4) {
            matVecPanel(panel, in, x, t0, t1, width, y, o0);
            return;
        }
        int vecWidth = width - width % W;
        float[][] acc = new float[rows][W];
        for (int c = 0; c < vecWidth; c += W) {
            for (int i0 = 0; i0 < in; i0 += INPUTS_PER_PASS) {
                int i1 = Math.min(in, i0 + INPUTS_PER_PASS);
                boolean first = i0 == 0;
                int t = 0;
                for (; t + 6 <= rows; t += 6) {
                    if (FOUR_VECTORS) {
                        rows6(panel, width, c, i0, i1, x, t0 + t, acc, t, first);
                    } else {
                        TwoVectorBlocks.rows6(panel, width, c, i0, i1, x, t0 + t, acc, t, first);
                    }
                }
                for (; t + 4 <= rows; t += 4) {
                    if (FOUR_VECTORS) {
                        rows4(panel, width, c, i0, i1, x[t0 + t], x[t0 + t + 1], x[t0 + t + 2], x[t0 + t + 3],
                                acc[t], acc[t + 1], acc[t + 2], acc[t + 3], first);
                    } else {
                        TwoVectorBlocks.rows4(panel, width, c, i0, i1, x[t0 + t], x[t0 + t + 1], x[t0 + t + 2], x[t0 + t + 3],
                                acc[t], acc[t + 1], acc[t + 2], acc[t + 3], first);
                    }
                }
                for (; t < rows; t++) {
                    if (FOUR_VECTORS) {
                        rows1(panel, width, c, i0, i1, x[t0 + t], acc[t], first);
                    } else {
                        TwoVectorBlocks.rows1(panel, width, c, i0, i1, x[t0 + t], acc[t], first);
                    }
                }
            }
            for (int t = 0; t < rows; t++) {
                System.arraycopy(acc[t], 0, y[t0 + t], o0 + c, W);
            }
        }
        for (int o = vecWidth; o < width; o++) {
            for (int t = t0; t < t1; t++) {
                float[] xr = x[t];
                float a = 0f;
                for (int i = 0; i < in; i++) {
                    a = Math.fma(panel[i * width + o], xr[i], a);
                }
                y[t][o0 + o] = a;
            }
        }
    }

    /**
     * Six rows x four vectors of outputs: 24 accumulators, so each loaded weight vector serves six
     * rows. {@link #rows4} and {@link #rows1} are the same loop written out for the remaining rows.
     */
    private static void rows6(float[] panel, int ld, int c, int i0, int i1, float[][] x, int t, float[][] acc, int at, boolean first) {
        float[] x0 = x[t], x1 = x[t + 1], x2 = x[t + 2], x3 = x[t + 3], x4 = x[t + 4], x5 = x[t + 5];
        float[] y0 = acc[at], y1 = acc[at + 1], y2 = acc[at + 2], y3 = acc[at + 3], y4 = acc[at + 4], y5 = acc[at + 5];
        FloatVector a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33, a40, a41, a42, a43, a50, a51, a52, a53;
        if (first) {
            a00 = FloatVector.broadcast(S, 0f);
            a01 = a00; a02 = a00; a03 = a00; a10 = a00; a11 = a00; a12 = a00; a13 = a00; a20 = a00; a21 = a00; a22 = a00; a23 = a00; a30 = a00; a31 = a00; a32 = a00; a33 = a00; a40 = a00; a41 = a00; a42 = a00; a43 = a00; a50 = a00; a51 = a00; a52 = a00; a53 = a00;
        } else {
            a00 = FloatVector.fromArray(S, y0, 0);
            a01 = FloatVector.fromArray(S, y0, L);
            a02 = FloatVector.fromArray(S, y0, 2 * L);
            a03 = FloatVector.fromArray(S, y0, 3 * L);
            a10 = FloatVector.fromArray(S, y1, 0);
            a11 = FloatVector.fromArray(S, y1, L);
            a12 = FloatVector.fromArray(S, y1, 2 * L);
            a13 = FloatVector.fromArray(S, y1, 3 * L);
            a20 = FloatVector.fromArray(S, y2, 0);
            a21 = FloatVector.fromArray(S, y2, L);
            a22 = FloatVector.fromArray(S, y2, 2 * L);
            a23 = FloatVector.fromArray(S, y2, 3 * L);
            a30 = FloatVector.fromArray(S, y3, 0);
            a31 = FloatVector.fromArray(S, y3, L);
            a32 = FloatVector.fromArray(S, y3, 2 * L);
            a33 = FloatVector.fromArray(S, y3, 3 * L);
            a40 = FloatVector.fromArray(S, y4, 0);
            a41 = FloatVector.fromArray(S, y4, L);
            a42 = FloatVector.fromArray(S, y4, 2 * L);
            a43 = FloatVector.fromArray(S, y4, 3 * L);
            a50 = FloatVector.fromArray(S, y5, 0);
            a51 = FloatVector.fromArray(S, y5, L);
            a52 = FloatVector.fromArray(S, y5, 2 * L);
            a53 = FloatVector.fromArray(S, y5, 3 * L);
        }
        for (int i = i0; i < i1; i++) {
            int r = i * ld + c;
            FloatVector w0 = FloatVector.fromArray(S, panel, r);
            FloatVector w1 = FloatVector.fromArray(S, panel, r + L);
            FloatVector w2 = FloatVector.fromArray(S, panel, r + 2 * L);
            FloatVector w3 = FloatVector.fromArray(S, panel, r + 3 * L);
            FloatVector b0 = FloatVector.broadcast(S, x0[i]);
            a00 = w0.fma(b0, a00);
            a01 = w1.fma(b0, a01);
            a02 = w2.fma(b0, a02);
            a03 = w3.fma(b0, a03);
            FloatVector b1 = FloatVector.broadcast(S, x1[i]);
            a10 = w0.fma(b1, a10);
            a11 = w1.fma(b1, a11);
            a12 = w2.fma(b1, a12);
            a13 = w3.fma(b1, a13);
            FloatVector b2 = FloatVector.broadcast(S, x2[i]);
            a20 = w0.fma(b2, a20);
            a21 = w1.fma(b2, a21);
            a22 = w2.fma(b2, a22);
            a23 = w3.fma(b2, a23);
            FloatVector b3 = FloatVector.broadcast(S, x3[i]);
            a30 = w0.fma(b3, a30);
            a31 = w1.fma(b3, a31);
            a32 = w2.fma(b3, a32);
            a33 = w3.fma(b3, a33);
            FloatVector b4 = FloatVector.broadcast(S, x4[i]);
            a40 = w0.fma(b4, a40);
            a41 = w1.fma(b4, a41);
            a42 = w2.fma(b4, a42);
            a43 = w3.fma(b4, a43);
            FloatVector b5 = FloatVector.broadcast(S, x5[i]);
            a50 = w0.fma(b5, a50);
            a51 = w1.fma(b5, a51);
            a52 = w2.fma(b5, a52);
            a53 = w3.fma(b5, a53);
        }
        a00.intoArray(y0, 0);
        a01.intoArray(y0, L);
        a02.intoArray(y0, 2 * L);
        a03.intoArray(y0, 3 * L);
        a10.intoArray(y1, 0);
        a11.intoArray(y1, L);
        a12.intoArray(y1, 2 * L);
        a13.intoArray(y1, 3 * L);
        a20.intoArray(y2, 0);
        a21.intoArray(y2, L);
        a22.intoArray(y2, 2 * L);
        a23.intoArray(y2, 3 * L);
        a30.intoArray(y3, 0);
        a31.intoArray(y3, L);
        a32.intoArray(y3, 2 * L);
        a33.intoArray(y3, 3 * L);
        a40.intoArray(y4, 0);
        a41.intoArray(y4, L);
        a42.intoArray(y4, 2 * L);
        a43.intoArray(y4, 3 * L);
        a50.intoArray(y5, 0);
        a51.intoArray(y5, L);
        a52.intoArray(y5, 2 * L);
        a53.intoArray(y5, 3 * L);
    }

    private static void rows4(float[] panel, int ld, int c, int i0, int i1, float[] x0, float[] x1, float[] x2, float[] x3,
                              float[] y0, float[] y1, float[] y2, float[] y3, boolean first) {
        FloatVector a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33;
        if (first) {
            a00 = FloatVector.broadcast(S, 0f);
            a01 = a00; a02 = a00; a03 = a00;
            a10 = a00; a11 = a00; a12 = a00; a13 = a00;
            a20 = a00; a21 = a00; a22 = a00; a23 = a00;
            a30 = a00; a31 = a00; a32 = a00; a33 = a00;
        } else {
            a00 = FloatVector.fromArray(S, y0, 0);
            a01 = FloatVector.fromArray(S, y0, L);
            a02 = FloatVector.fromArray(S, y0, 2 * L);
            a03 = FloatVector.fromArray(S, y0, 3 * L);
            a10 = FloatVector.fromArray(S, y1, 0);
            a11 = FloatVector.fromArray(S, y1, L);
            a12 = FloatVector.fromArray(S, y1, 2 * L);
            a13 = FloatVector.fromArray(S, y1, 3 * L);
            a20 = FloatVector.fromArray(S, y2, 0);
            a21 = FloatVector.fromArray(S, y2, L);
            a22 = FloatVector.fromArray(S, y2, 2 * L);
            a23 = FloatVector.fromArray(S, y2, 3 * L);
            a30 = FloatVector.fromArray(S, y3, 0);
            a31 = FloatVector.fromArray(S, y3, L);
            a32 = FloatVector.fromArray(S, y3, 2 * L);
            a33 = FloatVector.fromArray(S, y3, 3 * L);
        }
        for (int i = i0; i < i1; i++) {
            int r = i * ld + c;
            FloatVector w0 = FloatVector.fromArray(S, panel, r);
            FloatVector w1 = FloatVector.fromArray(S, panel, r + L);
            FloatVector w2 = FloatVector.fromArray(S, panel, r + 2 * L);
            FloatVector w3 = FloatVector.fromArray(S, panel, r + 3 * L);
            FloatVector b = FloatVector.broadcast(S, x0[i]);
            a00 = w0.fma(b, a00);
            a01 = w1.fma(b, a01);
            a02 = w2.fma(b, a02);
            a03 = w3.fma(b, a03);
            b = FloatVector.broadcast(S, x1[i]);
            a10 = w0.fma(b, a10);
            a11 = w1.fma(b, a11);
            a12 = w2.fma(b, a12);
            a13 = w3.fma(b, a13);
            b = FloatVector.broadcast(S, x2[i]);
            a20 = w0.fma(b, a20);
            a21 = w1.fma(b, a21);
            a22 = w2.fma(b, a22);
            a23 = w3.fma(b, a23);
            b = FloatVector.broadcast(S, x3[i]);
            a30 = w0.fma(b, a30);
            a31 = w1.fma(b, a31);
            a32 = w2.fma(b, a32);
            a33 = w3.fma(b, a33);
        }
        a00.intoArray(y0, 0);
        a01.intoArray(y0, L);
        a02.intoArray(y0, 2 * L);
        a03.intoArray(y0, 3 * L);
        a10.intoArray(y1, 0);
        a11.intoArray(y1, L);
        a12.intoArray(y1, 2 * L);
        a13.intoArray(y1, 3 * L);
        a20.intoArray(y2, 0);
        a21.intoArray(y2, L);
        a22.intoArray(y2, 2 * L);
        a23.intoArray(y2, 3 * L);
        a30.intoArray(y3, 0);
        a31.intoArray(y3, L);
        a32.intoArray(y3, 2 * L);
        a33.intoArray(y3, 3 * L);
    }

    private static void rows1(float[] panel, int ld, int c, int i0, int i1, float[] x0, float[] y0, boolean first) {
        FloatVector a0, a1, a2, a3;
        if (first) {
            a0 = FloatVector.broadcast(S, 0f);
            a1 = a0;
            a2 = a0;
            a3 = a0;
        } else {
            a0 = FloatVector.fromArray(S, y0, 0);
            a1 = FloatVector.fromArray(S, y0, L);
            a2 = FloatVector.fromArray(S, y0, 2 * L);
            a3 = FloatVector.fromArray(S, y0, 3 * L);
        }
        for (int i = i0; i < i1; i++) {
            int r = i * ld + c;
            FloatVector b = FloatVector.broadcast(S, x0[i]);
            a0 = FloatVector.fromArray(S, panel, r).fma(b, a0);
            a1 = FloatVector.fromArray(S, panel, r + L).fma(b, a1);
            a2 = FloatVector.fromArray(S, panel, r + 2 * L).fma(b, a2);
            a3 = FloatVector.fromArray(S, panel, r + 3 * L).fma(b, a3);
        }
        a0.intoArray(y0, 0);
        a1.intoArray(y0, L);
        a2.intoArray(y0, 2 * L);
        a3.intoArray(y0, 3 * L);
    }
}
