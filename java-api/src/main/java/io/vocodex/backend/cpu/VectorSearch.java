package io.vocodex.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link CodebookSearch}'s dot products on the Vector API (when {@link Simd#enabled()}): the
 * codebook is packed at load in groups of {@link #GROUP_CODES} codes (one block of eight vectors, or
 * four blocks of two on units narrower than 512 bits), each block dimension-major in one flat array,
 * so a slice of {@link #DIMS} dimensions of a block is one contiguous run (256 KiB with 16 lanes, 8 KiB
 * with 8) that streams from memory in order and then stays in L2; three frames at a time pass over it
 * with their 3 x 8 vector accumulators in registers (six frames x 2 vectors in
 * {@link TwoVectorBlocks#search6}). Every accumulator lane is one (frame, code) dot product advanced by
 * {@code fma(x_d, e_nd, acc)} with {@code d} ascending, exactly {@link CodebookSearch}'s plain
 * kernel's chain, so the distances and codes are identical.
 *
 * <p>The kernel reads a flat block rather than reusing {@code VectorConv.rows4} on an array of rows:
 * with the block as rows the search of 94 frames took 0.300 s instead of 0.262 s on one thread
 * ({@code CodebookSearchBench}, same session).
 *
 * <p>Only {@link CodebookSearch} touches this class: it links against {@code jdk.incubator.vector},
 * which is resolved only when the JVM runs with {@code --add-modules jdk.incubator.vector}.
 */
final class VectorSearch {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Three frames x eight vectors with 512-bit vectors; six frames x two vectors ({@link TwoVectorBlocks#search6}) on narrower units. */
    private static final boolean WIDE = TwoVectorBlocks.FOUR_VECTORS;
    /** Codes per block: the kernel's eight (or two) vectors. */
    static final int CODES = WIDE ? 8 * L : TwoVectorBlocks.W;
    /** Frames per kernel call: {@link #frames} reads {@code in[s .. s + FRAMES - 1]}. */
    static final int FRAMES = WIDE ? 3 : 6;
    /**
     * Blocks per group: one with eight-vector blocks (128 codes); four with two-vector ones (64
     * codes), so that each frame's inputs, once in L1, serve at least 64 codes (with 16-code groups,
     * every input row was read four times as often).
     */
    static final int BLOCKS_PER_GROUP = WIDE ? 1 : 4;
    /** Codes per group of the packed codebook. */
    static final int GROUP_CODES = BLOCKS_PER_GROUP * CODES;
    /**
     * Dimensions per slice, between which the sums go to memory and back. With 16 lanes a slice of a
     * block is 256 KiB, kept in L2 while the frames pass (937 frames on one Zen 4 core: 2.08-2.11 s
     * with 512 dimensions, 2.10-2.20 s with 256; with the earlier 64-code blocks 512 had also beaten
     * 256, 128 and 64, {@code CodebookSearchBench}). With 8 lanes (AVX2: 16 registers, more passes)
     * 64 (8 KiB).
     */
    static final int DIMS = WIDE ? 512 : 64;

    private VectorSearch() {
    }

    /**
     * {@code sums[s + r][b * CODES + c] = fma(in[s + r][d], group[blockOff + (d - d0) * CODES + c], ...)}
     * for {@code d} ascending in {@code [d0, d1)}, {@code c < CODES} and {@link #FRAMES} frames
     * {@code r}: block {@code b} of the group ({@code b = 0} with eight-vector blocks), whose dimension
     * {@code d0} starts at {@code blockOff}; {@code first}: the sums start from 0.
     */
    static void frames(float[] group, int blockOff, int b, int d0, int d1, float[][] in, float[][] sums, int s, boolean first) {
        if (WIDE) {
            block3x8(group, blockOff, d0, d1, in[s], in[s + 1], in[s + 2], sums[s], sums[s + 1], sums[s + 2], first);
        } else {
            TwoVectorBlocks.search6(group, CODES, blockOff, d0, d1, in, sums, b * CODES, s, first);
        }
    }

    /**
     * {@code aK[c] = fma(xK[d], block[blockOff + (d - d0) * CODES + c], aK[c])} for {@code d} ascending in
     * {@code [d0, d1)} and {@code c < CODES} (eight vectors), three frames; {@code first}: the sums
     * start from 0. 24 accumulators, eight codebook vectors per dimension and one broadcast fill the
     * 32 registers; with four frames x four vectors (16 accumulators, four codebook loads and four
     * broadcasts per 16 fmas) the same search ran 5-7 % slower.
     */
    private static void block3x8(float[] block, int blockOff, int d0, int d1, float[] x0, float[] x1, float[] x2,
            float[] y0, float[] y1, float[] y2, boolean first) {
        FloatVector a00, a01, a02, a03, a04, a05, a06, a07, a10, a11, a12, a13, a14, a15, a16, a17, a20, a21, a22, a23, a24, a25, a26, a27;
        if (first) {
            a00 = FloatVector.broadcast(S, 0f);
            a01 = a00; a02 = a00; a03 = a00; a04 = a00; a05 = a00; a06 = a00; a07 = a00; a10 = a00;
            a11 = a00; a12 = a00; a13 = a00; a14 = a00; a15 = a00; a16 = a00; a17 = a00; a20 = a00;
            a21 = a00; a22 = a00; a23 = a00; a24 = a00; a25 = a00; a26 = a00; a27 = a00;
        } else {
            a00 = FloatVector.fromArray(S, y0, 0);
            a01 = FloatVector.fromArray(S, y0, L);
            a02 = FloatVector.fromArray(S, y0, 2 * L);
            a03 = FloatVector.fromArray(S, y0, 3 * L);
            a04 = FloatVector.fromArray(S, y0, 4 * L);
            a05 = FloatVector.fromArray(S, y0, 5 * L);
            a06 = FloatVector.fromArray(S, y0, 6 * L);
            a07 = FloatVector.fromArray(S, y0, 7 * L);
            a10 = FloatVector.fromArray(S, y1, 0);
            a11 = FloatVector.fromArray(S, y1, L);
            a12 = FloatVector.fromArray(S, y1, 2 * L);
            a13 = FloatVector.fromArray(S, y1, 3 * L);
            a14 = FloatVector.fromArray(S, y1, 4 * L);
            a15 = FloatVector.fromArray(S, y1, 5 * L);
            a16 = FloatVector.fromArray(S, y1, 6 * L);
            a17 = FloatVector.fromArray(S, y1, 7 * L);
            a20 = FloatVector.fromArray(S, y2, 0);
            a21 = FloatVector.fromArray(S, y2, L);
            a22 = FloatVector.fromArray(S, y2, 2 * L);
            a23 = FloatVector.fromArray(S, y2, 3 * L);
            a24 = FloatVector.fromArray(S, y2, 4 * L);
            a25 = FloatVector.fromArray(S, y2, 5 * L);
            a26 = FloatVector.fromArray(S, y2, 6 * L);
            a27 = FloatVector.fromArray(S, y2, 7 * L);
        }
        for (int d = d0, o = blockOff; d < d1; d++, o += CODES) {
            FloatVector w0 = FloatVector.fromArray(S, block, o);
            FloatVector w1 = FloatVector.fromArray(S, block, o + L);
            FloatVector w2 = FloatVector.fromArray(S, block, o + 2 * L);
            FloatVector w3 = FloatVector.fromArray(S, block, o + 3 * L);
            FloatVector w4 = FloatVector.fromArray(S, block, o + 4 * L);
            FloatVector w5 = FloatVector.fromArray(S, block, o + 5 * L);
            FloatVector w6 = FloatVector.fromArray(S, block, o + 6 * L);
            FloatVector w7 = FloatVector.fromArray(S, block, o + 7 * L);
            FloatVector b0 = FloatVector.broadcast(S, x0[d]);
            a00 = w0.fma(b0, a00);
            a01 = w1.fma(b0, a01);
            a02 = w2.fma(b0, a02);
            a03 = w3.fma(b0, a03);
            a04 = w4.fma(b0, a04);
            a05 = w5.fma(b0, a05);
            a06 = w6.fma(b0, a06);
            a07 = w7.fma(b0, a07);
            FloatVector b1 = FloatVector.broadcast(S, x1[d]);
            a10 = w0.fma(b1, a10);
            a11 = w1.fma(b1, a11);
            a12 = w2.fma(b1, a12);
            a13 = w3.fma(b1, a13);
            a14 = w4.fma(b1, a14);
            a15 = w5.fma(b1, a15);
            a16 = w6.fma(b1, a16);
            a17 = w7.fma(b1, a17);
            FloatVector b2 = FloatVector.broadcast(S, x2[d]);
            a20 = w0.fma(b2, a20);
            a21 = w1.fma(b2, a21);
            a22 = w2.fma(b2, a22);
            a23 = w3.fma(b2, a23);
            a24 = w4.fma(b2, a24);
            a25 = w5.fma(b2, a25);
            a26 = w6.fma(b2, a26);
            a27 = w7.fma(b2, a27);
        }
        a00.intoArray(y0, 0);
        a01.intoArray(y0, L);
        a02.intoArray(y0, 2 * L);
        a03.intoArray(y0, 3 * L);
        a04.intoArray(y0, 4 * L);
        a05.intoArray(y0, 5 * L);
        a06.intoArray(y0, 6 * L);
        a07.intoArray(y0, 7 * L);
        a10.intoArray(y1, 0);
        a11.intoArray(y1, L);
        a12.intoArray(y1, 2 * L);
        a13.intoArray(y1, 3 * L);
        a14.intoArray(y1, 4 * L);
        a15.intoArray(y1, 5 * L);
        a16.intoArray(y1, 6 * L);
        a17.intoArray(y1, 7 * L);
        a20.intoArray(y2, 0);
        a21.intoArray(y2, L);
        a22.intoArray(y2, 2 * L);
        a23.intoArray(y2, 3 * L);
        a24.intoArray(y2, 4 * L);
        a25.intoArray(y2, 5 * L);
        a26.intoArray(y2, 6 * L);
        a27.intoArray(y2, 7 * L);
    }
}
