package io.vocodex.codec.distilcodec;

import io.vocodex.VocodexException;
import io.vocodex.model.ModelFolder;
import io.vocodex.model.SafetensorsFile;
import io.vocodex.model.Weights;

import java.nio.file.Path;

/**
 * Turns an original DistilCodec checkpoint into a Vocodex model folder: the state dict as
 * safetensors under the names of {@code DistilCodec.state_dict()} ({@code encoder.*},
 * {@code quantizer.*}, {@code generator.*}; the released {@code g_XXXXXXXX} pickle holds the same
 * three dicts without those prefixes, so save each with its prefix added) plus the original
 * model config JSON. Every missing, extra or misshaped tensor is reported at once. The codebooks'
 * EMA training buffers are not copied.
 *
 * <pre>{@code
 * DistilCodecImporter.importModel(Path.of("distilcodec.safetensors"), Path.of("model_config.json"), Path.of("models/distilcodec"));
 * }</pre>
 */
public final class DistilCodecImporter {
    private DistilCodecImporter() {
    }

    /** Imports; returns the config written. */
    public static DistilCodecConfig importModel(Path stateDict, Path modelConfig, Path outDir) {
        DistilCodecConfig config;
        try {
            config = DistilCodecConfig.fromJson(ModelFolder.readJson(modelConfig));
        } catch (VocodexException e) {
            throw new VocodexException(modelConfig + ": " + e.getMessage(), e);
        }
        try (SafetensorsFile f = SafetensorsFile.open(stateDict)) {
            Weights w = Weights.collecting(f);
            new DistilCodecModel(config, w);
            ModelFolder.requireExactMatch(w, f, "the DistilCodec configuration in " + modelConfig);
            ModelFolder.writeWeights(f, outDir, name -> !isTrainingBuffer(name));
        }
        writeConfig(config, outDir);
        return config;
    }

    static void writeConfig(DistilCodecConfig config, Path dir) {
        ModelFolder.writeConfig(dir, "distilcodec", config.toJson());
    }

    /** EMA statistics of the codebooks, used only in training. */
    static boolean isTrainingBuffer(String name) {
        return name.endsWith("._codebook.embed_avg") || name.endsWith("._codebook.cluster_size")
                || name.endsWith("._codebook.initted");
    }
}
