package io.vocodex.backend.cuda;

import io.vocodex.nn.PadMode;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * GPU benchmark main, run by {@code scripts/gpu-check run} after the {@code cuda}-tagged parity tests
 * have passed (only benchmark kernels that passed their check). Prints one table:
 * <ul>
 *   <li>per kernel, named {@code cuda_op_dtype_shape}: µs/run (events around {@code reps} launches,
 *       synchronised), GB/s against the bytes read and written once, GFLOP/s where it is a GEMM;</li>
 *   <li>{@code cuda_codebooksearch_f32_32768x3584_n{N}}: DistilCodec's nearest-code search (full size, random
 *       codebook) for N = 94, 938, 9380 frames (1, 10, 100 s of audio): µs per search (events, synchronised;
 *       the fill + the fused kernel, frames already on the device), achieved TFLOP/s counting 2·N·C·D,
 *       and the share of the device's fp32 peak (SMs × fp32 lanes per SM × 2 × boost clock from the
 *       driver's attributes); plus {@code ..._host} rows: {@link CudaCodebookSearch#nearest} wall-clock
 *       including the frame upload, the norms and the download;</li>
 *   <li>{@code cuda_encoder_chain_{fp32,tf32}_b{B}}: the EnCodec 24 kHz encoder's kernel sequence
 *       (full size: 32 filters, ratios 8-5-4-2, 2-layer LSTM 512, dim 128) plus RVQ with 8 codebooks
 *       (6 kbps) on random weights, 1 s of audio per clip, B = 1..512: audio seconds per second.
 *       This is the kernel chain alone.</li>
 *   <li>{@code cuda_encodec24_encode_{fp32,tf32}_b{B}_1s}: the REAL model path, {@link CudaEncodec#encodeBatch}
 *       on the full-size EnCodec 24 kHz with random weights ({@code EncodecRandom}), 6 kbps, B clips of 1 s,
 *       B = 1, 8, 64, 512: wall-clock per call including the host/device copies, audio seconds per second;
 *       then the share of tf32 tokens equal to fp32 tokens on 8 random 1 s clips;</li>
 *   <li>{@code cuda_streamhub_{fp32,tf32}_n{N}}: the GPU {@code StreamHub} with N streams each pushing one
 *       frame per tick, N = 100 .. 20,000: tick latency p50/p99 (ms, wall-clock of {@code tick()} after the
 *       streams reached their steady shape), real-time factor = frame duration / p50;</li>
 *   <li>{@code cuda_mimi_streamhub_{fp32,tf32}_n{N}}: the same for Mimi ({@link CudaMimiStreams}, published layout,
 *       random weights, 8 codebooks), N = 1, 8, 64, 256 streams, frames of 80 ms.</li>
 * </ul>
 * Usage: {@code java ... io.vocodex.backend.cuda.CudaBench [maxBatch [maxStreams]]}.
 */
public final class CudaBench {
    private static final int SR = 24_000;
    private final CudaContext cuda;
    private final Random rnd = new Random(1);
    private final List<String> rows = new ArrayList<>();

    private CudaBench(CudaContext cuda) {
        this.cuda = cuda;
    }

    public static void main(String[] args) {
        CudaProbe.Result probe = CudaProbe.probe();
        if (!probe.available()) {
            System.out.println("CudaBench: no usable CUDA device: " + probe.reason());
            return;
        }
        int maxBatch = args.length > 0 ? Integer.parseInt(args[0]) : 512;
        int maxStreams = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
        List<String> modelRows = new ArrayList<>();
        List<String> hubRows = new ArrayList<>();
        try {
            modelPath(maxBatch, maxStreams, modelRows, hubRows);
        } catch (RuntimeException e) {
            modelRows.add("model path FAILED: " + e);
        }
        try {
            mimiPath(maxBatch, maxStreams, modelRows, hubRows);
        } catch (RuntimeException e) {
            modelRows.add("mimi model path FAILED: " + e);
        }
        try (CudaContext cuda = new CudaContext(0)) {
            CudaBench b = new CudaBench(cuda);
            System.out.printf(Locale.ROOT, "device: %s (sm_%d, %d SMs), PTX arch %d%n", cuda.deviceName(),
                    cuda.computeCapability(), cuda.multiprocessors(), cuda.arch());
            b.kernels();
            b.codebookSearch();
            for (int batch = 1; batch <= maxBatch; batch *= 8) {
                b.encoderChain(Precision.FP32, batch);
                b.encoderChain(Precision.TF32, batch);
            }
            System.out.printf(Locale.ROOT, "%-48s %12s %10s %10s %14s%n", "name", "us/run", "GB/s", "GFLOP/s", "audio s/s");
            b.rows.forEach(System.out::println);
            modelRows.forEach(System.out::println);
        }
        System.out.printf(Locale.ROOT, "%n%-48s %10s %10s %10s %12s%n", "name", "p50 ms", "p99 ms", "streams", "x realtime");
        hubRows.forEach(System.out::println);
    }

    /**
     * Mimi's model path ({@link CudaMimi}, the published layout with random weights): batch encode throughput of
     * 1 s clips (13 frames after padding, all 32 codebooks) in fp32 and tf32, and tf32's code agreement with fp32.
     * Then, per precision, the GPU Mimi StreamHub ({@link CudaMimiStreams}) tick latency at N = 1, 8, 64, 256 streams
     * with 8 codebooks (1.1 kbps), into {@code hubRows}.
     */
    private static void mimiPath(int maxBatch, int maxStreams, List<String> modelRows, List<String> hubRows) {
        java.nio.file.Path dir;
        try {
            dir = java.nio.file.Files.createTempDirectory("vocodex-bench-mimi");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        io.vocodex.codec.mimi.MimiRandom.writeModelFolder(io.vocodex.codec.mimi.MimiConfig.mimi(), 7, dir);
        io.vocodex.codec.mimi.MimiModel m = (io.vocodex.codec.mimi.MimiModel) io.vocodex.model.ModelFolder.load(dir);
        int nq = m.maxCodebooks();
        int sr = m.sampleRate();
        Random r = new Random(5);
        float[][] agreeClips = new float[8][sr];
        for (float[] c : agreeClips) {
            for (int i = 0; i < sr; i++) {
                c[i] = (float) (0.1 * r.nextGaussian());
            }
        }
        int[][][] fp32Codes = null;
        for (Precision p : Precision.values()) {
            try (CudaMimi g = CudaMimi.create(m, 0, p)) {
                encodeBatchRows(g, "cuda_mimi_encode_" + p.name().toLowerCase(Locale.ROOT), Math.min(maxBatch, 64), 16, sr, nq,
                        r, modelRows);
                int[][][] codes = g.encodeBatch(null, agreeClips, nq);
                if (p == Precision.FP32) {
                    fp32Codes = codes;
                } else if (fp32Codes != null) {
                    double agreement = agreementPercent(codes, fp32Codes);
                    modelRows.add(String.format(Locale.ROOT, "mimi tf32 vs fp32 code agreement (8 clips x 1 s, %d codebooks): %.2f%%",
                            nq, agreement));
                }
            }
            try (CudaMimi g = CudaMimi.create(m, 0, p); io.vocodex.Codec codec = io.vocodex.Codec.of(g, io.vocodex.Device.cuda(0))) {
                for (int n : new int[] {1, 8, 64, 256}) {
                    if (n > maxStreams) {
                        break;
                    }
                    hubRows.add(hubLatency(codec, n, p, 8 * m.config().kbpsPerCodebook(), "cuda_mimi_streamhub_"));
                }
            }
        }
    }

    /** The real model path: batch encode throughput and StreamHub tick latency on the full 24 kHz EnCodec. */
    private static void modelPath(int maxBatch, int maxStreams, List<String> modelRows, List<String> hubRows) {
        java.nio.file.Path dir;
        try {
            dir = java.nio.file.Files.createTempDirectory("vocodex-bench");
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        io.vocodex.codec.encodec.EncodecRandom.writeModelFolder(io.vocodex.codec.encodec.EncodecConfig.encodec24khz(), 7, dir);
        io.vocodex.codec.encodec.EncodecModel m = (io.vocodex.codec.encodec.EncodecModel) io.vocodex.model.ModelFolder.load(dir);
        int nq = m.codebooksFor(6.0);
        Random r = new Random(3);
        float[][] agreeClips = new float[8][SR]; // tf32 vs fp32 token agreement on the same 8 clips
        for (float[] c : agreeClips) {
            for (int i = 0; i < SR; i++) {
                c[i] = (float) (0.1 * r.nextGaussian());
            }
        }
        int[][][] fp32Codes = null;
        for (Precision p : Precision.values()) {
            CudaEncodec g = CudaEncodec.create(m, 0, p);
            try (io.vocodex.Codec codec = io.vocodex.Codec.of(g, io.vocodex.Device.cuda(0).withTf32(p == Precision.TF32))) {
                encodeBatchRows(g, "cuda_encodec24_encode_" + p.name().toLowerCase(Locale.ROOT), maxBatch, 64, SR, nq, r,
                        modelRows);
                int[][][] codes = g.encodeBatch(null, agreeClips, nq);
                if (p == Precision.FP32) {
                    fp32Codes = codes;
                } else if (fp32Codes != null) {
                    double agreement = agreementPercent(codes, fp32Codes);
                    modelRows.add(String.format(Locale.ROOT, "tf32 vs fp32 token agreement (8 clips x 1 s, %d codebooks): %.2f%%",
                            nq, agreement));
                }
                for (int n : new int[] {100, 1000, 5000, 20_000}) {
                    if (n > maxStreams) {
                        break;
                    }
                    hubRows.add(hubLatency(codec, n, p, 6.0, "cuda_streamhub_"));
                }
            }
        }
    }

    /** StreamHub.tick() latency with {@code streams} streams each pushed one frame per tick; rows named {@code prefix + precision + _nN}. */
    private static String hubLatency(io.vocodex.Codec codec, int streams, Precision p, double kbps, String prefix) {
        int hop = codec.hopLength();
        float[] noise = new float[hop * 64];
        Random r = new Random(streams);
        for (int i = 0; i < noise.length; i++) {
            noise[i] = (float) (0.1 * r.nextGaussian());
        }
        try (io.vocodex.StreamHub hub = new io.vocodex.StreamHub(codec, kbps, streams)) {
            if (hub.backend().startsWith("cpu")) {
                return prefix + "n" + streams + ": hub is not on the GPU: " + hub.backend();
            }
            io.vocodex.StreamHub.StreamSession[] s = new io.vocodex.StreamHub.StreamSession[streams];
            for (int i = 0; i < streams; i++) {
                s[i] = hub.open();
            }
            int warm = 12; // past the start-up shapes (steady from frame 7 for the 24 kHz model), graphs captured
            int ticks = 60;
            double[] ms = new double[ticks];
            for (int t = 0; t < warm + ticks; t++) {
                for (int i = 0; i < streams; i++) {
                    int o = ((i + t) % 63) * hop;
                    s[i].push(java.util.Arrays.copyOfRange(noise, o, o + hop));
                }
                long t0 = System.nanoTime();
                hub.tick();
                if (t >= warm) {
                    ms[t - warm] = (System.nanoTime() - t0) / 1e6;
                }
                for (int i = 0; i < streams; i++) {
                    s[i].poll();
                }
            }
            java.util.Arrays.sort(ms);
            double p50 = ms[ticks / 2];
            double p99 = ms[(int) Math.ceil(0.99 * ticks) - 1];
            double frameMs = 1000.0 * hop / codec.sampleRate();
            return String.format(Locale.ROOT, "%-48s %10.3f %10.3f %10d %12.1f",
                    prefix + p.name().toLowerCase(Locale.ROOT) + "_n" + streams, p50, p99, streams, frameMs / p50);
        }
    }

    private DeviceBuffer randBuf(long n, float scale) {
        float[] a = new float[(int) n];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) (rnd.nextGaussian() * scale);
        }
        return cuda.upload(a);
    }

    /** µs per run of {@code body}, averaged over enough runs for ~200 ms, after a warm-up. */
    private double time(Runnable body) {
        CudaStream s = cuda.stream();
        body.run();
        s.synchronize();
        int reps = 1;
        try (CudaEvent a = cuda.newEvent(); CudaEvent b = cuda.newEvent()) {
            while (true) {
                a.record(s);
                for (int i = 0; i < reps; i++) {
                    body.run();
                }
                b.record(s);
                b.synchronize();
                float ms = b.millisSince(a);
                if (ms > 200 || reps >= 1 << 14) {
                    return ms * 1000.0 / reps;
                }
                reps *= ms < 1 ? 16 : 2;
            }
        }
    }

    private void row(String name, double us, double bytes, double flops, double audioSeconds) {
        rows.add(String.format(Locale.ROOT, "%-48s %12.2f %10.1f %10s %14s", name, us, bytes / us / 1e3,
                flops > 0 ? String.format(Locale.ROOT, "%.0f", flops / us / 1e3) : "-",
                audioSeconds > 0 ? String.format(Locale.ROOT, "%.0f", audioSeconds / (us / 1e6)) : "-"));
    }

    private void kernels() {
        CudaStream s = cuda.stream();
        CudaConv1d conv = new CudaConv1d(cuda);
        // (cin, cout, K, stride, len): EnCodec 24 kHz encoder layers at batch 16, 1 s
        int[][] convs = {{32, 16, 3, 1, 24000}, {64, 128, 8, 4, 12000}, {256, 512, 16, 8, 600}, {512, 128, 7, 1, 75}};
        int batch = 16;
        for (int[] c : convs) {
            for (Precision p : Precision.values()) {
                int cin = c[0], cout = c[1], k = c[2], stride = c[3], len = c[4];
                CudaConv1d.Padding pad = CudaConv1d.Padding.encodec(len, k, stride, 1, true, PadMode.REFLECT);
                try (DeviceBuffer x = randBuf((long) batch * cin * len, 1); DeviceBuffer w = randBuf((long) cout * cin * k, 0.1f);
                     DeviceBuffer bias = randBuf(cout, 0.1f); DeviceBuffer y = cuda.allocate(4L * batch * cout * pad.tout())) {
                    CudaConv1d.Layer layer = new CudaConv1d.Layer(cin, cout, k, stride, 1, 1, w, bias);
                    double us = time(() -> conv.launch(s, p, layer, pad, batch, x, (long) cin * len, len, y,
                            (long) cout * pad.tout(), pad.tout(), null, true, 1f));
                    double bytes = 4.0 * ((double) batch * cin * len + (double) cout * cin * k + (double) batch * cout * pad.tout());
                    double flops = 2.0 * batch * cout * pad.tout() * cin * k;
                    row(String.format(Locale.ROOT, "cuda_conv1d_%s_b%d_%dx%dk%ds%d_t%d", p.name().toLowerCase(Locale.ROOT),
                            batch, cin, cout, k, stride, len), us, bytes, flops, 0);
                }
            }
        }
        CudaConvTranspose1d convT = new CudaConvTranspose1d(cuda);
        try (DeviceBuffer x = randBuf(16L * 512 * 75, 1); DeviceBuffer w = randBuf(512L * 256 * 16, 0.1f);
             DeviceBuffer bias = randBuf(256, 0.1f); DeviceBuffer y = cuda.allocate(4L * 16 * 256 * 76 * 8)) {
            CudaConvTranspose1d.Layer l = new CudaConvTranspose1d.Layer(512, 256, 16, 8, 1, w, bias);
            double us = time(() -> convT.launch(s, l, 16, 75, 0, 76, x, 512L * 75, 75, y, 256L * 76 * 8, 76 * 8));
            row("cuda_conv_transpose1d_f32_b16_512x256k16s8_t75", us, 4.0 * (16 * 512 * 75 + 512 * 256 * 16 + 16 * 256 * 608),
                    2.0 * 16 * 256 * 608 * 512 * 2, 0);
        }
        CudaElementwise ew = new CudaElementwise(cuda);
        long n = 16L * 32 * 24000;
        try (DeviceBuffer a = randBuf(n, 1); DeviceBuffer b = randBuf(n, 1)) {
            row("cuda_elu_f32_n" + n, time(() -> ew.elu(s, a, b, n, 1f)), 8.0 * n, 0, 0);
            row("cuda_add_f32_n" + n, time(() -> ew.add(s, a, b, b, n)), 12.0 * n, 0, 0);
        }
        float[][] books = new float[8][];
        for (int q = 0; q < 8; q++) {
            books[q] = new float[1024 * 128];
            for (int i = 0; i < books[q].length; i++) {
                books[q][i] = (float) rnd.nextGaussian();
            }
        }
        int frames = 75;
        for (int b : new int[] {16, 512}) {
            try (CudaRvq rvq = new CudaRvq(cuda, 128, 1024, books); DeviceBuffer r = randBuf((long) b * 128 * frames, 1);
                 DeviceBuffer codes = cuda.allocate(4L * b * 8 * frames)) {
                double us = time(() -> rvq.encode(s, r, codes, b, frames, 8));
                row("cuda_rvq_nearest_f32_b" + b + "_d128_n1024_q8_t75", us, 4.0 * (8 * 1024 * 128 + 2.0 * b * 128 * frames * 8),
                        2.0 * b * frames * 1024 * 128 * 8, 0);
            }
        }
        int h = 512;
        float[][] wih = {rndArr(4 * h * h), rndArr(4 * h * h)};
        float[][] bb = {rndArr(4 * h), rndArr(4 * h)};
        for (int b : new int[] {1, 64}) {
            try (CudaLstm lstm = new CudaLstm(cuda, h, true, wih, wih, bb, bb); CudaLstm.Workspace ws = lstm.newWorkspace(b, frames);
                 DeviceBuffer x = randBuf((long) b * h * frames, 1); DeviceBuffer y = cuda.allocate(4L * b * h * frames)) {
                double us = time(() -> lstm.forward(s, Precision.FP32, ws, x, y, frames));
                row("cuda_lstm2_f32_b" + b + "_h512_t75", us, 4.0 * (2 * 8.0 * h * h + 2.0 * b * h * frames),
                        2 * 2.0 * b * frames * 8.0 * h * h, 0);
            }
        }
    }

    /**
     * The device's fp32 peak in TFLOP/s: SMs x fp32 lanes per SM (64 on compute capability 8.0, 128 on
     * 8.6+ and 9.0) x 2 (an fma is two flops) x the maximum clock (CU_DEVICE_ATTRIBUTE_CLOCK_RATE, kHz).
     * An H100 SXM (132 SMs, 1.98 GHz) gives 66.9.
     */
    private double fp32PeakTflops() {
        jcuda.driver.CUdevice dev = new jcuda.driver.CUdevice();
        jcuda.driver.JCudaDriver.cuDeviceGet(dev, cuda.ordinal());
        int[] khz = new int[1];
        jcuda.driver.JCudaDriver.cuDeviceGetAttribute(khz, jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_CLOCK_RATE, dev);
        int lanes = cuda.computeCapability() == 80 ? 64 : 128;
        return cuda.multiprocessors() * (double) lanes * 2 * khz[0] * 1e3 / 1e12;
    }

    /** DistilCodec's search, 32768 codes x 3584 dims, for 1 s, 10 s and 100 s of frames. */
    private void codebookSearch() {
        int codes = 32768;
        int dim = 3584;
        double peak = fp32PeakTflops();
        float[] book = rndArr(codes * dim);
        CudaStream s = cuda.stream();
        try (CudaCodebookSearch search = new CudaCodebookSearch(cuda, book, null, codes, dim)) {
            for (int n : new int[] {94, 938, 9380}) {
                float[][] frames = new float[n][];
                float[] flat = new float[n * dim];
                for (int t = 0; t < n; t++) {
                    frames[t] = rndArr(dim);
                    System.arraycopy(frames[t], 0, flat, t * dim, dim);
                }
                try (DeviceBuffer x = cuda.upload(flat); DeviceBuffer xx = cuda.allocate(4L * n); DeviceBuffer best = cuda.allocate(8L * n)) {
                    search.rowNorms(s, x, xx, n);
                    double us = time(() -> search.search(s, x, xx, best, n));
                    double flops = 2.0 * n * codes * dim;
                    double tflops = flops / us / 1e6;
                    String name = "cuda_codebooksearch_f32_" + codes + "x" + dim + "_n" + n;
                    row(name, us, 4.0 * ((double) codes * dim + (double) n * dim), flops, 0);
                    rows.add(String.format(Locale.ROOT, "  %s: %.1f TFLOP/s = %.0f%% of the fp32 peak %.1f TFLOP/s (%d SMs)",
                            name, tflops, 100 * tflops / peak, peak, cuda.multiprocessors()));
                }
                search.nearest(frames); // warm-up
                int reps = n < 1000 ? 5 : 2;
                long t0 = System.nanoTime();
                for (int i = 0; i < reps; i++) {
                    search.nearest(frames);
                }
                double us = (System.nanoTime() - t0) / 1e3 / reps;
                rows.add(String.format(Locale.ROOT, "%-48s %12.0f %10s %10s %14.0f",
                        "cuda_codebooksearch_f32_" + codes + "x" + dim + "_n" + n + "_host", us, "-", "-", n / (us / 1e6) / 93.75));
            }
        }
    }

    private float[] rndArr(int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (rnd.nextGaussian() * 0.05);
        }
        return a;
    }

    /** The EnCodec 24 kHz encoder + RVQ(8) kernel chain on random weights, B clips of 1 s. */
    private void encoderChain(Precision p, int batch) {
        CudaStream s = cuda.stream();
        CudaConv1d conv = new CudaConv1d(cuda);
        int[] ratios = {2, 4, 5, 8}; // encoder order (reversed config ratios)
        long maxAct = 32L * SR;
        List<DeviceBuffer> owned = new ArrayList<>();
        try (DeviceBuffer a = cuda.allocate(4L * batch * maxAct); DeviceBuffer t = cuda.allocate(4L * batch * maxAct / 2);
             DeviceBuffer o = cuda.allocate(4L * batch * maxAct); DeviceBuffer pcm = randBuf((long) batch * SR, 0.1f)) {
            List<Runnable> steps = new ArrayList<>();
            int[] len = {SR};
            int[] ch = {1};
            DeviceBuffer[] cur = {pcm};
            DeviceBuffer[] other = {a};
            // first conv 1 -> 32, k7
            addConv(steps, owned, conv, p, batch, 1, 32, 7, 1, 1, cur, other, len, false, null);
            ch[0] = 32;
            for (int ratio : ratios) {
                int dim = ch[0];
                // residual block: shortcut (k1) into o, ELU conv k3 into t, ELU conv k1 + residual o into o
                DeviceBuffer x = cur[0];
                int l0 = len[0];
                steps.add(convStep(conv, p, batch, dim, dim, 1, 1, 1, x, l0, o, null, false, owned));
                steps.add(convStep(conv, p, batch, dim, dim / 2, 3, 1, 1, x, l0, t, null, true, owned));
                steps.add(convStep(conv, p, batch, dim / 2, dim, 1, 1, 1, t, l0, o, o, true, owned));
                cur[0] = o;
                other[0] = x == pcm ? a : x;
                // ELU + downsampling conv dim -> 2 dim, k 2r, stride r
                DeviceBuffer in = cur[0];
                DeviceBuffer out = other[0];
                steps.add(convStep(conv, p, batch, dim, 2 * dim, 2 * ratio, ratio, 1, in, l0, out, null, true, owned));
                len[0] = CudaConv1d.Padding.encodec(l0, 2 * ratio, ratio, 1, true, PadMode.REFLECT).tout();
                ch[0] = 2 * dim;
                cur[0] = out;
                other[0] = in;
            }
            int frames = len[0];
            float[][] w4 = {rndArr(4 * 512 * 512), rndArr(4 * 512 * 512)};
            float[][] b4 = {rndArr(2048), rndArr(2048)};
            try (CudaLstm lstm = new CudaLstm(cuda, 512, true, w4, w4, b4, b4); CudaLstm.Workspace ws = lstm.newWorkspace(batch, frames);
                 CudaRvq rvq = new CudaRvq(cuda, 128, 1024, books8()); DeviceBuffer codes = cuda.allocate(4L * batch * 8 * frames)) {
                DeviceBuffer lin = cur[0];
                DeviceBuffer lout = other[0];
                steps.add(() -> lstm.forward(s, p, ws, lin, lout, frames));
                steps.add(convStep(conv, p, batch, 512, 128, 7, 1, 1, lout, frames, lin, null, true, owned));
                steps.add(() -> rvq.encode(s, lin, codes, batch, frames, 8));
                double us = time(() -> steps.forEach(Runnable::run));
                row(String.format(Locale.ROOT, "cuda_encoder_chain_%s_b%d_1s", p.name().toLowerCase(Locale.ROOT), batch),
                        us, 0, 0, batch);
            }
        } finally {
            owned.forEach(DeviceBuffer::close);
        }
    }

    private float[][] books8() {
        float[][] books = new float[8][];
        for (int q = 0; q < 8; q++) {
            books[q] = rndArr(1024 * 128);
        }
        return books;
    }

    private void addConv(List<Runnable> steps, List<DeviceBuffer> owned, CudaConv1d conv, Precision p, int batch, int cin, int cout,
                         int k, int stride, int dil, DeviceBuffer[] cur, DeviceBuffer[] other, int[] len, boolean elu, DeviceBuffer res) {
        steps.add(convStep(conv, p, batch, cin, cout, k, stride, dil, cur[0], len[0], other[0], res, elu, owned));
        DeviceBuffer c = cur[0];
        cur[0] = other[0];
        other[0] = c;
    }

    private Runnable convStep(CudaConv1d conv, Precision p, int batch, int cin, int cout, int k, int stride, int dil,
                              DeviceBuffer x, int len, DeviceBuffer y, DeviceBuffer res, boolean elu, List<DeviceBuffer> owned) {
        DeviceBuffer w = randBuf((long) cout * cin * k, (float) (1 / Math.sqrt(cin * k)));
        DeviceBuffer b = randBuf(cout, 0.01f);
        owned.add(w);
        owned.add(b);
        CudaConv1d.Layer layer = new CudaConv1d.Layer(cin, cout, k, stride, dil, 1, w, b);
        CudaConv1d.Padding pad = CudaConv1d.Padding.encodec(len, k, stride, dil, true, PadMode.REFLECT);
        return () -> conv.launch(cuda.stream(), p, layer, pad, batch, x, (long) cin * len, len, y,
                (long) cout * pad.tout(), pad.tout(), res, elu, 1f);
    }

    /**
     * One row per batch size 1, 8, 64, ... up to {@code maxBatch}: µs per {@code encodeBatch} of that many
     * 1 s noise clips (after one warm-up call) and clips per second; {@code repsBudget / batch} timed calls.
     */
    private static void encodeBatchRows(io.vocodex.codec.CodecModel g, String name, int maxBatch, int repsBudget,
                                        int sampleRate, int nq, Random r, List<String> rows) {
        for (int batch = 1; batch <= maxBatch; batch *= 8) {
            float[][] clips = new float[batch][sampleRate];
            for (float[] c : clips) {
                for (int i = 0; i < sampleRate; i++) {
                    c[i] = (float) (0.1 * r.nextGaussian());
                }
            }
            g.encodeBatch(null, clips, nq); // warm-up (module loads, pool)
            int reps = Math.max(2, repsBudget / batch);
            long t0 = System.nanoTime();
            for (int i = 0; i < reps; i++) {
                g.encodeBatch(null, clips, nq);
            }
            double us = (System.nanoTime() - t0) / 1e3 / reps;
            rows.add(String.format(Locale.ROOT, "%-48s %12.0f %10s %10s %14.0f", name + "_b" + batch + "_1s", us, "-", "-",
                    batch / (us / 1e6)));
        }
    }

    /** Percentage of equal codes between two {@code [clip][codebook][frame]} results. */
    private static double agreementPercent(int[][][] codes, int[][][] reference) {
        long same = 0;
        long total = 0;
        for (int b = 0; b < codes.length; b++) {
            for (int k = 0; k < codes[b].length; k++) {
                for (int t = 0; t < codes[b][k].length; t++) {
                    same += codes[b][k][t] == reference[b][k][t] ? 1 : 0;
                    total++;
                }
            }
        }
        return 100.0 * same / total;
    }
}
