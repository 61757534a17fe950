package io.vocodex;

import java.util.Arrays;

/**
 * Discrete codes of a codec: {@code codes[codebook][frame]}, plus the frame rate and the size of
 * each codebook. Row {@code k} holds the codes of quantizer {@code k}; for residual VQ the first
 * rows are the coarse ones, so the first {@code n} rows alone are a valid lower-bitrate encoding.
 *
 * <pre>{@code
 * Tokens t = codec.encode(audio, 6.0);
 * int[][] codes = t.codes();          // [codebooks][frames]
 * Tokens coarse = t.firstCodebooks(2); // 1.5 kbps for EnCodec 24 kHz
 * }</pre>
 */
public final class Tokens {
    private final int[][] codes;
    private final double frameRate;
    private final int codebookSize;

    public Tokens(int[][] codes, double frameRate, int codebookSize) {
        if (codes == null) {
            throw new VocodexException("codes are null");
        }
        int frames = codes.length == 0 ? 0 : codes[0].length;
        for (int k = 0; k < codes.length; k++) {
            if (codes[k].length != frames) {
                throw new VocodexException("codebook " + k + " has " + codes[k].length + " frames, codebook 0 has " + frames);
            }
            for (int t = 0; t < frames; t++) {
                if (codes[k][t] < 0 || codes[k][t] >= codebookSize) {
                    throw new VocodexException("code " + codes[k][t] + " at codebook " + k + ", frame " + t
                            + " is outside [0, " + codebookSize + ")");
                }
            }
        }
        this.codes = codes;
        this.frameRate = frameRate;
        this.codebookSize = codebookSize;
    }

    /** The codes {@code [codebooks][frames]} (shared, not a copy). */
    public int[][] codes() {
        return codes;
    }

    public int numCodebooks() {
        return codes.length;
    }

    public int numFrames() {
        return codes.length == 0 ? 0 : codes[0].length;
    }

    public double frameRate() {
        return frameRate;
    }

    public int codebookSize() {
        return codebookSize;
    }

    /** The first {@code n} codebooks (a lower bitrate of the same encoding). */
    public Tokens firstCodebooks(int n) {
        if (n < 1 || n > codes.length) {
            throw new VocodexException("asked for " + n + " codebooks, have " + codes.length);
        }
        return new Tokens(Arrays.copyOf(codes, n), frameRate, codebookSize);
    }

    /** Frames {@code [from, to)} of every codebook. */
    public Tokens frames(int from, int to) {
        int[][] out = new int[codes.length][];
        for (int k = 0; k < codes.length; k++) {
            out[k] = Arrays.copyOfRange(codes[k], from, to);
        }
        return new Tokens(out, frameRate, codebookSize);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Tokens && Arrays.deepEquals(codes, ((Tokens) o).codes)
                && codebookSize == ((Tokens) o).codebookSize;
    }

    @Override
    public int hashCode() {
        return Arrays.deepHashCode(codes);
    }

    @Override
    public String toString() {
        return "Tokens[" + numCodebooks() + " x " + numFrames() + " @ " + frameRate + " Hz, " + codebookSize + " codes]";
    }
}
