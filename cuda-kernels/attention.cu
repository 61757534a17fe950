// attention.cu: Mimi's windowed causal multi-head attention and its streaming KV ring buffer.
// Host class io.vocodex.backend.cuda.CudaAttention.
//
// Layout: activations are channel-major per clip, as everywhere in cuda-kernels/: the projected
// rows [q | k | v] of a clip are a (3D, T) block, channel c of column t at c * rowStride + t, clips
// `batchStride` apart. Head h uses channels h*hd .. h*hd+hd-1 of q, k and v. A stream's KV ring of
// one layer is a (D, cap) block: position p lives in column p % cap (the original's RingKVCache).
//
// Masks (docs/mimi.md):
//   batch: query i of a clip of length len sees keys j with 0 <= i - j < context (and i < len);
//   ring:  a chunk of n queries at positions off .. off+n-1 is written into the ring FIRST; query
//          pq then sees the positions pk still in the ring (pk >= off + n - cap) with
//          0 <= pq - pk < context, exactly MimiTransformer.Stream's mask on slot positions.
// Both reduce to a contiguous position range [lo, hi]; keys are visited in ascending position.
//
// Kernels:
//   attention_f32        exact (parity) batch attention: one warp per (clip, query, head), the
//                        TransformerOps.attention order in double (scores, max, sum of exp in key
//                        order, p = e / sum, acc[d] += p * v in key order, rounded once), keys
//                        recomputed per pass so no score row is stored;
//   attention_ring_f32   the same for a chunk of queries of many streams over their rings (decode);
//   attention_flash_f32  fast batch attention: tiles of 32 queries x 32 keys in shared memory, fp32
//                        online softmax (running max, rescale when it grows), never a T x T matrix;
//                        bit-identical to io.vocodex.backend.cpu.OnlineSoftmaxAttention;
//   kv_ring_write_f32    writes a chunk's keys and values into each stream's ring.
// The exact kernels use the device's double exp, Java's Math.exp may differ in the last bit of a
// double, which very rarely changes the float result (docs/cuda.md, "Attention").
//
// STATUS: compiled for compute_80/compute_90; never run on a GPU. See docs/gpu-verification.md.
#include "common.cuh"
#include <math_constants.h>

// ---- tunables (CudaAttention mirrors them) ------------------------------------------------------
#define VX_ATT_MAX_HD 128   // largest head dim (Mimi: 64)
#define VX_ATT_WARPS 4      // warps per block of the exact kernels (one (query, head) per warp)
#define VX_FLASH_QUERIES 32 // queries per block of attention_flash_f32
#define VX_FLASH_SPLIT 4    // threads per query (each owns every 4th dim)
#define VX_FLASH_KEYS 32    // keys per shared-memory tile
#define VX_RING_THREADS 256 // kv_ring_write_f32 block

// exp(x) for x <= 0 in float, ported op for op by OnlineSoftmaxAttention.expNonPositive:
// x < -87 gives 0 (e^-87 < 2^-125 is far below float resolution next to the softmax's largest
// term, 1); else k = rint(x log2e), r = (x - k ln2_hi) - k ln2_lo (|r| <= 0.35, the ELU's
// Cody-Waite split), exp(r) by its degree-8 Taylor polynomial in Horner form (truncation
// < 2e-10 relative), times 2^k (k >= -126, a normal power of two). Every operation is separately
// rounded (explicit intrinsics), so Java float arithmetic reproduces it bit for bit.
__device__ __forceinline__ float vx_exp_nonpositive(float x) {
    if (!(x >= -87.f)) {
        return x != x ? x : 0.f;
    }
    const float k = rintf(__fmul_rn(x, __int_as_float(VX_ELU_LOG2E)));
    const float r = __fsub_rn(__fsub_rn(x, __fmul_rn(k, __int_as_float(VX_ELU_LN2_HI))),
                              __fmul_rn(k, __int_as_float(VX_ELU_LN2_LO)));
    float p = __int_as_float(VX_ELU_C8);
    p = __fadd_rn(__fmul_rn(p, r), __int_as_float(VX_ELU_C7));
    p = __fadd_rn(__fmul_rn(p, r), __int_as_float(VX_ELU_C6));
    p = __fadd_rn(__fmul_rn(p, r), __int_as_float(VX_ELU_C5));
    p = __fadd_rn(__fmul_rn(p, r), __int_as_float(VX_ELU_C4));
    p = __fadd_rn(__fmul_rn(p, r), __int_as_float(VX_ELU_C3));
    p = __fadd_rn(__fmul_rn(p, r), 0.5f);
    p = __fadd_rn(__fmul_rn(p, r), 1.f);
    p = __fadd_rn(__fmul_rn(p, r), 1.f);
    return __fmul_rn(p, __int_as_float(((int)k + 127) << 23));
}

