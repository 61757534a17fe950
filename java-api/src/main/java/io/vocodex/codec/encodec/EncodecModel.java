package io.vocodex.codec.encodec;

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
import io.vocodex.nn.LstmLayer;
import io.vocodex.nn.ModuleState;
import io.vocodex.nn.PadMode;
import io.vocodex.nn.ResidualBlock;
import io.vocodex.nn.ResidualVectorQuantizer;
import io.vocodex.nn.Sequential;
import io.vocodex.nn.StreamingModule;

import java.util.ArrayList;
import java.util.List;

/**
 * EnCodec (Défossez et al., 2022): a SEANet convolutional encoder with an LSTM, residual vector
 * quantization, and the mirrored decoder. Built from an {@link EncodecConfig} and a checkpoint
 * under the original names ({@code encoder.model.N...}, {@code quantizer.vq.layers.K...},
 * {@code decoder.model.N...}); module indices follow the original {@code nn.Sequential}s, so the
 * weight names line up by construction.
 */
public final class EncodecModel implements CodecModel {
    private final EncodecConfig config;
    private final Sequential encoder;
    private final Sequential decoder;
    private final ResidualVectorQuantizer quantizer;
    private final long parameterCount;

    /** Builds the model; {@code w} is the checkpoint root (strict or collecting). */
    public EncodecModel(EncodecConfig config, Weights w) {
        this.config = config.validate();
        this.encoder = buildEncoder(config, w.prefix("encoder.model"));
        this.decoder = buildDecoder(config, w.prefix("decoder.model"));
        this.quantizer = new ResidualVectorQuantizer(config.dimension(), config.bins(), config.nQ(), w.prefix("quantizer"));
        long n = 0;
        if (w.file() != null) {
            for (String name : w.file().tensors().keySet()) {
                n += w.file().info(name).numel();
            }
        }
        this.parameterCount = n;
    }

    public EncodecConfig config() {
        return config;
    }

    private static Sequential buildEncoder(EncodecConfig c, Weights w) {
        List<StreamingModule> m = new ArrayList<>();
        int mult = 1;
        int nf = c.nFilters();
        m.add(conv(c, w.prefix(String.valueOf(m.size())), c.channels(), mult * nf, c.kernelSize(), 1, 1));
        for (int i = c.ratios().length - 1; i >= 0; i--) {
            int ratio = c.ratios()[i];
            for (int j = 0; j < c.nResidualLayers(); j++) {
                m.add(resnetBlock(c, w.prefix(String.valueOf(m.size())), mult * nf, pow(c.dilationBase(), j)));
            }
            m.add(new EluLayer(mult * nf, (float) c.alpha()));
            m.add(conv(c, w.prefix(String.valueOf(m.size())), mult * nf, mult * nf * 2, ratio * 2, ratio, 1));
            mult *= 2;
        }
        if (c.lstm() > 0) {
            m.add(new LstmLayer(mult * nf, c.lstm(), true, w.prefix(m.size() + ".lstm")));
        }
        m.add(new EluLayer(mult * nf, (float) c.alpha()));
        m.add(conv(c, w.prefix(String.valueOf(m.size())), mult * nf, c.dimension(), c.lastKernelSize(), 1, 1));
        return new Sequential(m);
    }

