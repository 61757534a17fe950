package io.vocodex;

import io.vocodex.codec.encodec.EncodecConfig;
import io.vocodex.codec.encodec.EncodecRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** StreamHub on the CPU backend: streams join and leave at random ticks; each gets its solo tokens. */
class StreamHubTest {
    static Codec codec;

    @BeforeAll
    static void build(@TempDir Path tmp) {
        EncodecConfig small = new EncodecConfig(24_000, 1, false, new double[] {0.9, 1.8, 3.6}, 16, 4, 1,
                new int[] {8, 5, 4, 2}, "ELU", 1.0, "weight_norm", 7, 7, 3, 2, true, "reflect", false, 2, 2, 1.0, 8, 64);
        codec = Codec.load(EncodecRandom.writeModelFolder(small, 21, tmp.resolve("m")), Device.cpu(2));
    }

    @AfterAll
    static void close() {
        codec.close();
    }

    /** A stream under test: its whole audio, how much has been pushed, and the tokens collected. */
    static final class Client {
        final float[] audio;
        int pushed;
        final List<Tokens> got = new ArrayList<>();
        StreamHub.StreamSession session;

        Client(float[] audio) {
            this.audio = audio;
        }
    }

    static float[] audio(Random r) {
        float[] x = new float[1 + r.nextInt(6000)];
        double f = 100 + r.nextInt(900);
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (0.4 * Math.sin(2 * Math.PI * f * i / 24000) + 0.02 * r.nextGaussian());
        }
        return x;
    }

    @Test
    void streamsJoiningAndLeavingAtRandomTicksGetTheirSoloTokens() {
        Random r = new Random(42);
        List<Client> finished = new ArrayList<>();
        Map<Integer, Client> live = new HashMap<>();
        try (StreamHub hub = new StreamHub(codec, 3.6, 12)) {
            int nextId = 0;
            for (int tick = 0; tick < 400; tick++) {
                // joins
                while (hub.activeStreams() < hub.capacity() && r.nextInt(4) == 0) {
                    Client c = new Client(audio(r));
                    c.session = hub.open();
                    live.put(nextId++, c);
                }
                // pushes of random sizes, and ends of streams
                for (var it = live.entrySet().iterator(); it.hasNext(); ) {
                    Client c = it.next().getValue();
                    if (c.pushed < c.audio.length) {
                        int n = Math.min(c.audio.length - c.pushed, r.nextInt(3) == 0 ? 0 : r.nextInt(700));
                        c.session.push(java.util.Arrays.copyOfRange(c.audio, c.pushed, c.pushed + n));
                        c.pushed += n;
                    } else if (r.nextInt(3) == 0) {
                        c.got.add(c.session.finish());
                        finished.add(c);
                        it.remove();
                        continue;
                    }
                    if (r.nextInt(5) == 0) {
                        c.got.add(c.session.poll());
                    }
                }
                hub.tick();
            }
            for (Client c : live.values()) {
                if (c.pushed == c.audio.length) {
                    c.got.add(c.session.finish());
                    finished.add(c);
                }
            }
        }
        assertTrue(finished.size() > 30, "exercised " + finished.size() + " streams");
        for (Client c : finished) {
            Tokens solo = codec.encode(Audio.of(c.audio, 24_000), 3.6);
            int frames = c.got.stream().mapToInt(Tokens::numFrames).sum();
            assertEquals(solo.numFrames(), frames);
            int at = 0;
            for (Tokens t : c.got) {
                assertEquals(solo.frames(at, at + t.numFrames()), t);
                at += t.numFrames();
            }
        }
    }

    @Test
    void tickAdvancesOnlyStreamsWithAWholeFrame() {
        try (StreamHub hub = new StreamHub(codec, 3.6, 3)) {
            StreamHub.StreamSession a = hub.open();
            StreamHub.StreamSession b = hub.open();
            a.push(new float[hub.frameSamples()]);
            b.push(new float[hub.frameSamples() - 1]);
            assertEquals(1, hub.tick());
            assertEquals(0, hub.tick());
            b.push(new float[1]);
            assertEquals(1, hub.tick());
        }
    }

    @Test
    void poolLimitsAndSlotReuse() {
        try (StreamHub hub = new StreamHub(codec, 3.6, 2)) {
            StreamHub.StreamSession a = hub.open();
            hub.open();
            VocodexException e = assertThrows(VocodexException.class, hub::open);
            assertTrue(e.getMessage().contains("all 2 stream slots"));
            float[] x = new float[2000];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) Math.sin(i * 0.05);
            }
            a.push(x);
            hub.tick();
            a.cancel();
            StreamHub.StreamSession c = hub.open();
            assertEquals(a.slot(), c.slot(), "freed slot is reused");
            // the reused slot starts from a reset state: same tokens as a fresh solo run
            c.push(x);
            for (int i = 0; i < 10; i++) {
                hub.tick();
            }
            Tokens got = c.poll();
            Tokens rest = c.finish();
            Tokens solo = codec.encode(Audio.of(x, 24_000), 3.6);
            assertEquals(solo.frames(0, got.numFrames()), got);
            assertEquals(solo.numFrames(), got.numFrames() + rest.numFrames());
        }
    }
}
