package io.vocodex.codec.distilcodec;

import io.vocodex.backend.cpu.CpuContext;
import io.vocodex.backend.cpu.CpuOps;
import io.vocodex.backend.cpu.NnOps;
import io.vocodex.backend.cpu.WinogradConv;
import io.vocodex.model.Weights;
import io.vocodex.nn.Frames;

/**
 * The building blocks of DistilCodec, with PyTorch's (non-causal, zero-padded) semantics, over
 * channel-major activations {@code float[C][T]}. Each reads its weights from a {@link Weights}
 * view at the module's original name and checks their shapes.
 */
final class DistilLayers {
    private DistilLayers() {
    }

    /**
     * {@code nn.Conv1d} with symmetric zero padding (optionally weight-normalised). The HiFi-GAN's
     * ResBlock1 convs whose shape {@link WinogradConv#suits} run as Winograd F(4, 4) on weights
     * transformed at load, and keep no direct copy; the encoder's convs (which decide the codes)
     * and the decoder's others stay direct.
     */
    static final class Conv {
        final int in;
        final int out;
        final int kernel;
        final int stride;
        final int dilation;
        final int padding;
        final int groups;
        /** {@code (out, in/groups, K)}, or null where {@link #winograd} computes the conv. */
        final float[] weight;
        final float[] bias;
        final WinogradConv winograd;

        Conv(Weights w, int in, int out, int kernel, int stride, int dilation, int padding, int groups, boolean weightNorm) {
            this(w, in, out, kernel, stride, dilation, padding, groups, weightNorm, false);
        }

        Conv(Weights w, int in, int out, int kernel, int stride, int dilation, int padding, int groups, boolean weightNorm,
             boolean winogradAllowed) {
            this.in = in;
            this.out = out;
            this.kernel = kernel;
            this.stride = stride;
            this.dilation = dilation;
            this.padding = padding;
            this.groups = groups;
            int[] shape = {out, in / groups, kernel};
            float[] direct = weightNorm ? w.foldedWeight(shape) : w.floats("weight", shape);
            this.bias = w.floats("bias", out);
            if (winogradAllowed && WinogradConv.suits(in, out, kernel, stride, groups)) {
                this.winograd = new WinogradConv(direct, out, in, kernel, dilation);
                this.weight = null;
            } else {
                this.winograd = null;
                this.weight = direct;
            }
        }

        float[][] forward(CpuContext ctx, float[][] x) {
            return forward(ctx, x, null);
        }

        /**
         * Input samples on each side beyond an output that can change its bits: the kernel's
         * half-span, plus the tile's reach where {@link #winograd} computes the conv.
         */
        int reach() {
            return (kernel - 1) / 2 * dilation + (winograd == null ? 0 : winograd.tileReach());
        }

        /** Output positions at whose multiples a piece of the signal must start to round as the whole does (1: any). */
        int period() {
            return winograd == null ? 1 : winograd.period();
        }

        /** {@link #forward(CpuContext, float[][])} with {@code epilogue} fused (null: none). */
        float[][] forward(CpuContext ctx, float[][] x, CpuOps.ConvEpilogue epilogue) {
            if (winograd != null) {
                return winograd.forward(ctx, x, bias, padding, padding, epilogue);
            }
            return CpuOps.conv1dPadded(ctx, x, weight, bias, out, kernel, stride, dilation, groups, padding, padding, epilogue);
        }
    }

    /** {@code nn.ConvTranspose1d(in, out, K, stride, padding)}: full output trimmed by {@code padding} each side. */
    static final class ConvT {
        final int in;
        final int out;
        final int kernel;
        final int stride;
        final int padding;
        final float[] weight; // (in, out, K)
        final float[] bias;
        private volatile float[][] phaseRows;
        private volatile boolean phaseRowsMade;

        ConvT(Weights w, int in, int out, int kernel, int stride, int padding, boolean weightNorm) {
            this.in = in;
            this.out = out;
            this.kernel = kernel;
            this.stride = stride;
            this.padding = padding;
            int[] shape = {in, out, kernel};
            this.weight = weightNorm ? w.foldedWeight(shape) : w.floats("weight", shape);
            this.bias = w.floats("bias", out);
        }

        float[][] forward(CpuContext ctx, float[][] x) {
            int t = Frames.length(x);
            if (t == 0) {
                return Frames.empty(out);
            }
            int taps = (kernel + stride - 1) / stride;
            if (!phaseRowsMade) {
                // made once (a race makes them twice, equal), not per call
                phaseRows = CpuOps.transposedPhaseWeightsIfUsed(weight, in, out, kernel, stride, 1);
                phaseRowsMade = true;
            }
            float[][] full = CpuOps.convTranspose1dFrames(ctx, x, weight, phaseRows, bias, out, kernel, stride, 1, 0, t + taps - 1);
            int fullLen = (t - 1) * stride + kernel;
            return Frames.slice(full, padding, fullLen - padding);
        }
    }

    /** ConvNeXt's LayerNorm (channels_first or channels_last: same numbers per frame). */
    static final class LayerNorm {
        final float[] weight;
        final float[] bias;

        LayerNorm(Weights w, int dim) {
            weight = w.floats("weight", dim);
            bias = w.floats("bias", dim);
        }

        float[][] forward(CpuContext ctx, float[][] x) {
            return NnOps.layerNormChannels(ctx, x, weight, bias, DistilCodecConfig.LN_EPS);
        }
    }

