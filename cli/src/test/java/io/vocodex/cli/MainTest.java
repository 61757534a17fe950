package io.vocodex.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vocodex.Audio;
import io.vocodex.Codec;
import io.vocodex.Device;
import io.vocodex.Tokens;
import io.vocodex.audio.Npy;
import io.vocodex.audio.Resampler;
import io.vocodex.audio.WavData;
import io.vocodex.audio.WavReader;
import io.vocodex.audio.WavWriter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Drives {@link Main#run} in-process on a model imported from the committed EnCodec fixture
 * ({@code java-api/src/test/resources/fixtures/encodec_small}: 24 kHz, hop 56, 6 codebooks x 64).
 */
class MainTest {
    @TempDir
    static Path tmp;
    static Path model;
    static Codec codec;

    /** Exit code, stdout and stderr of one run. */
    record Result(int code, String out, String err) {
        @Override
        public String toString() {
            return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    static Result run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8), args);
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static Path fixture() {
        Path dir = Path.of("").toAbsolutePath();
        for (Path d = dir; d != null; d = d.getParent()) {
            Path f = d.resolve("java-api/src/test/resources/fixtures/encodec_small");
            if (Files.isRegularFile(f.resolve("weights.safetensors")) && Files.isRegularFile(f.resolve("hparams.json"))) {
                return f;
            }
        }
        Assumptions.abort("EnCodec fixture java-api/src/test/resources/fixtures/encodec_small not found; skipping");
        return null;
    }

    @BeforeAll
    static void importModel() {
        Path f = fixture();
        model = tmp.resolve("model");
        Result r = run("import", "encodec_24khz", "--weights", f.resolve("weights.safetensors").toString(),
                "--hparams", f.resolve("hparams.json").toString(), "-o", model.toString());
        assertEquals(0, r.code(), r.toString());
        assertTrue(Files.isRegularFile(model.resolve("config.json")));
        codec = Codec.load(model, Device.cpu(2));
    }

    @AfterAll
    static void close() {
        if (codec != null) {
            codec.close();
        }
    }

    static float[] speechLike(int n, int rate, long seed) {
        Random rng = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            double t = i / (double) rate;
            x[i] = (float) (0.3 * Math.sin(2 * Math.PI * 220 * t) * (0.6 + 0.4 * Math.sin(2 * Math.PI * 3 * t))
                    + 0.1 * Math.sin(2 * Math.PI * 1800 * t) + 0.02 * rng.nextGaussian());
        }
        return x;
    }

    static Path wav(String name, float[][] channels, int rate, WavWriter.Format format) {
        Path p = tmp.resolve(name);
        WavWriter.write(p, channels, rate, format);
        return p;
    }

    static int[][] readCodes(Path p) {
        Npy.Array a = Npy.read(p);
        assertEquals("<i4", a.dtype());
        return a.ints2d();
    }

    @Test
    void encodeMatchesTheLibraryAndDecodeWritesWav() {
        float[] x = speechLike(24000 / 2 + 37, 24000, 1);
        Path in = wav("mono.wav", new float[][] {x}, 24000, WavWriter.Format.FLOAT_32);
        Path codes = tmp.resolve("mono.npy");
        Result r = run("encode", "--model", model.toString(), "--threads", "2", in.toString(), "-o", codes.toString());
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.err().contains("2 codebooks") && r.err().contains("real-time factor"), r.err());
        assertEquals(1, r.err().strip().lines().count(), "one-line summary: " + r.err());
        Tokens expected = codec.encode(Audio.of(x, 24000), 6);
        assertArrayEquals(expected.codes(), readCodes(codes));

        Result r12 = run("encode", "-m", model.toString(), "-b", "12", in.toString(), "-o", tmp.resolve("bw12.npy").toString());
        assertEquals(0, r12.code(), r12.toString());
        assertEquals(4, readCodes(tmp.resolve("bw12.npy")).length);

        Path out = tmp.resolve("decoded.wav");
        r = run("decode", "--model", model.toString(), codes.toString(), "-o", out.toString());
        assertEquals(0, r.code(), r.toString());
        WavData w = WavReader.read(out);
        assertEquals(24000, w.sampleRate());
        assertEquals("pcm_s16le", w.encoding());
        assertEquals(1, w.numChannels());
        float[] ref = codec.decode(expected).samples();
        assertEquals(ref.length, w.numFrames());
        for (int i = 0; i < ref.length; i++) {
            assertEquals(Math.max(-1, Math.min(ref[i], 32767 / 32768f)), w.channels()[0][i], 0.6 / 32768, "sample " + i);
        }

        Path outF = tmp.resolve("decoded_f.wav");
        r = run("decode", "--model", model.toString(), codes.toString(), "-o", outF.toString(), "--float");
        assertEquals(0, r.code(), r.toString());
        WavData wf = WavReader.read(outF);
        assertEquals("pcm_f32le", wf.encoding());
        assertArrayEquals(ref, wf.channels()[0]);
    }

    @Test
    void decodeAcceptsInt64AndLeadingBatchDimension() throws IOException {
        Tokens t = codec.encode(Audio.of(speechLike(4000, 24000, 2), 24000), 12);
        int[][] c = t.codes();
        Path p = tmp.resolve("codes_i8.npy");
        Files.write(p, npyInt64(c, true));
        Path out = tmp.resolve("from_i8.wav");
        Result r = run("decode", "-m", model.toString(), p.toString(), "-o", out.toString(), "--float");
        assertEquals(0, r.code(), r.toString());
        assertArrayEquals(codec.decode(t).samples(), WavReader.read(out).channels()[0]);

        Path bad = tmp.resolve("float_codes.npy");
        Npy.writeFloats(bad, new float[] {1, 2, 3, 4}, 2, 2);
        r = run("decode", "-m", model.toString(), bad.toString(), "-o", tmp.resolve("x.wav").toString());
        assertEquals(1, r.code(), r.toString());
        assertTrue(r.err().startsWith("vocodex: " + bad) && r.err().contains("integer codes"), r.err());

        Path range = tmp.resolve("range.npy");
        Npy.writeInts(range, new int[][] {{1, 2, 64}});
        r = run("decode", "-m", model.toString(), range.toString(), "-o", tmp.resolve("x.wav").toString());
        assertEquals(1, r.code(), r.toString());
        assertTrue(r.err().contains("range.npy") && r.err().contains("outside [0, 64)"), r.err());
    }

    static byte[] npyInt64(int[][] c, boolean batch) {
        String shape = batch ? "(1, " + c.length + ", " + c[0].length + ")" : "(" + c.length + ", " + c[0].length + ")";
        String dict = "{'descr': '<i8', 'fortran_order': False, 'shape': " + shape + ", }";
        int pad = (64 - (10 + dict.length() + 1) % 64) % 64;
        byte[] h = (dict + " ".repeat(pad) + "\n").getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer b = ByteBuffer.allocate(10 + h.length + 8 * c.length * c[0].length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) h.length).put(h);
        for (int[] row : c) {
            for (int v : row) {
                b.putLong(v);
            }
        }
        return b.array();
    }

    @Test
    void streamingChunksGiveTheBatchCodes() {
        float[] x = speechLike(6000 + 11, 24000, 3);
        Path in = wav("chunks.wav", new float[][] {x}, 24000, WavWriter.Format.FLOAT_32);
        int[][] batch = codec.encode(Audio.of(x, 24000), 6).codes();
        for (String chunk : new String[] {"1", "4097", "56", "100000"}) {
            Path codes = tmp.resolve("chunk_" + chunk + ".npy");
            Result r = run("encode", "-m", model.toString(), "--chunk", chunk, in.toString(), "-o", codes.toString());
            assertEquals(0, r.code(), r.toString());
            assertTrue(r.err().contains("chunks of " + chunk), r.err());
            assertArrayEquals(batch, readCodes(codes), "--chunk " + chunk);
        }
        Result r = run("encode", "-m", model.toString(), "--chunk", "0", in.toString(), "-o", tmp.resolve("c0.npy").toString());
        assertEquals(2, r.code(), r.toString());
    }

    @Test
    void otherSampleRatesAreResampledOrRefused() {
        float[] x = speechLike(16000 / 2, 16000, 4);
        Path in = wav("sixteen_k.wav", new float[][] {x}, 16000, WavWriter.Format.PCM_16);
        float[] read = WavReader.read(in).channels()[0];
        int[][] expected = codec.encode(Audio.of(Resampler.resample(read, 16000, 24000), 24000), 6).codes();
        for (String flag : new String[] {null, "--resample"}) {
            Path codes = tmp.resolve("sixteen_" + flag + ".npy");
            Result r = flag == null
                    ? run("encode", "-m", model.toString(), in.toString(), "-o", codes.toString())
                    : run("encode", "-m", model.toString(), flag, in.toString(), "-o", codes.toString());
            assertEquals(0, r.code(), r.toString());
            assertTrue(r.err().contains("resampled to 24000 Hz"), r.err());
            assertArrayEquals(expected, readCodes(codes));
        }
        Path refused = tmp.resolve("refused.npy");
        Result r = run("encode", "-m", model.toString(), "--no-resample", in.toString(), "-o", refused.toString());
        assertEquals(1, r.code(), r.toString());
        assertEquals("vocodex: " + in + ": file is 16000 Hz, the model takes 24000 Hz; pass --resample (or resample it yourself)",
                r.err().strip());
        assertFalse(Files.exists(refused));
    }

    @Test
    void stereoIsDownmixed() {
        float[] l = speechLike(5000, 24000, 5);
        float[] rr = speechLike(5000, 24000, 6);
        Path in = wav("stereo.wav", new float[][] {l, rr}, 24000, WavWriter.Format.FLOAT_32);
        float[] mono = new float[l.length];
        for (int i = 0; i < mono.length; i++) {
            mono[i] = (float) (((double) l[i] + rr[i]) / 2);
        }
        Path codes = tmp.resolve("stereo.npy");
        Result r = run("encode", "-m", model.toString(), in.toString(), "-o", codes.toString());
        assertEquals(0, r.code(), r.toString());
        assertTrue(r.err().contains("2 ch") && r.err().contains("downmixed"), r.err());
        assertArrayEquals(codec.encode(Audio.of(mono, 24000), 6).codes(), readCodes(codes));
    }

    @Test
    void badInputsExitOneWithOneLine() throws IOException {
        Path corrupt = tmp.resolve("corrupt.wav");
        Files.writeString(corrupt, "RIFF....WAVEjunk and nothing else");
        List<String[]> cases = new ArrayList<>();
        cases.add(new String[] {"corrupt.wav", "encode", "-m", model.toString(), corrupt.toString(), "-o", tmp.resolve("c.npy").toString()});
        Path notWav = tmp.resolve("notes.wav");
        Files.writeString(notWav, "these are my notes");
        cases.add(new String[] {"notes.wav", "encode", "-m", model.toString(), notWav.toString(), "-o", tmp.resolve("c.npy").toString()});
        cases.add(new String[] {"nope.wav", "encode", "-m", model.toString(), tmp.resolve("nope.wav").toString(), "-o", tmp.resolve("c.npy").toString()});
        cases.add(new String[] {"no_model", "encode", "-m", tmp.resolve("no_model").toString(), notWav.toString(), "-o", tmp.resolve("c.npy").toString()});
        cases.add(new String[] {"no_model", "inspect", tmp.resolve("no_model").toString()});
        cases.add(new String[] {"missing.safetensors", "import", "encodec_24khz", "--weights", tmp.resolve("missing.safetensors").toString(), "-o", tmp.resolve("m2").toString()});
        cases.add(new String[] {"missing.npy", "decode", "-m", model.toString(), tmp.resolve("missing.npy").toString(), "-o", tmp.resolve("x.wav").toString()});
        Path nan = wav("nan.wav", new float[][] {{0f, Float.NaN}}, 24000, WavWriter.Format.FLOAT_32);
        cases.add(new String[] {"nan.wav", "encode", "-m", model.toString(), nan.toString(), "-o", tmp.resolve("c.npy").toString()});
        for (String[] c : cases) {
            String[] args = java.util.Arrays.copyOfRange(c, 1, c.length);
            Result r = run(args);
            assertEquals(1, r.code(), String.join(" ", args) + "\n" + r);
            assertTrue(r.err().startsWith("vocodex: "), r.toString());
            assertTrue(r.err().contains(c[0]), c[0] + " not named: " + r);
            assertEquals(1, r.err().strip().lines().count(), "one line, no stack trace: " + r);
            assertFalse(r.err().contains("\tat "), r.toString());
        }
        // --verbose adds the stack trace
        Result r = run("encode", "--verbose", "-m", model.toString(), corrupt.toString(), "-o", tmp.resolve("c.npy").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("vocodex: " + corrupt) && r.err().contains("\tat "), r.toString());
    }

    @Test
    void usageErrorsExitTwo() {
        assertEquals(2, run().code());
        assertEquals(2, run("transcode").code());
        assertEquals(2, run("encode", "x.wav").code()); // no --model, no -o
        assertEquals(2, run("encode", "-m", "m", "x.wav", "-o", "y", "--bandwidth", "lots").code());
        assertEquals(2, run("import", "wavenet", "--weights", "w", "-o", "d").code());
        assertEquals(2, run("bench", "-m", model.toString(), "--iterations", "0").code());
        Result r = run("decode", "-m", "m", "c.npy");
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--output"), r.toString());
    }

    @Test
    void helpDocumentsEveryOptionAndVersionPrints() {
        String[][] expected = {
            {"encode", "--model", "--bandwidth", "--chunk", "--threads", "--resample", "--no-resample", "--output", "Kaiser"},
            {"decode", "--model", "--output", "--float", "--threads"},
            {"inspect", "DIR"},
            {"import", "--weights", "--hparams", "--output", "encodec_24khz"},
            {"bench", "--model", "--seconds", "--bandwidth", "--threads", "--iterations", "--warmup"},
        };
        for (String[] e : expected) {
            Result r = run(e[0], "--help");
            assertEquals(0, r.code(), r.toString());
            for (int i = 1; i < e.length; i++) {
                assertTrue(r.out().contains(e[i]), e[0] + " --help lacks " + e[i] + ":\n" + r.out());
            }
            assertTrue(r.out().contains("--verbose"), r.out());
        }
        Result top = run("--help");
        assertEquals(0, top.code());
        for (String c : new String[] {"encode", "decode", "inspect", "import", "bench"}) {
            assertTrue(top.out().contains(c), top.out());
        }
        Result v = run("--version");
        assertEquals(0, v.code());
        assertTrue(v.out().startsWith("vocodex "), v.out());
    }

    @Test
    void inspectPrintsDescriptionAndTensorSizes() throws IOException {
        Result r = run("inspect", model.toString());
        assertEquals(0, r.code(), r.toString());
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertEquals("encodec", j.get("architecture").asText());
        assertEquals(24000, j.get("sample_rate").asInt());
        assertEquals(6, j.get("n_q").asInt());
        assertTrue(j.get("tensors").asInt() > 10);
        assertTrue(j.get("tensor_bytes").asLong() > 4L * j.get("parameters").asLong() - 1, j.toString());
        assertTrue(j.get("file_bytes").asLong() > j.get("tensor_bytes").asLong());
    }

    @Test
    void benchPrintsOneJsonLine() throws IOException {
        Result r = run("bench", "-m", model.toString(), "--seconds", "0.25", "--iterations", "3", "--warmup", "1",
                "--threads", "2", "--bandwidth", "12");
        assertEquals(0, r.code(), r.toString());
        assertEquals(1, r.out().strip().lines().count(), r.out());
        JsonNode j = new ObjectMapper().readTree(r.out());
        List<String> keys = new ArrayList<>();
        for (Iterator<String> it = j.fieldNames(); it.hasNext(); ) {
            keys.add(it.next());
        }
        assertEquals(List.of("peer", "threads", "seconds", "bandwidth", "encode_ms_median", "encode_ms_min",
                "decode_ms_median", "decode_ms_min", "encode_ms_all", "decode_ms_all", "java", "cpu_kernels"), keys);
        assertEquals(3, j.get("encode_ms_all").size());
        assertEquals(3, j.get("decode_ms_all").size());
        assertEquals("vocodex", j.get("peer").asText());
        assertEquals(2, j.get("threads").asInt());
        assertEquals(0.25, j.get("seconds").asDouble());
        assertEquals(12.0, j.get("bandwidth").asDouble());
        assertTrue(j.get("encode_ms_min").asDouble() > 0);
        assertTrue(j.get("encode_ms_median").asDouble() >= j.get("encode_ms_min").asDouble());
        assertTrue(j.get("decode_ms_median").asDouble() >= j.get("decode_ms_min").asDouble());
        assertEquals(System.getProperty("java.version"), j.get("java").asText());
        assertEquals(io.vocodex.backend.cpu.Simd.reason(), j.get("cpu_kernels").asText());
    }
}
