package io.vocodex.codec.distilcodec;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vocodex.VocodexException;
import io.vocodex.codec.CodeValidation;
import io.vocodex.backend.cpu.CodebookSearch;
import io.vocodex.backend.cpu.CpuContext;
import io.vocodex.backend.cpu.CpuOps;
import io.vocodex.backend.cpu.FactoredSearch;
import io.vocodex.backend.cpu.TransformerOps;
import io.vocodex.backend.cpu.WinogradConv;
import io.vocodex.backend.cpu.MelOps;
import io.vocodex.backend.cpu.NnOps;
import io.vocodex.codec.CodecModel;
import io.vocodex.model.Weights;
import io.vocodex.nn.Frames;

/**
 * DistilCodec (IDEA-Emdoor-Lab): a log-mel front end, a ConvNeXt encoder, a grouped residual VQ
 * ({@code DownsampleGRVQ}: optional strided downsampling + ConvNeXt block, per group a
 * {@code project_in} Linear into the codebook space, nearest code among {@code codebook_size}
 * Euclidean codes, {@code project_out} back) and a HiFi-GAN generator. The released model has one
 * group and one residual layer: one 32768-code codebook, 93.75 codes per second at 24 kHz.
 *
 * <p>Weights are read under the names of {@code DistilCodec.state_dict()}: {@code encoder.*},
 * {@code quantizer.*}, {@code generator.*}; weight-norm pairs under either the torch&gt;=2.1
 * parametrization names ({@code parametrizations.weight.original0/1}) or {@code weight_g/weight_v}.
 * The codebooks' EMA buffers ({@code initted}, {@code cluster_size}, {@code embed_avg}) are
 * accepted and ignored.
 *
 * <p>Encoding follows the original's {@code encode(raw_audio=True)} for ONE clip: one leading zero
 * sample, the log-mel, the encoder, the quantizer; the codes cover every mel frame,
 * {@code floor((n + 1) / hop)} of them (the original's {@code codes}, which its demo turns into LLM
 * tokens). Each clip is encoded alone: the original batches clips by zero-padding them to a common
 * length, which changes the last frames of the shorter ones; here a clip's codes never depend on
 * other clips. The model is non-causal (centred convolutions over the whole clip), so streaming
 * encoding is not supported.
 */
public final class DistilCodecModel implements CodecModel, AutoCloseable {
    /**
     * Where {@link #quantize} and {@link #encodeBatch} find nearest codes. The default is the CPU's
     * {@link CodebookSearch}; on a CUDA device {@code io.vocodex.Codec} installs the GPU search
     * ({@code io.vocodex.backend.cuda.CudaDistilSearch}) with {@link #withCodeSearch}. An implementation
     * must return exactly {@link CodebookSearch}'s codes.
     */
    public interface CodeSearch extends AutoCloseable {
        /**
         * Nearest code, in codebook {@code layer} of group {@code group}, of every frame of every clip:
         * {@code clips[i]} is {@code [T_i][codebook_dim]}, the result {@code [i][t]}.
         */
        int[][] nearest(CpuContext ctx, int group, int layer, float[][][] clips);

        /**
         * {@link #nearest} in the first codebook ({@code layer} 0) of group {@code group}, whose frames
         * {@code clips[i]} are {@code project_in} of the pre-quantization latents {@code latents[i]}
         * {@code (dim, T_i)}. A search may use the latents to find the same codes with less work (the
         * CPU search runs {@link FactoredSearch} once built); by default they are not used.
         */
        default int[][] nearestFirstLayer(CpuContext ctx, int group, float[][][] latents, float[][][] clips) {
            return nearest(ctx, group, 0, clips);
        }

        /** Where it runs, for logs (e.g. {@code "cpu"}, {@code "cuda:0"}). */
        String where();

        /** Releases device memory, if any. */
        @Override
        void close();
    }

