package io.vocodex.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link NnOps#geluSpan} on the Vector API: {@link NnOps#gelu(float)}'s float arithmetic, the same
 * operations in the same order one vector of values at a time, so every value is bit-identical to
 * the scalar function (GeluTest checks it). Built like {@link VectorSilu}: passes over a block
 * with L1 scratch between them, each its own small compilation root: the exponent {@code -a^2/2},
 * the ELU's range reduction of it ({@link VectorElu#reduce}: the bits of {@code 2^k} moved from
 * float to int lanes through a byte scratch on JDK 17-19, {@code reinterpretAs*()} on JDK 20+,
 * {@link VectorBits}) and its {@code expm1} polynomial ({@link VectorElu#polynomial}), and the
 * finish (the {@code erfcx} polynomial, the products and {@code max(x, 0) - tail}, no blend).
 */
final class VectorFloatGelu {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
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
        float[] r = scratch.reduced;
        exponent(x, i0, m, r);
        // the ELU's reduction clamps to [-87, 0]: -a^2/2 lies in [-84.5, -0], so it reduces exactly
        // NnOps.gelu's argument (in place: each iteration reads its lanes before it writes them)
        if (scratch.scaleBytes != null) {
            VectorElu.reduce(r, 0, m, scratch.scaleBytes, r);
        } else {
            VectorElu.reduceReinterpret(r, 0, m, scratch.scale, r);
        }
        VectorElu.polynomial(r, m);
        finish(x, i0, m, scratch.scaleBytes, scratch.scale, r);
    }

    /** {@code y[j] = -0.5 (a a)}, {@code a = min(|x[i0 + j]|, 13)}: the argument of {@code e^(-a^2/2)}. */
    private static void exponent(float[] x, int i0, int m, float[] y) {
        FloatVector aMax = FloatVector.broadcast(S, NnOps.GELU_A_MAX);
        FloatVector minusHalf = FloatVector.broadcast(S, -0.5f);
        for (int j = 0; j < m; j += 2 * L) {
            FloatVector a0 = FloatVector.fromArray(S, x, i0 + j).abs().min(aMax);
            FloatVector a1 = FloatVector.fromArray(S, x, i0 + j + L).abs().min(aMax);
            minusHalf.mul(a0.mul(a0)).intoArray(y, j);
            minusHalf.mul(a1.mul(a1)).intoArray(y, j + L);
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
