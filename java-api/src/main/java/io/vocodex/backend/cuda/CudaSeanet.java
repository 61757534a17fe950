package io.vocodex.backend.cuda;

import io.vocodex.VocodexException;
import io.vocodex.nn.Conv1dLayer;
import io.vocodex.nn.ConvTranspose1dLayer;
import io.vocodex.nn.EluLayer;
import io.vocodex.nn.LstmLayer;
import io.vocodex.nn.ResidualBlock;
import io.vocodex.nn.Sequential;
import io.vocodex.nn.StreamingModule;
import jcuda.driver.CUDA_MEMCPY2D;
import jcuda.driver.CUmemorytype;
import jcuda.driver.JCudaDriver;

import java.util.ArrayList;
import java.util.List;

/**
 * A SEANet-style conv stack on the device, shared by {@link CudaEncodec} and {@link CudaMimi}: the
 * layer plan of a list of {@code io.vocodex.nn} modules (convs with the ELU of a preceding
 * {@link EluLayer} fused into their input reads, residual blocks as shortcut + ELU/conv pairs with the
 * add in the last conv's epilogue, LSTMs, standalone ELUs, transposed convs trimmed by one 2-d copy)
 * and its batch forward over clips of equal length. Owns the weights it uploads.
 * {@code cuda == null} builds the plan only (nothing uploaded, nothing runnable; host-side tests).
 */
final class CudaSeanet implements AutoCloseable {
    final CudaContext cuda;
    final Precision precision;
    final CudaConv1d conv;
    final CudaConvTranspose1d convT;
    final CudaElementwise elementwise;
    private final List<DeviceBuffer> weights = new ArrayList<>();
    private final List<CudaLstm> lstms = new ArrayList<>();

    CudaSeanet(CudaContext cuda, Precision precision) {
        this.cuda = cuda;
        this.precision = precision;
        this.conv = new CudaConv1d(cuda);
        this.convT = new CudaConvTranspose1d(cuda);
        this.elementwise = new CudaElementwise(cuda);
    }

    /** One device step of a plan. */
    sealed interface Op permits ConvOp, ResOp, LstmOp, EluOp, ConvTOp {
    }

    /** A conv, with the ELU of a preceding {@link EluLayer} fused into its input reads. */
    static final class ConvOp implements Op {
        final Conv1dLayer layer;
        final CudaConv1d.Layer dev;
        final boolean elu;
        final float alpha;
        final int module; // index of the conv in its Sequential
        int sid = -1;     // index among the encoder's convs (streaming state), -1 in the decoder

        ConvOp(Conv1dLayer layer, CudaConv1d.Layer dev, boolean elu, float alpha, int module) {
            this.layer = layer;
            this.dev = dev;
            this.elu = elu;
            this.alpha = alpha;
            this.module = module;
        }

        int span() {
            return layer.span();
        }

        int outLen(int len) {
            return CudaConv1d.Padding.encodec(len, layer.kernel(), layer.stride(), layer.dilation(), layer.causal(),
                    layer.padMode()).tout();
        }

        /** Columns a stream can leave pending: fewer than the span. */
        int tailCap() {
            return span() - 1;
        }
    }

    /** {@code y = shortcut(x) + block(x)}: the block's convs (ELU fused) and a 1x1 shortcut conv or the identity. */
    record ResOp(ResidualBlock layer, ConvOp shortcut, List<ConvOp> block, int module) implements Op {
    }

    record LstmOp(LstmLayer layer, CudaLstm dev, int module) implements Op {
    }

    /** A standalone ELU (the decoder's ELU before a transposed conv). */
    record EluOp(int channels, float alpha) implements Op {
    }

    record ConvTOp(ConvTranspose1dLayer layer, CudaConvTranspose1d.Layer dev) implements Op {
        int outLen(int len) {
            return len * layer.stride();
        }

        int fullLen(int len) {
            return (len + layer.taps() - 1) * layer.stride();
        }
    }

    DeviceBuffer upload(float[] a) {
        if (cuda == null) {
            return null;
        }
        DeviceBuffer b = cuda.upload(a);
        weights.add(b);
        return b;
    }

    ConvOp convOp(Conv1dLayer c, EluLayer elu, int module) {
        float[] bias = c.bias();
        CudaConv1d.Layer dev = new CudaConv1d.Layer(c.inChannels(), c.outChannels(), c.kernel(), c.stride(), c.dilation(),
                c.groups(), upload(c.weight()), bias == null ? null : upload(bias));
        return new ConvOp(c, dev, elu != null, elu == null ? 0f : elu.alpha(), module);
    }

