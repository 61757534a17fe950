package io.vocodex.audio;

import io.vocodex.VocodexException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Decoders on the committed samples of {@code scripts/make_audio_samples.sh}: 0.6 s of espeak-ng
 * speech, 16 kHz mono ({@code ref_16k_mono.wav}) and 44.1 kHz stereo (right = 0.5 x left, 10 ms late).
 */
class AudioFilesTest {
    @TempDir
    Path tmp;

    static Path sample(String name) {
        try {
            return Path.of(AudioFilesTest.class.getResource("/audio/" + name).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new AssertionError("missing test resource audio/" + name, e);
        }
    }

    static float[] ref() {
        return WavReader.read(sample("ref_16k_mono.wav")).channels()[0];
    }

    @Test
    void flacIsLossless() {
        DecodedAudio d = AudioFiles.decode(sample("flac_16k_mono_s16.flac"));
        assertEquals("flac", d.container());
        assertEquals("flac_s16", d.encoding());
        assertEquals(16000, d.sampleRate());
        assertEquals(1, d.numChannels());
        assertArrayEquals(ref(), d.channels()[0]);

        DecodedAudio s = AudioFiles.decode(sample("flac_44k_stereo_s24.flac"));
        assertEquals(44100, s.sampleRate());
        assertEquals(2, s.numChannels());
        assertEquals(26460, s.numFrames());
        assertEquals("flac_s24", s.encoding());
        // made from 16-bit audio: every 24-bit sample is a multiple of 256
        for (float[] ch : s.channels()) {
            for (float v : ch) {
                double q = v * 8388608.0 / 256;
                assertEquals(Math.rint(q), q, 0.0);
            }
        }
        // right = 0.5 x left delayed by 441 samples (within the 16-bit rounding of both)
        for (int i = 441; i < s.numFrames(); i++) {
            assertEquals(0.5 * s.channels()[0][i - 441], s.channels()[1][i], 1.5 / 32768);
        }
    }

    @Test
    void lossyFormatsDecodeToTheSignal() {
        float[] ref = ref();
        for (String name : new String[] {"mp3_16k_mono.mp3", "vorbis_16k_mono.ogg"}) {
            DecodedAudio d = AudioFiles.decode(sample(name));
            assertEquals(16000, d.sampleRate(), name);
            assertEquals(1, d.numChannels(), name);
            assertTrue(d.numFrames() >= ref.length && d.numFrames() <= ref.length + 2304, name + ": " + d.numFrames());
            assertTrue(bestCorrelation(ref, d.channels()[0], 2400) > 0.9, name + " does not resemble the source");
        }
        for (String name : new String[] {"mp3_44k_stereo.mp3", "vorbis_44k_stereo.ogg"}) {
            DecodedAudio d = AudioFiles.decode(sample(name));
            assertEquals(44100, d.sampleRate(), name);
            assertEquals(2, d.numChannels(), name);
            assertTrue(d.numFrames() >= 26460 && d.numFrames() <= 26460 + 2304, name + ": " + d.numFrames());
            float[] l = d.channels()[0];
            float[] r = d.channels()[1];
            float[] lateL = new float[l.length];
            System.arraycopy(l, 0, lateL, 441, l.length - 441);
            assertTrue(bestCorrelation(lateL, r, 50) > 0.9, name + ": right is not the delayed left");
        }
        assertEquals("vorbis", AudioFiles.decode(sample("vorbis_16k_mono.ogg")).encoding());
        assertEquals(9600, AudioFiles.decode(sample("vorbis_16k_mono.ogg")).numFrames(), "granule-trimmed length");
        assertEquals("mp3", AudioFiles.decode(sample("mp3_16k_mono.mp3")).container());
    }

    /** max over lags in [0, maxLag] of the normalised correlation of a with b shifted left by lag. */
    static double bestCorrelation(float[] a, float[] b, int maxLag) {
        double best = -1;
        for (int lag = 0; lag <= maxLag; lag++) {
            double ab = 0;
            double aa = 0;
            double bb = 0;
            for (int i = 0; i < a.length && i + lag < b.length; i++) {
                ab += a[i] * b[i + lag];
                aa += a[i] * a[i];
                bb += b[i + lag] * b[i + lag];
            }
            if (aa > 0 && bb > 0) {
                best = Math.max(best, ab / Math.sqrt(aa * bb));
            }
        }
        return best;
    }

    @Test
    void detectionUsesMagicBytesNotExtensions() throws IOException {
        Path disguised = tmp.resolve("really_flac.wav");
        Files.copy(sample("flac_16k_mono_s16.flac"), disguised);
        assertEquals("flac", AudioFiles.decode(disguised).container());
        Path ogg = tmp.resolve("really_ogg.mp3");
        Files.copy(sample("vorbis_16k_mono.ogg"), ogg);
        assertEquals("ogg", AudioFiles.decode(ogg).container());
        assertEquals(AudioFiles.Container.UNKNOWN, AudioFiles.detect("hello world!".getBytes(StandardCharsets.US_ASCII)));
        assertEquals(AudioFiles.Container.MP3, AudioFiles.detect(new byte[] {(byte) 0xff, (byte) 0xfb, (byte) 0x90, 0x64}));
        // the existing loader reads every container (downmix + resample as for WAV)
        assertArrayEquals(Resampler.resample(ref(), 16000, 24000),
                AudioLoader.load(disguised, 24000, ResampleMode.RESAMPLE).samples());
    }

    @Test
    void brokenFilesGiveOneMessageNamingTheFile() throws IOException {
        Path empty = tmp.resolve("empty.flac");
        Files.write(empty, new byte[0]);
        Path text = tmp.resolve("notes.mp3");
        Files.writeString(text, "these are not sounds");
        Path opus = tmp.resolve("voice.opus");
        Files.write(opus, oggPage("OpusHead\u0001\u0001\u0038\u0001\u0080\u00bb\u0000\u0000\u0000\u0000\u0000"));
        String[][] cases = {
            {sample("broken_truncated.flac").toString(), "truncated FLAC"},
            {sample("broken_truncated.ogg").toString(), "truncated Ogg Vorbis"},
            {sample("broken_garbage.flac").toString(), "FLAC"},
            {empty.toString(), "empty file (0 bytes)"},
            {text.toString(), "not a supported audio file"},
            {opus.toString(), "Ogg Opus is not supported"},
            {tmp.resolve("absent.ogg").toString(), "no such file"},
        };
        for (String[] c : cases) {
            VocodexException e = assertThrows(VocodexException.class, () -> AudioFiles.decode(Path.of(c[0])), c[0]);
            assertTrue(e.getMessage().startsWith(c[0] + ": ") && e.getMessage().contains(c[1]), e.getMessage());
            assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        }
    }

    /** One Ogg page (BOS) holding {@code packet} (CRC left 0: Opus is recognised from the packet itself). */
    static byte[] oggPage(String packet) {
        byte[] p = packet.getBytes(StandardCharsets.ISO_8859_1);
        byte[] b = new byte[27 + 1 + p.length];
        System.arraycopy("OggS".getBytes(StandardCharsets.ISO_8859_1), 0, b, 0, 4);
        b[5] = 2; // BOS
        b[14] = 1; // serial
        b[26] = 1; // one segment
        b[27] = (byte) p.length;
        System.arraycopy(p, 0, b, 28, p.length);
        return b;
    }
}
