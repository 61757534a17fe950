// Vocodex CUDA kernels: shared header (tunables, padding, activations, the exact tile GEMM).
//
// Layout: activations are (B, C, T) float32, channel-major per clip, with explicit batch and row
// strides so that a kernel can read the first columns of a longer (streaming) buffer.
//
// Exactness ("fp32" / parity mode): every output element is ONE chain of fmaf in the order of the
// CPU backend's arithmetic contract (io.vocodex.backend.cpu.CpuOps), and every other float operation
// is written with an explicit round-to-nearest intrinsic (__fadd_rn, __fmul_rn, ...) so that nvcc's
// default contraction (-fmad=true) cannot fuse a multiply and an add that Java evaluates separately.
// ELU uses CpuOps' float polynomial expm1, ported operation for operation (bit-identical); the LSTM's
// sigmoid/tanh are evaluated in double and rounded once to float, as the Java code does.
//
// STATUS: compiled for compute_80/compute_90 (and sm_80/sm_90 cubins for the ptxas report);
// never run on a GPU. See docs/gpu-verification.md.
#pragma once

// ---- tunables ---------------------------------------------------------------------------------
// Exact implicit-GEMM tile (conv1d_f32, conv_transpose1d_f32): BM output channels x BN frames per
// block, BK reduction slice; 16x16 threads, each a 4x4 micro-tile strided by 16.
#define VX_EXACT_BM 64
#define VX_EXACT_BN 64
#define VX_EXACT_BK 16
#define VX_EXACT_THREADS 256

// Tensor-core tile (conv1d_tf32): WMMA m16n16k8 tf32, fp32 accumulation; 4 warps in 2x2, each 32x32.
#define VX_TC_BM 64
#define VX_TC_BN 64
#define VX_TC_BK 16
#define VX_TC_THREADS 128

// RVQ nearest code: FRAMES frames per block, CODES codes per chunk, BK dims per smem slice.
#define VX_RVQ_FRAMES 32
#define VX_RVQ_CODES 64
#define VX_RVQ_BK 32
#define VX_RVQ_THREADS 256

// Codebook search (codebook_search.cu): TILE frames x TILE codes per block tile, BK dims per double-buffered
// shared-memory slice, 16 x 16 threads each owning an 8 x 8 register tile; LD pads each smem row by 4 floats
// (keeps float4 alignment, moves the transposed stores' second half to other banks).
#define VX_SEARCH_TILE 128
#define VX_SEARCH_BK 8
#define VX_SEARCH_LD (VX_SEARCH_TILE + 4)
#define VX_SEARCH_THREADS 256

// Elementwise and LSTM step kernels take their block size from the launcher; this is the default.
#define VX_ELT_THREADS 256
#define VX_LSTM_THREADS 128

// Pad modes (io.vocodex.nn.PadMode ordinal order).
#define VX_PAD_CONSTANT 0
#define VX_PAD_REFLECT 1
#define VX_PAD_REPLICATE 2

// ---- helpers ----------------------------------------------------------------------------------

// ELU as CpuOps.eluRow, bit for bit: v > 0 unchanged, else alpha * expm1NonPositive(clamp(v, -87, 0)),
// where expm1NonPositive is the branch-free float expm1 of CpuOps (t = k ln2 + r, degree-8 Taylor
// polynomial for expm1(r), 2^k expm1(r) + (2^k - 1)) with the same float constants (bit patterns below,
// taken from the Java float literals) and the same operation order. Every multiply and add is an explicit
// __fmul_rn/__fadd_rn/__fsub_rn so nvcc cannot contract a pair into an fma that Java does not evaluate.
// Java's (float) Math.rint(t * LOG2E) widens the float product to double, rounds half-even, narrows:
// the product is an integer-or-not float of magnitude < 126, so this equals rintf of the float product.
#define VX_ELU_LOG2E 0x3fb8aa3b  // 1.44269504088896341f
#define VX_ELU_LN2_HI 0x3f317200 // 0.693145751953125f (16 bits: k * LN2_HI is exact)
#define VX_ELU_LN2_LO 0x35bfbe8e // 1.428606765330187045e-06f
#define VX_ELU_C8 0x37d00d01     // 1f / 40320f
#define VX_ELU_C7 0x39500d01     // 1f / 5040f
#define VX_ELU_C6 0x3ab60b61     // 1f / 720f
#define VX_ELU_C5 0x3c088889     // 1f / 120f
#define VX_ELU_C4 0x3d2aaaab     // 1f / 24f
#define VX_ELU_C3 0x3e2aaaab     // 1f / 6f