    private final DistilCodecConfig config;
    private final long parameterCount;
    // front end
    private final double[] window;
    private final double[][] melFb;
    // encoder
    private final DistilLayers.Conv stem;
    private final DistilLayers.LayerNorm stemNorm;
    private final DistilLayers.LayerNorm[] midNorms;
    private final DistilLayers.Conv[] midConvs;
    private final DistilLayers.ConvNeXtBlock[][] stages;
    private final DistilLayers.LayerNorm encoderNorm;
    // quantizer
    private final DistilLayers.Conv[] downConvs;
    private final DistilLayers.ConvNeXtBlock[] downBlocks;
    private final DistilLayers.ConvT[] upConvs;          // in application order
    private final DistilLayers.ConvNeXtBlock[] upBlocks; // in application order
    private final float[][] projectIn;   // [g] (codebook_dim, dim/G) or null (identity)
    private final float[][] projectInB;
    private final float[][] projectOut;  // [g] (dim/G, codebook_dim) or null
    private final float[][] projectOutB;
    private final CodebookSearch.TiledCodebook[][] codebooks; // [g][r] (codebook_size, codebook_dim), packed for the search
    private final Factored[] factored; // [g]: the first layer's factored CPU search, built on demand; null entries where it cannot pay
    // generator
    private final DistilLayers.Conv convPre;
    private final DistilLayers.ConvT[] ups;
    private final DistilLayers.ParallelBlock[] resblocks;
    private final DistilLayers.Conv convPost;
    private final CodeSearch codeSearch;

