package io.vocodex.nn;

/** Small helpers for channel-major {@code float[C][T]} activations. */
public final class Frames {
    private Frames() {
    }

    public static float[][] empty(int channels) {
        return new float[channels][0];
    }

    public static int length(float[][] x) {
        return x.length == 0 ? 0 : x[0].length;
    }

    /** {@code a ++ b} along time. */
    public static float[][] concat(float[][] a, float[][] b) {
        int la = length(a);
        int lb = length(b);
        if (lb == 0) {
            return a;
        }
        if (la == 0) {
            return b;
        }
        float[][] y = new float[a.length][la + lb];
        for (int c = 0; c < a.length; c++) {
            System.arraycopy(a[c], 0, y[c], 0, la);
            System.arraycopy(b[c], 0, y[c], la, lb);
        }
        return y;
    }

    /** Columns {@code [from, to)}. */
    public static float[][] slice(float[][] x, int from, int to) {
        float[][] y = new float[x.length][to - from];
        for (int c = 0; c < x.length; c++) {
            System.arraycopy(x[c], from, y[c], 0, to - from);
        }
        return y;
    }
}
