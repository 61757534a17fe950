// elementwise.cu: ELU and add, host twin io.vocodex.backend.cuda.CudaElementwise.
// Grid-stride loops over n elements of contiguous buffers, so any launch configuration is valid
// (the parity tests use several). The common ELU -> conv and conv + shortcut pairs are fused into
// conv1d_f32/tf32 instead (see conv1d.cu); these kernels serve the remaining uses (decoder ELU
// before a transposed conv, LSTM skip, standalone ops).
//
//   elu_f32: y = x > 0 ? x : alpha * expm1NonPositive(x)  (CpuOps.eluRow, bit-identical; y may alias x)
//   add_f32: y = a + b                                            (CpuOps.add; y may alias a or b)
// STATUS: compiled, never run on a GPU.
#include "common.cuh"

extern "C" __global__ void elu_f32(const float* x, float* y, long long n, float alpha) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) {
        return; // bounds check
    }
    const long long step = (long long)gridDim.x * blockDim.x;
    for (; i < n; i += step) {
        y[i] = vx_elu(x[i], alpha);
    }
}

extern "C" __global__ void add_f32(const float* a, const float* b, float* y, long long n) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) {
        return; // bounds check
    }
    const long long step = (long long)gridDim.x * blockDim.x;
    for (; i < n; i += step) {
        y[i] = __fadd_rn(a[i], b[i]);
    }
}
