package io.vocodex.backend.cuda;

import io.vocodex.VocodexException;

/**
 * Host side of {@code attention.cu}: Mimi's windowed causal multi-head attention on the device, for
 * the batch path (every clip's whole sequence) and for streaming decode (a chunk of queries of many
 * streams over their per-layer KV rings, one launch for all streams).
 *
 * <p>Activations are channel-major per clip, as for {@link CudaConv1d}: the projected rows
 * {@code [q | k | v]} of clip {@code b} are a {@code (3 dim, T)} block at {@code b * qkvBatchStride}
 * with channel stride {@code qkvRowStride}, so the q/k/v projection is one {@code conv1d} with K = 1.
 * The output is a {@code (dim, T)} block per clip (heads concatenated), ready for the output projection.
 *
 * <p>Two arithmetic modes ({@link Mode}):
 * <ul>
 *   <li>{@link Mode#EXACT} ({@code attention_f32}, {@code attention_ring_f32}): the order of
 *       {@code TransformerOps.attention} in float64, one warp per (query, head); the CPU twins are
 *       {@code ChannelMajorAttention}'s methods. Equal to the CPU up to the last bit of the device's
 *       double {@code exp} (which very rarely changes a float), so tokens are expected equal;</li>
 *   <li>{@link Mode#ONLINE_SOFTMAX} ({@code attention_flash_f32}, batch only): tiles of 32 queries x
 *       32 keys in shared memory, float32 online softmax, never a T x T matrix; bit-identical to its
 *       twin {@code OnlineSoftmaxAttention}, within a few float32 ulps of the exact mode.</li>
 * </ul>
 * Launches into existing buffers; allocates nothing except in {@link #newRings}.
 * <pre>{@code
 * CudaAttention att = new CudaAttention(cuda);
 * att.batch(s, CudaAttention.Mode.EXACT, qkv, 3L * dim * t, t, out, (long) dim * t, t, lengths, batch, t, dim, heads, context);
 * try (CudaAttention.KvRings rings = att.newRings(layers, slots, dim, context)) {
 *     att.ringWrite(s, chunkQkv, 3L * dim * n, n, rings, layer, ringIndex, offsets, streams, n);
 *     att.ringAttend(s, chunkQkv, 3L * dim * n, n, rings, layer, ringIndex, offsets, out, (long) dim * n, n,
 *             streams, n, heads, context);
 * }
 * }</pre>
 */
public final class CudaAttention {
    /** Largest head dimension the kernels take ({@code VX_ATT_MAX_HD}). */
    public static final int MAX_HEAD_DIM = 128;
    private static final int EXACT_WARPS = 4;     // VX_ATT_WARPS
    private static final int FLASH_QUERIES = 32;  // VX_FLASH_QUERIES
    private static final int FLASH_THREADS = 128; // VX_FLASH_QUERIES * VX_FLASH_SPLIT
    private static final int RING_THREADS = 256;  // VX_RING_THREADS

    /** Arithmetic of the batch attention. */
    public enum Mode {
        /** TransformerOps' float64 order (parity mode). */
        EXACT,
        /** Float32 online softmax over shared-memory tiles (fast mode). */
        ONLINE_SOFTMAX
    }

    private final CudaContext ctx;

    public CudaAttention(CudaContext ctx) {
        this.ctx = ctx;
    }

    /**
     * Per-layer KV rings of {@code rings} stream slots: for layer {@code l} and ring {@code r}, keys and
     * values are {@code (dim, cap)} blocks at {@code (l * rings + r) * dim * cap}. A ring needs no reset
     * when a slot gets a new stream: a stream starting at position 0 only reads columns it has written.
     */
    public final class KvRings implements AutoCloseable {
        final int layers;
        final int rings;
        final int dim;
        final int cap;
        final DeviceBuffer keys;
        final DeviceBuffer values;

        KvRings(int layers, int rings, int dim, int cap) {
            this.layers = layers;
            this.rings = rings;
            this.dim = dim;
            this.cap = cap;
            long n = (long) layers * rings * dim * cap;
            DeviceBuffer k = ctx.allocate(4 * n);
            try {
                this.values = ctx.allocate(4 * n);
            } catch (RuntimeException e) {
                k.close();
                throw e;
            }
            this.keys = k;
        }

        public int capacity() {
            return cap;
        }

        public int rings() {
            return rings;
        }

        long layerOffset(int layer) {
            if (layer < 0 || layer >= layers) {
                throw new IndexOutOfBoundsException("layer " + layer + " of " + layers);
            }
            return (long) layer * rings * dim * cap;
        }

        /** Keys of ring {@code ring}, layer {@code layer} as {@code (dim, cap)} (a download, for tests). */
        public float[] downloadKeys(CudaStream s, int layer, int ring) {
            return keys.download(s, layerOffset(layer) + (long) ring * dim * cap, dim * cap);
        }

        @Override
        public void close() {
            keys.close();
            values.close();
        }
    }

    /** Rings for {@code layers} layers of {@code rings} slots, {@code dim} channels, capacity {@code cap}. */
    public KvRings newRings(int layers, int rings, int dim, int cap) {
        if (layers < 1 || rings < 1 || dim < 1 || cap < 1) {
            throw new VocodexException("KV rings need positive sizes, got layers " + layers + ", rings " + rings
                    + ", dim " + dim + ", capacity " + cap);
        }
        return new KvRings(layers, rings, dim, cap);
    }

