package io.vocodex.backend.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The two passes of {@link NnOps#siluSpan} that C2's superword leaves scalar on Java 17 (the
 * clamp, {@code Math.min}/{@code Math.max} on doubles, and the bit moves of {@code 2^k}), on the
 * Vector API in float64 lanes: the same operations in the same order, so every value is
 * bit-identical to the plain loops and to {@link NnOps#silu(float)} (SiluTest runs both paths).
 * As in {@link VectorElu}, the bits of {@code 2^k} go through a byte scratch ({@code intoByteArray}
 * / {@code fromByteArray}, each typed) rather than a reinterpret, and each pass is its own
 * compilation root taking one block per call. On JDK 20+, which has no byte-array vector methods
 * ({@link VectorBits#BYTE_ARRAYS} false), the {@code *Reinterpret} forms keep {@code 2^k} as doubles
 * through {@code reinterpretAsLongs()} / {@code reinterpretAsDoubles()}: the same bits.
 */
final class VectorSilu {
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Long> J = LongVector.SPECIES_PREFERRED;
    private static final int L = D.length();
    private static final java.nio.ByteOrder ORDER = java.nio.ByteOrder.nativeOrder();

    private VectorSilu() {
    }

    /** Values per loop iteration: the vector parts of a block are multiples of it. */
    static int step() {
        return L;
    }

    /**
     * For {@code j < m} (a multiple of {@link #step()}): {@code c = max(min(t[j], expMax), expMin)},
     * {@code big = c log2e + rounder}, {@code k = big - rounder}, {@code r[j] = (c - k ln2Hi) - k ln2Lo},
     * and the bits of {@code 2^k = (bits(big) - roundBits + 1023) << 52} into {@code scale} (8 bytes a value).
     */
    static void reduce(double[] t, int m, double expMin, double expMax, double log2e, double rounder,
                       double ln2Hi, double ln2Lo, long rounderBits, double[] r, byte[] scale) {
        DoubleVector lo = DoubleVector.broadcast(D, expMin);
        DoubleVector hi = DoubleVector.broadcast(D, expMax);
        DoubleVector l2e = DoubleVector.broadcast(D, log2e);
        DoubleVector rnd = DoubleVector.broadcast(D, rounder);
        DoubleVector lnHi = DoubleVector.broadcast(D, ln2Hi);
        DoubleVector lnLo = DoubleVector.broadcast(D, ln2Lo);
        LongVector bias = LongVector.broadcast(J, rounderBits - 1023);
        for (int j = 0; j < m; j += L) {
            DoubleVector c = DoubleVector.fromArray(D, t, j).min(hi).max(lo);
            DoubleVector big = c.mul(l2e).add(rnd);
            DoubleVector k = big.sub(rnd);
            c.sub(k.mul(lnHi)).sub(k.mul(lnLo)).intoArray(r, j);
            big.intoByteArray(scale, 8 * j, ORDER);
            LongVector.fromByteArray(J, scale, 8 * j, ORDER).sub(bias).lanewise(VectorOperators.LSHL, 52)
                    .intoByteArray(scale, 8 * j, ORDER);
        }
    }

    /** {@link #reduce} for JDK 20+: {@code 2^k} into {@code scale} as doubles (its own method, as in {@link VectorElu}). */
    static void reduceReinterpret(double[] t, int m, double expMin, double expMax, double log2e, double rounder,
                                  double ln2Hi, double ln2Lo, long rounderBits, double[] r, double[] scale) {
        DoubleVector lo = DoubleVector.broadcast(D, expMin);
        DoubleVector hi = DoubleVector.broadcast(D, expMax);
        DoubleVector l2e = DoubleVector.broadcast(D, log2e);
        DoubleVector rnd = DoubleVector.broadcast(D, rounder);
        DoubleVector lnHi = DoubleVector.broadcast(D, ln2Hi);
        DoubleVector lnLo = DoubleVector.broadcast(D, ln2Lo);
        LongVector bias = LongVector.broadcast(J, rounderBits - 1023);
        for (int j = 0; j < m; j += L) {
            DoubleVector c = DoubleVector.fromArray(D, t, j).min(hi).max(lo);
            DoubleVector big = c.mul(l2e).add(rnd);
            DoubleVector k = big.sub(rnd);
            c.sub(k.mul(lnHi)).sub(k.mul(lnLo)).intoArray(r, j);
            ((LongVector) big.reinterpretAsLongs()).sub(bias).lanewise(VectorOperators.LSHL, 52)
                    .reinterpretAsDoubles().intoArray(scale, j);
        }
    }

    /** {@code t[j] = -t[j] / (1 + 2^k e^r)} for {@code j < m}, with {@code 2^k} from {@link #reduce}'s scratch and {@code e^r} in {@code expR}. */
    static void finish(double[] t, int m, byte[] scale, double[] expR) {
        DoubleVector one = DoubleVector.broadcast(D, 1.0);
        for (int j = 0; j < m; j += L) {
            DoubleVector s = DoubleVector.fromByteArray(D, scale, 8 * j, ORDER);
            DoubleVector den = s.mul(DoubleVector.fromArray(D, expR, j)).add(one);
            DoubleVector.fromArray(D, t, j).neg().div(den).intoArray(t, j);
        }
    }

    /** {@link #finish} for JDK 20+: {@code 2^k} read as doubles. */
    static void finishReinterpret(double[] t, int m, double[] scale, double[] expR) {
        DoubleVector one = DoubleVector.broadcast(D, 1.0);
        for (int j = 0; j < m; j += L) {
            DoubleVector s = DoubleVector.fromArray(D, scale, j);
            DoubleVector den = s.mul(DoubleVector.fromArray(D, expR, j)).add(one);
            DoubleVector.fromArray(D, t, j).neg().div(den).intoArray(t, j);
        }
    }
}
