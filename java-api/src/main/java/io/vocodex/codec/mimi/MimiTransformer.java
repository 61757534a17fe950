package io.vocodex.codec.mimi;

import io.vocodex.backend.cpu.CpuContext;
import io.vocodex.backend.cpu.PackedLinear;
import io.vocodex.backend.cpu.TransformerOps;
import io.vocodex.model.Weights;

/**
 * Mimi's {@code ProjectedTransformer} (conv layout, {@code [C][T]} in and out) around a causal
 * {@code StreamingTransformer}: pre-norm layers of
 * {@code x += ls1 * out_proj(attn(rope(norm1(x))))}, {@code x += ls2 * linear2(gelu(linear1(norm2(x))))},
 * no biases in the projections, RoPE with interleaved pairs on absolute positions, and attention
 * limited to the last {@code context} positions.
 *
 * <p>Two modes, as in the original:
 * <ul>
 *   <li>{@link #forward}: the whole sequence, query {@code i} sees keys {@code j} with
 *       {@code 0 <= i - j < context};</li>
 *   <li>{@link Stream#step}: one chunk at a time through a per-layer ring KV cache of capacity
 *       {@code context}. The chunk's keys are written into the ring BEFORE its queries attend, so
 *       once the ring is full a chunk of {@code n} positions overwrites the {@code n} oldest keys,
 *       and query {@code p} of the chunk sees only keys {@code > lastPosition - capacity}: the first
 *       query of a 2-position chunk sees {@code context - 1} keys instead of {@code context}. This
 *       is the original's behaviour (RingKVCache.complete), reproduced on purpose; see docs/mimi.md.</li>
 * </ul>
 * Weights: {@code [input_proj.weight]}, {@code transformer.layers.{i}.{norm1,norm2}.{weight,bias}},
 * {@code self_attn.in_proj_weight (3D, D)} (q, k, v stacked, heads contiguous), {@code self_attn.out_proj.weight},
 * {@code linear1.weight}, {@code linear2.weight}, {@code layer_scale_{1,2}.scale}, {@code [output_projs.0.weight]}.
 */
public final class MimiTransformer {
    private static final double LAYER_NORM_EPS = 1e-5;

    private final MimiConfig.Transformer cfg;
    private final int dim;
    private final int heads;
    private final int headDim;
    private final int context;
    private final PackedLinear inputProj;  // input_proj.weight (d_model, input_dim) or null
    private final PackedLinear outputProj; // output_projs.0.weight (output_dim, d_model) or null
    private final Layer[] layers;

    private record Layer(float[] norm1W, float[] norm1B, PackedLinear inProj, PackedLinear outProj, float[] norm2W,
                         float[] norm2B, PackedLinear linear1, PackedLinear linear2, float[] scale1, float[] scale2) {
    }

    public MimiTransformer(MimiConfig.Transformer cfg, Weights w) {
        this.cfg = cfg;
        this.dim = cfg.dModel();
        this.heads = cfg.numHeads();
        this.headDim = cfg.headDim();
        this.context = cfg.context();
        int inDim = cfg.inputDimension();
        int outDim = cfg.outputDimensions()[0];
        inputProj = inDim == dim ? null : PackedLinear.pack(w.floats("input_proj.weight", dim, inDim), dim, inDim);
        outputProj = outDim == dim ? null : PackedLinear.pack(w.floats("output_projs.0.weight", outDim, dim), outDim, dim);
        layers = new Layer[cfg.numLayers()];
        int ff = cfg.dimFeedforward();
        for (int i = 0; i < layers.length; i++) {
            Weights l = w.prefix("transformer.layers." + i);
            Weights a = l.prefix("self_attn");
            // Published checkpoints use nn.MultiheadAttention's names; moshi's own modules save in_projs.0.
            float[] in = a.contains("in_projs.0.weight") ? a.floats("in_projs.0.weight", 3 * dim, dim)
                    : a.floats("in_proj_weight", 3 * dim, dim);
            float[] out = a.contains("out_projs.0.weight") ? a.floats("out_projs.0.weight", dim, dim)
                    : a.floats("out_proj.weight", dim, dim);
            boolean ls = cfg.layerScale() != null;
            layers[i] = new Layer(l.floats("norm1.weight", dim), l.floats("norm1.bias", dim),
                    PackedLinear.pack(in, 3 * dim, dim), PackedLinear.pack(out, dim, dim),
                    l.floats("norm2.weight", dim), l.floats("norm2.bias", dim),
                    PackedLinear.pack(l.floats("linear1.weight", ff, dim), ff, dim),
                    PackedLinear.pack(l.floats("linear2.weight", dim, ff), dim, ff),
                    ls ? l.floats("layer_scale_1.scale", dim) : null, ls ? l.floats("layer_scale_2.scale", dim) : null);
        }
    }