    public DistilCodecModel(DistilCodecConfig config, Weights w) {
        this.config = config.validate();
        DistilCodecConfig c = config;
        window = MelOps.hannWindow(c.winSize(), c.nFft());
        melFb = MelOps.melFilterbank(c.nFft() / 2 + 1, c.fmin(), c.fmax(), c.numMels(), c.samplingRate(), true);

        // ---- ConvNeXtEncoder
        Weights e = w.prefix("encoder");
        int[] dims = c.encoderDims();
        int k = c.encoderKernelSize();
        stem = new DistilLayers.Conv(e.prefix("downsample_layers.0.0"), c.encoderInputChannels(), dims[0], k, 1, 1, k / 2, 1, false);
        stemNorm = new DistilLayers.LayerNorm(e.prefix("downsample_layers.0.1"), dims[0]);
        midNorms = new DistilLayers.LayerNorm[dims.length];
        midConvs = new DistilLayers.Conv[dims.length];
        for (int i = 1; i < dims.length; i++) {
            midNorms[i] = new DistilLayers.LayerNorm(e.prefix("downsample_layers." + i + ".0"), dims[i - 1]);
            midConvs[i] = new DistilLayers.Conv(e.prefix("downsample_layers." + i + ".1"), dims[i - 1], dims[i], 1, 1, 1, 0, 1, false);
        }
        stages = new DistilLayers.ConvNeXtBlock[dims.length][];
        for (int i = 0; i < dims.length; i++) {
            stages[i] = new DistilLayers.ConvNeXtBlock[c.encoderDepths()[i]];
            for (int j = 0; j < stages[i].length; j++) {
                stages[i][j] = new DistilLayers.ConvNeXtBlock(e.prefix("stages." + i + "." + j), dims[i], k);
            }
        }
        encoderNorm = new DistilLayers.LayerNorm(e.prefix("norm"), dims[dims.length - 1]);

        // ---- DownsampleGRVQ (downsample_dims = input_dim everywhere)
        Weights q = w.prefix("quantizer");
        int dim = c.quantizerInputDim();
        int[] factors = c.downsampleFactor();
        downConvs = new DistilLayers.Conv[factors.length];
        downBlocks = new DistilLayers.ConvNeXtBlock[factors.length];
        upConvs = new DistilLayers.ConvT[factors.length];
        upBlocks = new DistilLayers.ConvNeXtBlock[factors.length];
        for (int i = 0; i < factors.length; i++) {
            downConvs[i] = new DistilLayers.Conv(q.prefix("downsample." + i + ".0"), dim, dim, factors[i], factors[i], 1, 0, 1, false);
            downBlocks[i] = new DistilLayers.ConvNeXtBlock(q.prefix("downsample." + i + ".1"), dim, 7);
        }
        // upsample is built over reversed(enumerate(factors)): module j undoes factor index n-1-j
        for (int j = 0; j < factors.length; j++) {
            int f = factors[factors.length - 1 - j];
            upConvs[j] = new DistilLayers.ConvT(q.prefix("upsample." + j + ".0"), dim, dim, f, f, 0, false);
            upBlocks[j] = new DistilLayers.ConvNeXtBlock(q.prefix("upsample." + j + ".1"), dim, 7);
        }
        int groups = c.nGroups();
        int perGroup = dim / groups;
        int cd = c.codebookDim();
        boolean projected = cd != perGroup;
        projectIn = new float[groups][];
        projectInB = new float[groups][];
        projectOut = new float[groups][];
        projectOutB = new float[groups][];
        codebooks = new CodebookSearch.TiledCodebook[groups][c.nCodebooks()];
        factored = new Factored[groups];
        for (int g = 0; g < groups; g++) {
            Weights r = q.prefix("grvq.rvqs." + g);
            if (projected) {
                projectIn[g] = r.floats("project_in.weight", cd, perGroup);
                projectInB[g] = r.floats("project_in.bias", cd);
                projectOut[g] = r.floats("project_out.weight", perGroup, cd);
                projectOutB[g] = r.floats("project_out.bias", perGroup);
            }
            for (int l = 0; l < c.nCodebooks(); l++) {
                Weights cb = r.prefix("layers." + l + "._codebook");
                // only the tiled copy is kept: one codebook's worth of memory (470 MB at full size)
                codebooks[g][l] = CodebookSearch.pack(cb.floats("embed", 1, c.codebookSize(), cd), c.codebookSize(), cd);
                for (String stat : new String[] {"initted", "cluster_size", "embed_avg"}) {
                    cb.markUsed(stat); // EMA training buffers
                }
            }
            if (projected && FactoredSearch.worthwhile(codebooks[g][0], perGroup)) {
                factored[g] = new Factored(codebooks[g][0], projectIn[g], projectInB[g], perGroup);
            }
        }

        // ---- HiFiGANGenerator
        Weights gw = w.prefix("generator");
        int ch0 = c.upsampleInitialChannel();
        int pre = c.preConvKernelSize();
        convPre = new DistilLayers.Conv(gw.prefix("conv_pre"), c.decoderNumMels(), ch0, pre, 1, 1, (pre - 1) / 2, 1, true);
        int n = c.upsampleRates().length;
        ups = new DistilLayers.ConvT[n];
        resblocks = new DistilLayers.ParallelBlock[n];
        int ch = ch0;
        for (int i = 0; i < n; i++) {
            int u = c.upsampleRates()[i];
            int kk = c.upsampleKernelSizes()[i];
            ups[i] = new DistilLayers.ConvT(gw.prefix("ups." + i), ch0 >> i, ch0 >> (i + 1), kk, u, (kk - u) / 2, true);
            ch = ch0 >> (i + 1);
            resblocks[i] = new DistilLayers.ParallelBlock(gw.prefix("resblocks." + i), ch, c.resblockKernelSizes(),
                    c.resblockDilationSizes());
        }
        int post = c.postConvKernelSize();
        convPost = new DistilLayers.Conv(gw.prefix("conv_post"), ch, 1, post, 1, 1, (post - 1) / 2, 1, true);

        long count = 0;
        if (w.file() != null) {
            for (String name : w.file().tensors().keySet()) {
                count += w.file().info(name).numel();
            }
        }
        parameterCount = count;
        codeSearch = new CpuCodeSearch();
    }

    /** This model (the same weights, shared) with its nearest-code search done by {@code search}. */
    private DistilCodecModel(DistilCodecModel m, CodeSearch search) {
        this.config = m.config;
        this.parameterCount = m.parameterCount;
        this.window = m.window;
        this.melFb = m.melFb;
        this.stem = m.stem;
        this.stemNorm = m.stemNorm;
        this.midNorms = m.midNorms;
        this.midConvs = m.midConvs;
        this.stages = m.stages;
        this.encoderNorm = m.encoderNorm;
        this.downConvs = m.downConvs;
        this.downBlocks = m.downBlocks;
        this.upConvs = m.upConvs;
        this.upBlocks = m.upBlocks;
        this.projectIn = m.projectIn;
        this.projectInB = m.projectInB;
        this.projectOut = m.projectOut;
        this.projectOutB = m.projectOutB;
        this.codebooks = m.codebooks;
        this.factored = m.factored;
        this.convPre = m.convPre;
        this.ups = m.ups;
        this.resblocks = m.resblocks;
        this.convPost = m.convPost;
        this.codeSearch = search;
    }

