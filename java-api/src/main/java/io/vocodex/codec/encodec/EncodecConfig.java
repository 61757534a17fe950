package io.vocodex.codec.encodec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vocodex.VocodexException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * Hyper-parameters of an EnCodec model, under the ORIGINAL constructor argument names
 * ({@code SEANetEncoder/SEANetDecoder}, {@code ResidualVectorQuantizer}, {@code EncodecModel}),
 * which is also how they appear in a model folder's {@code config.json}.
 *
 * <pre>{@code
 * EncodecConfig c = EncodecConfig.encodec24khz();           // the published 24 kHz model
 * EncodecConfig tiny = c.withOverrides(json);                // e.g. {"n_filters": 4, "dimension": 32}
 * }</pre>
 */
public record EncodecConfig(
        int sampleRate,
        int channels,
        boolean normalize,
        double[] targetBandwidths,
        int dimension,
        int nFilters,
        int nResidualLayers,
        int[] ratios,
        String activation,
        double alpha,
        String norm,
        int kernelSize,
        int lastKernelSize,
        int residualKernelSize,
        int dilationBase,
        boolean causal,
        String padMode,
        boolean trueSkip,
        int compress,
        int lstm,
        double trimRightRatio,
        int nQ,
        int bins) {

    /** Config keys, by their original names. */
    public static final List<String> KEYS = List.of("sample_rate", "channels", "normalize", "target_bandwidths",
            "dimension", "n_filters", "n_residual_layers", "ratios", "activation", "activation_params", "norm",
            "kernel_size", "last_kernel_size", "residual_kernel_size", "dilation_base", "causal", "pad_mode",
            "true_skip", "compress", "lstm", "trim_right_ratio", "n_q", "bins");

    /** Keys of a model folder's config.json that are not hyper-parameters. */
    private static final Set<String> META_KEYS = Set.of("architecture", "format_version", "name", "description", "source");

    /** The published EnCodec 24 kHz model: causal SEANet, 2-layer LSTM, 32 x 1024-code RVQ, 1.5-24 kbps. */
    public static EncodecConfig encodec24khz() {
        return new EncodecConfig(24_000, 1, false, new double[] {1.5, 3.0, 6.0, 12.0, 24.0},
                128, 32, 1, new int[] {8, 5, 4, 2}, "ELU", 1.0, "weight_norm", 7, 7, 3, 2, true, "reflect",
                false, 2, 2, 1.0, 32, 1024);
    }

    /** Samples per frame: the product of the ratios. */
    public int hopLength() {
        int h = 1;
        for (int r : ratios) {
            h *= r;
        }
        return h;
    }

    /** Frames per second, {@code ceil(sample_rate / hop)} as the original computes it. */
    public int frameRate() {
        return (int) Math.ceil(sampleRate / (double) hopLength());
    }

    /**
     * Codebooks used at {@code bandwidthKbps}: {@code max(1, floor(bw * 1000 / (log2(bins) * frame_rate)))},
     * capped at {@code n_q} as the original's {@code layers[:n_q]} slice caps it.
     */
    public int codebooksFor(double bandwidthKbps) {
        double perQ = Math.log(bins) / Math.log(2) * frameRate();
        return Math.min(nQ, Math.max(1, (int) Math.floor(bandwidthKbps * 1000 / perQ)));
    }

    /** Checks internal consistency; throws naming the field. */
    public EncodecConfig validate() {
        require(sampleRate > 0, "sample_rate must be positive");
        require(channels == 1, "channels must be 1 (mono); got " + channels);
        require(dimension > 0 && nFilters > 0, "dimension and n_filters must be positive");
        require(ratios.length > 0, "ratios must not be empty");
        for (int r : ratios) {
            require(r > 0, "ratios must be positive: " + Arrays.toString(ratios));
        }
        require(activation.equals("ELU"), "activation \"" + activation + "\" is not supported (ELU only)");
        require(norm.equals("weight_norm") || norm.equals("none"),
                "norm \"" + norm + "\" is not supported (weight_norm or none)");
        require(compress > 0, "compress must be positive");
        require(lstm >= 0, "lstm must be >= 0");
        require(nQ > 0 && bins > 1, "n_q and bins must be positive");
        require(!normalize, "normalize=true (the 48 kHz model's per-segment scaling) is not supported yet");
        require(targetBandwidths.length > 0, "target_bandwidths must not be empty");
        return this;
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new VocodexException("encodec config: " + message);
        }
    }

    /** This config with the keys of {@code overrides} (original names) replaced; unknown keys are an error. */
    public EncodecConfig withOverrides(JsonNode overrides) {
        if (overrides == null || !overrides.isObject()) {
            throw new VocodexException("encodec hparams must be a JSON object");
        }
        List<String> unknown = new ArrayList<>();
        for (Iterator<String> it = overrides.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!KEYS.contains(k) && !META_KEYS.contains(k)) {
                unknown.add(k);
            }
        }
        if (!unknown.isEmpty()) {
            throw new VocodexException("encodec hparams: unknown keys " + unknown + "; known: " + KEYS);
        }
        ObjectNode merged = toJson();
        overrides.fields().forEachRemaining(e -> {
            if (!META_KEYS.contains(e.getKey())) {
                merged.set(e.getKey(), e.getValue());
            }
        });
        return fromJson(merged);
    }

    /** Parses a full config (every key present, original names). */
    public static EncodecConfig fromJson(JsonNode j) {
        try {
            JsonNode act = j.get("activation_params");
            double alpha = act != null && act.has("alpha") ? act.get("alpha").asDouble() : 1.0;
            return new EncodecConfig(
                    req(j, "sample_rate").asInt(), req(j, "channels").asInt(), req(j, "normalize").asBoolean(),
                    doubles(req(j, "target_bandwidths")), req(j, "dimension").asInt(), req(j, "n_filters").asInt(),
                    req(j, "n_residual_layers").asInt(), ints(req(j, "ratios")), req(j, "activation").asText(), alpha,
                    req(j, "norm").asText(), req(j, "kernel_size").asInt(), req(j, "last_kernel_size").asInt(),
                    req(j, "residual_kernel_size").asInt(), req(j, "dilation_base").asInt(), req(j, "causal").asBoolean(),
                    req(j, "pad_mode").asText(), req(j, "true_skip").asBoolean(), req(j, "compress").asInt(),
                    req(j, "lstm").asInt(), req(j, "trim_right_ratio").asDouble(), req(j, "n_q").asInt(),
                    req(j, "bins").asInt()).validate();
        } catch (NullPointerException | ClassCastException e) {
            throw new VocodexException("encodec config is malformed: " + e.getMessage(), e);
        }
    }

    private static JsonNode req(JsonNode j, String key) {
        JsonNode v = j.get(key);
        if (v == null || v.isNull()) {
            throw new VocodexException("encodec config: missing \"" + key + "\"");
        }
        return v;
    }

    private static int[] ints(JsonNode a) {
        if (!a.isArray()) {
            throw new VocodexException("encodec config: expected an array, got " + a);
        }
        int[] r = new int[a.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = a.get(i).asInt();
        }
        return r;
    }

    private static double[] doubles(JsonNode a) {
        if (!a.isArray()) {
            throw new VocodexException("encodec config: expected an array, got " + a);
        }
        double[] r = new double[a.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = a.get(i).asDouble();
        }
        return r;
    }

    /** The config as JSON with the original names (the body of config.json, minus "architecture"). */
    public ObjectNode toJson() {
        ObjectNode o = new ObjectMapper().createObjectNode();
        o.put("sample_rate", sampleRate);
        o.put("channels", channels);
        o.put("normalize", normalize);
        o.set("target_bandwidths", o.arrayNode().addAll(Arrays.stream(targetBandwidths).mapToObj(d -> o.numberNode(d)).toList()));
        o.put("dimension", dimension);
        o.put("n_filters", nFilters);
        o.put("n_residual_layers", nResidualLayers);
        o.set("ratios", o.arrayNode().addAll(Arrays.stream(ratios).mapToObj(i -> o.numberNode(i)).toList()));
        o.put("activation", activation);
        o.putObject("activation_params").put("alpha", alpha);
        o.put("norm", norm);
        o.put("kernel_size", kernelSize);
        o.put("last_kernel_size", lastKernelSize);
        o.put("residual_kernel_size", residualKernelSize);
        o.put("dilation_base", dilationBase);
        o.put("causal", causal);
        o.put("pad_mode", padMode);
        o.put("true_skip", trueSkip);
        o.put("compress", compress);
        o.put("lstm", lstm);
        o.put("trim_right_ratio", trimRightRatio);
        o.put("n_q", nQ);
        o.put("bins", bins);
        return o;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof EncodecConfig c && toJson().equals(c.toJson());
    }

    @Override
    public int hashCode() {
        return toJson().hashCode();
    }

    @Override
    public String toString() {
        return "EncodecConfig" + toJson();
    }
}
