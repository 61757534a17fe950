package io.vocodex.audio;

import io.vocodex.VocodexException;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ResamplerTest {
    private static final int[][] PAIRS = {
        {24000, 16000}, {16000, 24000}, {44100, 48000}, {48000, 44100}, {48000, 16000}, {22050, 24000}, {8000, 24000},
    };

    /** Amplitude of the best-fitting sinusoid at {@code hz} and the RMS of what is left, over {@code y[a, b)}. */
    static double[] fit(float[] y, int rate, double hz, int a, int b) {
        double cc = 0;
        double ss = 0;
        double cs = 0;
        double yc = 0;
        double ys = 0;
        for (int i = a; i < b; i++) {
            double w = 2 * Math.PI * hz * i / rate;
            double c = Math.cos(w);
            double s = Math.sin(w);
            cc += c * c;
            ss += s * s;
            cs += c * s;
            yc += y[i] * c;
            ys += y[i] * s;
        }
        double det = cc * ss - cs * cs;
        double ac = (yc * ss - ys * cs) / det;
        double as = (ys * cc - yc * cs) / det;
        double res = 0;
        for (int i = a; i < b; i++) {
            double w = 2 * Math.PI * hz * i / rate;
            double r = y[i] - ac * Math.cos(w) - as * Math.sin(w);
            res += r * r;
        }
        return new double[] {Math.hypot(ac, as), Math.sqrt(res / (b - a))};
    }

    static double rms(float[] y, int a, int b) {
        double s = 0;
        for (int i = a; i < b; i++) {
            s += (double) y[i] * y[i];
        }
        return Math.sqrt(s / (b - a));
    }

    static float[] sine(double hz, int rate, int n, double amp) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (amp * Math.sin(2 * Math.PI * hz * i / rate + 0.3));
        }
        return x;
    }

    static double db(double ratio) {
        return 20 * Math.log10(ratio);
    }

    /** Output samples clear of the edge transients (one filter half-width plus margin). */
    static int margin(int from, int to) {
        Resampler r = new Resampler(from, to);
        return (int) Math.ceil(r.tapsPerPhase() / 2.0 * to / from) + 8;
    }

    @Test
    void passbandKeepsAmplitudeAndFrequency() {
        double amp = 0.5;
        double worstGain = 0;
        double worstResidual = -999;
        StringBuilder report = new StringBuilder("passband (gain dB / residual dB re amplitude):\n");
        for (int[] pr : PAIRS) {
            int from = pr[0];
            int to = pr[1];
            double nyq = Math.min(from, to) / 2.0;
            report.append(String.format("  %d -> %d:", from, to));
            for (double frac : new double[] {0.01, 0.1, 0.3, 0.5, 0.7, 0.8, 0.85}) {
                double hz = frac * nyq;
                float[] y = Resampler.resample(sine(hz, from, from / 2, amp), from, to);
                int m = margin(from, to);
                double[] f = fit(y, to, hz, m, y.length - m);
                double gain = db(f[0] / amp);
                double residual = db(f[1] / amp);
                report.append(String.format(" %.2f:%+.4f/%.0f", frac, gain, residual));
                worstGain = Math.max(worstGain, Math.abs(gain));
                worstResidual = Math.max(worstResidual, residual);
                assertTrue(Math.abs(gain) < 0.1, from + "->" + to + " at " + hz + " Hz: gain " + gain + " dB");
                // what is left after removing the sinusoid at the input frequency: no frequency shift, no aliasing
                assertTrue(residual < -70, from + "->" + to + " at " + hz + " Hz: residual " + residual + " dB");
            }
            report.append('\n');
        }
        report.append(String.format("  worst |gain| %.4f dB, worst residual %.1f dB%n", worstGain, worstResidual));
        System.out.print(report);
    }

    @Test
    void tonesAboveTheTargetNyquistAreRemoved() {
        StringBuilder report = new StringBuilder("stopband attenuation (dB, whole output / at the alias frequency):\n");
        double worst = -999;
        for (int[] pr : new int[][] {{48000, 16000}, {24000, 16000}, {48000, 44100}, {44100, 22050}}) {
            int from = pr[0];
            int to = pr[1];
            double nyq = to / 2.0;
            report.append(String.format("  %d -> %d:", from, to));
            for (double frac : new double[] {1.02, 1.1, 1.3, 1.5, 1.9}) {
                double hz = frac * nyq;
                if (hz >= from / 2.0) {
                    continue;
                }
                float[] y = Resampler.resample(sine(hz, from, from / 2, 0.5), from, to);
                int m = margin(from, to);
                double total = db(rms(y, m, y.length - m) / (0.5 / Math.sqrt(2)));
                double alias = Math.abs(to - hz % to);
                alias = Math.min(alias, to - alias);
                double[] f = fit(y, to, alias, m, y.length - m);
                double atAlias = db(f[0] / 0.5);
                report.append(String.format(" %.2f:%.0f/%.0f", frac, total, atAlias));
                worst = Math.max(worst, total);
                assertTrue(total < -60, from + "->" + to + " tone " + hz + " Hz leaks at " + total + " dB");
                assertTrue(atAlias < -60, from + "->" + to + " tone " + hz + " Hz aliases at " + atAlias + " dB");
            }
            report.append('\n');
        }
        report.append(String.format("  worst above Nyquist: %.1f dB%n", worst));
        System.out.print(report);
    }

    @Test
    void upsamplingLeavesNoImages() {
        int from = 16000;
        int to = 24000;
        for (double hz : new double[] {1000, 5000, 7000}) {
            float[] y = Resampler.resample(sine(hz, from, from, 0.5), from, to);
            int m = margin(from, to);
            double image = from - hz; // the first spectral image of a zero-stuffed signal
            double[] f = fit(y, to, hz, m, y.length - m);
            double[] fi = fit(withoutTone(y, to, hz, m), to, image, m, y.length - m);
            System.out.printf("16000 -> 24000 tone %.0f Hz: gain %+.4f dB, image at %.0f Hz %.1f dB, residual %.1f dB%n",
                    hz, db(f[0] / 0.5), image, db(fi[0] / 0.5), db(f[1] / 0.5));
            assertTrue(db(fi[0] / 0.5) < -60);
            assertTrue(db(f[1] / 0.5) < -70);
        }
    }

    /** {@code y} minus its best-fitting sinusoid at {@code hz} (fitted away from the edges). */
    static float[] withoutTone(float[] y, int rate, double hz, int m) {
        double cc = 0;
        double ss = 0;
        double cs = 0;
        double yc = 0;
        double ys = 0;
        for (int i = m; i < y.length - m; i++) {
            double w = 2 * Math.PI * hz * i / rate;
            cc += Math.cos(w) * Math.cos(w);
            ss += Math.sin(w) * Math.sin(w);
            cs += Math.cos(w) * Math.sin(w);
            yc += y[i] * Math.cos(w);
            ys += y[i] * Math.sin(w);
        }
        double det = cc * ss - cs * cs;
        double ac = (yc * ss - ys * cs) / det;
        double as = (ys * cc - yc * cs) / det;
        float[] r = new float[y.length];
        for (int i = 0; i < y.length; i++) {
            double w = 2 * Math.PI * hz * i / rate;
            r[i] = (float) (y[i] - ac * Math.cos(w) - as * Math.sin(w));
        }
        return r;
    }

    @Test
    void transitionBandAroundTheCutoff() {
        int from = 48000;
        int to = 16000;
        StringBuilder report = new StringBuilder("transition 48000 -> 16000 (gain dB at fraction of 8 kHz):");
        for (double frac : new double[] {0.88, 0.9, 0.92, 0.94, 0.96, 0.98, 0.99}) {
            double hz = frac * to / 2;
            float[] y = Resampler.resample(sine(hz, from, from / 2, 0.5), from, to);
            int m = margin(from, to);
            double gain = db(fit(y, to, hz, m, y.length - m)[0] / 0.5);
            report.append(String.format(" %.2f:%.2f", frac, gain));
            if (frac == Resampler.ROLLOFF) {
                assertEquals(-6.02, gain, 0.5, "the cutoff is the -6 dB point");
            }
        }
        System.out.println(report);
    }

    @Test
    void dcGainIsOne() {
        for (int[] pr : PAIRS) {
            float[] x = new float[pr[0] / 4];
            java.util.Arrays.fill(x, 0.25f);
            float[] y = Resampler.resample(x, pr[0], pr[1]);
            int m = margin(pr[0], pr[1]);
            for (int i = m; i < y.length - m; i++) {
                assertEquals(0.25, y[i], 0.25 * 1e-3, pr[0] + "->" + pr[1] + " sample " + i);
            }
        }
    }

    /** Float64, non-polyphase evaluation of the documented formula, written out independently. */
    static double[] reference(float[] x, int from, int to) {
        double s = Resampler.ROLLOFF * Math.min(1.0, (double) to / from);
        double w = Resampler.ZERO_CROSSINGS / s;
        long n = ((long) x.length * to + from - 1) / from;
        double[] y = new double[(int) n];
        for (int j = 0; j < n; j++) {
            double t = (double) j * from / to;
            double acc = 0;
            for (int i = 0; i < x.length; i++) {
                double d = t - i;
                if (Math.abs(d) >= w) {
                    continue;
                }
                double u = d / w;
                double win = i0(Resampler.BETA * Math.sqrt(1 - u * u)) / i0(Resampler.BETA);
                double sinc = d == 0 ? 1 : Math.sin(Math.PI * s * d) / (Math.PI * s * d);
                acc += x[i] * s * sinc * win;
            }
            y[j] = acc;
        }
        return y;
    }

    static double i0(double x) {
        double sum = 0;
        double fact = 1;
        for (int k = 0; k < 60; k++) {
            if (k > 0) {
                fact *= k;
            }
            double t = Math.pow(x / 2, k) / fact;
            sum += t * t;
        }
        return sum;
    }

    @Test
    void matchesDirectFloat64Evaluation() {
        Random rng = new Random(7);
        float[] x = new float[300];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (rng.nextGaussian() * 0.3);
        }
        // 24001 -> 24000 exceeds the table limit: taps evaluated on the fly
        for (int[] pr : new int[][] {{16000, 24000}, {24000, 16000}, {44100, 48000}, {48000, 44100}, {24001, 24000}, {7, 3}}) {
            float[] y = Resampler.resample(x, pr[0], pr[1]);
            double[] ref = reference(x, pr[0], pr[1]);
            assertEquals(ref.length, y.length);
            double maxErr = 0;
            for (int j = 0; j < y.length; j++) {
                maxErr = Math.max(maxErr, Math.abs(y[j] - ref[j]));
            }
            System.out.printf("%d -> %d: max |polyphase - direct float64| = %.2e%n", pr[0], pr[1], maxErr);
            // float32 output rounding (~6e-8 relative) plus double-rounding noise in the tap arguments
            assertTrue(maxErr < 1e-6, pr[0] + "->" + pr[1] + ": " + maxErr);
        }
    }

    @Test
    void identityWhenRatesAreEqual() {
        float[] x = {0.1f, -0.2f, 0.3f, Float.MIN_VALUE};
        float[] y = Resampler.resample(x, 24000, 24000);
        assertArrayEquals(x, y);
        assertNotSame(x, y);
    }

    @Test
    void outputLengthIsCeil() {
        assertEquals(3, Resampler.outputLength(2, 16000, 24000));
        assertEquals(2, Resampler.outputLength(3, 24000, 16000));
        assertEquals(1, Resampler.outputLength(1, 48000, 8000));
        assertEquals(0, Resampler.outputLength(0, 48000, 8000));
        assertEquals(48000, Resampler.outputLength(44100, 44100, 48000));
        for (int n : new int[] {1, 2, 3, 10, 101, 1000}) {
            assertEquals((long) Math.ceil(n * 24000.0 / 44100), Resampler.resample(new float[n], 44100, 24000).length);
        }
        assertEquals(0, Resampler.resample(new float[0], 16000, 24000).length);
    }

    @Test
    void deterministic() {
        Random rng = new Random(3);
        float[] x = new float[5000];
        for (int i = 0; i < x.length; i++) {
            x[i] = rng.nextFloat() - 0.5f;
        }
        assertArrayEquals(Resampler.resample(x, 44100, 24000), Resampler.resample(x, 44100, 24000));
        assertArrayEquals(new Resampler(22050, 24000).process(x), new Resampler(22050, 24000).process(x));
    }

    @Test
    void badRates() {
        assertThrows(VocodexException.class, () -> new Resampler(0, 16000));
        assertThrows(VocodexException.class, () -> new Resampler(16000, -1));
    }
}
