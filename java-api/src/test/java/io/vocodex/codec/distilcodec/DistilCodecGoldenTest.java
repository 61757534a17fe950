package io.vocodex.codec.distilcodec;

import com.fasterxml.jackson.databind.JsonNode;
import io.vocodex.Audio;
import io.vocodex.Codec;
import io.vocodex.Device;
import io.vocodex.Tokens;
import io.vocodex.audio.Npy;
import io.vocodex.backend.cpu.CpuContext;
import io.vocodex.model.ModelFolder;
import io.vocodex.testing.Compare;
import io.vocodex.testing.Golden;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * DistilCodec against the ORIGINAL implementation's outputs (shared/golden/distilcodec/tiny: the
 * released architecture at encoder dims [16, 32], quantizer 32 -> 8 with the full 32768 codes,
 * decoder width 64, seeded random weights; float32 on CPU; see its manifest.json).
 *
 * <p>Tolerances. Codes must be IDENTICAL (the manifest's smallest float64 nearest/second-nearest
 * margin is 1.2e-4, hundreds of times the float32 rounding of the distances). The float stages
 * differ from the original only by rounding order (its float32 FFT/BLAS sums vs the fixed fma
 * order and float64 FFT, layer-norm statistics and activations here): ~1e-7 per element, amplified
 * through a few dozen layers. Measured (speech): rel L2 8e-7 (mel), 9e-7 (encoder, latent), 4e-6
 * (x_pjt_in), 2e-7 (quantized latent), 8e-7 (audio); max-abs 7.9e-6 on the latents, 1.4e-6 on the
 * audio. Bounds: rel L2 1e-5 for every stage except x_pjt_in, 3e-5 (the golden's project_in bias
 * nearly cancels W x, so relative errors grow ~4x there); max-abs 1e-4 on latents and 1e-5 on audio
 * (|y| &lt; 1). The log-mel's max-abs bound is 1e-3: in near-silent frames a bin's magnitude is
 * ~1e-4 while the original's float32 FFT error is ~1e-7 of the frame's largest bin, and the log
 * turns that into up to 1.7e-4 absolute (measured; the rel L2 of the whole mel is 8e-7).
 */
class DistilCodecGoldenTest {
    static Path golden;
    static Codec codec;
    static DistilCodecModel model;

    @BeforeAll
    static void load(@TempDir Path tmp) throws Exception {
        golden = Golden.dir("distilcodec");
        JsonNode manifest = ModelFolder.readJson(golden.resolve("manifest.json"));
        Path cfg = tmp.resolve("model_config.json");
        ModelFolder.writeJson(cfg, manifest.get("config"));
        Path dir = tmp.resolve("model");
        DistilCodecImporter.importModel(golden.resolve("weights.safetensors"), cfg, dir);
        codec = Codec.load(dir, Device.cpu(2));
        model = (DistilCodecModel) codec.model();
    }

    @AfterAll
    static void close() {
        if (codec != null) {
            codec.close();
        }
    }

    static float[] input(String name) {
        return Npy.read(golden.resolve("input_" + name + ".npy")).floats();
    }

    static float[] ref(String file) {
        return Npy.read(golden.resolve(file)).floats();
    }

    static CpuContext ctx() {
        return CpuContext.singleThreaded();
    }

    @ParameterizedTest
    @ValueSource(strings = {"speech", "noise"})
    void codesMatchOriginalExactly(String input) {
        Tokens t = codec.encode(Audio.of(input(input), 24_000), codec.bandwidths()[0]);
        int[] expected = Npy.read(golden.resolve(input + "_codes.npy")).ints();
        assertEquals(1, t.numCodebooks());
        assertArrayEquals(expected, t.codes()[0], input + " codes");
        int[] ids = model.toLlmTokenIds(t.codes());
        for (int i = 0; i < ids.length; i++) {
            assertEquals(expected[i] + 152064, ids[i]);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"speech", "noise"})
    void stagesMatchOriginal(String input) {
        float[][] mel = model.mel(ctx(), input(input));
        report(input + " mel", ref(input + "_mel.npy"), Compare.flatten(mel), 1e-5, 1e-3);
        float[][] enc = model.encodeMel(ctx(), mel);
        report(input + " encoder_out", ref(input + "_encoder_out.npy"), Compare.flatten(enc), 1e-5, 1e-4);
        float[][] pre = model.prequant(ctx(), enc);
        report(input + " latent_prequant", ref(input + "_latent_prequant.npy"), Compare.flatten(pre), 1e-5, 1e-4);
        float[][] pin = model.projectIn(ctx(), pre, 0);
        report(input + " x_pjt_in", ref(input + "_x_pjt_in.npy"), Compare.flatten(pin), 3e-5, 1e-4);
    }

    @ParameterizedTest
    @ValueSource(strings = {"speech", "noise"})
    void decodeOfOriginalCodesMatches(String input) {
        int[] codes = Npy.read(golden.resolve(input + "_codes.npy")).ints();
        float[][] q = model.dequantize(ctx(), new int[][] {codes});
        report(input + " quantized_latent", ref(input + "_quantized_latent.npy"), Compare.flatten(q), 1e-5, 1e-4);
        Audio y = codec.decode(new Tokens(new int[][] {codes}, codec.frameRate(), codec.codebookSize()));
        report(input + " decoded", ref(input + "_decoded.npy"), y.samples(), 1e-5, 1e-5);
    }

    static void report(String what, float[] expected, float[] actual, double relTol, double absTol) {
        double rel = Compare.relL2(what, expected, actual, relTol);
        double max = 0;
        for (int i = 0; i < expected.length; i++) {
            max = Math.max(max, Math.abs((double) expected[i] - actual[i]));
        }
        System.out.printf("%s: rel L2 %.3g, max |diff| %.3g%n", what, rel, max);
        Compare.maxAbs(what, expected, actual, absTol);
    }
}
