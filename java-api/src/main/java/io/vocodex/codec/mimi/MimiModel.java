package io.vocodex.codec.mimi;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vocodex.VocodexException;
import io.vocodex.codec.CodeValidation;
import io.vocodex.backend.cpu.CpuContext;
import io.vocodex.codec.CodecModel;
import io.vocodex.model.Weights;
import io.vocodex.nn.Conv1dLayer;
import io.vocodex.nn.ConvTranspose1dLayer;
import io.vocodex.nn.EluLayer;
import io.vocodex.nn.Frames;
import io.vocodex.nn.ModuleState;
import io.vocodex.nn.PadMode;
import io.vocodex.nn.ResidualBlock;
import io.vocodex.nn.Sequential;
import io.vocodex.nn.StreamingModule;

import java.util.ArrayList;
import java.util.List;

/**
 * Kyutai's Mimi codec ({@code moshi.models.compression.MimiModel} as built by
 * {@code loaders.get_mimi}): causal SEANet encoder (24 kHz -> 25 Hz) -> encoder transformer ->
 * learnt causal downsampling conv (k=4, s=2, replicate padding) to 12.5 Hz -> split RVQ
 * (1 semantic + n_q-1 acoustic codebooks); decoding mirrors it with a depthwise transposed
 * upsampling conv, the decoder transformer and the SEANet decoder.
 *
 * <p>Batch calls pad the input at the end with zeros to a multiple of the frame size (1920),
 * as the original's {@code pad_for_conv1d}; codes are {@code [K][T]}, {@code T = ceil(len/1920)};
 * decoding returns {@code T*1920} samples. Streams ({@link #openEncoder}, {@link #openDecoder})
 * run the original's streaming computation frame by frame, including its ring KV cache, so their
 * codes are the original's STREAMING codes, which differ from the batch codes once more than
 * {@code context} transformer steps have passed (see docs/mimi.md).
 */
public final class MimiModel implements CodecModel {
    private final MimiConfig config;
    private final Sequential encoder;
    private final Sequential decoder;
    private final MimiTransformer encoderTransformer;
    private final MimiTransformer decoderTransformer;
    private final Conv1dLayer downsample;
    private final ConvTranspose1dLayer upsample;
    private final MimiQuantizer quantizer;
    private final long parameterCount;

    public MimiModel(MimiConfig config, Weights w) {
        this.config = config.validate();
        MimiConfig.Seanet s = config.seanet();
        this.encoder = buildEncoder(s, w.prefix("encoder.model"));
        this.decoder = buildDecoder(s, w.prefix("decoder.model"));
        this.encoderTransformer = new MimiTransformer(config.transformer(), w.prefix("encoder_transformer"));
        this.decoderTransformer = new MimiTransformer(config.transformer(), w.prefix("decoder_transformer"));
        int d = s.dimension();
        int stride = config.resampleStride();
        // ConvDownsample1d(learnt=True): StreamingConv1d(d, d, 2*stride, stride, bias=False, pad_mode="replicate").
        this.downsample = new Conv1dLayer(d, d, 2 * stride, stride, 1, 1, true, PadMode.REPLICATE,
                w.prefix("downsample.conv.conv.conv").floats("weight", d, d, 2 * stride), null);
        // ConvTrUpsample1d(learnt=True, channel_wise=True): depthwise StreamingConvTranspose1d, groups=d, no bias.
        this.upsample = new ConvTranspose1dLayer(d, d, 2 * stride, stride, d, true, 1.0,
                w.prefix("upsample.convtr.convtr.convtr").floats("weight", d, 1, 2 * stride), null);
        this.quantizer = new MimiQuantizer(config.quantizer(), w.prefix("quantizer"));
        long n = 0;
        if (w.file() != null) {
            for (String name : w.file().tensors().keySet()) {
                n += w.file().info(name).numel();
            }
        }
        this.parameterCount = n;
    }

    public MimiConfig config() {
        return config;
    }

    // ---------------------------------------------------------------- SEANet

    private static Sequential buildEncoder(MimiConfig.Seanet c, Weights w) {
        List<StreamingModule> m = new ArrayList<>();
        int mult = 1;
        int nf = c.nFilters();
        m.add(conv(c, w.prefix("0"), c.channels(), nf, c.kernelSize(), 1, 1));
        int[] ratios = c.ratios();
        for (int i = ratios.length - 1; i >= 0; i--) {
            for (int j = 0; j < c.nResidualLayers(); j++) {
                m.add(resnetBlock(c, w.prefix(String.valueOf(m.size())), mult * nf, pow(c.dilationBase(), j)));
            }
            m.add(new EluLayer(mult * nf, 1f));
            m.add(conv(c, w.prefix(String.valueOf(m.size())), mult * nf, mult * nf * 2, ratios[i] * 2, ratios[i], 1));
            mult *= 2;
        }
        m.add(new EluLayer(mult * nf, 1f));
        m.add(conv(c, w.prefix(String.valueOf(m.size())), mult * nf, c.dimension(), c.lastKernelSize(), 1, 1));
        return new Sequential(m);
    }

