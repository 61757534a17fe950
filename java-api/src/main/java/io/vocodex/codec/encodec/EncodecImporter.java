package io.vocodex.codec.encodec;

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
            List<String> problems = new ArrayList<>(w.problems());
            Set<String> extra = w.unused();
            for (String e : extra) {
                problems.add("unexpected tensor '" + e + "' " + f.info(e).shapeString());
            }
            if (!problems.isEmpty()) {
                throw new VocodexException(stateDict + ": does not match the EnCodec configuration " + config.toJson()
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
                if (isTrainingStatistic(t.name())) {
                    continue; // k-means/EMA state of the codebooks: not needed to run the model
                }
                float[] data = t.dtype().name().startsWith("I") || t.dtype().name().equals("U8") || t.dtype().name().equals("BOOL")
                        ? toFloats(f.longs(t.name())) : f.floats(t.name());
                writer.put(t.name(), t.shape(), data);
            }
            writer.write(outDir.resolve(ModelFolder.WEIGHTS));
        }
        writeConfig(config, outDir);
        return config;
    }

    /** Writes {@code dir/config.json}: architecture, format version, then the hyper-parameters. */
    public static void writeConfig(EncodecConfig config, Path dir) {
        ObjectNode json = config.toJson();
        ObjectNode out = json.objectNode();
        out.put("architecture", "encodec");
        out.put("format_version", ModelFolder.FORMAT_VERSION);
        out.setAll(json);
        ModelFolder.writeJson(dir.resolve(ModelFolder.CONFIG), out);
    }

    /** Codebook EMA statistics the original keeps for training ({@code embed_avg, cluster_size, inited}). */
    static boolean isTrainingStatistic(String name) {
        return name.endsWith("._codebook.embed_avg") || name.endsWith("._codebook.cluster_size")
                || name.endsWith("._codebook.inited");
    }

    private static float[] toFloats(long[] v) {
        float[] r = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            r[i] = v[i];
        }
        return r;
    }
}
