package io.vocodex.codec.distilcodec;

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
import java.util.Set;

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
            List<String> problems = new ArrayList<>(w.problems());
            Set<String> extra = w.unused();
            for (String e : extra) {
                problems.add("unexpected tensor '" + e + "' " + f.info(e).shapeString());
            }
            if (!problems.isEmpty()) {
                throw new VocodexException(stateDict + ": does not match the DistilCodec configuration in " + modelConfig
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
                if (isTrainingBuffer(t.name())) {
                    continue;
                }
                writer.put(t.name(), t.shape(), f.floats(t.name()));
            }
            writer.write(outDir.resolve(ModelFolder.WEIGHTS));
        }
        writeConfig(config, outDir);
        return config;
    }

    static void writeConfig(DistilCodecConfig config, Path dir) {
        ObjectNode out = config.toJson().objectNode();
        out.put("architecture", "distilcodec");
        out.put("format_version", ModelFolder.FORMAT_VERSION);
        out.setAll(config.toJson());
        ModelFolder.writeJson(dir.resolve(ModelFolder.CONFIG), out);
    }

    /** EMA statistics of the codebooks, used only in training. */
    static boolean isTrainingBuffer(String name) {
        return name.endsWith("._codebook.embed_avg") || name.endsWith("._codebook.cluster_size")
                || name.endsWith("._codebook.initted");
    }
}
