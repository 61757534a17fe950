package io.vocodex.backend.cuda;

import io.vocodex.backend.cpu.CpuContext;
import io.vocodex.backend.cpu.CpuOps;
import io.vocodex.codec.mimi.MimiQuantizer;
import io.vocodex.nn.Conv1dLayer;
import io.vocodex.nn.PadMode;

import java.util.Arrays;

/**
 * The CPU twins of {@link MimiStreamSchedule.Kernels} on host arrays with the device layout: the loops of
 * {@code stream_window_f32}/{@code stream_keep_f32} (pure copies), {@code CpuOps.conv1d} over the window with
 * the fused ELU applied to it first (what {@code conv1d_f32} computes), and {@link MimiQuantizer#encode} per row
 * (what {@code vq_cdist_nearest_f32} reproduces). Scratch is NaN-filled, so a read of a column the schedule
 * never wrote shows up in the tokens.
 */
final class HostStreamKernels implements MimiStreamSchedule.Kernels<HostTransformerKernels.Buf> {
    private final CpuContext cpu;
    private final MimiQuantizer quantizer;
    private final int latentDim;

    HostStreamKernels(CpuContext cpu, MimiQuantizer quantizer) {
        this.cpu = cpu;
        this.quantizer = quantizer;
        this.latentDim = quantizer.partWeights(0).inDim();
    }

    @Override
    public HostTransformerKernels.Buf allocate(long floats) {
        float[] f = new float[(int) Math.max(1, floats)];
        Arrays.fill(f, Float.NaN);
        return new HostTransformerKernels.Buf(f, null);
    }

    @Override
    public HostTransformerKernels.Buf allocateInts(int n) {
        int[] i = new int[Math.max(1, n)];
        Arrays.fill(i, Integer.MIN_VALUE);
        return new HostTransformerKernels.Buf(null, i);
    }

    @Override
    public void writeFloats(HostTransformerKernels.Buf dst, float[] data, int n) {
        System.arraycopy(data, 0, dst.f, 0, n);
    }

    @Override
    public void writeInts(HostTransformerKernels.Buf dst, int[] data, int n) {
        System.arraycopy(data, 0, dst.i, 0, n);
    }

    @Override
    public int[] readInts(HostTransformerKernels.Buf src, int n) {
        return Arrays.copyOf(src.i, n);
    }

    @Override
    public void free(HostTransformerKernels.Buf buffer) {
    }

    @Override
    public void copy(HostTransformerKernels.Buf src, HostTransformerKernels.Buf dst, long n) {
        System.arraycopy(src.f, 0, dst.f, 0, (int) n);
    }

    @Override
    public void window(HostTransformerKernels.Buf tails, HostTransformerKernels.Buf x, HostTransformerKernels.Buf window,
                       HostTransformerKernels.Buf slots, int rows, int channels, int tailCap, int tailLen, int nIn, int prefix,
                       PadMode padMode) {
        int winLen = prefix + tailLen + nIn;
        for (int g = 0; g < rows; g++) {
            for (int c = 0; c < channels; c++) {
                for (int j = 0; j < winLen; j++) {
                    int e = (g * channels + c) * winLen + j;
                    int i;
                    if (j < prefix) {
                        if (padMode == PadMode.CONSTANT) {
                            window.f[e] = 0f;
                            continue;
                        }
                        i = padMode == PadMode.REFLECT ? prefix - j : 0;
                    } else {
                        i = j - prefix;
                    }
                    int tailRow = (slots.i[g] * channels + c) * tailCap;
                    window.f[e] = i < tailLen ? tails.f[tailRow + i] : x.f[(g * channels + c) * nIn + (i - tailLen)];
                }
            }
        }
    }

    @Override
    public void keep(HostTransformerKernels.Buf window, HostTransformerKernels.Buf tails, HostTransformerKernels.Buf slots, int rows,
                     int channels, int tailCap, int winLen, int keepFrom, int keepLen) {
        for (int g = 0; g < rows; g++) {
            for (int c = 0; c < channels; c++) {
                System.arraycopy(window.f, (g * channels + c) * winLen + keepFrom, tails.f, (slots.i[g] * channels + c) * tailCap,
                        keepLen);
            }
        }
    }

    @Override
    public void conv(CudaSeanet.ConvOp cv, HostTransformerKernels.Buf x, int len, HostTransformerKernels.Buf y, int nOut,
                     HostTransformerKernels.Buf residual, int rows) {
        Conv1dLayer L = cv.layer;
        int cin = L.inChannels();
        int cout = L.outChannels();
        for (int g = 0; g < rows; g++) {
            float[][] in = new float[cin][len];
            for (int c = 0; c < cin; c++) {
                System.arraycopy(x.f, (g * cin + c) * len, in[c], 0, len);
            }
            if (cv.elu) {
                in = CpuOps.elu(in, cv.alpha);
            }
            float[][] out = CpuOps.conv1d(cpu, in, L.weight(), L.bias(), cout, L.kernel(), L.stride(), L.dilation(), L.groups());
            if (out[0].length != nOut) {
                throw new IllegalStateException("conv " + cv.sid + ": " + out[0].length + " outputs, schedule says " + nOut);
            }
            for (int c = 0; c < cout; c++) {
                for (int t = 0; t < nOut; t++) {
                    int e = (g * cout + c) * nOut + t;
                    y.f[e] = residual == null ? out[c][t] : residual.f[e] + out[c][t];
                }
            }
        }
    }

    @Override
    public int quantizerScratchPerFrame() {
        return 1; // the host twin needs none
    }

    @Override
    public void quantize(HostTransformerKernels.Buf latent, HostTransformerKernels.Buf scratch, HostTransformerKernels.Buf codes,
                         int rows, int frames, int nq) {
        int d = latentDim;
        for (int g = 0; g < rows; g++) {
            float[][] x = new float[d][frames];
            boolean finite = true;
            for (int c = 0; c < d; c++) {
                System.arraycopy(latent.f, (g * d + c) * frames, x[c], 0, frames);
                for (float v : x[c]) {
                    finite &= Float.isFinite(v);
                }
            }
            // A padding row reads the scratch slot's never-written (NaN) state: its codes are garbage, -1 here.
            int[][] c = finite ? quantizer.encode(cpu, x, nq) : null;
            for (int q = 0; q < nq; q++) {
                for (int t = 0; t < frames; t++) {
                    codes.i[(g * nq + q) * frames + t] = c == null ? -1 : c[q][t];
                }
            }
        }
    }
}
