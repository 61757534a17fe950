package io.vocodex.backend.cuda;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vocodex.backend.cpu.CpuContext;
import io.vocodex.codec.mimi.MimiConfig;
import io.vocodex.codec.mimi.MimiModel;
import io.vocodex.codec.mimi.MimiRandom;
import io.vocodex.codec.mimi.MimiTransformer;
import io.vocodex.model.ModelFolder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CUDA Mimi transformer's layer schedule ({@link MimiTransformerPlan}) WITHOUT a GPU: the plan runs on
 * {@link HostTransformerKernels} (the CPU twins of the device kernels, on the device's channel-major
 * layout) and must reproduce {@link MimiTransformer} bit for bit, in batch mode (several clips in one
 * call) and in streaming mode (several streams per step in shuffled ring slots, joining at different
 * times, a slot reused by a new stream, rings wrapping). This checks weights, strides, positions and the
 * ring bookkeeping; the kernels themselves are checked by the cuda tests.
 */
class MimiTransformerPlanTest {
    @TempDir
    static Path tmp;

    private static final CpuContext CPU = CpuContext.singleThreaded();

    /** d 16, 2 heads, 2 layers, FF 24, the given context; {@code projected}: transformer input/output 12 wide. */
    static MimiConfig config(int context, boolean projected, boolean layerScale) {
        var o = new ObjectMapper().createObjectNode();
        o.putObject("seanet").put("dimension", projected ? 12 : 16).put("n_filters", 2);
        var t = o.putObject("transformer").put("d_model", 16).put("num_heads", 2).put("num_layers", 2).put("context", context)
                .put("dim_feedforward", 24).put("input_dimension", projected ? 12 : 16);
        t.putArray("output_dimensions").add(projected ? 12 : 16);
        if (!layerScale) {
            t.putNull("layer_scale");
        }
        o.putObject("quantizer").put("dimension", 8).put("n_q", 4).put("bins", 64).put("input_dimension", projected ? 12 : 16)
                .put("output_dimension", projected ? 12 : 16);
        return MimiConfig.mimi().withOverrides(o);
    }

    static MimiModel model(Path dir, MimiConfig c, long seed) {
        return (MimiModel) ModelFolder.load(MimiRandom.writeModelFolder(c, seed, dir));
    }

    /** The golden tiny model (the original's weights) imported into {@code dir}, as {@code MimiGoldenTest} does. */
    static Path goldenModelFolder(Path golden, Path dir) throws java.io.IOException {
        java.nio.file.Files.createDirectories(dir);
        Path hparams = dir.resolveSibling(dir.getFileName() + "-hparams.json");
        var manifest = new ObjectMapper().readTree(golden.resolve("manifest.json").toFile());
        java.nio.file.Files.writeString(hparams, manifest.get("config").toString());
        io.vocodex.codec.mimi.MimiImporter.importModel(golden.resolve("weights.safetensors"), hparams, dir);
        return dir;
    }

    static float[][] random(Random r, int channels, int t) {
        float[][] x = new float[channels][t];
        for (float[] row : x) {
            for (int i = 0; i < t; i++) {
                row[i] = (float) r.nextGaussian();
            }
        }
        return x;
    }

    static HostTransformerKernels.Buf pack(List<float[][]> clips, int channels, int t) {
        float[] f = new float[clips.size() * channels * t];
        for (int b = 0; b < clips.size(); b++) {
            for (int c = 0; c < channels; c++) {
                System.arraycopy(clips.get(b)[c], 0, f, (b * channels + c) * t, t);
            }
        }
        return new HostTransformerKernels.Buf(f, null);
    }

    static float[][] clip(HostTransformerKernels.Buf y, int b, int channels, int t) {
        float[][] out = new float[channels][t];
        for (int c = 0; c < channels; c++) {
            System.arraycopy(y.f, (b * channels + c) * t, out[c], 0, t);
        }
        return out;
    }

    static void assertSame(float[][] want, float[][] got, String what) {
        assertEquals(want.length, got.length, what + ": channels");
        for (int c = 0; c < want.length; c++) {
            assertArrayEquals(want[c], got[c], what + ", channel " + c);
        }
    }

