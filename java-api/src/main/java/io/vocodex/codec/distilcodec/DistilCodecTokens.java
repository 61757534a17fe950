package io.vocodex.codec.distilcodec;

import io.vocodex.VocodexException;

/**
 * DistilCodec codes as LLM vocabulary ids. The original ({@code construct_audio_code},
 * {@code audio_tokenize}) appends the codebooks to the LLM's vocabulary one after another:
 * codebook {@code k = g * R + r} owns ids {@code [offset + k * size, offset + (k+1) * size)}, and a
 * frame's ids are listed in codebook order, frame after frame. For the released model (one
 * codebook of 32768, QWen2.5-7B offset 152064) the id is simply {@code code + 152064}.
 *
 * <pre>{@code
 * int[] ids = DistilCodecTokens.toLlmTokenIds(tokens.codes(), 152064, 32768);
 * int[][] codes = DistilCodecTokens.fromLlmTokenIds(ids, 1, 152064, 32768);
 * }</pre>
 */
public final class DistilCodecTokens {
    /** The released model's offset: the padded QWen2.5-7B vocabulary size. */
    public static final int QWEN25_7B_OFFSET = 152064;

    private DistilCodecTokens() {
    }

    public static int[] toLlmTokenIds(int[][] codes, int offset, int codebookSize) {
        int k = codes.length;
        int frames = k == 0 ? 0 : codes[0].length;
        int[] ids = new int[k * frames];
        for (int t = 0; t < frames; t++) {
            for (int q = 0; q < k; q++) {
                int c = codes[q][t];
                if (c < 0 || c >= codebookSize) {
                    throw new VocodexException("code " + c + " at codebook " + q + ", frame " + t + " is outside [0, " + codebookSize + ")");
                }
                ids[t * k + q] = offset + q * codebookSize + c;
            }
        }
        return ids;
    }

    public static int[][] fromLlmTokenIds(int[] ids, int numCodebooks, int offset, int codebookSize) {
        if (ids.length % numCodebooks != 0) {
            throw new VocodexException(ids.length + " token ids are not a whole number of frames of " + numCodebooks + " codebooks");
        }
        int frames = ids.length / numCodebooks;
        int[][] codes = new int[numCodebooks][frames];
        for (int t = 0; t < frames; t++) {
            for (int q = 0; q < numCodebooks; q++) {
                int id = ids[t * numCodebooks + q];
                int c = id - offset - q * codebookSize;
                if (c < 0 || c >= codebookSize) {
                    throw new VocodexException("token id " + id + " at position " + (t * numCodebooks + q)
                            + " is not an audio token of codebook " + q + " (expected [" + (offset + q * codebookSize) + ", "
                            + (offset + (q + 1) * codebookSize) + "))");
                }
                codes[q][t] = c;
            }
        }
        return codes;
    }
}
