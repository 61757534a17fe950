package io.vocodex.backend.cuda;

import io.vocodex.VocodexException;
import io.vocodex.codec.mimi.MimiTransformer;
import jcuda.driver.JCudaDriver;

/**
 * A {@link MimiTransformer} on a CUDA device: its weights uploaded once, the layer stack of
 * {@link MimiTransformerPlan} run with {@code layer_norm_f32}, {@code conv1d_f32} (K = 1, the
 * projections and the feed-forward), {@code rope_f32}, the attention kernels, {@code gelu_f32} and
 * {@code scale_add_f32}. Batch mode ({@link #forward}) runs clips of equal length in one launch per
 * kernel; streaming ({@link #step}) runs one chunk of many streams over their KV rings (ring index and
 * position per stream as data), one launch per kernel for all of them.
 *
 * <p>{@link CudaAttention.Mode#EXACT} (default) is the parity mode: every kernel reproduces the CPU's
 * arithmetic except the device's double {@code exp}/{@code cos}/{@code sin}/{@code erf} pieces (rare
 * last-bit differences, see docs/cuda.md), so outputs equal {@code MimiTransformer}'s to a few ulps and
 * tokens are expected equal. {@link CudaAttention.Mode#ONLINE_SOFTMAX} uses the float32 flash kernel for
 * the batch attention (streaming stays exact).
 * <pre>{@code
 * try (CudaContext cuda = new CudaContext(0);
 *      CudaMimiTransformer t = new CudaMimiTransformer(cuda, model.encoderTransformerModule(), CudaAttention.Mode.EXACT)) {
 *     float[][] y = t.forward(x);                 // (D, T) -> (D', T), as MimiTransformer.forward
 *     CudaMimiTransformer.Stream s = t.newStream();
 *     float[][] y0 = s.step(chunk);               // as MimiTransformer.Stream.step
 * }
 * }</pre>
 * Not thread-safe; <b>status: compiled, never run on a GPU.</b>
 */
public final class CudaMimiTransformer implements AutoCloseable {
    private final CudaContext cuda;
    final MimiTransformerPlan<DeviceBuffer, CudaAttention.KvRings> plan;
    private boolean closed;

    public CudaMimiTransformer(CudaContext cuda, MimiTransformer model, CudaAttention.Mode mode) {
        this.cuda = cuda;
        this.plan = new MimiTransformerPlan<>(new DeviceKernels(cuda), model, mode == CudaAttention.Mode.ONLINE_SOFTMAX);
    }

    /** The device's kernels behind {@link TransformerKernels} (contiguous {@code (B, C, T)} blocks). */
    static final class DeviceKernels implements TransformerKernels<DeviceBuffer, CudaAttention.KvRings> {
        private final CudaContext cuda;
        private final CudaConv1d conv;
        private final CudaTransformerOps ops;
        private final CudaAttention attention;

        DeviceKernels(CudaContext cuda) {
            this.cuda = cuda;
            this.conv = new CudaConv1d(cuda);
            this.ops = new CudaTransformerOps(cuda);
            this.attention = new CudaAttention(cuda);
        }

        @Override
        public DeviceBuffer upload(float[] data) {
            return cuda.upload(data);
        }

        @Override
        public DeviceBuffer uploadInts(int[] data) {
            return cuda.upload(data);
        }

        @Override
        public DeviceBuffer allocate(long floats) {
            return cuda.allocate(4 * Math.max(1, floats));
        }

        @Override
        public void write(DeviceBuffer dst, int[] data) {
            dst.copyFrom(data);
        }

        @Override
        public void free(DeviceBuffer buffer) {
            buffer.close();
        }

        @Override
        public void copy(DeviceBuffer src, DeviceBuffer dst, long n) {
            JCudaDriver.cuMemcpyDtoDAsync(dst.pointer(), src.pointer(), 4 * n, cuda.stream().handle());
        }

        @Override
        public CudaAttention.KvRings newRings(int layers, int rings, int dim, int cap) {
            return attention.newRings(layers, rings, dim, cap);
        }

        @Override
        public void freeRings(CudaAttention.KvRings rings) {
            rings.close();
        }

        @Override
        public void layerNorm(DeviceBuffer x, DeviceBuffer y, DeviceBuffer weight, DeviceBuffer bias, int batch, int dim,
                              int tlen, double eps) {
            ops.layerNorm(cuda.stream(), x, (long) dim * tlen, tlen, y, (long) dim * tlen, tlen, weight, bias, batch, dim, tlen, eps);
        }

        @Override
        public void linear(DeviceBuffer x, DeviceBuffer w, DeviceBuffer y, int batch, int cin, int cout, int tlen) {
            CudaConv1d.Layer layer = new CudaConv1d.Layer(cin, cout, 1, 1, 1, 1, w, null);
            conv.launch(cuda.stream(), Precision.FP32, layer, CudaConv1d.Padding.none(tlen, 1, 1), batch,
                    x, (long) cin * tlen, tlen, y, (long) cout * tlen, tlen, null, false, 0f);
        }

        @Override
        public void rope(DeviceBuffer qkv, int dim, int col0, int heads, int headDim, DeviceBuffer freqs,
                         DeviceBuffer firstPositions, int batch, int tlen) {
            ops.rope(cuda.stream(), qkv, 3L * dim * tlen, tlen, col0, heads, headDim, freqs, firstPositions, batch, tlen);
        }

