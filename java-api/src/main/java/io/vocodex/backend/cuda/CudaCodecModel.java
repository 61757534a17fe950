package io.vocodex.backend.cuda;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vocodex.codec.CodecModel;

import java.util.Locale;

/**
 * What every model on the device shares: the CPU model it was built from (which answers the metadata
 * questions and runs single-stream streaming), the device context, and the precision mode. Subclasses
 * add the device plan and the batch paths.
 *
 * <pre>{@code
 * try (CudaEncodec gpu = CudaEncodec.create(cpuModel, 0, Precision.FP32)) {
 *     System.out.println(gpu.describeDevice()); // "cuda:0 NVIDIA H100 ... (sm_90), fp32"
 * }
 * }</pre>
 *
 * @param <M> the CPU model type
 */
public abstract class CudaCodecModel<M extends CodecModel> implements CodecModel, AutoCloseable {
    final M cpu;
    final CudaContext cuda;
    final Precision precision;
    private boolean closed;

    CudaCodecModel(M cpu, CudaContext cuda, Precision precision) {
        this.cpu = cpu;
        this.cuda = cuda;
        this.precision = precision;
    }

    /** The CPU model (metadata, single-stream streaming, finishing GPU streams). */
    public M cpuModel() {
        return cpu;
    }

    public Precision precision() {
        return precision;
    }

    /** One line: device and mode. */
    public String describeDevice() {
        return "cuda:" + cuda.ordinal() + " " + cuda.deviceName() + " (sm_" + cuda.computeCapability() + "), "
                + precision.name().toLowerCase(Locale.ROOT);
    }

    @Override
    public String architecture() {
        return cpu.architecture();
    }

    @Override
    public int sampleRate() {
        return cpu.sampleRate();
    }

    @Override
    public int hopLength() {
        return cpu.hopLength();
    }

    @Override
    public double frameRate() {
        return cpu.frameRate();
    }

    @Override
    public int codebookSize() {
        return cpu.codebookSize();
    }

    @Override
    public int maxCodebooks() {
        return cpu.maxCodebooks();
    }

    @Override
    public double[] bandwidths() {
        return cpu.bandwidths();
    }

    @Override
    public int codebooksFor(double bandwidthKbps) {
        return cpu.codebooksFor(bandwidthKbps);
    }

    /** Single-stream streaming runs on the CPU model (many streams: {@link #openStreamPool}). */
    @Override
    public EncoderStream openEncoder(int nq) {
        return cpu.openEncoder(nq);
    }

    @Override
    public DecoderStream openDecoder() {
        return cpu.openDecoder();
    }

    @Override
    public ObjectNode describe() {
        ObjectNode o = cpu.describe();
        o.put("device", describeDevice());
        return o;
    }

    /**
     * {@code capacity} encoder streams on the device for {@link io.vocodex.StreamHub}, replayed as CUDA graphs
     * unless {@code -Dvocodex.cuda.graphs=false}. Throws {@link io.vocodex.VocodexException} with the reason when
     * it cannot open (the hub then stays on the CPU and says why).
     */
    @Override
    public StreamPool openStreamPool(int capacity, int nq, int frameSamples) {
        return openStreamPool(capacity, nq, frameSamples, CudaEncodecStreams.graphsDefault());
    }

    /** A pool with CUDA graphs forced on or off (tests compare both). */
    public StreamPool openStreamPool(int capacity, int nq, int frameSamples, boolean graphs) {
        synchronized (this) {
            check();
        }
        return openPool(capacity, nq, frameSamples, graphs);
    }

    abstract StreamPool openPool(int capacity, int nq, int frameSamples, boolean graphs);

    /** Throws once {@link #close()} has run. */
    void check() {
        if (closed) {
            throw new io.vocodex.VocodexException("CUDA " + architecture() + " model is closed");
        }
    }

    /** Frees the device resources once; later calls do nothing. */
    @Override
    public final synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (cuda != null) { // null: a plan without a device (host-side tests)
            cuda.makeCurrent();
            releaseDevice();
            cuda.close();
        }
    }

    /** Frees this model's device buffers and modules; the context is current and closed afterwards. */
    abstract void releaseDevice();
}
