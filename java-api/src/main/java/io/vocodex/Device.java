package io.vocodex;

/**
 * Where a codec runs. Today only the CPU backend exists; {@link #auto()} picks CUDA once that
 * backend lands and says why it chose what it chose.
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
    private final String reason;

    private Device(Kind kind, int threads, String reason) {
        this.kind = kind;
        this.threads = threads;
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

    /** The best device available: CUDA is not built yet, so this is the CPU, and {@link #reason()} says so. */
    public static Device auto() {
        return new Device(Kind.CPU, Runtime.getRuntime().availableProcessors(),
                "CUDA backend not available in this build; using the CPU");
    }

    public Kind kind() {
        return kind;
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
        return kind == Kind.CPU ? "cpu(" + threads + " threads)" : kind.toString().toLowerCase();
    }
}
