package io.vocodex.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link CodebookSearch}'s dot products on the Vector API (when {@link Simd#enabled()}): the
 * codebook is packed at load in groups of {@link #GROUP_CODES} codes (one block of four vectors, or
 * four blocks of two on units narrower than 512 bits), each block dimension-major in one flat array,
 * so a slice of {@link #DIMS} dimensions of a block is one contiguous run (128 KiB with 16 lanes, 8 KiB
 * with 8) that streams from memory in order and then stays in L2; four frames at a time pass over it
 * with their 4 x 4 vector accumulators in registers (six frames x 2 vectors in {@link TwoVectorBlocks#search6}). Every accumulator lane is one (frame, code) dot product advanced by
 * {@code fma(x_d, e_nd, acc)} with {@code d} ascending, exactly {@link CodebookSearch}'s plain
 * kernel's chain, so the distances and codes are identical.
 *
 * <p>The kernel is {@code VectorConv.rows4}'s over a flat block rather than a reuse of it: with the
 * block as an array of rows (what {@code rows4} reads) the search of 94 frames took 0.300 s instead of
 * 0.262 s on one thread ({@code CodebookSearchBench}, same session).
 *
 * <p>Only {@link CodebookSearch} touches this class: it links against {@code jdk.incubator.vector},
 * which is resolved only when the JVM runs with {@code --add-modules jdk.incubator.vector}.
 */
final class VectorSearch {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Four frames x four vectors with 512-bit vectors; six frames x two vectors ({@link TwoVectorBlocks#search6}) on narrower units. */
    private static final boolean FOUR_VECTORS = TwoVectorBlocks.FOUR_VECTORS;
    /** Codes per block: the kernel's four (or two) vectors. */
    static final int CODES = FOUR_VECTORS ? 4 * L : TwoVectorBlocks.W;
    /** Frames per kernel call: {@link #frames} reads {@code in[s .. s + FRAMES - 1]}. */
    static final int FRAMES = FOUR_VECTORS ? 4 : 6;
    /**
     * Blocks per group: one with four-vector blocks; four with two-vector ones, so that a group is
     * 64 codes either way and each frame's inputs, once in L1, serve 64 codes (with 16-code groups,
     * every input row was read four times as often).
     */
    static final int BLOCKS_PER_GROUP = FOUR_VECTORS ? 1 : 4;
    /** Codes per group of the packed codebook. */
    static final int GROUP_CODES = BLOCKS_PER_GROUP * CODES;
    /**
     * Dimensions per slice, between which the sums go to memory and back. With 16 lanes a slice of a
     * block is 128 KiB, kept in L2 while the frames pass: 937 frames on one thread took 2.19 s with
     * 512, 2.22-2.25 s with 256, 2.28-2.30 s with 128 (32 KiB, L1) and 2.45 s with 64
     * ({@code CodebookSearchBench}). With 8 lanes (AVX2: 16 registers, more passes) 64 (8 KiB).
     */
    static final int DIMS = FOUR_VECTORS ? 512 : 64;

    private VectorSearch() {
    }

    /**
     * {@code sums[s + r][b * CODES + c] = fma(in[s + r][d], group[blockOff + (d - d0) * CODES + c], ...)}
     * for {@code d} ascending in {@code [d0, d1)}, {@code c < CODES} and {@link #FRAMES} frames
     * {@code r}: block {@code b} of the group ({@code b = 0} with four-vector blocks), whose dimension
     * {@code d0} starts at {@code blockOff}; {@code first}: the sums start from 0.
     */
    static void frames(float[] group, int blockOff, int b, int d0, int d1, float[][] in, float[][] sums, int s, boolean first) {
        if (FOUR_VECTORS) {
            block4(group, blockOff, d0, d1, in[s], in[s + 1], in[s + 2], in[s + 3],
                    sums[s], sums[s + 1], sums[s + 2], sums[s + 3], first);
        } else {
            TwoVectorBlocks.search6(group, CODES, blockOff, d0, d1, in, sums, b * CODES, s, first);
        }
    }

    /**
     * {@code aK[c] = fma(xK[d], block[blockOff + (d - d0) * CODES + c], aK[c])} for {@code d} ascending in
     * {@code [d0, d1)} and {@code c < CODES}, four frames; {@code first}: the sums start from 0.
     */
    private static void block4(float[] block, int blockOff, int d0, int d1, float[] x0, float[] x1, float[] x2, float[] x3,
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
        for (int d = d0, o = blockOff; d < d1; d++, o += CODES) {
            FloatVector w0 = FloatVector.fromArray(S, block, o);
            FloatVector w1 = FloatVector.fromArray(S, block, o + L);
            FloatVector w2 = FloatVector.fromArray(S, block, o + 2 * L);
            FloatVector w3 = FloatVector.fromArray(S, block, o + 3 * L);
            FloatVector b0 = FloatVector.broadcast(S, x0[d]);
            a00 = w0.fma(b0, a00);
            a01 = w1.fma(b0, a01);
            a02 = w2.fma(b0, a02);
            a03 = w3.fma(b0, a03);
            FloatVector b1 = FloatVector.broadcast(S, x1[d]);
            a10 = w0.fma(b1, a10);
            a11 = w1.fma(b1, a11);
            a12 = w2.fma(b1, a12);
            a13 = w3.fma(b1, a13);
            FloatVector b2 = FloatVector.broadcast(S, x2[d]);
            a20 = w0.fma(b2, a20);
            a21 = w1.fma(b2, a21);
            a22 = w2.fma(b2, a22);
            a23 = w3.fma(b2, a23);
            FloatVector b3 = FloatVector.broadcast(S, x3[d]);
            a30 = w0.fma(b3, a30);
            a31 = w1.fma(b3, a31);
            a32 = w2.fma(b3, a32);
            a33 = w3.fma(b3, a33);
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
}