    public int context() {
        return context;
    }

    /** Batch mode over {@code x [C][T]}; returns {@code [C'][T]}. */
    public float[][] forward(CpuContext ctx, float[][] x) {
        int t = x.length == 0 ? 0 : x[0].length;
        if (t == 0) {
            return new float[cfg.outputDimensions()[0]][0];
        }
        float[][] h = TransformerOps.transpose(x);
        if (inputProj != null) {
            h = TransformerOps.linearRows(ctx, h, inputProj);
        }
        int[] lo = new int[t];
        int[] hi = new int[t];
        for (int i = 0; i < t; i++) {
            lo[i] = Math.max(0, i - context + 1);
            hi[i] = i;
        }
        for (Layer layer : layers) {
            float[][] qkv = project(ctx, layer, h, 0);
            float[][] att = TransformerOps.attention(ctx, qkv, 0, qkv, dim, qkv, 2 * dim, heads, headDim, lo, hi);
            finishLayer(ctx, layer, h, att);
        }
        return output(ctx, h);
    }

    /** norm1, in_proj, RoPE on q and k at positions {@code first...}: rows {@code [q | k | v]}. */
    private float[][] project(CpuContext ctx, Layer layer, float[][] h, long first) {
        float[][] n = TransformerOps.layerNorm(ctx, h, layer.norm1W, layer.norm1B, LAYER_NORM_EPS);
        float[][] qkv = TransformerOps.linearRows(ctx, n, layer.inProj);
        TransformerOps.ropeInPlace(qkv, 0, heads, headDim, first, cfg.maxPeriod());
        TransformerOps.ropeInPlace(qkv, dim, heads, headDim, first, cfg.maxPeriod());
        return qkv;
    }

    /** out_proj + layer scale + residual, then the feed-forward block; updates {@code h} in place. */
    private void finishLayer(CpuContext ctx, Layer layer, float[][] h, float[][] att) {
        float[][] upd = TransformerOps.linearRows(ctx, att, layer.outProj);
        TransformerOps.addScaledInPlace(h, layer.scale1, upd);
        float[][] n2 = TransformerOps.layerNorm(ctx, h, layer.norm2W, layer.norm2B, LAYER_NORM_EPS);
        float[][] f = TransformerOps.linearRows(ctx, n2, layer.linear1);
        TransformerOps.geluInPlace(ctx, f, 0, f.length);
        float[][] upd2 = TransformerOps.linearRows(ctx, f, layer.linear2);
        TransformerOps.addScaledInPlace(h, layer.scale2, upd2);
    }

    private float[][] output(CpuContext ctx, float[][] h) {
        if (outputProj != null) {
            h = TransformerOps.linearRows(ctx, h, outputProj);
        }
        return TransformerOps.transpose(h);
    }

    /** A fresh streaming state (empty ring caches, position 0). */
    public Stream newStream() {
        return new Stream();
    }

    /**
     * One stream: the original's {@code RingKVCache} per layer (capacity {@code context}; slot
     * {@code p % capacity} holds position {@code p}'s rotated key and value, in float64 columns,
     * see {@link TransformerOps.KeyValueColumns}: about {@code 16 * layers * context * d_model}
     * bytes) plus the position offset.
     */
    public final class Stream {
        private final TransformerOps.KeyValueColumns[] caches = new TransformerOps.KeyValueColumns[layers.length];
        private long offset;