// ---- shared pieces ----------------------------------------------------------------------------

// Key position -> column of the key/value block: the position itself (batch) or its ring slot.
struct VxBatchCols {
    __device__ __forceinline__ long long operator()(long long p) const { return p; }
};
struct VxRingCols {
    int cap;
    __device__ __forceinline__ long long operator()(long long p) const { return p % cap; }
};

// One warp computes out[d] = sum_j softmax(q.k_j * scale)_j v_j[d] over key positions lo..hi, in
// TransformerOps.attention's order (see the file comment). q/k/v/o point at the head's first channel.
template <typename Cols>
__device__ void vx_attend_exact_warp(const float* q, int qRowStride, const float* k, const float* v,
                                     int kvRowStride, Cols cols, float* o, int oRowStride, int hd,
                                     long long lo, long long hi, float* qShared, double* chunkShared) {
    const int lane = threadIdx.x & 31;
    const long long n = hi - lo + 1;
    if (n <= 0) { // no visible key: PyTorch's softmax of an all -inf row is NaN (as the CPU)
        for (int d = lane; d < hd; d += 32) {
            o[(long long)d * oRowStride] = __int_as_float(0x7fc00000);
        }
        return;
    }
    for (int d = lane; d < hd; d += 32) {
        qShared[d] = q[(long long)d * qRowStride];
    }
    __syncwarp();
    const double scale = __ddiv_rn(1.0, __dsqrt_rn((double)hd));
    // Score of key j (0-based within lo..hi): double dot in d order; float x float is exact in
    // double, so the product and add below are the Java `dot += (double) q * k` bit for bit.
    auto score = [&](long long j) {
        const long long col = cols(lo + j);
        double dot = 0.0;
        for (int d = 0; d < hd; d++) {
            dot = __dadd_rn(dot, __dmul_rn((double)qShared[d], (double)k[(long long)d * kvRowStride + col]));
        }
        return __dmul_rn(dot, scale);
    };
    // Pass 1: the max (order-free).
    double max = -CUDART_INF;
    for (long long j = lane; j < n; j += 32) {
        max = fmax(max, score(j));
    }
    for (int off = 16; off > 0; off >>= 1) {
        max = fmax(max, __shfl_xor_sync(0xffffffffu, max, off));
    }
    // Pass 2: sum of exp in key order (lane 0 adds each chunk of 32 sequentially).
    double sum = 0.0;
    for (long long j0 = 0; j0 < n; j0 += 32) {
        const long long j = j0 + lane;
        chunkShared[lane] = j < n ? exp(__dsub_rn(score(j), max)) : 0.0;
        __syncwarp();
        if (lane == 0) {
            const int m = (int)min(32LL, n - j0);
            for (int t = 0; t < m; t++) {
                sum = __dadd_rn(sum, chunkShared[t]);
            }
        }
        __syncwarp();
    }
    sum = __shfl_sync(0xffffffffu, sum, 0);
    // Pass 3: acc[d] += (e_j / sum) * v_j[d] in key order; lane owns d = lane, lane+32, ...
    double acc[4] = {0.0, 0.0, 0.0, 0.0}; // hd <= VX_ATT_MAX_HD = 128
    for (long long j0 = 0; j0 < n; j0 += 32) {
        const long long j = j0 + lane;
        chunkShared[lane] = j < n ? __ddiv_rn(exp(__dsub_rn(score(j), max)), sum) : 0.0;
        __syncwarp();
        const int m = (int)min(32LL, n - j0);
        for (int t = 0; t < m; t++) {
            const double p = chunkShared[t];
            const long long col = cols(lo + j0 + t);
#pragma unroll
            for (int r = 0; r < 4; r++) {
                const int d = lane + 32 * r;
                if (d < hd) {
                    acc[r] = __dadd_rn(acc[r], __dmul_rn(p, (double)v[(long long)d * kvRowStride + col]));
                }
            }
        }
        __syncwarp();
    }
#pragma unroll
    for (int r = 0; r < 4; r++) {
        const int d = lane + 32 * r;
        if (d < hd) {
            o[(long long)d * oRowStride] = __double2float_rn(acc[r]);
        }
    }
}

