package io.vocodex;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vocodex.backend.cpu.CpuContext;
import io.vocodex.codec.CodecModel;
import io.vocodex.model.ModelFolder;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A neural audio codec loaded from a model folder, ready to turn audio into tokens and back.
 *
 * <pre>{@code
 * try (Codec codec = Codec.load(Path.of("weights/encodec_24khz_tiny"), Device.cpu())) {
 *     Audio audio = Audio.of(samples, codec.sampleRate());
 *     Tokens tokens = codec.encode(audio, 6.0);        // kbps -> codebooks x frames
 *     Audio back = codec.decode(tokens);
 *
 *     try (StreamingEncoder enc = codec.streamingEncoder(6.0)) {   // live audio, any chunk size
 *         Tokens now = enc.push(chunk);                 // frames that became complete
 *         Tokens rest = enc.flush();                    // end of stream
 *     }
 * }
 * }</pre>
 *
 * <p>A {@code Codec} is thread-safe: its weights are immutable and every call or stream keeps its
 * own state. Tokens do not depend on the batch, the chunking or the thread count: streaming gives
 * the batch tokens for every frame, and each clip of {@link #encodeBatch} its solo tokens.
 */
public final class Codec implements AutoCloseable {
    private final Path source;
    private final CodecModel model;
    private final Device device;
    private final CpuContext ctx;
    private volatile boolean closed;

    private Codec(Path source, CodecModel model, Device device) {
        this.source = source;
        this.model = model;
        this.device = device;
        this.ctx = new CpuContext(device.threads());
    }

    /**
     * Loads the model folder {@code dir} ({@code config.json} + {@code model.safetensors}) onto
     * {@code device}. Throws {@link VocodexException} naming the file and the problem if the folder
     * is incomplete, the config unknown or a tensor missing, extra or misshaped.
     */
    public static Codec load(Path dir, Device device) {
        return place(dir, ModelFolder.load(dir), device);
    }

    /** Wraps an already built model (tests, importers); on a CUDA device as {@link #load} places it. */
    public static Codec of(CodecModel model, Device device) {
        return place(null, model, device);
    }

    /**
     * On a CUDA device an EnCodec or Mimi model moves to the GPU ({@code CudaEncodec}, {@code CudaMimi}; fp32
     * parity or tf32 fast mode per {@link Device#tf32()}), a DistilCodec model runs its nearest-code search there
     * ({@code CudaDistilSearch}, exact); anything else, or a CUDA failure, stays on the CPU with a device
     * whose {@link Device#reason()} says why.
     */
    private static Codec place(Path source, CodecModel model, Device device) {
        if (device.kind() != Device.Kind.CUDA || model instanceof io.vocodex.backend.cuda.CudaCodecModel) {
            return new Codec(source, model, device);
        }
        io.vocodex.backend.cuda.Precision precision = device.tf32()
                ? io.vocodex.backend.cuda.Precision.TF32 : io.vocodex.backend.cuda.Precision.FP32;
        if (model instanceof io.vocodex.codec.distilcodec.DistilCodecModel distil) {
            // the nearest-code search (32768 x 3584, almost all of the encoder's arithmetic) on the GPU, the
            // rest on the CPU; codes are the CPU's
            return onDevice(source, model, device, () -> distil.withCodeSearch(
                    io.vocodex.backend.cuda.CudaDistilSearch.open(device.ordinal(), distil)));
        }
        if (model instanceof io.vocodex.codec.mimi.MimiModel mimi) {
            return onDevice(source, model, device,
                    () -> io.vocodex.backend.cuda.CudaMimi.create(mimi, device.ordinal(), precision));
        }
        if (model instanceof io.vocodex.codec.encodec.EncodecModel encodec) {
            return onDevice(source, model, device,
                    () -> io.vocodex.backend.cuda.CudaEncodec.create(encodec, device.ordinal(), precision));
        }
        return new Codec(source, model, Device.cpuFallback("CUDA requested, but the CUDA backend runs EnCodec, Mimi "
                + "and DistilCodec's code search only, not " + model.architecture() + "; using the CPU"));
    }

    /** The model {@code onGpu} builds, or, when CUDA is missing or fails, {@code cpuModel} with the reason. */
    private static Codec onDevice(Path source, CodecModel cpuModel, Device device,
                                  java.util.function.Supplier<CodecModel> onGpu) {
        try {
            return new Codec(source, onGpu.get(), device);
        } catch (VocodexException | LinkageError | IllegalStateException e) {
            return new Codec(source, cpuModel, Device.cpuFallback("CUDA requested but not usable (" + e.getMessage()
                    + "); using the CPU"));
        } catch (RuntimeException e) { // e.g. jcuda.CudaException from the driver
            return new Codec(source, cpuModel, Device.cpuFallback("CUDA requested but failed (" + e + "); using the CPU"));
        }
    }

    public String architecture() {
        return model.architecture();
    }

    public int sampleRate() {
        return model.sampleRate();
    }

    /** Input samples per code frame. */
    public int hopLength() {
        return model.hopLength();
    }

    public double frameRate() {
        return model.frameRate();
    }

    public int codebookSize() {
        return model.codebookSize();
    }

    public int maxCodebooks() {
        return model.maxCodebooks();
    }

    /** The bandwidths (kbps) the model was trained for. */
    public double[] bandwidths() {
        return model.bandwidths();
    }

    /** Codebooks used at {@code bandwidthKbps}, as the original maps a bandwidth to a quantizer count. */
    public int codebooksFor(double bandwidthKbps) {
        return model.codebooksFor(bandwidthKbps);
    }

    public Device device() {
        return device;
    }

    /** The model, for architecture-specific calls (latents, margins). */
    public CodecModel model() {
        return model;
    }

    /** Config and sizes as JSON (what {@code vocodex inspect} prints). */
    public ObjectNode describe() {
        ObjectNode o = model.describe();
        if (source != null) {
            o.put("path", source.toString());
        }
        return o;
    }

    /** Tokens {@code [codebooks][frames]} of {@code audio} at {@code bandwidthKbps}. */
    public Tokens encode(Audio audio, double bandwidthKbps) {
        checkOpen();
        int nq = checkedCodebooks(bandwidthKbps);
        checkAudio(audio, "audio");
        return tokens(model.encode(ctx, audio.samples(), nq));
    }

    /**
     * Tokens of every clip, each exactly the tokens {@link #encode} gives it alone, whatever the
     * lengths and order of the others.
     */
    public List<Tokens> encodeBatch(List<Audio> clips, double bandwidthKbps) {
        checkOpen();
        int nq = checkedCodebooks(bandwidthKbps);
        for (int i = 0; i < clips.size(); i++) {
            checkAudio(clips.get(i), "clip " + i);
        }
        float[][] pcm = new float[clips.size()][];
        for (int i = 0; i < pcm.length; i++) {
            pcm[i] = clips.get(i).samples();
        }
        int[][][] codes = model.encodeBatch(ctx, pcm, nq);
        List<Tokens> out = new ArrayList<>(clips.size());
        for (int[][] c : codes) {
            out.add(tokens(c));
        }
        return out;
    }

    /** Audio for {@code tokens} (the full decoder output: frames x hop samples). */
    public Audio decode(Tokens tokens) {
        checkOpen();
        checkTokens(tokens);
        return Audio.of(model.decode(ctx, tokens.codes()), model.sampleRate());
    }

    /** A streaming encoder at {@code bandwidthKbps}; close it when the stream ends. */
    public StreamingEncoder streamingEncoder(double bandwidthKbps) {
        checkOpen();
        int nq = checkedCodebooks(bandwidthKbps);
        return new StreamingEncoder(this, model.openEncoder(nq));
    }

    /** A streaming decoder; close it when the stream ends. */
    public StreamingDecoder streamingDecoder() {
        checkOpen();
        return new StreamingDecoder(this, model.openDecoder());
    }

    CpuContext context() {
        return ctx;
    }

    Tokens tokens(int[][] codes) {
        return new Tokens(codes, model.frameRate(), model.codebookSize());
    }

    private int checkedCodebooks(double bandwidthKbps) {
        if (!(bandwidthKbps > 0) || Double.isInfinite(bandwidthKbps)) {
            throw new VocodexException("bandwidth must be a positive number of kbps, got " + bandwidthKbps);
        }
        int nq = model.codebooksFor(bandwidthKbps);
        if (nq > model.maxCodebooks()) {
            throw new VocodexException("bandwidth " + bandwidthKbps + " kbps needs " + nq + " codebooks; this model has "
                    + model.maxCodebooks() + " (supported: " + java.util.Arrays.toString(model.bandwidths()) + " kbps)");
        }
        return nq;
    }

    void checkAudio(Audio audio, String what) {
        if (audio == null) {
            throw new VocodexException(what + " is null");
        }
        if (audio.sampleRate() != model.sampleRate()) {
            throw new VocodexException(what + " is at " + audio.sampleRate() + " Hz; this model takes " + model.sampleRate()
                    + " Hz (resample first, e.g. io.vocodex.audio.Resampler or vocodex encode which resamples)");
        }
        if (audio.length() == 0) {
            throw new VocodexException(what + " is empty (0 samples)");
        }
        audio.requireFinite(what);
    }

    void checkTokens(Tokens tokens) {
        if (tokens.codebookSize() != model.codebookSize()) {
            throw new VocodexException("tokens use " + tokens.codebookSize() + " codes per codebook; this model has "
                    + model.codebookSize());
        }
        if (tokens.numCodebooks() < 1 || tokens.numCodebooks() > model.maxCodebooks()) {
            throw new VocodexException("tokens have " + tokens.numCodebooks() + " codebooks; this model takes 1.."
                    + model.maxCodebooks());
        }
    }

    void checkOpen() {
        if (closed) {
            throw new VocodexException("codec is closed");
        }
    }

    /** Reads a JSON file (helper for tools). */
    static JsonNode json(Path p) {
        return ModelFolder.readJson(p);
    }

    @Override
    public void close() {
        closed = true;
        ctx.close();
        if (model instanceof AutoCloseable c) { // a device model releases its device memory
            try {
                c.close();
            } catch (Exception e) {
                throw new VocodexException("closing the model failed: " + e.getMessage(), e);
            }
        }
    }
}
