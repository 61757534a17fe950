package io.vocodex;

import io.vocodex.codec.CodecModel;

/**
 * One live stream into tokens. Push PCM in chunks of any size (empty and 1-sample chunks too);
 * each push returns the frames that became complete. {@link #flush()} ends the stream and returns
 * the last frames, which the original computes with end-of-input padding. The concatenation of all
 * returned frames equals {@link Codec#encode} of the whole signal, token for token.
 *
 * <pre>{@code
 * try (StreamingEncoder enc = codec.streamingEncoder(6.0)) {
 *     while (mic.hasMore()) sink.accept(enc.push(mic.read()));
 *     sink.accept(enc.flush());
 * }
 * }</pre>
 *
 * <p>State (conv tails, LSTM h/c) is held in this object; it is not thread-safe: one stream, one thread at a time.
 */
public final class StreamingEncoder implements AutoCloseable {
    private final Codec codec;
    private final CodecModel.EncoderStream stream;
    private long samplesIn;
    private boolean finished;

    StreamingEncoder(Codec codec, CodecModel.EncoderStream stream) {
        this.codec = codec;
        this.stream = stream;
    }

    /** Feeds {@code pcm} (mono, the codec's rate, finite); returns the newly complete frames. */
    public Tokens push(float[] pcm) {
        check();
        for (int i = 0; i < pcm.length; i++) {
            if (!Float.isFinite(pcm[i])) {
                throw new VocodexException("stream sample " + (samplesIn + i) + " is " + pcm[i] + "; audio must be finite");
            }
        }
        samplesIn += pcm.length;
        return codec.tokens(stream.push(codec.context(), pcm));
    }

    /** Ends the stream and returns the remaining frames. */
    public Tokens flush() {
        check();
        finished = true;
        if (samplesIn == 0) {
            throw new VocodexException("stream ended with no audio (0 samples)");
        }
        return codec.tokens(stream.flush(codec.context()));
    }

    public long samplesIn() {
        return samplesIn;
    }

    private void check() {
        codec.checkOpen();
        if (finished) {
            throw new VocodexException("stream already flushed; open a new one");
        }
    }

    @Override
    public void close() {
        finished = true;
    }
}
