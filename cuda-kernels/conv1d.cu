// conv1d.cu: 1-d convolution as an implicit GEMM, host twin io.vocodex.backend.cuda.CudaConv1d.
//
//   y[b][g*CoutG + co][t] = residual + (bias + sum_{cl, k} w[co][cl][k] * xin[b][g*CinG + cl][t*stride + k*dilation])
//
// where xin is the input row padded on the fly (pad mode, padLeft, raw length `len`, EnCodec's zero
// extension to `lenExt`) and optionally passed through ELU first (fuses EluLayer + pad + conv), and
// `residual` (may alias y) fuses ResidualBlock's add. GEMM view: M = CoutG, N = Tout, R = CinG * K,
// A = w (row-major, r = cl*K + k), B = im2col(xin).
//
//   conv1d_f32:  exact; each output is the CpuOps.conv1d fma chain (ci ascending, k ascending).
//   conv1d_tf32: tensor cores (WMMA m16n16k8, tf32 inputs, fp32 accumulation); speed mode.
//
// Grid: (ceil(Tout / BN), ceil(CoutG / BM), batch * groups). Block: VX_EXACT_THREADS / VX_TC_THREADS.
// STATUS: compiled, never run on a GPU.
#include "common.cuh"
#include <mma.h>

extern "C" __global__ void __launch_bounds__(VX_EXACT_THREADS)
conv1d_f32(const float* __restrict__ x, const float* __restrict__ w, const float* __restrict__ bias,
           const float* residual, float* y,
           int batch, int cin, int cout, int kernel, int stride, int dilation, int groups,
           int len, int lenExt, int padLeft, int padMode, int tout,
           long long xBatchStride, int xRowStride, long long yBatchStride, int yRowStride,
           int elu, float alpha) {
    const int cinG = cin / groups;
    const int coutG = cout / groups;
    const int b = blockIdx.z / groups;
    const int g = blockIdx.z % groups;
    const int coBase = blockIdx.y * VX_EXACT_BM;
    const int tBase = blockIdx.x * VX_EXACT_BN;
    if (b >= batch || coBase >= coutG || tBase >= tout) {
        return; // bounds check (whole block, before any barrier)
    }
    const int R = cinG * kernel;
    const float* xg = x + (long long)b * xBatchStride + (long long)g * cinG * xRowStride;
    const float* wg = w + (long long)g * coutG * R;
    auto loadA = [&](int m, int r) -> float {
        int co = coBase + m;
        return co < coutG ? wg[(long long)co * R + r] : 0.f;
    };
    auto loadB = [&](int r, int n) -> float {
        int t = tBase + n;
        if (t >= tout) {
            return 0.f;
        }
        int cl = r / kernel;
        int k = r - cl * kernel;
        long long p = (long long)t * stride + (long long)k * dilation;
        float v = vx_load_padded(xg + (long long)cl * xRowStride, p, padLeft, len, lenExt, padMode);
        return elu ? vx_elu(v, alpha) : v;
    };
    float acc[4][4];
    vx_gemm_tile_exact(R, loadA, loadB, acc);

    const int tx = threadIdx.x % 16;
    const int ty = threadIdx.x / 16;
    float* yb = y + (long long)b * yBatchStride;
    const float* rb = residual == nullptr ? nullptr : residual + (long long)b * yBatchStride;
#pragma unroll
    for (int i = 0; i < 4; i++) {
        int co = coBase + ty + 16 * i;
        if (co >= coutG) {
            continue;
        }
        int oc = g * coutG + co;
#pragma unroll
        for (int j = 0; j < 4; j++) {
            int t = tBase + tx + 16 * j;
            if (t >= tout) {
                continue;
            }
            float v = acc[i][j];
            if (bias != nullptr) {
                v = __fadd_rn(v, bias[oc]);
            }
            long long o = (long long)oc * yRowStride + t;
            if (rb != nullptr) {
                v = __fadd_rn(rb[o], v); // ResidualBlock: shortcut + block
            }
            yb[o] = v;
        }
    }
}