    List<Op> plan(List<StreamingModule> modules) {
        List<Op> ops = new ArrayList<>();
        EluLayer pendingElu = null;
        for (int i = 0; i < modules.size(); i++) {
            StreamingModule m = modules.get(i);
            if (pendingElu != null && !(m instanceof Conv1dLayer)) {
                ops.add(new EluOp(pendingElu.outChannels(), pendingElu.alpha()));
                pendingElu = null;
            }
            if (m instanceof EluLayer e) {
                pendingElu = e;
            } else if (m instanceof Conv1dLayer c) {
                ops.add(convOp(c, pendingElu, i));
                pendingElu = null;
            } else if (m instanceof ResidualBlock r) {
                ops.add(resOp(r, i));
            } else if (m instanceof LstmLayer l) {
                float[][] wih = new float[l.layers()][], whh = new float[l.layers()][];
                float[][] bih = new float[l.layers()][], bhh = new float[l.layers()][];
                for (int k = 0; k < l.layers(); k++) {
                    wih[k] = l.weightIh(k);
                    whh[k] = l.weightHh(k);
                    bih[k] = l.biasIh(k);
                    bhh[k] = l.biasHh(k);
                }
                CudaLstm dev = cuda == null ? null : new CudaLstm(cuda, l.outChannels(), l.skip(), wih, whh, bih, bhh);
                if (dev != null) {
                    lstms.add(dev);
                }
                ops.add(new LstmOp(l, dev, i));
            } else if (m instanceof ConvTranspose1dLayer t) {
                float[] bias = t.bias();
                ops.add(new ConvTOp(t, new CudaConvTranspose1d.Layer(t.inChannels(), t.outChannels(), t.kernel(), t.stride(),
                        t.groups(), upload(t.weight()), bias == null ? null : upload(bias))));
            } else {
                throw new VocodexException("the CUDA SEANet plan has no device form of " + m.getClass().getSimpleName());
            }
        }
        if (pendingElu != null) {
            ops.add(new EluOp(pendingElu.outChannels(), pendingElu.alpha()));
        }
        return ops;
    }

    private ResOp resOp(ResidualBlock r, int module) {
        if (!(r.block() instanceof Sequential seq)) {
            throw new VocodexException("the CUDA SEANet plan needs a residual block made of ELU + conv pairs");
        }
        List<ConvOp> block = new ArrayList<>();
        EluLayer pendingElu = null;
        for (int i = 0; i < seq.modules().size(); i++) {
            StreamingModule m = seq.modules().get(i);
            if (m instanceof EluLayer e && pendingElu == null) {
                pendingElu = e;
            } else if (m instanceof Conv1dLayer c) {
                block.add(convOp(c, pendingElu, i));
                pendingElu = null;
            } else {
                throw new VocodexException("the CUDA SEANet plan needs a residual block made of ELU + conv pairs, found "
                        + m.getClass().getSimpleName());
            }
        }
        if (pendingElu != null || block.isEmpty()) {
            throw new VocodexException("the CUDA SEANet plan needs a residual block ending in a conv");
        }
        ConvOp shortcut = null;
        if (r.shortcut() != null) {
            if (!(r.shortcut() instanceof Conv1dLayer c) || c.kernel() != 1 || c.stride() != 1) {
                throw new VocodexException("the CUDA SEANet plan needs a 1x1 conv or identity shortcut");
            }
            shortcut = convOp(c, null, -1);
        }
        return new ResOp(r, shortcut, block, module);
    }

    // ---- batch forward -------------------------------------------------------------------------

    /** Largest per-clip activation (floats) of {@code ops} on an input of {@code len} columns. */
    static long maxActivation(List<Op> ops, int channels, int len) {
        long max = (long) channels * len;
        int c = channels;
        int t = len;
        for (Op op : ops) {
            if (op instanceof ConvOp cv) {
                t = cv.outLen(t);
                c = cv.layer.outChannels();
            } else if (op instanceof ResOp r) {
                for (ConvOp b : r.block()) {
                    max = Math.max(max, (long) b.layer.outChannels() * t);
                }
            } else if (op instanceof ConvTOp ct) {
                max = Math.max(max, (long) ct.layer().outChannels() * ct.fullLen(t));
                t = ct.outLen(t);
                c = ct.layer().outChannels();
            } else if (op instanceof LstmOp l) {
                c = l.layer().outChannels();
            }
            max = Math.max(max, (long) c * t);
        }
        return Math.max(1, max);
    }

    /** The four activation buffers of one batch forward. */
    final class Scratch implements AutoCloseable {
        final DeviceBuffer[] buf = new DeviceBuffer[4];

        Scratch(long floats) {
            for (int i = 0; i < buf.length; i++) {
                buf[i] = cuda.allocate(4 * floats);
            }
        }

        @Override
        public void close() {
            for (DeviceBuffer b : buf) {
                b.close();
            }
        }
    }

