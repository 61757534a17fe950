package io.vocodex.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register blocks of {@link VectorConv} (convolutions, linear panels) and {@link VectorSearch}
 * (codebook dot products) two vectors wide instead of four, for vector units with 16 registers.
 *
 * <p>Why: the four-vector blocks hold 24 (conv, linear) or 16 (search) accumulators plus four
 * loaded vectors, which fits AVX-512's 32 registers. With 256-bit vectors the JVM only has AVX2's
 * 16 (or the machine may lack AVX-512 altogether), so C2 kept most accumulators on the stack: a
 * load and a store around every fma. Six rows x two vectors is 12 accumulators + 2 loaded vectors
 * + 1 broadcast = 15 registers, the classic shape of AVX2 matrix kernels. {@link #FOUR_VECTORS}
 * says which shape is in use: the blocks here run when the preferred species has fewer than 16
 * float lanes (what each shape gains on an AVX2 machine: docs/perf-history.md).
 *
 * <p>Each method is its four-vector twin in {@link VectorConv} or {@link VectorSearch} with the
 * lanes {@code 2L .. 4L-1} left out: the same fma chain per output element over the terms in
 * ascending order, so the results are bit-identical to the plain-Java loops whichever shape runs.
 * Java cannot keep an array of vectors in registers, hence one written-out method per shape.
 */
final class TwoVectorBlocks {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Positions (conv) or outputs (linear, search) per block: two vectors. */
    static final int W = 2 * L;

    /**
     * Whether {@link VectorConv} and {@link VectorSearch} run their four-vector blocks (true) or the
     * ones here: four where the vectors have 16 float lanes or more (AVX-512 has 32 registers),
     * unless {@code -Dvocodex.simd.blockVectors=2} or {@code =4} picks one (the build's tests run
     * both shapes on every machine; the results are the same bits either way).
     */
    static final boolean FOUR_VECTORS = chooseFourVectors(System.getProperty("vocodex.simd.blockVectors", ""), L);

    private TwoVectorBlocks() {
    }

    static boolean chooseFourVectors(String setting, int lanes) {
        switch (setting) {
            case "":
                return lanes >= 16;
            case "2":
                return false;
            case "4":
                return true;
            default:
                throw new IllegalArgumentException("vocodex.simd.blockVectors must be 2 or 4 (or unset), not \"" + setting + "\"");
        }
    }

    /** Six output channels x two vectors of positions: {@code VectorConv.block6}'s loop. */
    static void conv6(float[][] rows, int[] offs, int bo, float[] w, int wi, int ws, int j0, int j1,
                      float[] acc, int ab, boolean first) {
        FloatVector a00, a01, a10, a11, a20, a21, a30, a31, a40, a41, a50, a51;
        if (first) {
            a00 = FloatVector.zero(S);
            a01 = a00; a10 = a00; a11 = a00; a20 = a00; a21 = a00; a30 = a00; a31 = a00; a40 = a00; a41 = a00; a50 = a00; a51 = a00;
        } else {
            a00 = FloatVector.fromArray(S, acc, ab);
            a01 = FloatVector.fromArray(S, acc, ab + L);
            a10 = FloatVector.fromArray(S, acc, ab + W);
            a11 = FloatVector.fromArray(S, acc, ab + W + L);
            a20 = FloatVector.fromArray(S, acc, ab + 2 * W);
            a21 = FloatVector.fromArray(S, acc, ab + 2 * W + L);
            a30 = FloatVector.fromArray(S, acc, ab + 3 * W);
            a31 = FloatVector.fromArray(S, acc, ab + 3 * W + L);
            a40 = FloatVector.fromArray(S, acc, ab + 4 * W);
            a41 = FloatVector.fromArray(S, acc, ab + 4 * W + L);
            a50 = FloatVector.fromArray(S, acc, ab + 5 * W);
            a51 = FloatVector.fromArray(S, acc, ab + 5 * W + L);
        }
        for (int j = j0; j < j1; j++, wi++) {
            float[] row = rows[j];
            int o = bo + offs[j];
            FloatVector x0 = FloatVector.fromArray(S, row, o);
            FloatVector x1 = FloatVector.fromArray(S, row, o + L);
            FloatVector w0 = FloatVector.broadcast(S, w[wi]);
            a00 = x0.fma(w0, a00);
            a01 = x1.fma(w0, a01);
            FloatVector w1 = FloatVector.broadcast(S, w[wi + ws]);
            a10 = x0.fma(w1, a10);
            a11 = x1.fma(w1, a11);
            FloatVector w2 = FloatVector.broadcast(S, w[wi + 2 * ws]);
            a20 = x0.fma(w2, a20);
            a21 = x1.fma(w2, a21);
            FloatVector w3 = FloatVector.broadcast(S, w[wi + 3 * ws]);
            a30 = x0.fma(w3, a30);
            a31 = x1.fma(w3, a31);
            FloatVector w4 = FloatVector.broadcast(S, w[wi + 4 * ws]);
            a40 = x0.fma(w4, a40);
            a41 = x1.fma(w4, a41);
            FloatVector w5 = FloatVector.broadcast(S, w[wi + 5 * ws]);
            a50 = x0.fma(w5, a50);
            a51 = x1.fma(w5, a51);
        }
        a00.intoArray(acc, ab);
        a01.intoArray(acc, ab + L);
        a10.intoArray(acc, ab + W);
        a11.intoArray(acc, ab + W + L);
        a20.intoArray(acc, ab + 2 * W);
        a21.intoArray(acc, ab + 2 * W + L);
        a30.intoArray(acc, ab + 3 * W);
        a31.intoArray(acc, ab + 3 * W + L);
        a40.intoArray(acc, ab + 4 * W);
        a41.intoArray(acc, ab + 4 * W + L);
        a50.intoArray(acc, ab + 5 * W);
        a51.intoArray(acc, ab + 5 * W + L);
    }

    /** Four output channels x two vectors of positions. */
    static void conv4(float[][] rows, int[] offs, int bo, float[] w, int wi, int ws, int j0, int j1,
                      float[] acc, int ab, boolean first) {
        FloatVector a00, a01, a10, a11, a20, a21, a30, a31;
        if (first) {
            a00 = FloatVector.zero(S);
            a01 = a00; a10 = a00; a11 = a00; a20 = a00; a21 = a00; a30 = a00; a31 = a00;
        } else {
            a00 = FloatVector.fromArray(S, acc, ab);
            a01 = FloatVector.fromArray(S, acc, ab + L);
            a10 = FloatVector.fromArray(S, acc, ab + W);
            a11 = FloatVector.fromArray(S, acc, ab + W + L);
            a20 = FloatVector.fromArray(S, acc, ab + 2 * W);
            a21 = FloatVector.fromArray(S, acc, ab + 2 * W + L);
            a30 = FloatVector.fromArray(S, acc, ab + 3 * W);
            a31 = FloatVector.fromArray(S, acc, ab + 3 * W + L);
        }
        for (int j = j0; j < j1; j++, wi++) {
            float[] row = rows[j];
            int o = bo + offs[j];
            FloatVector x0 = FloatVector.fromArray(S, row, o);
            FloatVector x1 = FloatVector.fromArray(S, row, o + L);
            FloatVector w0 = FloatVector.broadcast(S, w[wi]);
            a00 = x0.fma(w0, a00);
            a01 = x1.fma(w0, a01);
            FloatVector w1 = FloatVector.broadcast(S, w[wi + ws]);
            a10 = x0.fma(w1, a10);
            a11 = x1.fma(w1, a11);
            FloatVector w2 = FloatVector.broadcast(S, w[wi + 2 * ws]);
            a20 = x0.fma(w2, a20);
            a21 = x1.fma(w2, a21);
            FloatVector w3 = FloatVector.broadcast(S, w[wi + 3 * ws]);
            a30 = x0.fma(w3, a30);
            a31 = x1.fma(w3, a31);
        }
        a00.intoArray(acc, ab);
        a01.intoArray(acc, ab + L);
        a10.intoArray(acc, ab + W);
        a11.intoArray(acc, ab + W + L);
        a20.intoArray(acc, ab + 2 * W);
        a21.intoArray(acc, ab + 2 * W + L);
        a30.intoArray(acc, ab + 3 * W);
        a31.intoArray(acc, ab + 3 * W + L);
    }

    /** One output channel x two vectors of positions. */
    static void conv1(float[][] rows, int[] offs, int bo, float[] w, int wi, int j0, int j1,
                      float[] acc, int ab, boolean first) {
        FloatVector a00, a01;
        if (first) {
            a00 = FloatVector.zero(S);
            a01 = a00;
        } else {
            a00 = FloatVector.fromArray(S, acc, ab);
            a01 = FloatVector.fromArray(S, acc, ab + L);
        }
        for (int j = j0; j < j1; j++, wi++) {
            float[] row = rows[j];
            int o = bo + offs[j];
            FloatVector x0 = FloatVector.fromArray(S, row, o);
            FloatVector x1 = FloatVector.fromArray(S, row, o + L);
            FloatVector w0 = FloatVector.broadcast(S, w[wi]);
            a00 = x0.fma(w0, a00);
            a01 = x1.fma(w0, a01);
        }
        a00.intoArray(acc, ab);
        a01.intoArray(acc, ab + L);
    }

    /** Six rows x two vectors of a linear panel's outputs: {@code VectorConv.rows6}'s loop. */
    static void rows6(float[] panel, int ld, int c, int i0, int i1, float[][] x, int t, float[][] acc, int at, boolean first) {
        float[] x0 = x[t], x1 = x[t + 1], x2 = x[t + 2], x3 = x[t + 3], x4 = x[t + 4], x5 = x[t + 5];
        float[] y0 = acc[at], y1 = acc[at + 1], y2 = acc[at + 2], y3 = acc[at + 3], y4 = acc[at + 4], y5 = acc[at + 5];
        FloatVector a00, a01, a10, a11, a20, a21, a30, a31, a40, a41, a50, a51;
        if (first) {
            a00 = FloatVector.zero(S);
            a01 = a00; a10 = a00; a11 = a00; a20 = a00; a21 = a00; a30 = a00; a31 = a00; a40 = a00; a41 = a00; a50 = a00; a51 = a00;
        } else {
            a00 = FloatVector.fromArray(S, y0, 0);
            a01 = FloatVector.fromArray(S, y0, L);
            a10 = FloatVector.fromArray(S, y1, 0);
            a11 = FloatVector.fromArray(S, y1, L);
            a20 = FloatVector.fromArray(S, y2, 0);
            a21 = FloatVector.fromArray(S, y2, L);
            a30 = FloatVector.fromArray(S, y3, 0);
            a31 = FloatVector.fromArray(S, y3, L);
            a40 = FloatVector.fromArray(S, y4, 0);
            a41 = FloatVector.fromArray(S, y4, L);
            a50 = FloatVector.fromArray(S, y5, 0);
            a51 = FloatVector.fromArray(S, y5, L);
        }
        for (int i = i0; i < i1; i++) {
            int r = i * ld + c;
            FloatVector w0 = FloatVector.fromArray(S, panel, r);
            FloatVector w1 = FloatVector.fromArray(S, panel, r + L);
            FloatVector b0 = FloatVector.broadcast(S, x0[i]);
            a00 = w0.fma(b0, a00);
            a01 = w1.fma(b0, a01);
            FloatVector b1 = FloatVector.broadcast(S, x1[i]);
            a10 = w0.fma(b1, a10);
            a11 = w1.fma(b1, a11);
            FloatVector b2 = FloatVector.broadcast(S, x2[i]);
            a20 = w0.fma(b2, a20);
            a21 = w1.fma(b2, a21);
            FloatVector b3 = FloatVector.broadcast(S, x3[i]);
            a30 = w0.fma(b3, a30);
            a31 = w1.fma(b3, a31);
            FloatVector b4 = FloatVector.broadcast(S, x4[i]);
            a40 = w0.fma(b4, a40);
            a41 = w1.fma(b4, a41);
            FloatVector b5 = FloatVector.broadcast(S, x5[i]);
            a50 = w0.fma(b5, a50);
            a51 = w1.fma(b5, a51);
        }
        a00.intoArray(y0, 0);
        a01.intoArray(y0, L);
        a10.intoArray(y1, 0);
        a11.intoArray(y1, L);
        a20.intoArray(y2, 0);
        a21.intoArray(y2, L);
        a30.intoArray(y3, 0);
        a31.intoArray(y3, L);
        a40.intoArray(y4, 0);
        a41.intoArray(y4, L);
        a50.intoArray(y5, 0);
        a51.intoArray(y5, L);
    }

    /** Four rows x two vectors of outputs. */
    static void rows4(float[] panel, int ld, int c, int i0, int i1, float[] x0, float[] x1, float[] x2, float[] x3,
                      float[] y0, float[] y1, float[] y2, float[] y3, boolean first) {
        FloatVector a00, a01, a10, a11, a20, a21, a30, a31;
        if (first) {
            a00 = FloatVector.zero(S);
            a01 = a00; a10 = a00; a11 = a00; a20 = a00; a21 = a00; a30 = a00; a31 = a00;
        } else {
            a00 = FloatVector.fromArray(S, y0, 0);
            a01 = FloatVector.fromArray(S, y0, L);
            a10 = FloatVector.fromArray(S, y1, 0);
            a11 = FloatVector.fromArray(S, y1, L);
            a20 = FloatVector.fromArray(S, y2, 0);
            a21 = FloatVector.fromArray(S, y2, L);
            a30 = FloatVector.fromArray(S, y3, 0);
            a31 = FloatVector.fromArray(S, y3, L);
        }
        for (int i = i0; i < i1; i++) {
            int r = i * ld + c;
            FloatVector w0 = FloatVector.fromArray(S, panel, r);
            FloatVector w1 = FloatVector.fromArray(S, panel, r + L);
            FloatVector b0 = FloatVector.broadcast(S, x0[i]);
            a00 = w0.fma(b0, a00);
            a01 = w1.fma(b0, a01);
            FloatVector b1 = FloatVector.broadcast(S, x1[i]);
            a10 = w0.fma(b1, a10);
            a11 = w1.fma(b1, a11);
            FloatVector b2 = FloatVector.broadcast(S, x2[i]);
            a20 = w0.fma(b2, a20);
            a21 = w1.fma(b2, a21);
            FloatVector b3 = FloatVector.broadcast(S, x3[i]);
            a30 = w0.fma(b3, a30);
            a31 = w1.fma(b3, a31);
        }
        a00.intoArray(y0, 0);
        a01.intoArray(y0, L);
        a10.intoArray(y1, 0);
        a11.intoArray(y1, L);
        a20.intoArray(y2, 0);
        a21.intoArray(y2, L);
        a30.intoArray(y3, 0);
        a31.intoArray(y3, L);
    }

    /** One row x two vectors of outputs. */
    static void rows1(float[] panel, int ld, int c, int i0, int i1, float[] x0, float[] y0, boolean first) {
        FloatVector a00, a01;
        if (first) {
            a00 = FloatVector.zero(S);
            a01 = a00;
        } else {
            a00 = FloatVector.fromArray(S, y0, 0);
            a01 = FloatVector.fromArray(S, y0, L);
        }
        for (int i = i0; i < i1; i++) {
            int r = i * ld + c;
            FloatVector w0 = FloatVector.fromArray(S, panel, r);
            FloatVector w1 = FloatVector.fromArray(S, panel, r + L);
            FloatVector b0 = FloatVector.broadcast(S, x0[i]);
            a00 = w0.fma(b0, a00);
            a01 = w1.fma(b0, a01);
        }
        a00.intoArray(y0, 0);
        a01.intoArray(y0, L);
    }

    /**
     * Six frames x two vectors of codes: {@code VectorSearch.block4}'s loop; frame {@code r} of the
     * call is {@code in[s + r]} and its sums go to {@code sums[s + r][sumOff ..]}; the block starts at
     * {@code block[blockOff]}, {@code codes} floats per dimension.
     */
    static void search6(float[] block, int codes, int blockOff, int d0, int d1, float[][] in, float[][] sums, int sumOff, int s, boolean first) {
        float[] x0 = in[s], y0 = sums[s];
        float[] x1 = in[s + 1], y1 = sums[s + 1];
        float[] x2 = in[s + 2], y2 = sums[s + 2];
        float[] x3 = in[s + 3], y3 = sums[s + 3];
        float[] x4 = in[s + 4], y4 = sums[s + 4];
        float[] x5 = in[s + 5], y5 = sums[s + 5];
        FloatVector a00, a01, a10, a11, a20, a21, a30, a31, a40, a41, a50, a51;
        if (first) {
            a00 = FloatVector.zero(S);
            a01 = a00; a10 = a00; a11 = a00; a20 = a00; a21 = a00; a30 = a00; a31 = a00; a40 = a00; a41 = a00; a50 = a00; a51 = a00;
        } else {
            a00 = FloatVector.fromArray(S, y0, sumOff);
            a01 = FloatVector.fromArray(S, y0, sumOff + L);
            a10 = FloatVector.fromArray(S, y1, sumOff);
            a11 = FloatVector.fromArray(S, y1, sumOff + L);
            a20 = FloatVector.fromArray(S, y2, sumOff);
            a21 = FloatVector.fromArray(S, y2, sumOff + L);
            a30 = FloatVector.fromArray(S, y3, sumOff);
            a31 = FloatVector.fromArray(S, y3, sumOff + L);
            a40 = FloatVector.fromArray(S, y4, sumOff);
            a41 = FloatVector.fromArray(S, y4, sumOff + L);
            a50 = FloatVector.fromArray(S, y5, sumOff);
            a51 = FloatVector.fromArray(S, y5, sumOff + L);
        }
        for (int d = d0, o = blockOff; d < d1; d++, o += codes) {
            FloatVector w0 = FloatVector.fromArray(S, block, o);
            FloatVector w1 = FloatVector.fromArray(S, block, o + L);
            FloatVector b0 = FloatVector.broadcast(S, x0[d]);
            a00 = w0.fma(b0, a00);
            a01 = w1.fma(b0, a01);
            FloatVector b1 = FloatVector.broadcast(S, x1[d]);
            a10 = w0.fma(b1, a10);
            a11 = w1.fma(b1, a11);
            FloatVector b2 = FloatVector.broadcast(S, x2[d]);
            a20 = w0.fma(b2, a20);
            a21 = w1.fma(b2, a21);
            FloatVector b3 = FloatVector.broadcast(S, x3[d]);
            a30 = w0.fma(b3, a30);
            a31 = w1.fma(b3, a31);
            FloatVector b4 = FloatVector.broadcast(S, x4[d]);
            a40 = w0.fma(b4, a40);
            a41 = w1.fma(b4, a41);
            FloatVector b5 = FloatVector.broadcast(S, x5[d]);
            a50 = w0.fma(b5, a50);
            a51 = w1.fma(b5, a51);
        }
        a00.intoArray(y0, sumOff);
        a01.intoArray(y0, sumOff + L);
        a10.intoArray(y1, sumOff);
        a11.intoArray(y1, sumOff + L);
        a20.intoArray(y2, sumOff);
        a21.intoArray(y2, sumOff + L);
        a30.intoArray(y3, sumOff);
        a31.intoArray(y3, sumOff + L);
        a40.intoArray(y4, sumOff);
        a41.intoArray(y4, sumOff + L);
        a50.intoArray(y5, sumOff);
        a51.intoArray(y5, sumOff + L);
    }
}
