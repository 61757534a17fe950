package io.vocodex.codec.mimi;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vocodex.Audio;
import io.vocodex.Codec;
import io.vocodex.Device;
import io.vocodex.StreamingDecoder;
import io.vocodex.StreamingEncoder;
import io.vocodex.Tokens;
import io.vocodex.VocodexException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Streaming and batch properties of Mimi on random-weight models (no goldens needed):
 * <ul>
 *   <li>chunking independence: PCM pushed in random chunk sizes (0, 1, odd, several frames) gives
 *       the codes of one push of the whole signal; decoder pushes of any frame grouping likewise;</li>
 *   <li>with a context longer than the stream, streaming == batch BIT FOR BIT (codes and audio):
 *       the convs stream exactly and a query that sees the same keys computes the same numbers;</li>
 *   <li>with a short context, streaming == batch up to frame context/2 and differs after (the
 *       original's ring KV cache, reproduced; the golden test checks the exact values);</li>
 *   <li>batch invariance (each clip alone == in a list), fewer codebooks == prefix, thread count.</li>
 * </ul>
 */
class MimiStreamingTest {
    static Codec shortCtx; // context 6 (binds after 3 frames)
    static Codec longCtx;  // context 200 (never binds in these tests)

    static MimiConfig small(int context) {
        ObjectMapper om = new ObjectMapper();
        var o = om.createObjectNode();
        o.putObject("seanet").put("dimension", 16).put("n_filters", 2);
        o.putObject("transformer").put("d_model", 16).put("num_heads", 2).put("num_layers", 2).put("context", context)
                .put("dim_feedforward", 24).put("input_dimension", 16).putArray("output_dimensions").add(16);
        o.putObject("quantizer").put("dimension", 8).put("n_q", 5).put("bins", 2048).put("input_dimension", 16)
                .put("output_dimension", 16);
        return MimiConfig.mimi().withOverrides(o);
    }

    @BeforeAll
    static void build(@TempDir Path tmp) {
        shortCtx = Codec.load(MimiRandom.writeModelFolder(small(6), 3, tmp.resolve("short")), Device.cpu(2));
        longCtx = Codec.load(MimiRandom.writeModelFolder(small(200), 4, tmp.resolve("long")), Device.cpu(1));
    }

    @AfterAll
    static void close() {
        shortCtx.close();
        longCtx.close();
    }

    static float[] signal(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (0.3 * Math.sin(2 * Math.PI * 180 * i / 24000.0) * Math.sin(i / 2500.0) + 0.05 * r.nextGaussian());
        }
        return x;
    }

    static List<Integer> chunking(int n, Random r) {
        List<Integer> sizes = new ArrayList<>();
        int done = 0;
        while (done < n) {
            int s = switch (r.nextInt(6)) {
                case 0 -> 0;
                case 1 -> 1;
                case 2 -> r.nextInt(17);
                case 3 -> r.nextInt(2000);
                case 4 -> 1920;
                default -> r.nextInt(7000);
            };
            s = Math.min(s, n - done);
            sizes.add(s);
            done += s;
        }
        return sizes;
    }

    static Tokens stream(Codec c, float[] x, List<Integer> sizes, int nq) {
        double bw = nq * 0.1375;
        int[][] acc = new int[nq][0];
        try (StreamingEncoder enc = c.streamingEncoder(bw)) {
            int at = 0;
            for (int s : sizes) {
                acc = append(acc, enc.push(java.util.Arrays.copyOfRange(x, at, at + s)).codes());
                at += s;
            }
            acc = append(acc, enc.flush().codes());
        }
        return new Tokens(acc, 12.5, c.codebookSize());
    }

    static int[][] append(int[][] a, int[][] b) {
        int[][] r = new int[a.length][];
        for (int k = 0; k < a.length; k++) {
            r[k] = java.util.Arrays.copyOf(a[k], a[k].length + b[k].length);
            System.arraycopy(b[k], 0, r[k], a[k].length, b[k].length);
        }
        return r;
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4})
    void streamingCodesDoNotDependOnChunking(int seed) {
        float[] x = signal(1920 * 7 + 333 * seed, seed);
        Tokens whole = stream(shortCtx, x, List.of(x.length), 5);
        assertEquals(8, whole.numFrames(), "ceil(len / 1920) frames, the last one zero-padded");
        Tokens chunked = stream(shortCtx, x, chunking(x.length, new Random(seed)), 5);
        assertEquals(whole, chunked);
        Tokens ones = stream(shortCtx, java.util.Arrays.copyOf(x, 4000), java.util.Collections.nCopies(4000, 1), 5);
        assertEquals(stream(shortCtx, java.util.Arrays.copyOf(x, 4000), List.of(4000), 5), ones);
    }

    @Test
    void withLongContextStreamingEqualsBatchBitForBit() {
        float[] x = signal(1920 * 12 + 77, 9);
        Tokens batch = longCtx.encode(Audio.of(x, 24_000), 5 * 0.1375);
        Tokens streamed = stream(longCtx, x, chunking(x.length, new Random(5)), 5);
        assertEquals(batch, streamed);
        float[] decoded = longCtx.decode(batch).samples();
        assertEquals(13 * 1920, decoded.length);
        float[] streamedAudio = decodeStream(longCtx, batch, new Random(6));
        assertArrayEquals(decoded, streamedAudio);
    }

    @Test
    void withShortContextStreamingFollowsTheRingCache() {
        float[] x = signal(1920 * 14, 10);
        Tokens batch = shortCtx.encode(Audio.of(x, 24_000), 5 * 0.1375);
        Tokens streamed = stream(shortCtx, x, List.of(x.length), 5);
        // context 6 = 3 frames of 2 positions: frames 0..2 see the same keys in both modes.
        assertEquals(batch.frames(0, 3), streamed.frames(0, 3));
        assertNotEquals(batch, streamed, "ring cache: the first query of each chunk loses its oldest key");
        float[] a = shortCtx.decode(batch).samples();
        float[] s = decodeStream(shortCtx, batch, new Random(1));
        assertArrayEquals(java.util.Arrays.copyOf(a, 3 * 1920), java.util.Arrays.copyOf(s, 3 * 1920));
        double diff = 0;
        for (int i = 3 * 1920; i < a.length; i++) {
            diff = Math.max(diff, Math.abs(a[i] - s[i]));
        }
        assertTrue(diff > 1e-4, "streamed decode must differ after the context fills, max diff " + diff);
    }

    /** Decodes frame groups of random sizes (0..4 frames per push). */
    static float[] decodeStream(Codec c, Tokens t, Random r) {
        float[] out = new float[0];
        try (StreamingDecoder dec = c.streamingDecoder()) {
            int at = 0;
            while (at < t.numFrames()) {
                int n = Math.min(r.nextInt(5), t.numFrames() - at);
                out = cat(out, dec.push(t.frames(at, at + n)));
                at += n;
            }
            out = cat(out, dec.flush());
        }
        return out;
    }

    static float[] cat(float[] a, float[] b) {
        float[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    @Test
    void decodeStreamingDoesNotDependOnGrouping() {
        Tokens t = shortCtx.encode(Audio.of(signal(1920 * 9, 2), 24_000), 3 * 0.1375);
        float[] perFrame;
        try (StreamingDecoder dec = shortCtx.streamingDecoder()) {
            perFrame = new float[0];
            for (int i = 0; i < t.numFrames(); i++) {
                perFrame = cat(perFrame, dec.push(t.frames(i, i + 1)));
            }
        }
        assertEquals(9 * 1920, perFrame.length);
        assertArrayEquals(perFrame, decodeStream(shortCtx, t, new Random(3)));
    }

    @Test
    void eachClipOfABatchEqualsItsSoloEncoding() {
        List<Audio> clips = List.of(Audio.of(signal(5000, 1), 24_000), Audio.of(signal(1920 * 5, 2), 24_000),
                Audio.of(signal(17, 3), 24_000), Audio.of(signal(30000, 4), 24_000));
        List<Tokens> together = shortCtx.encodeBatch(clips, 4 * 0.1375);
        for (int i = 0; i < clips.size(); i++) {
            assertEquals(shortCtx.encode(clips.get(i), 4 * 0.1375), together.get(i), "clip " + i);
        }
        List<Tokens> reversed = shortCtx.encodeBatch(List.of(clips.get(3), clips.get(2), clips.get(1), clips.get(0)), 4 * 0.1375);
        assertEquals(together.get(0), reversed.get(3));
    }

    @Test
    void fewerCodebooksArePrefixesInBatchAndStreaming() {
        float[] x = signal(1920 * 10, 8);
        Tokens all = shortCtx.encode(Audio.of(x, 24_000), 5 * 0.1375);
        Tokens allStream = stream(shortCtx, x, List.of(x.length), 5);
        for (int k = 1; k <= 5; k++) {
            Tokens t = shortCtx.encode(Audio.of(x, 24_000), k * 0.1375);
            assertEquals(k, t.numCodebooks());
            assertEquals(all.firstCodebooks(k), t);
            assertEquals(allStream.firstCodebooks(k), stream(shortCtx, x, List.of(x.length), k));
        }
        // decoding any prefix works and gives full-length audio
        assertEquals(10 * 1920, shortCtx.decode(all.firstCodebooks(1)).samples().length);
    }

    @Test
    void threadCountDoesNotChangeAnything(@TempDir Path tmp) {
        float[] x = signal(1920 * 6 + 5, 12);
        Path dir = MimiRandom.writeModelFolder(small(6), 3, tmp.resolve("m"));
        try (Codec one = Codec.load(dir, Device.cpu(1)); Codec four = Codec.load(dir, Device.cpu(4))) {
            Tokens a = one.encode(Audio.of(x, 24_000), 5 * 0.1375);
            assertEquals(a, four.encode(Audio.of(x, 24_000), 5 * 0.1375));
            assertEquals(a, shortCtx.encode(Audio.of(x, 24_000), 5 * 0.1375));
            assertArrayEquals(one.decode(a).samples(), four.decode(a).samples());
        }
    }

    @Test
    void configRoundTripsAndRejectsUnsupported() {
        MimiConfig c = MimiConfig.mimi();
        assertEquals(c, MimiConfig.fromJson(c.toJson()));
        assertEquals(1920, c.frameSize());
        assertEquals(2, c.resampleStride());
        ObjectMapper om = new ObjectMapper();
        var bad = om.createObjectNode();
        bad.putObject("transformer").put("gating", "silu");
        assertThrows(VocodexException.class, () -> c.withOverrides(bad));
        var unknown = om.createObjectNode();
        unknown.putObject("seanet").put("lstm", 2);
        VocodexException e = assertThrows(VocodexException.class, () -> c.withOverrides(unknown));
        assertTrue(e.getMessage().contains("seanet.lstm"), e.getMessage());
    }

    @Test
    void badInputsAreReported() {
        assertThrows(VocodexException.class, () -> shortCtx.encode(Audio.of(new float[0], 24_000), 0.55));
        assertThrows(VocodexException.class, () -> shortCtx.encode(Audio.of(new float[100], 24_000), 6 * 0.1375));
        try (StreamingEncoder enc = shortCtx.streamingEncoder(0.55)) {
            assertThrows(VocodexException.class, () -> enc.push(new float[] {0f, Float.NaN}));
        }
        assertThrows(VocodexException.class, () -> shortCtx.decode(new Tokens(new int[6][3], 12.5, 2048)));
    }

    @Test
    void streamHubServesMimiStreamsWithTheirSoloStreamingCodes() {
        // Short context: the ring KV cache binds, so this checks the hub keeps each slot's cache apart.
        double bw = shortCtx.bandwidths()[shortCtx.bandwidths().length - 1];
        java.util.List<float[]> audios = new java.util.ArrayList<>();
        for (int i = 0; i < 5; i++) {
            audios.add(signal(shortCtx.hopLength() * (3 + 2 * i) + 7 * i, 50 + i));
        }
        java.util.List<io.vocodex.Tokens> got = new java.util.ArrayList<>();
        try (io.vocodex.StreamHub hub = new io.vocodex.StreamHub(shortCtx, bw, 5)) {
            java.util.List<io.vocodex.StreamHub.StreamSession> sessions = new java.util.ArrayList<>();
            for (float[] a : audios) {
                io.vocodex.StreamHub.StreamSession s = hub.open();
                s.push(a);
                sessions.add(s);
            }
            for (int t = 0; t < 6; t++) {
                hub.tick();
            }
            for (io.vocodex.StreamHub.StreamSession s : sessions) {
                io.vocodex.Tokens polled = s.poll();
                io.vocodex.Tokens rest = s.finish();
                int[][] all = new int[polled.numCodebooks()][polled.numFrames() + rest.numFrames()];
                for (int k = 0; k < all.length; k++) {
                    System.arraycopy(polled.codes()[k], 0, all[k], 0, polled.numFrames());
                    System.arraycopy(rest.codes()[k], 0, all[k], polled.numFrames(), rest.numFrames());
                }
                got.add(new io.vocodex.Tokens(all, shortCtx.frameRate(), shortCtx.codebookSize()));
            }
        }
        for (int i = 0; i < audios.size(); i++) {
            try (io.vocodex.StreamingEncoder enc = shortCtx.streamingEncoder(bw)) {
                io.vocodex.Tokens a = enc.push(audios.get(i));
                io.vocodex.Tokens b = enc.flush();
                int[][] all = new int[a.numCodebooks()][a.numFrames() + b.numFrames()];
                for (int k = 0; k < all.length; k++) {
                    System.arraycopy(a.codes()[k], 0, all[k], 0, a.numFrames());
                    System.arraycopy(b.codes()[k], 0, all[k], a.numFrames(), b.numFrames());
                }
                org.junit.jupiter.api.Assertions.assertEquals(
                        new io.vocodex.Tokens(all, shortCtx.frameRate(), shortCtx.codebookSize()), got.get(i), "stream " + i);
            }
        }
    }
}
