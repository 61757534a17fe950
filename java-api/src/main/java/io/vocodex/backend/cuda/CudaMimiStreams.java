package io.vocodex.backend.cuda;

import io.vocodex.VocodexException;
import io.vocodex.codec.CodecModel;
import io.vocodex.nn.Conv1dLayer;
import io.vocodex.nn.PadMode;
import jcuda.driver.JCudaDriver;

import java.util.HashMap;
import java.util.Map;

/**
 * The GPU {@code StreamHub} engine for {@link CudaMimi}: {@code capacity} Mimi encoder streams whose state
 * lives on the device, indexed by slot, and a step that advances any set of slots by one 1920-sample frame
 * each, every kernel launched once for all of them.
 *
 * <h2>State per slot</h2>
 * Every SEANet conv's and the downsampling conv's pending input columns ({@code stream_window_f32} /
 * {@code stream_keep_f32}, as {@link CudaEncodecStreams}); the encoder transformer's KV ring per layer
 * ({@code kv_ring_write_f32} then {@code attention_ring_f32}, ring index = slot, the slot's position as
 * data); the position itself on the host. One extra slot ({@code capacity}) is scratch for padding rows.
 * A ring costs {@code layers x 2 x dim x context x 4} bytes per slot (8.2 MB for the published model:
 * 8 layers, 512, 250), so 256 streams hold about 2.1 GB of rings.
 *
 * <h2>Schedule</h2>
 * {@link MimiStreamSchedule} does the bookkeeping (shape states, groups, padding rows, positions, the
 * launch order); this class gives it the device kernels and replays a group's launches as a CUDA graph
 * from its second use, as {@link CudaEncodecStreams} does. The end of a stream (its last partial frame,
 * zero-padded as {@code MimiModel}'s flush) runs on the device too: Mimi's streaming state is whole frames.
 * Every device buffer is allocated at open: a step allocates nothing on the device.
 *
 * <p>{@link Precision#FP32}: tokens are expected equal to a solo {@code MimiModel} streaming encoder
 * (the same kernels as {@link CudaMimi}'s parity mode). <b>Status: compiled, never run on a GPU.</b>
 * <pre>{@code
 * try (Codec codec = Codec.load(Path.of("models/mimi"), Device.cuda(0));
 *      StreamHub hub = new StreamHub(codec, 1.1, 256)) {   // hub.backend(): "GPU Mimi StreamHub on cuda:0 ..."
 *     StreamHub.StreamSession s = hub.open();
 *     s.push(pcm);
 *     hub.tick();                                           // one launch per kernel for every ready stream
 * }
 * }</pre>
 */
final class CudaMimiStreams implements CodecModel.StreamPool {
    private static final int THREADS = 256;
    private static final int MAX_BLOCKS = 65535;

    private final CudaMimi model;
    private final CudaContext cuda;
    private final CudaStream stream;
    private final boolean useGraphs;
    private final MimiStreamSchedule<DeviceBuffer, CudaAttention.KvRings> schedule;
    private final Map<Long, CudaGraph> graphs = new HashMap<>();
    private final Map<Long, Integer> seen = new HashMap<>();
    private final MimiStreamSchedule.Launcher launcher = this::launch;
    private String graphNote = "";
    private boolean closed;

    static CudaMimiStreams open(CudaMimi model, int capacity, int nq, int frame, boolean graphs) {
        int lo = model.cpu.config().quantizer().nQSemantic();
        if (nq < lo || nq > model.maxCodebooks()) {
            throw new VocodexException("Mimi uses " + lo + ".." + model.maxCodebooks() + " codebooks; asked for " + nq);
        }
        if (frame != model.hopLength()) {
            throw new VocodexException("the GPU Mimi streams step whole frames of " + model.hopLength() + " samples (the "
                    + "transformer's chunks are frames); asked for " + frame);
        }
        synchronized (model) {
            model.cuda.makeCurrent();
            return new CudaMimiStreams(model, capacity, nq, frame, graphs);
        }
    }

    private CudaMimiStreams(CudaMimi model, int capacity, int nq, int frame, boolean graphs) {
        this.model = model;
        this.cuda = model.cuda;
        this.stream = cuda.stream();
        this.useGraphs = graphs;
        this.schedule = new MimiStreamSchedule<>(new DeviceStreamKernels(model), model.encoderTransformer.plan,
                model.encoderOps, model.downsample, capacity, nq, frame, CudaAttention.KvRings::close);
        stream.synchronize();
    }

    /** The device side of {@link MimiStreamSchedule.Kernels}: the stream kernels, the SEANet convs, the split RVQ. */
    static final class DeviceStreamKernels implements MimiStreamSchedule.Kernels<DeviceBuffer> {
        private final CudaMimi model;
        private final CudaContext cuda;
        private final CudaStream stream;

        DeviceStreamKernels(CudaMimi model) {
            this.model = model;
            this.cuda = model.cuda;
            this.stream = cuda.stream();
        }

        @Override
        public DeviceBuffer allocate(long floats) {
            return cuda.allocate(4 * Math.max(1, floats));
        }

        @Override
        public DeviceBuffer allocateInts(int n) {
            return cuda.allocate(4L * Math.max(1, n));
        }

