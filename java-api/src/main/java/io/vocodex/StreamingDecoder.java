package io.vocodex;

import io.vocodex.codec.CodecModel;

/**
 * One live stream of tokens into audio. Push frames in groups of any size; each push returns the
 * samples that became final. {@link #flush()} returns the tail. The concatenation equals
 * {@link Codec#decode} of all frames at once.
 *
 * <pre>{@code
 * try (StreamingDecoder dec = codec.streamingDecoder()) {
 *     speaker.play(dec.push(tokensOfNextFrame));
 *     speaker.play(dec.flush());
 * }
 * }</pre>
 */
public final class StreamingDecoder implements AutoCloseable {
    private final Codec codec;
    private final CodecModel.DecoderStream stream;
    private int codebooks = -1;
    private boolean finished;

    StreamingDecoder(Codec codec, CodecModel.DecoderStream stream) {
        this.codec = codec;
        this.stream = stream;
    }

    /** Feeds frames; returns the samples that became final (possibly none at the very start). */
    public float[] push(Tokens tokens) {
        check();
        codec.checkTokens(tokens);
        if (codebooks >= 0 && tokens.numCodebooks() != codebooks) {
            throw new VocodexException("stream started with " + codebooks + " codebooks, got " + tokens.numCodebooks());
        }
        codebooks = tokens.numCodebooks();
        return stream.push(codec.context(), tokens.codes());
    }

    /** Ends the stream and returns the remaining samples. */
    public float[] flush() {
        check();
        finished = true;
        return stream.flush(codec.context());
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
