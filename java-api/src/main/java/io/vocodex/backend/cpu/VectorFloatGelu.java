package io.vocodex.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link NnOps#geluSpan} on the Vector API: {@link NnOps#gelu(float)}'s float arithmetic, the same
 * operations in the same order one vector of values at a time, so every value is bit-identical to
 * the scalar function (GeluTest checks it). Built like {@link VectorSilu}: three passes over a
 * block with L1 scratch between them, each its own small compilation root: the range reduction of
 * {@code e^(-a^2/2)} (with the bits of {@code 2^k} moved from float to int lanes through a byte
 * scratch on JDK 17-19, {@code reinterpretAs*()} on JDK 20+: {@link VectorBits}), the ELU's
 * {@code expm1} polynomial ({@link VectorElu#polynomial}), and the finish (the {@code erfcx}
 * polynomial, the products and {@code max(x, 0) - tail}, no blend).
 */
final class VectorFloatGelu {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    private static final java.nio.ByteOrder ORDER = java.nio.ByteOrder.nativeOrder();

    private VectorFloatGelu() {
    }

    /** Values per loop iteration (two vectors): the spans given to {@link #geluBlock} are multiples of it. */
    static int step() {
        return 2 * L;
    }

    /**
     * {@code x[i] = gelu(x[i])} for {@code i} in {@code [i0, i0 + m)}, {@code m <= VectorElu.BLOCK}
     * a multiple of {@link #step()}; the caller walks a row block by block.
     */
    static void geluBlock(float[] x, int i0, int m, VectorElu.Scratch scratch) {
        if (scratch.scaleBytes != null) {
            reduce(x, i0, m, scratch.scaleBytes, scratch.reduced);
            VectorElu.polynomial(scratch.reduced, m);
            finish(x, i0, m, scratch.scaleBytes, null, scratch.reduced);
        } else {
            reduceReinterpret(x, i0, m, scratch.scale, scratch.reduced);
            VectorElu.polynomial(scratch.reduced, m);
            finish(x, i0, m, null, scratch.scale, scratch.reduced);
        }
    }

    /**
     * {@code a = min(|x|, 13)}, {@code y = -a^2/2}, {@code big = y log2e + ROUNDER},
     * {@code r = (y - k ln2_hi) - k ln2_lo}, and the bits of {@code 2^k} into a byte scratch.
     */
    private static void reduce(float[] x, int i0, int m, byte[] bits, float[] r) {
        FloatVector aMax = FloatVector.broadcast(S, NnOps.GELU_A_MAX);
        FloatVector minusHalf = FloatVector.broadcast(S, -0.5f);
        FloatVector rounder = FloatVector.broadcast(S, CpuOps.ELU_ROUNDER);
        FloatVector log2e = FloatVector.broadcast(S, CpuOps.ELU_LOG2E);
        FloatVector ln2Hi = FloatVector.broadcast(S, CpuOps.ELU_LN2_HI);
        FloatVector ln2Lo = FloatVector.broadcast(S, CpuOps.ELU_LN2_LO);
        IntVector bias = IntVector.broadcast(I, CpuOps.ELU_ROUNDER_BITS - 127);
        for (int j = 0; j < m; j += 2 * L) {
            FloatVector a0 = FloatVector.fromArray(S, x, i0 + j).abs().min(aMax);
            FloatVector a1 = FloatVector.fromArray(S, x, i0 + j + L).abs().min(aMax);
            FloatVector y0 = minusHalf.mul(a0.mul(a0));
            FloatVector y1 = minusHalf.mul(a1.mul(a1));
            FloatVector b0 = y0.mul(log2e).add(rounder);
            FloatVector b1 = y1.mul(log2e).add(rounder);
            FloatVector k0 = b0.sub(rounder);
            FloatVector k1 = b1.sub(rounder);
            y0.sub(k0.mul(ln2Hi)).sub(k0.mul(ln2Lo)).intoArray(r, j);
            y1.sub(k1.mul(ln2Hi)).sub(k1.mul(ln2Lo)).intoArray(r, j + L);
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
        FloatVector aMax = FloatVector.broadcast(S, NnOps.GELU_A_MAX);
        FloatVector minusHalf = FloatVector.broadcast(S, -0.5f);
        FloatVector rounder = FloatVector.broadcast(S, CpuOps.ELU_ROUNDER);
        FloatVector log2e = FloatVector.broadcast(S, CpuOps.ELU_LOG2E);
        FloatVector ln2Hi = FloatVector.broadcast(S, CpuOps.ELU_LN2_HI);
        FloatVector ln2Lo = FloatVector.broadcast(S, CpuOps.ELU_LN2_LO);
        IntVector bias = IntVector.broadcast(I, CpuOps.ELU_ROUNDER_BITS - 127);
        for (int j = 0; j < m; j += 2 * L) {
            FloatVector a0 = FloatVector.fromArray(S, x, i0 + j).abs().min(aMax);
            FloatVector a1 = FloatVector.fromArray(S, x, i0 + j + L).abs().min(aMax);
            FloatVector y0 = minusHalf.mul(a0.mul(a0));
            FloatVector y1 = minusHalf.mul(a1.mul(a1));
            FloatVector b0 = y0.mul(log2e).add(rounder);
            FloatVector b1 = y1.mul(log2e).add(rounder);
            FloatVector k0 = b0.sub(rounder);
            FloatVector k1 = b1.sub(rounder);
            y0.sub(k0.mul(ln2Hi)).sub(k0.mul(ln2Lo)).intoArray(r, j);
            y1.sub(k1.mul(ln2Hi)).sub(k1.mul(ln2Lo)).intoArray(r, j + L);
            ((IntVector) b0.reinterpretAsInts()).sub(bias).lanewise(VectorOperators.LSHL, 23)
                    .reinterpretAsFloats().intoArray(scale, j);
            ((IntVector) b1.reinterpretAsInts()).sub(bias).lanewise(VectorOperators.LSHL, 23)
                    .reinterpretAsFloats().intoArray(scale, j + L);
        }
    }

    /**
     * {@code e = 2^k (expm1(r) + 1)}, {@code t = 1 / fma(0.35, a, 1)}, {@code q = Q(t)} (Horner,
     * fma), {@code l = fma(a, a, -a^2)}, {@code x = max(x, 0) - (a/2)(e fma(-l/2, q, q))};
     * {@code 2^k} from the byte scratch ({@code scaleBits}) or as floats ({@code scale}).
     */
    private static void finish(float[] x, int i0, int m, byte[] scaleBits, float[] scale, float[] em1r) {
        FloatVector aMax = FloatVector.broadcast(S, NnOps.GELU_A_MAX);
        FloatVector one = FloatVector.broadcast(S, 1f);
        FloatVector half = FloatVector.broadcast(S, 0.5f);
        FloatVector minusHalf = FloatVector.broadcast(S, -0.5f);
        FloatVector zero = FloatVector.broadcast(S, 0f);
        FloatVector c = FloatVector.broadcast(S, NnOps.GELU_C);
        float[] q = NnOps.GELU_Q;
        FloatVector q9 = FloatVector.broadcast(S, q[9]);
        FloatVector q8 = FloatVector.broadcast(S, q[8]);
        FloatVector q7 = FloatVector.broadcast(S, q[7]);
        FloatVector q6 = FloatVector.broadcast(S, q[6]);
        FloatVector q5 = FloatVector.broadcast(S, q[5]);
        FloatVector q4 = FloatVector.broadcast(S, q[4]);
        FloatVector q3 = FloatVector.broadcast(S, q[3]);
        FloatVector q2 = FloatVector.broadcast(S, q[2]);
        FloatVector q1 = FloatVector.broadcast(S, q[1]);
        FloatVector q0 = FloatVector.broadcast(S, q[0]);
        for (int j = 0; j < m; j += L) {
            FloatVector v = FloatVector.fromArray(S, x, i0 + j);
            FloatVector s = scaleBits != null ? FloatVector.fromByteArray(S, scaleBits, 4 * j, ORDER)
                    : FloatVector.fromArray(S, scale, j);
            FloatVector a = v.abs().min(aMax);
            FloatVector h = a.mul(a);
            FloatVector e = s.mul(FloatVector.fromArray(S, em1r, j).add(one));
            FloatVector t = one.div(c.fma(a, one));
            FloatVector p = q9.fma(t, q8);
            p = p.fma(t, q7);
            p = p.fma(t, q6);
            p = p.fma(t, q5);
            p = p.fma(t, q4);
            p = p.fma(t, q3);
            p = p.fma(t, q2);
            p = p.fma(t, q1);
            p = p.fma(t, q0);
            FloatVector l = a.fma(a, h.neg());
            FloatVector tail = half.mul(a).mul(e.mul(minusHalf.mul(l).fma(p, p)));
            v.max(zero).sub(tail).intoArray(x, i0 + j);
        }
    }
}