    @Test
    void batchScheduleEqualsMimiTransformerBitForBit() {
        for (boolean projected : new boolean[] {false, true}) {
            MimiModel m = model(tmp.resolve("batch" + projected), config(6, projected, !projected), projected ? 11 : 12);
            for (MimiTransformer tr : new MimiTransformer[] {m.encoderTransformerModule(), m.decoderTransformerModule()}) {
                HostTransformerKernels k = new HostTransformerKernels(CPU);
                try (var plan = new MimiTransformerPlan<>(k, tr, false)) {
                    int in = plan.inDim;
                    int out = plan.outDim;
                    Random r = new Random(3);
                    for (int t : new int[] {1, 5, 13}) {
                        List<float[][]> clips = new ArrayList<>();
                        for (int b = 0; b < 3; b++) {
                            clips.add(random(r, in, t));
                        }
                        HostTransformerKernels.Buf y = k.allocate(3L * out * t);
                        try (var ws = plan.newWorkspace(4, t + 2)) { // larger than needed: the layout follows the call
                            plan.forward(ws, pack(clips, in, t), y, 3, t);
                        }
                        for (int b = 0; b < 3; b++) {
                            assertSame(tr.forward(CPU, clips.get(b)), clip(y, b, out, t), "projected " + projected + ", T " + t
                                    + ", clip " + b);
                        }
                    }
                }
            }
        }
    }

    @Test
    void onlineSoftmaxScheduleIsCloseToExact() {
        MimiModel m = model(tmp.resolve("flash"), config(6, false, true), 13);
        MimiTransformer tr = m.encoderTransformerModule();
        HostTransformerKernels k = new HostTransformerKernels(CPU);
        try (var plan = new MimiTransformerPlan<>(k, tr, true)) {
            int t = 17;
            float[][] x = random(new Random(5), plan.inDim, t);
            HostTransformerKernels.Buf y = k.allocate((long) plan.outDim * t);
            try (var ws = plan.newWorkspace(1, t)) {
                plan.forward(ws, pack(List.<float[][]>of(x), plan.inDim, t), y, 1, t);
            }
            float[][] want = tr.forward(CPU, x);
            float[][] got = clip(y, 0, plan.outDim, t);
            double max = 0;
            double scale = 0;
            int differing = 0;
            for (int c = 0; c < want.length; c++) {
                for (int i = 0; i < t; i++) {
                    max = Math.max(max, Math.abs(want[c][i] - got[c][i]));
                    scale = Math.max(scale, Math.abs(want[c][i]));
                    differing += want[c][i] != got[c][i] ? 1 : 0;
                }
            }
            System.out.printf("[mimi-plan] online softmax vs exact: max |diff| %.3e (max |y| %.3f), %d of %d differ%n", max, scale,
                    differing, want.length * t);
            assertTrue(max <= 1e-5 * scale, "online softmax schedule off by " + max);
        }
    }

