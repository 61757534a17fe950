package io.vocodex.codec.encodec;

import io.vocodex.Audio;
import io.vocodex.Codec;
import io.vocodex.Device;
import io.vocodex.StreamingEncoder;
import io.vocodex.Tokens;
import io.vocodex.VocodexException;
import io.vocodex.model.ModelFolder;
import io.vocodex.model.SafetensorsFile;
import io.vocodex.model.SafetensorsWriter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad checkpoints, configs and audio give one clear error naming the culprit; nothing crashes. */
class EncodecBadInputTest {
    static final EncodecConfig SMALL = new EncodecConfig(24_000, 1, false, new double[] {1.5, 3.0}, 16, 4, 1,
            new int[] {8, 5, 4, 2}, "ELU", 1.0, "weight_norm", 7, 7, 3, 2, true, "reflect", false, 2, 2, 1.0, 4, 1024);
    static Path model;
    static Codec codec;

    @BeforeAll
    static void build(@TempDir Path tmp) {
        model = EncodecRandom.writeModelFolder(SMALL, 3, tmp.resolve("m"));
        codec = Codec.load(model, Device.cpu(1));
    }

    @AfterAll
    static void close() {
        codec.close();
    }

    static void assertMessage(Throwable e, String... fragments) {
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "expected '" + f + "' in: " + e.getMessage());
        }
    }

    /** A copy of the model's weights with {@code drop} removed and {@code reshape} given a wrong shape, plus an extra tensor. */
    static Path doctored(Path dir, String drop, String reshape, String extra) throws Exception {
        Files.createDirectories(dir);
        SafetensorsWriter w = new SafetensorsWriter();
        try (SafetensorsFile f = SafetensorsFile.open(model.resolve(ModelFolder.WEIGHTS))) {
            for (var t : f.tensors().values()) {
                if (t.name().equals(drop)) {
                    continue;
                }
                long[] shape = t.shape();
                float[] data = f.floats(t.name());
                if (t.name().equals(reshape)) {
                    shape = new long[] {data.length};
                }
                w.put(t.name(), shape, data);
            }
        }
        if (extra != null) {
            w.put(extra, new long[] {3}, new float[3]);
        }
        Path p = dir.resolve("state_dict.safetensors");
        w.write(p);
        return p;
    }

    @Test
    void importerListsEveryMissingExtraAndMisshapedTensor(@TempDir Path tmp) throws Exception {
        Path sd = doctored(tmp.resolve("sd"), "encoder.model.3.conv.conv.weight_v", "decoder.model.1.lstm.weight_hh_l1",
                "encoder.model.99.conv.conv.bias");
        Path hp = tmp.resolve("h.json");
        Files.writeString(hp, "{\"n_filters\": 4, \"dimension\": 16, \"n_q\": 4, \"target_bandwidths\": [1.5, 3.0]}");
        VocodexException e = assertThrows(VocodexException.class, () -> EncodecImporter.importModel(sd, hp, tmp.resolve("out")));
        assertMessage(e, sd.toString(), "missing tensor 'encoder.model.3.conv.conv.weight_v'",
                "'decoder.model.1.lstm.weight_hh_l1' has shape [16384]", "unexpected tensor 'encoder.model.99.conv.conv.bias'");
        assertTrue(Files.notExists(tmp.resolve("out").resolve(ModelFolder.CONFIG)), "nothing written on failure");
    }

    @Test
    void importerRejectsUnknownHyperParameter(@TempDir Path tmp) throws Exception {
        Path hp = tmp.resolve("h.json");
        Files.writeString(hp, "{\"n_filter\": 4}");
        VocodexException e = assertThrows(VocodexException.class,
                () -> EncodecImporter.importModel(model.resolve(ModelFolder.WEIGHTS), hp, tmp.resolve("out")));
        assertMessage(e, hp.toString(), "unknown keys [n_filter]");
    }

    @Test
    void importerRoundTripsItsOwnFolder(@TempDir Path tmp) throws Exception {
        Path hp = tmp.resolve("h.json");
        Files.writeString(hp, "{\"n_filters\": 4, \"dimension\": 16, \"n_q\": 4, \"target_bandwidths\": [1.5, 3.0]}");
        EncodecImporter.importModel(model.resolve(ModelFolder.WEIGHTS), hp, tmp.resolve("out"));
        try (Codec c = Codec.load(tmp.resolve("out"), Device.cpu(1))) {
            float[] x = new float[5000];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) Math.sin(i * 0.01);
            }
            assertEquals(codec.encode(Audio.of(x, 24_000), 3), c.encode(Audio.of(x, 24_000), 3));
        }
    }

    @Test
    void loaderRejectsConfigThatDoesNotMatchWeights(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("m");
        Files.createDirectories(dir);
        Files.copy(model.resolve(ModelFolder.WEIGHTS), dir.resolve(ModelFolder.WEIGHTS));
        Files.writeString(dir.resolve(ModelFolder.CONFIG),
                Files.readString(model.resolve(ModelFolder.CONFIG)).replace("\"lstm\" : 2", "\"lstm\" : 1"));
        VocodexException e = assertThrows(VocodexException.class, () -> Codec.load(dir, Device.cpu(1)));
        assertMessage(e, "not used by the configured model", "lstm.weight_ih_l1");
    }

    @Test
    void loaderRejectsBrokenFolders(@TempDir Path tmp) throws Exception {
        assertMessage(assertThrows(VocodexException.class, () -> Codec.load(tmp.resolve("none"), Device.cpu())), "not a model folder");
        Path dir = Files.createDirectories(tmp.resolve("m"));
        assertMessage(assertThrows(VocodexException.class, () -> Codec.load(dir, Device.cpu())), "config.json", "no such file");
        Files.writeString(dir.resolve(ModelFolder.CONFIG), "{\"architecture\": \"wavenet\"}");
        assertMessage(assertThrows(VocodexException.class, () -> Codec.load(dir, Device.cpu())), "unknown architecture \"wavenet\"");
        Files.writeString(dir.resolve(ModelFolder.CONFIG), "{not json");
        assertMessage(assertThrows(VocodexException.class, () -> Codec.load(dir, Device.cpu())), "not valid JSON");
        Files.copy(model.resolve(ModelFolder.CONFIG), dir.resolve(ModelFolder.CONFIG), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        assertMessage(assertThrows(VocodexException.class, () -> Codec.load(dir, Device.cpu())), "model.safetensors", "no such file");
        byte[] w = Files.readAllBytes(model.resolve(ModelFolder.WEIGHTS));
        Files.write(dir.resolve(ModelFolder.WEIGHTS), java.util.Arrays.copyOf(w, w.length / 2));
        assertMessage(assertThrows(VocodexException.class, () -> Codec.load(dir, Device.cpu())), "model.safetensors", "run past");
    }

    @Test
    void audioProblemsAreClearErrors() {
        float[] nan = new float[1000];
        nan[500] = Float.NaN;
        assertMessage(assertThrows(VocodexException.class, () -> codec.encode(Audio.of(nan, 24_000), 3)), "sample 500", "NaN");
        float[] inf = new float[10];
        inf[3] = Float.NEGATIVE_INFINITY;
        assertMessage(assertThrows(VocodexException.class, () -> codec.encode(Audio.of(inf, 24_000), 3)), "Infinity");
        assertMessage(assertThrows(VocodexException.class, () -> codec.encode(Audio.of(new float[0], 24_000), 3)), "empty");
        assertMessage(assertThrows(VocodexException.class, () -> codec.encode(Audio.of(new float[100], 16_000), 3)),
                "16000 Hz", "24000 Hz");
        assertMessage(assertThrows(VocodexException.class, () -> codec.encode(Audio.of(new float[100], 24_000), -1)), "bandwidth");
        // Like the original, a bandwidth above the model's top uses every codebook it has.
        assertEquals(4, codec.encode(Audio.of(new float[100], 24_000), 24).numCodebooks());
        try (StreamingEncoder enc = codec.streamingEncoder(3)) {
            assertMessage(assertThrows(VocodexException.class, () -> enc.push(new float[] {0, Float.NaN})), "stream sample 1");
        }
    }

    @Test
    void tokenProblemsAreClearErrors() {
        assertMessage(assertThrows(VocodexException.class, () -> new Tokens(new int[][] {{0, 1024}}, 75, 1024)),
                "code 1024", "frame 1");
        assertMessage(assertThrows(VocodexException.class, () -> codec.decode(new Tokens(new int[5][3], 75, 1024))),
                "5 codebooks");
        assertMessage(assertThrows(VocodexException.class, () -> codec.decode(new Tokens(new int[1][3], 75, 2048))),
                "2048");
    }

    @Test
    void veryShortInputsEncodeLikeTheOriginal() {
        // 1..400 samples: the reflect padding's zero-extension path; streaming must agree.
        for (int n : new int[] {1, 2, 3, 6, 7, 8, 319, 320, 321, 400}) {
            float[] x = new float[n];
            for (int i = 0; i < n; i++) {
                x[i] = (float) Math.cos(i);
            }
            Tokens batch = codec.encode(Audio.of(x, 24_000), 3);
            assertEquals((n + 319) / 320, batch.numFrames(), "frames for " + n + " samples");
            try (StreamingEncoder enc = codec.streamingEncoder(3)) {
                Tokens a = enc.push(x);
                Tokens b = enc.flush();
                assertEquals(batch.numFrames(), a.numFrames() + b.numFrames(), "n=" + n);
            }
        }
    }
}