    /**
     * A model sharing this one's weights whose {@link #quantize} / {@link #encodeBatch} use
     * {@code search}; closing the returned model closes {@code search}.
     *
     * <pre>{@code
     * DistilCodecModel gpu = model.withCodeSearch(CudaDistilSearch.open(0, model));
     * }</pre>
     */
    public DistilCodecModel withCodeSearch(CodeSearch search) {
        return new DistilCodecModel(this, java.util.Objects.requireNonNull(search, "search"));
    }

    /** Where the nearest-code search runs ({@link CodeSearch#where()}). */
    public String codeSearchPlace() {
        return codeSearch.where();
    }

    /**
     * Codebook {@code layer} of group {@code group}, {@code (codebook_size, codebook_dim)} row-major: a
     * new array unpacked from the model's tiled copy ({@link #tiledCodebook}), e.g. for an upload to a
     * device (470 MB at full size, so fetch it once).
     */
    public float[] codebook(int group, int layer) {
        return codebooks[group][layer].toRowMajor();
    }

    /** Codebook {@code layer} of group {@code group} as the CPU search holds it; read-only, shared. */
    public CodebookSearch.TiledCodebook tiledCodebook(int group, int layer) {
        return codebooks[group][layer];
    }

    /** {@link CodebookSearch#codeNorms} of {@link #codebook}; read-only, shared. */
    public float[] codeNorms(int group, int layer) {
        return codebooks[group][layer].norms();
    }

    /** Releases the code search's device memory (nothing for the CPU search). */
    @Override
    public void close() {
        codeSearch.close();
    }

    /**
     * The first residual layer's search on the CPU by {@link FactoredSearch} (the same codes, about
     * {@code in / codebook_dim} of the work: 0.29 at the released size). Building it costs about what
     * searching {@code in} frames in full does (240 GFLOP, a few seconds, and {@code codebook_size x in}
     * floats), so it is built only once this model has searched that many frames (counting the call
     * that tips it), like renting until the rent paid equals the price: a single clip of under
     * {@code in} frames (11 s at the released size) never pays for it, a corpus pays once.
     */
    private static final class Factored {
        private final CodebookSearch.TiledCodebook book;
        private final float[] weight;
        private final float[] bias;
        private final int in;
        private long searched;
        private FactoredSearch built;
        private boolean unusable;

        Factored(CodebookSearch.TiledCodebook book, float[] weight, float[] bias, int in) {
            this.book = book;
            this.weight = weight;
            this.bias = bias;
            this.in = in;
        }

        synchronized boolean isBuilt() {
            return built != null;
        }

        /** The factored search for a call of {@code frames} frames, or null (search in full). */
        synchronized FactoredSearch forCall(CpuContext ctx, int frames) {
            if (built == null && !unusable) {
                searched += frames;
                if (searched >= in) {
                    built = FactoredSearch.build(ctx, book, weight, bias, in);
                    unusable = built == null; // non-finite or huge weights: the full search always
                }
            }
            return built;
        }
    }

    /** The CPU search over all clips' frames at once (batch-invariant, so each clip gets its solo codes). */
    private final class CpuCodeSearch implements CodeSearch {
        @Override
        public int[][] nearest(CpuContext ctx, int group, int layer, float[][][] clips) {
            int total = 0;
            for (float[][] c : clips) {
                total += c.length;
            }
            float[][] all = new float[total][];
            int at = 0;
            for (float[][] c : clips) {
                System.arraycopy(c, 0, all, at, c.length);
                at += c.length;
            }
            return splitByClip(CodebookSearch.nearest(ctx, all, codebooks[group][layer]), clips);
        }