    private static Sequential buildDecoder(MimiConfig.Seanet c, Weights w) {
        List<StreamingModule> m = new ArrayList<>();
        int nf = c.nFilters();
        int mult = 1 << c.ratios().length;
        m.add(conv(c, w.prefix("0"), c.dimension(), mult * nf, c.kernelSize(), 1, 1));
        for (int ratio : c.ratios()) {
            m.add(new EluLayer(mult * nf, 1f));
            m.add(convTranspose(w.prefix(String.valueOf(m.size())), mult * nf, mult * nf / 2, ratio * 2, ratio));
            for (int j = 0; j < c.nResidualLayers(); j++) {
                m.add(resnetBlock(c, w.prefix(String.valueOf(m.size())), mult * nf / 2, pow(c.dilationBase(), j)));
            }
            mult /= 2;
        }
        m.add(new EluLayer(nf, 1f));
        m.add(conv(c, w.prefix(String.valueOf(m.size())), nf, c.channels(), c.lastKernelSize(), 1, 1));
        return new Sequential(m);
    }

    private static int pow(int base, int exp) {
        int r = 1;
        for (int i = 0; i < exp; i++) {
            r *= base;
        }
        return r;
    }

    /** SEANetResnetBlock: ELU, conv(k, dilation), ELU, conv(1); identity shortcut when true_skip, else a 1x1 conv. */
    private static ResidualBlock resnetBlock(MimiConfig.Seanet c, Weights w, int dim, int dilation) {
        int hidden = dim / c.compress();
        List<StreamingModule> block = new ArrayList<>();
        block.add(new EluLayer(dim, 1f));
        block.add(conv(c, w.prefix("block.1"), dim, hidden, c.residualKernelSize(), 1, dilation));
        block.add(new EluLayer(hidden, 1f));
        block.add(conv(c, w.prefix("block.3"), hidden, dim, 1, 1, 1));
        StreamingModule shortcut = c.trueSkip() ? null : conv(c, w.prefix("shortcut"), dim, dim, 1, 1, 1);
        return new ResidualBlock(new Sequential(block), shortcut);
    }

    /** StreamingConv1d: weights at {@code <prefix>.conv.conv.{weight | weight-norm pair}, bias}. */
    private static Conv1dLayer conv(MimiConfig.Seanet c, Weights w, int in, int out, int kernel, int stride, int dilation) {
        Weights cw = w.prefix("conv.conv");
        float[] weight = cw.foldedWeight(new int[] {out, in, kernel});
        float[] bias = cw.floats("bias", out);
        return new Conv1dLayer(in, out, kernel, stride, dilation, 1, true, PadMode.parse(c.padMode()), weight, bias);
    }

    /** StreamingConvTranspose1d: weights at {@code <prefix>.convtr.convtr.*}, (in, out, K); causal, all trimming right. */
    private static ConvTranspose1dLayer convTranspose(Weights w, int in, int out, int kernel, int stride) {
        Weights cw = w.prefix("convtr.convtr");
        float[] weight = cw.foldedWeight(new int[] {in, out, kernel});
        float[] bias = cw.floats("bias", out);
        return new ConvTranspose1dLayer(in, out, kernel, stride, 1, true, 1.0, weight, bias);
    }

    // ---------------------------------------------------------------- CodecModel

    @Override
    public String architecture() {
        return "mimi";
    }

    @Override
    public int sampleRate() {
        return config.sampleRate();
    }

    @Override
    public int hopLength() {
        return config.frameSize();
    }

    @Override
    public double frameRate() {
        return config.frameRate();
    }

    @Override
    public int codebookSize() {
        return config.quantizer().bins();
    }

    @Override
    public int maxCodebooks() {
        return config.quantizer().nQ();
    }

    /** {@code k * log2(bins) * frame_rate / 1000} for every usable codebook count {@code k}. */
    @Override
    public double[] bandwidths() {
        int lo = config.quantizer().nQSemantic();
        double[] b = new double[maxCodebooks() - lo + 1];
        for (int k = lo; k <= maxCodebooks(); k++) {
            b[k - lo] = k * config.kbpsPerCodebook();
        }
        return b;
    }

