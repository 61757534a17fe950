package io.vocodex.audio;

import io.vocodex.Audio;
import io.vocodex.VocodexException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AudioLoaderTest {
    @TempDir
    Path tmp;

    @Test
    void downmixesByAveraging() {
        Path p = tmp.resolve("stereo.wav");
        WavWriter.write(p, new float[][] {{0.5f, -1f, 0.25f}, {0.25f, 1f, -0.75f}}, 24000, WavWriter.Format.FLOAT_32);
        Audio a = AudioLoader.load(p, 24000, ResampleMode.REFUSE);
        assertArrayEquals(new float[] {0.375f, 0f, -0.25f}, a.samples());
        assertEquals(24000, a.sampleRate());
    }

    @Test
    void resamplesOrRefuses() {
        Path p = tmp.resolve("sixteen.wav");
        float[] x = ResamplerTest.sine(440, 16000, 1600, 0.5);
        WavWriter.write(p, new float[][] {x}, 16000, WavWriter.Format.FLOAT_32);
        AudioLoader.Loaded l = AudioLoader.loadDetailed(p, 24000, ResampleMode.RESAMPLE);
        assertTrue(l.resampled());
        assertEquals(16000, l.sourceRate());
        assertEquals(2400, l.audio().length());
        assertArrayEquals(Resampler.resample(x, 16000, 24000), l.audio().samples());
        VocodexException e = assertThrows(VocodexException.class, () -> AudioLoader.load(p, 24000, ResampleMode.REFUSE));
        assertTrue(e.getMessage().contains("sixteen.wav") && e.getMessage().contains("16000 Hz")
                && e.getMessage().contains("24000 Hz") && e.getMessage().contains("--resample"), e.getMessage());
        assertFalse(AudioLoader.loadDetailed(p, 16000, ResampleMode.REFUSE).resampled());
    }

    @Test
    void rejectsNonFiniteSamples() {
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            Path p = tmp.resolve("bad_" + bad + ".wav");
            WavWriter.write(p, new float[][] {{0f, 0.1f, bad, 0f}}, 24000, WavWriter.Format.FLOAT_32);
            VocodexException e = assertThrows(VocodexException.class, () -> AudioLoader.load(p, 24000, ResampleMode.RESAMPLE));
            assertTrue(e.getMessage().startsWith(p.toString()) && e.getMessage().contains("sample 2"), e.getMessage());
            // also when it would be resampled (checked before the filter smears it)
            assertThrows(VocodexException.class, () -> AudioLoader.load(p, 16000, ResampleMode.RESAMPLE));
        }
        Path p = tmp.resolve("nan64.wav");
        WavWriter.write(p, new float[][] {{0f}, {Float.NaN}}, 24000, WavWriter.Format.FLOAT_64);
        assertThrows(VocodexException.class, () -> AudioLoader.load(p, 24000, ResampleMode.RESAMPLE));
    }
}