        /**
         * The factored search ({@link Factored}) where group {@code group} has one and this call
         * builds it or finds it built; else the full search.
         */
        @Override
        public int[][] nearestFirstLayer(CpuContext ctx, int group, float[][][] latents, float[][][] clips) {
            int total = 0;
            for (float[][] c : clips) {
                total += c.length;
            }
            FactoredSearch search = factored[group] == null ? null : factored[group].forCall(ctx, total);
            if (search == null) {
                return nearest(ctx, group, 0, clips);
            }
            int perGroup = search.inFeatures();
            float[][] h = new float[total][];
            float[][] x = new float[total][];
            int at = 0;
            for (int i = 0; i < latents.length; i++) {
                float[][] chunk = new float[perGroup][];
                System.arraycopy(latents[i], group * perGroup, chunk, 0, perGroup);
                float[][] frames = TransformerOps.transpose(chunk);
                for (int t = 0; t < clips[i].length; t++) {
                    h[at] = frames[t];
                    x[at++] = clips[i][t];
                }
            }
            return splitByClip(search.nearest(ctx, h, x), clips);
        }

        @Override
        public String where() {
            return "cpu";
        }

        @Override
        public void close() {
        }
    }

    public DistilCodecConfig config() {
        return config;
    }

    // ------------------------------------------------------------------ stages (public for tests)

    /** The log-mel {@code (num_mels, frames)} of {@code pcm} after the original's one leading zero sample. */
    public float[][] mel(CpuContext ctx, float[] pcm) {
        float[] y = new float[pcm.length + 1];
        System.arraycopy(pcm, 0, y, 1, pcm.length);
        return MelOps.logMel(ctx, y, config.nFft(), config.hopSize(), config.winSize(), window, melFb);
    }

    /** ConvNeXtEncoder output {@code (dims[-1], frames)} for a log-mel. */
    public float[][] encodeMel(CpuContext ctx, float[][] mel) {
        float[][] x = stemNorm.forward(ctx, stem.forward(ctx, mel));
        for (int i = 0; i < stages.length; i++) {
            if (i > 0) {
                x = midConvs[i].forward(ctx, midNorms[i].forward(ctx, x));
            }
            for (DistilLayers.ConvNeXtBlock b : stages[i]) {
                x = b.forward(ctx, x);
            }
        }
        return encoderNorm.forward(ctx, x);
    }

    /** The quantizer's downsample path: the latent that is projected and quantized {@code (dim, frames')}. */
    public float[][] prequant(CpuContext ctx, float[][] encoded) {
        float[][] x = encoded;
        for (int i = 0; i < downConvs.length; i++) {
            x = downBlocks[i].forward(ctx, downConvs[i].forward(ctx, x));
        }
        return x;
    }

    /** {@code project_in} of group {@code g}: the vectors searched in its codebooks, frame-major {@code [T][codebook_dim]}. */
    public float[][] projectIn(CpuContext ctx, float[][] latent, int g) {
        int perGroup = config.quantizerInputDim() / config.nGroups();
        float[][] chunk = new float[perGroup][];
        System.arraycopy(latent, g * perGroup, chunk, 0, perGroup);
        float[][] p = projectIn[g] == null ? chunk : CpuOps.linearColumns(ctx, chunk, projectIn[g], projectInB[g], config.codebookDim());
        return TransformerOps.transpose(p);
    }

    /** Codes {@code [G*R][T]} (row {@code g*R + r}) of a pre-quantization latent. */
    public int[][] quantize(CpuContext ctx, float[][] latent) {
        return quantizeBatch(ctx, new float[][][] {latent})[0];
    }

    /**
     * {@link #quantize} of several clips' latents {@code [i](dim, T_i)}, each clip's codes exactly its
     * solo ones; the nearest-code search of every (group, layer) runs once over all clips' frames.
     */
    public int[][][] quantizeBatch(CpuContext ctx, float[][][] latents) {
        int groups = config.nGroups();
        int res = config.nCodebooks();
        int cd = config.codebookDim();
        int clips = latents.length;
        int[][][] codes = new int[clips][groups * res][];
        for (int g = 0; g < groups; g++) {
            float[][][] residual = new float[clips][][];
            for (int i = 0; i < clips; i++) {
                residual[i] = projectIn(ctx, latents[i], g);
            }
            for (int r = 0; r < res; r++) {
                int[][] idx = r == 0 ? codeSearch.nearestFirstLayer(ctx, g, latents, residual)
                        : codeSearch.nearest(ctx, g, r, residual);
                for (int i = 0; i < clips; i++) {
                    codes[i][g * res + r] = idx[i];
                }
                if (r + 1 < res) {
                    CodebookSearch.TiledCodebook cb = codebooks[g][r];
                    float[] code = new float[cd];
                    for (int i = 0; i < clips; i++) {
                        for (int t = 0; t < idx[i].length; t++) {
                            float[] v = residual[i][t];
                            cb.copyCode(idx[i][t], code);
                            for (int d = 0; d < cd; d++) {
                                v[d] = v[d] - code[d];
                            }
                        }
                    }
                }
            }
        }
        return codes;
    }

