package io.vocodex.codec.mimi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vocodex.VocodexException;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * Hyper-parameters of a Mimi model in the layout of the original loader's config dictionary
 * ({@code moshi.models.loaders._mimi_config}): {@code sample_rate}, {@code channels},
 * {@code frame_rate} and the keyword dictionaries {@code seanet} (SEANetEncoder/Decoder),
 * {@code transformer} (ProjectedTransformer) and {@code quantizer} (SplitResidualVectorQuantizer),
 * under the original argument names. This is also the body of a model folder's config.json.
 *
 * <pre>{@code
 * MimiConfig c = MimiConfig.mimi();                  // the published Mimi (24 kHz, 12.5 Hz, 32 x 2048)
 * MimiConfig tiny = c.withOverrides(json);           // e.g. {"seanet": {"n_filters": 4, ...}}
 * }</pre>
 */
public record MimiConfig(int sampleRate, int channels, double frameRate, Seanet seanet, Transformer transformer,
                         Quantizer quantizer) {

    /** SEANetEncoder/SEANetDecoder keyword arguments. */
    public record Seanet(int channels, int dimension, boolean causal, int nFilters, int nResidualLayers,
                         String activation, int compress, int dilationBase, int disableNormOuterBlocks,
                         int kernelSize, int residualKernelSize, int lastKernelSize, String norm, String padMode,
                         int[] ratios, boolean trueSkip) {
        static final List<String> KEYS = List.of("channels", "dimension", "causal", "n_filters", "n_residual_layers",
                "activation", "compress", "dilation_base", "disable_norm_outer_blocks", "kernel_size",
                "residual_kernel_size", "last_kernel_size", "norm", "pad_mode", "ratios", "true_skip");

        /** Samples per encoder frame: the product of the ratios. */
        public int hopLength() {
            int h = 1;
            for (int r : ratios) {
                h *= r;
            }
            return h;
        }

        ObjectNode toJson(ObjectNode o) {
            o.put("channels", channels);
            o.put("dimension", dimension);
            o.put("causal", causal);
            o.put("n_filters", nFilters);
            o.put("n_residual_layers", nResidualLayers);
            o.put("activation", activation);
            o.put("compress", compress);
            o.put("dilation_base", dilationBase);
            o.put("disable_norm_outer_blocks", disableNormOuterBlocks);
            o.put("kernel_size", kernelSize);
            o.put("residual_kernel_size", residualKernelSize);
            o.put("last_kernel_size", lastKernelSize);
            o.put("norm", norm);
            o.put("pad_mode", padMode);
            ArrayNode r = o.putArray("ratios");
            for (int x : ratios) {
                r.add(x);
            }
            o.put("true_skip", trueSkip);
            return o;
        }

        static Seanet fromJson(JsonNode j) {
            return new Seanet(req(j, "seanet", "channels").asInt(), req(j, "seanet", "dimension").asInt(),
                    req(j, "seanet", "causal").asBoolean(), req(j, "seanet", "n_filters").asInt(),
                    req(j, "seanet", "n_residual_layers").asInt(), req(j, "seanet", "activation").asText(),
                    req(j, "seanet", "compress").asInt(), req(j, "seanet", "dilation_base").asInt(),
                    req(j, "seanet", "disable_norm_outer_blocks").asInt(), req(j, "seanet", "kernel_size").asInt(),
                    req(j, "seanet", "residual_kernel_size").asInt(), req(j, "seanet", "last_kernel_size").asInt(),
                    req(j, "seanet", "norm").asText(), req(j, "seanet", "pad_mode").asText(),
                    ints(req(j, "seanet", "ratios")), req(j, "seanet", "true_skip").asBoolean());
        }
    }

    /** ProjectedTransformer / StreamingTransformer keyword arguments. */
    public record Transformer(int dModel, int numHeads, int numLayers, boolean causal, Double layerScale, int context,
                              boolean convLayout, double maxPeriod, String gating, String norm,
                              String positionalEmbedding, int dimFeedforward, int inputDimension,
                              int[] outputDimensions) {
        static final List<String> KEYS = List.of("d_model", "num_heads", "num_layers", "causal", "layer_scale",
                "context", "conv_layout", "max_period", "gating", "norm", "positional_embedding", "dim_feedforward",
                "input_dimension", "output_dimensions");

        public int headDim() {
            return dModel / numHeads;
        }

        ObjectNode toJson(ObjectNode o) {
            o.put("d_model", dModel);
            o.put("num_heads", numHeads);
            o.put("num_layers", numLayers);
            o.put("causal", causal);
            if (layerScale == null) {
                o.putNull("layer_scale");
            } else {
                o.put("layer_scale", layerScale);
            }
            o.put("context", context);
            o.put("conv_layout", convLayout);
            o.put("max_period", maxPeriod);
            o.put("gating", gating);
            o.put("norm", norm);
            o.put("positional_embedding", positionalEmbedding);
            o.put("dim_feedforward", dimFeedforward);
            o.put("input_dimension", inputDimension);
            ArrayNode r = o.putArray("output_dimensions");
            for (int x : outputDimensions) {
                r.add(x);
            }
            return o;
        }

        static Transformer fromJson(JsonNode j) {
            JsonNode ls = j.get("layer_scale");
            return new Transformer(req(j, "transformer", "d_model").asInt(), req(j, "transformer", "num_heads").asInt(),
                    req(j, "transformer", "num_layers").asInt(), req(j, "transformer", "causal").asBoolean(),
                    ls == null || ls.isNull() ? null : ls.asDouble(), req(j, "transformer", "context").asInt(),
                    req(j, "transformer", "conv_layout").asBoolean(), req(j, "transformer", "max_period").asDouble(),
                    req(j, "transformer", "gating").asText(), req(j, "transformer", "norm").asText(),
                    req(j, "transformer", "positional_embedding").asText(),
                    req(j, "transformer", "dim_feedforward").asInt(), req(j, "transformer", "input_dimension").asInt(),
                    ints(req(j, "transformer", "output_dimensions")));
        }
    }

    /** SplitResidualVectorQuantizer keyword arguments ({@code n_q_semantic} defaults to 1 as in the original). */
    public record Quantizer(int dimension, int nQ, int bins, int inputDimension, int outputDimension, int nQSemantic) {
        static final List<String> KEYS = List.of("dimension", "n_q", "bins", "input_dimension", "output_dimension",
                "n_q_semantic");

        ObjectNode toJson(ObjectNode o) {
            o.put("dimension", dimension);
            o.put("n_q", nQ);
            o.put("bins", bins);
            o.put("input_dimension", inputDimension);
            o.put("output_dimension", outputDimension);
            if (nQSemantic != 1) {
                o.put("n_q_semantic", nQSemantic);
            }
            return o;
        }

        static Quantizer fromJson(JsonNode j) {
            JsonNode sem = j.get("n_q_semantic");
            return new Quantizer(req(j, "quantizer", "dimension").asInt(), req(j, "quantizer", "n_q").asInt(),
                    req(j, "quantizer", "bins").asInt(), req(j, "quantizer", "input_dimension").asInt(),
                    req(j, "quantizer", "output_dimension").asInt(), sem == null ? 1 : sem.asInt());
        }
    }

    static final List<String> KEYS = List.of("sample_rate", "channels", "frame_rate", "seanet", "transformer", "quantizer");
    private static final Set<String> META_KEYS = Set.of("architecture", "format_version", "name", "description", "source");

    /** The published Mimi ({@code loaders._mimi_config}): SEANet 64 filters to 512, 8-layer transformers, 32 x 2048 codes. */
    public static MimiConfig mimi() {
        Seanet s = new Seanet(1, 512, true, 64, 1, "ELU", 2, 2, 0, 7, 3, 3, "none", "constant",
                new int[] {8, 6, 5, 4}, true);
        Transformer t = new Transformer(512, 8, 8, true, 0.01, 250, true, 10000, "none", "layer_norm", "rope", 2048,
                512, new int[] {512});
        Quantizer q = new Quantizer(256, 32, 2048, 512, 512, 1);
        return new MimiConfig(24_000, 1, 12.5, s, t, q);
    }

    /** Samples per code frame: {@code int(sample_rate / frame_rate)} (1920 for Mimi). */
    public int frameSize() {
        return (int) (sampleRate / frameRate);
    }

    /** The SEANet's frame rate ({@code sample_rate / hop}), 25 Hz for Mimi. */
    public double encoderFrameRate() {
        return sampleRate / (double) seanet.hopLength();
    }

    /** Encoder frames per code frame: the stride of the down/upsampling convs (2 for Mimi). */
    public int resampleStride() {
        return (int) Math.round(encoderFrameRate() / frameRate);
    }

    /** Kilobits per second of one codebook: {@code log2(bins) * frame_rate / 1000}. */
    public double kbpsPerCodebook() {
        return Math.log(quantizer.bins) / Math.log(2) * frameRate / 1000.0;
    }

    /** Checks what this implementation supports; throws naming the field. */
    public MimiConfig validate() {
        require(sampleRate > 0 && frameRate > 0, "sample_rate and frame_rate must be positive");
        require(channels == 1 && seanet.channels == 1, "channels must be 1 (mono)");
        require(seanet.ratios.length > 0, "seanet.ratios must not be empty");
        for (int r : seanet.ratios) {
            require(r > 0, "seanet.ratios must be positive");
        }
        require(seanet.causal, "seanet.causal must be true (Mimi's StreamingConv1d is causal only)");
        require(seanet.activation.equals("ELU"), "seanet.activation \"" + seanet.activation + "\" is not supported (ELU)");
        require(seanet.norm.equals("none") || seanet.norm.equals("weight_norm"),
                "seanet.norm \"" + seanet.norm + "\" is not supported (none, weight_norm)");
        require(seanet.padMode.equals("constant") || seanet.padMode.equals("replicate"),
                "seanet.pad_mode must be constant or replicate (StreamingConv1d)");
        require(seanet.compress > 0 && seanet.nFilters > 0 && seanet.dimension > 0, "seanet sizes must be positive");
        double ratio = encoderFrameRate() / frameRate;
        require(Math.abs(ratio - Math.rint(ratio)) < 1e-9 && ratio >= 1,
                "the encoder frame rate " + encoderFrameRate() + " must be an integer multiple of frame_rate " + frameRate);
        require(Math.abs(sampleRate / frameRate - frameSize()) < 1e-9, "sample_rate / frame_rate must be an integer");
        Transformer t = transformer;
        require(t.dModel > 0 && t.numHeads > 0 && t.dModel % t.numHeads == 0, "transformer.d_model must be divisible by num_heads");
        require(t.headDim() % 2 == 0, "transformer head dimension must be even (RoPE)");
        require(t.causal, "transformer.causal must be true");
        require(t.context > 0, "transformer.context must be positive (the KV cache capacity)");
        require(t.gating.equals("none"), "transformer.gating \"" + t.gating + "\" is not supported (none)");
        require(t.norm.equals("layer_norm"), "transformer.norm \"" + t.norm + "\" is not supported (layer_norm)");
        require(t.positionalEmbedding.equals("rope"), "transformer.positional_embedding \"" + t.positionalEmbedding
                + "\" is not supported (rope)");
        require(t.convLayout, "transformer.conv_layout must be true");
        require(t.inputDimension == seanet.dimension, "transformer.input_dimension must equal seanet.dimension");
        require(t.outputDimensions.length == 1 && t.outputDimensions[0] == seanet.dimension,
                "transformer.output_dimensions must be [seanet.dimension]");
        Quantizer q = quantizer;
        require(q.nQ > q.nQSemantic && q.nQSemantic >= 1, "quantizer.n_q must exceed n_q_semantic (>= 1)");
        require(q.bins > 1 && q.dimension > 0, "quantizer.bins and dimension must be positive");
        require(q.inputDimension == seanet.dimension && q.outputDimension == seanet.dimension,
                "quantizer input/output_dimension must equal seanet.dimension");
        return this;
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new VocodexException("mimi config: " + message);
        }
    }

    /** The config as JSON (original names; the body of config.json minus "architecture"). */
    public ObjectNode toJson() {
        ObjectNode o = new ObjectMapper().createObjectNode();
        o.put("sample_rate", sampleRate);
        o.put("channels", channels);
        o.put("frame_rate", frameRate);
        seanet.toJson(o.putObject("seanet"));
        transformer.toJson(o.putObject("transformer"));
        quantizer.toJson(o.putObject("quantizer"));
        return o;
    }

    /** Parses a full config (every key present). */
    public static MimiConfig fromJson(JsonNode j) {
        checkKeys(j, KEYS, "", true);
        checkKeys(req(j, "", "seanet"), Seanet.KEYS, "seanet.", false);
        checkKeys(req(j, "", "transformer"), Transformer.KEYS, "transformer.", false);
        checkKeys(req(j, "", "quantizer"), Quantizer.KEYS, "quantizer.", false);
        return new MimiConfig(req(j, "", "sample_rate").asInt(), req(j, "", "channels").asInt(),
                req(j, "", "frame_rate").asDouble(), Seanet.fromJson(j.get("seanet")),
                Transformer.fromJson(j.get("transformer")), Quantizer.fromJson(j.get("quantizer"))).validate();
    }

    /** This config with the keys of {@code overrides} replaced; dictionaries merge key by key. */
    public MimiConfig withOverrides(JsonNode overrides) {
        if (overrides == null || !overrides.isObject()) {
            throw new VocodexException("mimi hparams must be a JSON object");
        }
        checkKeys(overrides, KEYS, "", true);
        ObjectNode merged = toJson();
        overrides.fields().forEachRemaining(e -> {
            if (META_KEYS.contains(e.getKey())) {
                return;
            }
            if (e.getValue().isObject() && merged.get(e.getKey()) instanceof ObjectNode inner) {
                inner.setAll((ObjectNode) e.getValue());
            } else {
                merged.set(e.getKey(), e.getValue());
            }
        });
        return fromJson(merged);
    }

    private static void checkKeys(JsonNode j, List<String> known, String where, boolean allowMeta) {
        if (!j.isObject()) {
            throw new VocodexException("mimi config: " + (where.isEmpty() ? "config" : where) + " must be a JSON object");
        }
        List<String> unknown = new ArrayList<>();
        for (Iterator<String> it = j.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!known.contains(k) && !(allowMeta && META_KEYS.contains(k))) {
                unknown.add(where + k);
            }
        }
        if (!unknown.isEmpty()) {
            throw new VocodexException("mimi config: unknown keys " + unknown + "; known: " + known);
        }
    }

    private static JsonNode req(JsonNode j, String where, String key) {
        JsonNode v = j.get(key);
        if (v == null || v.isNull()) {
            throw new VocodexException("mimi config: missing \"" + (where.isEmpty() ? "" : where + ".") + key + "\"");
        }
        return v;
    }

    private static int[] ints(JsonNode a) {
        if (!a.isArray()) {
            throw new VocodexException("mimi config: expected an array, got " + a);
        }
        int[] r = new int[a.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = a.get(i).asInt();
        }
        return r;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MimiConfig c && toJson().equals(c.toJson());
    }

    @Override
    public int hashCode() {
        return toJson().hashCode();
    }

    @Override
    public String toString() {
        return "MimiConfig" + toJson();
    }
}
