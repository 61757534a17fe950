package io.vocodex.backend.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The exact GELU of the transformers ({@link TransformerOps#gelu(float)}) on the Vector API,
 * bit for bit: a polynomial erf in float64 lanes gives each value's GELU to within a stated bound
 * of what the exact erf gives, and a value is kept only where every double within that bound
 * rounds to the same float (the test of {@link ErfTable#roundsLikeAnything}); the rest, and every
 * {@code |x|} outside {@code [X_SMALL, X_LIMIT)}, go through the plain path's scalar GELU (the
 * {@link ErfTable} shortcut, else the exact series).
 *
 * <p>The polynomial is {@code erf z ~ z P(z^2 - 4.5)} on {@code z^2 < 9}, degree 24, with no table
 * (so no gathers): {@code erf(sqrt t) / sqrt t} is entire in {@code t}, and its Chebyshev
 * interpolant converges fast. {@code scripts/fit_erf_polynomial.py} made the coefficients (and
 * measures 3.3e-16 from the true erf in float64). Being odd in {@code z}, it needs no sign
 * select. Both GELUs' {@code z} are computed here as {@code x * (1/sqrt 2)}; TransformerOps divides
 * by {@code sqrt 2} instead, and {@link #BOUND_VS_TRANSFORMER_ERF} covers that difference too.
 *
 * <p>One pass per vector: the floats widen to float64 lanes ({@code convertShape}), the interval's
 * ends narrow back to floats, and a mask says whether every lane was decided; a vector that was
 * is stored as is, the rare other goes lane by lane through the plain path's scalar GELU. The
 * kernel uses no blend and no reinterpret (docs/architecture.md's Java 17 rules).
 *
 * <p>Example (inside this package): {@code VectorGelu.geluRange(row, 0, row.length, true)} equals
 * {@code row[j] = TransformerOps.gelu(row[j])} for every j, faster.
 */
final class VectorGelu {
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    /**
     * Floats of the same shape as {@code D} (two double vectors' worth of lanes): every Vector API
     * kernel here uses one shape, as a second float shape in the same JVM (a 256-bit float vector
     * widened into 512-bit doubles) sent other kernels' float code to the Java fallback.
     */
    private static final VectorSpecies<Float> F = VectorSpecies.of(float.class, D.vectorShape());
    private static final int FL = F.length();

    private VectorGelu() {
    }

    /** Values per call of {@link #block}. */
    static final int BLOCK = 256;

    /**
     * Inputs with {@code |x| < X_LIMIT} take the polynomial: {@code (4.24 / sqrt 2)^2 < 8.99}, inside
     * the fitted {@code z^2 < 9} whichever way {@code z} is rounded.
     */
    static final float X_LIMIT = 4.24f;

    /**
     * Inputs with {@code |x| >= X_SMALL} have a GELU of at least {@code 0.5 |x| erfc(3) > 1e-35}
     * in magnitude on the polynomial's range, a nonzero float: the kernel needs no test for zero
     * results (whose sign rounding does not decide), which {@link ErfTable#roundsLikeAnything} refuses.
     */
    static final float X_SMALL = 1e-30f;

    /** Centre of the polynomial's variable {@code s = z^2 - CENTER}. */
    static final double CENTER = 4.5;

    /** {@code 1 / sqrt 2}: {@code z} is computed as {@code x * INV_SQRT2}. */
    static final double INV_SQRT2 = 0.7071067811865476;

    /**
     * Upper bound of {@code |z P(z^2 - 4.5) - TransformerOps.erf(x / sqrt 2)|} with
     * {@code z = x * INV_SQRT2}, for floats {@code |x| < X_LIMIT}: 4x the largest distance measured (1.9e-15)
     * (GeluShortcutTest re-measures it and fails if the margin shrinks below 2). The series' own
     * rounding (a few 1e-15 near {@code z = 3}) dominates; the two roundings of {@code z} differ by
     * at most an ulp, which moves erf by less than {@code 1.13 * 3 * 2^-52 = 7.5e-16}.
     */
    static final double BOUND_VS_TRANSFORMER_ERF = 8e-15;

    private static final double TRANSFORMER_TOLERANCE = ErfTable.geluToleranceFactors(new double[] {BOUND_VS_TRANSFORMER_ERF})[0];

    // z^2 in [0, 9.0], degree 24, center 4.5 (scripts/fit_erf_polynomial.py --range 9 --degree 24)
    private static final double[] COEFFICIENTS = {
        0.470131824721597, -0.05084407382894536, 0.007777614512541516,
        -0.0012081663863764151, 0.0001768880924385214, -2.3770988616324524e-05,
        2.9078001099476747e-06, -3.2367391463980575e-07, 3.288852426594434e-08,
        -3.064358530095711e-09, 2.631030088154106e-10, -2.0917263286218322e-11,
        1.546896856365616e-12, -1.0686384878595699e-13, 6.922994731568514e-15,
        -4.2206977859554213e-16, 2.4293638771014827e-17, -1.3239046491394114e-18,
        6.850372055493153e-20, -3.3785605436248036e-21, 1.586424356437966e-22,
        -6.962161842828361e-24, 3.0031343413303132e-25, -1.526238009232898e-26,
        5.96528030357854e-28,
    };

    /** Values per loop iteration (a float vector, two double vectors). */
    static int step() {
        return FL;
    }

    /**
     * {@code erf z} by the polynomial, {@code z = x * INV_SQRT2}, as {@link #block} evaluates it
     * (one lane); for the tests, which measure its distance to the exact erfs.
     */
    static double polynomialErf(double x) {
        double z = x * INV_SQRT2;
        double s = z * z - CENTER;
        double p = COEFFICIENTS[COEFFICIENTS.length - 1];
        for (int k = COEFFICIENTS.length - 2; k >= 0; k--) {
            p = Math.fma(p, s, COEFFICIENTS[k]);
        }
        return z * p;
    }

    /**
     * {@code r[j] = gelu(r[j])} for {@code j} in {@code [from, to)}, bit-identical to
     * {@link TransformerOps#gelu(float)}.
     */
    static void geluRange(float[] r, int from, int to) {
        double tolerance = TRANSFORMER_TOLERANCE;
        float[] scratch = new float[4 * FL];
        int m = from + (to - from) / FL * FL;
        for (int b0 = from; b0 < m; b0 += BLOCK) {
            block(r, b0, Math.min(m, b0 + BLOCK), tolerance, scratch);
        }
        for (int j = m; j < to; j++) {
            r[j] = scalarGelu(r[j]);
        }
    }

    /**
     * The GELU of {@code r[from, to)} ({@code to - from} a multiple of {@link #step()}, at most
     * {@link #BLOCK}; one block per call, as the class's compilation unit), a float vector
     * ({@code FL} lanes, two double vectors) at a time: {@code x} widened to float64, {@code g = (0.5 x)(1 + e)} with
     * {@code e = z P(z^2 - CENTER)}, {@code z = x INV_SQRT2}, and the ends {@code g -+ w} of its
     * interval, {@code w = |x| tolerance + |g| 2^-50 + MIN_NORMAL} ({@link ErfTable#roundsLikeAnything}'s
     * widening), each rounded to float. Where for every lane both ends round to the same float and
     * {@code X_SMALL <= |x| < X_LIMIT}, that float is the exact GELU and is stored; otherwise the
     * vector's values go through {@link #fixLanes}. Lanes of {@code |x| >= X_LIMIT} (including
     * NaN and infinities) may compute meaningless ends, which are never used.
     */
    static void block(float[] r, int from, int to, double tolerance, float[] scratch) {
        DoubleVector invSqrt2 = DoubleVector.broadcast(D, INV_SQRT2);
        DoubleVector center = DoubleVector.broadcast(D, CENTER);
        DoubleVector half = DoubleVector.broadcast(D, 0.5);
        DoubleVector one = DoubleVector.broadcast(D, 1.0);
        DoubleVector tol = DoubleVector.broadcast(D, tolerance);
        DoubleVector widen = DoubleVector.broadcast(D, 0x1p-50);
        DoubleVector tiny = DoubleVector.broadcast(D, Double.MIN_NORMAL);
        FloatVector limit = FloatVector.broadcast(F, X_LIMIT);
        FloatVector small = FloatVector.broadcast(F, X_SMALL);
        double[] c = COEFFICIENTS;
        int top = c.length - 1;
        for (int j = from; j < to; j += FL) {
            FloatVector xf = FloatVector.fromArray(F, r, j);
            DoubleVector x0 = (DoubleVector) xf.convertShape(VectorOperators.F2D, D, 0);
            DoubleVector x1 = (DoubleVector) xf.convertShape(VectorOperators.F2D, D, 1);
            DoubleVector z0 = x0.mul(invSqrt2);
            DoubleVector z1 = x1.mul(invSqrt2);
            DoubleVector s0 = z0.mul(z0).sub(center);
            DoubleVector s1 = z1.mul(z1).sub(center);
            DoubleVector p0 = DoubleVector.broadcast(D, c[top]);
            DoubleVector p1 = DoubleVector.broadcast(D, c[top]);
            for (int k = top - 1; k >= 0; k--) {
                DoubleVector ck = DoubleVector.broadcast(D, c[k]);
                p0 = p0.fma(s0, ck);
                p1 = p1.fma(s1, ck);
            }
            DoubleVector g0 = x0.mul(half).mul(z0.mul(p0).add(one));
            DoubleVector g1 = x1.mul(half).mul(z1.mul(p1).add(one));
            DoubleVector w0 = x0.lanewise(VectorOperators.ABS).mul(tol)
                    .add(g0.lanewise(VectorOperators.ABS).mul(widen)).add(tiny);
            DoubleVector w1 = x1.lanewise(VectorOperators.ABS).mul(tol)
                    .add(g1.lanewise(VectorOperators.ABS).mul(widen)).add(tiny);
            // each end narrows into the low half of a float vector (the high half zero, equal in
            // both ends); the halves meet in the scratch, whose second store overlaps the first's zeros
            FloatVector lo0 = (FloatVector) g0.sub(w0).convertShape(VectorOperators.D2F, F, 0);
            FloatVector hi0 = (FloatVector) g0.add(w0).convertShape(VectorOperators.D2F, F, 0);
            FloatVector lo1 = (FloatVector) g1.sub(w1).convertShape(VectorOperators.D2F, F, 0);
            FloatVector hi1 = (FloatVector) g1.add(w1).convertShape(VectorOperators.D2F, F, 0);
            FloatVector ax = xf.lanewise(VectorOperators.ABS);
            boolean kept = ax.lt(limit).and(ax.compare(VectorOperators.GE, small)).allTrue()
                    && lo0.eq(hi0).allTrue() && lo1.eq(hi1).allTrue();
            lo0.intoArray(scratch, 0);
            lo1.intoArray(scratch, FL / 2);
            if (kept) {
                System.arraycopy(scratch, 0, r, j, FL);
            } else {
                hi0.intoArray(scratch, 2 * FL);
                hi1.intoArray(scratch, 2 * FL + FL / 2);
                fixLanes(r, j, scratch);
            }
        }
    }

    /**
     * The lanes {@code r[j, j + FL)} of a vector that was not kept whole: a lane whose ends
     * ({@code scratch[i]}, {@code scratch[2 FL + i]}) agree, with {@code X_SMALL <= |x| < X_LIMIT},
     * takes the float; the others {@link #scalarGelu}.
     */
    private static void fixLanes(float[] r, int j, float[] scratch) {
        for (int i = 0; i < FL; i++) {
            float x = r[j + i];
            float lo = scratch[i];
            float ax = Math.abs(x);
            r[j + i] = lo == scratch[2 * FL + i] && ax < X_LIMIT && ax >= X_SMALL ? lo : scalarGelu(x);
        }
    }

    /** The plain path's GELU of one value: the table shortcut where it decides, else the exact series. */
    private static float scalarGelu(float x) {
        float out = TransformerOps.geluShortcut(x);
        return out == out ? out : TransformerOps.gelu(x);
    }
}