    /** Whether group {@code g}'s factored CPU search has been built (for tests and logs). */
    boolean factoredSearchBuilt(int g) {
        return factored[g] != null && factored[g].isBuilt();
    }

    /** The codes of all clips' frames, in order, cut back into one array per clip. */
    private static int[][] splitByClip(int[] codes, float[][][] clips) {
        int[][] out = new int[clips.length][];
        int at = 0;
        for (int i = 0; i < clips.length; i++) {
            out[i] = java.util.Arrays.copyOfRange(codes, at, at + clips[i].length);
            at += clips[i].length;
        }
        return out;
    }

    /** {@code quantizer.decode}: codebook lookup, sum over residual layers, project_out, upsample path {@code (dim, T')}. */
    public float[][] dequantize(CpuContext ctx, int[][] codes) {
        checkCodes(codes);
        int groups = config.nGroups();
        int res = config.nCodebooks();
        int cd = config.codebookDim();
        int perGroup = config.quantizerInputDim() / groups;
        int frames = codes[0].length;
        float[][] z = new float[config.quantizerInputDim()][];
        for (int g = 0; g < groups; g++) {
            float[][] sum = new float[cd][frames];
            float[] code = new float[cd];
            for (int r = 0; r < res; r++) {
                CodebookSearch.TiledCodebook cb = codebooks[g][r];
                int[] idx = codes[g * res + r];
                for (int t = 0; t < frames; t++) {
                    cb.copyCode(idx[t], code);
                    for (int d = 0; d < cd; d++) {
                        sum[d][t] = r == 0 ? code[d] : sum[d][t] + code[d];
                    }
                }
            }
            float[][] out = projectOut[g] == null ? sum : CpuOps.linearColumns(ctx, sum, projectOut[g], projectOutB[g], perGroup);
            System.arraycopy(out, 0, z, g * perGroup, perGroup);
        }
        float[][] x = z;
        for (int j = 0; j < upConvs.length; j++) {
            x = upBlocks[j].forward(ctx, upConvs[j].forward(ctx, x));
        }
        return x;
    }

    /** HiFiGANGenerator: features {@code (num_mels, T)} to audio {@code T * hop} samples in (-1, 1). */
    public float[] generate(CpuContext ctx, float[][] features) {
        float[][] x = convPre.forward(ctx, features);
        for (int i = 0; i < ups.length; i++) {
            NnOps.siluInPlace(ctx, x);
            x = ups[i].forward(ctx, x);
            x = resblocks[i].forward(ctx, x);
        }
        NnOps.siluInPlace(ctx, x);
        x = convPost.forward(ctx, x);
        NnOps.tanhInPlace(ctx, x);
        return x[0];
    }

