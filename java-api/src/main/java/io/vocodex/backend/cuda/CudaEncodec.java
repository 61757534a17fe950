package io.vocodex.backend.cuda;

import io.vocodex.VocodexException;
import io.vocodex.codec.CodeValidation;
import io.vocodex.backend.cpu.CpuContext;
import io.vocodex.codec.CodecModel;
import io.vocodex.codec.encodec.EncodecModel;
import io.vocodex.nn.ResidualVectorQuantizer;

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
public final class CudaEncodec extends CudaCodecModel<EncodecModel> {
    /** Budget for one batch's activations, as a fraction of the free device memory at load. */
    private static final double ACTIVATION_MEMORY_FRACTION = 0.5;

    final CudaSeanet seanet;
    final CudaConv1d conv;
    final CudaRvq rvq;
    final List<CudaSeanet.Op> encoderOps;
    final List<CudaSeanet.Op> decoderOps;
    final List<CudaSeanet.ConvOp> encoderConvs = new ArrayList<>(); // every conv of the encoder in stream order (ConvOp.sid)
    private final int dimension;
    private final long activationBudget;

    // ---- construction --------------------------------------------------------------------------

    /** {@code cuda == null}: the plan only, no device (host-side tests of the plan and the stream schedule). */
    private CudaEncodec(EncodecModel cpu, CudaContext cuda, Precision precision) {
        super(cpu, cuda, precision);
        this.seanet = new CudaSeanet(cuda, precision);
        this.conv = seanet.conv;
        ResidualVectorQuantizer q = cpu.quantizer();
        float[][] books = new float[q.numQuantizers()][];
        for (int k = 0; k < books.length; k++) {
            books[k] = q.codebook(k);
        }
        this.dimension = q.dim();
        this.rvq = cuda == null ? null : new CudaRvq(cuda, q.dim(), q.bins(), books);
        this.encoderOps = seanet.plan(cpu.encoderModules());
        this.decoderOps = seanet.plan(cpu.decoderModules());
        for (CudaSeanet.Op op : encoderOps) {
            if (op instanceof CudaSeanet.ConvOp c) {
                addConv(c);
            } else if (op instanceof CudaSeanet.ResOp r) {
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

    private void addConv(CudaSeanet.ConvOp c) {
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

    // ---- batch forward -------------------------------------------------------------------------

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
            long act = CudaSeanet.maxActivation(encoderOps, 1, len);
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
        try (CudaSeanet.Scratch s = seanet.new Scratch((long) batch * act)) {
            s.buf[0].copyFrom(host);
            CudaSeanet.Act latent = seanet.forward(encoderOps, batch, s, 1, len);
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
        long act = CudaSeanet.maxActivation(encoderOps, 1, pcm.length);
        try (CudaSeanet.Scratch s = seanet.new Scratch(act)) {
            s.buf[0].copyFrom(pcm);
            CudaSeanet.Act latent = seanet.forward(encoderOps, 1, s, 1, pcm.length);
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
        long act = CudaSeanet.maxActivation(decoderOps, dimension, frames);
        try (CudaSeanet.Scratch s = seanet.new Scratch(act); DeviceBuffer dc = cuda.upload(flat)) {
            rvq.decode(cuda.stream(), dc, s.buf[0], 1, frames, nq);
            CudaSeanet.Act y = seanet.forward(decoderOps, 1, s, dimension, frames);
            return y.buf().download(cuda.stream(), y.channels() * y.len());
        }
    }

    private void checkCodes(int[][] codes) {
        CodeValidation.check(codes, 1, maxCodebooks(), codebookSize(), "");
    }

    @Override
    StreamPool openPool(int capacity, int nq, int frameSamples, boolean graphs) {
        return CudaEncodecStreams.open(this, capacity, nq, frameSamples, graphs);
    }

    @Override
    void releaseDevice() {
        rvq.close();
        seanet.close();
    }
}
