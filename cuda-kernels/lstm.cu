// lstm.cu: the LSTM recurrence, host twin io.vocodex.backend.cuda.CudaLstm (CpuOps.lstmLayer).
//
// The input projection gx = W_ih x for ALL steps is one GEMM done by conv1d_f32/tf32 with K = 1 and no
// bias, (B, 4H, T). The recurrence is lstm_step_f32, ONE launch per time step (the documented simple
// fallback for a persistent kernel; see docs/cuda.md): thread (b, j) computes the four gate rows
//   g_x = (gx[b][x*H + j][t] + (b_ih + b_hh)[x*H + j]) + sum_i whhT[i][x*H + j] * hPrev[b][i]
// with each dot product ONE fmaf chain over i ascending (CpuOps.matVec), then
//   c = sig(f)*c + sig(i)*tanh(g);  h = sig(o)*tanh(c)     (separately rounded mul/add, as Java)
// W_hh is stored transposed, whhT (H, 4H), so that neighbouring threads read neighbouring weights; at
// H = 512 it is 4 MiB and stays in L2 across steps. h is double-buffered (hPrev -> hNext) because every
// thread reads all of hPrev; c is updated in place. y[b][j][t] = h (+ skip[b][j][t] when skip != null,
// EnCodec's SLSTM skip on the last layer).
//
// Grid: ceil(B*H / blockDim.x); any blockDim. STATUS: compiled, never run on a GPU.
#include "common.cuh"

extern "C" __global__ void lstm_step_f32(const float* __restrict__ whhT, const float* __restrict__ gx,
                                         const float* __restrict__ biasSum, const float* __restrict__ hPrev,
                                         float* __restrict__ hNext, float* __restrict__ c,
                                         float* __restrict__ y, const float* __restrict__ skip,
                                         int batch, int hidden, int steps, int t) {
    const long long idx = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= (long long)batch * hidden || t < 0 || t >= steps) {
        return; // bounds check
    }
    const int b = (int)(idx / hidden);
    const int j = (int)(idx % hidden);
    const int h4 = 4 * hidden;
    const float* hp = hPrev + (long long)b * hidden;
    float ai = 0.f;
    float af = 0.f;
    float ag = 0.f;
    float ao = 0.f;
    for (int i = 0; i < hidden; i++) {
        const float hv = hp[i];
        const float* wr = whhT + (long long)i * h4;
        ai = fmaf(wr[j], hv, ai);
        af = fmaf(wr[hidden + j], hv, af);
        ag = fmaf(wr[2 * hidden + j], hv, ag);
        ao = fmaf(wr[3 * hidden + j], hv, ao);
    }
    const float* gxb = gx + (long long)b * h4 * steps;
    const float gi = __fadd_rn(__fadd_rn(gxb[(long long)j * steps + t], biasSum[j]), ai);
    const float gf = __fadd_rn(__fadd_rn(gxb[(long long)(hidden + j) * steps + t], biasSum[hidden + j]), af);
    const float gg = __fadd_rn(__fadd_rn(gxb[(long long)(2 * hidden + j) * steps + t], biasSum[2 * hidden + j]), ag);
    const float go = __fadd_rn(__fadd_rn(gxb[(long long)(3 * hidden + j) * steps + t], biasSum[3 * hidden + j]), ao);
    const float cn = __fadd_rn(__fmul_rn(vx_sigmoid(gf), c[idx]), __fmul_rn(vx_sigmoid(gi), vx_tanh(gg)));
    c[idx] = cn;
    const float h = __fmul_rn(vx_sigmoid(go), vx_tanh(cn));
    hNext[idx] = h;
    const long long o = ((long long)b * hidden + j) * steps + t;
    y[o] = skip == nullptr ? h : __fadd_rn(h, skip[o]);
}