    /**
     * ConvNeXtBlock (Fish-Diffusion / ConvNeXt v1 layout, no GRN): depthwise conv k (zero padding
     * {@code (k-1)/2}), LayerNorm over channels, Linear(dim, 4 dim), exact GELU, Linear(4 dim, dim),
     * layer scale {@code gamma}, residual add. Drop-path is the identity at inference.
     */
    static final class ConvNeXtBlock {
        final int dim;
        final Conv dwconv;
        final LayerNorm norm;
        final float[] pw1;
        final float[] pw1b;
        final float[] pw2;
        final float[] pw2b;
        final float[] gamma;

        ConvNeXtBlock(Weights w, int dim, int kernel) {
            this.dim = dim;
            int hidden = 4 * dim;
            dwconv = new Conv(w.prefix("dwconv"), dim, dim, kernel, 1, 1, (kernel - 1) / 2, dim, false);
            norm = new LayerNorm(w.prefix("norm"), dim);
            pw1 = w.floats("pwconv1.weight", hidden, dim);
            pw1b = w.floats("pwconv1.bias", hidden);
            pw2 = w.floats("pwconv2.weight", dim, hidden);
            pw2b = w.floats("pwconv2.bias", dim);
            gamma = w.floats("gamma", dim);
        }

        float[][] forward(CpuContext ctx, float[][] x) {
            float[][] h = dwconv.forward(ctx, x);
            h = norm.forward(ctx, h);
            h = CpuOps.linearColumns(ctx, h, pw1, pw1b, 4 * dim);
            NnOps.geluInPlace(ctx, h);
            h = CpuOps.linearColumns(ctx, h, pw2, pw2b, dim);
            for (int c = 0; c < dim; c++) {
                float g = gamma[c];
                float[] hr = h[c];
                float[] xr = x[c];
                for (int t = 0; t < hr.length; t++) {
                    hr[t] = xr[t] + g * hr[t];
                }
            }
            return h;
        }
    }

    /** HiFi-GAN ResBlock1: three (SiLU, dilated conv, SiLU, conv) pairs, each added to its input. */
    static final class ResBlock1 {
        final Conv[] convs1;
        final Conv[] convs2;

        ResBlock1(Weights w, int channels, int kernel, int[] dilations) {
            convs1 = new Conv[dilations.length];
            convs2 = new Conv[dilations.length];
            for (int i = 0; i < dilations.length; i++) {
                convs1[i] = new Conv(w.prefix("convs1." + i), channels, channels, kernel, 1, dilations[i],
                        (kernel * dilations[i] - dilations[i]) / 2, 1, true, true);
                convs2[i] = new Conv(w.prefix("convs2." + i), channels, channels, kernel, 1, 1, (kernel - 1) / 2, 1, true, true);
            }
        }

        float[][] forward(CpuContext ctx, float[][] x) {
            return forward(ctx, x, NnOps.silu(ctx, x), null);
        }

        /**
         * {@link #forward(CpuContext, float[][])} given {@code silu(x)} (shared by a ParallelBlock's
         * blocks; not modified), with {@code last} (null: none) fused after the final residual add.
         * Each pair's elementwise ops run on the conv's output units while they are in cache: the
         * SiLU after the dilated conv, then the residual add and the next pair's SiLU of its input,
         * each element by the same operations as the separate passes, so the same bits.
         */
        float[][] forward(CpuContext ctx, float[][] x, float[][] siluOfX, CpuOps.ConvEpilogue last) {
            float[][] xt = siluOfX;
            for (int i = 0; i < convs1.length; i++) {
                float[][] h = convs1[i].forward(ctx, xt, CpuOps.ConvEpilogue.silu());
                boolean lastPair = i == convs1.length - 1;
                float[][] nextSilu = lastPair ? null : CpuOps.newRows(ctx, x.length, Frames.length(x));
                x = convs2[i].forward(ctx, h, CpuOps.ConvEpilogue.chain(CpuOps.ConvEpilogue.add(x),
                        lastPair ? last : CpuOps.ConvEpilogue.siluInto(nextSilu)));
                xt = nextSilu;
            }
            return x;
        }
    }

    /** ParralelBlock (sic, the original's name): the mean of several ResBlock1 over the same input. */
    static final class ParallelBlock {
        final ResBlock1[] blocks;

        ParallelBlock(Weights w, int channels, int[] kernels, int[][] dilations) {
            blocks = new ResBlock1[kernels.length];
            for (int i = 0; i < kernels.length; i++) {
                blocks[i] = new ResBlock1(w.prefix("blocks." + i), channels, kernels[i], dilations[i]);
            }
        }

        /**
         * {@code (b_0(x) + b_1(x) + ...) / n}, summed in block order: block {@code i > 0} adds its
         * output into the sum unit by unit as its last conv computes it, and the last block's units
         * are then divided by {@code n} (a division by 1, for one block, changes nothing).
         */
        float[][] forward(CpuContext ctx, float[][] x) {
            float[][] siluOfX = NnOps.silu(ctx, x); // every block starts with it
            float[][] sum = blocks[0].forward(ctx, x, siluOfX, null);
            float n = blocks.length;
            for (int i = 1; i < blocks.length; i++) {
                CpuOps.ConvEpilogue into = CpuOps.ConvEpilogue.accumulateInto(sum);
                if (i == blocks.length - 1) {
                    into = CpuOps.ConvEpilogue.chain(into, (out, c0, c1, t0, len) -> {
                        for (int c = c0; c < c1; c++) {
                            float[] row = sum[c];
                            for (int t = t0; t < t0 + len; t++) {
                                row[t] = row[t] / n;
                            }
                        }
                    });
                }
                blocks[i].forward(ctx, x, siluOfX, into);
            }
            return sum;
        }
    }
}
