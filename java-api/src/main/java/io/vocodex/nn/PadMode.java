package io.vocodex.nn;

import io.vocodex.VocodexException;

/** How a conv pads its input, as PyTorch's {@code F.pad} modes used by the original codecs. */
public enum PadMode {
    /** Zeros ({@code "constant"} in PyTorch, {@code "zeros"} in nn.Conv1d). */
    CONSTANT,
    /** Mirror without repeating the edge sample. */
    REFLECT,
    /** Repeat the edge sample. */
    REPLICATE;

    /** Parses a PyTorch pad mode name. */
    public static PadMode parse(String s) {
        return switch (s) {
            case "constant", "zeros", "zero" -> CONSTANT;
            case "reflect" -> REFLECT;
            case "replicate" -> REPLICATE;
            default -> throw new VocodexException("unsupported pad_mode \"" + s + "\" (supported: constant, reflect, replicate)");
        };
    }

    /**
     * Pads {@code x (C, L)} by {@code left}/{@code right} columns. For REFLECT on an input no longer
     * than the padding it first extends the input with zeros, as EnCodec's {@code pad1d} does so that
     * very short inputs still pad.
     */
    public float[][] pad(float[][] x, int left, int right) {
        int len = Frames.length(x);
        if (this == REFLECT) {
            int maxPad = Math.max(left, right);
            if (len <= maxPad) {
                int extra = maxPad - len + 1;
                float[][] ext = new float[x.length][len + extra];
                for (int c = 0; c < x.length; c++) {
                    System.arraycopy(x[c], 0, ext[c], 0, len);
                }
                float[][] padded = REFLECT.pad(ext, left, right);
                return Frames.slice(padded, 0, Frames.length(padded) - extra);
            }
        }
        float[][] y = new float[x.length][len + left + right];
        for (int c = 0; c < x.length; c++) {
            float[] src = x[c];
            float[] dst = y[c];
            System.arraycopy(src, 0, dst, left, len);
            for (int i = 0; i < left; i++) {
                dst[left - 1 - i] = leftValue(src, len, i + 1);
            }
            for (int i = 0; i < right; i++) {
                dst[left + len + i] = rightValue(src, len, i + 1);
            }
        }
        return y;
    }

    /**
     * Whether {@link #fillPadding} can pad an input of {@code len} samples by {@code left}/{@code right}
     * (every mode, except REFLECT on an input no longer than its padding, which {@link #pad} extends first).
     */
    boolean padsInPlace(int len, int left, int right) {
        return this != REFLECT || len > Math.max(left, right);
    }

    /**
     * Fills {@code row[0, left)} and {@code row[left+len, left+len+right)} from the samples at
     * {@code row[left, left+len)}, as {@link #pad} does (when {@link #padsInPlace}).
     */
    void fillPadding(float[] row, int left, int len, int right) {
        for (int i = 0; i < left; i++) {
            row[left - 1 - i] = switch (this) {
                case CONSTANT -> 0f;
                case REFLECT -> row[left + i + 1];
                case REPLICATE -> row[left];
            };
        }
        for (int i = 0; i < right; i++) {
            row[left + len + i] = switch (this) {
                case CONSTANT -> 0f;
                case REFLECT -> row[left + len - 2 - i];
                case REPLICATE -> row[left + len - 1];
            };
        }
    }

    /** The value {@code d >= 1} positions before sample 0. */
    float leftValue(float[] src, int len, int d) {
        return switch (this) {
            case CONSTANT -> 0f;
            case REFLECT -> src[d];
            case REPLICATE -> src[0];
        };
    }

    /** The value {@code d >= 1} positions after sample {@code len-1}. */
    float rightValue(float[] src, int len, int d) {
        return switch (this) {
            case CONSTANT -> 0f;
            case REFLECT -> src[len - 1 - d];
            case REPLICATE -> src[len - 1];
        };
    }
}
