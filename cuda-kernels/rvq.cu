// rvq.cu: residual vector quantization, host twin io.vocodex.backend.cuda.CudaRvq
// (CpuOps.nearestCodes, ResidualVectorQuantizer.encode/decode).
//
// rvq_nearest_f32: for each frame (b, t) of residual (B, D, T), the code n of codebook (N, D) minimising
//     dist = (|x|^2 - 2 x.e_n) + |e_n|^2          (float32, the original's expression)
// with |x|^2 and x.e_n each ONE fmaf chain over d ascending, ties and all-non-finite rows resolving to the
// lowest index exactly as the CPU's strict "<" scan. It is a fused distance GEMM + argmin: a block takes
// FRAMES frames, walks the codebook in chunks of CODES codes (a FRAMES x CODES tile of dot products in
// registers, D streamed through shared memory in BK slices), keeps a running (dist, index) per frame and
// reduces across threads with shuffles; the distance matrix never exists in memory. With
// updateResidual != 0 it then subtracts the chosen code from the residual in place (the next codebook's
// input), r = r - e[idx][d], as the CPU does.
//
// vq_cdist_nearest_f32: the same search with Mimi's distance (VqOps.nearestCodes, torch.cdist's matrix-product
// path): |x|^2 and |e|^2 as sums of separately rounded squares, the dot as acc = acc + (-2 x_d) e_d (each product
// and sum rounded, no fma), then ((dot + |x|^2) + |e|^2), key sqrt(max(., 0)) (IEEE sqrt; equal keys -> lowest
// index, as the CPU's strict "<" scan, which can tie two nearly equal squared distances). norms: VqOps.squaredNorms.
//
// rvq_decode_f32: out[b][d][t] = sum over k ascending of codebooks[k][codes[b][k][t]][d], starting from +0
// (ResidualVectorQuantizer.decode); an out-of-range code yields NaN (the host validates codes first).
//
// STATUS: compiled, never run on a GPU.
#include "common.cuh"
#include <climits>

// kCdist == false: rvq_nearest_f32 (EnCodec); true: vq_cdist_nearest_f32 (Mimi, see the header).
template <bool kCdist>
__device__ __forceinline__ void rvq_nearest_impl(float* __restrict__ residual, const float* __restrict__ codebook,
                                                 const float* __restrict__ norms, int* __restrict__ codes, int batch,
                                                 int dim, int numCodes, int frames, long long rBatchStride, int rRowStride,
                                                 long long codesBatchStride, int updateResidual) {
    const int b = blockIdx.y;
    const int t0 = blockIdx.x * VX_RVQ_FRAMES;
    if (b >= batch || t0 >= frames) {
        return; // bounds check
    }
    __shared__ float Xs[VX_RVQ_BK][VX_RVQ_FRAMES];
    __shared__ float Es[VX_RVQ_CODES][VX_RVQ_BK + 1];
    __shared__ float xx[VX_RVQ_FRAMES];
    __shared__ int chosen[VX_RVQ_FRAMES];
    const int tid = threadIdx.x;
    const int tx = tid % 16; // codes tx + 16*j
    const int ty = tid / 16; // frames ty + 16*i
    float* rb = residual + (long long)b * rBatchStride;

    if (tid < VX_RVQ_FRAMES) {
        float s = 0.f;
        int t = t0 + tid;
        if (t < frames) {
            for (int d = 0; d < dim; d++) {
                float v = rb[(long long)d * rRowStride + t];
                s = kCdist ? __fadd_rn(s, __fmul_rn(v, v)) : fmaf(v, v, s); // VqOps.squaredNorms : CpuOps
            }
        }
        xx[tid] = s;
    }
    float bestD[2] = {INFINITY, INFINITY};
    int bestI[2] = {INT_MAX, INT_MAX};
    for (int n0 = 0; n0 < numCodes; n0 += VX_RVQ_CODES) {
        float acc[2][4];
#pragma unroll
        for (int i = 0; i < 2; i++) {
#pragma unroll
            for (int j = 0; j < 4; j++) {
                acc[i][j] = 0.f;
            }
        }
        for (int d0 = 0; d0 < dim; d0 += VX_RVQ_BK) {
            for (int e = tid; e < VX_RVQ_BK * VX_RVQ_FRAMES; e += VX_RVQ_THREADS) {
                int kk = e / VX_RVQ_FRAMES;
                int f = e % VX_RVQ_FRAMES;
                int d = d0 + kk;
                int t = t0 + f;
                Xs[kk][f] = (d < dim && t < frames) ? rb[(long long)d * rRowStride + t] : 0.f;
            }
            for (int e = tid; e < VX_RVQ_CODES * VX_RVQ_BK; e += VX_RVQ_THREADS) {
                int cc = e / VX_RVQ_BK;
                int kk = e % VX_RVQ_BK;
                int n = n0 + cc;
                int d = d0 + kk;
                Es[cc][kk] = (n < numCodes && d < dim) ? codebook[(long long)n * dim + d] : 0.f;
            }
            __syncthreads();
            const int kmax = min(VX_RVQ_BK, dim - d0);
            for (int kk = 0; kk < kmax; kk++) {
                float xv[2];
                float ev[4];
#pragma unroll
                for (int i = 0; i < 2; i++) {
                    xv[i] = Xs[kk][ty + 16 * i];
                }
#pragma unroll
                for (int j = 0; j < 4; j++) {
                    ev[j] = Es[tx + 16 * j][kk];
                }
#pragma unroll
                for (int i = 0; i < 2; i++) {
#pragma unroll
                    for (int j = 0; j < 4; j++) {
                        if (kCdist) { // VqOps: acc = acc + (-2 x_d) e_d, each step rounded
                            acc[i][j] = __fadd_rn(acc[i][j], __fmul_rn(__fmul_rn(-2.f, xv[i]), ev[j]));
                        } else {      // CPU: fma(v[d], e[n][d], dot)
                            acc[i][j] = fmaf(xv[i], ev[j], acc[i][j]);
                        }
                    }
                }
            }
            __syncthreads();
        }
        // This thread's codes ascend with j and with n0, so a strict "<" keeps the lowest index.
#pragma unroll
        for (int j = 0; j < 4; j++) {
            int n = n0 + tx + 16 * j;
            if (n >= numCodes) {
                continue;
            }
            float nn = norms[n];
#pragma unroll
            for (int i = 0; i < 2; i++) {
                float dist;
                if (kCdist) {
                    // ((-2x).e + |x|^2) + |e|^2, then sqrt(max(., 0)) with Java's Math.max (NaN stays NaN)
                    float a = __fadd_rn(__fadd_rn(acc[i][j], xx[ty + 16 * i]), nn);
                    dist = __fsqrt_rn(a != a ? a : (a > 0.f ? a : 0.f));
                } else {
                    dist = __fadd_rn(__fsub_rn(xx[ty + 16 * i], __fmul_rn(2.f, acc[i][j])), nn);
                }
                if (dist < bestD[i]) {
                    bestD[i] = dist;
                    bestI[i] = n;
                }
            }
        }
    }
    // Reduce over the 16 threads (a half warp) that share frames ty and ty + 16: smaller distance wins,
    // equal distances go to the lower index. Candidates never beat +inf, so a row with no finite distance
    // keeps INT_MAX everywhere and becomes code 0, as the CPU scan's initial best = 0.
#pragma unroll
    for (int i = 0; i < 2; i++) {
        float d = bestD[i];
        int n = bestI[i];
#pragma unroll
        for (int off = 8; off > 0; off >>= 1) {
            float od = __shfl_xor_sync(0xffffffffu, d, off, 16);
            int on = __shfl_xor_sync(0xffffffffu, n, off, 16);
            if (od < d || (od == d && on < n)) {
                d = od;
                n = on;
            }
        }
        if (tx == 0) {
            int f = ty + 16 * i;
            int code = n == INT_MAX ? 0 : n;
            chosen[f] = code;
            if (t0 + f < frames) {
                codes[(long long)b * codesBatchStride + t0 + f] = code;
            }
        }
    }
    if (!updateResidual) {
        return;
    }
    __syncthreads();
    for (int e = tid; e < dim * VX_RVQ_FRAMES; e += VX_RVQ_THREADS) {
        int d = e / VX_RVQ_FRAMES;
        int f = e % VX_RVQ_FRAMES;
        int t = t0 + f;
        if (t < frames) {
            long long o = (long long)d * rRowStride + t;
            rb[o] = __fsub_rn(rb[o], codebook[(long long)chosen[f] * dim + d]);
        }
    }
}

