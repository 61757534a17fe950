package io.vocodex.backend.cuda;

/**
 * Host side of {@code elementwise.cu}: ELU and add over contiguous buffers, grid-stride, any launch
 * shape. Both are bit-identical to {@code CpuOps.eluInPlace}/{@code CpuOps.add}: ELU ports CpuOps'
 * float polynomial {@code expm1NonPositive} operation for operation (see docs/cuda.md).
 */
public final class CudaElementwise {
    /** Default block size (VX_ELT_THREADS) and a cap on blocks (grid-stride beyond it). */
    public static final int THREADS = 256;
    public static final int MAX_BLOCKS = 65535;

    private final CudaContext ctx;

    public CudaElementwise(CudaContext ctx) {
        this.ctx = ctx;
    }

    /** {@code y = elu(x)} over {@code n} elements; {@code y} may be {@code x}. */
    public void elu(CudaStream s, DeviceBuffer x, DeviceBuffer y, long n, float alpha) {
        elu(s, x, y, n, alpha, THREADS, MAX_BLOCKS);
    }

    /** {@link #elu} with an explicit launch shape (tests vary it). */
    public void elu(CudaStream s, DeviceBuffer x, DeviceBuffer y, long n, float alpha, int threads, int maxBlocks) {
        ctx.launch(Kernel.ELU_F32, s, blocks(n, threads, maxBlocks), 1, 1, threads,
                new Args().buf(x).buf(y).i64(n).f32(alpha).build());
    }

    /** {@code y = a + b} over {@code n} elements; {@code y} may alias either input. */
    public void add(CudaStream s, DeviceBuffer a, DeviceBuffer b, DeviceBuffer y, long n) {
        add(s, a, b, y, n, THREADS, MAX_BLOCKS);
    }

    public void add(CudaStream s, DeviceBuffer a, DeviceBuffer b, DeviceBuffer y, long n, int threads, int maxBlocks) {
        ctx.launch(Kernel.ADD_F32, s, blocks(n, threads, maxBlocks), 1, 1, threads,
                new Args().buf(a).buf(b).buf(y).i64(n).build());
    }

    static int blocks(long n, int threads, int maxBlocks) {
        return (int) Math.min(maxBlocks, (n + threads - 1) / threads);
    }
}
