package io.vocodex.backend.cuda;

import io.vocodex.VocodexException;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;

import java.io.IOException;
import java.io.InputStream;
import java.util.EnumMap;
import java.util.Map;

/**
 * One CUDA device's primary context, its default stream, its loaded kernels and its buffer pool.
 *
 * <pre>{@code
 * try (CudaContext cuda = new CudaContext(0); DeviceBuffer x = cuda.upload(pcm)) {
 *     new CudaElementwise(cuda).elu(cuda.stream(), x, x, pcm.length, 1f);
 *     float[] y = x.download(cuda.stream(), pcm.length);
 * }
 * }</pre>
 *
 * <p>Modules load lazily from the classpath PTX for the device's compute capability (sm_90 PTX on
 * 9.x, sm_80 PTX on 8.x; the driver JIT-compiles it), once per context; functions are cached. A
 * context is used from the thread that created it, or after {@link #makeCurrent()} on another one.
 * JCuda exceptions are enabled once per JVM, so every failing driver call throws
 * {@code jcuda.CudaException}.
 */
public final class CudaContext implements AutoCloseable {
    private static boolean exceptionsEnabled;

    private final int ordinal;
    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final int ccMajor;
    private final int ccMinor;
    private final int arch;
    private final int multiprocessors;
    private final String name;
    private final Map<KernelModule, CUmodule> modules = new EnumMap<>(KernelModule.class);
    private final Map<Kernel, CUfunction> functions = new EnumMap<>(Kernel.class);
    private final DevicePool pool;
    private final CudaStream stream;
    private boolean closed;

    /** Turns every driver error into a {@code jcuda.CudaException}; idempotent. */
    static synchronized void enableExceptions() {
        if (!exceptionsEnabled) {
            JCudaDriver.setExceptionsEnabled(true);
            exceptionsEnabled = true;
        }
    }

    /** Opens device {@code ordinal}; throws {@link VocodexException} with {@link CudaProbe}'s reason if CUDA is unusable. */
    public CudaContext(int ordinal) {
        CudaProbe.Result probe = CudaProbe.probe();
        if (!probe.available()) {
            throw new VocodexException("CUDA is not available: " + probe.reason());
        }
        if (ordinal < 0 || ordinal >= probe.deviceCount()) {
            throw new VocodexException("CUDA device " + ordinal + " does not exist (" + probe.deviceCount() + " device(s))");
        }
        this.ordinal = ordinal;
        JCudaDriver.cuDeviceGet(device, ordinal);
        int[] v = new int[1];
        JCudaDriver.cuDeviceGetAttribute(v, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device);
        ccMajor = v[0];
        JCudaDriver.cuDeviceGetAttribute(v, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device);
        ccMinor = v[0];
        JCudaDriver.cuDeviceGetAttribute(v, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, device);
        multiprocessors = v[0];
        arch = KernelModule.archFor(ccMajor, ccMinor);
        if (arch < 0) {
            throw new VocodexException("CUDA device " + ordinal + " is compute capability " + ccMajor + "." + ccMinor
                    + "; the CUDA backend needs 8.0 or newer");
        }
        byte[] nameBytes = new byte[256];
        JCudaDriver.cuDeviceGetName(nameBytes, nameBytes.length, device);
        name = new String(nameBytes, java.nio.charset.StandardCharsets.US_ASCII).replace("\0", "").trim();
        JCudaDriver.cuDevicePrimaryCtxRetain(context, device);
        JCudaDriver.cuCtxSetCurrent(context);
        pool = new DevicePool();
        stream = new CudaStream();
    }

    /** Binds this context to the calling thread. */
    public void makeCurrent() {
        check();
        JCudaDriver.cuCtxSetCurrent(context);
    }

    public int ordinal() {
        return ordinal;
    }

    public String deviceName() {
        return name;
    }

    /** Compute capability as {@code major * 10 + minor}, e.g. 90 for an H100. */
    public int computeCapability() {
        return ccMajor * 10 + ccMinor;
    }

