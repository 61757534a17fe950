package io.vocodex.backend.cuda;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vocodex.VocodexException;
import io.vocodex.backend.cpu.CpuContext;
import io.vocodex.codec.CodecModel;
import io.vocodex.codec.encodec.EncodecModel;
import io.vocodex.nn.Conv1dLayer;
import io.vocodex.nn.ConvTranspose1dLayer;
import io.vocodex.nn.EluLayer;
import io.vocodex.nn.LstmLayer;
import io.vocodex.nn.ResidualBlock;
import io.vocodex.nn.ResidualVectorQuantizer;
import io.vocodex.nn.Sequential;
import io.vocodex.nn.StreamingModule;
import jcuda.driver.CUDA_MEMCPY2D;
import jcuda.driver.CUmemorytype;
import jcuda.driver.JCudaDriver;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An {@link EncodecModel} on a CUDA device: its folded weights are uploaded once, and batch encode
 * (encoder convs with fused padding/ELU/residual add, the LSTM as one input-projection GEMM plus one
 * launch per step, RVQ nearest code + residual on the device) and decode (RVQ sum, convs, LSTM,
 * polyphase transposed convs) run there, batched over clips of equal length. Clips of different
 * lengths are grouped by length, never padded: padding would change the reflect/end padding and the
 * LSTM state, so a clip's tokens would no longer be its solo tokens.
 *
 * <p>{@link Precision#FP32} is the parity mode: every kernel reproduces the CPU's arithmetic bit for
 * bit except the LSTM's sigmoid/tanh (double-precision device functions, rare last-bit differences),
 * so tokens are expected equal to the CPU's. {@link Precision#TF32} is the fast mode (tensor cores for
 * the convolutions and the LSTM input projection; RVQ stays fp32); its tokens agree with fp32 on most
 * frames, not all.
 *
 * <p>Single-stream streaming ({@link #openEncoder}/{@link #openDecoder}) runs on the CPU model;
 * many streams run on the device through {@link #openStreamPool} (the GPU {@code StreamHub}).
 * Thread-safe: device work is serialised on this object.
 *
 * <p><b>Status: compiled, never run on a GPU.</b>
 */
public final class CudaEncodec implements CodecModel, AutoCloseable {
    /** Budget for one batch's activations, as a fraction of the free device memory at load. */
    private static final double ACTIVATION_MEMORY_FRACTION = 0.5;

    final EncodecModel cpu;
    final CudaContext cuda;
    final Precision precision;
    final CudaConv1d conv;
    final CudaConvTranspose1d convT;
    final CudaElementwise elementwise;
    final CudaRvq rvq;
    final List<Op> encoderOps;
    final List<Op> decoderOps;
    final List<ConvOp> encoderConvs = new ArrayList<>(); // every conv of the encoder in stream order (ConvOp.sid)
    private final List<DeviceBuffer> weights = new ArrayList<>();
    private final List<CudaLstm> lstms = new ArrayList<>();
    private final int dimension;
    private final long activationBudget;
    private boolean closed;

    // ---- the layer plan ------------------------------------------------------------------------

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

    // ---- construction --------------------------------------------------------------------------

    /** {@code cuda == null}: the plan only, no device (host-side tests of the plan and the stream schedule). */
    private CudaEncodec(EncodecModel cpu, CudaContext cuda, Precision precision) {
        this.cpu = cpu;
        this.cuda = cuda;
        this.precision = precision;
        this.conv = new CudaConv1d(cuda);
        this.convT = new CudaConvTranspose1d(cuda);
        this.elementwise = new CudaElementwise(cuda);
        ResidualVectorQuantizer q = cpu.quantizer();
        float[][] books = new float[q.numQuantizers()][];
        for (int k = 0; k < books.length; k++) {
            books[k] = q.codebook(k);
        }
        this.dimension = q.dim();
        this.rvq = cuda == null ? null : new CudaRvq(cuda, q.dim(), q.bins(), books);
        this.encoderOps = plan(cpu.encoderModules());
        this.decoderOps = plan(cpu.decoderModules());
        for (Op op : encoderOps) {
            if (op instanceof ConvOp c) {
                addConv(c);
            } else if (op instanceof ResOp r) {
                if (r.shortcut() != null) {
                    addConv(r.shortcut());
                }
                r.block().forEach(this::addConv);
            }
        }
        this.activationBudget = cuda == null ? 0 : (long) (cuda.freeBytes() * ACTIVATION_MEMORY_FRACTION);
    }

    /** The layer plan of {@code model} without a device: nothing uploaded, nothing runnable (host-side tests). */
    static CudaEncodec planOnly(EncodecModel model) {
        return new CudaEncodec(model, null, Precision.FP32);
    }

    private void addConv(ConvOp c) {
        c.sid = encoderConvs.size();
        encoderConvs.add(c);
    }

    /**
     * {@code model} on CUDA device {@code ordinal}. Throws {@link VocodexException} with the reason when
     * CUDA is unusable or the model has a layer the device plan does not cover; callers fall back to the CPU.
     */
    public static CudaEncodec create(EncodecModel model, int ordinal, Precision precision) {
        CudaContext cuda = new CudaContext(ordinal);
        try {
            return new CudaEncodec(model, cuda, precision);
        } catch (RuntimeException e) {
            cuda.close();
            throw e instanceof VocodexException v ? v : new VocodexException("CUDA EnCodec setup failed: " + e, e);
        }
    }

    private DeviceBuffer upload(float[] a) {
        if (cuda == null) {
            return null;
        }
        DeviceBuffer b = cuda.upload(a);
        weights.add(b);
        return b;
    }

    private ConvOp convOp(Conv1dLayer c, EluLayer elu, int module) {
        float[] bias = c.bias();
        CudaConv1d.Layer dev = new CudaConv1d.Layer(c.inChannels(), c.outChannels(), c.kernel(), c.stride(), c.dilation(),
                c.groups(), upload(c.weight()), bias == null ? null : upload(bias));
        return new ConvOp(c, dev, elu != null, elu == null ? 0f : elu.alpha(), module);
    }

    private List<Op> plan(List<StreamingModule> modules) {
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
                throw new VocodexException("the CUDA EnCodec plan has no device form of " + m.getClass().getSimpleName());
            }
        }
        if (pendingElu != null) {
            ops.add(new EluOp(pendingElu.outChannels(), pendingElu.alpha()));
        }
        return ops;
    }

    private ResOp resOp(ResidualBlock r, int module) {
        if (!(r.block() instanceof Sequential seq)) {
            throw new VocodexException("the CUDA EnCodec plan needs a residual block made of ELU + conv pairs");
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
                throw new VocodexException("the CUDA EnCodec plan needs a residual block made of ELU + conv pairs, found "
                        + m.getClass().getSimpleName());
            }
        }
        if (pendingElu != null || block.isEmpty()) {
            throw new VocodexException("the CUDA EnCodec plan needs a residual block ending in a conv");
        }
        ConvOp shortcut = null;
        if (r.shortcut() != null) {
            if (!(r.shortcut() instanceof Conv1dLayer c) || c.kernel() != 1 || c.stride() != 1) {
                throw new VocodexException("the CUDA EnCodec plan needs a 1x1 conv or identity shortcut");
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
    private final class Scratch implements AutoCloseable {
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
    private record Act(DeviceBuffer buf, int channels, int len) {
    }

    /**
     * Runs {@code ops} over {@code batch} clips of {@code x (B, channels, len)} held in {@code s.buf[0]};
     * returns where the result is. Uses buffers 0..3 as ping-pong, block temporary and transposed-conv staging.
     */
    private Act forward(List<Op> ops, int batch, Scratch s, int channels, int len) {
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
    private static void copyColumns(CudaStream st, DeviceBuffer src, int srcPitch, int from, DeviceBuffer dst, int n, long rows) {
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
    private int convBatch(CudaStream st, ConvOp cv, int batch, DeviceBuffer x, int c, int t, DeviceBuffer y, DeviceBuffer residual) {
        Conv1dLayer L = cv.layer;
        CudaConv1d.Padding pad = CudaConv1d.Padding.encodec(t, L.kernel(), L.stride(), L.dilation(), L.causal(), L.padMode());
        conv.launch(st, precision, cv.dev, pad, batch, x, (long) c * t, t, y, (long) L.outChannels() * pad.tout(), pad.tout(),
                residual, cv.elu, cv.alpha);
        return pad.tout();
    }

    /** How many clips of this per-clip activation size fit one launch. */
    private int maxBatch(long actFloats, int groups) {
        long perClip = 4L * 9 * actFloats; // 4 scratch buffers + the LSTM workspace (gx and between: 5 H T <= 5 act)
        long b = Math.max(1, activationBudget / perClip);
        return (int) Math.min(b, 65535 / Math.max(1, groups)); // grid y/z limit of the conv and RVQ launches
    }

    // ---- CodecModel ----------------------------------------------------------------------------

    @Override
    public int[][] encode(CpuContext ctx, float[] pcm, int nq) {
        return encodeBatch(ctx, new float[][] {pcm}, nq)[0];
    }

    /** Codes of every clip; clips of equal length share launches (see the class comment). */
    @Override
    public synchronized int[][][] encodeBatch(CpuContext ctx, float[][] pcm, int nq) {
        check();
        if (nq < 1 || nq > maxCodebooks()) {
            throw new VocodexException("nq " + nq + " outside 1.." + maxCodebooks());
        }
        cuda.makeCurrent();
        Map<Integer, List<Integer>> byLength = new LinkedHashMap<>();
        for (int i = 0; i < pcm.length; i++) {
            byLength.computeIfAbsent(pcm[i].length, k -> new ArrayList<>()).add(i);
        }
        int[][][] out = new int[pcm.length][][];
        for (Map.Entry<Integer, List<Integer>> e : byLength.entrySet()) {
            int len = e.getKey();
            List<Integer> idx = e.getValue();
            long act = maxActivation(encoderOps, 1, len);
            int chunk = maxBatch(act, 1);
            for (int from = 0; from < idx.size(); from += chunk) {
                List<Integer> part = idx.subList(from, Math.min(idx.size(), from + chunk));
                int[][][] codes = encodeSameLength(pcm, part, len, act, nq);
                for (int i = 0; i < part.size(); i++) {
                    out[part.get(i)] = codes[i];
                }
            }
        }
        return out;
    }

    private int[][][] encodeSameLength(float[][] pcm, List<Integer> clips, int len, long act, int nq) {
        int batch = clips.size();
        float[] host = new float[batch * len];
        for (int i = 0; i < batch; i++) {
            System.arraycopy(pcm[clips.get(i)], 0, host, i * len, len);
        }
        try (Scratch s = new Scratch((long) batch * act)) {
            s.buf[0].copyFrom(host);
            Act latent = forward(encoderOps, batch, s, 1, len);
            int frames = latent.len();
            try (DeviceBuffer codes = cuda.allocate(4L * Math.max(1, batch * nq * frames))) {
                rvq.encode(cuda.stream(), latent.buf(), codes, batch, frames, nq);
                int[] flat = codes.downloadInts(cuda.stream(), batch * nq * frames);
                int[][][] out = new int[batch][nq][frames];
                for (int b = 0; b < batch; b++) {
                    for (int k = 0; k < nq; k++) {
                        System.arraycopy(flat, (b * nq + k) * frames, out[b][k], 0, frames);
                    }
                }
                return out;
            }
        }
    }

    /** The encoder output before quantization {@code (dimension, frames)} on the device (tests). */
    public synchronized float[][] encodeLatent(float[] pcm) {
        check();
        cuda.makeCurrent();
        long act = maxActivation(encoderOps, 1, pcm.length);
        try (Scratch s = new Scratch(act)) {
            s.buf[0].copyFrom(pcm);
            Act latent = forward(encoderOps, 1, s, 1, pcm.length);
            float[] flat = latent.buf().download(cuda.stream(), latent.channels() * latent.len());
            float[][] y = new float[latent.channels()][latent.len()];
            for (int d = 0; d < y.length; d++) {
                System.arraycopy(flat, d * latent.len(), y[d], 0, latent.len());
            }
            return y;
        }
    }

    @Override
    public synchronized float[] decode(CpuContext ctx, int[][] codes) {
        check();
        checkCodes(codes);
        cuda.makeCurrent();
        int nq = codes.length;
        int frames = codes[0].length;
        int[] flat = new int[nq * frames];
        for (int k = 0; k < nq; k++) {
            System.arraycopy(codes[k], 0, flat, k * frames, frames);
        }
        long act = maxActivation(decoderOps, dimension, frames);
        try (Scratch s = new Scratch(act); DeviceBuffer dc = cuda.upload(flat)) {
            rvq.decode(cuda.stream(), dc, s.buf[0], 1, frames, nq);
            Act y = forward(decoderOps, 1, s, dimension, frames);
            return y.buf().download(cuda.stream(), y.channels() * y.len());
        }
    }

    private void checkCodes(int[][] codes) {
        if (codes.length == 0 || codes.length > maxCodebooks()) {
            throw new VocodexException("codes have " + codes.length + " codebooks; this model has 1.." + maxCodebooks());
        }
        for (int k = 0; k < codes.length; k++) {
            if (codes[k].length != codes[0].length) {
                throw new VocodexException("codebook " + k + " has " + codes[k].length + " frames, codebook 0 has " + codes[0].length);
            }
            for (int t = 0; t < codes[k].length; t++) {
                if (codes[k][t] < 0 || codes[k][t] >= codebookSize()) {
                    throw new VocodexException("code " + codes[k][t] + " at codebook " + k + ", frame " + t
                            + " is outside [0, " + codebookSize() + ")");
                }
            }
        }
    }

    @Override
    public StreamPool openStreamPool(int capacity, int nq, int frameSamples) {
        synchronized (this) {
            check();
        }
        return CudaEncodecStreams.open(this, capacity, nq, frameSamples, CudaEncodecStreams.graphsDefault());
    }

    /** A pool with CUDA graphs forced on or off (tests compare both). */
    public StreamPool openStreamPool(int capacity, int nq, int frameSamples, boolean graphs) {
        synchronized (this) {
            check();
        }
        return CudaEncodecStreams.open(this, capacity, nq, frameSamples, graphs);
    }

    /** The CPU model (metadata, streaming, finishing GPU streams). */
    public EncodecModel cpuModel() {
        return cpu;
    }

    public Precision precision() {
        return precision;
    }

    /** One line: device and mode. */
    public String describeDevice() {
        return "cuda:" + cuda.ordinal() + " " + cuda.deviceName() + " (sm_" + cuda.computeCapability() + "), "
                + precision.name().toLowerCase(java.util.Locale.ROOT);
    }

    @Override
    public String architecture() {
        return cpu.architecture();
    }

    @Override
    public int sampleRate() {
        return cpu.sampleRate();
    }

    @Override
    public int hopLength() {
        return cpu.hopLength();
    }

    @Override
    public double frameRate() {
        return cpu.frameRate();
    }

    @Override
    public int codebookSize() {
        return cpu.codebookSize();
    }

    @Override
    public int maxCodebooks() {
        return cpu.maxCodebooks();
    }

    @Override
    public double[] bandwidths() {
        return cpu.bandwidths();
    }

    @Override
    public int codebooksFor(double bandwidthKbps) {
        return cpu.codebooksFor(bandwidthKbps);
    }

    @Override
    public EncoderStream openEncoder(int nq) {
        return cpu.openEncoder(nq);
    }

    @Override
    public DecoderStream openDecoder() {
        return cpu.openDecoder();
    }

    @Override
    public ObjectNode describe() {
        ObjectNode o = cpu.describe();
        o.put("device", describeDevice());
        return o;
    }

    void check() {
        if (closed) {
            throw new VocodexException("CUDA EnCodec is closed");
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (cuda == null) {
            return;
        }
        cuda.makeCurrent();
        lstms.forEach(CudaLstm::close);
        rvq.close();
        weights.forEach(DeviceBuffer::close);
        cuda.close();
    }
}