extern "C" __global__ void __launch_bounds__(VX_TC_THREADS)
conv1d_tf32(const float* __restrict__ x, const float* __restrict__ w, const float* __restrict__ bias,
            const float* residual, float* y,
            int batch, int cin, int cout, int kernel, int stride, int dilation, int groups,
            int len, int lenExt, int padLeft, int padMode, int tout,
            long long xBatchStride, int xRowStride, long long yBatchStride, int yRowStride,
            int elu, float alpha) {
    using namespace nvcuda;
    const int cinG = cin / groups;
    const int coutG = cout / groups;
    const int b = blockIdx.z / groups;
    const int g = blockIdx.z % groups;
    const int coBase = blockIdx.y * VX_TC_BM;
    const int tBase = blockIdx.x * VX_TC_BN;
    if (b >= batch || coBase >= coutG || tBase >= tout) {
        return; // bounds check
    }
    const int R = cinG * kernel;
    const float* xg = x + (long long)b * xBatchStride + (long long)g * cinG * xRowStride;
    const float* wg = w + (long long)g * coutG * R;

    // ldm must be a multiple of 4 floats for WMMA; +4 also staggers the banks.
    __shared__ __align__(32) float As[VX_TC_BM][VX_TC_BK + 4];
    __shared__ __align__(32) float Bs[VX_TC_BK][VX_TC_BN + 4];
    __shared__ __align__(32) float Cs[VX_TC_BM][VX_TC_BN + 4];

    const int tid = threadIdx.x;
    const int warp = tid / 32;
    const int warpM = warp / 2; // 0..1: rows warpM*32 .. +32
    const int warpN = warp % 2; // 0..1: cols warpN*32 .. +32

    wmma::fragment<wmma::accumulator, 16, 16, 8, float> c[2][2];
#pragma unroll
    for (int i = 0; i < 2; i++) {
#pragma unroll
        for (int j = 0; j < 2; j++) {
            wmma::fill_fragment(c[i][j], 0.f);
        }
    }
    for (int r0 = 0; r0 < R; r0 += VX_TC_BK) {
        for (int e = tid; e < VX_TC_BM * VX_TC_BK; e += VX_TC_THREADS) {
            int m = e / VX_TC_BK;
            int kk = e % VX_TC_BK;
            int co = coBase + m;
            int r = r0 + kk;
            As[m][kk] = (co < coutG && r < R) ? wg[(long long)co * R + r] : 0.f;
        }
        for (int e = tid; e < VX_TC_BK * VX_TC_BN; e += VX_TC_THREADS) {
            int kk = e / VX_TC_BN;
            int n = e % VX_TC_BN;
            int r = r0 + kk;
            int t = tBase + n;
            float v = 0.f;
            if (r < R && t < tout) {
                int cl = r / kernel;
                int k = r - cl * kernel;
                long long p = (long long)t * stride + (long long)k * dilation;
                v = vx_load_padded(xg + (long long)cl * xRowStride, p, padLeft, len, lenExt, padMode);
                v = elu ? vx_elu(v, alpha) : v;
            }
            Bs[kk][n] = v;
        }
        __syncthreads();
#pragma unroll
        for (int ks = 0; ks < VX_TC_BK; ks += 8) {
            wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, wmma::row_major> fa[2];
            wmma::fragment<wmma::matrix_b, 16, 16, 8, wmma::precision::tf32, wmma::row_major> fb[2];
#pragma unroll
            for (int i = 0; i < 2; i++) {
                wmma::load_matrix_sync(fa[i], &As[warpM * 32 + i * 16][ks], VX_TC_BK + 4);
#pragma unroll
                for (int e = 0; e < fa[i].num_elements; e++) {
                    fa[i].x[e] = wmma::__float_to_tf32(fa[i].x[e]);
                }
                wmma::load_matrix_sync(fb[i], &Bs[ks][warpN * 32 + i * 16], VX_TC_BN + 4);
#pragma unroll
                for (int e = 0; e < fb[i].num_elements; e++) {
                    fb[i].x[e] = wmma::__float_to_tf32(fb[i].x[e]);
                }
            }
#pragma unroll
            for (int i = 0; i < 2; i++) {
#pragma unroll
                for (int j = 0; j < 2; j++) {
                    wmma::mma_sync(c[i][j], fa[i], fb[j], c[i][j]);
                }
            }
        }
        __syncthreads();
    }
#pragma unroll
    for (int i = 0; i < 2; i++) {
#pragma unroll
        for (int j = 0; j < 2; j++) {
            wmma::store_matrix_sync(&Cs[warpM * 32 + i * 16][warpN * 32 + j * 16], c[i][j], VX_TC_BN + 4,
                                    wmma::mem_row_major);
        }
    }
    __syncthreads();
    float* yb = y + (long long)b * yBatchStride;
    const float* rb = residual == nullptr ? nullptr : residual + (long long)b * yBatchStride;
    for (int e = tid; e < VX_TC_BM * VX_TC_BN; e += VX_TC_THREADS) {
        int m = e / VX_TC_BN;
        int n = e % VX_TC_BN;
        int co = coBase + m;
        int t = tBase + n;
        if (co >= coutG || t >= tout) {
            continue;
        }
        int oc = g * coutG + co;
        float v = Cs[m][n];
        if (bias != nullptr) {
            v = __fadd_rn(v, bias[oc]);
        }
        long long o = (long long)oc * yRowStride + t;
        if (rb != nullptr) {
            v = __fadd_rn(rb[o], v);
        }
        yb[o] = v;
    }
}
