package io.vocodex.audio;

import io.vocodex.Audio;
import io.vocodex.VocodexException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Writes WAV files: 16-bit integer PCM (the default) or 32-bit IEEE float, any channel count.
 * The file appears atomically: it is written to a temporary sibling, flushed to disk and renamed,
 * so a crash never leaves a half-written WAV under the final name.
 *
 * <pre>{@code
 * WavWriter.write(Path.of("out.wav"), audio, WavWriter.Format.PCM_16);
 * WavWriter.write(Path.of("stereo.wav"), new float[][] {left, right}, 48_000, WavWriter.Format.FLOAT_32);
 * }</pre>
 *
 * <p>PCM_16 scales by 32768, rounds half away from zero and clips to [-32768, 32767], so a file
 * read by {@link WavReader} (which divides by 32768) writes back bit for bit; NaN becomes 0.
 * FLOAT_32 stores the samples unchanged (no clipping). The other formats exist for tools and
 * tests: PCM_U8, PCM_24, PCM_32 (same scaling rule at their depth) and FLOAT_64.
 */
public final class WavWriter {
    private static final AtomicLong TMP_COUNTER = new AtomicLong();

    /** Sample encodings. */
    public enum Format {
        PCM_U8(1, 8, false),
        PCM_16(1, 16, false),
        PCM_24(1, 24, false),
        PCM_32(1, 32, false),
        FLOAT_32(3, 32, true),
        FLOAT_64(3, 64, true);

        final int tag;
        final int bits;
        final boolean isFloat;

        Format(int tag, int bits, boolean isFloat) {
            this.tag = tag;
            this.bits = bits;
            this.isFloat = isFloat;
        }

        public int bits() {
            return bits;
        }
    }

    private WavWriter() {
    }

    /** Writes mono {@code audio}. */
    public static void write(Path path, Audio audio, Format format) {
        write(path, new float[][] {audio.samples()}, audio.sampleRate(), format);
    }

    /** Writes {@code channels[c][frame]} (all channels the same length) at {@code sampleRate}. */
    public static void write(Path path, float[][] channels, int sampleRate, Format format) {
        atomically(path, encode(channels, sampleRate, format, path.toString()));
    }

    /** The bytes of a WAV file (canonical 44-byte header; WAVE_FORMAT_EXTENSIBLE for more than 2 channels). */
    public static byte[] encode(float[][] channels, int sampleRate, Format format, String name) {
        int nc = channels.length;
        if (nc < 1 || nc > 65535) {
            throw new VocodexException(name + ": cannot write " + nc + " channels (1..65535)");
        }
        if (sampleRate < 1 || sampleRate > WavReader.MAX_SAMPLE_RATE) {
            throw new VocodexException(name + ": cannot write sample rate " + sampleRate + " Hz");
        }
        int frames = channels[0].length;
        for (int c = 1; c < nc; c++) {
            if (channels[c].length != frames) {
                throw new VocodexException(name + ": channel " + c + " has " + channels[c].length
                        + " samples, channel 0 has " + frames);
            }
        }
        int bps = format.bits / 8;
        boolean extensible = nc > 2;
        int fmtSize = extensible ? 40 : 16;
        long dataBytes = (long) frames * nc * bps;
        long total = 12 + 8 + fmtSize + 8 + dataBytes + (dataBytes & 1);
        if (total - 8 > 0xFFFFFFFFL || total > Integer.MAX_VALUE - 8) {
            throw new VocodexException(name + ": " + dataBytes + " bytes of audio is too large for a WAV file");
        }
        ByteBuffer out = ByteBuffer.allocate((int) total).order(ByteOrder.LITTLE_ENDIAN);
        out.put("RIFF".getBytes(StandardCharsets.ISO_8859_1)).putInt((int) (total - 8));
        out.put("WAVE".getBytes(StandardCharsets.ISO_8859_1));
        out.put("fmt ".getBytes(StandardCharsets.ISO_8859_1)).putInt(fmtSize);
        out.putShort((short) (extensible ? WavReader.FORMAT_EXTENSIBLE : format.tag));
        out.putShort((short) nc).putInt(sampleRate).putInt(sampleRate * nc * bps);
        out.putShort((short) (nc * bps)).putShort((short) format.bits);
        if (extensible) {
            out.putShort((short) 22).putShort((short) format.bits).putInt(0); // cbSize, valid bits, channel mask
            // sub-format GUID xxxxxxxx-0000-0010-8000-00aa00389b71 with the format tag in front
            out.putInt(format.tag).putShort((short) 0).putShort((short) 0x0010);
            out.put(new byte[] {(byte) 0x80, 0x00, 0x00, (byte) 0xAA, 0x00, 0x38, (byte) 0x9B, 0x71});
        }
        out.put("data".getBytes(StandardCharsets.ISO_8859_1)).putInt((int) dataBytes);
        for (int i = 0; i < frames; i++) {
            for (int c = 0; c < nc; c++) {
                float x = channels[c][i];
                switch (format) {
                    case PCM_U8 -> out.put((byte) (quantize(x, 128) + 128));
                    case PCM_16 -> out.putShort((short) quantize(x, 32768));
                    case PCM_24 -> {
                        int v = (int) quantize(x, 8388608);
                        out.put((byte) v).put((byte) (v >> 8)).put((byte) (v >> 16));
                    }
                    case PCM_32 -> out.putInt((int) quantize(x, 2147483648.0));
                    case FLOAT_32 -> out.putFloat(x);
                    case FLOAT_64 -> out.putDouble(x);
                    default -> throw new IllegalStateException();
                }
            }
        }
        return out.array();
    }

    /** {@code round(x * scale)} clipped to {@code [-scale, scale - 1]}; NaN gives 0. */
    static long quantize(float x, double scale) {
        if (Float.isNaN(x)) {
            return 0;
        }
        double r = x * scale;
        double v = r >= 0 ? Math.floor(r + 0.5) : -Math.floor(-r + 0.5); // half away from zero
        if (v > scale - 1) {
            return (long) scale - 1;
        }
        if (v < -scale) {
            return -(long) scale;
        }
        return (long) v;
    }

    /** Writes {@code bytes} to {@code path} via a temporary file in the same folder and a rename. */
    static void atomically(Path path, byte[] bytes) {
        Path abs = path.toAbsolutePath();
        Path dir = abs.getParent();
        // unique sibling name (concurrent writers of the same target never share it); default permissions
        Path tmp = dir.resolve("." + abs.getFileName() + "." + ProcessHandle.current().pid() + "."
                + Long.toHexString(System.nanoTime()) + "." + TMP_COUNTER.incrementAndGet() + ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW)) {
                ByteBuffer b = ByteBuffer.wrap(bytes);
                while (b.hasRemaining()) {
                    ch.write(b);
                }
                ch.force(true);
            }
            try {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // best effort
            }
            throw new VocodexException(path + ": write failed: " + e.getMessage(), e);
        }
    }
}
