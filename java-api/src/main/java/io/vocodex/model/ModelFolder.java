package io.vocodex.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.vocodex.VocodexException;
import io.vocodex.codec.CodecModel;
import io.vocodex.codec.distilcodec.DistilCodecConfig;
import io.vocodex.codec.distilcodec.DistilCodecModel;
import io.vocodex.codec.encodec.EncodecConfig;
import io.vocodex.codec.encodec.EncodecModel;
import io.vocodex.codec.mimi.MimiConfig;
import io.vocodex.codec.mimi.MimiModel;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Set;

/**
 * The on-disk model format: a folder with
 * <ul>
 *   <li>{@code config.json}: {@code {"architecture": "encodec", "format_version": 1, ...}} followed by
 *       the architecture's hyper-parameters under the original constructor names;</li>
 *   <li>{@code model.safetensors}: the weights under the original checkpoint's tensor names
 *       (weight-norm pairs may stay unfolded; they are folded at load).</li>
 * </ul>
 */
public final class ModelFolder {
    public static final String CONFIG = "config.json";
    public static final String WEIGHTS = "model.safetensors";
    public static final int FORMAT_VERSION = 1;

    private ModelFolder() {
    }

    /** Loads and validates the model in {@code dir}. */
    public static CodecModel load(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new VocodexException(dir + ": not a model folder (want a directory with " + CONFIG + " and " + WEIGHTS + ")");
        }
        JsonNode cfg = readJson(dir.resolve(CONFIG));
        JsonNode arch = cfg.get("architecture");
        if (arch == null || !arch.isTextual()) {
            throw new VocodexException(dir.resolve(CONFIG) + ": missing \"architecture\" (e.g. \"encodec\")");
        }
        JsonNode version = cfg.get("format_version");
        if (version != null && version.asInt() > FORMAT_VERSION) {
            throw new VocodexException(dir.resolve(CONFIG) + ": format_version " + version.asInt()
                    + " is newer than this Vocodex reads (" + FORMAT_VERSION + "); upgrade Vocodex");
        }
        Path weights = dir.resolve(WEIGHTS);
        return switch (arch.asText()) {
            case "encodec" -> build(dir, weights, configOf(dir, cfg, EncodecConfig::fromJson), EncodecModel::new);
            case "mimi" -> build(dir, weights, configOf(dir, cfg, MimiConfig::fromJson), MimiModel::new);
            case "distilcodec" -> build(dir, weights, configOf(dir, cfg, DistilCodecConfig::fromJson), DistilCodecModel::new);
            default -> throw new VocodexException(dir.resolve(CONFIG) + ": unknown architecture \"" + arch.asText()
                    + "\" (supported: encodec, mimi, distilcodec)");
        };
    }

    /** Parses the config with {@code parser}; errors are prefixed with the config file. */
    private static <C> C configOf(Path dir, JsonNode cfg, java.util.function.Function<JsonNode, C> parser) {
        try {
            return parser.apply(cfg);
        } catch (VocodexException e) {
            throw new VocodexException(dir.resolve(CONFIG) + ": " + e.getMessage(), e);
        }
    }

    /** Builds the model from the weights file strictly, then refuses tensors it did not read. */
    private static <C> CodecModel build(Path dir, Path weights, C config,
                                        java.util.function.BiFunction<C, Weights, ? extends CodecModel> constructor) {
        try (SafetensorsFile f = SafetensorsFile.open(weights)) {
            Weights w = Weights.of(f);
            CodecModel m = constructor.apply(config, w);
            rejectUnused(w, weights);
            return m;
        }
    }

    /**
     * For importers: throws, listing every problem at once, unless the collecting view {@code w}
     * found each tensor the model needs with its shape and nothing else in {@code file}.
     *
     * @param what the configuration, for the message (e.g. "the EnCodec configuration {...}")
     */
    public static void requireExactMatch(Weights w, SafetensorsFile file, String what) {
        java.util.List<String> problems = new java.util.ArrayList<>(w.problems());
        for (String e : w.unused()) {
            problems.add("unexpected tensor '" + e + "' " + file.info(e).shapeString());
        }
        if (!problems.isEmpty()) {
            throw new VocodexException(file.path() + ": does not match " + what + ":\n  " + String.join("\n  ", problems));
        }
    }

    /**
     * For importers: writes {@code outDir/model.safetensors} with the tensors of {@code file} that
     * {@code keep} accepts, under their original names, as float32 (integer tensors converted).
     */
    public static void writeWeights(SafetensorsFile file, Path outDir, java.util.function.Predicate<String> keep) {
        try {
            Files.createDirectories(outDir);
        } catch (IOException e) {
            throw new VocodexException(outDir + ": cannot create: " + e.getMessage(), e);
        }
        SafetensorsWriter writer = new SafetensorsWriter()
                .metadata("source", file.path().getFileName().toString())
                .metadata("format", "vocodex model, original tensor names");
        for (TensorInfo t : file.tensors().values()) {
            if (!keep.test(t.name())) {
                continue;
            }
            String dt = t.dtype().name();
            float[] data;
            if (dt.startsWith("I") || dt.equals("U8") || dt.equals("BOOL")) {
                long[] v = file.longs(t.name());
                data = new float[v.length];
                for (int i = 0; i < v.length; i++) {
                    data[i] = v[i];
                }
            } else {
                data = file.floats(t.name());
            }
            writer.put(t.name(), t.shape(), data);
        }
        writer.write(outDir.resolve(WEIGHTS));
    }

    /** Writes {@code dir/config.json}: architecture, format version, then the hyper-parameters. */
    public static void writeConfig(Path dir, String architecture, com.fasterxml.jackson.databind.node.ObjectNode hparams) {
        com.fasterxml.jackson.databind.node.ObjectNode out = hparams.objectNode();
        out.put("architecture", architecture);
        out.put("format_version", FORMAT_VERSION);
        out.setAll(hparams);
        writeJson(dir.resolve(CONFIG), out);
    }

    /** Throws if the checkpoint holds tensors the model never read: a config/checkpoint mismatch. */
    public static void rejectUnused(Weights w, Path file) {
        Set<String> extra = w.unused();
        if (!extra.isEmpty()) {
            throw new VocodexException(file + ": " + extra.size() + " tensor(s) not used by the configured model "
                    + "(does config.json match the checkpoint?): " + abbreviate(extra));
        }
    }

    static String abbreviate(Set<String> names) {
        StringBuilder sb = new StringBuilder();
        int i = 0;
        for (String n : names) {
            if (i++ == 20) {
                sb.append(", ... (").append(names.size() - 20).append(" more)");
                break;
            }
            sb.append(i == 1 ? "" : ", ").append(n);
        }
        return sb.toString();
    }

    /** Parses a JSON file, with errors naming the file. */
    public static JsonNode readJson(Path p) {
        try {
            return new ObjectMapper().readTree(Files.readString(p, StandardCharsets.UTF_8));
        } catch (NoSuchFileException e) {
            throw new VocodexException(p + ": no such file");
        } catch (JsonProcessingException e) {
            throw new VocodexException(p + ": not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new VocodexException(p + ": cannot read: " + e.getMessage(), e);
        }
    }

    /** Pretty-prints {@code node} to {@code p} atomically. */
    public static void writeJson(Path p, JsonNode node) {
        try {
            byte[] bytes = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(node);
            SafetensorsWriter.writeAtomically(p, bytes);
        } catch (JsonProcessingException e) {
            throw new VocodexException(p + ": cannot serialise JSON: " + e.getMessage(), e);
        }
    }
}
