package io.vocodex.backend.cuda;

import io.vocodex.Audio;
import io.vocodex.Codec;
import io.vocodex.Device;
import io.vocodex.StreamHub;
import io.vocodex.Tokens;
import io.vocodex.audio.Npy;
import io.vocodex.codec.CodecModel;
import io.vocodex.codec.encodec.EncodecImporter;
import io.vocodex.codec.encodec.EncodecModel;
import io.vocodex.codec.encodec.EncodecRandom;
import io.vocodex.model.ModelFolder;
import io.vocodex.testing.Compare;
import io.vocodex.testing.Golden;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The EnCodec model path on CUDA against the CPU: fp32 tokens equal on the committed fixtures and a
 * 24 kHz-layout model with an LSTM, decode within 1e-5, a batch of mixed lengths equal to solo, the GPU
 * StreamHub's per-stream tokens equal to solo CPU streams (graphs on and off), and the tf32 fast mode's
 * token agreement printed (asserted only above a sanity floor). Skips with one line without a GPU.
 */
@Tag("cuda")
@ExtendWith(RequiresGpu.class)
class CudaEncodecTest {
    @TempDir
    static Path tmp;

    static Path fixtureFolder(String variant) {
        Path f = Golden.fixture(variant);
        Path out = tmp.resolve(variant);
        if (!Files.exists(out.resolve(ModelFolder.CONFIG))) {
            EncodecImporter.importModel(f.resolve("weights.safetensors"), f.resolve("hparams.json"), out);
        }
        return out;
    }

    static Path hubLayoutFolder() {
        Path out = tmp.resolve("hub");
        if (!Files.exists(out.resolve(ModelFolder.CONFIG))) {
            EncodecRandom.writeModelFolder(CudaStreamScheduleTest.hubConfig(), 21, out);
        }
        return out;
    }

    static void sameTokens(String what, Tokens expected, Tokens got) {
        assertEquals(expected.numCodebooks(), got.numCodebooks(), what + ": codebooks");
        for (int k = 0; k < expected.numCodebooks(); k++) {
            assertArrayEquals(expected.codes()[k], got.codes()[k], what + ": codebook " + k);
        }
    }

    @Test
    void fixtureTokensEqualCpuAndDecodeWithin1e5() {
        for (String variant : new String[] {"encodec_small", "encodec_nonorm"}) {
            Path dir = fixtureFolder(variant);
            Path f = Golden.fixture(variant);
            try (Codec cpu = Codec.load(dir, Device.cpu(2)); Codec gpuCodec = Codec.load(dir, Device.cuda(0))) {
                assertInstanceOf(CudaEncodec.class, gpuCodec.model(), "on CUDA: " + gpuCodec.device().reason());
                for (String in : new String[] {"", "_odd", "_short"}) {
                    float[] x = Npy.read(f.resolve("input" + in + ".npy")).floats();
                    Audio a = Audio.of(x, cpu.sampleRate());
                    for (double bw : cpu.bandwidths()) {
                        String what = variant + " input" + in + " @ " + bw + " kbps";
                        Tokens t = cpu.encode(a, bw);
                        sameTokens(what + " (cuda fp32 vs cpu)", t, gpuCodec.encode(a, bw));
                        Compare.maxAbs(what + " decode", cpu.decode(t).samples(), gpuCodec.decode(t).samples(), 1e-5);
                    }
                }
            }
        }
    }

    @Test
    void mixedLengthBatchEqualsSolo() {
        Path dir = hubLayoutFolder();
        Random r = new Random(5);
        try (Codec cpu = Codec.load(dir, Device.cpu(2)); Codec g = Codec.load(dir, Device.cuda(0))) {
            assertInstanceOf(CudaEncodec.class, g.model());
            List<Audio> clips = new ArrayList<>();
            for (int i = 0; i < 24; i++) {
                int len = i % 3 == 0 ? 24_000 : 1 + r.nextInt(30_000); // some equal lengths share a launch
                clips.add(Audio.of(CudaStreamScheduleTest.audio(r, len), 24_000));
            }
            List<Tokens> batch = g.encodeBatch(clips, 6.0);
            for (int i = 0; i < clips.size(); i++) {
                Tokens solo = cpu.encode(clips.get(i), 6.0);
                sameTokens("clip " + i + " (" + clips.get(i).length() + " samples) in a mixed batch", solo, batch.get(i));
                sameTokens("clip " + i + " solo on cuda", solo, g.encode(clips.get(i), 6.0));
            }
        }
    }

    @Test
    void gpuStreamHubEqualsSoloCpuStreams() {
        Path dir = hubLayoutFolder();
        try (Codec cpu = Codec.load(dir, Device.cpu(2)); Codec g = Codec.load(dir, Device.cuda(0))) {
            for (boolean graphs : new boolean[] {true, false}) {
                String old = System.getProperty("vocodex.cuda.graphs");
                System.setProperty("vocodex.cuda.graphs", String.valueOf(graphs));
                try (StreamHub hub = new StreamHub(g, 6.0, 64)) {
                    assertFalse(hub.backend().startsWith("cpu"), hub.backend());
                    System.out.println("[cuda] " + hub.backend());
                    runHub(cpu, hub, new Random(graphs ? 1 : 2));
                } finally {
                    if (old == null) {
                        System.clearProperty("vocodex.cuda.graphs");
                    } else {
                        System.setProperty("vocodex.cuda.graphs", old);
                    }
                }
            }
        }
    }