extern "C" __global__ void __launch_bounds__(VX_RVQ_THREADS)
rvq_nearest_f32(float* __restrict__ residual, const float* __restrict__ codebook, const float* __restrict__ norms,
                int* __restrict__ codes, int batch, int dim, int numCodes, int frames,
                long long rBatchStride, int rRowStride, long long codesBatchStride, int updateResidual) {
    rvq_nearest_impl<false>(residual, codebook, norms, codes, batch, dim, numCodes, frames, rBatchStride, rRowStride,
                            codesBatchStride, updateResidual);
}

extern "C" __global__ void __launch_bounds__(VX_RVQ_THREADS)
vq_cdist_nearest_f32(float* __restrict__ residual, const float* __restrict__ codebook, const float* __restrict__ norms,
                     int* __restrict__ codes, int batch, int dim, int numCodes, int frames,
                     long long rBatchStride, int rRowStride, long long codesBatchStride, int updateResidual) {
    rvq_nearest_impl<true>(residual, codebook, norms, codes, batch, dim, numCodes, frames, rBatchStride, rRowStride,
                           codesBatchStride, updateResidual);
}

extern "C" __global__ void rvq_decode_f32(const int* __restrict__ codes, const float* __restrict__ codebooks,
                                          float* __restrict__ out, int batch, int nq, int numCodes, int dim,
                                          int frames, long long codesBatchStride, int codesRowStride,
                                          long long outBatchStride, int outRowStride) {
    const long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long long)batch * dim * frames) {
        return; // bounds check
    }
    const int t = (int)(idx % frames);
    const int d = (int)((idx / frames) % dim);
    const int b = (int)(idx / ((long long)frames * dim));
    const int* cb = codes + (long long)b * codesBatchStride + t;
    float acc = 0.f;
    for (int k = 0; k < nq; k++) {
        int code = cb[(long long)k * codesRowStride];
        if (code < 0 || code >= numCodes) {
            acc = NAN;
            break;
        }
        acc = __fadd_rn(acc, codebooks[((long long)k * numCodes + code) * dim + d]);
    }
    out[(long long)b * outBatchStride + (long long)d * outRowStride + t] = acc;
}
