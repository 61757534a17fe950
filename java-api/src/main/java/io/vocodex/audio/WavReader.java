package io.vocodex.audio;

import io.vocodex.VocodexException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Reads RIFF/WAVE files into {@link WavData}.
 *
 * <p>Supported: format tag 1 (integer PCM: 8-bit unsigned, 16, 24 and 32-bit signed), tag 3
 * (IEEE float, 32 and 64-bit) and tag 0xFFFE ({@code WAVE_FORMAT_EXTENSIBLE}, whose sub-format
 * GUID names one of the two), any number of channels. Unknown chunks ({@code LIST}, {@code fact},
 * {@code bext}, ...) are skipped, honouring the pad byte after odd-sized chunks. A {@code data}
 * chunk whose declared size runs past the end of the file (what streaming writers leave behind,
 * e.g. {@code 0xFFFFFFFF}) is clamped to the whole frames actually present; a trailing partial
 * frame is dropped.
 *
 * <pre>{@code
 * WavData wav = WavReader.read(Path.of("speech.wav"));
 * float[] left = wav.channels()[0];
 * }</pre>
 *
 * <p>Every problem is a {@link VocodexException} whose message starts with the file name and says
 * what is wrong: not RIFF/WAVE, missing {@code fmt } or {@code data} chunk, truncated header or
 * data, unsupported format or bit depth, zero channels, an implausible sample rate, empty audio.
 */
public final class WavReader {
    /** Sample rates outside [1, MAX_SAMPLE_RATE] are refused as corrupt. */
    public static final int MAX_SAMPLE_RATE = 1_000_000;

    static final int FORMAT_PCM = 1;
    static final int FORMAT_FLOAT = 3;
    static final int FORMAT_EXTENSIBLE = 0xFFFE;

    private WavReader() {
    }

