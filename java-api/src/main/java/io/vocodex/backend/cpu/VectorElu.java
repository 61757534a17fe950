package io.vocodex.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The ELU of {@link CpuOps#eluRow} on the Vector API for {@code alpha >= 1}: the same operations
 * in the same order, one vector of values at a time, so every value is bit-identical to the plain
 * block loops (EluExactTest runs both). The plain loops leave two of their passes scalar on Java
 * 17 (C2's superword does not vectorise {@code Math.min}/{@code Math.max} on floats nor the
 * float/int bit moves of {@code 2^k} and of the select).
 *
 * <p>The select {@code v > 0 ? v : neg} is computed as {@code max(v, 0) + neg}. For {@code v > 0}
 * the clamped argument is 0, so {@code neg = alpha * (1 * 0 + 0) = +0} and the sum is {@code v};
 * for {@code v <= 0} the sum is {@code +0 + neg = neg} unless {@code neg} were {@code -0}, which
 * needs {@code alpha * N} to underflow to zero from a negative {@code N}: impossible for
 * {@code alpha >= 1} ({@code N = 2^k expm1(r) + (2^k - 1)} is never -0, and a product with
 * {@code alpha >= 1} does not shrink). NaN propagates through both forms. Other alphas take the plain path.
 *
 * <p>The float/int bit casts of {@code 2^k} go through a byte scratch ({@code intoByteArray} as
 * floats, {@code fromByteArray} as ints, and back) rather than {@code reinterpretAsInts()} /
 * {@code reinterpretAsFloats()}: on Java 17, C2 sometimes could not tell the lane type of a
 * reinterpreted vector, and the operations or stores after it then ran in the Vector API's Java
 * fallback (tens of times slower); a float {@code blend()} did the same to the store after it.
 * Those byte-array methods exist only up to JDK 19 (JDK 20 replaced them with memory segments);
 * on newer JDKs ({@link VectorBits#BYTE_ARRAYS} false) the casts are {@code reinterpretAsInts()}
 * and {@code reinterpretAsFloats()}, with {@code 2^k} kept as floats in {@link Scratch#scale}.
 * Both forms move the same bits, so the values do not depend on the JDK.
 * The work is split over three passes with scratch blocks between them that stay in L1.
 */
final class VectorElu {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final java.nio.ByteOrder ORDER = java.nio.ByteOrder.nativeOrder();

    private VectorElu() {
    }

    /** Values per call of the three passes: the scratch blocks stay in L1. */
    static final int BLOCK = 512;

    /**
     * Block scratch of {@link #eluBlock}, one per caller: {@code 2^k} as bytes (JDK 17-19) or as
     * floats (JDK 20+), and the reduced arguments. It names no Vector API type, so a caller may
     * hold one without loading the incubator module.
     */
    static final class Scratch {
        final byte[] scaleBytes;
        final float[] scale;
        final float[] reduced = new float[BLOCK];

        Scratch(boolean byteArrays) {
            scaleBytes = byteArrays ? new byte[4 * BLOCK] : null;
            scale = byteArrays ? null : new float[BLOCK];
        }
    }

    /** A scratch for this JVM's form of the bit casts. */
    static Scratch newScratch() {
        return new Scratch(VectorBits.BYTE_ARRAYS);
    }

    /** Whether {@link #eluBlock} may be used for this alpha (see the class comment). */
    static boolean handles(float alpha) {
        return alpha >= 1f && alpha <= Float.MAX_VALUE;
    }

    /**
     * {@code y[i] = x[i] > 0 ? x[i] : alpha * expm1(clamp(x[i], -87, 0))} for {@code i} in
     * {@code [i0, i0 + m)}, with {@link CpuOps#eluRow}'s arithmetic, for an alpha that
     * {@link #handles}; {@code m <= BLOCK} is a multiple of {@link #step()}; {@code scratch} comes from
     * {@link #newScratch()}.
     * The caller walks a row block by block: a loop over a whole row here was OSR-compiled during
     * the first long rows, and that compilation sometimes left the last store to the Vector API's
     * Java fallback.
     */
    static void eluBlock(float[] x, float[] y, int i0, int m, float alpha, Scratch scratch) {
        if (scratch.scaleBytes != null) {
            reduce(x, i0, m, scratch.scaleBytes, scratch.reduced);
            polynomial(scratch.reduced, m);
            finish(x, y, i0, m, alpha, scratch.scaleBytes, scratch.reduced);
        } else {
            reduceReinterpret(x, i0, m, scratch.scale, scratch.reduced);
            polynomial(scratch.reduced, m);
            finishReinterpret(x, y, i0, m, alpha, scratch.scale, scratch.reduced);
        }
    }

    /** Values per loop iteration of the passes (two vectors): block lengths are multiples of it. */
    static int step() {
        return 2 * L;
    }

    /*
     * Each of the first two passes is a separate compilation root (Java 17's C2 never inlines a
     * hot callee of more than 325 bytes of bytecode); the last one is inlined into eluBlock,
     * which has no vector code of its own. When all three passes were one compilation, a JFR
     * recording of a Mimi encode showed its final store as a real call into the Vector API's Java
     * code. Two vectors per iteration also give the polynomial's dependent chain a second chain
     * to overlap with.
     */

    /**
     * {@code t = clamp(v, -87, 0)}, {@code big = t log2e + ROUNDER} (so {@code k = big - ROUNDER}
     * is {@code rint(t log2e)}), {@code r = (t - k ln2_hi) - k ln2_lo}, and the bits of
     * {@code 2^k = (bits(big) - ROUNDER_BITS + 127) << 23} into a byte scratch, which
     * {@link #finish} reads as floats. {@code r} may be {@code x} when {@code i0} is 0 (each
     * iteration reads its lanes before it writes them): {@link VectorFloatGelu} reduces its
     * exponents in place.
     */
    static void reduce(float[] x, int i0, int m, byte[] bits, float[] r) {
        FloatVector rounder = FloatVector.broadcast(S, CpuOps.ELU_ROUNDER);
        FloatVector zero = FloatVector.broadcast(S, 0f);
        FloatVector floor = FloatVector.broadcast(S, -87f);
        FloatVector log2e = FloatVector.broadcast(S, CpuOps.ELU_LOG2E);
        FloatVector ln2Hi = FloatVector.broadcast(S, CpuOps.ELU_LN2_HI);
        FloatVector ln2Lo = FloatVector.broadcast(S, CpuOps.ELU_LN2_LO);
        IntVector bias = IntVector.broadcast(I, CpuOps.ELU_ROUNDER_BITS - 127);
        for (int j = 0; j < m; j += 2 * L) {
            FloatVector t0 = FloatVector.fromArray(S, x, i0 + j).min(zero).max(floor);
            FloatVector t1 = FloatVector.fromArray(S, x, i0 + j + L).min(zero).max(floor);
            FloatVector b0 = t0.mul(log2e).add(rounder);
            FloatVector b1 = t1.mul(log2e).add(rounder);
            FloatVector k0 = b0.sub(rounder);
            FloatVector k1 = b1.sub(rounder);
            t0.sub(k0.mul(ln2Hi)).sub(k0.mul(ln2Lo)).intoArray(r, j);
            t1.sub(k1.mul(ln2Hi)).sub(k1.mul(ln2Lo)).intoArray(r, j + L);
            // 2^k, k in [-126, 0]: (bits(big) - ROUNDER_BITS + 127) << 23
            b0.intoByteArray(bits, 4 * j, ORDER);
            b1.intoByteArray(bits, 4 * (j + L), ORDER);
            IntVector.fromByteArray(I, bits, 4 * j, ORDER).sub(bias).lanewise(VectorOperators.LSHL, 23)
                    .intoByteArray(bits, 4 * j, ORDER);
            IntVector.fromByteArray(I, bits, 4 * (j + L), ORDER).sub(bias).lanewise(VectorOperators.LSHL, 23)
                    .intoByteArray(bits, 4 * (j + L), ORDER);
        }
    }

    /**
     * {@link #reduce} for JDK 20+: the same arithmetic, {@code 2^k} stored as floats through
     * reinterpret casts. A whole method of its own rather than a shared body with a switch: on Java
     * 17 each pass must stay one small compilation root (docs/architecture.md), and this one is
     * never compiled there.
     */
    static void reduceReinterpret(float[] x, int i0, int m, float[] scale, float[] r) {
        FloatVector rounder = FloatVector.broadcast(S, CpuOps.ELU_ROUNDER);
        FloatVector zero = FloatVector.broadcast(S, 0f);
        FloatVector floor = FloatVector.broadcast(S, -87f);
        FloatVector log2e = FloatVector.broadcast(S, CpuOps.ELU_LOG2E);
        FloatVector ln2Hi = FloatVector.broadcast(S, CpuOps.ELU_LN2_HI);
        FloatVector ln2Lo = FloatVector.broadcast(S, CpuOps.ELU_LN2_LO);
        IntVector bias = IntVector.broadcast(I, CpuOps.ELU_ROUNDER_BITS - 127);
        for (int j = 0; j < m; j += 2 * L) {
            FloatVector t0 = FloatVector.fromArray(S, x, i0 + j).min(zero).max(floor);
            FloatVector t1 = FloatVector.fromArray(S, x, i0 + j + L).min(zero).max(floor);
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

    /** {@code r <- expm1(r) = r + r^2 p(r)}, two vectors per iteration (also {@link VectorSilu}'s middle pass). */
    static void polynomial(float[] r, int m) {
        FloatVector c8 = FloatVector.broadcast(S, 1f / 40320f);
        FloatVector c7 = FloatVector.broadcast(S, 1f / 5040f);
        FloatVector c6 = FloatVector.broadcast(S, 1f / 720f);
        FloatVector c5 = FloatVector.broadcast(S, 1f / 120f);
        FloatVector c4 = FloatVector.broadcast(S, 1f / 24f);
        FloatVector c3 = FloatVector.broadcast(S, 1f / 6f);
        FloatVector c2 = FloatVector.broadcast(S, 0.5f);
        for (int j = 0; j < m; j += 2 * L) {
            FloatVector v0 = FloatVector.fromArray(S, r, j);
            FloatVector v1 = FloatVector.fromArray(S, r, j + L);
            FloatVector p0 = c8.mul(v0).add(c7);
            FloatVector p1 = c8.mul(v1).add(c7);
            p0 = p0.mul(v0).add(c6);
            p1 = p1.mul(v1).add(c6);
            p0 = p0.mul(v0).add(c5);
            p1 = p1.mul(v1).add(c5);
            p0 = p0.mul(v0).add(c4);
            p1 = p1.mul(v1).add(c4);
            p0 = p0.mul(v0).add(c3);
            p1 = p1.mul(v1).add(c3);
            p0 = p0.mul(v0).add(c2);
            p1 = p1.mul(v1).add(c2);
            v0.add(v0.mul(v0).mul(p0)).intoArray(r, j);
            v1.add(v1.mul(v1).mul(p1)).intoArray(r, j + L);
        }
    }

    /**
     * {@code neg = alpha (2^k expm1(r) + (2^k - 1))} with {@code 2^k} in {@code scaleBits} and
     * {@code expm1(r)} in {@code em1r}, and {@code y = max(v, 0) + neg}. Small enough to be
     * inlined into its caller, which has no other vector code.
     */
    private static void finish(float[] x, float[] y, int i0, int m, float alpha, byte[] scaleBits, float[] em1r) {
        FloatVector one = FloatVector.broadcast(S, 1f);
        FloatVector zero = FloatVector.broadcast(S, 0f);
        FloatVector a = FloatVector.broadcast(S, alpha);
        for (int j = 0; j < m; j += 2 * L) {
            FloatVector s0 = FloatVector.fromByteArray(S, scaleBits, 4 * j, ORDER);
            FloatVector s1 = FloatVector.fromByteArray(S, scaleBits, 4 * (j + L), ORDER);
            FloatVector n0 = s0.mul(FloatVector.fromArray(S, em1r, j)).add(s0.sub(one)).mul(a);
            FloatVector n1 = s1.mul(FloatVector.fromArray(S, em1r, j + L)).add(s1.sub(one)).mul(a);
            FloatVector.fromArray(S, x, i0 + j).max(zero).add(n0).intoArray(y, i0 + j);
            FloatVector.fromArray(S, x, i0 + j + L).max(zero).add(n1).intoArray(y, i0 + j + L);
        }
    }

    /** {@link #finish} for JDK 20+: {@code 2^k} read as floats. */
    private static void finishReinterpret(float[] x, float[] y, int i0, int m, float alpha, float[] scale, float[] em1r) {
        FloatVector one = FloatVector.broadcast(S, 1f);
        FloatVector zero = FloatVector.broadcast(S, 0f);
        FloatVector a = FloatVector.broadcast(S, alpha);
        for (int j = 0; j < m; j += 2 * L) {
            FloatVector s0 = FloatVector.fromArray(S, scale, j);
            FloatVector s1 = FloatVector.fromArray(S, scale, j + L);
            FloatVector n0 = s0.mul(FloatVector.fromArray(S, em1r, j)).add(s0.sub(one)).mul(a);
            FloatVector n1 = s1.mul(FloatVector.fromArray(S, em1r, j + L)).add(s1.sub(one)).mul(a);
            FloatVector.fromArray(S, x, i0 + j).max(zero).add(n0).intoArray(y, i0 + j);
            FloatVector.fromArray(S, x, i0 + j + L).max(zero).add(n1).intoArray(y, i0 + j + L);
        }
    }
}