// ---- attention_f32: exact batch attention -----------------------------------------------------
// Grid: one warp per (clip b, query i, head h), h fastest; VX_ATT_WARPS warps per block.
// qkv: (B, 3*dim, *) with q at channel 0, k at dim, v at 2*dim; out: (B, dim, *).
// lengths: per clip (null: every clip has tmax positions); columns i >= len are not written.
extern "C" __global__ void __launch_bounds__(VX_ATT_WARPS * 32)
attention_f32(const float* __restrict__ qkv, long long qkvBatchStride, int qkvRowStride,
              float* __restrict__ out, long long outBatchStride, int outRowStride,
              const int* __restrict__ lengths, int batch, int tmax, int dim, int heads, int context) {
    __shared__ float qShared[VX_ATT_WARPS][VX_ATT_MAX_HD];
    __shared__ double chunkShared[VX_ATT_WARPS][32];
    const int warp = threadIdx.x >> 5;
    const long long task = (long long)blockIdx.x * VX_ATT_WARPS + warp;
    if (task >= (long long)batch * tmax * heads) {
        return; // bounds check (whole warp)
    }
    const int h = (int)(task % heads);
    const int i = (int)((task / heads) % tmax);
    const int b = (int)(task / ((long long)heads * tmax));
    const int len = lengths == nullptr ? tmax : lengths[b];
    if (i >= len) {
        return;
    }
    const int hd = dim / heads;
    const float* base = qkv + (long long)b * qkvBatchStride;
    const float* q = base + (long long)(h * hd) * qkvRowStride + i;
    const float* k = base + (long long)(dim + h * hd) * qkvRowStride;
    const float* v = base + (long long)(2 * dim + h * hd) * qkvRowStride;
    float* o = out + (long long)b * outBatchStride + (long long)(h * hd) * outRowStride + i;
    const long long lo = max(0, i - context + 1);
    vx_attend_exact_warp(q, qkvRowStride, k, v, qkvRowStride, VxBatchCols{}, o, outRowStride, hd, lo, (long long)i,
                         qShared[warp], chunkShared[warp]);
}

// ---- attention_ring_f32: exact attention of a chunk of queries over each stream's ring ----------
// Grid: one warp per (stream s, query i < n, head h), h fastest. Stream s's chunk is column i of
// qkv block s (q at channel 0); its ring is block ringIndex[s] of ringK/ringV ((D, cap) each,
// ringStride floats apart) and ALREADY holds the chunk (kv_ring_write_f32 runs first); offsets[s]
// is the position of the chunk's first query. out: (S, dim, *).
extern "C" __global__ void __launch_bounds__(VX_ATT_WARPS * 32)
attention_ring_f32(const float* __restrict__ qkv, long long qkvBatchStride, int qkvRowStride,
                   const float* __restrict__ ringK, const float* __restrict__ ringV, long long ringStride, int cap,
                   const int* __restrict__ ringIndex, const int* __restrict__ offsets,
                   float* __restrict__ out, long long outBatchStride, int outRowStride,
                   int streams, int n, int dim, int heads, int context) {
    __shared__ float qShared[VX_ATT_WARPS][VX_ATT_MAX_HD];
    __shared__ double chunkShared[VX_ATT_WARPS][32];
    const int warp = threadIdx.x >> 5;
    const long long task = (long long)blockIdx.x * VX_ATT_WARPS + warp;
    if (task >= (long long)streams * n * heads) {
        return; // bounds check (whole warp)
    }
    const int h = (int)(task % heads);
    const int i = (int)((task / heads) % n);
    const int s = (int)(task / ((long long)heads * n));
    const int hd = dim / heads;
    const long long pq = (long long)offsets[s] + i;
    const long long end = (long long)offsets[s] + n; // one past the last position in the ring
    const long long lo = max(max(0LL, end - cap), pq - context + 1);
    const long long ring = (long long)ringIndex[s] * ringStride + (long long)(h * hd) * cap;
    const float* q = qkv + (long long)s * qkvBatchStride + (long long)(h * hd) * qkvRowStride + i;
    float* o = out + (long long)s * outBatchStride + (long long)(h * hd) * outRowStride + i;
    vx_attend_exact_warp(q, qkvRowStride, ringK + ring, ringV + ring, cap, VxRingCols{cap}, o, outRowStride, hd, lo, pq,
                         qShared[warp], chunkShared[warp]);
}