    /**
     * The decoder's receptive field in code frames, each side: how far a code can influence audio
     * (quantizer upsample blocks, conv_pre, every transposed conv and ResBlock1 stack, conv_post),
     * rounded up, plus one frame of margin. A ResBlock1 conv computed by Winograd
     * ({@link WinogradConv}) reaches {@link WinogradConv#tileReach()} samples further (its
     * output's rounding depends on the whole tile's inputs): the layers as built say which do. Chunked decoding with this much context on both
     * sides, starting at multiples of {@link #decoderChunkAlignment()} frames, equals whole decoding
     * bit for bit (every kernel computes an element the same way wherever it sits; only zero padding
     * at a chunk's edge differs, and it is out of reach).
     */
    public int decoderReceptiveField() {
        DistilCodecConfig c = config;
        double r = 0;
        int[] f = c.downsampleFactor();
        for (int factor : f) {
            r += 1 + 3; // convT (within a frame) + ConvNeXt dwconv k=7 at this rate, in (finer) frames: conservative
        }
        r += (c.preConvKernelSize() - 1) / 2;
        double perFrame = 1;
        for (int i = 0; i < c.upsampleRates().length; i++) {
            int u = c.upsampleRates()[i];
            int k = c.upsampleKernelSizes()[i];
            r += ((k + u - 1) / u + 1) / perFrame; // input frames a transposed-conv output reads
            perFrame *= u;
            int worst = 0;
            for (DistilLayers.ResBlock1 block : resblocks[i].blocks) {
                int sum = 0;
                for (int j = 0; j < block.convs1.length; j++) {
                    sum += block.convs1[j].reach() + block.convs2[j].reach();
                }
                worst = Math.max(worst, sum);
            }
            r += worst / perFrame;
        }
        r += (c.postConvKernelSize() - 1) / 2 / perFrame;
        return (int) Math.ceil(r) + 1;
    }

    /**
     * Frames at whose multiples {@link #decodeChunked} starts its chunks: a Winograd conv's tiles
     * repeat every {@code 4d} of its samples ({@link WinogradConv#period()}), and a chunk that
     * starts on that grid in every such conv rounds each output as whole decoding does. 1 when no
     * conv of the decoder runs as Winograd.
     */
    public int decoderChunkAlignment() {
        DistilCodecConfig c = config;
        long perFrame = 1;
        for (int factor : c.downsampleFactor()) {
            perFrame *= factor;
        }
        long align = 1;
        for (int i = 0; i < c.upsampleRates().length; i++) {
            perFrame *= c.upsampleRates()[i];
            for (DistilLayers.ResBlock1 block : resblocks[i].blocks) {
                for (DistilLayers.Conv[] convs : new DistilLayers.Conv[][] {block.convs1, block.convs2}) {
                    for (DistilLayers.Conv conv : convs) {
                        long frames = conv.period() / gcd(conv.period(), perFrame);
                        align = align / gcd(align, frames) * frames;
                    }
                }
            }
        }
        return (int) align;
    }

    private static long gcd(long a, long b) {
        return b == 0 ? a : gcd(b, a % b);
    }

    /**
     * Decodes {@code codes} in chunks of {@code chunkFrames} frames with {@link #decoderReceptiveField}
     * frames of context on each side, each decoded piece starting at a multiple of
     * {@link #decoderChunkAlignment()} frames (bounded memory for long token streams); the result is
     * bit-identical to {@link #decode}. Requires every upsampling layer to produce exactly
     * {@code rate} samples per input sample ({@code kernel - rate} even, true of the released model).
     */
    public float[] decodeChunked(CpuContext ctx, int[][] codes, int chunkFrames) {
        checkCodes(codes);
        if (chunkFrames < 1) {
            throw new VocodexException("chunkFrames must be positive, got " + chunkFrames);
        }
        for (int i = 0; i < config.upsampleRates().length; i++) {
            if ((config.upsampleKernelSizes()[i] - config.upsampleRates()[i]) % 2 != 0) {
                throw new VocodexException("chunked decoding needs kernel - rate even in every upsampling layer; layer " + i
                        + " has kernel " + config.upsampleKernelSizes()[i] + ", rate " + config.upsampleRates()[i]);
            }
        }
        int frames = codes[0].length;
        int hop = hopLength();
        int ctxFrames = decoderReceptiveField();
        int align = decoderChunkAlignment();
        float[] out = new float[frames * hop];
        for (int s = 0; s < frames; s += chunkFrames) {
            int e = Math.min(frames, s + chunkFrames);
            int from = Math.max(0, s - ctxFrames) / align * align;
            int to = Math.min(frames, e + ctxFrames);
            int[][] part = new int[codes.length][];
            for (int k = 0; k < codes.length; k++) {
                part[k] = java.util.Arrays.copyOfRange(codes[k], from, to);
            }
            float[] y = decode(ctx, part);
            System.arraycopy(y, (s - from) * hop, out, s * hop, (e - s) * hop);
        }
        return out;
    }