        Stream() {
            for (int i = 0; i < caches.length; i++) {
                caches[i] = new TransformerOps.KeyValueColumns(heads, headDim, context);
            }
        }

        /** Positions processed so far. */
        public long offset() {
            return offset;
        }

        /** Processes {@code x [C][n]} as ONE chunk of {@code n} positions (n >= 1), as one call of the original. */
        public float[][] step(CpuContext ctx, float[][] x) {
            int n = x.length == 0 ? 0 : x[0].length;
            if (n == 0) {
                return new float[cfg.outputDimensions()[0]][0];
            }
            float[][] h = TransformerOps.transpose(x);
            if (inputProj != null) {
                h = TransformerOps.linearRows(ctx, h, inputProj);
            }
            long last = offset + n - 1;
            for (int li = 0; li < layers.length; li++) {
                Layer layer = layers[li];
                float[][] qkv = project(ctx, layer, h, offset);
                TransformerOps.KeyValueColumns cache = caches[li];
                // RingKVCache.complete: write the whole chunk first (slot (offset + i) % capacity) ...
                for (int i = 0; i < n; i++) {
                    cache.put((int) ((offset + i) % context), qkv[i], dim, qkv[i], 2 * dim);
                }
                // ... then query p_q attends, in position order, to the positions p_k still in the ring
                // (p_k > last - context) with 0 <= p_q - p_k < context (the causal mask).
                float[][] att = new float[n][dim];
                int[] firstSlot = new int[n];
                int[] count = new int[n];
                for (int i = 0; i < n; i++) {
                    long pq = offset + i;
                    long first = Math.max(0, Math.max(pq - context + 1, last - context + 1));
                    firstSlot[i] = (int) (first % context);
                    count[i] = (int) (pq - first + 1);
                }
                // one unit per head: each key and value row is read once for all the chunk's queries
                ctx.parallelFor(heads, (long) n * headDim * context * 2, head ->
                        TransformerOps.attendHeadQueries(qkv, 0, cache, head, firstSlot, count,
                                new double[n][context], new double[n][headDim], att));
                finishLayer(ctx, layer, h, att);
            }
            offset += n;
            return output(ctx, h);
        }
    }

    // ---- weights for other backends (read-only copies) ----------------------------------------

    /** Layer norm epsilon of both norms of every layer. */
    public static final double LAYER_NORM_EPSILON = LAYER_NORM_EPS;

    /**
     * The weights of one layer, as this class reads them: norms {@code (D)}, {@code inProj (3D, D)}
     * ({@code [q | k | v]}), {@code outProj (D, D)}, {@code linear1 (FF, D)}, {@code linear2 (D, FF)},
     * layer scales {@code (D)} or null. Copies; the model stays immutable.
     */
    public record LayerWeights(float[] norm1Weight, float[] norm1Bias, float[] inProj, float[] outProj,
                               float[] norm2Weight, float[] norm2Bias, float[] linear1, float[] linear2,
                               float[] scale1, float[] scale2) {
    }

    public MimiConfig.Transformer config() {
        return cfg;
    }

    public int numLayers() {
        return layers.length;
    }

    /** Layer {@code i}'s weights (copies), e.g. for a device upload. */
    public LayerWeights layerWeights(int i) {
        Layer l = layers[i];
        return new LayerWeights(l.norm1W.clone(), l.norm1B.clone(), l.inProj.unpack(), l.outProj.unpack(), l.norm2W.clone(),
                l.norm2B.clone(), l.linear1.unpack(), l.linear2.unpack(), l.scale1 == null ? null : l.scale1.clone(),
                l.scale2 == null ? null : l.scale2.clone());
    }

    /** {@code input_proj.weight (D, inputDim)} (copy), or null when the input is already {@code D} wide. */
    public float[] inputProjection() {
        return inputProj == null ? null : inputProj.unpack();
    }

    /** {@code output_projs.0.weight (outputDim, D)} (copy), or null when the output is {@code D} wide. */
    public float[] outputProjection() {
        return outputProj == null ? null : outputProj.unpack();
    }
}