    /** The PTX target in use: 80 or 90. */
    public int arch() {
        return arch;
    }

    public int multiprocessors() {
        return multiprocessors;
    }

    /** The context's own stream (non-blocking); use {@link #newStream()} for more. */
    public CudaStream stream() {
        check();
        return stream;
    }

    public CudaStream newStream() {
        check();
        return new CudaStream();
    }

    public CudaEvent newEvent() {
        check();
        return new CudaEvent();
    }

    /** Blocks until all work on the device has finished. */
    public void synchronize() {
        check();
        JCudaDriver.cuCtxSynchronize();
    }

    /** Free device memory in bytes (cuMemGetInfo). */
    public long freeBytes() {
        check();
        long[] free = new long[1];
        long[] total = new long[1];
        JCudaDriver.cuMemGetInfo(free, total);
        return free[0];
    }

    /** A buffer of at least {@code bytes} from the pool (contents undefined); close it to return it. */
    public DeviceBuffer allocate(long bytes) {
        check();
        return pool.take(bytes);
    }

    /** A pooled buffer holding a copy of {@code data} (synchronous copy). */
    public DeviceBuffer upload(float[] data) {
        DeviceBuffer b = allocate(4L * Math.max(1, data.length));
        b.copyFrom(data);
        return b;
    }

    /** A pooled buffer holding a copy of {@code data} (synchronous copy). */
    public DeviceBuffer upload(int[] data) {
        DeviceBuffer b = allocate(4L * Math.max(1, data.length));
        b.copyFrom(data);
        return b;
    }

    /** The function for {@code k}, loading its module on first use. */
    synchronized jcuda.driver.CUfunction function(Kernel k) {
        check();
        CUfunction f = functions.get(k);
        if (f == null) {
            CUmodule m = modules.get(k.module());
            if (m == null) {
                m = loadModule(k.module());
                modules.put(k.module(), m);
            }
            f = new CUfunction();
            JCudaDriver.cuModuleGetFunction(f, m, k.symbol());
            functions.put(k, f);
        }
        return f;
    }

    private CUmodule loadModule(KernelModule km) {
        String res = km.resource(arch);
        byte[] ptx;
        try (InputStream in = CudaContext.class.getResourceAsStream(res)) {
            if (in == null) {
                throw new VocodexException("PTX resource " + res + " is missing from the classpath; build with nvcc on PATH");
            }
            ptx = in.readAllBytes();
        } catch (IOException e) {
            throw new VocodexException("cannot read PTX resource " + res + ": " + e.getMessage(), e);
        }
        byte[] z = java.util.Arrays.copyOf(ptx, ptx.length + 1); // cuModuleLoadData wants a NUL-terminated image
        CUmodule m = new CUmodule();
        JCudaDriver.cuModuleLoadData(m, z);
        return m;
    }

    /**
     * Launches {@code k} on {@code s} with a {@code (gx, gy, gz)} grid of {@code block}-thread blocks.
     * Every kernel checks its own bounds, so over-sized grids are safe.
     */
    void launch(Kernel k, CudaStream s, int gx, int gy, int gz, int block, Pointer args) {
        if (gx <= 0 || gy <= 0 || gz <= 0) {
            return; // empty problem
        }
        JCudaDriver.cuLaunchKernel(function(k), gx, gy, gz, block, 1, 1, 0, s.handle(), args, null);
    }

    private void check() {
        if (closed) {
            throw new IllegalStateException("CUDA context is closed");
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        JCudaDriver.cuCtxSetCurrent(context);
        try {
            JCudaDriver.cuCtxSynchronize();
        } finally {
            closed = true;
            stream.close();
            pool.close();
            for (CUmodule m : modules.values()) {
                JCudaDriver.cuModuleUnload(m);
            }
            modules.clear();
            functions.clear();
            JCudaDriver.cuDevicePrimaryCtxRelease(device);
        }
    }
}
