package io.vocodex.backend.cuda;

import io.vocodex.VocodexException;
import io.vocodex.codec.CodeValidation;
import io.vocodex.backend.cpu.CpuContext;
import io.vocodex.codec.CodecModel;
import io.vocodex.codec.mimi.MimiModel;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@link MimiModel} on a CUDA device: batch encode and decode run there with the weights uploaded
 * once. Encode: SEANet encoder ({@link CudaSeanet}: convs with fused padding/ELU/residual add), the
 * encoder transformer ({@link CudaMimiTransformer}), the downsampling conv (replicate padding, fused into
 * the conv's reads), the split RVQ ({@link CudaMimiQuantizer}: projections + Mimi's cdist nearest code);
 * decode mirrors it (RVQ sums and projections, the depthwise transposed upsample with
 * {@code groups = dimension}, the decoder transformer, the SEANet decoder).
 *
 * <p>Batch calls pad each clip with zeros to whole frames, as the CPU model; clips with the same padded
 * length share every launch (the padding makes them the same computation as solo). {@link Precision#FP32}
 * is the parity mode: codes are expected equal to the CPU's batch codes (only the device's double
 * {@code exp}/{@code cos}/{@code sin} in attention, RoPE and GELU can differ from Java's in a last bit,
 * see docs/cuda.md). {@link Precision#TF32} uses tensor cores for the SEANet convs and the float32
 * online-softmax attention (fast mode; codes agree with fp32 on most frames, not all).
 *
 * <p>One stream ({@link #openEncoder}/{@link #openDecoder}) runs on the CPU model; many encoder streams run
 * on the device through {@link #openStreamPool} ({@link CudaMimiStreams}, the GPU {@code StreamHub}).
 * Thread-safe: device work is serialised on this object. <b>Status: compiled, never run on a GPU.</b>
 * <pre>{@code
 * try (Codec codec = Codec.load(Path.of("models/mimi"), Device.cuda(0))) { // CudaMimi when the GPU is usable
 *     Tokens t = codec.encode(audio, 8 * 0.1375);
 * }
 * }</pre>
 */
public final class CudaMimi extends CudaCodecModel<MimiModel> {
    /** Budget for one batch's activations, as a fraction of the free device memory at load. */
    private static final double ACTIVATION_MEMORY_FRACTION = 0.5;

    final CudaSeanet seanet;
    final List<CudaSeanet.Op> encoderOps;
    final List<CudaSeanet.Op> decoderOps;
    final CudaSeanet.ConvOp downsample;
    final List<CudaSeanet.Op> upsampleOps;
    final CudaMimiTransformer encoderTransformer;
    final CudaMimiTransformer decoderTransformer;
    final CudaMimiQuantizer quantizer;
    private final int dimension;
    private final long activationBudget;

    private CudaMimi(MimiModel cpu, CudaContext cuda, Precision precision) {
        super(cpu, cuda, precision);
        this.dimension = cpu.config().seanet().dimension();
        this.seanet = new CudaSeanet(cuda, precision);
        CudaMimiTransformer enc = null;
        CudaMimiTransformer dec = null;
        CudaMimiQuantizer q = null;
        try {
            this.encoderOps = seanet.plan(cpu.encoderModules());
            this.decoderOps = seanet.plan(cpu.decoderModules());
            this.downsample = seanet.convOp(cpu.downsampleLayer(), null, -1);
            this.upsampleOps = seanet.plan(List.of(cpu.upsampleLayer()));
            CudaAttention.Mode mode = precision == Precision.TF32 ? CudaAttention.Mode.ONLINE_SOFTMAX : CudaAttention.Mode.EXACT;
            enc = new CudaMimiTransformer(cuda, cpu.encoderTransformerModule(), mode);
            dec = new CudaMimiTransformer(cuda, cpu.decoderTransformerModule(), mode);
            q = new CudaMimiQuantizer(cuda, cpu.quantizer());
        } catch (RuntimeException e) {
            if (enc != null) {
                enc.close();
            }
            if (dec != null) {
                dec.close();
            }
            seanet.close();
            throw e;
        }
        this.encoderTransformer = enc;
        this.decoderTransformer = dec;
        this.quantizer = q;
        this.activationBudget = (long) (cuda.freeBytes() * ACTIVATION_MEMORY_FRACTION);
    }

    /**
     * {@code model} on CUDA device {@code ordinal}. Throws {@link VocodexException} with the reason when
     * CUDA is unusable or the model has a layer the device plan does not cover; callers fall back to the CPU.
     */
    public static CudaMimi create(MimiModel model, int ordinal, Precision precision) {
        CudaContext cuda = new CudaContext(ordinal);
        try {
            return new CudaMimi(model, cuda, precision);
        } catch (RuntimeException e) {
            cuda.close();
            throw e instanceof VocodexException v ? v : new VocodexException("CUDA Mimi setup failed: " + e, e);
        }
    }

    /**
     * The device plan of {@code model}'s SEANet stacks without a device (nothing uploaded): throws the reason
     * a layer has no device form. Host-side check that {@link #create} covers the model.
     */
    static void checkPlan(MimiModel model) {
        CudaSeanet plan = new CudaSeanet(null, Precision.FP32);
        plan.plan(model.encoderModules());
        plan.plan(model.decoderModules());
        plan.plan(List.of(model.upsampleLayer()));
        plan.convOp(model.downsampleLayer(), null, -1);
    }

    // ---- encode --------------------------------------------------------------------------------

    /** Samples after zero padding to whole frames, as {@code MimiModel}'s batch calls. */
    int paddedLength(int len) {
        int f = cpu.hopLength();
        return (len + f - 1) / f * f;
    }

    /** Per-clip floats of the largest encoder activation at {@code padded} samples. */
    long encoderActivation(int padded) {
        return CudaSeanet.maxActivation(encoderOps, 1, padded);
    }

    @Override
    public int[][] encode(CpuContext ctx, float[] pcm, int nq) {
        return encodeBatch(ctx, new float[][] {pcm}, nq)[0];
    }

    /** Codes of every clip, each equal to its solo {@link #encode}; clips of the same padded length share launches. */
    @Override
    public synchronized int[][][] encodeBatch(CpuContext ctx, float[][] pcm, int nq) {
        check();
        checkNq(nq);
        cuda.makeCurrent();
        Map<Integer, List<Integer>> byLength = new LinkedHashMap<>();
        for (int i = 0; i < pcm.length; i++) {
            byLength.computeIfAbsent(paddedLength(pcm[i].length), k -> new ArrayList<>()).add(i);
        }
        int[][][] out = new int[pcm.length][][];
        for (Map.Entry<Integer, List<Integer>> e : byLength.entrySet()) {
            int padded = e.getKey();
            List<Integer> idx = e.getValue();
            if (padded == 0) {
                idx.forEach(i -> out[i] = new int[nq][0]);
                continue;
            }
            int chunk = maxBatch(padded);
            for (int from = 0; from < idx.size(); from += chunk) {
                List<Integer> part = idx.subList(from, Math.min(idx.size(), from + chunk));
                int[][][] codes = encodeSameLength(pcm, part, padded, nq);
                for (int i = 0; i < part.size(); i++) {
                    out[part.get(i)] = codes[i];
                }
            }
        }
        return out;
    }

    /** Clips per launch: the activations (4 scratch buffers + the transformer workspace) within the budget. */
    private int maxBatch(int padded) {
        int t2 = padded / cpu.hopLength() * 2;
        long perClip = 4L * 4 * encoderActivation(padded) + encoderTransformer.plan.workspaceBytes(1, t2);
        long b = Math.max(1, activationBudget / Math.max(1, perClip));
        return (int) Math.min(b, 65535); // grid y/z limit of the conv, RVQ and flash-attention launches
    }

    private int[][][] encodeSameLength(float[][] pcm, List<Integer> clips, int padded, int nq) {
        int batch = clips.size();
        int frames = padded / cpu.hopLength();
        float[] host = new float[batch * padded]; // zeros beyond each clip: the batch padding
        for (int i = 0; i < batch; i++) {
            float[] p = pcm[clips.get(i)];
            System.arraycopy(p, 0, host, i * padded, p.length);
        }
        CudaStream st = cuda.stream();
        long act = Math.max(encoderActivation(padded), (long) quantizer.residualFloatsPerFrame() * frames);
        try (CudaSeanet.Scratch s = seanet.new Scratch((long) batch * act)) {
            s.buf[0].copyFrom(host);
            CudaSeanet.Act e = seanet.forward(encoderOps, batch, s, 1, padded);          // (B, D, 2T)
            if (e.channels() != dimension) {
                throw new IllegalStateException("SEANet encoder gave " + e.channels() + " channels, expected " + dimension);
            }
            DeviceBuffer[] free = others(s, e.buf());
            try (var ws = encoderTransformer.newWorkspace(batch, e.len())) {
                encoderTransformer.forward(ws, e.buf(), free[0], batch, e.len());          // (B, D, 2T)
            }
            int t = seanet.convBatch(st, downsample, batch, free[0], dimension, e.len(), free[1], null); // (B, D, T)
            if (t != frames) {
                throw new IllegalStateException("downsampling gave " + t + " frames, expected " + frames);
            }
            try (DeviceBuffer codes = cuda.allocate(4L * Math.max(1, batch * nq * frames))) {
                quantizer.encode(st, free[1], free[2], codes, batch, frames, nq);
                int[] flat = codes.downloadInts(st, batch * nq * frames);
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

    /** The scratch buffers other than {@code used}, in order. */
    private static DeviceBuffer[] others(CudaSeanet.Scratch s, DeviceBuffer used) {
        DeviceBuffer[] o = new DeviceBuffer[s.buf.length - 1];
        int n = 0;
        for (DeviceBuffer b : s.buf) {
            if (b != used) {
                o[n++] = b;
            }
        }
        return o;
    }

    // ---- decode --------------------------------------------------------------------------------

    /** {@code T * frameSize} samples of codes {@code (K, T)}, as {@code MimiModel.decode}. */
    @Override
    public synchronized float[] decode(CpuContext ctx, int[][] codes) {
        check();
        checkCodes(codes);
        cuda.makeCurrent();
        int nq = codes.length;
        int frames = codes[0].length;
        if (frames == 0) {
            return new float[0];
        }
        int[] flat = new int[nq * frames];
        for (int k = 0; k < nq; k++) {
            System.arraycopy(codes[k], 0, flat, k * frames, frames);
        }
        CudaStream st = cuda.stream();
        int t2 = 2 * frames;
        long act = Math.max(CudaSeanet.maxActivation(upsampleOps, dimension, frames),
                CudaSeanet.maxActivation(decoderOps, dimension, t2));
        long qScratch = (long) frames * Math.max(dimension, quantizer.residualFloatsPerFrame());
        try (CudaSeanet.Scratch s = seanet.new Scratch(Math.max(act, qScratch)); DeviceBuffer dc = cuda.upload(flat)) {
            quantizer.decode(st, dc, s.buf[0], s.buf[1], s.buf[2], frames, nq);          // (D, T) in buf[0]
            CudaSeanet.Act up = seanet.forward(upsampleOps, 1, s, dimension, frames);     // (D, 2T)
            if (up.len() != t2) {
                throw new IllegalStateException("upsampling gave " + up.len() + " columns, expected " + t2);
            }
            DeviceBuffer target = s.buf[0] == up.buf() ? s.buf[1] : s.buf[0];
            try (var ws = decoderTransformer.newWorkspace(1, t2)) {
                decoderTransformer.forward(ws, up.buf(), target, 1, t2);
            }
            if (target != s.buf[0]) {
                jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync(s.buf[0].pointer(), target.pointer(), 4L * dimension * t2, st.handle());
            }
            CudaSeanet.Act y = seanet.forward(decoderOps, 1, s, dimension, t2);          // (1, T * frameSize)
            return y.buf().download(st, y.channels() * y.len());
        }
    }

    private void checkNq(int nq) {
        int lo = cpu.config().quantizer().nQSemantic();
        if (nq < lo || nq > maxCodebooks()) {
            throw new VocodexException("Mimi uses " + lo + ".." + maxCodebooks() + " codebooks; asked for " + nq);
        }
    }

    private void checkCodes(int[][] codes) {
        CodeValidation.check(codes, cpu.config().quantizer().nQSemantic(), maxCodebooks(), codebookSize(), "");
    }

    // ---- CodecModel metadata, streaming on the CPU ---------------------------------------------

    @Override
    StreamPool openPool(int capacity, int nq, int frameSamples, boolean graphs) {
        return CudaMimiStreams.open(this, capacity, nq, frameSamples, graphs);
    }

    @Override
    void releaseDevice() {
        encoderTransformer.close();
        decoderTransformer.close();
        quantizer.close();
        seanet.close();
    }
}
