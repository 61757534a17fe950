package io.vocodex.backend.cuda;

import io.vocodex.Codec;
import io.vocodex.Device;
import io.vocodex.StreamHub;
import io.vocodex.Tokens;
import io.vocodex.backend.cpu.CpuContext;
import io.vocodex.codec.CodecModel;
import io.vocodex.codec.mimi.MimiConfig;
import io.vocodex.codec.mimi.MimiModel;
import io.vocodex.model.ModelFolder;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The GPU Mimi StreamHub ({@link CudaMimiStreams}, fp32) against the CPU: a hub on the GPU and a hub on the
 * CPU run the same script (streams joining, pushing random amounts, finishing or cancelling at random ticks,
 * slots reused), with CUDA graphs on and off; every stream's tokens must be identical in both hubs and equal
 * to a solo {@code MimiModel} streaming encoder. Then a raw pool on the published layout (random weights)
 * against solo CPU streams. Skips with one line without a GPU. <b>Never run on a GPU yet.</b>
 */
@Tag("cuda")
@ExtendWith(RequiresGpu.class)
class CudaMimiStreamsTest {
    @TempDir
    static Path tmp;
    private static final CpuContext CPU = CpuContext.singleThreaded();

    private static int[][] all(List<Tokens> parts, int nq) {
        List<int[][]> codes = new ArrayList<>();
        for (Tokens t : parts) {
            codes.add(t.codes());
        }
        return CudaStreamScheduleTest.concat(codes, nq);
    }

