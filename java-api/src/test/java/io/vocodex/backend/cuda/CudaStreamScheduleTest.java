package io.vocodex.backend.cuda;

import io.vocodex.backend.cpu.CpuContext;
import io.vocodex.backend.cpu.CpuOps;
import io.vocodex.codec.CodecModel;
import io.vocodex.codec.encodec.EncodecConfig;
import io.vocodex.codec.encodec.EncodecImporter;
import io.vocodex.codec.encodec.EncodecModel;
import io.vocodex.codec.encodec.EncodecRandom;
import io.vocodex.model.ModelFolder;
import io.vocodex.nn.Frames;
import io.vocodex.nn.LstmLayer;
import io.vocodex.nn.PadMode;
import io.vocodex.testing.Golden;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The GPU StreamHub's host-side logic WITHOUT a GPU: the shape schedule ({@link CudaEncodecStreams#simulate}),
 * the window / conv / keep sequence of {@code CudaEncodecStreams.launchGroup} and the hand-over of a slot's
 * state to the CPU for its finish ({@link CudaEncodecStreams#cpuState}) are replayed here with the CPU
 * kernels standing in for the device ones ({@code stream_window_f32} etc. are pure copies, so this is the
 * same data flow). Each emulated stream must give exactly the tokens of a solo CPU stream. What this
 * cannot check: the kernels themselves, the launches, graphs and buffers (those need the cuda tests).
 */
class CudaStreamScheduleTest {
    @TempDir
    static Path tmp;

    private static final CpuContext CPU = CpuContext.singleThreaded();

    static EncodecModel smallRandom(String name, EncodecConfig c, long seed) {
        return (EncodecModel) ModelFolder.load(EncodecRandom.writeModelFolder(c, seed, tmp.resolve(name)));
    }

    static EncodecModel fixture(String variant) {
        Path f = Golden.fixture(variant);
        Path out = tmp.resolve(variant);
        EncodecImporter.importModel(f.resolve("weights.safetensors"), f.resolve("hparams.json"), out);
        return (EncodecModel) ModelFolder.load(out);
    }

    /** The StreamHubTest model: 24 kHz layout (ratios 8-5-4-2, hop 320) at 4 filters. */
    static EncodecConfig hubConfig() {
        return new EncodecConfig(24_000, 1, false, new double[] {0.9, 1.8, 3.6}, 16, 4, 1, new int[] {8, 5, 4, 2}, "ELU", 1.0,
                "weight_norm", 7, 7, 3, 2, true, "reflect", false, 2, 2, 1.0, 8, 64);
    }

    /** One emulated slot: conv tails (before the fused ELU, as the device stores them) and LSTM h/c. */
    static final class HostSlot {
        final Map<Integer, float[][]> tails = new HashMap<>();
        final Map<CudaSeanet.LstmOp, float[][][]> lstm = new HashMap<>(); // {h, c} (layers, H)
        int shape;
        final long[] raw;

        HostSlot(CudaEncodec plan) {
            raw = new long[plan.encoderConvs.size()];
            for (CudaSeanet.Op op : plan.encoderOps) {
                if (op instanceof CudaSeanet.LstmOp l) {
                    int layers = l.layer().layers();
                    int dim = l.layer().outChannels();
                    lstm.put(l, new float[][][] {new float[layers][dim], new float[layers][dim]});
                }
            }
        }
    }

    /** launchGroup for one slot, on the CPU. */
    static int[][] emulateStep(CudaEncodec plan, List<CudaEncodecStreams.Shape> shapes, HostSlot s, float[] frame, int nq) {
        CudaEncodecStreams.Shape sh = shapes.get(s.shape);
        float[][] cur = {frame};
        for (CudaSeanet.Op op : plan.encoderOps) {
            if (Frames.length(cur) == 0) {
                break;
            }
            if (op instanceof CudaSeanet.ConvOp c) {
                cur = emulateConv(c, sh, s, cur, null);
            } else if (op instanceof CudaSeanet.ResOp r) {
                float[][] sc = r.shortcut() == null ? cur : emulateConv(r.shortcut(), sh, s, cur, null);
                float[][] b = cur;
                for (int i = 0; i < r.block().size(); i++) {
                    boolean last = i == r.block().size() - 1;
                    b = emulateConv(r.block().get(i), sh, s, b, last ? sc : null);
                }
                cur = b;
            } else if (op instanceof CudaSeanet.LstmOp l) {
                assertEquals(sh.lstmSteps.get(l), Frames.length(cur), "LSTM steps");
                LstmLayer L = l.layer();
                float[][][] hc = s.lstm.get(l);
                float[][] y = cur;
                for (int k = 0; k < L.layers(); k++) {
                    y = CpuOps.lstmLayer(CPU, y, L.weightIh(k), L.weightHh(k), L.biasIh(k), L.biasHh(k), hc[0][k], hc[1][k]);
                }
                cur = L.skip() ? CpuOps.add(y, cur) : y;
            }
        }
        int n = Frames.length(cur);
        assertEquals(sh.frames, n, "frames of a step");
        for (int i = 0; i < s.raw.length; i++) {
            s.raw[i] += sh.nIn[i];
        }
        s.shape = sh.next;
        if (n == 0) {
            return new int[nq][0];
        }
        return plan.cpu.quantizer().encode(CPU, cur, nq);
    }

    /** streamConv: window (start padding | tail | new columns), conv (ELU on the window, residual + conv), keep. */
    static float[][] emulateConv(CudaSeanet.ConvOp c, CudaEncodecStreams.Shape sh, HostSlot s, float[][] x, float[][] residual) {
        int sid = c.sid;
        int nIn = sh.nIn[sid];
        assertEquals(nIn, Frames.length(x), "conv " + sid + " input columns");
        var L = c.layer;
        int cin = L.inChannels();
        int tailLen = sh.tailLen[sid];
        int prefix = sh.prefix[sid];
        int winLen = prefix + tailLen + nIn;
        float[][] tail = s.tails.getOrDefault(sid, new float[cin][0]);
        float[][] win = new float[cin][winLen];
        for (int ch = 0; ch < cin; ch++) {
            for (int j = 0; j < winLen; j++) {
                int i;
                if (j < prefix) {
                    if (L.padMode() == PadMode.CONSTANT) {
                        continue;
                    }
                    i = L.padMode() == PadMode.REFLECT ? prefix - j : 0;
                } else {
                    i = j - prefix;
                }
                win[ch][j] = i < tailLen ? tail[ch][i] : x[ch][i - tailLen];
            }
        }
        float[][] y;
        if (sh.nOut[sid] > 0) {
            float[][] in = c.elu ? CpuOps.elu(win, c.alpha) : win;
            y = CpuOps.conv1d(CPU, in, L.weight(), L.bias(), L.outChannels(), L.kernel(), L.stride(), L.dilation(), L.groups());
            assertEquals(sh.nOut[sid], Frames.length(y), "conv " + sid + " outputs");
            if (residual != null) {
                y = CpuOps.add(residual, y);
            }
        } else {
            y = Frames.empty(L.outChannels());
        }
        assertTrue(sh.keepLen[sid] <= c.tailCap() || c.tailCap() == 0 && sh.keepLen[sid] == 0, "tail fits");
        s.tails.put(sid, Frames.slice(win, sh.keepFrom[sid], sh.keepFrom[sid] + sh.keepLen[sid]));
        return y;
    }

    static int[][] concat(List<int[][]> parts, int nq) {
        int n = 0;
        for (int[][] p : parts) {
            n += p[0].length;
        }
        int[][] out = new int[nq][n];
        int at = 0;
        for (int[][] p : parts) {
            for (int k = 0; k < nq; k++) {
                System.arraycopy(p[k], 0, out[k], at, p[k].length);
            }
            at += p[0].length;
        }
        return out;
    }

    static float[] audio(Random r, int n) {
        float[] x = new float[n];
        double f = 80 + r.nextInt(900);
        for (int i = 0; i < n; i++) {
            x[i] = (float) (0.4 * Math.sin(2 * Math.PI * f * i / 24000) + 0.05 * r.nextGaussian());
        }
        return x;
    }

    /** Emulated GPU streams (whole frames, then finish with the rest on the CPU) == solo CPU streams. */
    static void checkModel(String what, EncodecModel m, int nq, int clips, long seed) {
        CudaEncodec plan = CudaEncodec.planOnly(m);
        int hop = m.hopLength();
        List<CudaEncodecStreams.Shape> shapes = CudaEncodecStreams.simulate(plan, hop);
        System.out.printf("[schedule] %s: hop %d, %d shape states, steady from frame %d, %d conv tails%n", what, hop,
                shapes.size(), shapes.get(shapes.size() - 1).next, plan.encoderConvs.size());
        Random r = new Random(seed);
        for (int clip = 0; clip < clips; clip++) {
            float[] x = audio(r, 1 + r.nextInt(12 * hop + 50));
            int whole = x.length / hop;
            // solo CPU stream: the same whole frames, then the rest and the flush
            CodecModel.EncoderStream solo = m.openEncoder(nq);
            HostSlot slot = new HostSlot(plan);
            List<int[][]> soloParts = new ArrayList<>();
            List<int[][]> gpuParts = new ArrayList<>();
            for (int f = 0; f < whole; f++) {
                float[] frame = java.util.Arrays.copyOfRange(x, f * hop, (f + 1) * hop);
                int[][] a = solo.push(CPU, frame);
                int[][] b = emulateStep(plan, shapes, slot, frame, nq);
                for (int k = 0; k < nq; k++) {
                    assertArrayEquals(a[k], b[k], what + " clip " + clip + " frame " + f + " codebook " + k);
                }
                soloParts.add(a);
                gpuParts.add(b);
            }
            float[] rest = java.util.Arrays.copyOfRange(x, whole * hop, x.length);
            soloParts.add(solo.push(CPU, rest));
            soloParts.add(solo.flush(CPU));
            var state = CudaEncodecStreams.cpuState(plan, shapes.get(slot.shape), slot.raw,
                    (c, len) -> Frames.slice(slot.tails.get(c.sid), 0, len),
                    (l, which) -> {
                        float[][] s2 = slot.lstm.get(l)[which];
                        float[] flat = new float[s2.length * s2[0].length];
                        for (int k = 0; k < s2.length; k++) {
                            System.arraycopy(s2[k], 0, flat, k * s2[0].length, s2[0].length);
                        }
                        return flat;
                    });
            CodecModel.EncoderStream resumed = m.resumeEncoder(state, nq);
            gpuParts.add(resumed.push(CPU, rest));
            gpuParts.add(resumed.flush(CPU));
            int[][] expected = concat(soloParts, nq);
            int[][] got = concat(gpuParts, nq);
            int[][] batch = m.encode(CPU, x, nq);
            for (int k = 0; k < nq; k++) {
                assertArrayEquals(batch[k], expected[k], what + " clip " + clip + ": solo stream == batch (sanity)");
                assertArrayEquals(expected[k], got[k], what + " clip " + clip + " (" + x.length + " samples) codebook " + k);
            }
        }
    }

    @Test
    void hubLayoutModel() {
        checkModel("24k layout, 4 filters", smallRandom("hub", hubConfig(), 21), 8, 12, 1);
    }

    @Test
    void fixtureSmall() {
        checkModel("encodec_small", fixture("encodec_small"), 6, 10, 2);
    }

    /**
     * encodec_nonorm (hop 10, dilations up to 3): a residual block's k3 conv waits for more samples at its
     * start than one frame brings while its 1x1 shortcut does not, so the branches finalise different counts
     * in one step. The device path keeps no per-branch pending outputs: the pool refuses this model with a
     * reason, and StreamHub falls back to the CPU.
     */
    @Test
    void mismatchedResidualBranchesAreRefusedWithAReason() {
        EncodecModel m = fixture("encodec_nonorm");
        io.vocodex.VocodexException e = org.junit.jupiter.api.Assertions.assertThrows(io.vocodex.VocodexException.class,
                () -> CudaEncodecStreams.simulate(CudaEncodec.planOnly(m), m.hopLength()));
        assertTrue(e.getMessage().contains("residual block"), e.getMessage());
    }

    @Test
    void bucketsPadAtMostAQuarter() {
        for (int g = 1; g <= 70_000; g++) {
            int b = CudaEncodecStreams.bucket(g);
            assertTrue(b >= g && b <= g + Math.max(0, g / 4), "bucket(" + g + ") = " + b);
            assertEquals(b, CudaEncodecStreams.bucket(b), "buckets are fixed points");
        }
    }
}
