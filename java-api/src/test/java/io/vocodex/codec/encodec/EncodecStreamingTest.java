package io.vocodex.codec.encodec;

import io.vocodex.Audio;
import io.vocodex.Codec;
import io.vocodex.Device;
import io.vocodex.StreamingDecoder;
import io.vocodex.StreamingEncoder;
import io.vocodex.Tokens;
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
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Streaming == batch, batch invariance and causality, on random-weight EnCodec models of two
 * shapes (the 24 kHz layout at a small width, and an odd one: ratios 4-3-2, two residual layers
 * so dilation 2 is exercised, one LSTM layer, true skip, no weight norm).
 */
class EncodecStreamingTest {
    static Codec standard;
    static Codec odd;

    @BeforeAll
    static void build(@TempDir Path tmp) {
        EncodecConfig base = EncodecConfig.encodec24khz();
        EncodecConfig small = new EncodecConfig(24_000, 1, false, new double[] {0.9, 1.8, 3.6}, 16, 4, 1,
                new int[] {8, 5, 4, 2}, "ELU", 1.0, "weight_norm", 7, 7, 3, 2, true, "reflect", false, 2, 2, 1.0, 8, 64);
        EncodecConfig oddShape = new EncodecConfig(24_000, 1, false, new double[] {5.0, 30.0}, 8, 3, 2,
                new int[] {4, 3, 2}, "ELU", 0.7, "none", 5, 3, 3, 2, true, "reflect", true, 3, 1, 1.0, 6, 32);
        standard = Codec.load(EncodecRandom.writeModelFolder(small, 11, tmp.resolve("small")), Device.cpu(2));
        odd = Codec.load(EncodecRandom.writeModelFolder(oddShape, 12, tmp.resolve("odd")), Device.cpu(1));
        assertEquals(base.hopLength(), standard.hopLength());
    }

    @AfterAll
    static void close() {
        standard.close();
        odd.close();
    }

