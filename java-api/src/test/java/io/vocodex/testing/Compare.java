package io.vocodex.testing;

import static org.junit.jupiter.api.Assertions.fail;

/** Tensor comparisons that say where and by how much they differ. */
public final class Compare {
    private Compare() {
    }

    /** Max |a-b| <= tol, else fails with the index of the max diff and a few pairs. */
    public static void maxAbs(String what, float[] expected, float[] actual, double tol) {
        if (expected.length != actual.length) {
            fail(what + ": length " + actual.length + ", expected " + expected.length);
        }
        double max = 0;
        int at = -1;
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs((double) expected[i] - actual[i]);
            if (!(d <= max)) {
                max = d;
                at = i;
            }
        }
        if (!(max <= tol)) {
            StringBuilder sb = new StringBuilder(what + ": max |diff| " + max + " at " + at + " > " + tol + "; pairs (i: expected, actual):");
            for (int i = Math.max(0, at - 2); i < Math.min(expected.length, at + 3); i++) {
                sb.append(" ").append(i).append(": ").append(expected[i]).append(", ").append(actual[i]).append(";");
            }
            fail(sb.toString());
        }
    }

    /** ||a-b|| / ||a|| <= tol. */
    public static double relL2(String what, float[] expected, float[] actual, double tol) {
        if (expected.length != actual.length) {
            fail(what + ": length " + actual.length + ", expected " + expected.length);
        }
        double num = 0;
        double den = 0;
        for (int i = 0; i < expected.length; i++) {
            double d = (double) expected[i] - actual[i];
            num += d * d;
            den += (double) expected[i] * expected[i];
        }
        double rel = Math.sqrt(num / Math.max(den, 1e-30));
        if (!(rel <= tol)) {
            fail(what + ": relative L2 error " + rel + " > " + tol);
        }
        return rel;
    }

    public static float[] flatten(float[][] x) {
        int n = 0;
        for (float[] r : x) {
            n += r.length;
        }
        float[] y = new float[n];
        int o = 0;
        for (float[] r : x) {
            System.arraycopy(r, 0, y, o, r.length);
            o += r.length;
        }
        return y;
    }
}
