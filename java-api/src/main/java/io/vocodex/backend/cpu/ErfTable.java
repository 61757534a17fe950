package io.vocodex.backend.cpu;

/**
 * A fast float64 error function on {@code [0, 6)} for the GELUs' shortcut: Taylor polynomials of
 * degree {@value #DEGREE} around the grid points {@code x_i = i / 64}, evaluated by Horner around
 * the nearest one ({@code |a - x_i| <= 1/128}). It is not a replacement for the exact erfs
 * ({@link TransformerOps#erf}) but a close estimate of it: the transformers' GELU accepts
 * its float result only where the exact erf provably rounds to the same float (see
 * {@link #roundsLikeAnything}), and recompute the rest exactly.
 *
 * <p>The coefficients come from {@code d^k/dx^k erf x = (-1)^(k-1) (2/sqrt pi) H_(k-1)(x) e^(-x^2)}
 * (physicists' Hermite polynomials, {@code H_(n+1) = 2x H_n - 2n H_(n-1)}), the constant term
 * from {@link TransformerOps#erf} itself; the truncation error is below
 * {@code max|erf^(8)| (1/128)^8 / 8! ~ 1e-19}, so what is left is rounding (a few 1e-16).
 * {@link #BOUND_VS_TRANSFORMER_ERF} bounds the distance to the exact erf per unit interval of
 * {@code a}, with a 4x margin over the largest distance measured
 * (ErfTableTest re-measures it and fails if the margin shrinks below 2).
 *
 * <p>Example: {@code double e = ErfTable.erf(0.5); // 0.5204998778130465, within 1e-15 of erf(0.5)}
 */
final class ErfTable {
    private ErfTable() {
    }

    /** Degree of the local Taylor polynomials. */
    static final int DEGREE = 7;
    /** Grid points per unit of the argument. */
    static final int POINTS_PER_UNIT = 64;
    /** Arguments {@code a} with {@code 0 <= a < LIMIT} are covered. */
    static final double LIMIT = 6.0;

    private static final int STRIDE = DEGREE + 1;

    /**
     * Upper bounds of {@code |erf(a) - TransformerOps.erf(a)|} for {@code a} in {@code [u, u + 1)},
     * u = 0..5 (index {@code (int) a}): about 4x the largest distance measured over 8M random
     * arguments per interval (1.1, 1.8, 2.4e-15 where the series runs, 1.1e-16 under the continued
     * fraction). The series' own rounding dominates (its terms carry up to dozens of roundings).
     */
    static final double[] BOUND_VS_TRANSFORMER_ERF = {5e-15, 8e-15, 1e-14, 1e-15, 1e-15, 1e-15};

    /**
     * Per unit interval of {@code a}, the factor {@code k} such that a GELU {@code 0.5 v (1 + e)}
     * computed with this erf lies within {@code k |v|} of the same expression computed with an exact
     * erf that is within {@code bounds} of it: {@code 0.5 |v| bound} from erf, plus one rounding of
     * {@code 1 + e} in each (at most {@code 2^-52} each, as {@code 1 + e <= 2}) times {@code 0.5 |v|},
     * plus the rounding of each product (at most {@code 2^-53 |v|} each), rounded up.
     */
    static double[] geluToleranceFactors(double[] bounds) {
        double[] k = new double[bounds.length];
        for (int u = 0; u < k.length; u++) {
            k[u] = 0.5 * bounds[u] + 0x1p-52 + 0x1p-50;
        }
        return k;
    }

    /** Tolerance factors ({@link #geluToleranceFactors}) of {@link TransformerOps#geluShortcut}. */
    static final double[] TRANSFORMER_GELU_TOLERANCE = geluToleranceFactors(BOUND_VS_TRANSFORMER_ERF);

    /** {@code [i * STRIDE + k]}: the k-th Taylor coefficient of erf around {@code i / 64}, i = 0..384. */
    private static final double[] COEFFICIENTS = taylorCoefficients();

    /** erf(a) for {@code 0 <= a < 6}, within {@link #BOUND_VS_TRANSFORMER_ERF} of the exact erf. */
    static double erf(double a) {
        int i = (int) (a * POINTS_PER_UNIT + 0.5);
        double d = a - i * (1.0 / POINTS_PER_UNIT); // exact: a and x_i are within a factor 2 (or x_0 = 0)
        int o = i * STRIDE;
        double[] c = COEFFICIENTS;
        double p = c[o + 7];
        p = p * d + c[o + 6];
        p = p * d + c[o + 5];
        p = p * d + c[o + 4];
        p = p * d + c[o + 3];
        p = p * d + c[o + 2];
        p = p * d + c[o + 1];
        return p * d + c[o];
    }

    /**
     * Whether every double within {@code tolerance} of {@code g} rounds to the float {@code f}, which
     * must be {@code (float) g}: rounding is monotone, so it suffices that both ends do. The ends are
     * themselves rounded doubles, so the check widens {@code tolerance} by {@code 2^-50 |g| +}
     * the smallest normal double (more than their rounding). A zero {@code f} is refused (the sign of
     * a zero result is not decided by rounding).
     */
    static boolean roundsLikeAnything(double g, float f, double tolerance) {
        double t = tolerance + Math.abs(g) * 0x1p-50 + Double.MIN_NORMAL;
        return f != 0 && (float) (g - t) == f && (float) (g + t) == f;
    }

    private static double[] taylorCoefficients() {
        int points = (int) (LIMIT * POINTS_PER_UNIT) + 1;
        double[] c = new double[points * STRIDE];
        double[] hermite = new double[DEGREE];
        for (int i = 0; i < points; i++) {
            double x = i / (double) POINTS_PER_UNIT;
            hermite[0] = 1;
            hermite[1] = 2 * x;
            for (int n = 1; n + 1 < DEGREE; n++) {
                hermite[n + 1] = 2 * x * hermite[n] - 2 * n * hermite[n - 1];
            }
            double gauss = 2 / Math.sqrt(Math.PI) * Math.exp(-x * x);
            c[i * STRIDE] = TransformerOps.erf(x);
            double factorial = 1;
            for (int k = 1; k <= DEGREE; k++) {
                factorial *= k;
                double sign = (k & 1) == 1 ? 1 : -1;
                c[i * STRIDE + k] = sign * gauss * hermite[k - 1] / factorial;
            }
        }
        return c;
    }
}