    private static Sequential buildDecoder(EncodecConfig c, Weights w) {
        List<StreamingModule> m = new ArrayList<>();
        int nf = c.nFilters();
        int mult = 1 << c.ratios().length;
        m.add(conv(c, w.prefix(String.valueOf(m.size())), c.dimension(), mult * nf, c.kernelSize(), 1, 1));
        if (c.lstm() > 0) {
            m.add(new LstmLayer(mult * nf, c.lstm(), true, w.prefix(m.size() + ".lstm")));
        }
        for (int ratio : c.ratios()) {
            m.add(new EluLayer(mult * nf, (float) c.alpha()));
            m.add(convTranspose(c, w.prefix(String.valueOf(m.size())), mult * nf, mult * nf / 2, ratio * 2, ratio));
            for (int j = 0; j < c.nResidualLayers(); j++) {
                m.add(resnetBlock(c, w.prefix(String.valueOf(m.size())), mult * nf / 2, pow(c.dilationBase(), j)));
            }
            mult /= 2;
        }
        m.add(new EluLayer(nf, (float) c.alpha()));
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

    /** SEANetResnetBlock: ELU, conv(k, dilation d) to dim/compress, ELU, conv(1) back; 1x1 shortcut unless true_skip. */
    private static ResidualBlock resnetBlock(EncodecConfig c, Weights w, int dim, int dilation) {
        int hidden = dim / c.compress();
        int[] kernels = {c.residualKernelSize(), 1};
        int[] dilations = {dilation, 1};
        List<StreamingModule> block = new ArrayList<>();
        for (int i = 0; i < kernels.length; i++) {
            int in = i == 0 ? dim : hidden;
            int out = i == kernels.length - 1 ? dim : hidden;
            block.add(new EluLayer(in, (float) c.alpha()));
            block.add(conv(c, w.prefix("block." + block.size()), in, out, kernels[i], 1, dilations[i]));
        }
        StreamingModule shortcut = c.trueSkip() ? null : conv(c, w.prefix("shortcut"), dim, dim, 1, 1, 1);
        return new ResidualBlock(new Sequential(block), shortcut);
    }

    /** SConv1d: weights at {@code <prefix>.conv.conv.{weight|weight_g,weight_v},bias}. */
    private static Conv1dLayer conv(EncodecConfig c, Weights w, int in, int out, int kernel, int stride, int dilation) {
        Weights cw = w.prefix("conv.conv");
        float[] weight = cw.foldedWeight(new int[] {out, in, kernel});
        float[] bias = cw.floats("bias", out);
        return new Conv1dLayer(in, out, kernel, stride, dilation, 1, c.causal(), PadMode.parse(c.padMode()), weight, bias);
    }

    /** SConvTranspose1d: weights at {@code <prefix>.convtr.convtr.*}, PyTorch layout (in, out, K). */
    private static ConvTranspose1dLayer convTranspose(EncodecConfig c, Weights w, int in, int out, int kernel, int stride) {
        Weights cw = w.prefix("convtr.convtr");
        float[] weight = cw.foldedWeight(new int[] {in, out, kernel});
        float[] bias = cw.floats("bias", out);
        return new ConvTranspose1dLayer(in, out, kernel, stride, 1, c.causal(), c.trimRightRatio(), weight, bias);
    }

    @Override
    public String architecture() {
        return "encodec";
    }

    @Override
    public int sampleRate() {
        return config.sampleRate();
    }

    @Override
    public int hopLength() {
        return config.hopLength();
    }

    @Override
    public double frameRate() {
        return config.frameRate();
    }

    @Override
    public int codebookSize() {
        return config.bins();
    }

    @Override
    public int maxCodebooks() {
        return config.nQ();
    }

    @Override
    public double[] bandwidths() {
        return config.targetBandwidths().clone();
    }

    @Override
    public int codebooksFor(double bandwidthKbps) {
        return config.codebooksFor(bandwidthKbps);
    }

    /** The encoder output before quantization {@code (dimension, frames)}. */
    public float[][] encodeLatent(CpuContext ctx, float[] pcm) {
        return encoder.forward(ctx, new float[][] {pcm});
    }

    /** The decoder input: the sum of the selected codebook vectors {@code (dimension, frames)}. */
    public float[][] dequantize(int[][] codes) {
        checkCodes(codes);
        return quantizer.decode(codes);
    }

    /** The encoder's layers in order (for profiling and tools). */
    public java.util.List<StreamingModule> encoderModules() {
        return encoder.modules();
    }

    /** The decoder's layers in order (for profiling and tools). */
    public java.util.List<StreamingModule> decoderModules() {
        return decoder.modules();
    }

    public ResidualVectorQuantizer quantizer() {
        return quantizer;
    }

    @Override
    public int[][] encode(CpuContext ctx, float[] pcm, int nq) {
        return quantizer.encode(ctx, encodeLatent(ctx, pcm), nq);
    }

    @Override
    public float[] decode(CpuContext ctx, int[][] codes) {
        return decoder.forward(ctx, dequantize(codes))[0];
    }

    private void checkCodes(int[][] codes) {
        CodeValidation.check(codes, 1, config.nQ(), config.bins(), "");
    }

    @Override
    public EncoderStream openEncoder(int nq) {
        ModuleState state = encoder.newState();
        return new EncoderStream() {
            @Override
            public int[][] push(CpuContext ctx, float[] pcm) {
                return quantizer.encode(ctx, encoder.step(ctx, state, new float[][] {pcm}), nq);
            }

            @Override
            public int[][] flush(CpuContext ctx) {
                return quantizer.encode(ctx, encoder.flush(ctx, state), nq);
            }
        };
    }

    /**
     * An encoder stream that continues from {@code encoderState} (built with {@link #encoderState}); how a
     * backend that stepped a stream elsewhere (the GPU StreamHub) finishes it on the CPU.
     */
    public EncoderStream resumeEncoder(ModuleState encoderState, int nq) {
        return new EncoderStream() {
            @Override
            public int[][] push(CpuContext ctx, float[] pcm) {
                return quantizer.encode(ctx, encoder.step(ctx, encoderState, new float[][] {pcm}), nq);
            }

            @Override
            public int[][] flush(CpuContext ctx) {
                return quantizer.encode(ctx, encoder.flush(ctx, encoderState), nq);
            }
        };
    }

    /** The encoder's streaming state from its modules' states, in {@link #encoderModules()} order. */
    public ModuleState encoderState(ModuleState... children) {
        return encoder.restoreState(children);
    }

    @Override
    public DecoderStream openDecoder() {
        ModuleState state = decoder.newState();
        return new DecoderStream() {
            @Override
            public float[] push(CpuContext ctx, int[][] codes) {
                if (codes.length == 0 || codes[0].length == 0) {
                    return new float[0];
                }
                return decoder.step(ctx, state, dequantize(codes))[0];
            }

            @Override
            public float[] flush(CpuContext ctx) {
                return decoder.flush(ctx, state)[0];
            }
        };
    }

    @Override
    public ObjectNode describe() {
        ObjectNode o = config.toJson();
        o.put("architecture", architecture());
        o.put("hop_length", hopLength());
        o.put("frame_rate", frameRate());
        o.put("parameters", parameterCount);
        o.put("streaming", config.causal());
        ObjectNode bw = o.putObject("codebooks_per_bandwidth");
        for (double b : config.targetBandwidths()) {
            bw.put(String.valueOf(b), codebooksFor(b));
        }
        return o;
    }

    /** Channel count helper for tests. */
    static int length(float[][] x) {
        return Frames.length(x);
    }
}
