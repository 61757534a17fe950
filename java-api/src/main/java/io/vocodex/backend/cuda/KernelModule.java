package io.vocodex.backend.cuda;

/**
 * The PTX modules, one per {@code cuda-kernels/*.cu}; each ships as the classpath resources
 * {@code /io/vocodex/kernels/{file}.sm80.ptx} (compute_80) and {@code .sm90.ptx} (compute_90),
 * built by {@code scripts/build-kernels} during the Maven build when nvcc is present. A
 * {@link CudaContext} loads a module lazily, once, the first time one of its {@link Kernel}s is used.
 */
public enum KernelModule {
    CODEBOOK_SEARCH("codebook_search"),
    CONV1D("conv1d"),
    CONV_TRANSPOSE1D("conv_transpose1d"),
    ELEMENTWISE("elementwise"),
    LSTM("lstm"),
    RVQ("rvq"),
    STREAM("stream"),
    ATTENTION("attention"),
    TRANSFORMER("transformer");

    /** PTX targets shipped, highest first; a device uses the highest one not above its compute capability. */
    public static final int[] ARCHS = {90, 80};

    private final String file;

    KernelModule(String file) {
        this.file = file;
    }

    /** The {@code .cu} file's base name. */
    public String file() {
        return file;
    }

    /** Classpath resource of this module's PTX for {@code arch} (80 or 90). */
    public String resource(int arch) {
        return "/io/vocodex/kernels/" + file + ".sm" + arch + ".ptx";
    }

    /**
     * The PTX target for a device of compute capability {@code major.minor}: 90 for 9.x and above,
     * 80 for 8.x; older devices are not supported (the tf32 tensor-core path needs sm_80).
     *
     * @return 90, 80, or -1 when unsupported
     */
    public static int archFor(int major, int minor) {
        int cc = major * 10 + minor;
        for (int a : ARCHS) {
            if (cc >= a) {
                return a;
            }
        }
        return -1;
    }
}