    /** Output of a forward: which scratch buffer, channels and length (contiguous (B, C, T)). */
    record Act(DeviceBuffer buf, int channels, int len) {
    }

    /**
     * Runs {@code ops} over {@code batch} clips of {@code x (B, channels, len)} held in {@code s.buf[0]};
     * returns where the result is. Uses buffers 0..3 as ping-pong, block temporary and transposed-conv staging.
     */
    Act forward(List<Op> ops, int batch, Scratch s, int channels, int len) {
        CudaStream st = cuda.stream();
        DeviceBuffer cur = s.buf[0];
        DeviceBuffer nxt = s.buf[1];
        DeviceBuffer tmpA = s.buf[2];
        DeviceBuffer tmpB = s.buf[3];
        int c = channels;
        int t = len;
        for (Op op : ops) {
            if (op instanceof ConvOp cv) {
                int tout = convBatch(st, cv, batch, cur, c, t, nxt, null);
                c = cv.layer.outChannels();
                t = tout;
            } else if (op instanceof ResOp r) {
                if (r.shortcut() != null) {
                    convBatch(st, r.shortcut(), batch, cur, c, t, nxt, null);
                } else {
                    JCudaDriver.cuMemcpyDtoDAsync(nxt.pointer(), cur.pointer(), 4L * batch * c * t, st.handle());
                }
                DeviceBuffer in = cur;
                int inC = c;
                List<ConvOp> block = r.block();
                for (int i = 0; i < block.size(); i++) {
                    ConvOp b = block.get(i);
                    boolean last = i == block.size() - 1;
                    DeviceBuffer out = last ? nxt : (i % 2 == 0 ? tmpA : tmpB);
                    int tout = convBatch(st, b, batch, in, inC, t, out, last ? nxt : null);
                    if (tout != t) {
                        throw new VocodexException("residual block changes the length " + t + " -> " + tout);
                    }
                    in = out;
                    inC = b.layer.outChannels();
                }
            } else if (op instanceof LstmOp l) {
                try (CudaLstm.Workspace ws = l.dev().newWorkspace(batch, t)) {
                    l.dev().forward(st, precision, ws, cur, nxt, t);
                }
            } else if (op instanceof EluOp e) {
                elementwise.elu(st, cur, nxt, (long) batch * c * t, e.alpha());
            } else if (op instanceof ConvTOp ct) {
                ConvTranspose1dLayer L = ct.layer();
                int full = ct.fullLen(t);
                int nq = t + L.taps() - 1;
                int cout = L.outChannels();
                convT.launch(st, ct.dev(), batch, t, 0, nq, cur, (long) c * t, t, tmpA, (long) cout * full, full);
                int out = ct.outLen(t);
                copyColumns(st, tmpA, full, L.trimLeft(), nxt, out, (long) batch * cout);
                c = cout;
                t = out;
            }
            DeviceBuffer x = cur;
            cur = nxt;
            nxt = x;
        }
        return new Act(cur, c, t);
    }

    /** {@code dst[r][0:n] = src[r][from:from+n]} for {@code rows} rows (2-d async copy). */
    static void copyColumns(CudaStream st, DeviceBuffer src, int srcPitch, int from, DeviceBuffer dst, int n, long rows) {
        CUDA_MEMCPY2D p = new CUDA_MEMCPY2D();
        p.srcMemoryType = CUmemorytype.CU_MEMORYTYPE_DEVICE;
        p.srcDevice = src.pointer();
        p.srcXInBytes = 4L * from;
        p.srcPitch = 4L * srcPitch;
        p.dstMemoryType = CUmemorytype.CU_MEMORYTYPE_DEVICE;
        p.dstDevice = dst.pointer();
        p.dstPitch = 4L * n;
        p.WidthInBytes = 4L * n;
        p.Height = rows;
        JCudaDriver.cuMemcpy2DAsync(p, st.handle());
    }

    /** One conv over a whole batch with EnCodec's padding; returns the output length. */
    int convBatch(CudaStream st, ConvOp cv, int batch, DeviceBuffer x, int c, int t, DeviceBuffer y, DeviceBuffer residual) {
        Conv1dLayer L = cv.layer;
        CudaConv1d.Padding pad = CudaConv1d.Padding.encodec(t, L.kernel(), L.stride(), L.dilation(), L.causal(), L.padMode());
        conv.launch(st, precision, cv.dev, pad, batch, x, (long) c * t, t, y, (long) L.outChannels() * pad.tout(), pad.tout(),
                residual, cv.elu, cv.alpha);
        return pad.tout();
    }

    /** Frees the uploaded weights and LSTMs (the context belongs to the caller). */
    @Override
    public void close() {
        lstms.forEach(CudaLstm::close);
        weights.forEach(DeviceBuffer::close);
        lstms.clear();
        weights.clear();
    }
}
