// codebook_search.cu: nearest code in one large Euclidean codebook (DistilCodec: 32768 codes x 3584 dims),
// host twin io.vocodex.backend.cuda.CudaCodebookSearch, CPU twin io.vocodex.backend.cpu.CodebookSearch.
//
// codebook_row_norms_f32: norms[r] = sum over d ascending of fmaf(v[r][d], v[r][d], acc), acc from +0: the
//     frames' |x|^2 per call (and the codebook's |e|^2, which the host may instead upload from the CPU's
//     CodebookSearch.codeNorms: the same chain, so the same bits). One thread per row.
//
// codebook_search_f32: for every frame t of X (N, D) the code n of E (C, D) minimising the CPU contract's
//     key(t, n) = sqrt(max((xx[t] + yy[n]) - 2 * dot(t, n), 0))     (float32; Java's Math.max: NaN stays NaN)
// where dot(t, n) is ONE fmaf chain over d ascending starting from +0, exactly CodebookSearch's order, and
// every other operation is an explicit round-to-nearest intrinsic (no contraction). Ranking: a NaN key
// first (torch.argmax(-cdist) takes the first NaN), then the smallest key; equal keys -> lowest index.
// Each candidate becomes one 64-bit word, (rank(key) << 32) | n with rank(NaN) = 0 and rank(k) = bits(k) + 1
// (k >= +0, so its bits order like the floats), so "smallest word" is exactly that ranking, tie-break
// included, whatever order the candidates are compared in.
//
// It is a fused distance GEMM + argmin: a block owns SB_FRAMES frames and a contiguous range of code tiles
// (grid.y splits the codebook so that small frame counts still fill the GPU); per code tile of SB_CODES
// codes it streams D through shared memory in SB_BK slices (double-buffered: the next slice's global loads
// are in flight while the current one is multiplied; float4 loads when D % 4 == 0), each thread holding an
// 8 x 8 register tile of dot products. The tile is turned into keys in registers and folded into the
// thread's running best word per frame; the distance matrix never exists in memory. At the end the 16
// threads sharing a frame reduce by shuffles and one atomicMin per (frame, block) merges the code ranges
// into best[t] (the host fills best with all ones first). The codebook is read once per frame tile.
//
// STATUS: compiled for compute_80/compute_90, never run on a GPU. See docs/gpu-verification.md.
#include "common.cuh"
#include <cstdint>

__device__ __forceinline__ unsigned long long vx_search_word(float dist, int code) {
    // Math.max(dist, 0f): NaN stays NaN, -0 and negatives become +0
    const float clamped = dist != dist ? dist : (dist > 0.f ? dist : 0.f);
    const float key = __fsqrt_rn(clamped); // == (float) Math.sqrt((double) clamped): double rounding is innocuous
    const unsigned int rank = key != key ? 0u : __float_as_uint(key) + 1u;
    return ((unsigned long long)rank << 32) | (unsigned int)code;
}

extern "C" __global__ void __launch_bounds__(VX_ELT_THREADS)
codebook_row_norms_f32(const float* __restrict__ rows, float* __restrict__ norms, int numRows, int dim) {
    const long long r = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (r >= numRows) {
        return; // bounds check
    }
    const float* v = rows + r * dim;
    float acc = 0.f;
    for (int d = 0; d < dim; d++) {
        acc = fmaf(v[d], v[d], acc); // CPU: Math.fma(v, v, acc), d ascending
    }
    norms[r] = acc;
}

// One BK-slice of a (ROWS x BK) row-major tile, rows [row0, row0 + ROWS) of a (numRows, dim) matrix, columns
// [k0, k0 + BK): each of the 256 threads loads 4 consecutive k of one row (zero outside the matrix).
__device__ __forceinline__ float4 vx_search_load(const float* __restrict__ m, int numRows, int dim, int row0, int k0,
                                                 bool vec4) {
    const int tid = threadIdx.x;
    const int row = row0 + tid / 2;
    const int k = k0 + (tid % 2) * 4;
    float4 v = make_float4(0.f, 0.f, 0.f, 0.f);
    if (row < numRows) {
        const float* p = m + (long long)row * dim + k;
        if (vec4 && k + 3 < dim) {
            v = __ldg(reinterpret_cast<const float4*>(p));
        } else {
            v.x = k < dim ? __ldg(p) : 0.f;
            v.y = k + 1 < dim ? __ldg(p + 1) : 0.f;
            v.z = k + 2 < dim ? __ldg(p + 2) : 0.f;
            v.w = k + 3 < dim ? __ldg(p + 3) : 0.f;
        }
    }
    return v;
}

