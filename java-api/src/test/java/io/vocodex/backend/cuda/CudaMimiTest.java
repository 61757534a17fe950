package io.vocodex.backend.cuda;

import io.vocodex.Audio;
import io.vocodex.Codec;
import io.vocodex.Device;
import io.vocodex.Tokens;
import io.vocodex.audio.Npy;
import io.vocodex.backend.cpu.CpuContext;
import io.vocodex.codec.mimi.MimiModel;
import io.vocodex.codec.mimi.MimiTransformer;
import io.vocodex.testing.Compare;
import io.vocodex.testing.Golden;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Mimi on CUDA against the CPU and the original: batch codes identical to the original's batch goldens
 * ({@code Golden.dir("mimi")}), decode close to the CPU's, a batch of mixed lengths equal to solo CPU
 * codes, {@link CudaMimiTransformer} batch and streaming (several ring wraps) against
 * {@link MimiTransformer}, the split quantizer's codes against {@code MimiQuantizer}, and the tf32 fast
 * mode's agreement printed. Skips with one line without a GPU. <b>Never run on a GPU yet.</b>
 */
@Tag("cuda")
@ExtendWith(RequiresGpu.class)
class CudaMimiTest {
    @TempDir
    static Path tmp;
    private static final CpuContext CPU = CpuContext.singleThreaded();

    static float[][] random(Random r, int channels, int t) {
        return MimiTransformerPlanTest.random(r, channels, t);
    }

    /** max |a - b| over max |a|, printing how many elements differ at all. */
    static double relMax(String what, float[][] want, float[][] got) {
        double max = 0;
        double scale = 0;
        int differing = 0;
        int n = 0;
        for (int c = 0; c < want.length; c++) {
            assertEquals(want[c].length, got[c].length, what + ": length");
            for (int i = 0; i < want[c].length; i++) {
                max = Math.max(max, Math.abs(want[c][i] - got[c][i]));
                scale = Math.max(scale, Math.abs(want[c][i]));
                differing += Float.floatToRawIntBits(want[c][i]) != Float.floatToRawIntBits(got[c][i]) ? 1 : 0;
                n++;
            }
        }
        System.out.printf("[cuda] %s: max |diff| %.3e of max |ref| %.3f, %d of %d elements not identical%n", what, max, scale,
                differing, n);
        return max / Math.max(scale, 1e-30);
    }

    @Test
    void goldenBatchCodesAreTheOriginals() throws Exception {
        Path golden = Golden.dir("mimi");
        Path dir = MimiTransformerPlanTest.goldenModelFolder(golden, tmp.resolve("golden"));
        try (Codec gpuCodec = Codec.load(dir, Device.cuda(0)); Codec cpu = Codec.load(dir, Device.cpu(2))) {
            assertInstanceOf(CudaMimi.class, gpuCodec.model(), () -> "not on the GPU: " + gpuCodec.device().reason());
            for (String input : new String[] {"speech", "noise"}) {
                float[] pcm = Npy.read(golden.resolve("input_" + input + ".npy")).floats();
                Tokens t = gpuCodec.encode(Audio.of(pcm, 24_000), 4 * 0.1375);
                int[][] expected = Npy.read(golden.resolve(input + "_q4_codes_batch.npy")).ints2d();
                assertEquals(expected.length, t.numCodebooks());
                for (int k = 0; k < expected.length; k++) {
                    assertArrayEquals(expected[k], t.codes()[k], input + " batch codebook " + k);
                }
                float[] want = cpu.model().decode(CPU, expected);
                float[] got = gpuCodec.model().decode(CPU, expected);
                assertEquals(want.length, got.length);
                double rel = relMax("mimi golden decode " + input, new float[][] {want}, new float[][] {got});
                assertTrue(rel <= 1e-5, input + " decode off by " + rel);
            }
        }
    }

    @Test
    void mixedLengthBatchEqualsSoloCpuCodes() {
        MimiModel m = MimiTransformerPlanTest.model(tmp.resolve("batch"), MimiTransformerPlanTest.config(6, false, true), 31);
        int hop = m.hopLength();
        Random r = new Random(4);
        int[] lengths = {3 * hop, hop / 2, 3 * hop - 7, 5 * hop + 1, 3 * hop, 1};
        float[][] clips = new float[lengths.length][];
        for (int i = 0; i < clips.length; i++) {
            clips[i] = new float[lengths[i]];
            for (int j = 0; j < lengths[i]; j++) {
                clips[i][j] = (float) (0.2 * r.nextGaussian());
            }
        }
        try (CudaMimi g = CudaMimi.create(m, 0, Precision.FP32)) {
            for (int nq : new int[] {1, m.maxCodebooks()}) {
                int[][][] got = g.encodeBatch(CPU, clips, nq);
                for (int i = 0; i < clips.length; i++) {
                    int[][] want = m.encode(CPU, clips[i], nq);
                    for (int k = 0; k < nq; k++) {
                        assertArrayEquals(want[k], got[i][k], "clip " + i + " (" + lengths[i] + " samples), nq " + nq + ", codebook " + k);
                    }
                }
            }
            int[][] codes = m.encode(CPU, clips[3], m.maxCodebooks());
            double rel = relMax("mimi random decode", new float[][] {m.decode(CPU, codes)}, new float[][] {g.decode(CPU, codes)});
            assertTrue(rel <= 1e-5, "decode off by " + rel);
        }
    }

