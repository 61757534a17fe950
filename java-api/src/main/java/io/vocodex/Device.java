package io.vocodex;

/**
 * Where a codec runs. {@link #auto()} picks CUDA when a usable device exists (JCuda loads, the driver
 * initialises, a device of compute capability 8.0+ is present and the build ships PTX) and the CPU
 * otherwise, and {@link #reason()} says why.
 *
 * <p>Note: the CUDA backend's kernels exist ({@code io.vocodex.backend.cuda}) but {@link Codec} does
 * not route a model through them yet; a {@code Codec} on a CUDA device still computes on the CPU
 * with {@link #threads()} workers.
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

    private Device(Kind kind, int threads, String reason) {
        this(kind, threads, 0, reason);
    }

    private Device(Kind kind, int threads, int ordinal, String reason) {
        this.kind = kind;
        this.threads = threads;
        this.ordinal = ordinal;
        this.reason = reason;
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
        return kind == Kind.CPU ? "cpu(" + threads + " threads)" : "cuda:" + ordinal;
    }
}
