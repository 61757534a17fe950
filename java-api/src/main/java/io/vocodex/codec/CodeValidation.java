package io.vocodex.codec;

import io.vocodex.VocodexException;

/**
 * The one check every model (and its device twin) applies to codes before decoding: the number of
 * codebooks, equal frame counts, and every code inside the codebook. The message names the first
 * offending codebook and frame.
 *
 * <pre>{@code
 * CodeValidation.check(codes, 1, config.nQ(), config.bins(), "");
 * }</pre>
 */
public final class CodeValidation {
    private CodeValidation() {
    }

    /**
     * @param codes {@code [codebook][frame]}
     * @param minCodebooks fewest codebooks the model decodes
     * @param maxCodebooks most codebooks the model decodes
     * @param codebookSize codes must lie in {@code [0, codebookSize)}
     * @param outOfRangeHint appended to the out-of-range message (e.g. how to map LLM token ids back), or ""
     * @throws VocodexException naming what is wrong and where
     */
    public static void check(int[][] codes, int minCodebooks, int maxCodebooks, int codebookSize, String outOfRangeHint) {
        if (codes.length < minCodebooks || codes.length > maxCodebooks) {
            throw new VocodexException("codes have " + codes.length + " codebook(s); this model takes "
                    + (minCodebooks == maxCodebooks ? "exactly " + minCodebooks : minCodebooks + ".." + maxCodebooks));
        }
        for (int k = 0; k < codes.length; k++) {
            if (codes[k].length != codes[0].length) {
                throw new VocodexException("codebook " + k + " has " + codes[k].length + " frames, codebook 0 has " + codes[0].length);
            }
            for (int t = 0; t < codes[k].length; t++) {
                if (codes[k][t] < 0 || codes[k][t] >= codebookSize) {
                    throw new VocodexException("code " + codes[k][t] + " at codebook " + k + ", frame " + t
                            + " is outside [0, " + codebookSize + ")" + outOfRangeHint);
                }
            }
        }
    }
}