        @Override
        public void writeFloats(DeviceBuffer dst, float[] data, int n) {
            stream.synchronize(); // the previous group's launches read these buffers; the copy below is synchronous
            dst.copyFrom(data, n);
        }

        @Override
        public void writeInts(DeviceBuffer dst, int[] data, int n) {
            stream.synchronize();
            dst.copyFrom(data, n);
        }

        @Override
        public int[] readInts(DeviceBuffer src, int n) {
            return src.downloadInts(stream, n);
        }

        @Override
        public void free(DeviceBuffer buffer) {
            buffer.close();
        }

        @Override
        public void copy(DeviceBuffer src, DeviceBuffer dst, long n) {
            JCudaDriver.cuMemcpyDtoDAsync(dst.pointer(), src.pointer(), 4 * n, stream.handle());
        }

        @Override
        public void window(DeviceBuffer tails, DeviceBuffer x, DeviceBuffer window, DeviceBuffer slots, int rows, int channels,
                           int tailCap, int tailLen, int nIn, int prefix, PadMode padMode) {
            long total = (long) rows * channels * (prefix + tailLen + nIn);
            cuda.launch(Kernel.STREAM_WINDOW_F32, stream, CudaElementwise.blocks(total, THREADS, MAX_BLOCKS), 1, 1, THREADS,
                    new Args().buf(tails).buf(x).buf(window).buf(slots).i32(rows).i32(channels).i32(tailCap).i32(tailLen)
                            .i32(nIn).i32(prefix).i32(padMode.ordinal()).i64((long) channels * nIn).i32(nIn).build());
        }

        @Override
        public void keep(DeviceBuffer window, DeviceBuffer tails, DeviceBuffer slots, int rows, int channels, int tailCap,
                         int winLen, int keepFrom, int keepLen) {
            long total = (long) rows * channels * keepLen;
            cuda.launch(Kernel.STREAM_KEEP_F32, stream, CudaElementwise.blocks(total, THREADS, MAX_BLOCKS), 1, 1, THREADS,
                    new Args().buf(window).buf(tails).buf(slots).i32(rows).i32(channels).i32(tailCap).i32(winLen)
                            .i32(keepFrom).i32(keepLen).build());
        }

        @Override
        public void conv(CudaSeanet.ConvOp cv, DeviceBuffer x, int len, DeviceBuffer y, int nOut, DeviceBuffer residual, int rows) {
            Conv1dLayer L = cv.layer;
            CudaConv1d.Padding pad = CudaConv1d.Padding.none(len, L.span(), L.stride());
            if (pad.tout() != nOut) {
                throw new IllegalStateException("stream conv " + cv.sid + ": " + len + " columns give " + pad.tout()
                        + " outputs, the schedule expects " + nOut);
            }
            model.seanet.conv.launch(stream, model.precision, cv.dev, pad, rows, x, (long) L.inChannels() * len, len,
                    y, (long) L.outChannels() * nOut, nOut, residual, cv.elu, cv.alpha);
        }

        @Override
        public int quantizerScratchPerFrame() {
            return model.quantizer.residualFloatsPerFrame();
        }

        @Override
        public void quantize(DeviceBuffer latent, DeviceBuffer scratch, DeviceBuffer codes, int rows, int frames, int nq) {
            model.quantizer.encode(stream, latent, scratch, codes, rows, frames, nq);
        }
    }

    /** Plain launches the first time a (shape, size) runs, a captured graph from the second time on. */
    private void launch(long key, Runnable launches) {
        CudaGraph graph = graphs.get(key);
        if (graph != null) {
            graph.launch(stream);
        } else if (useGraphs && seen.merge(key, 1, Integer::sum) >= 2) {
            try {
                graph = CudaGraph.capture(stream, launches);
                graphs.put(key, graph);
                graph.launch(stream);
            } catch (RuntimeException ex) {
                graphNote = " (graph capture failed, plain launches: " + ex.getMessage() + ")";
                launches.run();
            }
        } else {
            launches.run();
        }
    }

    // ---- StreamPool ----------------------------------------------------------------------------

    @Override
    public void reset(int slot) {
        synchronized (model) {
            checkOpen();
            schedule.reset(slot);
        }
    }

    @Override
    public int[][][] step(int[] slots, float[][] frames) {
        synchronized (model) {
            checkOpen();
            cuda.makeCurrent();
            return schedule.step(slots, frames, launcher);
        }
    }

    @Override
    public int[][] finish(int slot, float[] rest) {
        synchronized (model) {
            checkOpen();
            cuda.makeCurrent();
            return schedule.finish(slot, rest, launcher);
        }
    }

    @Override
    public String describe() {
        return "GPU Mimi StreamHub on " + model.describeDevice() + ", " + schedule.capacity + " slots, "
                + schedule.shapes.size() + " shape states, CUDA graphs " + (useGraphs ? "on" : "off") + graphNote
                + " (compiled, never run on a GPU)";
    }

    private void checkOpen() {
        model.check();
        if (closed) {
            throw new IllegalStateException("stream pool is closed");
        }
    }

    @Override
    public void close() {
        synchronized (model) {
            if (closed) {
                return;
            }
            closed = true;
            cuda.makeCurrent();
            graphs.values().forEach(CudaGraph::close);
            schedule.close();
        }
    }
}