    /** The codebooks that fit in {@code bandwidthKbps}, at least {@code n_q_semantic}; may exceed n_q (Codec reports it). */
    @Override
    public int codebooksFor(double bandwidthKbps) {
        int k = (int) Math.floor(bandwidthKbps / config.kbpsPerCodebook() + 1e-9);
        return Math.max(config.quantizer().nQSemantic(), k);
    }

    /** SEANet encoder output {@code (D, 2T)} of the frame-padded input (diagnostics). */
    public float[][] seanetEncode(CpuContext ctx, float[] pcm) {
        return encoder.forward(ctx, new float[][] {padToFrames(pcm)});
    }

    /** The encoder transformer output {@code (D, 2T)} (diagnostics). */
    public float[][] encoderTransformer(CpuContext ctx, float[][] seanetOut) {
        return encoderTransformer.forward(ctx, seanetOut);
    }

    /** The unquantized latent {@code (D, T)} at the frame rate ({@code _encode_to_unquantized_latent}). */
    public float[][] encodeLatent(CpuContext ctx, float[] pcm) {
        float[][] e = encoderTransformer.forward(ctx, seanetEncode(ctx, pcm));
        return downsample.forward(ctx, e);
    }

    /** The quantized latent {@code (D, T)} of codes ({@code decode_latent}). */
    public float[][] decodeLatent(CpuContext ctx, int[][] codes) {
        checkCodes(codes);
        return quantizer.decode(ctx, codes);
    }

    /** Upsampled latent {@code (D, 2T)} (diagnostics). */
    public float[][] upsample(CpuContext ctx, float[][] latent) {
        return upsample.forward(ctx, latent);
    }

    /** Decoder transformer output {@code (D, 2T)} (diagnostics). */
    public float[][] decoderTransformer(CpuContext ctx, float[][] upsampled) {
        return decoderTransformer.forward(ctx, upsampled);
    }

    public MimiQuantizer quantizer() {
        return quantizer;
    }

    @Override
    public int[][] encode(CpuContext ctx, float[] pcm, int nq) {
        checkNq(nq);
        return quantizer.encode(ctx, encodeLatent(ctx, pcm), nq);
    }

    @Override
    public float[] decode(CpuContext ctx, int[][] codes) {
        float[][] emb = decoderTransformer.forward(ctx, upsample.forward(ctx, decodeLatent(ctx, codes)));
        return decoder.forward(ctx, emb)[0];
    }

    private float[] padToFrames(float[] pcm) {
        int f = config.frameSize();
        int n = (pcm.length + f - 1) / f * f;
        return n == pcm.length ? pcm : java.util.Arrays.copyOf(pcm, n);
    }

    private void checkNq(int nq) {
        int lo = config.quantizer().nQSemantic();
        if (nq < lo || nq > maxCodebooks()) {
            throw new VocodexException("Mimi uses " + lo + ".." + maxCodebooks() + " codebooks; asked for " + nq);
        }
    }

    private void checkCodes(int[][] codes) {
        CodeValidation.check(codes, config.quantizer().nQSemantic(), maxCodebooks(), codebookSize(), "");
    }

    // ---------------------------------------------------------------- streaming

    /**
     * The original's streaming encoder: PCM is buffered into whole frames of {@link #hopLength()}
     * samples; each frame runs through the causal convs (state: their left context), the encoder
     * transformer as ONE 2-position chunk through its ring KV cache, the downsampling conv and the
     * quantizer, giving one code frame. {@code flush} zero-pads a last partial frame (the batch
     * padding) and emits it.
     */
    public final class EncoderStreamImpl implements EncoderStream {
        private final int nq;
        private final ModuleState seanetState = encoder.newState();
        private final MimiTransformer.Stream transformer = encoderTransformer.newStream();
        private final ModuleState downState = downsample.newState();
        private final float[] pending = new float[config.frameSize()];
        private int pendingLen;
        /** Latents {@code (D, 1)} of the frames emitted so far, when recording (diagnostics). */
        private final List<float[][]> latents;

        EncoderStreamImpl(int nq, boolean record) {
            checkNq(nq);
            this.nq = nq;
            this.latents = record ? new ArrayList<>() : null;
        }

        public List<float[][]> latents() {
            return latents;
        }

        @Override
        public int[][] push(CpuContext ctx, float[] pcm) {
            List<int[][]> frames = new ArrayList<>();
            int i = 0;
            while (i < pcm.length) {
                int n = Math.min(pcm.length - i, pending.length - pendingLen);
                System.arraycopy(pcm, i, pending, pendingLen, n);
                pendingLen += n;
                i += n;
                if (pendingLen == pending.length) {
                    frames.add(frame(ctx, pending.clone()));
                    pendingLen = 0;
                }
            }
            return concat(frames, nq);
        }

