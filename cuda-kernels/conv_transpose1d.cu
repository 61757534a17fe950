// conv_transpose1d.cu: polyphase transposed 1-d convolution, host twin
// io.vocodex.backend.cuda.CudaConvTranspose1d; the device form of CpuOps.convTranspose1dFrames.
//
// For every input frame index q in [qFrom, qFrom + nq) and phase p in [0, stride):
//   y[b][g*CoutG + co][(q - qFrom)*stride + p] = bias + sum_{cl} sum_{m : p + m*stride < K}
//        w[g*CinG + cl][co][p + m*stride] * x[b][g*CinG + cl][q - m]      (x = 0 outside [0, tx))
// GEMM view per phase: M = CoutG, N = nq, R = CinG * taps(p), r = cl*taps(p) + m; the fma chain runs
// cl ascending then m ascending, as the CPU loop does. Out-of-range frames enter the chain as fma(w, 0,
// acc), which leaves acc unchanged for finite weights (acc starts at +0 and an fma never yields -0 from
// a +0 addend), so the result equals the CPU's skipped terms bit for bit.
//
// Grid: (ceil(nq / BN), ceil(CoutG / BM), batch * groups * stride). Block: VX_EXACT_THREADS.
// STATUS: compiled, never run on a GPU.
#include "common.cuh"

extern "C" __global__ void __launch_bounds__(VX_EXACT_THREADS)
conv_transpose1d_f32(const float* __restrict__ x, const float* __restrict__ w, const float* __restrict__ bias,
                     float* __restrict__ y,
                     int batch, int cin, int cout, int kernel, int stride, int groups,
                     int tx, int qFrom, int nq,
                     long long xBatchStride, int xRowStride, long long yBatchStride, int yRowStride) {
    const int cinG = cin / groups;
    const int coutG = cout / groups;
    const int p = blockIdx.z % stride;
    const int bg = blockIdx.z / stride;
    const int g = bg % groups;
    const int b = bg / groups;
    const int coBase = blockIdx.y * VX_EXACT_BM;
    const int qBase = blockIdx.x * VX_EXACT_BN;
    if (b >= batch || coBase >= coutG || qBase >= nq) {
        return; // bounds check
    }
    const int taps = p < kernel ? (kernel - p + stride - 1) / stride : 0;
    const int R = cinG * taps;
    const float* xg = x + (long long)b * xBatchStride + (long long)g * cinG * xRowStride;
    auto loadA = [&](int mm, int r) -> float {
        int co = coBase + mm;
        if (co >= coutG) {
            return 0.f;
        }
        int cl = r / taps;
        int m = r - cl * taps;
        return w[((long long)(g * cinG + cl) * coutG + co) * kernel + p + m * stride];
    };
    auto loadB = [&](int r, int n) -> float {
        int q = qBase + n;
        if (q >= nq) {
            return 0.f;
        }
        int cl = r / taps;
        int m = r - cl * taps;
        int src = qFrom + q - m;
        return (src >= 0 && src < tx) ? xg[(long long)cl * xRowStride + src] : 0.f;
    };
    float acc[4][4];
    vx_gemm_tile_exact(R, loadA, loadB, acc);

    const int tX = threadIdx.x % 16;
    const int tY = threadIdx.x / 16;
    float* yb = y + (long long)b * yBatchStride;
#pragma unroll
    for (int i = 0; i < 4; i++) {
        int co = coBase + tY + 16 * i;
        if (co >= coutG) {
            continue;
        }
        int oc = g * coutG + co;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            int q = qBase + tX + 16 * j;
            if (q >= nq) {
                continue;
            }
            float v = acc[i][j];
            if (bias != nullptr) {
                v = __fadd_rn(v, bias[oc]);
            }
            yb[(long long)oc * yRowStride + (long long)q * stride + p] = v;
        }
    }
}
