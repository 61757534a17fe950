package io.vocodex.codec.encodec;

import io.vocodex.VocodexException;
import io.vocodex.model.ModelFolder;
import io.vocodex.model.SafetensorsFile;
import io.vocodex.model.Weights;

import java.nio.file.Path;

/**
 * Turns an original EnCodec state dict (saved as safetensors, original tensor names) into a
 * Vocodex model folder. Hyper-parameters start from the 24 kHz preset and are overridden by an
 * optional JSON of original constructor names. Every missing, extra or misshaped tensor is
 * reported at once.
 *
 * <pre>{@code
 * EncodecImporter.importModel(Path.of("encodec_24khz.safetensors"), null, Path.of("models/encodec_24khz"));
 * }</pre>
 */
public final class EncodecImporter {
    private EncodecImporter() {
    }

    /** Imports; returns the config written. {@code hparams} may be null. */
    public static EncodecConfig importModel(Path stateDict, Path hparams, Path outDir) {
        EncodecConfig config = EncodecConfig.encodec24khz();
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
            new EncodecModel(config, w);
            ModelFolder.requireExactMatch(w, f, "the EnCodec configuration " + config.toJson());
            // codebook k-means/EMA state is not needed to run the model
            ModelFolder.writeWeights(f, outDir, name -> !isTrainingStatistic(name));
        }
        writeConfig(config, outDir);
        return config;
    }

    /** Writes {@code dir/config.json}: architecture, format version, then the hyper-parameters. */
    public static void writeConfig(EncodecConfig config, Path dir) {
        ModelFolder.writeConfig(dir, "encodec", config.toJson());
    }

    /** Codebook EMA statistics the original keeps for training ({@code embed_avg, cluster_size, inited}). */
    static boolean isTrainingStatistic(String name) {
        return name.endsWith("._codebook.embed_avg") || name.endsWith("._codebook.cluster_size")
                || name.endsWith("._codebook.inited");
    }
}
