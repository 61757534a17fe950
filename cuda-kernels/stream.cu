// stream.cu: per-slot streaming state for the GPU StreamHub, host twin io.vocodex.backend.cuda.CudaEncodecStreams.
//
// A streaming conv (io.vocodex.nn.Conv1dLayer.step) keeps its not-yet-consumed input columns (the "tail",
// fewer than the kernel span) per stream. On the device every slot s owns tails[s] (C, tailCap). One tick
// steps a group of G ready slots whose streams are in the same shape state (same tail length, same
// started flag), slots[g] naming the slot of group row g:
//
//   stream_window_f32: window[g] (C, prefix + tailLen + nIn) = [left padding | tails[slots[g]][:, :tailLen] | in[g]]
//       The "raw" columns are the tail followed by the new input; when the conv starts on this tick
//       (prefix = its padding P > 0) the first P columns are the pad mode's left padding of the raw columns
//       (reflect: raw[P - j]; replicate: raw[0]; constant: 0), exactly as Conv1dLayer.step prepends it.
//       The conv then reads the window unpadded (conv1d_* with padLeft 0).
//   stream_keep_f32:   tails[slots[g]][:, :keepLen] = window[g][:, keepFrom : keepFrom + keepLen]
//       (what Conv1dLayer.step leaves pending after dropping the consumed columns).
//   slot_gather_f32:   dense[(r*G + g)*rowLen + i] <-> state[(slots[g]*R + r)*rowLen + i]; direction 0 gathers
//       per-slot rows (e.g. LSTM h, c: R = layers) into a dense (R, G, rowLen) workspace, 1 scatters back.
//
// Pure copies: no arithmetic, so the streaming path computes the same bits as the CPU's. Slot indices are
// data, not launch arguments, so a captured CUDA graph replays for any set of slots of a fixed group size.
// Grid-stride loops; any launch shape is valid. STATUS: compiled, never run on a GPU.
#include "common.cuh"

extern "C" __global__ void stream_window_f32(const float* __restrict__ tails, const float* __restrict__ in,
                                             float* __restrict__ window, const int* __restrict__ slots,
                                             int groupSize, int channels, int tailCap, int tailLen, int nIn,
                                             int prefix, int padMode, long long inBatchStride, int inRowStride) {
    const int winLen = prefix + tailLen + nIn;
    const long long n = (long long)groupSize * channels * winLen;
    const long long step = (long long)gridDim.x * blockDim.x;
    for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < n; e += step) {
        const int j = (int)(e % winLen);
        const int c = (int)((e / winLen) % channels);
        const int g = (int)(e / ((long long)winLen * channels));
        int i; // raw column
        if (j < prefix) {
            if (padMode == VX_PAD_CONSTANT) {
                window[e] = 0.f;
                continue;
            }
            i = padMode == VX_PAD_REFLECT ? prefix - j : 0;
        } else {
            i = j - prefix;
        }
        const float* tailRow = tails + ((long long)slots[g] * channels + c) * tailCap;
        window[e] = i < tailLen ? tailRow[i] : in[(long long)g * inBatchStride + (long long)c * inRowStride + (i - tailLen)];
    }
}

extern "C" __global__ void stream_keep_f32(const float* __restrict__ window, float* __restrict__ tails,
                                           const int* __restrict__ slots, int groupSize, int channels, int tailCap,
                                           int winLen, int keepFrom, int keepLen) {
    const long long n = (long long)groupSize * channels * keepLen;
    const long long step = (long long)gridDim.x * blockDim.x;
    for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < n; e += step) {
        const int i = (int)(e % keepLen);
        const int c = (int)((e / keepLen) % channels);
        const int g = (int)(e / ((long long)keepLen * channels));
        tails[((long long)slots[g] * channels + c) * tailCap + i] =
                window[((long long)g * channels + c) * winLen + keepFrom + i];
    }
}

extern "C" __global__ void slot_gather_f32(float* __restrict__ state, float* __restrict__ dense,
                                           const int* __restrict__ slots, int groupSize, int rows, int rowLen,
                                           int scatter) {
    const long long n = (long long)groupSize * rows * rowLen;
    const long long step = (long long)gridDim.x * blockDim.x;
    for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < n; e += step) {
        const int i = (int)(e % rowLen);
        const int g = (int)((e / rowLen) % groupSize);
        const int r = (int)(e / ((long long)rowLen * groupSize));
        const long long s = ((long long)slots[g] * rows + r) * rowLen + i;
        if (scatter) {
            state[s] = dense[e];
        } else {
            dense[e] = state[s];
        }
    }
}
