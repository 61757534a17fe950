package io.vocodex.codec.mimi;

import io.vocodex.Codec;
import io.vocodex.Device;
import io.vocodex.VocodexException;
import io.vocodex.model.ModelFolder;
import io.vocodex.model.SafetensorsFile;
import io.vocodex.model.SafetensorsWriter;
import io.vocodex.model.TensorInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Mimi importer and loader: round trip, and every checkpoint problem reported at once. */
class MimiImporterTest {
    static MimiConfig small() {
        return MimiStreamingTest.small(6);
    }

    @Test
    void importsAStateDictAndLoadsIt(@TempDir Path tmp) throws Exception {
        Path src = MimiRandom.writeModelFolder(small(), 5, tmp.resolve("src"));
        Path hp = tmp.resolve("hp.json");
        Files.writeString(hp, small().toJson().toString());
        MimiConfig c = MimiImporter.importModel(src.resolve(ModelFolder.WEIGHTS), hp, tmp.resolve("out"));
        assertEquals(small(), c);
        try (Codec codec = Codec.load(tmp.resolve("out"), Device.cpu(1))) {
            assertEquals("mimi", codec.architecture());
            assertEquals(1920, codec.hopLength());
            assertEquals(5, codec.maxCodebooks());
            assertEquals(12.5, codec.frameRate());
            assertTrue(codec.describe().get("parameters").asLong() > 0);
        }
    }

    @Test
    void reportsMissingExtraAndMisshapedTensorsTogether(@TempDir Path tmp) throws Exception {
        Path src = MimiRandom.writeModelFolder(small(), 5, tmp.resolve("src"));
        Path broken = tmp.resolve("broken.safetensors");
        SafetensorsWriter w = new SafetensorsWriter();
        try (SafetensorsFile f = SafetensorsFile.open(src.resolve(ModelFolder.WEIGHTS))) {
            for (TensorInfo t : f.tensors().values()) {
                if (t.name().equals("encoder_transformer.transformer.layers.1.linear1.weight")) {
                    continue; // missing
                }
                if (t.name().equals("quantizer.rvq_rest.input_proj.weight")) {
                    w.put(t.name(), new long[] {8, 15, 1}, new float[8 * 15]); // misshaped
                    continue;
                }
                w.put(t.name(), t.shape(), f.floats(t.name()));
            }
        }
        w.put("decoder_transformer.transformer.layers.7.norm1.weight", new long[] {16}, new float[16]); // extra
        w.write(broken);
        Path hp = tmp.resolve("hp.json");
        Files.writeString(hp, small().toJson().toString());
        VocodexException e = assertThrows(VocodexException.class,
                () -> MimiImporter.importModel(broken, hp, tmp.resolve("out")));
        String m = e.getMessage();
        assertTrue(m.contains("missing tensor 'encoder_transformer.transformer.layers.1.linear1.weight'"), m);
        assertTrue(m.contains("'quantizer.rvq_rest.input_proj.weight' has shape"), m);
        assertTrue(m.contains("unexpected tensor 'decoder_transformer.transformer.layers.7.norm1.weight'"), m);
    }

    @Test
    void unknownHyperParametersAreRejected(@TempDir Path tmp) throws Exception {
        Path src = MimiRandom.writeModelFolder(small(), 5, tmp.resolve("src"));
        Path hp = tmp.resolve("hp.json");
        Files.writeString(hp, "{\"transformer\": {\"num_layers\": 2, \"dropout\": 0.1}}");
        VocodexException e = assertThrows(VocodexException.class,
                () -> MimiImporter.importModel(src.resolve(ModelFolder.WEIGHTS), hp, tmp.resolve("out")));
        assertTrue(e.getMessage().contains("transformer.dropout"), e.getMessage());
    }
}