    /** Streams join and leave at random ticks, with pushes of random sizes; each must get its solo tokens. */
    private static void runHub(Codec cpu, StreamHub hub, Random r) {
        int n = 40;
        float[][] audio = new float[n][];
        int[] pushed = new int[n];
        StreamHub.StreamSession[] sessions = new StreamHub.StreamSession[n];
        List<List<Tokens>> got = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            audio[i] = CudaStreamScheduleTest.audio(r, 1 + r.nextInt(9000));
            got.add(new ArrayList<>());
        }
        int done = 0;
        int next = 0;
        while (done < n) {
            if (next < n && hub.activeStreams() < hub.capacity() && r.nextInt(3) == 0) {
                sessions[next++] = hub.open();
            }
            for (int i = 0; i < next; i++) {
                if (sessions[i] == null) {
                    continue;
                }
                if (pushed[i] < audio[i].length) {
                    int m = Math.min(audio[i].length - pushed[i], r.nextInt(700));
                    sessions[i].push(java.util.Arrays.copyOfRange(audio[i], pushed[i], pushed[i] + m));
                    pushed[i] += m;
                } else if (r.nextInt(4) == 0) {
                    got.get(i).add(sessions[i].finish());
                    sessions[i] = null;
                    done++;
                }
            }
            hub.tick();
            for (int i = 0; i < next; i++) {
                if (sessions[i] != null && r.nextInt(5) == 0) {
                    got.get(i).add(sessions[i].poll());
                }
            }
            if (next == n && done < n && hub.activeStreams() == 0) {
                break;
            }
        }
        for (int i = 0; i < n; i++) {
            Tokens expected = cpu.encode(Audio.of(audio[i], 24_000), 6.0);
            int[][] all = new int[expected.numCodebooks()][];
            for (int k = 0; k < all.length; k++) {
                int len = 0;
                for (Tokens t : got.get(i)) {
                    len += t.codes()[k].length;
                }
                all[k] = new int[len];
                int at = 0;
                for (Tokens t : got.get(i)) {
                    System.arraycopy(t.codes()[k], 0, all[k], at, t.codes()[k].length);
                    at += t.codes()[k].length;
                }
                assertArrayEquals(expected.codes()[k], all[k], "stream " + i + " (" + audio[i].length + " samples) codebook " + k);
            }
        }
    }

    @Test
    void poolWithoutGraphsEqualsCpuStream() {
        Path dir = hubLayoutFolder();
        EncodecModel m = (EncodecModel) ModelFolder.load(dir);
        try (CudaEncodec g = CudaEncodec.create(m, 0, Precision.FP32);
             CodecModel.StreamPool pool = g.openStreamPool(5, 8, m.hopLength(), false)) {
            Random r = new Random(9);
            float[] x = CudaStreamScheduleTest.audio(r, 20 * m.hopLength() + 77);
            for (int slot = 0; slot < 5; slot++) {
                pool.reset(slot);
            }
            List<int[][]> parts = new ArrayList<>();
            int frames = x.length / m.hopLength();
            for (int f = 0; f < frames; f++) {
                float[] fr = java.util.Arrays.copyOfRange(x, f * m.hopLength(), (f + 1) * m.hopLength());
                // slot 3 carries the stream; the others carry copies: all must agree
                int[][][] out = pool.step(new int[] {3, 0, 4}, new float[][] {fr, fr, fr});
                assertArrayEquals(out[0][0], out[1][0]);
                assertArrayEquals(out[0][0], out[2][0]);
                parts.add(out[0]);
            }
            parts.add(pool.finish(3, java.util.Arrays.copyOfRange(x, frames * m.hopLength(), x.length)));
            int[][] got = CudaStreamScheduleTest.concat(parts, 8);
            int[][] expected = m.encode(io.vocodex.backend.cpu.CpuContext.singleThreaded(), x, 8);
            for (int k = 0; k < 8; k++) {
                assertArrayEquals(expected[k], got[k], "pool stream codebook " + k);
            }
        }
    }

    /** tf32 fast mode: agreement with fp32 tokens is printed; asserted only above a sanity floor. */
    @Test
    void fastModeTokenAgreementReported() {
        Path dir = hubLayoutFolder();
        Random r = new Random(11);
        try (Codec exact = Codec.load(dir, Device.cuda(0)); Codec fast = Codec.load(dir, Device.cuda(0).withTf32(true))) {
            assertTrue(fast.model() instanceof CudaEncodec c && c.precision() == Precision.TF32);
            long same = 0;
            long total = 0;
            long sameFirst = 0;
            long totalFirst = 0;
            for (int i = 0; i < 8; i++) {
                Audio a = Audio.of(CudaStreamScheduleTest.audio(r, 24_000), 24_000);
                Tokens te = exact.encode(a, 6.0);
                Tokens tf = fast.encode(a, 6.0);
                for (int k = 0; k < te.numCodebooks(); k++) {
                    for (int t = 0; t < te.codes()[k].length; t++) {
                        boolean eq = te.codes()[k][t] == tf.codes()[k][t];
                        same += eq ? 1 : 0;
                        total++;
                        if (k == 0) {
                            sameFirst += eq ? 1 : 0;
                            totalFirst++;
                        }
                    }
                }
            }
            System.out.printf("[cuda] tf32 vs fp32 token agreement: %.2f%% of all tokens, %.2f%% of codebook 0%n",
                    100.0 * same / total, 100.0 * sameFirst / totalFirst);
            assertTrue(sameFirst >= totalFirst / 2, "tf32 codebook-0 agreement below 50%: " + sameFirst + "/" + totalFirst);
        }
    }
}
