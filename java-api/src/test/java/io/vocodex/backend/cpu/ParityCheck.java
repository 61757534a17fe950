package io.vocodex.backend.cpu;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.Random;

/**
 * Comparison helpers for {@link OpParityTest}: a stated per-element tolerance against the float64
 * reference, and bitwise equality against the naive loops. Failures name the worst element and
 * print a few (expected, actual) pairs around it.
 */
final class ParityCheck {
    /** Worst {@code |a-b| / (atol + rtol*|ref|)} seen by {@link #close}, for the record. */
    static volatile double worstRatio;

    private ParityCheck() {
    }

    /** Asserts {@code |act - ref| <= atol + rtol*|ref|} elementwise (and equal shapes). */
    static void close(String what, double[][] ref, float[][] act, double atol, double rtol) {
        if (ref.length != act.length) {
            fail(what + ": " + act.length + " rows, expected " + ref.length);
        }
        double worst = -1;
        double worstDiff = 0;
        int wc = -1;
        int wt = -1;
        for (int c = 0; c < ref.length; c++) {
            if (ref[c].length != act[c].length) {
                fail(what + ": row " + c + " has " + act[c].length + " columns, expected " + ref[c].length);
            }
            for (int t = 0; t < ref[c].length; t++) {
                double diff = Math.abs(ref[c][t] - act[c][t]);
                double ratio = diff / (atol + rtol * Math.abs(ref[c][t]));
                if (!(ratio <= worst)) { // NaN counts as worst
                    worst = ratio;
                    worstDiff = diff;
                    wc = c;
                    wt = t;
                }
            }
        }
        if (worst > worstRatio) {
            worstRatio = worst;
        }
        if (!(worst <= 1.0)) {
            StringBuilder sb = new StringBuilder(what).append(": max |diff| ").append(worstDiff)
                    .append(" at [").append(wc).append("][").append(wt).append("] exceeds atol ").append(atol)
                    .append(" + rtol ").append(rtol).append(" * |ref|; pairs [t]: ref, actual:");
            for (int t = Math.max(0, wt - 2); t < Math.min(ref[wc].length, wt + 3); t++) {
                sb.append(' ').append(t).append(": ").append(ref[wc][t]).append(", ").append(act[wc][t]).append(';');
            }
            fail(sb.toString());
        }
    }

    /** Asserts bitwise equality (raw float bits, so -0 != +0) and equal shapes. */
    static void bitwise(String what, float[][] expected, float[][] actual) {
        if (expected.length != actual.length) {
            fail(what + ": " + actual.length + " rows, expected " + expected.length);
        }
        for (int c = 0; c < expected.length; c++) {
            bitwise(what + " row " + c, expected[c], actual[c]);
        }
    }

    static void bitwise(String what, float[] expected, float[] actual) {
        if (expected.length != actual.length) {
            fail(what + ": length " + actual.length + ", expected " + expected.length);
        }
        int mismatches = 0;
        int first = -1;
        for (int t = 0; t < expected.length; t++) {
            if (Float.floatToRawIntBits(expected[t]) != Float.floatToRawIntBits(actual[t])) {
                if (first < 0) {
                    first = t;
                }
                mismatches++;
            }
        }
        if (mismatches > 0) {
            StringBuilder sb = new StringBuilder(what).append(": ").append(mismatches)
                    .append(" elements not bit-identical to the naive loops, first at ").append(first)
                    .append("; pairs [t]: naive, optimised:");
            for (int t = Math.max(0, first - 2); t < Math.min(expected.length, first + 3); t++) {
                sb.append(' ').append(t).append(": ").append(expected[t]).append(", ").append(actual[t]).append(';');
            }
            fail(sb.toString());
        }
    }

    /**
     * A zero-padded conv in float64: {@code [0][co][t]} the sum (bias included), {@code [1][co][t]}
     * the sum of the terms' magnitudes (the scale of a float sum's rounding), for {@code t < tout}.
     */
    static double[][][] paddedConvFloat64(float[][] x, float[] w, float[] b, int cout, int k, int stride, int dil,
                                          int padLeft, int tout) {
        int cin = x.length;
        int tin = x[0].length;
        double[][][] r = new double[2][cout][tout];
        for (int co = 0; co < cout; co++) {
            for (int t = 0; t < tout; t++) {
                double sum = b[co];
                double mag = Math.abs(b[co]);
                for (int ci = 0; ci < cin; ci++) {
                    for (int kk = 0; kk < k; kk++) {
                        int i = t * stride + kk * dil - padLeft;
                        if (i >= 0 && i < tin) {
                            double term = (double) w[(co * cin + ci) * k + kk] * x[ci][i];
                            sum += term;
                            mag += Math.abs(term);
                        }
                    }
                }
                r[0][co][t] = sum;
                r[1][co][t] = mag;
            }
        }
        return r;
    }

    static float[][] gaussian(Random rnd, int rows, int cols, double scale) {
        float[][] x = new float[rows][cols];
        for (float[] r : x) {
            for (int i = 0; i < cols; i++) {
                r[i] = (float) (rnd.nextGaussian() * scale);
            }
        }
        return x;
    }

    static float[] gaussian(Random rnd, int n, double scale) {
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            w[i] = (float) (rnd.nextGaussian() * scale);
        }
        return w;
    }

    /** Sprinkles exact zeros, negative zeros and tiny values that round products to signed zero. */
    static void sprinkleSpecials(Random rnd, float[][] x) {
        for (float[] r : x) {
            for (int i = 0; i < r.length; i++) {
                int u = rnd.nextInt(40);
                if (u == 0) {
                    r[i] = 0f;
                } else if (u == 1) {
                    r[i] = -0f;
                } else if (u == 2) {
                    r[i] = (rnd.nextBoolean() ? 1 : -1) * 1e-30f;
                }
            }
        }
    }

    static double maxAbs(float[][] x) {
        double m = 0;
        for (float[] r : x) {
            m = Math.max(m, maxAbs(r));
        }
        return m;
    }

    static double maxAbs(float[] x) {
        double m = 0;
        if (x == null) {
            return 0;
        }
        for (float v : x) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    static double[][] toDouble(float[][] x) {
        double[][] y = new double[x.length][];
        for (int c = 0; c < x.length; c++) {
            y[c] = new double[x[c].length];
            for (int t = 0; t < x[c].length; t++) {
                y[c][t] = x[c][t];
            }
        }
        return y;
    }

    /** The first {@code len} columns of each row. */
    static double[][] truncate(double[][] x, int len) {
        double[][] y = new double[x.length][];
        for (int c = 0; c < x.length; c++) {
            y[c] = java.util.Arrays.copyOf(x[c], len);
        }
        return y;
    }

    static float[][] truncate(float[][] x, int len) {
        float[][] y = new float[x.length][];
        for (int c = 0; c < x.length; c++) {
            y[c] = java.util.Arrays.copyOf(x[c], len);
        }
        return y;
    }
}