// expm1(r) = r + r^2 p(r) for |r| <= ln2/2: the polynomial of CpuOps.expm1NonPositive / NnOps.expm1Reduced.
__device__ __forceinline__ float vx_expm1_reduced(float r) {
    float p = __int_as_float(VX_ELU_C8);
    p = __fadd_rn(__fmul_rn(p, r), __int_as_float(VX_ELU_C7));
    p = __fadd_rn(__fmul_rn(p, r), __int_as_float(VX_ELU_C6));
    p = __fadd_rn(__fmul_rn(p, r), __int_as_float(VX_ELU_C5));
    p = __fadd_rn(__fmul_rn(p, r), __int_as_float(VX_ELU_C4));
    p = __fadd_rn(__fmul_rn(p, r), __int_as_float(VX_ELU_C3));
    p = __fadd_rn(__fmul_rn(p, r), 0.5f);
    return __fadd_rn(r, __fmul_rn(__fmul_rn(r, r), p));
}

// CpuOps.expm1NonPositive for t in [-87, 0] (NaN in, NaN out).
__device__ __forceinline__ float vx_expm1_nonpositive(float t) {
    const float k = rintf(__fmul_rn(t, __int_as_float(VX_ELU_LOG2E)));
    const float r = __fsub_rn(__fsub_rn(t, __fmul_rn(k, __int_as_float(VX_ELU_LN2_HI))),
                              __fmul_rn(k, __int_as_float(VX_ELU_LN2_LO)));
    const float em1r = vx_expm1_reduced(r);
    const int ki = k != k ? 0 : (int)k; // Java's (int) NaN is 0
    const float scale = __int_as_float((ki + 127) << 23); // 2^k, k in [-126, 0]
    return __fadd_rn(__fmul_rn(scale, em1r), __fsub_rn(scale, 1.f));
}

__device__ __forceinline__ float vx_elu(float v, float alpha) {
    float t = v > 0.f ? 0.f : v;  // Math.min(v, 0f), NaN and -0 included
    t = t < -87.f ? -87.f : t;     // Math.max(t, -87f)
    const float e = vx_expm1_nonpositive(t);
    return v > 0.f ? v : __fmul_rn(alpha, e);
}

// CpuOps.sigmoid: 1 / (2^k (expm1(r) + 1) + 1) for -v = k ln2 + r, -v clamped to [-88, 89] (NnOps.siluDenominator;
// k = 128 makes 2^k +inf and the result 0). k comes from the rounding constant 1.5 * 2^23, as in the Java passes.
#define VX_ELU_ROUNDER 12582912.f
#define VX_ELU_ROUNDER_BITS 0x4B400000
__device__ __forceinline__ float vx_sigmoid(float v) {
    float t = -v;
    t = t > 89.f ? 89.f : t;   // Math.min(-v, 89f), NaN kept
    t = t < -88.f ? -88.f : t; // Math.max(t, -88f)
    const float big = __fadd_rn(__fmul_rn(t, __int_as_float(VX_ELU_LOG2E)), VX_ELU_ROUNDER);
    const float k = __fsub_rn(big, VX_ELU_ROUNDER);
    const float r = __fsub_rn(__fsub_rn(t, __fmul_rn(k, __int_as_float(VX_ELU_LN2_HI))),
                              __fmul_rn(k, __int_as_float(VX_ELU_LN2_LO)));
    const float scale = __int_as_float((__float_as_int(big) - VX_ELU_ROUNDER_BITS + 127) << 23);
    const float den = __fadd_rn(__fmul_rn(scale, __fadd_rn(vx_expm1_reduced(r), 1.f)), 1.f);
    return __fdiv_rn(1.f, den);
}