        @Override
        public void attention(DeviceBuffer qkv, DeviceBuffer out, int batch, int tlen, int dim, int heads, int context,
                              boolean onlineSoftmax) {
            attention.batch(cuda.stream(), onlineSoftmax ? CudaAttention.Mode.ONLINE_SOFTMAX : CudaAttention.Mode.EXACT,
                    qkv, 3L * dim * tlen, tlen, out, (long) dim * tlen, tlen, null, batch, tlen, dim, heads, context);
        }

        @Override
        public void ringWrite(DeviceBuffer qkv, CudaAttention.KvRings rings, int layer, DeviceBuffer ringIndex,
                              DeviceBuffer offsets, int streams, int n, int dim) {
            attention.ringWrite(cuda.stream(), qkv, 3L * dim * n, n, rings, layer, ringIndex, offsets, streams, n);
        }

        @Override
        public void ringAttend(DeviceBuffer qkv, CudaAttention.KvRings rings, int layer, DeviceBuffer ringIndex,
                               DeviceBuffer offsets, DeviceBuffer out, int streams, int n, int dim, int heads, int context) {
            attention.ringAttend(cuda.stream(), qkv, 3L * dim * n, n, rings, layer, ringIndex, offsets, out, (long) dim * n, n,
                    streams, n, heads, context);
        }

        @Override
        public void gelu(DeviceBuffer x, long n) {
            ops.gelu(cuda.stream(), x, n);
        }

        @Override
        public void scaleAdd(DeviceBuffer x, DeviceBuffer u, DeviceBuffer scale, int batch, int dim, int tlen) {
            ops.scaleAdd(cuda.stream(), x, u, (long) dim * tlen, tlen, scale, batch, dim, tlen);
        }
    }

    /** Scratch for {@link #forward(MimiTransformerPlan.Workspace, DeviceBuffer, DeviceBuffer, int, int)}. */
    MimiTransformerPlan<DeviceBuffer, CudaAttention.KvRings>.Workspace newWorkspace(int batch, int tlen) {
        check();
        return plan.newWorkspace(batch, tlen);
    }

    /** Device batch forward: {@code y (batch, outDim, tlen)} from {@code x (batch, inDim, tlen)}, on the context's stream. */
    void forward(MimiTransformerPlan<DeviceBuffer, CudaAttention.KvRings>.Workspace ws, DeviceBuffer x, DeviceBuffer y,
                 int batch, int tlen) {
        check();
        plan.forward(ws, x, y, batch, tlen);
    }

    /** Device streaming step of {@code streams} streams (see {@link MimiTransformerPlan#step}). */
    void step(MimiTransformerPlan<DeviceBuffer, CudaAttention.KvRings>.Workspace ws, DeviceBuffer x, DeviceBuffer y,
              int streams, int n, CudaAttention.KvRings rings, DeviceBuffer ringIndex, DeviceBuffer offsets) {
        check();
        plan.step(ws, x, y, streams, n, rings, ringIndex, offsets);
    }

    /** {@code MimiTransformer.forward} of one clip {@code x [C][T]} on the device (uploads, runs, downloads). */
    public float[][] forward(float[][] x) {
        check();
        int t = x.length == 0 ? 0 : x[0].length;
        if (t == 0) {
            return new float[plan.outDim][0];
        }
        cuda.makeCurrent();
        try (var ws = plan.newWorkspace(1, t); DeviceBuffer in = cuda.upload(flatten(x, plan.inDim));
             DeviceBuffer out = cuda.allocate(4L * plan.outDim * t)) {
            plan.forward(ws, in, out, 1, t);
            return unflatten(out.download(cuda.stream(), plan.outDim * t), plan.outDim, t);
        }
    }

    /** A single stream with its own KV ring (tests; many streams share one launch through {@link #step}). */
    public Stream newStream() {
        check();
        return new Stream();
    }

    /** One stream: a ring of {@code context} columns per layer and the position offset, as {@code MimiTransformer.Stream}. */
    public final class Stream implements AutoCloseable {
        private final CudaAttention.KvRings rings = plan.newRings(1);
        private final DeviceBuffer ringIndex = cuda.upload(new int[] {0});
        private final DeviceBuffer offset = cuda.upload(new int[] {0});
        private int position;

        /** {@code x [C][n]} as ONE chunk of {@code n} positions. */
        public float[][] step(float[][] x) {
            check();
            int n = x.length == 0 ? 0 : x[0].length;
            if (n == 0) {
                return new float[plan.outDim][0];
            }
            cuda.makeCurrent();
            offset.copyFrom(new int[] {position});
            try (var ws = plan.newWorkspace(1, n); DeviceBuffer in = cuda.upload(flatten(x, plan.inDim));
                 DeviceBuffer out = cuda.allocate(4L * plan.outDim * n)) {
                plan.step(ws, in, out, 1, n, rings, ringIndex, offset);
                float[][] y = unflatten(out.download(cuda.stream(), plan.outDim * n), plan.outDim, n);
                position += n;
                return y;
            }
        }

        @Override
        public void close() {
            rings.close();
            ringIndex.close();
            offset.close();
        }
    }

    static float[] flatten(float[][] x, int channels) {
        if (x.length != channels) {
            throw new VocodexException("expected " + channels + " channels, got " + x.length);
        }
        int t = x[0].length;
        float[] f = new float[channels * t];
        for (int c = 0; c < channels; c++) {
            System.arraycopy(x[c], 0, f, c * t, t);
        }
        return f;
    }

    static float[][] unflatten(float[] f, int channels, int t) {
        float[][] y = new float[channels][t];
        for (int c = 0; c < channels; c++) {
            System.arraycopy(f, c * t, y[c], 0, t);
        }
        return y;
    }

    private void check() {
        if (closed) {
            throw new VocodexException("CUDA Mimi transformer is closed");
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            plan.close();
        }
    }
}