    /**
     * Attention of every clip's whole sequence: query {@code i < lengths[b]} sees keys {@code j} with
     * {@code 0 <= i - j < context}; output columns at or beyond a clip's length are not written.
     *
     * @param lengths {@code batch} ints on the device, or null for {@code tmax} each
     */
    public void batch(CudaStream s, Mode mode, DeviceBuffer qkv, long qkvBatchStride, int qkvRowStride,
                      DeviceBuffer out, long outBatchStride, int outRowStride, DeviceBuffer lengths,
                      int batch, int tmax, int dim, int heads, int context) {
        checkHeads(dim, heads, context);
        if (batch == 0 || tmax == 0) {
            return;
        }
        Args a = new Args().buf(qkv).i64(qkvBatchStride).i32(qkvRowStride).buf(out).i64(outBatchStride).i32(outRowStride)
                .buf(lengths).i32(batch).i32(tmax).i32(dim).i32(heads).i32(context);
        if (mode == Mode.ONLINE_SOFTMAX) {
            if (batch > 65535) {
                throw new VocodexException("online-softmax attention takes at most 65535 clips per launch, got " + batch);
            }
            ctx.launch(Kernel.ATTENTION_FLASH_F32, s, CudaConv1d.ceilDiv(tmax, FLASH_QUERIES), heads, batch, FLASH_THREADS,
                    a.build());
        } else {
            long warps = (long) batch * tmax * heads;
            ctx.launch(Kernel.ATTENTION_F32, s, blocks(warps, EXACT_WARPS), 1, 1, EXACT_WARPS * 32, a.build());
        }
    }

    /**
     * Writes the keys and values of each stream's chunk of {@code n} positions into its ring of layer
     * {@code layer}: column {@code i} of stream {@code s} (rows {@code dim .. 3 dim} of its qkv block) goes to
     * column {@code (offsets[s] + i) % cap} of ring {@code ringIndex[s]}.
     *
     * @param ringIndex {@code streams} ints: each stream's ring (slot)
     * @param offsets {@code streams} ints: the position of each stream's first chunk column
     */
    public void ringWrite(CudaStream s, DeviceBuffer qkv, long qkvBatchStride, int qkvRowStride, KvRings rings, int layer,
                          DeviceBuffer ringIndex, DeviceBuffer offsets, int streams, int n) {
        if (streams == 0 || n == 0) {
            return;
        }
        long off = rings.layerOffset(layer);
        Args a = new Args().buf(qkv).i64(qkvBatchStride).i32(qkvRowStride)
                .ptr(rings.keys.at(off)).ptr(rings.values.at(off)).i64((long) rings.dim * rings.cap).i32(rings.cap)
                .buf(ringIndex).buf(offsets).i32(streams).i32(n).i32(rings.dim);
        ctx.launch(Kernel.KV_RING_WRITE_F32, s, blocks((long) streams * rings.dim * n, RING_THREADS), 1, 1, RING_THREADS,
                a.build());
    }

    /**
     * Exact attention of each stream's {@code n} chunk queries over its ring of layer {@code layer}, which
     * must already hold the chunk ({@link #ringWrite} on the same stream first): query at position
     * {@code pq = offsets[s] + i} sees the positions {@code pk} still in the ring with
     * {@code 0 <= pq - pk < context}, as {@code MimiTransformer.Stream}.
     */
    public void ringAttend(CudaStream s, DeviceBuffer qkv, long qkvBatchStride, int qkvRowStride, KvRings rings, int layer,
                           DeviceBuffer ringIndex, DeviceBuffer offsets, DeviceBuffer out, long outBatchStride,
                           int outRowStride, int streams, int n, int heads, int context) {
        checkHeads(rings.dim, heads, context);
        if (streams == 0 || n == 0) {
            return;
        }
        long off = rings.layerOffset(layer);
        Args a = new Args().buf(qkv).i64(qkvBatchStride).i32(qkvRowStride)
                .ptr(rings.keys.at(off)).ptr(rings.values.at(off)).i64((long) rings.dim * rings.cap).i32(rings.cap)
                .buf(ringIndex).buf(offsets).buf(out).i64(outBatchStride).i32(outRowStride)
                .i32(streams).i32(n).i32(rings.dim).i32(heads).i32(context);
        long warps = (long) streams * n * heads;
        ctx.launch(Kernel.ATTENTION_RING_F32, s, blocks(warps, EXACT_WARPS), 1, 1, EXACT_WARPS * 32, a.build());
    }

    private static void checkHeads(int dim, int heads, int context) {
        if (heads < 1 || dim % heads != 0) {
            throw new VocodexException("attention dim " + dim + " is not divisible by " + heads + " heads");
        }
        if (dim / heads > MAX_HEAD_DIM) {
            throw new VocodexException("attention head dim " + dim / heads + " exceeds the kernels' " + MAX_HEAD_DIM);
        }
        if (context < 1) {
            throw new VocodexException("attention context must be positive, got " + context);
        }
    }

    private static int blocks(long items, int perBlock) {
        long b = (items + perBlock - 1) / perBlock;
        if (b > Integer.MAX_VALUE) {
            throw new VocodexException("attention launch of " + items + " items is too large");
        }
        return (int) b;
    }
}