    /** The same random script on both hubs; each stream's tokens identical, and equal to a solo CPU stream. */
    private static void sameScript(String what, MimiModel m, StreamHub gpuHub, StreamHub cpuHub, double kbps, Random r) {
        int hop = m.hopLength();
        int n = 48;
        float[][] audio = new float[n][];
        int[] pushed = new int[n];
        boolean[] cancels = new boolean[n];
        StreamHub.StreamSession[][] sessions = new StreamHub.StreamSession[2][n];
        List<List<Tokens>> gotGpu = new ArrayList<>();
        List<List<Tokens>> gotCpu = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            audio[i] = CudaStreamScheduleTest.audio(r, 1 + r.nextInt(10 * hop));
            cancels[i] = r.nextInt(6) == 0;
            gotGpu.add(new ArrayList<>());
            gotCpu.add(new ArrayList<>());
        }
        int next = 0;
        int done = 0;
        while (done < n) {
            if (next < n && gpuHub.activeStreams() < gpuHub.capacity() && r.nextInt(2) == 0) {
                sessions[0][next] = gpuHub.open();
                sessions[1][next] = cpuHub.open();
                next++;
            }
            for (int i = 0; i < next; i++) {
                if (sessions[0][i] == null) {
                    continue;
                }
                if (pushed[i] < audio[i].length) {
                    int len = Math.min(audio[i].length - pushed[i], r.nextInt(3 * hop));
                    float[] chunk = Arrays.copyOfRange(audio[i], pushed[i], pushed[i] + len);
                    sessions[0][i].push(chunk);
                    sessions[1][i].push(chunk);
                    pushed[i] += len;
                } else if (r.nextInt(3) == 0) {
                    if (cancels[i]) {
                        gotGpu.get(i).add(sessions[0][i].poll());
                        gotCpu.get(i).add(sessions[1][i].poll());
                        sessions[0][i].cancel();
                        sessions[1][i].cancel();
                    } else {
                        gotGpu.get(i).add(sessions[0][i].finish());
                        gotCpu.get(i).add(sessions[1][i].finish());
                    }
                    sessions[0][i] = null;
                    done++;
                }
            }
            int a = gpuHub.tick();
            int b = cpuHub.tick();
            assertTrue(a == b, "both hubs step the same streams");
        }
        int frames = 0;
        for (int i = 0; i < n; i++) {
            int nq = m.codebooksFor(kbps);
            int[][] g = all(gotGpu.get(i), nq);
            int[][] c = all(gotCpu.get(i), nq);
            CodecModel.EncoderStream solo = m.openEncoder(nq);
            List<int[][]> want = new ArrayList<>();
            if (cancels[i]) {
                want.add(solo.push(CPU, Arrays.copyOf(audio[i], c[0].length * hop)));
            } else {
                want.add(solo.push(CPU, audio[i]));
                want.add(solo.flush(CPU));
            }
            int[][] w = CudaStreamScheduleTest.concat(want, nq);
            for (int k = 0; k < nq; k++) {
                assertArrayEquals(w[k], c[k], what + ": CPU hub stream " + i + " == solo (sanity), codebook " + k);
                assertArrayEquals(c[k], g[k], what + ": GPU hub stream " + i + " (" + audio[i].length + " samples) codebook " + k);
            }
            frames += w[0].length;
        }
        System.out.println("[cuda] " + what + ": " + n + " streams, " + frames + " code frames identical to the CPU hub");
    }

    private static void hubs(String what, Path dir, int capacity) {
        MimiModel m = (MimiModel) ModelFolder.load(dir);
        try (Codec cpu = Codec.load(dir, Device.cpu(2)); Codec g = Codec.load(dir, Device.cuda(0))) {
            double kbps = g.bandwidths()[Math.min(2, g.bandwidths().length - 1)];
            for (boolean graphs : new boolean[] {true, false}) {
                String old = System.getProperty("vocodex.cuda.graphs");
                System.setProperty("vocodex.cuda.graphs", String.valueOf(graphs));
                try (StreamHub gpuHub = new StreamHub(g, kbps, capacity); StreamHub cpuHub = new StreamHub(cpu, kbps, capacity)) {
                    assertFalse(gpuHub.backend().startsWith("cpu"), gpuHub.backend());
                    System.out.println("[cuda] " + gpuHub.backend());
                    sameScript(what + (graphs ? ", graphs" : ", no graphs"), m, gpuHub, cpuHub, kbps, new Random(graphs ? 1 : 2));
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

    @Test
    void smallModelHubEqualsCpuHub() {
        hubs("d16 context 6", io.vocodex.codec.mimi.MimiRandom.writeModelFolder(MimiTransformerPlanTest.config(6, false, true), 41,
                tmp.resolve("small")), 14);
    }

    @Test
    void goldenTinyModelHubEqualsCpuHub() throws Exception {
        hubs("golden tiny", MimiTransformerPlanTest.goldenModelFolder(io.vocodex.testing.Golden.dir("mimi"), tmp.resolve("golden")), 9);
    }

    /** The published layout (random weights), 3 streams joining at different frames, 14 frames (ring wrap needs 125). */
    @Test
    void publishedLayoutPoolEqualsSoloCpuStreams() {
        MimiModel m = MimiTransformerPlanTest.model(tmp.resolve("full"), MimiConfig.mimi(), 5);
        int nq = 8;
        int hop = m.hopLength();
        try (CudaMimi g = CudaMimi.create(m, 0, Precision.FP32); CodecModel.StreamPool pool = g.openStreamPool(3, nq, hop, true)) {
            assertThrows(io.vocodex.VocodexException.class, () -> g.openStreamPool(3, nq, hop / 2, true), "half frames are refused");
            Random r = new Random(8);
            int[] start = {0, 2, 5};
            CodecModel.EncoderStream[] solo = new CodecModel.EncoderStream[3];
            for (int s = 0; s < 3; s++) {
                pool.reset(s);
                solo[s] = m.openEncoder(nq);
            }
            for (int f = 0; f < 14; f++) {
                List<Integer> live = new ArrayList<>();
                for (int s = 0; s < 3; s++) {
                    if (f >= start[s]) {
                        live.add(s);
                    }
                }
                int[] slots = new int[live.size()];
                float[][] frames = new float[live.size()][];
                for (int i = 0; i < slots.length; i++) {
                    slots[i] = live.get(i);
                    frames[i] = CudaStreamScheduleTest.audio(r, hop);
                }
                int[][][] got = pool.step(slots, frames);
                for (int i = 0; i < slots.length; i++) {
                    int[][] want = solo[slots[i]].push(CPU, frames[i]);
                    for (int k = 0; k < nq; k++) {
                        assertArrayEquals(want[k], got[i][k], "slot " + slots[i] + " frame " + f + " codebook " + k);
                    }
                }
            }
            float[] rest = CudaStreamScheduleTest.audio(r, 777);
            int[][] last = pool.finish(0, rest);
            int[][] a = solo[0].push(CPU, rest);
            int[][] b = solo[0].flush(CPU);
            for (int k = 0; k < nq; k++) {
                assertArrayEquals(CudaStreamScheduleTest.concat(List.of(a, b), nq)[k], last[k], "finish, codebook " + k);
            }
        }
    }
}
