package io.vocodex.backend.cpu;

/**
 * Whether the CPU kernels may use the register-blocked kernels of {@link VectorConv}, which are
 * written with the JDK's incubating Vector API ({@code jdk.incubator.vector}).
 *
 * <p>That module is only resolved when the JVM is started with
 * {@code --add-modules jdk.incubator.vector} (the project's launcher, tests and benchmarks do so).
 * Without it, or with {@code -Dvocodex.simd=false}, every kernel takes its plain-Java path.
 * Both paths compute each output element with the same fma sequence (see {@link CpuOps}), so the
 * choice changes the speed only, never a bit of the result.
 *
 * <pre>{@code
 * java --add-modules jdk.incubator.vector -cp app.jar MyApp   // fast path
 * if (!Simd.enabled()) System.err.println(Simd.reason());
 * }</pre>
 */
public final class Simd {
    private static final String REASON;
    private static final boolean ENABLED;

    static {
        String reason = null;
        String setting = System.getProperty("vocodex.simd", "true");
        if (!Boolean.parseBoolean(setting)) {
            reason = "disabled by -Dvocodex.simd=" + setting + " (only \"true\" enables them)";
        } else if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            reason = "the JVM was started without --add-modules jdk.incubator.vector";
        } else {
            try {
                int lanes = VectorConv.lanes();
                if (lanes < 4) {
                    reason = "the preferred float vector has only " + lanes + " lane(s)";
                }
            } catch (Throwable t) { // LinkageError, or the module's classes failing to initialise
                // a kernel class's failed initialiser (e.g. a bad -Dvocodex.simd.blockVectors) says why in its cause
                Throwable why = t instanceof ExceptionInInitializerError && t.getCause() != null ? t.getCause() : t;
                reason = "the Vector API could not be used: " + why;
            }
        }
        REASON = reason;
        ENABLED = reason == null;
    }

    private Simd() {
    }

    /** True when the Vector API kernels are in use. */
    public static boolean enabled() {
        return ENABLED;
    }

    /** Why the Vector API kernels are not in use, or a description of the ones in use. */
    public static String reason() {
        return ENABLED
                ? "Vector API kernels, " + VectorConv.lanes() + " float lanes, register blocks "
                        + VectorConv.width() / VectorConv.lanes() + " vectors wide"
                : REASON;
    }
}