    @Test
    void transformerBatchAndStreamingMatchTheCpu() {
        for (boolean projected : new boolean[] {false, true}) {
            MimiModel m = MimiTransformerPlanTest.model(tmp.resolve("tr" + projected), MimiTransformerPlanTest.config(6, projected, !projected), 41);
            MimiTransformer tr = m.encoderTransformerModule();
            int in = tr.config().inputDimension();
            Random r = new Random(8);
            try (CudaContext cuda = new CudaContext(0)) {
                for (CudaAttention.Mode mode : CudaAttention.Mode.values()) {
                    try (CudaMimiTransformer g = new CudaMimiTransformer(cuda, tr, mode)) {
                        float[][] x = random(r, in, 37);
                        double rel = relMax("mimi transformer batch " + mode + " projected " + projected, tr.forward(CPU, x),
                                g.forward(x));
                        assertTrue(rel <= (mode == CudaAttention.Mode.EXACT ? 1e-6 : 1e-5), mode + " batch off by " + rel);
                        MimiTransformer.Stream ref = tr.newStream();
                        try (CudaMimiTransformer.Stream s = g.newStream()) {
                            for (int step = 0; step < 12; step++) { // context 6, chunks of 2: the ring wraps 4 times
                                float[][] chunk = random(r, in, 2);
                                double rs = relMax("mimi transformer step " + step, ref.step(CPU, chunk), s.step(chunk));
                                assertTrue(rs <= 1e-6, "step " + step + " off by " + rs);
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void splitQuantizerCodesAreTheCpus() {
        MimiModel m = MimiTransformerPlanTest.model(tmp.resolve("q"), MimiTransformerPlanTest.config(6, false, true), 51);
        int d = m.config().seanet().dimension();
        Random r = new Random(12);
        try (CudaContext cuda = new CudaContext(0); CudaMimiQuantizer q = new CudaMimiQuantizer(cuda, m.quantizer())) {
            for (int frames : new int[] {1, 31, 33, 100}) {
                int batch = 3;
                List<float[][]> latents = new ArrayList<>();
                for (int b = 0; b < batch; b++) {
                    latents.add(random(r, d, frames));
                }
                float[] flat = MimiTransformerPlanTest.pack(latents, d, frames).f;
                int nq = m.maxCodebooks();
                try (DeviceBuffer lat = cuda.upload(flat); DeviceBuffer res = cuda.allocate(4L * batch * frames * q.residualFloatsPerFrame());
                     DeviceBuffer codes = cuda.allocate(4L * batch * nq * frames)) {
                    q.encode(cuda.stream(), lat, res, codes, batch, frames, nq);
                    int[] got = codes.downloadInts(cuda.stream(), batch * nq * frames);
                    for (int b = 0; b < batch; b++) {
                        int[][] want = m.quantizer().encode(CPU, latents.get(b), nq);
                        for (int k = 0; k < nq; k++) {
                            int[] row = java.util.Arrays.copyOfRange(got, (b * nq + k) * frames, (b * nq + k + 1) * frames);
                            assertArrayEquals(want[k], row, "frames " + frames + ", clip " + b + ", codebook " + k);
                        }
                    }
                }
            }
        }
    }

    @Test
    void tf32ModeAgreementIsPrinted() {
        MimiModel m = MimiTransformerPlanTest.model(tmp.resolve("tf32"), MimiTransformerPlanTest.config(6, false, true), 61);
        Random r = new Random(6);
        float[] pcm = new float[20 * m.hopLength()];
        for (int i = 0; i < pcm.length; i++) {
            pcm[i] = (float) (0.2 * r.nextGaussian());
        }
        try (CudaMimi fast = CudaMimi.create(m, 0, Precision.TF32)) {
            int nq = m.maxCodebooks();
            int[][] want = m.encode(CPU, pcm, nq);
            int[][] got = fast.encode(CPU, pcm, nq);
            int same = 0;
            for (int t = 0; t < want[0].length; t++) {
                same += want[0][t] == got[0][t] ? 1 : 0;
            }
            System.out.printf("[cuda] mimi tf32: codebook 0 agrees with fp32 on %d of %d frames%n", same, want[0].length);
            assertTrue(2 * same >= want[0].length, "tf32 codebook-0 agreement " + same + "/" + want[0].length);
            // a floor, not a parity claim: tf32 rounds every conv input to 10 mantissa bits
            Compare.relL2("mimi tf32 decode", m.decode(CPU, want), fast.decode(CPU, want), 5e-2);
        }
    }
}