    // ------------------------------------------------------------------ CodecModel

    @Override
    public String architecture() {
        return "distilcodec";
    }

    @Override
    public int sampleRate() {
        return config.samplingRate();
    }

    @Override
    public int hopLength() {
        return config.samplesPerFrame();
    }

    @Override
    public double frameRate() {
        return config.frameRate();
    }

    @Override
    public int codebookSize() {
        return config.codebookSize();
    }

    @Override
    public int maxCodebooks() {
        return config.numCodebooks();
    }

    /** The one bitrate: {@code G * R * log2(codebook_size) * frame_rate}, e.g. 1.40625 kbps for the released model. */
    @Override
    public double[] bandwidths() {
        return new double[] {config.numCodebooks() * (Math.log(config.codebookSize()) / Math.log(2)) * frameRate() / 1000};
    }

    /** Always every codebook: groups are not a coarse-to-fine hierarchy, so there is no lower bitrate. */
    @Override
    public int codebooksFor(double bandwidthKbps) {
        return config.numCodebooks();
    }

    @Override
    public int[][] encode(CpuContext ctx, float[] pcm, int nq) {
        if (nq != config.numCodebooks()) {
            throw new VocodexException("DistilCodec always produces all " + config.numCodebooks() + " codebook(s); asked for " + nq);
        }
        return quantize(ctx, prequant(ctx, encodeMel(ctx, mel(ctx, pcm))));
    }

    /** Each clip's solo codes; the encoder runs clip by clip, the nearest-code search once over all clips' frames. */
    @Override
    public int[][][] encodeBatch(CpuContext ctx, float[][] pcm, int nq) {
        if (nq != config.numCodebooks()) {
            throw new VocodexException("DistilCodec always produces all " + config.numCodebooks() + " codebook(s); asked for " + nq);
        }
        float[][][] latents = new float[pcm.length][][];
        for (int i = 0; i < pcm.length; i++) {
            latents[i] = prequant(ctx, encodeMel(ctx, mel(ctx, pcm[i])));
        }
        return quantizeBatch(ctx, latents);
    }

    @Override
    public float[] decode(CpuContext ctx, int[][] codes) {
        if (codes.length > 0 && codes[0].length == 0) {
            return new float[0];
        }
        return generate(ctx, dequantize(ctx, codes));
    }

    /** LLM vocabulary ids of {@code codes [G*R][T]}, frame by frame: {@code token_id_offset + k * codebook_size + code}. */
    public int[] toLlmTokenIds(int[][] codes) {
        return DistilCodecTokens.toLlmTokenIds(codes, config.tokenIdOffset(), config.codebookSize());
    }

    /** Inverse of {@link #toLlmTokenIds}. */
    public int[][] fromLlmTokenIds(int[] ids) {
        return DistilCodecTokens.fromLlmTokenIds(ids, config.numCodebooks(), config.tokenIdOffset(), config.codebookSize());
    }

    private void checkCodes(int[][] codes) {
        int offset = config.tokenIdOffset();
        boolean tokenIds = false;
        for (int[] row : codes) {
            for (int c : row) {
                tokenIds |= offset > 0 && c >= offset;
            }
        }
        CodeValidation.check(codes, config.numCodebooks(), config.numCodebooks(), config.codebookSize(),
                tokenIds ? " (an LLM token id? subtract token_id_offset " + offset + " first)" : "");
    }

    @Override
    public EncoderStream openEncoder(int nq) {
        throw new VocodexException("DistilCodec cannot encode a stream: its mel front end, ConvNeXt encoder and quantizer "
                + "are non-causal (centred convolutions over the whole clip); encode whole clips with Codec.encode");
    }

    @Override
    public DecoderStream openDecoder() {
        throw new VocodexException("DistilCodec has no streaming decoder (non-causal HiFi-GAN); decode whole token sequences");
    }

    @Override
    public ObjectNode describe() {
        ObjectNode o = config.toJson();
        o.put("architecture", architecture());
        o.put("hop_length", hopLength());
        o.put("frame_rate", frameRate());
        o.put("codebooks", config.numCodebooks());
        o.put("parameters", parameterCount);
        o.put("streaming", false);
        return o;
    }
}
