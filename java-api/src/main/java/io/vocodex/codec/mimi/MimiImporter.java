package io.vocodex.codec.mimi;

import io.vocodex.VocodexException;
import io.vocodex.model.ModelFolder;
import io.vocodex.model.SafetensorsFile;
import io.vocodex.model.Weights;

import java.nio.file.Path;

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
            ModelFolder.requireExactMatch(w, f, "the Mimi configuration " + config.toJson());
            ModelFolder.writeWeights(f, outDir, name -> true);
        }
        writeConfig(config, outDir);
        return config;
    }

    /** Writes {@code dir/config.json} for {@code config}. */
    static void writeConfig(MimiConfig config, Path dir) {
        ModelFolder.writeConfig(dir, "mimi", config.toJson());
    }
}
