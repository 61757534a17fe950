package io.vocodex.backend.cuda;

/** Arithmetic of the GEMM-shaped kernels (convolutions, the LSTM input projection). */
public enum Precision {
    /** Parity mode: each output is the CPU contract's fma chain, bit-identical to {@code CpuOps}. */
    FP32,
    /** Speed mode: tensor cores with tf32 inputs (10-bit mantissa) and fp32 accumulation. */
    TF32
}
