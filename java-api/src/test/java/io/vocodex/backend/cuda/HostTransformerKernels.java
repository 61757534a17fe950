package io.vocodex.backend.cuda;

import io.vocodex.backend.cpu.ChannelMajorAttention;
import io.vocodex.backend.cpu.CpuContext;
import io.vocodex.backend.cpu.CpuOps;
import io.vocodex.backend.cpu.OnlineSoftmaxAttention;
import io.vocodex.backend.cpu.TransformerOps;

/**
 * The CPU twins of the device kernels behind {@link TransformerKernels}, on host arrays with the device's
 * contiguous {@code (B, C, T)} layout: {@code CpuOps.conv1d} (K = 1) for {@code conv1d_f32}, the
 * {@code TransformerOps} functions for {@code layer_norm_f32}/{@code rope_f32}/{@code gelu_f32}/
 * {@code scale_add_f32}, {@code ChannelMajorAttention}/{@code OnlineSoftmaxAttention} for the attention
 * kernels. Lets {@link MimiTransformerPlan} run without a GPU.
 */
final class HostTransformerKernels implements TransformerKernels<HostTransformerKernels.Buf, HostTransformerKernels.Rings> {
    /** A host "device buffer": floats or ints. */
    static final class Buf {
        final float[] f;
        final int[] i;

        Buf(float[] f, int[] i) {
            this.f = f;
            this.i = i;
        }
    }

    /** Per layer, keys and values of every ring: {@code (rings, dim, cap)}. */
    record Rings(float[][] keys, float[][] values, int dim, int cap) {
    }

    private final CpuContext cpu;

    HostTransformerKernels(CpuContext cpu) {
        this.cpu = cpu;
    }

    @Override
    public Buf upload(float[] data) {
        return new Buf(data.clone(), null);
    }

    @Override
    public Buf uploadInts(int[] data) {
        return new Buf(null, data.clone());
    }

    @Override
    public Buf allocate(long floats) {
        // NaN-filled, so a read of a column that the schedule never wrote shows up in the outputs
        float[] f = new float[(int) Math.max(1, floats)];
        java.util.Arrays.fill(f, Float.NaN);
        return new Buf(f, null);
    }

    @Override
    public void write(Buf dst, int[] data) {
        System.arraycopy(data, 0, dst.i, 0, data.length);
    }

    @Override
    public void free(Buf buffer) {
    }

    @Override
    public void copy(Buf src, Buf dst, long n) {
        System.arraycopy(src.f, 0, dst.f, 0, (int) n);
    }

    @Override
    public Rings newRings(int layers, int rings, int dim, int cap) {
        float[][] k = new float[layers][rings * dim * cap];
        float[][] v = new float[layers][rings * dim * cap];
        for (int l = 0; l < layers; l++) {
            java.util.Arrays.fill(k[l], Float.NaN);
            java.util.Arrays.fill(v[l], Float.NaN);
        }
        return new Rings(k, v, dim, cap);
    }

    @Override
    public void freeRings(Rings rings) {
    }

    /** Clip {@code b} of a {@code (B, C, T)} block as time-major rows {@code [T][C]}. */
    static float[][] rows(float[] x, int b, int channels, int tlen) {
        float[][] r = new float[tlen][channels];
        for (int c = 0; c < channels; c++) {
            for (int t = 0; t < tlen; t++) {
                r[t][c] = x[(b * channels + c) * tlen + t];
            }
        }
        return r;
    }

    static void store(float[][] rows, float[] x, int b, int channels, int tlen) {
        for (int c = 0; c < channels; c++) {
            for (int t = 0; t < tlen; t++) {
                x[(b * channels + c) * tlen + t] = rows[t][c];
            }
        }
    }

    @Override
    public void layerNorm(Buf x, Buf y, Buf weight, Buf bias, int batch, int dim, int tlen, double eps) {
        for (int b = 0; b < batch; b++) {
            store(TransformerOps.layerNorm(rows(x.f, b, dim, tlen), weight.f, bias.f, eps), y.f, b, dim, tlen);
        }
    }