    /** Reads and decodes {@code path}. */
    public static WavData read(Path path) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(path);
        } catch (NoSuchFileException e) {
            throw new VocodexException(path + ": no such file");
        } catch (IOException e) {
            throw new VocodexException(path + ": cannot read: " + e.getMessage(), e);
        } catch (OutOfMemoryError e) {
            throw new VocodexException(path + ": too large to read into memory");
        }
        return decode(bytes, path.toString());
    }

    /** Decodes the bytes of a WAV file; {@code name} is used in error messages. */
    public static WavData decode(byte[] b, String name) {
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        if (b.length < 12 || !tag(b, 0).equals("RIFF") || !tag(b, 8).equals("WAVE")) {
            String what = b.length < 12 ? b.length + " bytes" : "starts with \"" + printable(b, 0, 4) + "\""
                    + (tag(b, 0).equals("RIFF") ? " / \"" + printable(b, 8, 4) + "\"" : "");
            throw new VocodexException(name + ": not a RIFF/WAVE file (" + what + ")");
        }
        Fmt fmt = null;
        int dataStart = -1;
        long dataSize = -1;
        long declaredDataSize = -1;
        int pos = 12;
        while (pos + 8 <= b.length) {
            String id = tag(b, pos);
            long size = bb.getInt(pos + 4) & 0xFFFFFFFFL;
            int body = pos + 8;
            long available = b.length - (long) body;
            if (id.equals("fmt ")) {
                if (size < 16) {
                    throw new VocodexException(name + ": fmt chunk is " + size + " bytes; at least 16 expected");
                }
                if (size > available && available < 16) {
                    throw new VocodexException(name + ": truncated fmt chunk: expected " + size + " bytes, file has "
                            + available);
                }
                fmt = parseFmt(bb, body, (int) Math.min(size, available), name);
            } else if (id.equals("data")) {
                if (dataStart < 0) {
                    dataStart = body;
                    declaredDataSize = size;
                    dataSize = Math.min(size, available);
                }
                if (size > available) {
                    break; // clamped to the end of the file: nothing can follow
                }
            }
            long next = body + size + (size & 1);
            if (next > b.length) {
                break;
            }
            pos = (int) next;
        }
        if (fmt == null) {
            throw new VocodexException(name + ": no fmt chunk" + (dataStart >= 0 ? " before the end of the file" : "")
                    + "; not a usable WAV file");
        }
        if (dataStart < 0) {
            throw new VocodexException(name + ": no data chunk; not a usable WAV file");
        }
        int frameBytes = fmt.channels * fmt.bytesPerSample;
        if (declaredDataSize == 0) {
            throw new VocodexException(name + ": empty audio (data chunk is 0 bytes)");
        }
        long frames = dataSize / frameBytes;
        if (frames == 0) {
            if (dataSize < declaredDataSize) {
                throw new VocodexException(name + ": truncated data: expected " + declaredDataSize + " bytes, file has "
                        + dataSize + " (less than one " + frameBytes + "-byte frame)");
            }
            throw new VocodexException(name + ": empty audio (data chunk is " + dataSize + " bytes, less than one "
                    + frameBytes + "-byte frame)");
        }
        if (frames > Integer.MAX_VALUE - 8) {
            throw new VocodexException(name + ": " + frames + " frames is too long for one array");
        }
        int n = (int) frames;
        float[][] ch = new float[fmt.channels][n];
        int bps = fmt.bytesPerSample;
        int nc = fmt.channels;
        for (int i = 0; i < n; i++) {
            int o = dataStart + i * frameBytes;
            for (int c = 0; c < nc; c++, o += bps) {
                ch[c][i] = sample(bb, b, o, fmt);
            }
        }
        return new WavData(ch, fmt.sampleRate, fmt.bytesPerSample * 8, fmt.encoding());
    }

    private static float sample(ByteBuffer bb, byte[] b, int o, Fmt fmt) {
        if (fmt.isFloat) {
            return fmt.bytesPerSample == 4 ? bb.getFloat(o) : (float) bb.getDouble(o);
        }
        switch (fmt.bytesPerSample) {
            case 1:
                return ((b[o] & 0xFF) - 128) / 128f;
            case 2:
                return bb.getShort(o) / 32768f;
            case 3: {
                int v = (b[o] & 0xFF) | (b[o + 1] & 0xFF) << 8 | b[o + 2] << 16;
                return v / 8388608f;
            }
            default:
                return (float) (bb.getInt(o) / 2147483648.0);
        }
    }

    private record Fmt(int channels, int sampleRate, int bytesPerSample, boolean isFloat) {
        String encoding() {
            if (isFloat) {
                return bytesPerSample == 4 ? "pcm_f32le" : "pcm_f64le";
            }
            return bytesPerSample == 1 ? "pcm_u8" : "pcm_s" + bytesPerSample * 8 + "le";
        }
    }

    private static Fmt parseFmt(ByteBuffer bb, int o, int size, String name) {
        int tag = bb.getShort(o) & 0xFFFF;
        int channels = bb.getShort(o + 2) & 0xFFFF;
        long rate = bb.getInt(o + 4) & 0xFFFFFFFFL;
        int bits = bb.getShort(o + 14) & 0xFFFF;
        int format = tag;
        if (tag == FORMAT_EXTENSIBLE) {
            if (size < 40) {
                throw new VocodexException(name + ": WAVE_FORMAT_EXTENSIBLE fmt chunk is " + size
                        + " bytes; 40 expected");
            }
            format = bb.getShort(o + 24) & 0xFFFF; // first two bytes of the sub-format GUID
        }
        if (format != FORMAT_PCM && format != FORMAT_FLOAT) {
            throw new VocodexException(name + ": unsupported WAV format " + formatName(format)
                    + " (supported: integer PCM and IEEE float)");
        }
        if (channels == 0) {
            throw new VocodexException(name + ": fmt chunk says 0 channels");
        }
        if (rate < 1 || rate > MAX_SAMPLE_RATE) {
            throw new VocodexException(name + ": implausible sample rate " + rate + " Hz (want 1.." + MAX_SAMPLE_RATE + ")");
        }
        int bytesPerSample = (bits + 7) / 8;
        boolean ok = format == FORMAT_PCM ? bits >= 1 && bytesPerSample <= 4 : bits == 32 || bits == 64;
        if (!ok) {
            throw new VocodexException(name + ": unsupported bit depth " + bits + " for "
                    + (format == FORMAT_PCM ? "integer PCM (supported: 8, 16, 24, 32)" : "IEEE float (supported: 32, 64)"));
        }
        return new Fmt(channels, (int) rate, bytesPerSample, format == FORMAT_FLOAT);
    }

    private static String formatName(int f) {
        String known = switch (f) {
            case 2 -> "Microsoft ADPCM";
            case 6 -> "A-law";
            case 7 -> "mu-law";
            case 0x11 -> "IMA ADPCM";
            case 0x55 -> "MP3";
            default -> null;
        };
        return String.format("0x%04X", f) + (known == null ? "" : " (" + known + ")");
    }

    private static String tag(byte[] b, int o) {
        return o + 4 <= b.length ? new String(b, o, 4, StandardCharsets.ISO_8859_1) : "";
    }

    private static String printable(byte[] b, int o, int n) {
        StringBuilder s = new StringBuilder();
        for (int i = o; i < o + n && i < b.length; i++) {
            int c = b[i] & 0xFF;
            s.append(c >= 32 && c < 127 ? Character.toString(c) : String.format("\\x%02x", c));
        }
        return s.toString();
    }
}
