package io.vocodex.backend.cuda;

import jcuda.driver.CUgraph;
import jcuda.driver.CUgraphExec;
import jcuda.driver.CUstreamCaptureMode;
import jcuda.driver.JCudaDriver;

/**
 * A captured and instantiated CUDA graph: {@link #capture} records every launch that {@code body}
 * issues on {@code stream} (stream capture, {@code cuStreamBeginCapture}/{@code cuStreamEndCapture}),
 * then {@code cuGraphInstantiate}; {@link #launch} replays it with one driver call. Kernel arguments
 * (buffer pointers, shapes) are frozen at capture, so a graph suits a step whose buffers and
 * geometry are fixed (a streaming tick over preallocated slot buffers); see docs/cuda.md.
 */
public final class CudaGraph implements AutoCloseable {
    private final CUgraph graph = new CUgraph();
    private final CUgraphExec exec = new CUgraphExec();
    private boolean closed;

    private CudaGraph() {
    }

    /** Captures what {@code body} issues on {@code stream} (which must not be the legacy default stream). */
    public static CudaGraph capture(CudaStream stream, Runnable body) {
        CudaGraph g = new CudaGraph();
        JCudaDriver.cuStreamBeginCapture(stream.handle(), CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL);
        try {
            body.run();
        } finally {
            JCudaDriver.cuStreamEndCapture(stream.handle(), g.graph);
        }
        JCudaDriver.cuGraphInstantiate(g.exec, g.graph, 0L);
        return g;
    }

    /** Replays the graph on {@code stream}. */
    public void launch(CudaStream stream) {
        if (closed) {
            throw new IllegalStateException("graph is closed");
        }
        JCudaDriver.cuGraphLaunch(exec, stream.handle());
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            JCudaDriver.cuGraphExecDestroy(exec);
            JCudaDriver.cuGraphDestroy(graph);
        }
    }
}
