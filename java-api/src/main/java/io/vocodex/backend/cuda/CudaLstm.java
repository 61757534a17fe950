package io.vocodex.backend.cuda;

import io.vocodex.VocodexException;
import jcuda.driver.JCudaDriver;

/**
 * Host side of {@code lstm.cu}: a stack of LSTM layers (EnCodec's {@code SLSTM}, PyTorch gate order
 * i, f, g, o) over {@code (B, H, T)} activations. Per layer the input projection of all steps is ONE
 * GEMM ({@code conv1d} with K = 1, no bias), then the recurrence is one {@code lstm_step_f32} launch
 * per step (the simple fallback for a persistent kernel, docs/cuda.md). In {@link Precision#FP32}
 * every fma chain matches {@code CpuOps.lstmLayer}; the sigmoid/tanh are the device's double-precision
 * functions, so rare last-bit differences from Java's are possible and propagate through the state.
 *
 * <p>Weights are uploaded once ({@code W_hh} transposed to {@code (H, 4H)} for coalesced reads,
 * {@code b_ih + b_hh} summed in float as the CPU does); the state and scratch live in a
 * {@link Workspace} sized when a stream or batch opens.
 */
public final class CudaLstm implements AutoCloseable {
    private static final int STEP_THREADS = 128; // VX_LSTM_THREADS

    private final CudaContext ctx;
    private final CudaConv1d conv;
    private final int dim;
    private final int layers;
    private final boolean skip;
    private final DeviceBuffer[] wih;
    private final DeviceBuffer[] whhT;
    private final DeviceBuffer[] biasSum;

    /** {@code wih[l], whh[l]}: {@code (4H, H)} row-major; biases {@code (4H)}. */
    public CudaLstm(CudaContext ctx, int dim, boolean skip, float[][] wih, float[][] whh, float[][] bih, float[][] bhh) {
        this.ctx = ctx;
        this.conv = new CudaConv1d(ctx);
        this.dim = dim;
        this.layers = wih.length;
        this.skip = skip;
        this.wih = new DeviceBuffer[layers];
        this.whhT = new DeviceBuffer[layers];
        this.biasSum = new DeviceBuffer[layers];
        int h4 = 4 * dim;
        for (int l = 0; l < layers; l++) {
            if (wih[l].length != h4 * dim || whh[l].length != h4 * dim || bih[l].length != h4 || bhh[l].length != h4) {
                throw new VocodexException("LSTM layer " + l + " weights do not match hidden size " + dim);
            }
            float[] t = new float[h4 * dim];
            for (int r = 0; r < h4; r++) {
                for (int i = 0; i < dim; i++) {
                    t[i * h4 + r] = whh[l][r * dim + i];
                }
            }
            float[] bs = new float[h4];
            for (int r = 0; r < h4; r++) {
                bs[r] = bih[l][r] + bhh[l][r];
            }
            this.wih[l] = ctx.upload(wih[l]);
            this.whhT[l] = ctx.upload(t);
            this.biasSum[l] = ctx.upload(bs);
        }
    }

    /** State {@code (h, c)} per layer and clip, plus scratch for up to {@code maxSteps} steps of {@code batch} clips. */
    public final class Workspace implements AutoCloseable {
        final int batch;
        final int maxSteps;
        final DeviceBuffer h;       // (layers, B, H)
        final DeviceBuffer hNext;   // (B, H)
        final DeviceBuffer c;       // (layers, B, H)
        final DeviceBuffer gx;      // (B, 4H, maxSteps)
        final DeviceBuffer between; // (B, H, maxSteps): output of every layer but the last

        Workspace(int batch, int maxSteps) {
            this.batch = batch;
            this.maxSteps = maxSteps;
            long bh = (long) batch * dim;
            h = ctx.allocate(4 * layers * bh);
            hNext = ctx.allocate(4 * bh);
            c = ctx.allocate(4 * layers * bh);
            gx = ctx.allocate(4 * 4 * bh * maxSteps);
            between = ctx.allocate(4 * bh * maxSteps);
            reset(ctx.stream());
        }

        /** Zeroes every clip's {@code (h, c)}, as a new stream starts. */
        public void reset(CudaStream s) {
            long n = (long) layers * batch * dim;
            h.fill(s, 0, n);
            c.fill(s, 0, n);
        }

        @Override
        public void close() {
            h.close();
            hNext.close();
            c.close();
            gx.close();
            between.close();
        }
    }

    public int dim() {
        return dim;
    }

    public int layers() {
        return layers;
    }

    public Workspace newWorkspace(int batch, int maxSteps) {
        return new Workspace(batch, maxSteps);
    }

    /**
     * {@code y = lstm(x) (+ x)} for {@code steps} steps of {@code (B, H, steps)} contiguous input,
     * continuing from and updating the workspace's state. {@code y} must not alias {@code x}.
     */
    public void forward(CudaStream s, Precision precision, Workspace ws, DeviceBuffer x, DeviceBuffer y, int steps) {
        forward(s, precision, ws, ws.batch, x, y, steps);
    }

    /**
     * {@link #forward} over the first {@code batch <= ws.batch} clips; the state of clip {@code b} of layer
     * {@code l} is at {@code (l * batch + b) * H} of {@link Workspace#h}/{@link Workspace#c}, so a caller that
     * gathers per-stream state into the workspace uses that layout.
     */
    public void forward(CudaStream s, Precision precision, Workspace ws, int batch, DeviceBuffer x, DeviceBuffer y, int steps) {
        if (steps > ws.maxSteps) {
            throw new VocodexException("LSTM chunk of " + steps + " steps exceeds the workspace's " + ws.maxSteps);
        }
        if (batch > ws.batch) {
            throw new VocodexException("LSTM batch " + batch + " exceeds the workspace's " + ws.batch);
        }
        if (steps == 0 || batch == 0) {
            return;
        }
        int b = batch;
        long bh = (long) b * dim;
        int h4 = 4 * dim;
        for (int l = 0; l < layers; l++) {
            DeviceBuffer in = l == 0 ? x : ws.between;
            DeviceBuffer out = l == layers - 1 ? y : ws.between; // gx is computed before out is written
            CudaConv1d.Layer proj = new CudaConv1d.Layer(dim, h4, 1, 1, 1, 1, wih[l], null);
            conv.launch(s, precision, proj, CudaConv1d.Padding.none(steps, 1, 1), b,
                    in, (long) dim * steps, steps, ws.gx, (long) h4 * steps, steps, null, false, 0f);
            long stateOff = l * bh;
            for (int t = 0; t < steps; t++) {
                boolean even = t % 2 == 0;
                Args a = new Args().buf(whhT[l]).buf(ws.gx).buf(biasSum[l])
                        .ptr(even ? ws.h.at(stateOff) : ws.hNext.at(0))
                        .ptr(even ? ws.hNext.at(0) : ws.h.at(stateOff))
                        .ptr(ws.c.at(stateOff)).buf(out).buf(skip && l == layers - 1 ? x : null)
                        .i32(b).i32(dim).i32(steps).i32(t);
                ctx.launch(Kernel.LSTM_STEP_F32, s, (int) ((bh + STEP_THREADS - 1) / STEP_THREADS), 1, 1, STEP_THREADS, a.build());
            }
            if (steps % 2 == 1) { // the last h went to hNext
                JCudaDriver.cuMemcpyDtoDAsync(ws.h.at(stateOff), ws.hNext.at(0), 4 * bh, s.handle());
            }
        }
    }

    @Override
    public void close() {
        for (int l = 0; l < layers; l++) {
            wih[l].close();
            whhT[l].close();
            biasSum[l].close();
        }
    }
}
