package io.vocodex.backend.cuda;

import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.JCudaDriver;

/** A CUDA event for timing and cross-stream ordering. */
public final class CudaEvent implements AutoCloseable {
    private final CUevent event = new CUevent();
    private boolean closed;

    CudaEvent() {
        JCudaDriver.cuEventCreate(event, CUevent_flags.CU_EVENT_DEFAULT);
    }

    /** Records this event on {@code stream}. */
    public void record(CudaStream stream) {
        check();
        JCudaDriver.cuEventRecord(event, stream.handle());
    }

    public void synchronize() {
        check();
        JCudaDriver.cuEventSynchronize(event);
    }

    /** Makes {@code stream} wait for this event (device-side; the host does not block). */
    public void waitOn(CudaStream stream) {
        check();
        JCudaDriver.cuStreamWaitEvent(stream.handle(), event, 0);
    }

    /** Milliseconds from {@code start} to this event; both must have completed. */
    public float millisSince(CudaEvent start) {
        check();
        float[] ms = new float[1];
        JCudaDriver.cuEventElapsedTime(ms, start.event, event);
        return ms[0];
    }

    private void check() {
        if (closed) {
            throw new IllegalStateException("event is closed");
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            JCudaDriver.cuEventDestroy(event);
        }
    }
}
