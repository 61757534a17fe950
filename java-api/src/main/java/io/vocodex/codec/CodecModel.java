package io.vocodex.codec;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vocodex.backend.cpu.CpuContext;

/**
 * An architecture's model: immutable weights plus the batch and streaming entry points that
 * {@link io.vocodex.Codec} exposes. Implementations are thread-safe; per-stream data lives in the
 * stream objects they hand out.
 */
public interface CodecModel {
    /** The {@code "architecture"} of config.json, e.g. {@code "encodec"}. */
    String architecture();

    int sampleRate();

    /** Input samples per code frame. */
    int hopLength();

    double frameRate();

    int codebookSize();

    /** Codebooks available (the highest bitrate). */
    int maxCodebooks();

    /** Bandwidths (kbps) the model was trained for. */
    double[] bandwidths();

    /** Codebooks used at {@code bandwidthKbps}. */
    int codebooksFor(double bandwidthKbps);

    /** Codes {@code (nq, frames)} of mono {@code pcm} at the model's rate. */
    int[][] encode(CpuContext ctx, float[] pcm, int nq);

    /** Mono PCM for codes {@code (nq, frames)}. */
    float[] decode(CpuContext ctx, int[][] codes);

    /** A streaming encoder state using {@code nq} codebooks. */
    EncoderStream openEncoder(int nq);

    /** A streaming decoder state. */
    DecoderStream openDecoder();

    /** A JSON description for {@code vocodex inspect}: config, sizes, parameter count. */
    ObjectNode describe();

    /** One stream's encoder state: PCM in, codes of the frames that became complete out. */
    interface EncoderStream {
        int[][] push(CpuContext ctx, float[] pcm);

        int[][] flush(CpuContext ctx);
    }

    /** One stream's decoder state: codes in, final PCM out. */
    interface DecoderStream {
        float[] push(CpuContext ctx, int[][] codes);

        float[] flush(CpuContext ctx);
    }
}
