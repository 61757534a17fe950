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

    /**
     * Codes of several clips, each exactly what {@link #encode} gives it alone. The default encodes one
     * clip after another; a device backend batches clips of equal length.
     */
    default int[][][] encodeBatch(CpuContext ctx, float[][] pcm, int nq) {
        int[][][] out = new int[pcm.length][][];
        for (int i = 0; i < pcm.length; i++) {
            out[i] = encode(ctx, pcm[i], nq);
        }
        return out;
    }

    /**
     * A pool of {@code capacity} encoder streams stepped together, one frame of {@code frameSamples}
     * per ready stream per step, for {@link io.vocodex.StreamHub}; null when this model has no batched
     * pool (the hub then steps each stream's {@link #openEncoder} on the CPU). The default is null.
     */
    default StreamPool openStreamPool(int capacity, int nq, int frameSamples) {
        return null;
    }

    /**
     * Encoder streams in slots {@code 0..capacity-1} whose steps run together (a GPU backend keeps every
     * slot's state on the device). Every slot's codes equal those of a solo {@link EncoderStream} fed
     * the same audio. Used from one thread at a time.
     */
    interface StreamPool extends AutoCloseable {
        /** Resets {@code slot} for a new stream. */
        void reset(int slot);

        /**
         * Feeds one frame {@code frames[i]} (exactly frameSamples samples) to each slot {@code slots[i]}
         * (distinct); returns each slot's newly complete codes {@code (nq, n_i)}, in the same order.
         */
        int[][][] step(int[] slots, float[][] frames);

        /** Ends {@code slot}'s stream after feeding it {@code rest} (any length, may be empty): its last codes. */
        int[][] finish(int slot, float[] rest);

        /** One line for logs: what runs the pool (e.g. the device, graphs on or off). */
        String describe();

        @Override
        void close();
    }

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
