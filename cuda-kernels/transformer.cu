// transformer.cu: the small per-position kernels of Mimi's transformer layers around the attention.
// Host class io.vocodex.backend.cuda.CudaTransformerOps; CPU twins are io.vocodex.backend.cpu.TransformerOps'
// functions (time-major there, channel-major (B, C, T) here: the same numbers per element).
//
//   layer_norm_f32: TransformerOps.layerNorm, bit-identical: one thread per (clip, position) walks the
//                   channels in order with the Java double arithmetic (every double op an explicit
//                   round-to-nearest intrinsic, so nvcc contracts nothing; sqrt and divide are IEEE);
//   rope_f32:       TransformerOps.ropeInPlace at per-clip absolute positions: angle = freq * pos in
//                   float, cos/sin of the float angle in double rounded to float (as Java's
//                   (float) Math.cos), then re*cos - im*sin as two products and a difference;
//   gelu_f32:       TransformerOps.geluInPlace with TransformerOps.erf ported (series below 3,
//                   continued fraction above) in double;
//   scale_add_f32:  TransformerOps.addScaledInPlace: x += scale[c] * u (two roundings), or x += u.
// The device's double exp/cos/sin may differ from Java's in the last bit of the double, which very
// rarely changes the float; everything else is bit-identical by construction.
//
// STATUS: compiled for compute_80/compute_90; never run on a GPU. See docs/gpu-verification.md.
#include "common.cuh"

#define VX_TR_THREADS 256

// ---- layer_norm_f32 ---------------------------------------------------------------------------
// Thread per (clip b, column t < tlen); y may alias x. epsBits: the double eps as its IEEE bits.
extern "C" __global__ void layer_norm_f32(const float* x, long long xBatchStride, int xRowStride,
                                          float* y, long long yBatchStride, int yRowStride,
                                          const float* __restrict__ weight, const float* __restrict__ bias,
                                          int batch, int dim, int tlen, long long epsBits) {
    const long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long long)batch * tlen) {
        return; // bounds check
    }
    const int t = (int)(idx % tlen);
    const int b = (int)(idx / tlen);
    const float* xr = x + (long long)b * xBatchStride + t;
    float* yr = y + (long long)b * yBatchStride + t;
    double mean = 0.0;
    for (int c = 0; c < dim; c++) {
        mean = __dadd_rn(mean, (double)xr[(long long)c * xRowStride]);
    }
    mean = __ddiv_rn(mean, (double)dim);
    double var = 0.0;
    for (int c = 0; c < dim; c++) {
        const double d = __dsub_rn((double)xr[(long long)c * xRowStride], mean);
        var = __dadd_rn(var, __dmul_rn(d, d));
    }
    var = __ddiv_rn(var, (double)dim);
    const double inv = __ddiv_rn(1.0, __dsqrt_rn(__dadd_rn(var, __longlong_as_double(epsBits))));
    for (int c = 0; c < dim; c++) {
        double v = __dmul_rn(__dsub_rn((double)xr[(long long)c * xRowStride], mean), inv);
        if (weight != nullptr) {
            v = __dmul_rn(v, (double)weight[c]);
        }
        if (bias != nullptr) {
            v = __dadd_rn(v, (double)bias[c]);
        }
        yr[(long long)c * yRowStride] = __double2float_rn(v);
    }
}

// ---- rope_f32 ---------------------------------------------------------------------------------
// In place on channels col0 .. col0 + heads*hd of each clip; column t of clip b is at position
// firstPositions[b] + t (null: t). freqs: TransformerOps.ropeFrequencies (hd/2 floats).
// Thread per (clip, column, pair i < hd/2); it rotates pair i of every head.
extern "C" __global__ void rope_f32(float* x, long long xBatchStride, int xRowStride, int col0, int heads, int hd,
                                    const float* __restrict__ freqs, const int* __restrict__ firstPositions,
                                    int batch, int tlen) {
    const int half = hd / 2;
    const long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long long)batch * tlen * half) {
        return; // bounds check
    }
    const int i = (int)(idx % half);
    const int t = (int)((idx / half) % tlen);
    const int b = (int)(idx / ((long long)half * tlen));
    const long long position = (firstPositions == nullptr ? 0LL : (long long)firstPositions[b]) + t;
    const float angle = __fmul_rn(freqs[i], (float)position); // Java: (float) (first + t), then freq * pos
    const float cs = __double2float_rn(cos((double)angle));
    const float sn = __double2float_rn(sin((double)angle));
    float* xb = x + (long long)b * xBatchStride + t;
    for (int h = 0; h < heads; h++) {
        const long long c = col0 + h * hd + 2 * i;
        const float re = xb[c * xRowStride];
        const float im = xb[(c + 1) * xRowStride];
        xb[c * xRowStride] = __fsub_rn(__fmul_rn(re, cs), __fmul_rn(im, sn));
        xb[(c + 1) * xRowStride] = __fadd_rn(__fmul_rn(re, sn), __fmul_rn(im, cs));
    }
}