// ---- kv_ring_write_f32 ---------------------------------------------------------------------------
// Thread per (stream s, channel c < dim, chunk column i < n): position offsets[s] + i goes to column
// (offsets[s] + i) % cap of ring ringIndex[s]. When n > cap only the last cap positions survive in the
// original (later writes overwrite earlier ones), so the earlier ones are skipped: no two threads
// write the same word.
extern "C" __global__ void kv_ring_write_f32(const float* __restrict__ qkv, long long qkvBatchStride, int qkvRowStride,
                                             float* __restrict__ ringK, float* __restrict__ ringV, long long ringStride,
                                             int cap, const int* __restrict__ ringIndex, const int* __restrict__ offsets,
                                             int streams, int n, int dim) {
    const long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long long)streams * dim * n) {
        return; // bounds check
    }
    const int i = (int)(idx % n);
    const int c = (int)((idx / n) % dim);
    const int s = (int)(idx / ((long long)n * dim));
    if (i < n - cap) {
        return; // overwritten later in the same chunk
    }
    const long long col = ((long long)offsets[s] + i) % cap;
    const long long dst = (long long)ringIndex[s] * ringStride + (long long)c * cap + col;
    const float* src = qkv + (long long)s * qkvBatchStride + i;
    ringK[dst] = src[(long long)(dim + c) * qkvRowStride];
    ringV[dst] = src[(long long)(2 * dim + c) * qkvRowStride];
}