// CpuOps.tanh: -e / (e + 2) with e = expm1(max(-2|v|, -87)), the sign of v copied back.
__device__ __forceinline__ float vx_tanh(float v) {
    float t = __fmul_rn(-2.f, fabsf(v));
    t = t < -87.f ? -87.f : t; // Math.max(t, -87f), NaN kept
    const float e = vx_expm1_nonpositive(t);
    return copysignf(__fdiv_rn(-e, __fadd_rn(e, 2.f)), v);
}
// (end of the activations that scripts/check-elu-port compiles on the host)

// The value at position p of a row of `len` samples padded by `padLeft` on the left (and on the right
// as far as the caller reads) with io.vocodex.nn.PadMode semantics, including EnCodec's pad1d rule that
// a reflect-padded row no longer than the padding is first zero-extended to `lenExt` samples.
__device__ __forceinline__ float vx_load_padded(const float* row, long long p, int padLeft, int len,
                                                int lenExt, int padMode) {
    long long i = p - padLeft;
    if (i < 0) {
        if (padMode == VX_PAD_REFLECT) {
            i = -i;
        } else if (padMode == VX_PAD_REPLICATE) {
            i = 0;
        } else {
            return 0.f;
        }
    } else if (i >= len) {
        if (padMode == VX_PAD_REFLECT) {
            if (i >= lenExt) {
                i = 2LL * (lenExt - 1) - i;
            }
        } else if (padMode == VX_PAD_REPLICATE) {
            i = len - 1;
        } else {
            return 0.f;
        }
    }
    return (i >= 0 && i < len) ? row[i] : 0.f; // zero extension of short reflect-padded rows
}

// One block's (BM x BN) tile of C = A (M x R) * B (R x N), exact: thread (ty, tx) owns rows ty + 16*i and
// columns tx + 16*j and accumulates each with ONE fmaf chain over r ascending, so the result is the CPU
// contract's value whatever the tiling. loadA(m, r) and loadB(r, n) are tile-local getters that return 0
// outside the problem; the chain stops at R exactly (no padding fmas).
template <class LoadA, class LoadB>
__device__ __forceinline__ void vx_gemm_tile_exact(int R, LoadA loadA, LoadB loadB,
                                                   float acc[4][4]) {
    __shared__ float As[VX_EXACT_BK][VX_EXACT_BM + 1];
    __shared__ float Bs[VX_EXACT_BK][VX_EXACT_BN];
    const int tid = threadIdx.x;
    const int tx = tid % 16;
    const int ty = tid / 16;
#pragma unroll
    for (int i = 0; i < 4; i++) {
#pragma unroll
        for (int j = 0; j < 4; j++) {
            acc[i][j] = 0.f;
        }
    }
    for (int r0 = 0; r0 < R; r0 += VX_EXACT_BK) {
        for (int e = tid; e < VX_EXACT_BM * VX_EXACT_BK; e += VX_EXACT_THREADS) {
            int m = e / VX_EXACT_BK;
            int kk = e % VX_EXACT_BK;
            As[kk][m] = (r0 + kk < R) ? loadA(m, r0 + kk) : 0.f;
        }
        for (int e = tid; e < VX_EXACT_BK * VX_EXACT_BN; e += VX_EXACT_THREADS) {
            int kk = e / VX_EXACT_BN;
            int n = e % VX_EXACT_BN;
            Bs[kk][n] = (r0 + kk < R) ? loadB(r0 + kk, n) : 0.f;
        }
        __syncthreads();
        const int kmax = min(VX_EXACT_BK, R - r0);
        for (int kk = 0; kk < kmax; kk++) {
            float a[4];
            float b[4];
#pragma unroll
            for (int i = 0; i < 4; i++) {
                a[i] = As[kk][ty + 16 * i];
                b[i] = Bs[kk][tx + 16 * i];
            }
#pragma unroll
            for (int i = 0; i < 4; i++) {
#pragma unroll
                for (int j = 0; j < 4; j++) {
                    acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
                }
            }
        }
        __syncthreads();
    }
}