        @Override
        public int[][] flush(CpuContext ctx) {
            if (pendingLen == 0) {
                return new int[nq][0];
            }
            float[] last = new float[pending.length];
            System.arraycopy(pending, 0, last, 0, pendingLen);
            pendingLen = 0;
            return frame(ctx, last);
        }

        private int[][] frame(CpuContext ctx, float[] samples) {
            float[][] e = encoder.step(ctx, seanetState, new float[][] {samples});
            e = transformer.step(ctx, e);
            float[][] latent = downsample.step(ctx, downState, e);
            if (latents != null) {
                latents.add(latent);
            }
            return quantizer.encode(ctx, latent, nq);
        }
    }

    @Override
    public EncoderStream openEncoder(int nq) {
        return new EncoderStreamImpl(nq, false);
    }

    /** A streaming encoder that also records the latent of every frame (diagnostics, tests). */
    public EncoderStreamImpl openRecordingEncoder(int nq) {
        return new EncoderStreamImpl(nq, true);
    }

    /**
     * The original's streaming decoder: each code frame is dequantized, upsampled (the transposed
     * conv keeps its overlap), run through the decoder transformer as one 2-position chunk through
     * its ring KV cache and the SEANet decoder, giving {@link #hopLength()} samples. Frames pushed
     * together are still processed one by one, so the output does not depend on the grouping.
     */
    @Override
    public DecoderStream openDecoder() {
        ModuleState upState = upsample.newState();
        MimiTransformer.Stream tr = decoderTransformer.newStream();
        ModuleState decState = decoder.newState();
        return new DecoderStream() {
            @Override
            public float[] push(CpuContext ctx, int[][] codes) {
                if (codes.length == 0 || codes[0].length == 0) {
                    return new float[0];
                }
                checkCodes(codes);
                int frames = codes[0].length;
                float[] out = new float[frames * hopLength()];
                for (int t = 0; t < frames; t++) {
                    int[][] one = new int[codes.length][];
                    for (int k = 0; k < codes.length; k++) {
                        one[k] = new int[] {codes[k][t]};
                    }
                    float[][] emb = tr.step(ctx, upsample.step(ctx, upState, quantizer.decode(ctx, one)));
                    float[] pcm = decoder.step(ctx, decState, emb)[0];
                    if (pcm.length != hopLength()) {
                        throw new IllegalStateException("decoder step gave " + pcm.length + " samples");
                    }
                    System.arraycopy(pcm, 0, out, t * hopLength(), pcm.length);
                }
                return out;
            }

            @Override
            public float[] flush(CpuContext ctx) {
                // Every step already emitted its whole frame; the original keeps no tail either.
                return new float[0];
            }
        };
    }

    private static int[][] concat(List<int[][]> frames, int nq) {
        int[][] out = new int[nq][frames.size()];
        for (int t = 0; t < frames.size(); t++) {
            for (int k = 0; k < nq; k++) {
                out[k][t] = frames.get(t)[k][0];
            }
        }
        return out;
    }

    @Override
    public ObjectNode describe() {
        ObjectNode o = config.toJson();
        o.put("architecture", architecture());
        o.put("hop_length", hopLength());
        o.put("frame_rate", frameRate());
        o.put("parameters", parameterCount);
        o.put("streaming", true);
        o.put("kbps_per_codebook", config.kbpsPerCodebook());
        return o;
    }

    /** Channel helper for tests. */
    static int length(float[][] x) {
        return Frames.length(x);
    }

    // ---- layers for other backends, profiling and tools (the immutable layer objects themselves) --

    /** The SEANet encoder's modules, in order. */
    public List<StreamingModule> encoderModules() {
        return encoder.modules();
    }

    /** The SEANet decoder's modules, in order. */
    public List<StreamingModule> decoderModules() {
        return decoder.modules();
    }

    public MimiTransformer encoderTransformerModule() {
        return encoderTransformer;
    }

    public MimiTransformer decoderTransformerModule() {
        return decoderTransformer;
    }

    /** The learnt downsampling conv (k = 2 stride, replicate padding, no bias). */
    public Conv1dLayer downsampleLayer() {
        return downsample;
    }

    /** The depthwise transposed upsampling conv ({@code groups = dimension}, no bias). */
    public ConvTranspose1dLayer upsampleLayer() {
        return upsample;
    }
}
