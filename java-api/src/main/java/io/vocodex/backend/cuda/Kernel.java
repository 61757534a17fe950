package io.vocodex.backend.cuda;

/**
 * Every {@code extern "C"} kernel in {@code cuda-kernels/}, named {@code {op}_{dtype}}. The build test
 * {@code KernelResourcesTest} checks that each one is an entry of its module's PTX for every arch, so
 * a kernel missing from a {@code .cu} fails CI even without a GPU.
 */
public enum Kernel {
    CODEBOOK_ROW_NORMS_F32(KernelModule.CODEBOOK_SEARCH, "codebook_row_norms_f32"),
    CODEBOOK_SEARCH_F32(KernelModule.CODEBOOK_SEARCH, "codebook_search_f32"),
    CONV1D_F32(KernelModule.CONV1D, "conv1d_f32"),
    CONV1D_TF32(KernelModule.CONV1D, "conv1d_tf32"),
    CONV_TRANSPOSE1D_F32(KernelModule.CONV_TRANSPOSE1D, "conv_transpose1d_f32"),
    ELU_F32(KernelModule.ELEMENTWISE, "elu_f32"),
    ADD_F32(KernelModule.ELEMENTWISE, "add_f32"),
    LSTM_STEP_F32(KernelModule.LSTM, "lstm_step_f32"),
    RVQ_NEAREST_F32(KernelModule.RVQ, "rvq_nearest_f32"),
    VQ_CDIST_NEAREST_F32(KernelModule.RVQ, "vq_cdist_nearest_f32"),
    RVQ_DECODE_F32(KernelModule.RVQ, "rvq_decode_f32"),
    STREAM_WINDOW_F32(KernelModule.STREAM, "stream_window_f32"),
    STREAM_KEEP_F32(KernelModule.STREAM, "stream_keep_f32"),
    SLOT_GATHER_F32(KernelModule.STREAM, "slot_gather_f32"),
    ATTENTION_F32(KernelModule.ATTENTION, "attention_f32"),
    ATTENTION_RING_F32(KernelModule.ATTENTION, "attention_ring_f32"),
    ATTENTION_FLASH_F32(KernelModule.ATTENTION, "attention_flash_f32"),
    KV_RING_WRITE_F32(KernelModule.ATTENTION, "kv_ring_write_f32"),
    LAYER_NORM_F32(KernelModule.TRANSFORMER, "layer_norm_f32"),
    ROPE_F32(KernelModule.TRANSFORMER, "rope_f32"),
    GELU_F32(KernelModule.TRANSFORMER, "gelu_f32"),
    SCALE_ADD_F32(KernelModule.TRANSFORMER, "scale_add_f32");

    private final KernelModule module;
    private final String symbol;

    Kernel(KernelModule module, String symbol) {
        this.module = module;
        this.symbol = symbol;
    }

    public KernelModule module() {
        return module;
    }

    /** The PTX entry name. */
    public String symbol() {
        return symbol;
    }
}