// ---- attention_flash_f32: tiled online-softmax batch attention --------------------------------
// Block: VX_FLASH_QUERIES queries x VX_FLASH_SPLIT threads of one (clip, head); thread (qi, r) owns
// the dims d = VX_FLASH_SPLIT * c + r of its query (q and the output accumulator in registers).
// Keys stream through shared memory in tiles of VX_FLASH_KEYS (row stride hd + 1: conflict-free
// stores). Per visible key, in ascending position:
//   part_r = fma chain over c ascending of q[d] k[d]   (d = 4c + r)
//   s      = ((part_0 + part_1) + (part_2 + part_3)) * scale        (scale = 1/sqrt(hd) in float)
//   if s > m: corr = exp(m - s) (0 while m = -inf); l *= corr; acc[d] *= corr; m = s
//   p = exp(s - m); l += p; acc[d] = fma(p, v[d], acc[d])
// out[d] = acc[d] / l. exp is vx_exp_nonpositive (float, ported op for op in Java), so the CPU twin
// io.vocodex.backend.cpu.OnlineSoftmaxAttention is bit-identical.
extern "C" __global__ void __launch_bounds__(VX_FLASH_QUERIES * VX_FLASH_SPLIT)
attention_flash_f32(const float* __restrict__ qkv, long long qkvBatchStride, int qkvRowStride,
                    float* __restrict__ out, long long outBatchStride, int outRowStride,
                    const int* __restrict__ lengths, int batch, int tmax, int dim, int heads, int context) {
    constexpr int PER = VX_ATT_MAX_HD / VX_FLASH_SPLIT; // dims per thread at most
    __shared__ float kTile[VX_FLASH_KEYS * (VX_ATT_MAX_HD + 1)];
    __shared__ float vTile[VX_FLASH_KEYS * (VX_ATT_MAX_HD + 1)];
    const int b = blockIdx.z;
    const int h = blockIdx.y;
    const int i0 = blockIdx.x * VX_FLASH_QUERIES;
    const int len = lengths == nullptr ? tmax : lengths[b];
    if (b >= batch || h >= heads || i0 >= len) {
        return; // bounds check (whole block, before any barrier)
    }
    const int hd = dim / heads;
    const int stride = hd + 1;
    const int qi = threadIdx.x / VX_FLASH_SPLIT;
    const int r = threadIdx.x % VX_FLASH_SPLIT;
    const int i = i0 + qi;
    const bool valid = i < len;
    const float* base = qkv + (long long)b * qkvBatchStride;
    const float* kBase = base + (long long)(dim + h * hd) * qkvRowStride;
    const float* vBase = base + (long long)(2 * dim + h * hd) * qkvRowStride;
    const float scale = __fdiv_rn(1.f, __fsqrt_rn((float)hd));

    float qr[PER];
    float acc[PER];
#pragma unroll
    for (int c = 0; c < PER; c++) {
        const int d = VX_FLASH_SPLIT * c + r;
        qr[c] = valid && d < hd ? base[(long long)(h * hd + d) * qkvRowStride + i] : 0.f;
        acc[c] = 0.f;
    }
    float m = -CUDART_INF_F;
    float l = 0.f;

    const int kLo = max(0, i0 - context + 1);
    const int kHi = min(i0 + VX_FLASH_QUERIES - 1, len - 1);
    for (int j0 = kLo; j0 <= kHi; j0 += VX_FLASH_KEYS) {
        __syncthreads(); // the previous tile is consumed
        for (int e = threadIdx.x; e < VX_FLASH_KEYS * hd; e += blockDim.x) {
            const int jj = e % VX_FLASH_KEYS; // consecutive threads: consecutive keys (coalesced)
            const int d = e / VX_FLASH_KEYS;
            const int j = j0 + jj;
            const bool in = j <= kHi;
            kTile[jj * stride + d] = in ? kBase[(long long)d * qkvRowStride + j] : 0.f;
            vTile[jj * stride + d] = in ? vBase[(long long)d * qkvRowStride + j] : 0.f;
        }
        __syncthreads();
        const int count = min(VX_FLASH_KEYS, kHi - j0 + 1);
        for (int jj = 0; jj < count; jj++) {
            const int j = j0 + jj;
            const float* kr = kTile + jj * stride;
            float part = 0.f;
#pragma unroll
            for (int c = 0; c < PER; c++) {
                const int d = VX_FLASH_SPLIT * c + r;
                if (d < hd) {
                    part = __fmaf_rn(qr[c], kr[d], part);
                }
            }
            // Every lane shuffles (the masks below are per query, uniform in a group of 4 lanes).
            part = __fadd_rn(part, __shfl_xor_sync(0xffffffffu, part, 1));
            part = __fadd_rn(part, __shfl_xor_sync(0xffffffffu, part, 2));
            const bool visible = valid && j <= i && i - j < context;
            if (!visible) {
                continue;
            }
            const float s = __fmul_rn(part, scale);
            if (s > m) {
                const float corr = m == -CUDART_INF_F ? 0.f : vx_exp_nonpositive(__fsub_rn(m, s));
                l = __fmul_rn(l, corr);
#pragma unroll
                for (int c = 0; c < PER; c++) {
                    acc[c] = __fmul_rn(acc[c], corr);
                }
                m = s;
            }
            const float p = vx_exp_nonpositive(__fsub_rn(s, m));
            l = __fadd_rn(l, p);
            const float* vr = vTile + jj * stride;
#pragma unroll
            for (int c = 0; c < PER; c++) {
                const int d = VX_FLASH_SPLIT * c + r;
                if (d < hd) {
                    acc[c] = __fmaf_rn(p, vr[d], acc[c]);
                }
            }
        }
    }
    if (!valid) {
        return;
    }
    float* o = out + (long long)b * outBatchStride + (long long)(h * hd) * outRowStride + i;
#pragma unroll
    for (int c = 0; c < PER; c++) {
        const int d = VX_FLASH_SPLIT * c + r;
        if (d < hd) {
            o[(long long)d * outRowStride] = l > 0.f ? __fdiv_rn(acc[c], l) : __int_as_float(0x7fc00000);
        }
    }
}
