package io.vocodex.audio;

import io.vocodex.VocodexException;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Decodes audio files of every supported container, recognised by their first bytes (never by
 * the file name's extension):
 *
 * <table>
 *   <caption>containers</caption>
 *   <tr><th>container</th><th>magic</th><th>decoder</th></tr>
 *   <tr><td>WAV</td><td>{@code RIFF....WAVE}</td><td>{@link WavReader} (integer PCM 8-32 bit, float 32/64)</td></tr>
 *   <tr><td>FLAC</td><td>{@code fLaC} (after an optional ID3v2 tag)</td><td>jFLAC</td></tr>
 *   <tr><td>MP3</td><td>{@code ID3} tag or an MPEG audio frame sync</td><td>JLayer</td></tr>
 *   <tr><td>Ogg Vorbis</td><td>{@code OggS} with a Vorbis stream</td><td>JOrbis</td></tr>
 * </table>
 *
 * <pre>{@code
 * DecodedAudio d = AudioFiles.decode(Path.of("speech.flac"));     // channels, rate, container
 * Audio mono = AudioLoader.load(Path.of("speech.mp3"), 24_000, ResampleMode.RESAMPLE);
 * }</pre>
 *
 * <p>Every problem is a {@link VocodexException} whose message starts with the file name: missing,
 * unreadable, zero-length, not audio, truncated or corrupt, an implausible sample rate, empty.
 * Ogg Opus is recognised and refused with a message saying so.
 */
public final class AudioFiles {
    /** The containers {@link #detect} tells apart. */
    public enum Container { WAV, FLAC, MP3, OGG, UNKNOWN }

    private AudioFiles() {
    }

    /** The container of a file starting with {@code head} (at least 12 bytes, ideally a few KB). */
    public static Container detect(byte[] head) {
        int n = head.length;
        if (n >= 4 && tag(head, 0, "RIFF")) {
            return Container.WAV;
        }
        if (n >= 4 && tag(head, 0, "fLaC")) {
            return Container.FLAC;
        }
        if (n >= 4 && tag(head, 0, "OggS")) {
            return Container.OGG;
        }
        int o = 0;
        if (n >= 10 && tag(head, 0, "ID3")) {
            // ID3v2: 10-byte header, syncsafe size; FLAC files sometimes carry one too
            int size = (head[6] & 0x7f) << 21 | (head[7] & 0x7f) << 14 | (head[8] & 0x7f) << 7 | (head[9] & 0x7f);
            o = 10 + size + ((head[5] & 0x10) != 0 ? 10 : 0);
            if (o + 4 <= n && tag(head, o, "fLaC")) {
                return Container.FLAC;
            }
            if (o + 4 > n) {
                return Container.MP3; // the tag runs past what we were given: trust it
            }
        }
        if (o + 4 <= n && isMpegFrameHeader(head, o)) {
            return Container.MP3;
        }
        return Container.UNKNOWN;
    }

    /** Whether the 4 bytes at {@code o} are a plausible MPEG audio frame header. */
    static boolean isMpegFrameHeader(byte[] b, int o) {
        int b1 = b[o + 1] & 0xff;
        int b2 = b[o + 2] & 0xff;
        return (b[o] & 0xff) == 0xff && (b1 & 0xe0) == 0xe0
                && (b1 & 0x18) != 0x08       // version: not reserved
                && (b1 & 0x06) != 0          // layer: not reserved
                && (b2 & 0xf0) != 0xf0       // bitrate index: not 15
                && (b2 & 0x0c) != 0x0c;      // sample-rate index: not 3
    }

    /** Decodes {@code path}, whatever its container. */
    public static DecodedAudio decode(Path path) {
        return decode(path, Integer.MAX_VALUE - 8L);
    }

    /**
     * Decodes {@code path}; refuses (with a {@link VocodexException}) files that would decode to
     * more than {@code maxFrames} frames, before allocating them.
     */
    public static DecodedAudio decode(Path path, long maxFrames) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(path);
        } catch (NoSuchFileException e) {
            throw new VocodexException(path + ": no such file");
        } catch (AccessDeniedException e) {
            throw new VocodexException(path + ": permission denied");
        } catch (IOException e) {
            throw new VocodexException(path + ": cannot read: " + e.getMessage(), e);
        } catch (OutOfMemoryError e) {
            throw new VocodexException(path + ": too large to read into memory");
        }
        return decode(bytes, path.toString(), maxFrames);
    }

    /** Decodes the bytes of a file; {@code name} is used in error messages. */
    public static DecodedAudio decode(byte[] bytes, String name, long maxFrames) {
        if (bytes.length == 0) {
            throw new VocodexException(name + ": empty file (0 bytes)");
        }
        Container c = detect(bytes);
        switch (c) {
            case WAV -> {
                WavData w = WavReader.decode(bytes, name);
                if (w.numFrames() > maxFrames) {
                    throw new VocodexException(name + ": " + w.numFrames() + " frames is more than the limit of " + maxFrames);
                }
                return new DecodedAudio(w.channels(), w.sampleRate(), "wav", w.encoding());
            }
            case FLAC -> {
                return FlacDecoding.decode(bytes, name, maxFrames);
            }
            case MP3 -> {
                return Mp3Decoding.decode(bytes, name, maxFrames);
            }
            case OGG -> {
                return VorbisDecoding.decode(bytes, name, maxFrames);
            }
            default -> throw new VocodexException(name + ": not a supported audio file (WAV, FLAC, MP3 or Ogg Vorbis; "
                    + "starts with " + describeHead(bytes) + ")");
        }
    }

    static void checkRate(long rate, String name) {
        if (rate < 1 || rate > WavReader.MAX_SAMPLE_RATE) {
            throw new VocodexException(name + ": implausible sample rate " + rate + " Hz (want 1.."
                    + WavReader.MAX_SAMPLE_RATE + ")");
        }
    }

    /** A one-line reason for a decoder library's exception. */
    static String reason(Throwable e) {
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null || m.isBlank() ? "" : ": " + m.strip().lines().findFirst().orElse(""));
    }

    private static boolean tag(byte[] b, int o, String t) {
        if (o + t.length() > b.length) {
            return false;
        }
        for (int i = 0; i < t.length(); i++) {
            if (b[o + i] != t.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private static String describeHead(byte[] b) {
        StringBuilder s = new StringBuilder("\"");
        for (int i = 0; i < Math.min(8, b.length); i++) {
            int c = b[i] & 0xff;
            s.append(c >= 32 && c < 127 ? Character.toString(c) : String.format("\\x%02x", c));
        }
        return s.append('"').toString();
    }
}
