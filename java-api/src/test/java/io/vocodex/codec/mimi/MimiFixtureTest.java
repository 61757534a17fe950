package io.vocodex.codec.mimi;

import io.vocodex.Audio;
import io.vocodex.Codec;
import io.vocodex.Device;
import io.vocodex.StreamingDecoder;
import io.vocodex.StreamingEncoder;
import io.vocodex.Tokens;
import io.vocodex.audio.Npy;
import io.vocodex.backend.cpu.CpuContext;
import io.vocodex.testing.Compare;
import io.vocodex.testing.Golden;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Mimi against the project's OWN committed fixtures (src/test/resources/fixtures/mimi_small, made
 * by scripts/make_mimi_fixtures.py from scripts/mimi_reference.py, a plain-PyTorch Mimi that
 * reproduces the original's batch and streaming codes exactly on the shared goldens). Runs on a
 * fresh clone. The configuration differs from the golden: 16 kHz with 1280-sample frames, ratios
 * [8, 5, 4, 4], two residual layers with 1x1-conv shortcuts, no layer scale, context 6 (the ring
 * cache binds from frame 3), 3 x 128 codes; inputs of 18.75 frames and of less than one frame.
 * Tolerances as in {@link MimiGoldenTest}.
 */
class MimiFixtureTest {
    static Path fx;
    static Codec codec;
    static MimiModel model;

    @BeforeAll
    static void load(@TempDir Path tmp) {
        fx = Golden.fixture("mimi_small");
        Path dir = tmp.resolve("model");
        MimiImporter.importModel(fx.resolve("weights.safetensors"), fx.resolve("config.json"), dir);
        codec = Codec.load(dir, Device.cpu(2));
        model = (MimiModel) codec.model();
        assertEquals(1280, codec.hopLength());
    }

    @AfterAll
    static void close() {
        if (codec != null) {
            codec.close();
        }
    }

    static String suffix(String input) {
        return input.equals("main") ? "" : "_" + input;
    }

    static float[] floats(String kind, String input) {
        return Npy.read(fx.resolve(kind + suffix(input) + ".npy")).floats();
    }

    static int[][] ints(String kind, String input) {
        return Npy.read(fx.resolve(kind + suffix(input) + ".npy")).ints2d();
    }

    static double bw(int k) {
        return k * model.config().kbpsPerCodebook();
    }

    @ParameterizedTest
    @ValueSource(strings = {"main", "short"})
    void batchAndStreamingCodesMatchExactlyForEveryCodebookCount(String input) {
        float[] x = floats("input", input);
        int[][] batch = ints("codes_batch", input);
        int[][] stream = ints("codes_stream", input);
        for (int k = 1; k <= 3; k++) {
            Tokens t = codec.encode(Audio.of(x, 16_000), bw(k));
            assertEquals(k, t.numCodebooks());
            Tokens s;
            try (StreamingEncoder enc = codec.streamingEncoder(bw(k))) {
                Tokens a = enc.push(x);
                Tokens b = enc.flush();
                s = new Tokens(MimiStreamingTest.append(a.codes(), b.codes()), 12.5, 128);
            }
            for (int j = 0; j < k; j++) {
                assertArrayEquals(batch[j], t.codes()[j], input + " batch codebook " + j + " of " + k);
                assertArrayEquals(stream[j], s.codes()[j], input + " stream codebook " + j + " of " + k);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"main", "short"})
    void latentsAndDecodedAudioMatch(String input) {
        float[] x = floats("input", input);
        CpuContext ctx = CpuContext.singleThreaded();
        MimiGoldenTest.close(input + " fixture latent batch", floats("latent_batch", input),
                Compare.flatten(model.encodeLatent(ctx, x)), 1e-5, 1e-5);
        MimiModel.EncoderStreamImpl enc = model.openRecordingEncoder(3);
        enc.push(ctx, x);
        enc.flush(ctx);
        List<float[][]> lat = enc.latents();
        int d = lat.get(0).length;
        float[] flat = new float[d * lat.size()];
        for (int t = 0; t < lat.size(); t++) {
            for (int c = 0; c < d; c++) {
                flat[c * lat.size() + t] = lat.get(t)[c][0];
            }
        }
        MimiGoldenTest.close(input + " fixture latent stream", floats("latent_stream", input), flat, 1e-5, 1e-5);

        Tokens codes = new Tokens(ints("codes_batch", input), 12.5, 128);
        MimiGoldenTest.close(input + " fixture decoded batch", floats("decoded_batch", input),
                codec.decode(codes).samples(), 1e-5, 3e-5);
        float[] streamed = new float[0];
        try (StreamingDecoder dec = codec.streamingDecoder()) {
            for (int t = 0; t < codes.numFrames(); t++) {
                streamed = MimiGoldenTest.concat(streamed, dec.push(codes.frames(t, t + 1)));
            }
            streamed = MimiGoldenTest.concat(streamed, dec.flush());
        }
        MimiGoldenTest.close(input + " fixture decoded stream", floats("decoded_stream", input), streamed, 1e-5, 3e-5);
    }
}
