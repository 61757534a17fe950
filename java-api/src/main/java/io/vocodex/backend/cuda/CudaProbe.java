package io.vocodex.backend.cuda;

import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.JCudaDriver;

import java.io.InputStream;

/**
 * Whether the CUDA backend can run here, and why not. It is usable when JCuda's native library loads
 * (which needs the driver's {@code libcuda.so.1}), {@code cuInit} succeeds, at least one device is
 * present, device 0 is compute capability 8.0 or newer, and this build ships PTX (it was built with
 * nvcc). Probing never throws: every failure, including a missing driver library, becomes a reason.
 * The result is computed once per JVM.
 */
public final class CudaProbe {
    /** The outcome; {@code reason} is one human-readable line either way. */
    public record Result(boolean available, String reason, int deviceCount, String deviceName, int ccMajor, int ccMinor) {
    }

    private static volatile Result cached;

    private CudaProbe() {
    }

    public static Result probe() {
        Result r = cached;
        if (r == null) {
            synchronized (CudaProbe.class) {
                r = cached;
                if (r == null) {
                    r = run();
                    cached = r;
                }
            }
        }
        return r;
    }

    private static Result run() {
        try {
            CudaContext.enableExceptions();
            JCudaDriver.cuInit(0);
            int[] n = new int[1];
            JCudaDriver.cuDeviceGetCount(n);
            if (n[0] == 0) {
                return new Result(false, "the CUDA driver reports no device", 0, null, 0, 0);
            }
            CUdevice dev = new CUdevice();
            JCudaDriver.cuDeviceGet(dev, 0);
            byte[] name = new byte[256];
            JCudaDriver.cuDeviceGetName(name, name.length, dev);
            String devName = new String(name, java.nio.charset.StandardCharsets.US_ASCII).trim().replace("\0", "");
            int[] major = new int[1];
            int[] minor = new int[1];
            JCudaDriver.cuDeviceGetAttribute(major, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev);
            JCudaDriver.cuDeviceGetAttribute(minor, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev);
            int arch = KernelModule.archFor(major[0], minor[0]);
            if (arch < 0) {
                return new Result(false, devName + " is compute capability " + major[0] + "." + minor[0]
                        + "; the CUDA backend needs 8.0 or newer", n[0], devName, major[0], minor[0]);
            }
            String missing = missingPtx(arch);
            if (missing != null) {
                return new Result(false, "this build ships no PTX (" + missing + " is missing: it was built without nvcc)",
                        n[0], devName, major[0], minor[0]);
            }
            return new Result(true, "CUDA device 0: " + devName + " (compute " + major[0] + "." + minor[0] + ", "
                    + n[0] + " device(s))", n[0], devName, major[0], minor[0]);
        } catch (LinkageError e) {
            return new Result(false, "JCuda could not load its native library (is the NVIDIA driver installed?): "
                    + firstLines(e), 0, null, 0, 0);
        } catch (RuntimeException e) {
            return new Result(false, "CUDA initialisation failed: " + firstLines(e), 0, null, 0, 0);
        }
    }

    /**
     * JCuda's load errors carry whole nested stack traces in their message; keep the first line and the
     * line naming the missing shared object, so the reason stays one line.
     */
    static String firstLines(Throwable e) {
        String msg = String.valueOf(e.getMessage());
        String[] lines = msg.split("\\R");
        StringBuilder sb = new StringBuilder(lines[0].trim());
        for (String l : lines) {
            if (l.contains("cannot open shared object") || l.contains("libcuda")) {
                sb.append(" (").append(l.trim()).append(")");
                break;
            }
        }
        return sb.toString();
    }

    /** The first missing PTX resource for {@code arch}, or null when all are there. */
    static String missingPtx(int arch) {
        for (KernelModule m : KernelModule.values()) {
            try (InputStream in = CudaProbe.class.getResourceAsStream(m.resource(arch))) {
                if (in == null) {
                    return m.resource(arch);
                }
            } catch (java.io.IOException e) {
                return m.resource(arch);
            }
        }
        return null;
    }
}
