package io.vocodex.codec.mimi;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vocodex.VocodexException;
import io.vocodex.model.ModelFolder;
import io.vocodex.model.SafetensorsFile;
import io.vocodex.model.SafetensorsWriter;
import io.vocodex.model.TensorInfo;
import io.vocodex.model.Weights;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns an original Mimi state dict (safetensors, original tensor names, e.g. the published
 * {@code tokenizer-e351c8d8-checkpoint125.safetensors}) into a Vocodex model folder.
 * Hyper-parameters start from the published config ({@link MimiConfig#mimi()}) and are overridden
 * by an optional JSON in the loader's layout ({@code {"seanet": {...}, "transformer": {...},
 * "quantizer": {...}}}; dictionaries merge key by key). Every missing, extra or misshaped tensor
 * is reported at once. Tensors are copied as float32 under their original names; the codebooks
 * stay as {@code embedding_sum}/{@code cluster_usage} and are divided at load, as the original does.
 *
 * <pre>{@code
 * MimiImporter.importModel(Path.of("mimi.safetensors"), null, Path.of("models/mimi"));
 * }</pre>
 */
public final class MimiImporter {
    private MimiImporter() {
    }

    /** Imports; returns the config written. {@code hparams} may be null. */
    public static MimiConfig importModel(Path stateDict, Path hparams, Path outDir) {
        MimiConfig config = MimiConfig.mimi();
        if (hparams != null) {
            try {
                config = config.withOverrides(ModelFolder.readJson(hparams));
            } catch (VocodexException e) {
                throw new VocodexException(hparams + ": " + e.getMessage(), e);
            }
        }
        config.validate();
        try (SafetensorsFile f = SafetensorsFile.open(stateDict)) {
            Weights w = Weights.collecting(f);
            new MimiModel(config, w);
            List<String> problems = new ArrayList<>(w.problems());
            for (String e : w.unused()) {
                problems.add("unexpected tensor '" + e + "' " + f.info(e).shapeString());
            }
            if (!problems.isEmpty()) {
                throw new VocodexException(stateDict + ": does not match the Mimi configuration " + config.toJson()
                        + ":\n  " + String.join("\n  ", problems));
            }
            try {
                Files.createDirectories(outDir);
            } catch (IOException e) {
                throw new VocodexException(outDir + ": cannot create: " + e.getMessage(), e);
            }
            SafetensorsWriter writer = new SafetensorsWriter()
                    .metadata("source", stateDict.getFileName().toString())
                    .metadata("format", "vocodex model, original tensor names");
            for (TensorInfo t : f.tensors().values()) {
                String dt = t.dtype().name();
                float[] data = dt.startsWith("I") || dt.equals("U8") || dt.equals("BOOL")
                        ? toFloats(f.longs(t.name())) : f.floats(t.name());
                writer.put(t.name(), t.shape(), data);
            }
            writer.write(outDir.resolve(ModelFolder.WEIGHTS));
        }
        writeConfig(config, outDir);
        return config;
    }

    /** Writes {@code dir/config.json} for {@code config}. */
    static void writeConfig(MimiConfig config, Path dir) {
        ObjectNode json = config.toJson();
        ObjectNode out = json.objectNode();
        out.put("architecture", "mimi");
        out.put("format_version", ModelFolder.FORMAT_VERSION);
        out.setAll(json);
        ModelFolder.writeJson(dir.resolve(ModelFolder.CONFIG), out);
    }

    private static float[] toFloats(long[] v) {
        float[] r = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            r[i] = v[i];
        }
        return r;
    }
}
