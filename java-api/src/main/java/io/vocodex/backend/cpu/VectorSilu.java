package io.vocodex.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link NnOps#siluSpan} on the Vector API: {@link NnOps#silu(float)}'s float arithmetic, the same
 * operations in the same order one vector of values at a time, so every value is bit-identical to
 * the plain loops and the scalar function (SiluTest runs both). Built like {@link VectorElu}, whose
 * {@code expm1} polynomial pass it shares: three passes over a block with L1 scratch between them,
 * each its own small compilation root, and the bits of {@code 2^k} moved between float and int
 * lanes through a byte scratch on JDK 17-19 ({@code reinterpretAs*()} on JDK 20+, which has no
 * byte-array vector methods: {@link VectorBits}); see {@link VectorElu} and docs/architecture.md
 * for why. The reduction differs from the ELU's only in its clamp (of {@code -x}, to
 * {@code [-88, 89]}), and is its own method for the same reason: on Java 17 each pass stays one
 * small compilation root. {@code scripts/vector-fallbacks} on JFR recordings of a DistilCodec
 * decode (SiLU) and an EnCodec encode (the LSTM's sigmoid) found no fallback in these passes.
 */
final class VectorSilu {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final java.nio.ByteOrder ORDER = java.nio.ByteOrder.nativeOrder();

    private VectorSilu() {
    }

    /** Values per loop iteration (two vectors): the spans given to {@link #siluBlock} are multiples of it. */
    static int step() {
        return 2 * L;
    }

    /**
     * {@code y[i] = silu(x[i])} for {@code i} in {@code [i0, i0 + m)}, {@code m <= VectorElu.BLOCK}
     * a multiple of {@link #step()} ({@code y} may be {@code x}); the caller walks a row block by
     * block (a vector loop over a whole row is OSR-compiled, see {@link VectorElu#eluBlock}).
     */
    static void siluBlock(float[] x, float[] y, int i0, int m, VectorElu.Scratch scratch) {
        block(x, y, i0, m, scratch, false);
    }

    /** {@link #siluBlock} with the numerator 1: {@code y = sigmoid(x)}, {@link CpuOps#sigmoid}'s bits. */
    static void sigmoidBlock(float[] x, float[] y, int i0, int m, VectorElu.Scratch scratch) {
        block(x, y, i0, m, scratch, true);
    }

    private static void block(float[] x, float[] y, int i0, int m, VectorElu.Scratch scratch, boolean sigmoid) {
        if (scratch.scaleBytes != null) {
            reduce(x, i0, m, scratch.scaleBytes, scratch.reduced);
            VectorElu.polynomial(scratch.reduced, m);
            finish(x, y, i0, m, scratch.scaleBytes, scratch.reduced, sigmoid);
        } else {
            reduceReinterpret(x, i0, m, scratch.scale, scratch.reduced);
            VectorElu.polynomial(scratch.reduced, m);
            finishReinterpret(x, y, i0, m, scratch.scale, scratch.reduced, sigmoid);
        }
    }

    /**
     * {@code t = clamp(-v, -88, 89)}, {@code big = t log2e + ROUNDER} (so {@code k = big - ROUNDER}
     * is {@code rint(t log2e)}), {@code r = (t - k ln2_hi) - k ln2_lo}, and the bits of
     * {@code 2^k = (bits(big) - ROUNDER_BITS + 127) << 23} into a byte scratch.
     */
    private static void reduce(float[] x, int i0, int m, byte[] bits, float[] r) {
        FloatVector rounder = FloatVector.broadcast(S, CpuOps.ELU_ROUNDER);
        FloatVector floor = FloatVector.broadcast(S, NnOps.SILU_T_MIN);
        FloatVector ceiling = FloatVector.broadcast(S, NnOps.SILU_T_MAX);
        FloatVector log2e = FloatVector.broadcast(S, CpuOps.ELU_LOG2E);
        FloatVector ln2Hi = FloatVector.broadcast(S, CpuOps.ELU_LN2_HI);
        FloatVector ln2Lo = FloatVector.broadcast(S, CpuOps.ELU_LN2_LO);
        IntVector bias = IntVector.broadcast(I, CpuOps.ELU_ROUNDER_BITS - 127);
        for (int j = 0; j < m; j += 2 * L) {
            FloatVector t0 = FloatVector.fromArray(S, x, i0 + j).neg().min(ceiling).max(floor);
            FloatVector t1 = FloatVector.fromArray(S, x, i0 + j + L).neg().min(ceiling).max(floor);
            FloatVector b0 = t0.mul(log2e).add(rounder);
            FloatVector b1 = t1.mul(log2e).add(rounder);
            FloatVector k0 = b0.sub(rounder);
            FloatVector k1 = b1.sub(rounder);
            t0.sub(k0.mul(ln2Hi)).sub(k0.mul(ln2Lo)).intoArray(r, j);
            t1.sub(k1.mul(ln2Hi)).sub(k1.mul(ln2Lo)).intoArray(r, j + L);
            b0.intoByteArray(bits, 4 * j, ORDER);
            b1.intoByteArray(bits, 4 * (j + L), ORDER);
            IntVector.fromByteArray(I, bits, 4 * j, ORDER).sub(bias).lanewise(VectorOperators.LSHL, 23)
                    .intoByteArray(bits, 4 * j, ORDER);
            IntVector.fromByteArray(I, bits, 4 * (j + L), ORDER).sub(bias).lanewise(VectorOperators.LSHL, 23)
                    .intoByteArray(bits, 4 * (j + L), ORDER);
        }
    }

    /** {@link #reduce} for JDK 20+: {@code 2^k} stored as floats through reinterpret casts. */
    private static void reduceReinterpret(float[] x, int i0, int m, float[] scale, float[] r) {
        FloatVector rounder = FloatVector.broadcast(S, CpuOps.ELU_ROUNDER);
        FloatVector floor = FloatVector.broadcast(S, NnOps.SILU_T_MIN);
        FloatVector ceiling = FloatVector.broadcast(S, NnOps.SILU_T_MAX);
        FloatVector log2e = FloatVector.broadcast(S, CpuOps.ELU_LOG2E);
        FloatVector ln2Hi = FloatVector.broadcast(S, CpuOps.ELU_LN2_HI);
        FloatVector ln2Lo = FloatVector.broadcast(S, CpuOps.ELU_LN2_LO);
        IntVector bias = IntVector.broadcast(I, CpuOps.ELU_ROUNDER_BITS - 127);
        for (int j = 0; j < m; j += 2 * L) {
            FloatVector t0 = FloatVector.fromArray(S, x, i0 + j).neg().min(ceiling).max(floor);
            FloatVector t1 = FloatVector.fromArray(S, x, i0 + j + L).neg().min(ceiling).max(floor);
            FloatVector b0 = t0.mul(log2e).add(rounder);
            FloatVector b1 = t1.mul(log2e).add(rounder);
            FloatVector k0 = b0.sub(rounder);
            FloatVector k1 = b1.sub(rounder);
            t0.sub(k0.mul(ln2Hi)).sub(k0.mul(ln2Lo)).intoArray(r, j);
            t1.sub(k1.mul(ln2Hi)).sub(k1.mul(ln2Lo)).intoArray(r, j + L);
            ((IntVector) b0.reinterpretAsInts()).sub(bias).lanewise(VectorOperators.LSHL, 23)
                    .reinterpretAsFloats().intoArray(scale, j);
            ((IntVector) b1.reinterpretAsInts()).sub(bias).lanewise(VectorOperators.LSHL, 23)
                    .reinterpretAsFloats().intoArray(scale, j + L);
        }
    }

    /** {@code y = v / (2^k (expm1(r) + 1) + 1)} ({@code 1 / ...} for the sigmoid), {@code 2^k} read from the byte scratch. */
    private static void finish(float[] x, float[] y, int i0, int m, byte[] scaleBits, float[] em1r, boolean sigmoid) {
        FloatVector one = FloatVector.broadcast(S, 1f);
        for (int j = 0; j < m; j += 2 * L) {
            FloatVector s0 = FloatVector.fromByteArray(S, scaleBits, 4 * j, ORDER);
            FloatVector s1 = FloatVector.fromByteArray(S, scaleBits, 4 * (j + L), ORDER);
            FloatVector d0 = s0.mul(FloatVector.fromArray(S, em1r, j).add(one)).add(one);
            FloatVector d1 = s1.mul(FloatVector.fromArray(S, em1r, j + L).add(one)).add(one);
            FloatVector n0 = sigmoid ? one : FloatVector.fromArray(S, x, i0 + j);
            FloatVector n1 = sigmoid ? one : FloatVector.fromArray(S, x, i0 + j + L);
            n0.div(d0).intoArray(y, i0 + j);
            n1.div(d1).intoArray(y, i0 + j + L);
        }
    }

    /** {@link #finish} for JDK 20+: {@code 2^k} read as floats. */
    private static void finishReinterpret(float[] x, float[] y, int i0, int m, float[] scale, float[] em1r, boolean sigmoid) {
        FloatVector one = FloatVector.broadcast(S, 1f);
        for (int j = 0; j < m; j += 2 * L) {
            FloatVector s0 = FloatVector.fromArray(S, scale, j);
            FloatVector s1 = FloatVector.fromArray(S, scale, j + L);
            FloatVector d0 = s0.mul(FloatVector.fromArray(S, em1r, j).add(one)).add(one);
            FloatVector d1 = s1.mul(FloatVector.fromArray(S, em1r, j + L).add(one)).add(one);
            FloatVector n0 = sigmoid ? one : FloatVector.fromArray(S, x, i0 + j);
            FloatVector n1 = sigmoid ? one : FloatVector.fromArray(S, x, i0 + j + L);
            n0.div(d0).intoArray(y, i0 + j);
            n1.div(d1).intoArray(y, i0 + j + L);
        }
    }
}
