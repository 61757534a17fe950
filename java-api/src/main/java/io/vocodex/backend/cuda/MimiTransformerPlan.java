package io.vocodex.backend.cuda;

import io.vocodex.VocodexException;
import io.vocodex.backend.cpu.TransformerOps;
import io.vocodex.codec.mimi.MimiConfig;
import io.vocodex.codec.mimi.MimiTransformer;

import java.util.ArrayList;
import java.util.List;

/**
 * Mimi's transformer layer stack as a sequence of channel-major kernels ({@link TransformerKernels}),
 * the same computation as {@link MimiTransformer} in the same per-element order:
 * <pre>
 *   [input_proj]                                  linear (conv1d K = 1)
 *   per layer:  n = norm1(h)                      layer_norm_f32
 *               qkv = in_proj(n)                  linear, (3D, T)
 *               rope(q), rope(k)                  rope_f32 at absolute positions
 *               a = attention(qkv)                attention_f32 (or _flash), or ring write + attention_ring_f32
 *               h += ls1 * out_proj(a)            linear, scale_add_f32
 *               n = norm2(h); f = gelu(linear1(n))  layer_norm_f32, linear, gelu_f32
 *               h += ls2 * linear2(f)             linear, scale_add_f32
 *   [output_proj]                                 linear
 * </pre>
 * Batch mode ({@link #forward}) runs clips of equal length; streaming ({@link #step}) runs a chunk of
 * {@code n} positions of many streams at once over their KV rings (ring index and position offset per
 * stream as data), as {@code MimiTransformer.Stream.step} does one stream. All scratch lives in a
 * {@link Workspace} sized when it is made: a forward or step allocates nothing.
 */
final class MimiTransformerPlan<B, R> implements AutoCloseable {
    private final TransformerKernels<B, R> k;
    final int dim;
    final int heads;
    final int headDim;
    final int context;
    final int feedForward;
    final int inDim;
    final int outDim;
    final boolean onlineSoftmax;
    private final B inputProj;  // (D, inDim) or null
    private final B outputProj; // (outDim, D) or null
    private final B freqs;
    private final List<Layer<B>> layers = new ArrayList<>();
    private final List<B> owned = new ArrayList<>();

    /** Layer {@code i}'s weights on the backend; {@code scale1/2} null without layer scale. */
    record Layer<B>(B norm1W, B norm1B, B inProj, B outProj, B norm2W, B norm2B, B linear1, B linear2, B scale1, B scale2) {
    }

