package io.vocodex;

/**
 * Where a codec runs. {@link #auto()} picks CUDA when a usable device exists (JCuda loads, the driver
 * initialises, a device of compute capability 8.0+ is present and the build ships PTX) and the CPU
 * otherwise, and {@link #reason()} says why.
 *
 * <p>A {@link Codec} loaded on a CUDA device runs an EnCodec model on the GPU
 * ({@code io.vocodex.backend.cuda.CudaEncodec}: batch encode/decode and the {@link StreamHub}), a Mimi model's
 * batch encode/decode on the GPU ({@code CudaMimi}; its streams stay on the CPU) and a
 * DistilCodec model's nearest-code search on the GPU ({@code CudaDistilSearch}; the rest of it stays on
 * the CPU, codes are the CPU's); other architectures, or a device that turns out unusable, fall back to the CPU, and the codec's
 * {@link Codec#device()} then is a CPU device whose {@link #reason()} says why. The CUDA path is
 * compiled but has never run on a GPU (docs/gpu-verification.md). {@link #withTf32} selects the tf32
 * tensor-core fast mode; the default is the fp32 parity mode.
 *
 * <pre>{@code
 * try (Codec codec = Codec.load(Path.of("weights/encodec_24khz_tiny"), Device.cpu())) { ... }
 * }</pre>
 */
public final class Device {
    /** Backend kinds. */
    public enum Kind { CPU, CUDA }

    private final Kind kind;
    private final int threads;
    private final int ordinal;
    private final String reason;
    private final boolean tf32;

    private Device(Kind kind, int threads, String reason) {
        this(kind, threads, 0, reason, false);
    }

    private Device(Kind kind, int threads, int ordinal, String reason) {
        this(kind, threads, ordinal, reason, false);
    }

    private Device(Kind kind, int threads, int ordinal, String reason, boolean tf32) {
        this.kind = kind;
        this.threads = threads;
        this.ordinal = ordinal;
        this.reason = reason;
        this.tf32 = tf32;
    }

    /** The CPU with all processors, chosen because {@code reason} (a CUDA request that could not be met). */
    static Device cpuFallback(String reason) {
        return new Device(Kind.CPU, Runtime.getRuntime().availableProcessors(), reason);
    }

    /**
     * This device with the CUDA fast mode on or off: convolutions and the LSTM input projection on tensor
     * cores with tf32 inputs (fp32 accumulation; RVQ stays fp32). Tokens then mostly, not always, equal the
     * fp32 parity mode's. Ignored on the CPU.
     */
    public Device withTf32(boolean on) {
        return new Device(kind, threads, ordinal, reason, on);
    }

    /** Whether the CUDA fast (tf32) mode is selected. */
    public boolean tf32() {
        return tf32;
    }

    /** The pure-Java CPU backend using all available processors. */
    public static Device cpu() {
        return new Device(Kind.CPU, Runtime.getRuntime().availableProcessors(), "requested");
    }

    /** The pure-Java CPU backend limited to {@code threads} worker threads (at least 1). */
    public static Device cpu(int threads) {
        if (threads < 1) {
            throw new VocodexException("thread count must be >= 1, got " + threads);
        }
        return new Device(Kind.CPU, threads, "requested");
    }

    /** CUDA device {@code ordinal} (not checked until a context opens on it). */
    public static Device cuda(int ordinal) {
        if (ordinal < 0) {
            throw new VocodexException("CUDA device ordinal must be >= 0, got " + ordinal);
        }
        return new Device(Kind.CUDA, Runtime.getRuntime().availableProcessors(), ordinal, "requested");
    }

    /**
     * The best device available: CUDA device 0 when {@code io.vocodex.backend.cuda.CudaProbe} finds it
     * usable, else the CPU; {@link #reason()} gives the probe's one-line verdict either way. Never throws,
     * also not when the CUDA driver library is absent.
     */
    public static Device auto() {
        int cpus = Runtime.getRuntime().availableProcessors();
        io.vocodex.backend.cuda.CudaProbe.Result probe;
        try {
            probe = io.vocodex.backend.cuda.CudaProbe.probe();
        } catch (LinkageError e) { // JCuda's jar itself missing from the class path
            return new Device(Kind.CPU, cpus, "CUDA not usable (JCuda is not on the class path); using the CPU");
        }
        if (probe.available()) {
            return new Device(Kind.CUDA, cpus, 0, probe.reason());
        }
        return new Device(Kind.CPU, cpus, "CUDA not usable (" + probe.reason() + "); using the CPU");
    }

    public Kind kind() {
        return kind;
    }

    /** CUDA device ordinal (0 for the CPU). */
    public int ordinal() {
        return ordinal;
    }

    /** Worker threads for the CPU backend. */
    public int threads() {
        return threads;
    }

    /** Why this device was chosen (for logs). */
    public String reason() {
        return reason;
    }

    @Override
    public String toString() {
        return kind == Kind.CPU ? "cpu(" + threads + " threads)" : "cuda:" + ordinal + (tf32 ? " tf32" : "");
    }
}
