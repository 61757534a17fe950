package io.vocodex.backend.cuda;

/**
 * The channel-major kernels that {@link MimiTransformerPlan} chains, over buffers of type {@code B}
 * and KV rings of type {@code R}. Implemented by the device ({@link CudaMimiTransformer}: the
 * {@code transformer.cu}/{@code attention.cu}/{@code conv1d.cu} kernels) and, in the tests, by their CPU
 * twins, so the layer schedule itself (weights, strides, offsets, ring bookkeeping) is checked against
 * {@code MimiTransformer} without a GPU.
 *
 * <p>Every activation is a contiguous {@code (batch, channels, tlen)} block: clip {@code b}'s channel
 * {@code c} of column {@code t} at {@code (b * channels + c) * tlen + t}.
 */
interface TransformerKernels<B, R> {
    /** A weight or constant table (uploaded once). */
    B upload(float[] data);

    B uploadInts(int[] data);

    /** Scratch of {@code floats} floats. */
    B allocate(long floats);

    /** Overwrites the first {@code data.length} ints of {@code dst} (positions, ring indices). */
    void write(B dst, int[] data);

    void free(B buffer);

    /** {@code dst[0:n] = src[0:n]} (floats). */
    void copy(B src, B dst, long n);

    R newRings(int layers, int rings, int dim, int cap);

    void freeRings(R rings);

    /** {@code y = layerNorm(x)} per column, {@code (batch, dim, tlen)}; {@code y} may be {@code x}. */
    void layerNorm(B x, B y, B weight, B bias, int batch, int dim, int tlen, double eps);

    /** {@code y (batch, cout, tlen) = w (cout, cin) . x (batch, cin, tlen)}, no bias (conv1d, K = 1). */
    void linear(B x, B w, B y, int batch, int cin, int cout, int tlen);

    /** RoPE on channels {@code col0 ..} of {@code qkv (batch, 3 dim, tlen)}; column t of clip b at {@code firstPositions[b] + t}. */
    void rope(B qkv, int dim, int col0, int heads, int headDim, B freqs, B firstPositions, int batch, int tlen);

    /** Batch attention of {@code qkv (batch, 3 dim, tlen)} into {@code out (batch, dim, tlen)}. */
    void attention(B qkv, B out, int batch, int tlen, int dim, int heads, int context, boolean onlineSoftmax);

    /** Writes each stream's chunk keys/values into its ring ({@code qkv (streams, 3 dim, n)}). */
    void ringWrite(B qkv, R rings, int layer, B ringIndex, B offsets, int streams, int n, int dim);

    /** Each stream's chunk queries over its ring (after {@link #ringWrite}) into {@code out (streams, dim, n)}. */
    void ringAttend(B qkv, R rings, int layer, B ringIndex, B offsets, B out, int streams, int n, int dim, int heads,
                    int context);

    /** GELU in place on the first {@code n} floats. */
    void gelu(B x, long n);

    /** {@code x += scale[c] * u} ({@code x += u} when {@code scale} is null), {@code (batch, dim, tlen)}. */
    void scaleAdd(B x, B u, B scale, int batch, int dim, int tlen);
}