    @Override
    public void linear(Buf x, Buf w, Buf y, int batch, int cin, int cout, int tlen) {
        for (int b = 0; b < batch; b++) {
            float[][] xb = new float[cin][tlen];
            for (int c = 0; c < cin; c++) {
                System.arraycopy(x.f, (b * cin + c) * tlen, xb[c], 0, tlen);
            }
            float[][] yb = CpuOps.conv1d(cpu, xb, w.f, null, cout, 1, 1, 1, 1);
            for (int c = 0; c < cout; c++) {
                System.arraycopy(yb[c], 0, y.f, (b * cout + c) * tlen, tlen);
            }
        }
    }

    @Override
    public void rope(Buf qkv, int dim, int col0, int heads, int headDim, Buf freqs, Buf firstPositions, int batch, int tlen) {
        for (int b = 0; b < batch; b++) {
            float[][] r = rows(qkv.f, b, 3 * dim, tlen);
            long first = firstPositions == null ? 0 : firstPositions.i[b];
            ropeWithTable(r, col0, heads, headDim, first, freqs.f);
            store(r, qkv.f, b, 3 * dim, tlen);
        }
    }

    /** {@code TransformerOps.ropeInPlace}'s arithmetic with a given frequency table (what {@code rope_f32} reads). */
    static void ropeWithTable(float[][] x, int col0, int heads, int headDim, long firstPosition, float[] freqs) {
        int half = headDim / 2;
        for (int t = 0; t < x.length; t++) {
            float pos = (float) (firstPosition + t);
            float[] r = x[t];
            for (int i = 0; i < half; i++) {
                float angle = freqs[i] * pos;
                float cos = (float) Math.cos(angle);
                float sin = (float) Math.sin(angle);
                for (int h = 0; h < heads; h++) {
                    int c = col0 + h * headDim + 2 * i;
                    float re = r[c];
                    float im = r[c + 1];
                    r[c] = re * cos - im * sin;
                    r[c + 1] = re * sin + im * cos;
                }
            }
        }
    }

    @Override
    public void attention(Buf qkv, Buf out, int batch, int tlen, int dim, int heads, int context, boolean onlineSoftmax) {
        if (onlineSoftmax) {
            OnlineSoftmaxAttention.attend(qkv.f, 3 * dim * tlen, tlen, out.f, dim * tlen, tlen, null, batch, tlen, dim, heads,
                    context);
        } else {
            ChannelMajorAttention.batchAttend(cpu, qkv.f, 3 * dim * tlen, tlen, out.f, dim * tlen, tlen, null, batch, tlen, dim,
                    heads, context);
        }
    }

    @Override
    public void ringWrite(Buf qkv, Rings rings, int layer, Buf ringIndex, Buf offsets, int streams, int n, int dim) {
        ChannelMajorAttention.ringWrite(qkv.f, 3 * dim * n, n, rings.keys()[layer], rings.values()[layer], dim * rings.cap(),
                rings.cap(), ringIndex.i, offsets.i, streams, n, dim);
    }

    @Override
    public void ringAttend(Buf qkv, Rings rings, int layer, Buf ringIndex, Buf offsets, Buf out, int streams, int n, int dim,
                           int heads, int context) {
        ChannelMajorAttention.ringAttend(cpu, qkv.f, 3 * dim * n, n, rings.keys()[layer], rings.values()[layer],
                dim * rings.cap(), rings.cap(), ringIndex.i, offsets.i, out.f, dim * n, n, streams, n, dim, heads, context);
    }

    @Override
    public void gelu(Buf x, long n) {
        float[][] one = new float[][] {java.util.Arrays.copyOf(x.f, (int) n)};
        TransformerOps.geluInPlace(one);
        System.arraycopy(one[0], 0, x.f, 0, (int) n);
    }

    @Override
    public void scaleAdd(Buf x, Buf u, Buf scale, int batch, int dim, int tlen) {
        for (int b = 0; b < batch; b++) {
            float[][] xr = rows(x.f, b, dim, tlen);
            TransformerOps.addScaledInPlace(xr, scale == null ? null : scale.f, rows(u.f, b, dim, tlen));
            store(xr, x.f, b, dim, tlen);
        }
    }
}
