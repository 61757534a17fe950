package io.vocodex.codec.distilcodec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vocodex.VocodexException;

import java.util.Arrays;
import java.util.Set;

/**
 * Hyper-parameters of a DistilCodec model, parsed from the ORIGINAL repository's model config JSON
 * ({@code configs/model_config.json}: sections {@code spec_transform}, {@code encoder},
 * {@code decoder}, {@code quantizer}, plus {@code token_id_offset}/{@code base_model}), under the
 * original key names. Sections the inference path does not use ({@code summary},
 * {@code teacher_quantizer}, {@code descriminators}, training-only quantizer keys) are kept
 * verbatim in {@link #source()} so that {@link #toJson()} gives the original document back.
 *
 * <pre>{@code
 * DistilCodecConfig c = DistilCodecConfig.fromJson(ModelFolder.readJson(Path.of("model_config.json")));
 * DistilCodecConfig full = DistilCodecConfig.released();     // the published 24 kHz model's shape
 * }</pre>
 */
public record DistilCodecConfig(
        // spec_transform
        int samplingRate, int nFft, int hopSize, int winSize, int numMels, double fmin, double fmax,
        // encoder (ConvNeXtEncoder)
        int encoderInputChannels, int[] encoderDepths, int[] encoderDims, int encoderKernelSize,
        // decoder (HiFiGANGenerator)
        int decoderHopLength, int[] upsampleRates, int[] upsampleKernelSizes, int[] resblockKernelSizes,
        int[][] resblockDilationSizes, int decoderNumMels, int upsampleInitialChannel, boolean useTemplate,
        int preConvKernelSize, int postConvKernelSize,
        // quantizer (DownsampleGRVQ)
        int quantizerInputDim, int nGroups, int nCodebooks, int codebookSize, int codebookDim, int[] downsampleFactor,
        // LLM vocabulary
        int tokenIdOffset,
        // the full original document
        ObjectNode source) {

    /** Keys of a model folder's config.json that are Vocodex's, not the original's. */
    static final Set<String> META_KEYS = Set.of("architecture", "format_version", "name", "description");

    /** Layer-norm epsilon used by every LayerNorm of the original. */
    public static final double LN_EPS = 1e-6;

    /** The released DistilCodec (24 kHz, 32768 codes of dimension 3584, QWen2.5-7B vocabulary offset 152064). */
    public static DistilCodecConfig released() {
        return fromJson(releasedJson());
    }

    /**
     * The "tiny" shape of the golden reference: the released config with encoder depths [1,1], dims
     * [16,32], quantizer input_dim 32 / codebook_dim 8 (still 32768 codes), decoder num_mels 32,
     * upsample_initial_channel 64.
     */
    public static DistilCodecConfig tiny() {
        ObjectNode j = releasedJson();
        ObjectNode enc = (ObjectNode) j.get("encoder");
        enc.set("depths", ints(1, 1));
        enc.set("dims", ints(16, 32));
        ObjectNode q = (ObjectNode) j.get("quantizer");
        q.put("input_dim", 32);
        q.put("codebook_dim", 8);
        ObjectNode d = (ObjectNode) j.get("decoder");
        d.put("num_mels", 32);
        d.put("upsample_initial_channel", 64);
        return fromJson(j);
    }

    private static ArrayNode ints(int... v) {
        ArrayNode a = new ObjectMapper().createArrayNode();
        for (int x : v) {
            a.add(x);
        }
        return a;
    }

    /** The hyper-parameters of the released model as an original-layout document (inference sections only). */
    static ObjectNode releasedJson() {
        ObjectMapper om = new ObjectMapper();
        ObjectNode j = om.createObjectNode();
        j.put("base_model", "QWen2.5-7B-Pretrain");
        j.put("token_id_offset", 152064);
        ObjectNode s = j.putObject("spec_transform");
        s.put("sampling_rate", 24000);
        s.put("segment_size", 72000);
        s.put("num_mels", 128);
        s.put("n_fft", 1024);
        s.put("hop_size", 256);
        s.put("win_size", 1024);
        s.put("fmin", 0);
        s.put("fmax", 12000);
        s.putNull("fmax_loss");
        ObjectNode e = j.putObject("encoder");
        e.put("input_channels", 128);
        e.set("depths", ints(3, 3, 9, 3));
        e.set("dims", ints(256, 512, 768, 1024));
        e.put("drop_path_rate", 0.2);
        e.put("kernel_size", 7);
        ObjectNode d = j.putObject("decoder");
        d.put("hop_length", 256);
        d.set("upsample_rates", ints(8, 4, 2, 2, 2));
        d.set("upsample_kernel_sizes", ints(16, 12, 4, 4, 4));
        d.set("resblock_kernel_sizes", ints(3, 7, 11));
        ArrayNode dil = d.putArray("resblock_dilation_sizes");
        for (int i = 0; i < 3; i++) {
            dil.add(ints(1, 3, 5));
        }
        d.put("num_mels", 1024);
        d.put("upsample_initial_channel", 1024);
        d.put("use_template", false);
        d.put("pre_conv_kernel_size", 13);
        d.put("post_conv_kernel_size", 13);
        ObjectNode q = j.putObject("quantizer");
        q.put("quantizer_type", "grvq");
        q.put("input_dim", 1024);
        q.put("n_groups", 1);
        q.put("n_codebooks", 1);
        q.put("codebook_size", 32768);
        q.put("codebook_dim", 3584);
        q.set("levels", ints(8, 5, 5, 5));
        q.set("downsample_factor", ints(1));
        q.put("ema_decay", 0.8);
        q.put("codebook_diversity_loss_weight", 1.0);
        q.put("codebook_diversity_temperature", 100.0);
        return j;
    }

    /** Samples per code frame: {@code hop_size * prod(downsample_factor)}. */
    public int samplesPerFrame() {
        int h = hopSize;
        for (int f : downsampleFactor) {
            h *= f;
        }
        return h;
    }

    public double frameRate() {
        return samplingRate / (double) samplesPerFrame();
    }

    /** Codebooks per frame: groups x residual layers. */
    public int numCodebooks() {
        return nGroups * nCodebooks;
    }

    /** Channels of the quantized latent: the encoder's last dim. */
    public int latentDim() {
        return encoderDims[encoderDims.length - 1];
    }

    /** Checks internal consistency; throws naming the key. */
    public DistilCodecConfig validate() {
        require(samplingRate > 0 && nFft > 0 && hopSize > 0 && winSize > 0 && numMels > 0, "spec_transform sizes must be positive");
        require(winSize <= nFft, "spec_transform.win_size " + winSize + " > n_fft " + nFft);
        require(fmax > fmin && fmin >= 0, "spec_transform fmin/fmax must satisfy 0 <= fmin < fmax");
        require(encoderInputChannels == numMels, "encoder.input_channels " + encoderInputChannels
                + " must equal spec_transform.num_mels " + numMels);
        require(encoderDepths.length == encoderDims.length && encoderDims.length > 0,
                "encoder.depths and encoder.dims must have the same non-zero length");
        require(encoderKernelSize % 2 == 1, "encoder.kernel_size must be odd, got " + encoderKernelSize);
        require(quantizerInputDim == latentDim(), "quantizer.input_dim " + quantizerInputDim
                + " must equal the last encoder dim " + latentDim());
        require(nGroups > 0 && quantizerInputDim % nGroups == 0, "quantizer.input_dim must be divisible by n_groups");
        require(nCodebooks > 0 && codebookSize > 1, "quantizer.n_codebooks and codebook_size must be positive");
        require(codebookDim > 0, "quantizer.codebook_dim must be positive (0 = input_dim is resolved at parse time)");
        for (int f : downsampleFactor) {
            require(f > 0, "quantizer.downsample_factor must be positive: " + Arrays.toString(downsampleFactor));
        }
        require(decoderNumMels == quantizerInputDim, "decoder.num_mels " + decoderNumMels
                + " must equal quantizer.input_dim " + quantizerInputDim);
        require(upsampleRates.length == upsampleKernelSizes.length && upsampleRates.length > 0,
                "decoder.upsample_rates and upsample_kernel_sizes must have the same non-zero length");
        int prod = 1;
        for (int r : upsampleRates) {
            prod *= r;
        }
        require(prod == decoderHopLength, "prod(decoder.upsample_rates) " + prod + " != decoder.hop_length " + decoderHopLength);
        require(decoderHopLength == hopSize, "decoder.hop_length " + decoderHopLength + " != spec_transform.hop_size " + hopSize);
        require(resblockKernelSizes.length == resblockDilationSizes.length, "resblock kernel and dilation lists differ in length");
        require(upsampleInitialChannel >> upsampleRates.length > 0, "decoder.upsample_initial_channel too small for "
                + upsampleRates.length + " upsamplings");
        require(!useTemplate, "decoder.use_template=true (noise template input) is not supported");
        return this;
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new VocodexException("distilcodec config: " + message);
        }
    }

    /** Parses an original-layout config (Vocodex meta keys are ignored). */
    public static DistilCodecConfig fromJson(JsonNode j) {
        if (j == null || !j.isObject()) {
            throw new VocodexException("distilcodec config must be a JSON object");
        }
        JsonNode s = section(j, "spec_transform");
        JsonNode e = section(j, "encoder");
        JsonNode d = section(j, "decoder");
        JsonNode q = section(j, "quantizer");
        String qType = q.has("quantizer_type") ? q.get("quantizer_type").asText() : "grvq";
        if (!qType.equals("grvq")) {
            throw new VocodexException("distilcodec config: quantizer.quantizer_type \"" + qType + "\" is not supported (grvq only)");
        }
        int sr = req(s, "sampling_rate").asInt();
        JsonNode fmaxNode = s.get("fmax");
        double fmax = fmaxNode == null || fmaxNode.isNull() ? (double) (sr / 2) : fmaxNode.asDouble();
        JsonNode dil = req(d, "resblock_dilation_sizes");
        int[][] dilations = new int[dil.size()][];
        for (int i = 0; i < dilations.length; i++) {
            dilations[i] = intArray(dil.get(i), "decoder.resblock_dilation_sizes");
        }
        int inputDim = req(q, "input_dim").asInt();
        int groups = q.has("n_groups") ? q.get("n_groups").asInt() : 1;
        int cbDim = q.has("codebook_dim") ? q.get("codebook_dim").asInt() : 0;
        if (cbDim == 0) {
            cbDim = inputDim; // DownsampleGRVQ: codebook_dim 0 means input_dim
        }
        ObjectNode source = ((ObjectNode) j).deepCopy();
        for (String k : META_KEYS) {
            source.remove(k);
        }
        return new DistilCodecConfig(
                sr, req(s, "n_fft").asInt(), req(s, "hop_size").asInt(), req(s, "win_size").asInt(),
                req(s, "num_mels").asInt(), s.has("fmin") && !s.get("fmin").isNull() ? s.get("fmin").asDouble() : 0.0, fmax,
                req(e, "input_channels").asInt(), intArray(req(e, "depths"), "encoder.depths"),
                intArray(req(e, "dims"), "encoder.dims"), e.has("kernel_size") ? e.get("kernel_size").asInt() : 7,
                req(d, "hop_length").asInt(), intArray(req(d, "upsample_rates"), "decoder.upsample_rates"),
                intArray(req(d, "upsample_kernel_sizes"), "decoder.upsample_kernel_sizes"),
                intArray(req(d, "resblock_kernel_sizes"), "decoder.resblock_kernel_sizes"), dilations,
                req(d, "num_mels").asInt(), req(d, "upsample_initial_channel").asInt(),
                d.has("use_template") && d.get("use_template").asBoolean(),
                d.has("pre_conv_kernel_size") ? d.get("pre_conv_kernel_size").asInt() : 7,
                d.has("post_conv_kernel_size") ? d.get("post_conv_kernel_size").asInt() : 7,
                inputDim, groups, q.has("n_codebooks") ? q.get("n_codebooks").asInt() : 1,
                req(q, "codebook_size").asInt(), cbDim,
                q.has("downsample_factor") ? intArray(q.get("downsample_factor"), "quantizer.downsample_factor") : new int[] {2, 2},
                j.has("token_id_offset") ? j.get("token_id_offset").asInt() : 0,
                source).validate();
    }

    private static JsonNode section(JsonNode j, String key) {
        JsonNode v = j.get(key);
        if (v == null || !v.isObject()) {
            throw new VocodexException("distilcodec config: missing section \"" + key + "\"");
        }
        return v;
    }

    private static JsonNode req(JsonNode j, String key) {
        JsonNode v = j.get(key);
        if (v == null || v.isNull()) {
            throw new VocodexException("distilcodec config: missing \"" + key + "\"");
        }
        return v;
    }

    private static int[] intArray(JsonNode a, String what) {
        if (a == null || !a.isArray()) {
            throw new VocodexException("distilcodec config: " + what + " must be an array, got " + a);
        }
        int[] r = new int[a.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = a.get(i).asInt();
        }
        return r;
    }

    /** The original document (a copy). */
    public ObjectNode toJson() {
        return source.deepCopy();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DistilCodecConfig c && source.equals(c.source);
    }

    @Override
    public int hashCode() {
        return source.hashCode();
    }

    @Override
    public String toString() {
        return "DistilCodecConfig" + source;
    }
}
