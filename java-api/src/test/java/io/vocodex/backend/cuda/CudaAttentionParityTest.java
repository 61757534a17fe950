package io.vocodex.backend.cuda;

import io.vocodex.backend.cpu.ChannelMajorAttention;
import io.vocodex.backend.cpu.CpuContext;
import io.vocodex.backend.cpu.OnlineSoftmaxAttention;
import io.vocodex.backend.cpu.TransformerOps;
import io.vocodex.testing.Compare;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The kernels of {@code attention.cu} and {@code transformer.cu} against their CPU twins on random inputs,
 * over shapes with partial tiles (T not a multiple of 32, per-clip lengths, head dims 6/8/64), contexts
 * shorter and longer than the sequence, and rings that wrap. Tolerances:
 * <ul>
 *   <li>{@code attention_flash_f32} vs {@code OnlineSoftmaxAttention}, {@code kv_ring_write_f32} vs
 *       {@code ChannelMajorAttention.ringWrite}, {@code layer_norm_f32} and {@code scale_add_f32} vs
 *       {@code TransformerOps}: bit-identical (same operations, each explicitly rounded; the flash
 *       kernel's exp is a float polynomial both sides evaluate identically);</li>
 *   <li>{@code attention_f32}/{@code attention_ring_f32} vs {@code ChannelMajorAttention} (i.e.
 *       {@code TransformerOps.attention}), {@code rope_f32}, {@code gelu_f32}: expected bit-identical,
 *       asserted within {@code 1e-6} of the largest magnitude (1 ulp-scale): the device's double
 *       {@code exp}/{@code cos}/{@code sin} may differ from Java's in the last bit of a double; the count of
 *       non-identical elements is printed.</li>
 * </ul>
 * Skips with one line when no usable CUDA device is present. Never run on a GPU yet.
 */
@Tag("cuda")
@ExtendWith(RequiresGpu.class)
class CudaAttentionParityTest {
    private static final CpuContext CPU = CpuContext.singleThreaded();
    private static CudaContext cuda;

    @BeforeAll
    static void open() {
        cuda = new CudaContext(0);
    }

    @AfterAll
    static void close() {
        if (cuda != null) {
            cuda.close();
        }
    }

    static float[] rand(Random r, int n, double scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (scale * r.nextGaussian());
        }
        return a;
    }

    static void exact(String what, float[] expected, float[] actual) {
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToIntBits(expected[i]) != Float.floatToIntBits(actual[i])) {
                Compare.maxAbs(what + " (not bit-identical at " + i + ")", expected, actual, 0);
                fail(what + ": not bit-identical at " + i + ": " + expected[i] + " vs " + actual[i]);
            }
        }
    }

    /** Max |diff| ≤ tol · max|expected|; prints how many elements are not bit-identical. */
    static void nearlyExact(String what, float[] expected, float[] actual, double tol) {
        double scale = 0;
        int differ = 0;
        for (int i = 0; i < expected.length; i++) {
            scale = Math.max(scale, Math.abs(expected[i]));
            if (Float.floatToIntBits(expected[i]) != Float.floatToIntBits(actual[i])) {
                differ++;
            }
        }
        System.out.println("[cuda] " + what + ": " + differ + " of " + expected.length + " elements not bit-identical");
        Compare.maxAbs(what, expected, actual, tol * Math.max(scale, 1e-30));
    }

    @Test
    void batchAttentionBothModes() {
        Random r = new Random(21);
        CudaStream s = cuda.stream();
        CudaAttention att = new CudaAttention(cuda);
        int t = 71;
        int[][] shapes = {{16, 2}, {24, 4}, {512, 8}};
        for (int[] shape : shapes) {
            int dim = shape[0];
            int heads = shape[1];
            for (int context : new int[] {1, 8, 33, 250}) {
                int batch = 3;
                int[] lens = {t, 40, 1};
                float[] qkv = rand(r, batch * 3 * dim * t, 1.5);
                float[] sentinel = new float[batch * dim * t];
                Arrays.fill(sentinel, -7f);
                String what = "dim " + dim + " heads " + heads + " context " + context;
                float[] cpuExact = sentinel.clone();
                ChannelMajorAttention.batchAttend(CPU, qkv, 3 * dim * t, t, cpuExact, dim * t, t, lens, batch, t, dim, heads,
                        context);
                float[] cpuOnline = sentinel.clone();
                OnlineSoftmaxAttention.attend(qkv, 3 * dim * t, t, cpuOnline, dim * t, t, lens, batch, t, dim, heads, context);
                try (DeviceBuffer dq = cuda.upload(qkv); DeviceBuffer dl = cuda.upload(lens);
                     DeviceBuffer out = cuda.upload(sentinel)) {
                    att.batch(s, CudaAttention.Mode.EXACT, dq, 3L * dim * t, t, out, (long) dim * t, t, dl, batch, t, dim,
                            heads, context);
                    nearlyExact("attention_f32 " + what, cpuExact, out.download(s, sentinel.length), 1e-6);
                    out.copyFrom(sentinel);
                    att.batch(s, CudaAttention.Mode.ONLINE_SOFTMAX, dq, 3L * dim * t, t, out, (long) dim * t, t, dl, batch, t,
                            dim, heads, context);
                    exact("attention_flash_f32 " + what, cpuOnline, out.download(s, sentinel.length));
                }
            }
        }
    }

    @Test
    void ringWriteAndRingAttentionOverWrappingRings() {
        Random r = new Random(22);
        CudaStream s = cuda.stream();
        CudaAttention att = new CudaAttention(cuda);
        int dim = 64;
        int heads = 4;
        int layers = 2;
        int rings = 5;
        int[] ringIndex = {3, 0, 4};
        int streams = ringIndex.length;
        for (int[] capContext : new int[][] {{6, 6}, {8, 5}, {4, 9}}) {
            int cap = capContext[0];
            int context = capContext[1];
            float[] ringK = new float[rings * dim * cap];
            float[] ringV = new float[rings * dim * cap];
            int[] offsets = {0, 0, 0};
            try (CudaAttention.KvRings dr = att.newRings(layers, rings, dim, cap);
                 DeviceBuffer dIdx = cuda.upload(ringIndex); DeviceBuffer dOff = cuda.allocate(4L * streams)) {
                for (int step = 0; step < 14; step++) {
                    int n = step == 9 ? cap + 2 : 1 + r.nextInt(2); // one chunk longer than the ring
                    float[] qkv = rand(r, streams * 3 * dim * n, 1.5);
                    ChannelMajorAttention.ringWrite(qkv, 3 * dim * n, n, ringK, ringV, dim * cap, cap, ringIndex, offsets,
                            streams, n, dim);
                    float[] cpuOut = new float[streams * dim * n];
                    ChannelMajorAttention.ringAttend(CPU, qkv, 3 * dim * n, n, ringK, ringV, dim * cap, cap, ringIndex, offsets,
                            cpuOut, dim * n, n, streams, n, dim, heads, context);
                    dOff.copyFrom(offsets);
                    try (DeviceBuffer dq = cuda.upload(qkv); DeviceBuffer out = cuda.allocate(4L * cpuOut.length)) {
                        att.ringWrite(s, dq, 3L * dim * n, n, dr, 1, dIdx, dOff, streams, n);
                        att.ringAttend(s, dq, 3L * dim * n, n, dr, 1, dIdx, dOff, out, (long) dim * n, n, streams, n, heads,
                                context);
                        String what = "cap " + cap + " context " + context + " step " + step;
                        for (int ring : ringIndex) {
                            exact("kv_ring_write_f32 keys " + what, Arrays.copyOfRange(ringK, ring * dim * cap, (ring + 1) * dim * cap),
                                    dr.downloadKeys(s, 1, ring));
                        }
                        float[] got = out.download(s, cpuOut.length);
                        for (int i = 0; i < got.length; i++) { // NaN where a query's own key was overwritten (n > cap)
                            if (Float.isNaN(cpuOut[i]) != Float.isNaN(got[i])) {
                                fail("attention_ring_f32 " + what + ": NaN mismatch at " + i);
                            }
                            if (Float.isNaN(got[i])) {
                                got[i] = 0f;
                                cpuOut[i] = 0f;
                            }
                        }
                        nearlyExact("attention_ring_f32 " + what, cpuOut, got, 1e-6);
                    }
                    for (int i = 0; i < streams; i++) {
                        offsets[i] += n;
                    }
                }
            }
        }
    }

    @Test
    void transformerElementKernels() {
        Random r = new Random(23);
        CudaStream s = cuda.stream();
        CudaTransformerOps ops = new CudaTransformerOps(cuda);
        int batch = 3;
        int dim = 48;
        int t = 37;
        int stride = 40; // columns per row in the buffer (t used)
        float[] x = rand(r, batch * dim * stride, 2.0);
        for (int i = 0; i < dim * stride; i++) {
            x[i] += 50f; // a large mean in clip 0
        }
        float[] w = rand(r, dim, 1.0);
        float[] bias = rand(r, dim, 0.1);
        float[] scale = rand(r, dim, 0.2);
        float[] u = rand(r, batch * dim * stride, 1.0);
        int heads = 6;
        int hd = 8;
        int[] first = {0, 17, 123_456};
        float[] freqs = TransformerOps.ropeFrequencies(hd, 10_000);
        try (DeviceBuffer dx = cuda.upload(x); DeviceBuffer dy = cuda.allocate(4L * x.length);
             DeviceBuffer dw = cuda.upload(w); DeviceBuffer db = cuda.upload(bias); DeviceBuffer ds = cuda.upload(scale);
             DeviceBuffer du = cuda.upload(u); DeviceBuffer df = cuda.upload(freqs); DeviceBuffer dp = cuda.upload(first)) {
            ops.layerNorm(s, dx, (long) dim * stride, stride, dy, (long) dim * stride, stride, dw, db, batch, dim, t, 1e-5);
            float[] y = dy.download(s, x.length);
            for (int b = 0; b < batch; b++) {
                float[][] rows = timeMajor(x, b * dim * stride, stride, dim, t);
                float[][] ref = TransformerOps.layerNorm(rows, w, bias, 1e-5);
                exact("layer_norm_f32 clip " + b, io.vocodex.testing.Compare.flatten(ref),
                        io.vocodex.testing.Compare.flatten(timeMajor(y, b * dim * stride, stride, dim, t)));
            }

            ops.scaleAdd(s, dx, du, (long) dim * stride, stride, ds, batch, dim, t);
            float[] got = dx.download(s, x.length);
            for (int b = 0; b < batch; b++) {
                float[][] rows = timeMajor(x, b * dim * stride, stride, dim, t);
                TransformerOps.addScaledInPlace(rows, scale, timeMajor(u, b * dim * stride, stride, dim, t));
                exact("scale_add_f32 clip " + b, io.vocodex.testing.Compare.flatten(rows),
                        io.vocodex.testing.Compare.flatten(timeMajor(got, b * dim * stride, stride, dim, t)));
            }

            dx.copyFrom(x);
            ops.rope(s, dx, (long) dim * stride, stride, 0, heads, hd, df, dp, batch, t);
            got = dx.download(s, x.length);
            for (int b = 0; b < batch; b++) {
                float[][] rows = timeMajor(x, b * dim * stride, stride, dim, t);
                TransformerOps.ropeInPlace(rows, 0, heads, hd, first[b], 10_000);
                nearlyExact("rope_f32 clip " + b, io.vocodex.testing.Compare.flatten(rows),
                        io.vocodex.testing.Compare.flatten(timeMajor(got, b * dim * stride, stride, dim, t)), 1e-6);
            }

            float[] g = rand(r, 100_000, 3.0);
            g[0] = 0f;
            g[1] = -0f;
            g[2] = 40f;
            g[3] = -40f;
            try (DeviceBuffer dg = cuda.upload(g)) {
                ops.gelu(s, dg, g.length);
                float[][] ref = {g.clone()};
                TransformerOps.geluInPlace(ref);
                nearlyExact("gelu_f32", ref[0], dg.download(s, g.length), 1e-6);
            }
        }
    }

    static float[][] timeMajor(float[] x, int offset, int rowStride, int channels, int len) {
        float[][] rows = new float[len][channels];
        for (int c = 0; c < channels; c++) {
            for (int i = 0; i < len; i++) {
                rows[i][c] = x[offset + c * rowStride + i];
            }
        }
        return rows;
    }
}
