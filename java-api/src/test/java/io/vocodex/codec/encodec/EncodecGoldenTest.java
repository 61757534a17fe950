package io.vocodex.codec.encodec;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.vocodex.Audio;
import io.vocodex.Codec;
import io.vocodex.Device;
import io.vocodex.Tokens;
import io.vocodex.audio.Npy;
import io.vocodex.testing.Compare;
import io.vocodex.testing.Golden;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * EnCodec against the ORIGINAL implementation's outputs (shared/golden/encodec/tiny: the 24 kHz
 * architecture at n_filters=4, dimension=32, 4 x 1024 codes, seeded random weights; see its
 * manifest.json). Tolerances from the manifest's suggested checks: the original's own
 * 1-vs-2-thread noise is ~1e-6.
 */
class EncodecGoldenTest {
    static Path golden;
    static Codec codec;

    @BeforeAll
    static void load(@TempDir Path tmp) throws Exception {
        golden = Golden.dir("encodec");
        Path hparams = tmp.resolve("hparams.json");
        // The manifest's constructor: SEANet n_filters=4, dimension=32; RVQ n_q=4, bins=1024; bandwidths [1.5, 3.0].
        Files.writeString(hparams, "{\"n_filters\": 4, \"dimension\": 32, \"n_q\": 4, \"bins\": 1024, \"target_bandwidths\": [1.5, 3.0]}");
        Path model = tmp.resolve("model");
        EncodecImporter.importModel(golden.resolve("weights.safetensors"), hparams, model);
        codec = Codec.load(model, Device.cpu(2));
        new ObjectMapper(); // keep jackson on the test classpath visible to readers
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

    @ParameterizedTest
    @CsvSource({"speech", "noise"})
    void latentMatchesOriginal(String input) {
        EncodecModel m = (EncodecModel) codec.model();
        float[][] latent = m.encodeLatent(ctx(), input(input));
        float[] expected = Npy.read(golden.resolve(input + "_latent.npy")).floats();
        Compare.relL2(input + " latent", expected, Compare.flatten(latent), 1e-4);
    }

    @ParameterizedTest
    @CsvSource({"speech, 1.5", "speech, 3", "noise, 1.5", "noise, 3"})
    void codesMatchOriginalExactly(String input, String bw) {
        Tokens t = codec.encode(Audio.of(input(input), 24_000), Double.parseDouble(bw));
        int[][] expected = Npy.read(golden.resolve(input + "_bw" + bw + "_codes.npy")).ints2d();
        assertEquals(expected.length, t.numCodebooks(), "codebooks at " + bw + " kbps");
        for (int k = 0; k < expected.length; k++) {
            assertArrayEquals(expected[k], t.codes()[k], input + " codebook " + k + " at " + bw + " kbps");
        }
    }

    @ParameterizedTest
    @CsvSource({"speech, 1.5", "speech, 3", "noise, 1.5", "noise, 3"})
    void decodeOfOriginalCodesMatches(String input, String bw) {
        int[][] codes = Npy.read(golden.resolve(input + "_bw" + bw + "_codes.npy")).ints2d();
        EncodecModel m = (EncodecModel) codec.model();
        float[] quantized = Compare.flatten(m.dequantize(codes));
        Compare.maxAbs(input + " quantized", Npy.read(golden.resolve(input + "_bw" + bw + "_quantized.npy")).floats(), quantized, 1e-5);
        Audio decoded = codec.decode(new Tokens(codes, 75, 1024));
        float[] expected = Npy.read(golden.resolve(input + "_bw" + bw + "_decoded.npy")).floats();
        Compare.maxAbs(input + " decoded", expected, decoded.samples(), 1e-4);
        Compare.relL2(input + " decoded", expected, decoded.samples(), 1e-4);
    }

    static io.vocodex.backend.cpu.CpuContext ctx() {
        return io.vocodex.backend.cpu.CpuContext.singleThreaded();
    }
}