    /**
     * Streams in shuffled ring slots, joining at different steps, 2-position chunks (one Mimi frame),
     * a context of 6 so the rings wrap and the original's short first query shows; one stream leaves and
     * a new one takes its slot without any ring reset.
     */
    @Test
    void streamingScheduleEqualsMimiTransformerStreamsBitForBit() {
        for (boolean projected : new boolean[] {false, true}) {
            MimiModel m = model(tmp.resolve("stream" + projected), config(6, projected, true), projected ? 21 : 22);
            MimiTransformer tr = m.encoderTransformerModule();
            HostTransformerKernels k = new HostTransformerKernels(CPU);
            try (var plan = new MimiTransformerPlan<>(k, tr, false)) {
                int in = plan.inDim;
                int out = plan.outDim;
                int n = 2;
                int slots = 4;
                HostTransformerKernels.Rings rings = plan.newRings(slots);
                Random r = new Random(9);
                // stream id -> (slot, start step, end step)
                int[][] life = {{2, 0, 12}, {0, 3, 14}, {3, 1, 6}, {3, 7, 14}, {1, 5, 14}};
                MimiTransformer.Stream[] ref = new MimiTransformer.Stream[life.length];
                int[] position = new int[life.length];
                int checked = 0;
                try (var ws = plan.newWorkspace(slots, n)) {
                    for (int step = 0; step < 14; step++) {
                        List<Integer> live = new ArrayList<>();
                        for (int s = 0; s < life.length; s++) {
                            if (step >= life[s][1] && step < life[s][2]) {
                                live.add(s);
                                if (ref[s] == null) {
                                    ref[s] = tr.newStream();
                                }
                            }
                        }
                        java.util.Collections.shuffle(live, r); // the order of streams in a launch is arbitrary
                        List<float[][]> chunks = new ArrayList<>();
                        int[] ringIndex = new int[live.size()];
                        int[] offsets = new int[live.size()];
                        for (int i = 0; i < live.size(); i++) {
                            int s = live.get(i);
                            chunks.add(random(r, in, n));
                            ringIndex[i] = life[s][0];
                            offsets[i] = position[s];
                        }
                        HostTransformerKernels.Buf y = k.allocate((long) live.size() * out * n);
                        plan.step(ws, pack(chunks, in, n), y, live.size(), n, rings, k.uploadInts(ringIndex), k.uploadInts(offsets));
                        for (int i = 0; i < live.size(); i++) {
                            int s = live.get(i);
                            assertSame(ref[s].step(CPU, chunks.get(i)), clip(y, i, out, n), "projected " + projected + ", stream " + s
                                    + ", step " + step);
                            position[s] += n;
                            checked++;
                        }
                    }
                }
                assertTrue(checked >= 40, "checked " + checked + " stream steps");
            }
        }
    }

    /** The golden tiny model's transformers (the original's weights, context 8): batch and 2-position steps, bit for bit. */
    @Test
    void goldenTinyTransformersMatchBitForBit() throws Exception {
        Path golden = io.vocodex.testing.Golden.dir("mimi");
        MimiModel m = (MimiModel) ModelFolder.load(goldenModelFolder(golden, tmp.resolve("golden")));
        Random r = new Random(17);
        for (MimiTransformer tr : new MimiTransformer[] {m.encoderTransformerModule(), m.decoderTransformerModule()}) {
            HostTransformerKernels k = new HostTransformerKernels(CPU);
            try (var plan = new MimiTransformerPlan<>(k, tr, false)) {
                int t = 24;
                float[][] x = random(r, plan.inDim, t);
                HostTransformerKernels.Buf y = k.allocate((long) plan.outDim * t);
                try (var ws = plan.newWorkspace(1, t)) {
                    plan.forward(ws, pack(List.<float[][]>of(x), plan.inDim, t), y, 1, t);
                }
                assertSame(tr.forward(CPU, x), clip(y, 0, plan.outDim, t), "golden batch");
                MimiTransformer.Stream ref = tr.newStream();
                HostTransformerKernels.Rings rings = plan.newRings(1);
                try (var ws = plan.newWorkspace(1, 2)) {
                    for (int step = 0; step < 10; step++) {
                        float[][] chunk = random(r, plan.inDim, 2);
                        HostTransformerKernels.Buf out = k.allocate(2L * plan.outDim);
                        plan.step(ws, pack(List.<float[][]>of(chunk), plan.inDim, 2), out, 1, 2, rings, k.uploadInts(new int[] {0}),
                                k.uploadInts(new int[] {2 * step}));
                        assertSame(ref.step(CPU, chunk), clip(out, 0, plan.outDim, 2), "golden step " + step);
                    }
                }
            }
        }
    }

    /** Every layer of the Mimi models has a device form ({@link CudaMimi#create} would not refuse them). */
    @Test
    void deviceSeanetPlanCoversMimiModels() {
        CudaMimi.checkPlan(model(tmp.resolve("plan-a"), config(6, false, true), 1));
        CudaMimi.checkPlan(model(tmp.resolve("plan-b"), config(6, true, false), 2));
        MimiModel full = model(tmp.resolve("plan-full"), MimiConfig.mimi(), 3); // the published layout (random weights)
        CudaMimi.checkPlan(full);
        assertEquals(512, full.upsampleLayer().groups(), "depthwise upsample");
    }
}
