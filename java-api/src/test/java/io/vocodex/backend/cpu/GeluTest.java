package io.vocodex.backend.cpu;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * DistilCodec's GELU in float arithmetic ({@link NnOps#gelu(float)}): within 6 ulp of the exact
 * GELU rounded to float wherever that is a normal float and {@code |x| < 13} (a float64 reference
 * through {@code erfc}, so the negative tail is measured in relative terms too), the stated
 * behaviour beyond, and the spans ({@link NnOps#geluSpan}: Vector API passes or the scalar loop,
 * whichever this surefire execution runs) bit-identical to the scalar function.
 */
class GeluTest {
    /** {@code 0.5 x erfc(-x / sqrt 2)} in float64, with no cancellation in either tail. */
    static double exactGelu(double x) {
        double z = -x / Math.sqrt(2.0);
        double erfc;
        if (z >= 3) {
            erfc = TransformerOps.erfcContinuedFraction(z);
        } else if (z <= -3) {
            erfc = 2 - TransformerOps.erfcContinuedFraction(-z);
        } else {
            erfc = 1 - TransformerOps.erf(z);
        }
        return 0.5 * x * erfc;
    }

    /** Distance in float steps between two finite floats of the same sign (or zeros). */
    static long ulps(float a, float b) {
        return Math.abs((long) Float.floatToRawIntBits(a) - Float.floatToRawIntBits(b));
    }

    @Test
    void withinSixUlpOfTheExactGelu() {
        long[] histogram = new long[8];
        long worst = 0;
        float worstAt = 0;
        long checked = 0;
        for (long bits = 7; bits < (1L << 32); bits += 61) {
            float x = Float.intBitsToFloat((int) bits);
            if (!(Math.abs(x) < NnOps.GELU_A_MAX)) {
                continue;
            }
            double exact = exactGelu(x);
            float want = (float) exact;
            float got = NnOps.gelu(x);
            if (Math.abs(want) < Float.MIN_NORMAL) {
                // subnormal results (|x| below ~2.4e-38): within two of the smallest steps
                assertTrue(Math.abs(got - exact) <= 2 * Float.MIN_VALUE, "gelu(" + x + ") = " + got + ", exact " + exact);
                continue;
            }
            long u = Math.signum(got) == Math.signum(want) ? ulps(got, want) : Long.MAX_VALUE;
            if (u > 6) {
                fail("gelu(" + x + ") = " + got + ", exact " + exact + " (" + want + "): " + u + " ulp");
            }
            histogram[(int) u]++;
            if (u > worst) {
                worst = u;
                worstAt = x;
            }
            checked++;
        }
        System.out.printf("NnOps.gelu vs exact, %d floats |x| < 13: ulp histogram %s, worst %d at %s%n",
                checked, java.util.Arrays.toString(histogram), worst, worstAt);
        assertTrue(checked > 30_000_000, "the sweep covered the range: " + checked);
        assertTrue(histogram[0] > checked / 2, "most values exact: " + histogram[0]);
    }

    /** Every float of three dense bands: around x = -1, 0.75 and -12.9 (the deep tail, up to the limit). */
    @Test
    void denseBandsWithinSixUlp() {
        for (float centre : new float[] {-1f, -12.9f, 0.75f}) {
            int c = Float.floatToRawIntBits(centre);
            for (int b = c - 300_000; b < c + 300_000; b++) {
                float x = Float.intBitsToFloat(b);
                if (!(Math.abs(x) < NnOps.GELU_A_MAX)) {
                    continue;
                }
                float want = (float) exactGelu(x);
                float got = NnOps.gelu(x);
                assertTrue(Math.signum(got) == Math.signum(want) && ulps(got, want) <= 6,
                        "gelu(" + x + ") = " + got + ", exact " + want);
            }
        }
    }

    @Test
    void beyondThirteenAndSpecials() {
        for (float x : new float[] {13f, 13.5f, 20f, 1e10f, Float.MAX_VALUE, Float.POSITIVE_INFINITY}) {
            assertEquals(x, NnOps.gelu(x), "gelu(" + x + ") = x");
        }
        for (float x : new float[] {-13f, -13.5f, -20f, -1e10f, -Float.MAX_VALUE, Float.NEGATIVE_INFINITY}) {
            float g = NnOps.gelu(x);
            assertTrue(g <= 0 && g > -1e-37f, "gelu(" + x + ") = " + g + ": a negligible tail");
        }
        assertTrue(Float.isNaN(NnOps.gelu(Float.NaN)));
        assertTrue(Float.isNaN(NnOps.gelu(Float.intBitsToFloat(0xffc00001))));
        assertEquals(0f, NnOps.gelu(0f));
        assertEquals(0f, NnOps.gelu(-0f), 0f);
        assertEquals(Math.nextDown(13f), NnOps.gelu(Math.nextDown(13f)), "x - tail rounds to x well before 13");
    }

    /** The spans (vector passes with their remainders, or the scalar loop) give the scalar function's bits. */
    @Test
    void spansEqualTheScalarFunction() {
        float[] x = new float[1003];
        float[] got = new float[x.length];
        for (long bits = 3; bits < (1L << 32); ) {
            int n = 0;
            for (; n < x.length && bits < (1L << 32); n++, bits += 97 * 61) {
                x[n] = Float.intBitsToFloat((int) bits);
            }
            System.arraycopy(x, 0, got, 0, n);
            NnOps.geluSpan(got, 1, n);
            for (int i = 1; i < n; i++) {
                float want = NnOps.gelu(x[i]);
                if (Float.floatToRawIntBits(want) != Float.floatToRawIntBits(got[i]) && !(Float.isNaN(want) && Float.isNaN(got[i]))) {
                    fail("span gelu(" + x[i] + ") = " + got[i] + ", scalar " + want);
                }
            }
            assertEquals(Float.floatToRawIntBits(x[0]), Float.floatToRawIntBits(got[0]), "outside the span");
        }
        SplittableRandom r = new SplittableRandom(11);
        for (int trial = 0; trial < 300; trial++) {
            float[] v = new float[1 + r.nextInt(700)];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (r.nextGaussian() * (trial % 3 == 0 ? 6 : 0.8));
            }
            int from = r.nextInt(v.length);
            int to = from + r.nextInt(v.length - from + 1);
            float[] g = v.clone();
            NnOps.geluSpan(g, from, to);
            for (int i = 0; i < v.length; i++) {
                float want = i >= from && i < to ? NnOps.gelu(v[i]) : v[i];
                assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(g[i]), "at " + i + " of [" + from + ", " + to + ")");
            }
        }
    }
}