// Stores a loaded slice transposed, s[k][row], so the compute loop reads 4 consecutive rows as one float4.
__device__ __forceinline__ void vx_search_store(float (*s)[VX_SEARCH_LD], float4 v) {
    const int tid = threadIdx.x;
    const int row = tid / 2;
    const int k = (tid % 2) * 4;
    s[k][row] = v.x;
    s[k + 1][row] = v.y;
    s[k + 2][row] = v.z;
    s[k + 3][row] = v.w;
}

// acc[i][j] = fmaf(x[i], e[j], acc[i][j]) for k in [0, kmax) of the slice: ONE chain per element, k ascending.
template <bool FULL>
__device__ __forceinline__ void vx_search_slice(const float (*xs)[VX_SEARCH_LD], const float (*es)[VX_SEARCH_LD],
                                                int kmax, int ty, int tx, float acc[8][8]) {
#pragma unroll
    for (int kk = 0; kk < VX_SEARCH_BK; kk++) {
        if (FULL || kk < kmax) {
            const float4 x0 = *reinterpret_cast<const float4*>(&xs[kk][ty * 4]);
            const float4 x1 = *reinterpret_cast<const float4*>(&xs[kk][VX_SEARCH_TILE / 2 + ty * 4]);
            const float4 e0 = *reinterpret_cast<const float4*>(&es[kk][tx * 4]);
            const float4 e1 = *reinterpret_cast<const float4*>(&es[kk][VX_SEARCH_TILE / 2 + tx * 4]);
            const float xv[8] = {x0.x, x0.y, x0.z, x0.w, x1.x, x1.y, x1.z, x1.w};
            const float ev[8] = {e0.x, e0.y, e0.z, e0.w, e1.x, e1.y, e1.z, e1.w};
#pragma unroll
            for (int i = 0; i < 8; i++) {
#pragma unroll
                for (int j = 0; j < 8; j++) {
                    acc[i][j] = fmaf(xv[i], ev[j], acc[i][j]); // CPU: Math.fma(x[d], e[n][d], dot)
                }
            }
        }
    }
}

// Thread (ty, tx) of 16 x 16 owns frames ty*4 + {0..3} and TILE/2 + ty*4 + {0..3} and likewise codes with tx.
__device__ __forceinline__ int vx_search_row(int t, int i) {
    return (i < 4 ? 0 : VX_SEARCH_TILE / 2) + t * 4 + (i & 3);
}