// ---- gelu_f32 ---------------------------------------------------------------------------------
// TransformerOps.erfcContinuedFraction: modified Lentz, a >= 3.
__device__ double vx_erfc_cf(double a) {
    const double tiny = 1e-300;
    double f = a;
    double c = a;
    double d = 0.0;
    for (int n = 1; n < 500; n++) {
        const double an = __ddiv_rn((double)n, 2.0);
        d = __dadd_rn(a, __dmul_rn(an, d));
        d = fabs(d) < tiny ? tiny : d;
        c = __dadd_rn(a, __ddiv_rn(an, c));
        c = fabs(c) < tiny ? tiny : c;
        d = __ddiv_rn(1.0, d);
        const double delta = __dmul_rn(c, d);
        f = __dmul_rn(f, delta);
        if (fabs(__dsub_rn(delta, 1.0)) < 1e-16) {
            break;
        }
    }
    return __ddiv_rn(__ddiv_rn(exp(-__dmul_rn(a, a)), __dsqrt_rn(3.141592653589793)), f);
}

// TransformerOps.erf, operation for operation.
__device__ double vx_erf(double z) {
    if (z != z) {
        return z;
    }
    const double a = fabs(z);
    double r;
    if (a < 3.0) {
        const double z2 = __dmul_rn(a, a);
        double term = a;
        double sum = a;
        for (int n = 1; n < 200; n++) {
            term = __dmul_rn(term, __ddiv_rn(__dmul_rn(2.0, z2), (double)(2 * n + 1)));
            sum = __dadd_rn(sum, term);
            if (term < __dmul_rn(sum, 1e-17)) {
                break;
            }
        }
        r = __dmul_rn(__dmul_rn(__ddiv_rn(2.0, __dsqrt_rn(3.141592653589793)), exp(-z2)), sum);
    } else if (a < 27.0) {
        r = __dsub_rn(1.0, vx_erfc_cf(a));
    } else {
        r = 1.0;
    }
    return z < 0 ? -r : r;
}

// In place over n contiguous floats (any layout): x = (float) (0.5 x (1 + erf(x / sqrt 2))) in double.
extern "C" __global__ void gelu_f32(float* x, long long n) {
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n) {
        return; // bounds check
    }
    const long long step = (long long)gridDim.x * blockDim.x;
    const double sqrt2 = __dsqrt_rn(2.0);
    for (; i < n; i += step) {
        const double v = (double)x[i];
        x[i] = __double2float_rn(__dmul_rn(__dmul_rn(0.5, v), __dadd_rn(1.0, vx_erf(__ddiv_rn(v, sqrt2)))));
    }
}

// ---- scale_add_f32 ----------------------------------------------------------------------------
// x[b][c][t] += scale[c] * u[b][c][t] (scale null: += u), each op rounded to float; thread per element
// of (batch, dim, tlen); x and u share the strides.
extern "C" __global__ void scale_add_f32(float* x, const float* u, long long batchStride, int rowStride,
                                         const float* __restrict__ scale, int batch, int dim, int tlen) {
    const long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long long)batch * dim * tlen) {
        return; // bounds check
    }
    const int t = (int)(idx % tlen);
    const int c = (int)((idx / tlen) % dim);
    const int b = (int)(idx / ((long long)tlen * dim));
    const long long o = (long long)b * batchStride + (long long)c * rowStride + t;
    const float s = scale == nullptr ? u[o] : __fmul_rn(scale[c], u[o]);
    x[o] = __fadd_rn(x[o], s);
}
