package io.vocodex.nn;

/**
 * A per-stream buffer of pending columns {@code (C, len)} that grows by appending and shrinks by
 * dropping from the front, reusing its arrays (streaming steps allocate only when it must grow).
 */
final class GrowableFrames {
    float[][] data;
    int len;

    GrowableFrames(int channels, int capacity) {
        data = new float[channels][Math.max(16, capacity)];
    }

    int channels() {
        return data.length;
    }

    void append(float[][] x) {
        int n = Frames.length(x);
        if (n == 0) {
            return;
        }
        ensure(len + n);
        for (int c = 0; c < data.length; c++) {
            System.arraycopy(x[c], 0, data[c], len, n);
        }
        len += n;
    }

    void ensure(int cap) {
        if (cap <= data[0].length) {
            return;
        }
        int nc = Math.max(cap, data[0].length * 2);
        for (int c = 0; c < data.length; c++) {
            float[] r = new float[nc];
            System.arraycopy(data[c], 0, r, 0, len);
            data[c] = r;
        }
    }

    void dropFront(int n) {
        if (n <= 0) {
            return;
        }
        for (int c = 0; c < data.length; c++) {
            System.arraycopy(data[c], n, data[c], 0, len - n);
        }
        len -= n;
    }

    /** A copy of columns {@code [from, to)}. */
    float[][] copy(int from, int to) {
        float[][] y = new float[data.length][to - from];
        for (int c = 0; c < data.length; c++) {
            System.arraycopy(data[c], from, y[c], 0, to - from);
        }
        return y;
    }
}
