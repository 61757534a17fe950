package io.vocodex.backend.cpu;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The transformers' table-erf GELU ({@link TransformerOps#geluRange}) is bit-identical to the exact
 * scalar evaluation ({@link TransformerOps#gelu(float)}, through erf's series and continued
 * fraction): over a sweep of float
 * bit patterns through every exponent, and edge values; {@link ErfTable}'s error bounds hold with
 * margin; and the shortcut's refusals (the exact fallback) really happen. (DistilCodec's GELU,
 * {@link NnOps#gelu(float)}, is a float function instead: GeluTest.)
 */
class GeluShortcutTest {
    private static final float SQRT2 = (float) Math.sqrt(2);

    /** Applies one GELU implementation to {@code row[0, n)} in place. */
    private interface RowGelu {
        void apply(float[] row, int n);
    }

    private static final RowGelu TRANSFORMER_NEW = (row, n) -> TransformerOps.geluRange(row, 0, n);
    // the exact scalar evaluations (erf's series / continued fraction), which the previous
    // element-parallel series were bit-identical to
    private static final RowGelu TRANSFORMER_OLD = (row, n) -> {
        for (int i = 0; i < n; i++) {
            row[i] = TransformerOps.gelu(row[i]);
        }
    };

    private static void assertSameBits(float[] x, float[] want, float[] got, int n, String what) {
        for (int j = 0; j < n; j++) {
            if (Float.floatToRawIntBits(want[j]) != Float.floatToRawIntBits(got[j])
                    && !(Float.isNaN(want[j]) && Float.isNaN(got[j]))) {
                fail(what + " gelu(" + x[j] + " = 0x" + Integer.toHexString(Float.floatToRawIntBits(x[j])) + "): "
                        + want[j] + " (old) vs " + got[j] + " (new)");
            }
        }
    }

    /** Every {@code stride}-th float bit pattern from {@code start}, in rows of 1000; returns the count. */
    private static long sweep(long start, long stride, RowGelu oldGelu, RowGelu newGelu, String what) {
        float[] x = new float[1000];
        float[] want = new float[1000];
        float[] got = new float[1000];
        long count = 0;
        for (long bits = start; bits < (1L << 32); ) {
            int n = 0;
            for (; n < x.length && bits < (1L << 32); n++, bits += stride) {
                x[n] = Float.intBitsToFloat((int) bits);
            }
            System.arraycopy(x, 0, want, 0, n);
            System.arraycopy(x, 0, got, 0, n);
            oldGelu.apply(want, n);
            newGelu.apply(got, n);
            assertSameBits(x, want, got, n, what);
            count += n;
        }
        return count;
    }

    @Test
    void transformerGeluMatchesTheSeriesOverEvery97thFloat() {
        assertTrue(44_000_000 < sweep(0, 97, TRANSFORMER_OLD, TRANSFORMER_NEW, "TransformerOps"));
    }

    /** Every float with {@code |x| < 8.5} (so {@code |z| < 6}) in a band of bit patterns, densely. */
    @Test
    void denseBandsAroundOneAndMinusFour() {
        long one = Float.floatToRawIntBits(1f) & 0xffffffffL;
        long minusFour = Float.floatToRawIntBits(-4f) & 0xffffffffL;
        for (long start : new long[] {one - 400_000, minusFour - 400_000}) {
            float[] x = new float[800_000];
            for (int i = 0; i < x.length; i++) {
                x[i] = Float.intBitsToFloat((int) (start + i));
            }
            float[] want = x.clone();
            float[] got = x.clone();
            TRANSFORMER_OLD.apply(want, want.length);
            TRANSFORMER_NEW.apply(got, got.length);
            assertSameBits(x, want, got, x.length, "band at " + x[0]);
        }
    }

    static float[] edgeValues() {
        List<Float> v = new ArrayList<>();
        float six = 6 * SQRT2;
        float three = 3 * SQRT2;
        for (float b : new float[] {six, three, 1f, 2f, 4f, 8f, 0.5f, VectorGelu.X_LIMIT}) {
            float f = b;
            for (int k = 0; k < 40; k++) { // the branch points' neighbourhoods, and ulp-changing powers of two
                v.add(f);
                v.add(-f);
                f = Math.nextDown(f);
            }
            f = b;
            for (int k = 0; k < 40; k++) {
                f = Math.nextUp(f);
                v.add(f);
                v.add(-f);
            }
        }
        for (float x = -8.5f; x < 8.5f; x += 0.0009765625f) {
            v.add(x);
        }
        float[] specials = {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, 3 * Float.MIN_VALUE, Float.MIN_NORMAL,
            -Float.MIN_NORMAL, Math.nextDown(Float.MIN_NORMAL), -Math.nextDown(Float.MIN_NORMAL), 1e-20f, -1e-20f,
            1e-7f, -1e-7f, Float.NaN, Float.intBitsToFloat(0xffc00001), Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
            Float.MAX_VALUE, -Float.MAX_VALUE, 38f, -38f, 1e30f, -1e30f, -8.4f, -8f, -7.5f, -7f, -6.5f, -6f, -5.5f, -5f};
        for (float s : specials) {
            v.add(s);
        }
        float[] out = new float[v.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = v.get(i);
        }
        return out;
    }

    @Test
    void edgeValuesMatchTheSeriesAndTheScalarGelu() {
        float[] x = edgeValues();
        float[] want = x.clone();
        float[] got = x.clone();
        TRANSFORMER_OLD.apply(want, want.length);
        TRANSFORMER_NEW.apply(got, got.length);
        assertSameBits(x, want, got, x.length, "edges");
        float[] gotT = x.clone();
        TransformerOps.geluInPlace(new float[][] {gotT});
        assertSameBits(x, want, gotT, x.length, "TransformerOps scalar");
    }

    /**
     * The shortcut refuses some inputs (so the exact fallback runs), and the fallback agrees: positive
     * inputs whose GELU falls next to a rounding midpoint (every float in [0.18, 0.22) holds four, e.g.
     * 0.1827283), and large negative ones where {@code 1 + erf} cancels (most of them below -4).
     */
    @Test
    void theExactFallbackIsTakenAndAgrees() {
        int[] refused = new int[2];
        int accepted = 0;
        for (int bits = Float.floatToRawIntBits(0.18f); bits < Float.floatToRawIntBits(0.22f); bits++) {
            float x = Float.intBitsToFloat(bits);
            float t = TransformerOps.geluShortcut(x);
            float want = TransformerOps.gelu(x);
            if (Float.isNaN(t)) {
                refused[0]++;
                assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(TransformerOps.gelu(x)), "fallback at " + x);
            } else {
                accepted++;
                assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(t), "shortcut at " + x);
            }
        }
        for (float x = -4f; x > -8.48f; x -= 0.001f) {
            refused[1] += Float.isNaN(TransformerOps.geluShortcut(x)) ? 1 : 0;
        }
        System.out.printf("gelu shortcut refusals: x in [0.18, 0.22): %d of %d; x in (-8.48, -4]: %d of 4480%n",
                refused[0], accepted + refused[0], refused[1]);
        assertTrue(refused[0] > 0, "the midpoint test refuses some positive inputs");
        assertTrue(refused[0] < 100, "but rarely");
        assertTrue(refused[1] > 1000 && refused[1] < 4400, "1 + erf cancels for large negative x: many refusals, but not all");
        assertTrue(Float.isNaN(TransformerOps.geluShortcut(0f)) && Float.isNaN(TransformerOps.geluShortcut(-0f)), "zero results are refused");
        assertTrue(Float.isNaN(TransformerOps.geluShortcut(Float.NaN)) && Float.isNaN(TransformerOps.geluShortcut(9f)), "beyond the table");
    }

    /** The midpoint check itself, on constructed doubles next to rounding midpoints, incl. where the ulp changes. */
    @Test
    void roundsLikeAnythingRefusesNearMidpoints() {
        for (float f : new float[] {1f, 1.5f, -1f, -3.25f, 2f, 0.125f, Float.MIN_NORMAL, 3 * Float.MIN_VALUE, 1e-20f}) {
            double up = ((double) f + Math.nextUp(f)) / 2;
            double down = ((double) f + Math.nextDown(f)) / 2;
            double tol = Math.abs(f) * 1e-14;
            assertTrue(ErfTable.roundsLikeAnything(f, f, tol), "f itself, " + f);
            assertFalse(ErfTable.roundsLikeAnything(Math.nextDown(up), (float) Math.nextDown(up), tol), "below up-midpoint of " + f);
            assertFalse(ErfTable.roundsLikeAnything(Math.nextUp(down), (float) Math.nextUp(down), tol), "above down-midpoint of " + f);
            double justInside = f + (up - f) * (1 - 1e-6);
            assertEquals(f, (float) justInside);
            assertTrue(ErfTable.roundsLikeAnything(justInside, f, Math.abs(f) * 1e-14) == (Math.abs(up - justInside) > 2e-14 * Math.abs(f)),
                    "decided by the distance to the midpoint, " + f);
        }
        assertFalse(ErfTable.roundsLikeAnything(0.0, 0f, 0));
        assertFalse(ErfTable.roundsLikeAnything(-1e-300, -0f, 0));
    }

    /** ErfTable stays within half its stated bounds of the exact erf (the bounds carry a 4x margin). */
    @Test
    void erfTableBoundsHoldWithMargin() {
        SplittableRandom r = new SplittableRandom(2024);
        for (int u = 0; u < 6; u++) {
            double maxT = 0;
            for (int k = 0; k < 200_000; k++) {
                double a = k < 2000 ? u + k / 2000.0 : u + r.nextDouble();
                double fast = ErfTable.erf(a);
                maxT = Math.max(maxT, Math.abs(fast - TransformerOps.erf(a)));
            }
            assertTrue(maxT <= ErfTable.BOUND_VS_TRANSFORMER_ERF[u] / 2, "TransformerOps.erf on [" + u + ", " + (u + 1) + "): " + maxT);
            assertTrue(maxT < 3e-15, "absolute accuracy " + maxT);
        }
        assertEquals(0.0, ErfTable.erf(0.0));
        assertEquals(TransformerOps.erf(1.0), ErfTable.erf(1.0)); // a grid point: the constant term itself
    }
    /**
     * VectorGelu's polynomial erf stays within half its stated bound of the exact erf (at
     * {@code z = x / sqrt 2}, as TransformerOps computes it; the kernel's {@code x * (1/sqrt 2)} is in the bound), over random floats
     * {@code |x| < X_LIMIT} and a dense band near the limit; and the vector path itself is bit-identical
     * when enabled (the sweeps above run it; this states which path ran).
     */
    @Test
    void polynomialErfBoundsHoldWithMargin() {
        SplittableRandom r = new SplittableRandom(77);
        double maxT = 0;
        float limit = VectorGelu.X_LIMIT;
        for (int k = 0; k < 3_000_000; k++) {
            float x = k < 200_000 ? Math.nextDown(limit) - k * Math.ulp(limit) : (float) ((r.nextDouble() * 2 - 1) * limit);
            x = k % 2 == 0 ? x : -x;
            double poly = VectorGelu.polynomialErf(x);
            maxT = Math.max(maxT, Math.abs(poly - TransformerOps.erf((double) x / Math.sqrt(2.0))));
        }
        System.out.printf("VectorGelu polynomial erf: max distance %.3g to TransformerOps.erf%n", maxT);
        assertTrue(maxT <= VectorGelu.BOUND_VS_TRANSFORMER_ERF / 2, "TransformerOps.erf: " + maxT);
        assertTrue(maxT > 0 && maxT < 6e-15, "a real distance, a few ulps: " + maxT);
        assertTrue(Math.pow(VectorGelu.X_LIMIT * VectorGelu.INV_SQRT2, 2) < 9 && Math.pow(VectorGelu.X_LIMIT / Math.sqrt(2.0), 2) < 9,
                "the limit keeps z^2 inside the fitted range");
    }
    /** Ranges at any offset and length (the vector path's remainders and partial blocks), model-like values. */
    @Test
    void unalignedRangesMatchTheScalarGelu() {
        SplittableRandom r = new SplittableRandom(5);
        for (int trial = 0; trial < 300; trial++) {
            float[] x = new float[1 + r.nextInt(700)];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (r.nextGaussian() * (trial % 3 == 0 ? 4 : 0.8));
            }
            int from = r.nextInt(x.length);
            int to = from + r.nextInt(x.length - from + 1);
            float[] gotT = x.clone();
            TransformerOps.geluRange(gotT, from, to);
            for (int i = 0; i < x.length; i++) {
                boolean inside = i >= from && i < to;
                float wantT = inside ? TransformerOps.gelu(x[i]) : x[i];
                assertEquals(Float.floatToRawIntBits(wantT), Float.floatToRawIntBits(gotT[i]), "TransformerOps at " + i + " of [" + from + ", " + to + ")");
            }
        }
    }
}
