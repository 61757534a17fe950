package io.vocodex.backend.cuda;

import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;

/** A non-blocking CUDA stream of a {@link CudaContext}; kernels and copies are issued in order on it. */
public final class CudaStream implements AutoCloseable {
    private final CUstream stream = new CUstream();
    private boolean closed;

    CudaStream() {
        JCudaDriver.cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING);
    }

    CUstream handle() {
        check();
        return stream;
    }

    /** Blocks until all work issued on this stream has finished. */
    public void synchronize() {
        JCudaDriver.cuStreamSynchronize(handle());
    }

    private void check() {
        if (closed) {
            throw new IllegalStateException("stream is closed");
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            JCudaDriver.cuStreamDestroy(stream);
        }
    }
}