    static float[] signal(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (0.3 * Math.sin(2 * Math.PI * 220 * i / 24000.0) * Math.sin(i / 3000.0) + 0.05 * r.nextGaussian());
        }
        return x;
    }

    /** Random chunk sizes, including empty and 1-sample chunks, some longer than a frame. */
    static List<Integer> chunking(int n, Random r) {
        List<Integer> sizes = new ArrayList<>();
        int done = 0;
        while (done < n) {
            int kind = r.nextInt(6);
            int s = switch (kind) {
                case 0 -> 0;
                case 1 -> 1;
                case 2 -> r.nextInt(17);
                case 3 -> r.nextInt(400);
                case 4 -> 320;
                default -> r.nextInt(3000);
            };
            s = Math.min(s, n - done);
            sizes.add(s);
            done += s;
        }
        return sizes;
    }

    static Tokens concat(List<Tokens> parts, int codebooks, Codec c) {
        int frames = parts.stream().mapToInt(Tokens::numFrames).sum();
        int[][] out = new int[codebooks][frames];
        int at = 0;
        for (Tokens p : parts) {
            for (int k = 0; k < codebooks; k++) {
                System.arraycopy(p.codes()[k], 0, out[k], at, p.numFrames());
            }
            at += p.numFrames();
        }
        return new Tokens(out, c.frameRate(), c.codebookSize());
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3, 4, 5})
    void streamingEncodeEqualsBatchForRandomChunkings(int seed) {
        for (Codec c : new Codec[] {standard, odd}) {
            Random r = new Random(seed);
            int n = 1 + r.nextInt(12_000);
            float[] x = signal(n, seed);
            double bw = c.bandwidths()[c.bandwidths().length - 1];
            Tokens batch = c.encode(Audio.of(x, 24_000), bw);
            List<Tokens> parts = new ArrayList<>();
            int pushedFrames = 0;
            try (StreamingEncoder enc = c.streamingEncoder(bw)) {
                int at = 0;
                for (int s : chunking(n, r)) {
                    float[] chunk = java.util.Arrays.copyOfRange(x, at, at + s);
                    at += s;
                    Tokens t = enc.push(chunk);
                    // every frame emitted before the end is already the batch frame
                    assertEquals(batch.frames(pushedFrames, pushedFrames + t.numFrames()), t,
                            "frames " + pushedFrames + ".. after " + at + " samples (seed " + seed + ")");
                    pushedFrames += t.numFrames();
                    parts.add(t);
                }
                assertTrue(pushedFrames >= n / c.hopLength() - 1, "complete frames emitted before flush: " + pushedFrames
                        + " of " + n / c.hopLength());
                parts.add(enc.flush());
            }
            assertEquals(batch, concat(parts, batch.numCodebooks(), c), "seed " + seed + ", n " + n);
        }
    }

    @Test
    void everyCompleteFrameIsEmittedBeforeFlushForSteadyInput() {
        // With frame-sized pushes, a stream of F whole frames has emitted F frames before flush:
        // apart from the very start, EnCodec's encoder needs no look-ahead.
        float[] x = signal(320 * 40, 9);
        try (StreamingEncoder enc = standard.streamingEncoder(3.6)) {
            int frames = 0;
            for (int i = 0; i < 40; i++) {
                frames += enc.push(java.util.Arrays.copyOfRange(x, i * 320, (i + 1) * 320)).numFrames();
            }
            assertEquals(40, frames);
            assertEquals(0, enc.flush().numFrames());
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 3})
    void streamingDecodeEqualsBatch(int seed) {
        for (Codec c : new Codec[] {standard, odd}) {
            Random r = new Random(seed);
            int frames = 1 + r.nextInt(60);
            int k = c.maxCodebooks();
            int[][] codes = new int[k][frames];
            for (int[] row : codes) {
                for (int t = 0; t < frames; t++) {
                    row[t] = r.nextInt(c.codebookSize());
                }
            }
            Tokens tokens = new Tokens(codes, c.frameRate(), c.codebookSize());
            float[] batch = c.decode(tokens).samples();
            float[] streamed = new float[0];
            try (StreamingDecoder dec = c.streamingDecoder()) {
                int at = 0;
                while (at < frames) {
                    int s = Math.min(frames - at, r.nextInt(5));
                    streamed = cat(streamed, dec.push(tokens.frames(at, at + s)));
                    at += s;
                }
                streamed = cat(streamed, dec.flush());
            }
            assertEquals(batch.length, streamed.length);
            for (int i = 0; i < batch.length; i++) {
                assertTrue(Math.abs(batch[i] - streamed[i]) <= 1e-5, "sample " + i + ": " + batch[i] + " vs " + streamed[i]);
            }
            // exact, in fact: the same kernel computes every sample in both modes
            assertArrayEquals(batch, streamed);
        }
    }

    static float[] cat(float[] a, float[] b) {
        float[] y = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, y, a.length, b.length);
        return y;
    }

    @Test
    void encodeBatchOfMixedLengthsGivesSoloTokens() {
        int[] lengths = {24_000, 1, 321, 7_777, 320, 16_001, 5};
        List<Audio> clips = new ArrayList<>();
        for (int i = 0; i < lengths.length; i++) {
            clips.add(Audio.of(signal(lengths[i], 100 + i), 24_000));
        }
        List<Tokens> batch = standard.encodeBatch(clips, 3.6);
        List<Audio> rev = new ArrayList<>(clips);
        java.util.Collections.reverse(rev);
        List<Tokens> reversed = standard.encodeBatch(rev, 3.6);
        for (int i = 0; i < clips.size(); i++) {
            Tokens solo = standard.encode(clips.get(i), 3.6);
            assertEquals(solo, batch.get(i), "clip " + i + " of " + lengths[i] + " samples");
            assertEquals(solo, reversed.get(clips.size() - 1 - i), "clip " + i + " in reversed batch");
            assertEquals((lengths[i] + 319) / 320, solo.numFrames());
        }
    }

    @Test
    void tokensDoNotDependOnThreadCount(@TempDir Path tmp) {
        float[] x = signal(30_000, 5);
        Tokens two = standard.encode(Audio.of(x, 24_000), 3.6);
        try (Codec one = Codec.of(standard.model(), Device.cpu(1)); Codec three = Codec.of(standard.model(), Device.cpu(3))) {
            assertEquals(two, one.encode(Audio.of(x, 24_000), 3.6));
            assertEquals(two, three.encode(Audio.of(x, 24_000), 3.6));
            assertArrayEquals(standard.decode(two).samples(), three.decode(two).samples());
        }
    }

    @Test
    void encoderIsCausal() {
        // Changing the input after sample s changes no frame that streaming had emitted by then.
        float[] x = signal(9_600, 7);
        float[] y = x.clone();
        int s = 5_000;
        for (int i = s; i < y.length; i++) {
            y[i] = -y[i] * 3;
        }
        try (StreamingEncoder a = standard.streamingEncoder(3.6); StreamingEncoder b = standard.streamingEncoder(3.6)) {
            Tokens ta = a.push(java.util.Arrays.copyOf(x, s));
            Tokens tb = b.push(java.util.Arrays.copyOf(y, s));
            assertEquals(ta, tb);
            assertTrue(ta.numFrames() >= s / 320 - 1);
        }
        Tokens fx = standard.encode(Audio.of(x, 24_000), 3.6);
        Tokens fy = standard.encode(Audio.of(y, 24_000), 3.6);
        assertEquals(fx.frames(0, s / 320), fy.frames(0, s / 320), "frames wholly before the change");
    }

    @Test
    void lowerBandwidthIsPrefixOfHigher() {
        float[] x = signal(8_000, 3);
        Tokens hi = standard.encode(Audio.of(x, 24_000), 3.6);
        Tokens lo = standard.encode(Audio.of(x, 24_000), 0.9);
        assertEquals(hi.firstCodebooks(lo.numCodebooks()), lo);
    }
}
