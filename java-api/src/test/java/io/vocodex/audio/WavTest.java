package io.vocodex.audio;

import io.vocodex.VocodexException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WavTest {
    @TempDir
    Path tmp;

    static float[][] signal(int channels, int frames, long seed) {
        Random rng = new Random(seed);
        float[][] x = new float[channels][frames];
        for (int c = 0; c < channels; c++) {
            for (int i = 0; i < frames; i++) {
                x[c][i] = (float) (0.9 * Math.sin(0.01 * (c + 1) * i) + 0.09 * (rng.nextFloat() * 2 - 1));
            }
            x[c][0] = -1f; // full scale ends
            x[c][1] = 1f - 1e-7f;
        }
        return x;
    }

    @ParameterizedTest
    @EnumSource(WavWriter.Format.class)
    void roundTripEveryDepthAndChannelCount(WavWriter.Format format) {
        String[] enc = {"pcm_u8", "pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_f32le", "pcm_f64le"};
        double step = switch (format) {
            case PCM_U8 -> 1 / 128.0;
            case PCM_16 -> 1 / 32768.0;
            case PCM_24 -> 1 / 8388608.0;
            case PCM_32 -> 1 / 2147483648.0;
            default -> 0;
        };
        for (int channels : new int[] {1, 2, 3, 6}) {
            float[][] x = signal(channels, 1001, channels);
            Path p = tmp.resolve(format + "_" + channels + ".wav");
            WavWriter.write(p, x, 22050, format);
            WavData w = WavReader.read(p);
            assertEquals(channels, w.numChannels());
            assertEquals(1001, w.numFrames());
            assertEquals(22050, w.sampleRate());
            assertEquals(format.bits(), w.bitsPerSample());
            assertEquals(enc[format.ordinal()], w.encoding());
            for (int c = 0; c < channels; c++) {
                for (int i = 0; i < x[c].length; i++) {
                    // half a step of rounding (a float rounding of the scaled value on top for 32-bit);
                    // integer PCM clips at the largest code, 1 - step
                    double expected = step > 0 ? Math.min(x[c][i], 1 - step) : x[c][i];
                    assertEquals(expected, w.channels()[c][i], step / 2 + 1e-7, format + " ch " + c + " i " + i);
                }
            }
            // a second write of what was read is bit-identical
            Path q = tmp.resolve(format + "_" + channels + "_again.wav");
            WavWriter.write(q, w.channels(), w.sampleRate(), format);
            assertArrayEquals(bytes(p), bytes(q));
        }
    }

    @Test
    void pcm16ClipsAndRounds() {
        float[] x = {2f, -2f, 1f, -1f, 0.5f / 32768, -0.5f / 32768, 1.49f / 32768, Float.NaN, Float.POSITIVE_INFINITY};
        byte[] b = WavWriter.encode(new float[][] {x}, 8000, WavWriter.Format.PCM_16, "x.wav");
        ByteBuffer bb = ByteBuffer.wrap(b, 44, b.length - 44).order(ByteOrder.LITTLE_ENDIAN);
        short[] got = new short[x.length];
        for (int i = 0; i < got.length; i++) {
            got[i] = bb.getShort();
        }
        assertArrayEquals(new short[] {32767, -32768, 32767, -32768, 1, -1, 1, 0, 32767}, got);
        assertEquals(44 + 2 * x.length, b.length);
    }

    @Test
    void knownSampleValues() {
        // 8-bit unsigned: 0 -> -1, 128 -> 0, 255 -> 127/128
        WavData w = WavReader.decode(wav(1, 1, 8000, 8, new byte[] {0, (byte) 128, (byte) 255}, null), "u8.wav");
        assertArrayEquals(new float[] {-1f, 0f, 127 / 128f}, w.channels()[0]);
        // 16-bit: -32768, 1, 32767 (interleaved stereo)
        byte[] d = le16(-32768, 1, 32767, -2);
        w = WavReader.decode(wav(1, 2, 8000, 16, d, null), "s16.wav");
        assertArrayEquals(new float[] {-1f, 32767 / 32768f}, w.channels()[0]);
        assertArrayEquals(new float[] {1 / 32768f, -2 / 32768f}, w.channels()[1]);
        // 24-bit: 0x800000 = -1, 0x7fffff, 0x000001
        w = WavReader.decode(wav(1, 1, 8000, 24, new byte[] {0, 0, (byte) 0x80, -1, -1, 0x7f, 1, 0, 0}, null), "s24.wav");
        assertArrayEquals(new float[] {-1f, 8388607 / 8388608f, 1 / 8388608f}, w.channels()[0]);
    }

    @Test
    void extensibleFormat() {
        byte[] d = new byte[3 * 2 * 4];
        ByteBuffer.wrap(d).order(ByteOrder.LITTLE_ENDIAN).putFloat(0.5f).putFloat(-0.25f).putFloat(1.5f)
                .putFloat(0f).putFloat(-1f).putFloat(0.125f);
        WavData w = WavReader.decode(wav(0xFFFE, 2, 48000, 32, d, 3), "ext.wav");
        assertEquals("pcm_f32le", w.encoding());
        assertArrayEquals(new float[] {0.5f, 1.5f, -1f}, w.channels()[0]);
        assertArrayEquals(new float[] {-0.25f, 0f, 0.125f}, w.channels()[1]);
        w = WavReader.decode(wav(0xFFFE, 1, 48000, 16, le16(16384, -16384), 1), "ext16.wav");
        assertArrayEquals(new float[] {0.5f, -0.5f}, w.channels()[0]);
        VocodexException e = assertThrows(VocodexException.class,
                () -> WavReader.decode(wav(0xFFFE, 1, 48000, 8, new byte[] {1, 2}, 6), "alaw_ext.wav"));
        assertTrue(e.getMessage().startsWith("alaw_ext.wav: unsupported WAV format 0x0006 (A-law)"), e.getMessage());
    }

    @Test
    void skipsUnknownChunksWithOddPadding() throws IOException {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        o.write(ascii("RIFF"));
        o.write(le32(0));
        o.write(ascii("WAVE"));
        chunk(o, "JUNK", new byte[] {1, 2, 3}); // odd: one pad byte follows
        chunk(o, "fmt ", fmt(1, 1, 16000, 16, null));
        chunk(o, "LIST", "INFOISFT\5\0\0\0abcd\0".getBytes(StandardCharsets.ISO_8859_1)); // 17 bytes, padded
        chunk(o, "data", le16(100, -100, 7));
        chunk(o, "id3 ", new byte[] {9});
        WavData w = WavReader.decode(o.toByteArray(), "chunks.wav");
        assertArrayEquals(new float[] {100 / 32768f, -100 / 32768f, 7 / 32768f}, w.channels()[0]);
        assertEquals(16000, w.sampleRate());
    }

    @Test
    void oversizedDataChunkIsClampedToWholeFrames() {
        // streaming writers leave 0xFFFFFFFF (or any too-large size); 2 channels x 16 bit, 2.5 frames present
        byte[] b = wav(1, 2, 16000, 16, le16(1, 2, 3, 4, 5), null);
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(40, 0xFFFFFFFF).putInt(4, 0xFFFFFFFF);
        WavData w = WavReader.decode(b, "stream.wav");
        assertArrayEquals(new float[] {1 / 32768f, 3 / 32768f}, w.channels()[0]);
        assertArrayEquals(new float[] {2 / 32768f, 4 / 32768f}, w.channels()[1]);
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putInt(40, 1000);
        assertEquals(2, WavReader.decode(b, "stream.wav").numFrames());
    }

    @Test
    void errorsNameTheFileAndTheReason() throws IOException {
        byte[] good = wav(1, 1, 16000, 16, le16(1, 2, 3, 4), null);
        expect("notwav.wav", "hello, this is not audio at all".getBytes(StandardCharsets.UTF_8), "not a RIFF/WAVE file");
        expect("tiny.wav", new byte[] {'R', 'I'}, "not a RIFF/WAVE file");
        expect("empty_file.wav", new byte[0], "not a RIFF/WAVE file");
        expect("avi.wav", mutate(good, b -> b.put(8, (byte) 'A').put(9, (byte) 'V').put(10, (byte) 'I').put(11, (byte) ' ')),
                "not a RIFF/WAVE file");
        expect("nofmt.wav", mutate(good, b -> b.put(12, (byte) 'x')), "no fmt chunk");
        expect("nodata.wav", mutate(good, b -> b.put(36, (byte) 'x')), "no data chunk");
        expect("cut_header.wav", Arrays.copyOf(good, 30), "truncated fmt chunk: expected 16 bytes, file has 10");
        expect("cut_data.wav", Arrays.copyOf(good, 45), "truncated data: expected 8 bytes, file has 1");
        expect("adpcm.wav", mutate(good, b -> b.putShort(20, (short) 2)), "unsupported WAV format 0x0002");
        expect("mulaw.wav", mutate(good, b -> b.putShort(20, (short) 7)), "(mu-law)");
        expect("pcm40.wav", mutate(good, b -> b.putShort(34, (short) 40)), "unsupported bit depth 40");
        expect("float16.wav", mutate(good, b -> b.putShort(20, (short) 3)), "unsupported bit depth 16 for IEEE float");
        expect("nochannels.wav", mutate(good, b -> b.putShort(22, (short) 0)), "0 channels");
        expect("rate0.wav", mutate(good, b -> b.putInt(24, 0)), "implausible sample rate 0 Hz");
        expect("rate2m.wav", mutate(good, b -> b.putInt(24, 2_000_000)), "implausible sample rate 2000000 Hz");
        expect("ratehuge.wav", mutate(good, b -> b.putInt(24, -1)), "implausible sample rate 4294967295 Hz");
        expect("nosamples.wav", wav(1, 1, 16000, 16, new byte[0], null), "empty audio");
        expect("halfframe.wav", wav(1, 2, 16000, 16, new byte[] {1, 2}, null), "empty audio");
        Path missing = tmp.resolve("missing.wav");
        VocodexException e = assertThrows(VocodexException.class, () -> WavReader.read(missing));
        assertTrue(e.getMessage().contains("missing.wav") && e.getMessage().contains("no such file"), e.getMessage());
    }

    @Test
    void atomicWriteLeavesNoTemporaryFiles() throws IOException {
        Path p = tmp.resolve("out.wav");
        WavWriter.write(p, new float[][] {{0.1f, 0.2f}}, 24000, WavWriter.Format.PCM_16);
        WavWriter.write(p, new float[][] {{0.3f}}, 24000, WavWriter.Format.FLOAT_32); // replaces
        assertEquals(1, WavReader.read(p).numFrames());
        try (var s = Files.list(tmp)) {
            assertEquals(1, s.count());
        }
        Path noDir = tmp.resolve("no/such/dir/out.wav");
        VocodexException e = assertThrows(VocodexException.class,
                () -> WavWriter.write(noDir, new float[][] {{0f}}, 24000, WavWriter.Format.PCM_16));
        assertTrue(e.getMessage().contains("out.wav"), e.getMessage());
        assertFalse(Files.exists(noDir));
    }

    private void expect(String name, byte[] content, String reason) throws IOException {
        Path p = tmp.resolve(name);
        Files.write(p, content);
        VocodexException e = assertThrows(VocodexException.class, () -> WavReader.read(p), name);
        assertTrue(e.getMessage().startsWith(p.toString() + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(reason), name + ": '" + e.getMessage() + "' lacks '" + reason + "'");
    }

    // ---- hand-built WAV bytes (independent of WavWriter) ----

    static byte[] wav(int tag, int channels, int rate, int bits, byte[] data, Integer subFormat) {
        try {
            ByteArrayOutputStream o = new ByteArrayOutputStream();
            o.write(ascii("RIFF"));
            o.write(le32(0)); // readers do not need the RIFF size
            o.write(ascii("WAVE"));
            chunk(o, "fmt ", fmt(tag, channels, rate, bits, subFormat));
            chunk(o, "data", data);
            return o.toByteArray();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    static byte[] fmt(int tag, int channels, int rate, int bits, Integer subFormat) {
        ByteBuffer b = ByteBuffer.allocate(subFormat == null ? 16 : 40).order(ByteOrder.LITTLE_ENDIAN);
        int block = channels * bits / 8;
        b.putShort((short) tag).putShort((short) channels).putInt(rate).putInt(rate * block).putShort((short) block)
                .putShort((short) bits);
        if (subFormat != null) {
            b.putShort((short) 22).putShort((short) bits).putInt(0).putInt(subFormat).putShort((short) 0)
                    .putShort((short) 0x10).put(new byte[] {(byte) 0x80, 0, 0, (byte) 0xAA, 0, 0x38, (byte) 0x9B, 0x71});
        }
        return b.array();
    }

    static void chunk(ByteArrayOutputStream o, String id, byte[] body) throws IOException {
        o.write(ascii(id));
        o.write(le32(body.length));
        o.write(body);
        if (body.length % 2 == 1) {
            o.write(0);
        }
    }

    static byte[] le16(int... v) {
        ByteBuffer b = ByteBuffer.allocate(2 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int x : v) {
            b.putShort((short) x);
        }
        return b.array();
    }

    static byte[] le32(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    static byte[] mutate(byte[] b, Consumer<ByteBuffer> f) {
        byte[] c = b.clone();
        f.accept(ByteBuffer.wrap(c).order(ByteOrder.LITTLE_ENDIAN));
        return c;
    }

    static byte[] bytes(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