    /**
     * @param onlineSoftmax batch attention with the float32 online-softmax kernel (fast mode) instead of
     *                      the exact one; streaming always uses the exact ring kernel
     */
    MimiTransformerPlan(TransformerKernels<B, R> kernels, MimiTransformer model, boolean onlineSoftmax) {
        this.k = kernels;
        MimiConfig.Transformer c = model.config();
        this.dim = c.dModel();
        this.heads = c.numHeads();
        this.headDim = c.headDim();
        this.context = c.context();
        this.feedForward = c.dimFeedforward();
        this.inDim = c.inputDimension();
        this.outDim = c.outputDimensions()[0];
        this.onlineSoftmax = onlineSoftmax;
        if (headDim > CudaAttention.MAX_HEAD_DIM || headDim % 2 != 0) {
            throw new VocodexException("the CUDA Mimi transformer needs an even head dim <= " + CudaAttention.MAX_HEAD_DIM
                    + ", got " + headDim);
        }
        try {
            this.inputProj = upload(model.inputProjection());
            this.outputProj = upload(model.outputProjection());
            this.freqs = upload(TransformerOps.ropeFrequencies(headDim, c.maxPeriod()));
            for (int i = 0; i < model.numLayers(); i++) {
                MimiTransformer.LayerWeights w = model.layerWeights(i);
                layers.add(new Layer<>(upload(w.norm1Weight()), upload(w.norm1Bias()), upload(w.inProj()), upload(w.outProj()),
                        upload(w.norm2Weight()), upload(w.norm2Bias()), upload(w.linear1()), upload(w.linear2()),
                        upload(w.scale1()), upload(w.scale2())));
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private B upload(float[] a) {
        if (a == null) {
            return null;
        }
        B b = k.upload(a);
        owned.add(b);
        return b;
    }

    int numLayers() {
        return layers.size();
    }

    /** Scratch for up to {@code batch} clips (or streams) of up to {@code tlen} columns. */
    final class Workspace implements AutoCloseable {
        final int batch;
        final int tlen;
        final B h;    // (batch, D, T) the residual stream
        final B norm; // (batch, D, T)
        final B qkv;  // (batch, 3D, T)
        final B att;  // (batch, D, T)
        final B upd;  // (batch, D, T)
        final B ffn;  // (batch, FF, T)
        private final List<B> all = new ArrayList<>();

        Workspace(int batch, int tlen) {
            if (batch < 1 || tlen < 1) {
                throw new VocodexException("transformer workspace needs batch and length >= 1, got " + batch + " x " + tlen);
            }
            this.batch = batch;
            this.tlen = tlen;
            long cols = (long) batch * tlen;
            try {
                h = add(k.allocate(cols * dim));
                norm = add(k.allocate(cols * dim));
                qkv = add(k.allocate(cols * 3 * dim));
                att = add(k.allocate(cols * dim));
                upd = add(k.allocate(cols * Math.max(dim, outDim)));
                ffn = add(k.allocate(cols * feedForward));
            } catch (RuntimeException e) {
                close();
                throw e;
            }
        }

        private B add(B b) {
            all.add(b);
            return b;
        }

        @Override
        public void close() {
            all.forEach(k::free);
            all.clear();
        }
    }

    Workspace newWorkspace(int batch, int tlen) {
        return new Workspace(batch, tlen);
    }

    /** Bytes of scratch a workspace of {@code batch x tlen} takes (memory planning). */
    long workspaceBytes(int batch, int tlen) {
        return 4L * batch * tlen * (6L * dim + Math.max(dim, outDim) + feedForward);
    }

    /** KV rings for {@code slots} streams, capacity {@code context} (the original's ring size). */
    R newRings(int slots) {
        return k.newRings(layers.size(), slots, dim, context);
    }

    /** Batch mode: {@code y (batch, outDim, tlen) = transformer(x (batch, inDim, tlen))}, query i sees keys i-context+1..i. */
    void forward(Workspace ws, B x, B y, int batch, int tlen) {
        fits(ws, batch, tlen);
        input(ws, x, batch, tlen);
        for (Layer<B> l : layers) {
            project(ws, l, null, batch, tlen);
            k.attention(ws.qkv, ws.att, batch, tlen, dim, heads, context, onlineSoftmax);
            finish(ws, l, batch, tlen);
        }
        output(ws, y, batch, tlen);
    }

    /**
     * One chunk of {@code n} positions for each of {@code streams} streams: stream {@code s}'s input is
     * {@code x[s] (inDim, n)} at positions {@code offsets[s] ..}, its keys/values go to ring
     * {@code ringIndex[s]}; {@code y[s] (outDim, n)}. The caller advances the offsets by {@code n} afterwards.
     */
    void step(Workspace ws, B x, B y, int streams, int n, R rings, B ringIndex, B offsets) {
        fits(ws, streams, n);
        input(ws, x, streams, n);
        for (int li = 0; li < layers.size(); li++) {
            Layer<B> l = layers.get(li);
            project(ws, l, offsets, streams, n);
            // RingKVCache.complete: the whole chunk is written before its queries attend.
            k.ringWrite(ws.qkv, rings, li, ringIndex, offsets, streams, n, dim);
            k.ringAttend(ws.qkv, rings, li, ringIndex, offsets, ws.att, streams, n, dim, heads, context);
            finish(ws, l, streams, n);
        }
        output(ws, y, streams, n);
    }

    private void fits(Workspace ws, int batch, int tlen) {
        if (batch > ws.batch || tlen > ws.tlen) {
            throw new VocodexException("transformer workspace of " + ws.batch + " x " + ws.tlen + " is too small for "
                    + batch + " x " + tlen);
        }
    }

    private void input(Workspace ws, B x, int batch, int tlen) {
        if (inputProj != null) {
            k.linear(x, inputProj, ws.h, batch, inDim, dim, tlen);
        } else {
            k.copy(x, ws.h, (long) batch * dim * tlen);
        }
    }

    private void output(Workspace ws, B y, int batch, int tlen) {
        if (outputProj != null) {
            k.linear(ws.h, outputProj, y, batch, dim, outDim, tlen);
        } else {
            k.copy(ws.h, y, (long) batch * dim * tlen);
        }
    }

    /** norm1, in_proj, RoPE on q and k. */
    private void project(Workspace ws, Layer<B> l, B positions, int batch, int tlen) {
        k.layerNorm(ws.h, ws.norm, l.norm1W(), l.norm1B(), batch, dim, tlen, MimiTransformer.LAYER_NORM_EPSILON);
        k.linear(ws.norm, l.inProj(), ws.qkv, batch, dim, 3 * dim, tlen);
        k.rope(ws.qkv, dim, 0, heads, headDim, freqs, positions, batch, tlen);
        k.rope(ws.qkv, dim, dim, heads, headDim, freqs, positions, batch, tlen);
    }

    /** out_proj + layer scale + residual, then the feed-forward block. */
    private void finish(Workspace ws, Layer<B> l, int batch, int tlen) {
        k.linear(ws.att, l.outProj(), ws.upd, batch, dim, dim, tlen);
        k.scaleAdd(ws.h, ws.upd, l.scale1(), batch, dim, tlen);
        k.layerNorm(ws.h, ws.norm, l.norm2W(), l.norm2B(), batch, dim, tlen, MimiTransformer.LAYER_NORM_EPSILON);
        k.linear(ws.norm, l.linear1(), ws.ffn, batch, dim, feedForward, tlen);
        k.gelu(ws.ffn, (long) batch * feedForward * tlen);
        k.linear(ws.ffn, l.linear2(), ws.upd, batch, feedForward, dim, tlen);
        k.scaleAdd(ws.h, ws.upd, l.scale2(), batch, dim, tlen);
    }

    @Override
    public void close() {
        owned.forEach(k::free);
        owned.clear();
        layers.clear();
    }
}