extern "C" __global__ void __launch_bounds__(VX_SEARCH_THREADS, 2)
codebook_search_f32(const float* __restrict__ frames, const float* __restrict__ frameNorms,
                    const float* __restrict__ codebook, const float* __restrict__ codeNorms,
                    unsigned long long* __restrict__ best, int numFrames, int numCodes, int dim, int tilesPerSplit) {
    const int f0 = blockIdx.x * VX_SEARCH_TILE;
    const int numTiles = (numCodes + VX_SEARCH_TILE - 1) / VX_SEARCH_TILE;
    const int tileFrom = blockIdx.y * tilesPerSplit;
    const int tileTo = min(numTiles, tileFrom + tilesPerSplit);
    if (f0 >= numFrames || tileFrom >= tileTo) {
        return; // bounds check
    }
    static_assert(VX_SEARCH_THREADS == 256 && VX_SEARCH_TILE == 128 && VX_SEARCH_BK == 8,
                  "the load mapping (2 threads x 4 k per row) and the 16 x 16 x (8 x 8) register tiling assume these");
    __shared__ __align__(16) float Xs[2][VX_SEARCH_BK][VX_SEARCH_LD];
    __shared__ __align__(16) float Es[2][VX_SEARCH_BK][VX_SEARCH_LD];
    const int tid = threadIdx.x;
    const int tx = tid % 16;
    const int ty = tid / 16;
    // float4 global loads need 16-byte aligned rows: dim % 4 == 0 and aligned bases (pool buffers are)
    const bool vec4 = (dim % 4 == 0) && ((reinterpret_cast<uintptr_t>(frames) | reinterpret_cast<uintptr_t>(codebook)) % 16 == 0);

    // running best word per frame of the tile, kept in shared memory (written only by the tx == 0 thread of a
    // frame's half warp) so that the main loop has registers for its 64 accumulators and prefetches
    __shared__ unsigned long long bestS[VX_SEARCH_TILE];
    if (tid < VX_SEARCH_TILE) {
        bestS[tid] = ~0ull;
    }
    const int slices = (dim + VX_SEARCH_BK - 1) / VX_SEARCH_BK;

    for (int tile = tileFrom; tile < tileTo; tile++) {
        const int n0 = tile * VX_SEARCH_TILE;
        float acc[8][8];
#pragma unroll
        for (int i = 0; i < 8; i++) {
#pragma unroll
            for (int j = 0; j < 8; j++) {
                acc[i][j] = 0.f;
            }
        }
        // prologue: slice 0 into buffer 0
        vx_search_store(Xs[0], vx_search_load(frames, numFrames, dim, f0, 0, vec4));
        vx_search_store(Es[0], vx_search_load(codebook, numCodes, dim, n0, 0, vec4));
        __syncthreads();
        for (int s = 0; s < slices; s++) {
            const int cur = s & 1;
            float4 nextX;
            float4 nextE;
            const bool more = s + 1 < slices;
            if (more) { // global loads of the next slice overlap this slice's FMAs
                nextX = vx_search_load(frames, numFrames, dim, f0, (s + 1) * VX_SEARCH_BK, vec4);
                nextE = vx_search_load(codebook, numCodes, dim, n0, (s + 1) * VX_SEARCH_BK, vec4);
            }
            // the chain stops at dim exactly: no padding fmas in the last, partial slice
            const int kmax = min(VX_SEARCH_BK, dim - s * VX_SEARCH_BK);
            if (kmax == VX_SEARCH_BK) {
                vx_search_slice<true>(Xs[cur], Es[cur], kmax, ty, tx, acc);
            } else {
                vx_search_slice<false>(Xs[cur], Es[cur], kmax, ty, tx, acc);
            }
            if (more) {
                vx_search_store(Xs[cur ^ 1], nextX);
                vx_search_store(Es[cur ^ 1], nextE);
            }
            __syncthreads();
        }
        // epilogue: keys in registers, the 16 threads of a frame (same ty, one half warp) reduce by shuffles,
        // and the tile's best word per frame is folded into bestS
        float yy[8];
#pragma unroll
        for (int j = 0; j < 8; j++) {
            const int n = n0 + vx_search_row(tx, j);
            yy[j] = n < numCodes ? codeNorms[n] : 0.f;
        }
#pragma unroll
        for (int i = 0; i < 8; i++) {
            const int t = f0 + vx_search_row(ty, i);
            const float xx = t < numFrames ? frameNorms[t] : 0.f;
            unsigned long long w = ~0ull;
#pragma unroll
            for (int j = 0; j < 8; j++) {
                const int n = n0 + vx_search_row(tx, j);
                // CPU: (xx + yy) - 2f * dot
                const float dist = __fsub_rn(__fadd_rn(xx, yy[j]), __fmul_rn(2.f, acc[i][j]));
                const unsigned long long c = vx_search_word(dist, n);
                w = (n < numCodes && c < w) ? c : w;
            }
#pragma unroll
            for (int off = 8; off > 0; off >>= 1) {
                const unsigned long long o = __shfl_xor_sync(0xffffffffu, w, off, 16);
                w = o < w ? o : w;
            }
            const int row = vx_search_row(ty, i);
            if (tx == 0 && w < bestS[row]) {
                bestS[row] = w;
            }
        }
    }
    // one atomic per frame and block merges the code ranges of the grid.y splits
#pragma unroll
    for (int i = 0; i < 8; i++) {
        const int row = vx_search_row(ty, i);
        if (tx == 0 && f0 + row < numFrames) {
            atomicMin(best + f0 + row, bestS[row]);
        }
    }
}
