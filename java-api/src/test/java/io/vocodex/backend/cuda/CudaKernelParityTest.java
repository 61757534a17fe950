package io.vocodex.backend.cuda;

import io.vocodex.backend.cpu.CpuContext;
import io.vocodex.backend.cpu.CpuOps;
import io.vocodex.nn.PadMode;
import io.vocodex.testing.Compare;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every CUDA kernel against its CPU twin in {@link CpuOps} on random inputs, over shapes that leave
 * partial tiles and over several launch configurations. Tolerances:
 * <ul>
 *   <li>conv1d_f32 (also with the fused ELU and residual add), conv_transpose1d_f32, elu_f32, add_f32,
 *       rvq_nearest_f32 (codes and residual), rvq_decode_f32: bit-identical (same fma order, explicit
 *       rounding; ELU is CpuOps' float polynomial expm1 ported operation for operation);</li>
 *   <li>lstm (2 layers + skip, 40 steps): max |diff| ≤ 1e-5 (the same holds for sigmoid/tanh);</li>
 *   <li>conv1d_tf32: per element {@code |gpu - cpu| ≤ 2e-3 · Σ|w||x| + 1e-6}: tf32 rounds each input to
 *       11 significant bits (relative 2^-11 each, so ~2^-10 per product), accumulation in fp32.</li>
 * </ul>
 * Skips with one line when no usable CUDA device is present.
 */
@Tag("cuda")
@ExtendWith(RequiresGpu.class)
class CudaKernelParityTest {
    private static CudaContext cuda;
    private static final CpuContext CPU = CpuContext.singleThreaded();

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

    // ---- helpers ------------------------------------------------------------------------------

    static float[] rand(Random r, int n, float scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (r.nextGaussian() * scale);
        }
        return a;
    }

    static float[][] rows(float[] flat, int offset, int c, int t) {
        float[][] x = new float[c][t];
        for (int i = 0; i < c; i++) {
            System.arraycopy(flat, offset + i * t, x[i], 0, t);
        }
        return x;
    }

    static void exact(String what, float[] expected, float[] actual) {
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToIntBits(expected[i]) != Float.floatToIntBits(actual[i])) {
                Compare.maxAbs(what + " (not bit-identical at " + i + ")", expected, actual, 0);
                fail(what + ": bits differ at " + i + ": expected " + expected[i] + ", got " + actual[i]);
            }
        }
    }

    // ---- conv1d -------------------------------------------------------------------------------

    /** cin, cout, K, stride, dilation, groups, len, batch, causal, pad mode, elu, residual. */
    private static final Object[][] CONV_CASES = {
            {1, 32, 7, 1, 1, 1, 1000, 2, true, PadMode.REFLECT, false, false},   // EnCodec first conv
            {32, 16, 3, 1, 3, 1, 517, 3, true, PadMode.REFLECT, true, false},    // residual block conv k3 d3, ELU fused
            {16, 32, 1, 1, 1, 1, 517, 3, true, PadMode.REFLECT, true, true},     // conv k1 + fused shortcut add
            {32, 64, 4, 2, 1, 1, 301, 2, true, PadMode.REFLECT, true, false},    // downsampling conv
            {64, 128, 16, 8, 1, 1, 255, 1, true, PadMode.REFLECT, true, false},  // ratio 8
            {12, 20, 5, 3, 2, 4, 97, 2, false, PadMode.REPLICATE, false, true},  // groups, non-causal
            {5, 7, 7, 1, 1, 1, 3, 2, true, PadMode.REFLECT, false, false},       // input shorter than the padding
            {8, 130, 3, 1, 1, 2, 70, 1, false, PadMode.CONSTANT, true, false},   // partial channel tiles
    };

    @Test
    void conv1dFp32IsBitIdentical() {
        runConv(Precision.FP32);
    }

    @Test
    void conv1dTf32WithinTolerance() {
        runConv(Precision.TF32);
    }

    private void runConv(Precision precision) {
        Random r = new Random(7);
        CudaConv1d conv = new CudaConv1d(cuda);
        for (Object[] c : CONV_CASES) {
            int cin = (int) c[0], cout = (int) c[1], k = (int) c[2], stride = (int) c[3], dil = (int) c[4], groups = (int) c[5];
            int len = (int) c[6], batch = (int) c[7];
            boolean causal = (boolean) c[8];
            PadMode mode = (PadMode) c[9];
            boolean elu = (boolean) c[10], residual = (boolean) c[11];
            String name = String.format("conv1d_%s cin=%d cout=%d k=%d s=%d d=%d g=%d len=%d b=%d %s%s%s", precision, cin,
                    cout, k, stride, dil, groups, len, batch, mode, elu ? " +elu" : "", residual ? " +res" : "");
            float[] w = rand(r, cout * (cin / groups) * k, 0.3f);
            float[] bias = rand(r, cout, 0.1f);
            float[] x = rand(r, batch * cin * len, 1f);
            CudaConv1d.Padding pad = CudaConv1d.Padding.encodec(len, k, stride, dil, causal, mode);
            int tout = pad.tout();
            float[] res = rand(r, batch * cout * tout, 1f);
            float[] expected = new float[batch * cout * tout];
            float[] bound = new float[expected.length];
            float[] absW = w.clone();
            for (int i = 0; i < absW.length; i++) {
                absW[i] = Math.abs(absW[i]);
            }
            for (int b = 0; b < batch; b++) {
                float[][] xb = rows(x, b * cin * len, cin, len);
                float[][] xe = elu ? CpuOps.elu(xb, 1f) : xb;
                float[][] padded = mode.pad(xe, pad.left(), pad.right());
                float[][] y = CpuOps.conv1d(CPU, padded, w, bias, cout, k, stride, dil, groups);
                if (residual) {
                    y = CpuOps.add(rows(res, b * cout * tout, cout, tout), y);
                }
                System.arraycopy(Compare.flatten(y), 0, expected, b * cout * tout, cout * tout);
                float[][] absPadded = CpuOps.copy(padded);
                for (float[] row : absPadded) {
                    for (int i = 0; i < row.length; i++) {
                        row[i] = Math.abs(row[i]);
                    }
                }
                float[][] ab = CpuOps.conv1d(CPU, absPadded, absW, null, cout, k, stride, dil, groups);
                System.arraycopy(Compare.flatten(ab), 0, bound, b * cout * tout, cout * tout);
            }
            try (DeviceBuffer dx = cuda.upload(x); DeviceBuffer dw = cuda.upload(w); DeviceBuffer db = cuda.upload(bias);
                 DeviceBuffer dy = cuda.upload(residual ? res : new float[expected.length])) {
                CudaConv1d.Layer layer = new CudaConv1d.Layer(cin, cout, k, stride, dil, groups, dw, db);
                conv.launch(cuda.stream(), precision, layer, pad, batch, dx, (long) cin * len, len,
                        dy, (long) cout * tout, tout, residual ? dy : null, elu, 1f);
                float[] got = dy.download(cuda.stream(), expected.length);
                if (precision == Precision.TF32) {
                    for (int i = 0; i < got.length; i++) {
                        double tol = 2e-3 * bound[i] + 1e-6 + (residual ? Math.ulp(res[i]) : 0);
                        if (!(Math.abs(got[i] - expected[i]) <= tol)) {
                            fail(name + ": |diff| " + Math.abs(got[i] - expected[i]) + " > " + tol + " at " + i
                                    + " (expected " + expected[i] + ", got " + got[i] + ")");
                        }
                    }
                } else {
                    exact(name, expected, got);
                }
            }
        }
    }

    // ---- transposed conv -----------------------------------------------------------------------

    @Test
    void convTranspose1dIsBitIdentical() {
        Random r = new Random(11);
        CudaConvTranspose1d convT = new CudaConvTranspose1d(cuda);
        // cin, cout, K, stride, groups, tx, batch, qFrom, qTo offset
        int[][] cases = {
                {512, 256, 16, 8, 1, 9, 2, 0, 1},   // EnCodec decoder ratio 8 (full output)
                {64, 32, 8, 4, 1, 33, 3, 0, 1},
                {32, 16, 4, 2, 1, 70, 1, 1, 0},     // streaming-style window [m, m + n)
                {12, 9, 5, 3, 3, 17, 2, 0, 1},      // groups, K not a multiple of stride
                {6, 70, 2, 3, 1, 5, 2, 0, 1},       // K < stride: a phase with no taps
                {512, 512, 4, 2, 512, 37, 3, 0, 1}, // Mimi's depthwise upsample (groups = channels)
        };
        for (int[] c : cases) {
            int cin = c[0], cout = c[1], k = c[2], stride = c[3], groups = c[4], tx = c[5], batch = c[6];
            int taps = (k + stride - 1) / stride;
            int qFrom = c[7] == 0 ? 0 : taps - 1;
            int qTo = c[8] == 1 ? tx + taps - 1 : tx;
            int nq = qTo - qFrom;
            String name = String.format("conv_transpose1d_f32 cin=%d cout=%d k=%d s=%d g=%d tx=%d b=%d q=[%d,%d)", cin, cout,
                    k, stride, groups, tx, batch, qFrom, qTo);
            float[] w = rand(r, cin * (cout / groups) * k, 0.2f);
            float[] bias = rand(r, cout, 0.1f);
            float[] x = rand(r, batch * cin * tx, 1f);
            int outLen = nq * stride;
            float[] expected = new float[batch * cout * outLen];
            for (int b = 0; b < batch; b++) {
                float[][] y = CpuOps.convTranspose1dFrames(CPU, rows(x, b * cin * tx, cin, tx), w, bias, cout, k, stride,
                        groups, qFrom, qTo);
                System.arraycopy(Compare.flatten(y), 0, expected, b * cout * outLen, cout * outLen);
            }
            try (DeviceBuffer dx = cuda.upload(x); DeviceBuffer dw = cuda.upload(w); DeviceBuffer db = cuda.upload(bias);
                 DeviceBuffer dy = cuda.allocate(4L * expected.length)) {
                convT.launch(cuda.stream(), new CudaConvTranspose1d.Layer(cin, cout, k, stride, groups, dw, db), batch, tx,
                        qFrom, nq, dx, (long) cin * tx, tx, dy, (long) cout * outLen, outLen);
                exact(name, expected, dy.download(cuda.stream(), expected.length));
            }
        }
    }

    // ---- elementwise ---------------------------------------------------------------------------

    @Test
    void eluAndAddOverLaunchConfigs() {
        Random r = new Random(3);
        CudaElementwise ew = new CudaElementwise(cuda);
        int[][] configs = {{32, 1}, {128, 7}, {256, 65535}, {1024, 3}};
        for (int n : new int[] {1, 255, 4097, 100_003}) {
            float[] a = rand(r, n, 2f);
            float[] b = rand(r, n, 2f);
            float[] eluExp = Compare.flatten(CpuOps.elu(new float[][] {a}, 1f));
            float[] addExp = Compare.flatten(CpuOps.add(new float[][] {a}, new float[][] {b}));
            for (int[] cfg : configs) {
                try (DeviceBuffer da = cuda.upload(a); DeviceBuffer dbuf = cuda.upload(b); DeviceBuffer dy = cuda.allocate(4L * n)) {
                    ew.elu(cuda.stream(), da, dy, n, 1f, cfg[0], cfg[1]);
                    exact("elu_f32 n=" + n + " threads=" + cfg[0] + " maxBlocks=" + cfg[1], eluExp, dy.download(cuda.stream(), n));
                    ew.add(cuda.stream(), da, dbuf, dy, n, cfg[0], cfg[1]);
                    exact("add_f32 n=" + n + " threads=" + cfg[0], addExp, dy.download(cuda.stream(), n));
                }
            }
        }
    }

    /** ELU over edge values and a sweep of bit patterns covering [-inf, 0] and the positives: bit-identical. */
    @Test
    void eluIsBitIdenticalOverEdgesAndSweep() {
        float[] edges = {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, -1e-30f, -1e-7f, -0.5f, -0.34657359f, -1f, -10f,
                -86.9f, -87f, -87.5f, -100f, -1e30f, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, Float.NaN, 1f, 3.5f};
        int sweep = 1 << 20;
        float[] x = java.util.Arrays.copyOf(edges, edges.length + sweep);
        for (int i = 0; i < sweep; i++) {
            x[edges.length + i] = Float.intBitsToFloat((int) (i * 4099L)); // every 4099th pattern: both signs, all exponents
        }
        CudaElementwise ew = new CudaElementwise(cuda);
        for (float alpha : new float[] {1f, 0.7f}) {
            float[] expected = Compare.flatten(CpuOps.elu(new float[][] {x}, alpha));
            try (DeviceBuffer dx = cuda.upload(x); DeviceBuffer dy = cuda.allocate(4L * x.length)) {
                ew.elu(cuda.stream(), dx, dy, x.length, alpha);
                exact("elu_f32 sweep alpha=" + alpha, expected, dy.download(cuda.stream(), x.length));
            }
        }
    }

    @Test
    void cudaGraphReplaysCapturedLaunches() {
        Random r = new Random(5);
        int n = 1000;
        float[] a = rand(r, n, 1f);
        float[] b = rand(r, n, 1f);
        CudaElementwise ew = new CudaElementwise(cuda);
        try (CudaStream s = cuda.newStream(); DeviceBuffer da = cuda.upload(a); DeviceBuffer db = cuda.upload(b);
             DeviceBuffer dy = cuda.allocate(4L * n)) {
            try (CudaGraph g = CudaGraph.capture(s, () -> ew.add(s, da, db, dy, n))) {
                g.launch(s);
                exact("add_f32 via CUDA graph", Compare.flatten(CpuOps.add(new float[][] {a}, new float[][] {b})), dy.download(s, n));
            }
        }
    }

    // ---- LSTM ----------------------------------------------------------------------------------

    @Test
    void lstmMatchesCpu() {
        Random r = new Random(13);
        int dim = 48;
        int layers = 2;
        int steps = 40;
        int batch = 3;
        float[][] wih = new float[layers][], whh = new float[layers][], bih = new float[layers][], bhh = new float[layers][];
        for (int l = 0; l < layers; l++) {
            wih[l] = rand(r, 4 * dim * dim, 0.15f);
            whh[l] = rand(r, 4 * dim * dim, 0.15f);
            bih[l] = rand(r, 4 * dim, 0.1f);
            bhh[l] = rand(r, 4 * dim, 0.1f);
        }
        float[] x = rand(r, batch * dim * steps, 1f);
        float[] expected = new float[x.length];
        for (int b = 0; b < batch; b++) {
            float[][] xb = rows(x, b * dim * steps, dim, steps);
            float[][] y = xb;
            for (int l = 0; l < layers; l++) {
                y = CpuOps.lstmLayer(CPU, y, wih[l], whh[l], bih[l], bhh[l], new float[dim], new float[dim]);
            }
            y = CpuOps.add(y, xb);
            System.arraycopy(Compare.flatten(y), 0, expected, b * dim * steps, dim * steps);
        }
        try (CudaLstm lstm = new CudaLstm(cuda, dim, true, wih, whh, bih, bhh);
             CudaLstm.Workspace ws = lstm.newWorkspace(batch, steps);
             DeviceBuffer dx = cuda.upload(x); DeviceBuffer dy = cuda.allocate(4L * x.length)) {
            lstm.forward(cuda.stream(), Precision.FP32, ws, dx, dy, steps);
            Compare.maxAbs("lstm_step_f32 (2 layers, skip) H=" + dim + " T=" + steps + " B=" + batch, expected,
                    dy.download(cuda.stream(), x.length), 1e-5);
            // streaming: the same sequence in chunks of 17 + 23 steps continues the state
            ws.reset(cuda.stream());
            float[] got = new float[x.length];
            int[] chunks = {17, 23};
            int t0 = 0;
            for (int n : chunks) {
                float[] part = new float[batch * dim * n];
                for (int b = 0; b < batch; b++) {
                    for (int c = 0; c < dim; c++) {
                        System.arraycopy(x, (b * dim + c) * steps + t0, part, (b * dim + c) * n, n);
                    }
                }
                try (DeviceBuffer px = cuda.upload(part); DeviceBuffer py = cuda.allocate(4L * part.length)) {
                    lstm.forward(cuda.stream(), Precision.FP32, ws, px, py, n);
                    float[] yp = py.download(cuda.stream(), part.length);
                    for (int b = 0; b < batch; b++) {
                        for (int c = 0; c < dim; c++) {
                            System.arraycopy(yp, (b * dim + c) * n, got, (b * dim + c) * steps + t0, n);
                        }
                    }
                }
                t0 += n;
            }
            Compare.maxAbs("lstm chunked 17+23", expected, got, 1e-5);
        }
    }

    // ---- RVQ ----------------------------------------------------------------------------------

    @Test
    void rvqEncodeAndDecodeAreBitIdentical() {
        Random r = new Random(17);
        // dim, bins, nq, frames, batch
        int[][] cases = {{128, 1024, 4, 75, 2}, {32, 100, 3, 33, 3}, {7, 65, 2, 1, 1}};
        for (int[] c : cases) {
            int dim = c[0], bins = c[1], nq = c[2], frames = c[3], batch = c[4];
            String name = String.format("rvq dim=%d bins=%d nq=%d T=%d B=%d", dim, bins, nq, frames, batch);
            float[][] books = new float[nq][];
            for (int k = 0; k < nq; k++) {
                books[k] = rand(r, bins * dim, 1f);
                // exact duplicates of earlier codes: ties must go to the lowest index
                System.arraycopy(books[k], 0, books[k], (bins - 1) * dim, dim);
                System.arraycopy(books[k], dim, books[k], (bins / 2) * dim, dim);
            }
            float[] latent = rand(r, batch * dim * frames, 1f);
            // make some frames sit exactly on code 0 (which has a later duplicate)
            for (int d = 0; d < dim; d++) {
                latent[d * frames] = books[0][d];
            }
            int[] expCodes = new int[batch * nq * frames];
            float[] expResidual = new float[latent.length];
            for (int b = 0; b < batch; b++) {
                float[][] res = rows(latent, b * dim * frames, dim, frames);
                for (int k = 0; k < nq; k++) {
                    int[] idx = CpuOps.nearestCodes(CPU, res, books[k], CpuOps.rowSquaredNorms(books[k], bins, dim), bins);
                    System.arraycopy(idx, 0, expCodes, (b * nq + k) * frames, frames);
                    if (k + 1 < nq) {
                        for (int d = 0; d < dim; d++) {
                            for (int t = 0; t < frames; t++) {
                                res[d][t] = res[d][t] - books[k][idx[t] * dim + d];
                            }
                        }
                    }
                }
                System.arraycopy(Compare.flatten(res), 0, expResidual, b * dim * frames, dim * frames);
            }
            float[] expDecoded = new float[latent.length];
            for (int b = 0; b < batch; b++) {
                for (int d = 0; d < dim; d++) {
                    for (int t = 0; t < frames; t++) {
                        float acc = 0f;
                        for (int k = 0; k < nq; k++) {
                            acc = acc + books[k][expCodes[(b * nq + k) * frames + t] * dim + d];
                        }
                        expDecoded[(b * dim + d) * frames + t] = acc;
                    }
                }
            }
            try (CudaRvq rvq = new CudaRvq(cuda, dim, bins, books); DeviceBuffer dr = cuda.upload(latent);
                 DeviceBuffer dc = cuda.allocate(4L * expCodes.length); DeviceBuffer dout = cuda.allocate(4L * latent.length)) {
                rvq.encode(cuda.stream(), dr, dc, batch, frames, nq);
                int[] codes = dc.downloadInts(cuda.stream(), expCodes.length);
                assertArrayEquals(expCodes, codes, name + ": codes");
                exact(name + ": residual", expResidual, dr.download(cuda.stream(), latent.length));
                rvq.decode(cuda.stream(), dc, dout, batch, frames, nq);
                exact(name + ": decode", expDecoded, dout.download(cuda.stream(), latent.length));
            }
        }
    }
}
