package io.vocodex.backend.cuda;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;

/**
 * A block of device memory from a {@link CudaContext}'s pool; {@link #close()} returns it to the
 * pool (the memory itself is freed with the context). Copies are synchronous unless a stream is given.
 */
public final class DeviceBuffer implements AutoCloseable {
    private final DevicePool pool;
    private final CUdeviceptr ptr;
    private final long bytes;
    private boolean closed;

    DeviceBuffer(DevicePool pool, CUdeviceptr ptr, long bytes) {
        this.pool = pool;
        this.ptr = ptr;
        this.bytes = bytes;
    }

    /** Capacity in bytes (at least what was asked). */
    public long bytes() {
        return bytes;
    }

    CUdeviceptr pointer() {
        check();
        return ptr;
    }

    /** A pointer {@code floats} 4-byte elements into this buffer. */
    CUdeviceptr at(long elements) {
        check();
        if (elements < 0 || 4 * elements > bytes) {
            throw new IndexOutOfBoundsException("offset " + elements + " outside a buffer of " + bytes + " bytes");
        }
        return elements == 0 ? ptr : ptr.withByteOffset(4 * elements);
    }

    public void copyFrom(float[] src) {
        fits(4L * src.length);
        JCudaDriver.cuMemcpyHtoD(ptr, Pointer.to(src), 4L * src.length);
    }

    public void copyFrom(int[] src) {
        fits(4L * src.length);
        JCudaDriver.cuMemcpyHtoD(ptr, Pointer.to(src), 4L * src.length);
    }

    /** Copies the first {@code n} floats of {@code src} to the start of this buffer (synchronous). */
    public void copyFrom(float[] src, int n) {
        fits(4L * n);
        JCudaDriver.cuMemcpyHtoD(ptr, Pointer.to(src), 4L * n);
    }

    /** Copies the first {@code n} ints of {@code src} to the start of this buffer (synchronous). */
    public void copyFrom(int[] src, int n) {
        fits(4L * n);
        JCudaDriver.cuMemcpyHtoD(ptr, Pointer.to(src), 4L * n);
    }

    /** {@code n} floats from element {@code offset}, after all work on {@code stream} is done. */
    public float[] download(CudaStream stream, long offset, int n) {
        fits(4L * (offset + n));
        float[] out = new float[n];
        stream.synchronize();
        JCudaDriver.cuMemcpyDtoH(Pointer.to(out), at(offset), 4L * n);
        return out;
    }

    /** The first {@code n} floats, after all work on {@code stream} (null: the whole device) is done. */
    public float[] download(CudaStream stream, int n) {
        fits(4L * n);
        float[] out = new float[n];
        if (stream != null) {
            stream.synchronize();
        } else {
            JCudaDriver.cuCtxSynchronize();
        }
        JCudaDriver.cuMemcpyDtoH(Pointer.to(out), ptr, 4L * n);
        return out;
    }

    /** The first {@code n} ints, after all work on {@code stream} (null: the whole device) is done. */
    public int[] downloadInts(CudaStream stream, int n) {
        fits(4L * n);
        int[] out = new int[n];
        if (stream != null) {
            stream.synchronize();
        } else {
            JCudaDriver.cuCtxSynchronize();
        }
        JCudaDriver.cuMemcpyDtoH(Pointer.to(out), ptr, 4L * n);
        return out;
    }

    /** Fills the first {@code n} 4-byte words with {@code bits} on {@code stream}. */
    public void fill(CudaStream stream, int bits, long n) {
        fits(4L * n);
        JCudaDriver.cuMemsetD32Async(ptr, bits, n, stream.handle());
    }

    private void fits(long need) {
        check();
        if (need > bytes) {
            throw new IllegalArgumentException(need + " bytes do not fit a buffer of " + bytes);
        }
    }

    private void check() {
        if (closed) {
            throw new IllegalStateException("device buffer is closed");
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            pool.giveBack(ptr, bytes);
        }
    }
}
