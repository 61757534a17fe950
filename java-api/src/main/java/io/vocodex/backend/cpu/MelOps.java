package io.vocodex.backend.cpu;

import io.vocodex.VocodexException;

/**
 * Log-mel spectrogram front end, as the {@code LogMelSpectrogram} of DistilCodec (Fish-Speech
 * style): reflect padding of {@code (win - hop) / 2} on the left and {@code (win - hop + 1) / 2} on
 * the right, a periodic Hann window, STFT without centring, magnitude
 * {@code sqrt(re^2 + im^2 + 1e-6)}, a torchaudio {@code melscale_fbanks} filterbank (Slaney mel
 * scale, optional Slaney area normalisation), then {@code log(max(x, 1e-5))}.
 *
 * <p>Every frame is computed from its own samples only, with a fixed order of operations, so a
 * frame's value never depends on the length of the clip or on other clips. The FFT runs in float64
 * and each magnitude is rounded once to float32; the filterbank product accumulates in float64 in
 * ascending frequency order and is rounded once. This is slightly MORE accurate than the original's
 * float32 FFT and GEMM; the difference is a few float32 ulps.
 */
public final class MelOps {
    private MelOps() {
    }

    /** A periodic Hann window of {@code win} samples ({@code torch.hann_window(win)}), centred in {@code nFft}. */
    public static double[] hannWindow(int win, int nFft) {
        double[] w = new double[nFft];
        int left = (nFft - win) / 2;
        for (int n = 0; n < win; n++) {
            w[left + n] = 0.5 - 0.5 * Math.cos(2 * Math.PI * n / win);
        }
        return w;
    }

    /** Slaney mel scale: linear below 1 kHz, logarithmic above (torchaudio {@code _hz_to_mel(..., "slaney")}). */
    public static double hzToMelSlaney(double hz) {
        double fSp = 200.0 / 3;
        double mels = hz / fSp;
        double minLogHz = 1000.0;
        double minLogMel = minLogHz / fSp;
        double logstep = Math.log(6.4) / 27.0;
        if (hz >= minLogHz) {
            mels = minLogMel + Math.log(hz / minLogHz) / logstep;
        }
        return mels;
    }

    /** Inverse of {@link #hzToMelSlaney}. */
    public static double melToHzSlaney(double mel) {
        double fSp = 200.0 / 3;
        double minLogHz = 1000.0;
        double minLogMel = minLogHz / fSp;
        double logstep = Math.log(6.4) / 27.0;
        if (mel >= minLogMel) {
            return minLogHz * Math.exp(logstep * (mel - minLogMel));
        }
        return fSp * mel;
    }

    /**
     * torchaudio {@code melscale_fbanks(n_freqs, f_min, f_max, n_mels, sample_rate, norm, "slaney")}
     * as {@code [nMels][nFreqs]} (transposed: one row per mel band), computed in float64.
     */
    public static double[][] melFilterbank(int nFreqs, double fMin, double fMax, int nMels, int sampleRate,
                                           boolean slaneyNorm) {
        double[] allFreqs = new double[nFreqs];
        double top = sampleRate / 2; // integer division, as sample_rate // 2
        for (int i = 0; i < nFreqs; i++) {
            allFreqs[i] = nFreqs == 1 ? 0 : top * i / (nFreqs - 1);
        }
        double mMin = hzToMelSlaney(fMin);
        double mMax = hzToMelSlaney(fMax);
        double[] fPts = new double[nMels + 2];
        for (int i = 0; i < nMels + 2; i++) {
            double m = mMin + (mMax - mMin) * i / (nMels + 1);
            fPts[i] = melToHzSlaney(m);
        }
        double[][] fb = new double[nMels][nFreqs];
        for (int m = 0; m < nMels; m++) {
            double dDown = fPts[m + 1] - fPts[m];
            double dUp = fPts[m + 2] - fPts[m + 1];
            double enorm = slaneyNorm ? 2.0 / (fPts[m + 2] - fPts[m]) : 1.0;
            for (int f = 0; f < nFreqs; f++) {
                double down = (allFreqs[f] - fPts[m]) / dDown;   // -slopes[:, m] / f_diff[m]
                double up = (fPts[m + 2] - allFreqs[f]) / dUp;   // slopes[:, m+2] / f_diff[m+1]
                fb[m][f] = Math.max(0, Math.min(down, up)) * enorm;
            }
        }
        return fb;
    }

    /** Number of STFT frames for {@code n} input samples after the front end's reflect padding. */
    public static int frames(int n, int nFft, int hop, int win) {
        int padded = n + (win - hop) / 2 + (win - hop + 1) / 2;
        return padded < nFft ? 0 : (padded - nFft) / hop + 1;
    }

    /**
     * Log-mel spectrogram {@code [nMels][frames]} of {@code y}.
     *
     * @param fbT filterbank {@code [nMels][nFft/2+1]} from {@link #melFilterbank}
     * @param window {@link #hannWindow} of length {@code nFft}
     */
    public static float[][] logMel(CpuContext ctx, float[] y, int nFft, int hop, int win, double[] window, double[][] fbT) {
        int left = (win - hop) / 2;
        int right = (win - hop + 1) / 2;
        int n = y.length;
        if (n <= Math.max(left, right)) {
            throw new VocodexException("audio of " + n + " samples is too short for the mel front end: its reflect padding of "
                    + Math.max(left, right) + " samples needs at least " + (Math.max(left, right) + 1));
        }
        float[] padded = new float[n + left + right];
        System.arraycopy(y, 0, padded, left, n);
        for (int i = 1; i <= left; i++) {
            padded[left - i] = y[i];
        }
        for (int i = 1; i <= right; i++) {
            padded[left + n - 1 + i] = y[n - 1 - i];
        }
        int frames = frames(n, nFft, hop, win);
        int nMels = fbT.length;
        int nFreqs = nFft / 2 + 1;
        float[][] out = new float[nMels][frames];
        Fft fft = new Fft(nFft);
        ctx.parallelFor(frames, (long) nFft * 20 + (long) nMels * nFreqs, t -> {
            double[] re = new double[nFft];
            double[] im = new double[nFft];
            for (int i = 0; i < nFft; i++) {
                re[i] = window[i] * padded[t * hop + i];
            }
            fft.transform(re, im);
            float[] mag = new float[nFreqs];
            for (int k = 0; k < nFreqs; k++) {
                float r = (float) re[k];
                float m = (float) im[k];
                mag[k] = (float) Math.sqrt((double) r * r + (double) m * m + 1e-6);
            }
            for (int m = 0; m < nMels; m++) {
                double[] row = fbT[m];
                double acc = 0;
                for (int k = 0; k < nFreqs; k++) {
                    acc += row[k] * mag[k];
                }
                float mel = (float) acc;
                out[m][t] = (float) Math.log(Math.max(mel, 1e-5f));
            }
        });
        return out;
    }

    /** An in-place complex FFT in float64: radix-2 for powers of two, a direct DFT otherwise. */
    static final class Fft {
        private final int n;
        private final double[] cos;
        private final double[] sin;
        private final boolean pow2;

        Fft(int n) {
            this.n = n;
            this.pow2 = Integer.bitCount(n) == 1;
            cos = new double[n];
            sin = new double[n];
            for (int i = 0; i < n; i++) {
                double a = 2 * Math.PI * i / n;
                cos[i] = Math.cos(a);
                sin[i] = Math.sin(a);
            }
        }

        /** {@code X[k] = sum_j x[j] e^{-2 pi i jk/n}} in place. */
        void transform(double[] re, double[] im) {
            if (!pow2) {
                double[] r = new double[n];
                double[] m = new double[n];
                for (int k = 0; k < n; k++) {
                    double sr = 0;
                    double si = 0;
                    for (int j = 0; j < n; j++) {
                        int idx = (int) ((long) j * k % n);
                        sr += re[j] * cos[idx] + im[j] * sin[idx];
                        si += im[j] * cos[idx] - re[j] * sin[idx];
                    }
                    r[k] = sr;
                    m[k] = si;
                }
                System.arraycopy(r, 0, re, 0, n);
                System.arraycopy(m, 0, im, 0, n);
                return;
            }
            int bits = Integer.numberOfTrailingZeros(n);
            for (int i = 0; i < n; i++) {
                int j = Integer.reverse(i) >>> (32 - bits);
                if (bits == 0) {
                    j = 0;
                }
                if (j > i) {
                    double tr = re[i];
                    re[i] = re[j];
                    re[j] = tr;
                    double ti = im[i];
                    im[i] = im[j];
                    im[j] = ti;
                }
            }
            for (int len = 2; len <= n; len <<= 1) {
                int half = len >> 1;
                int step = n / len;
                for (int s = 0; s < n; s += len) {
                    for (int j = 0; j < half; j++) {
                        double wr = cos[j * step];
                        double wi = -sin[j * step];
                        int a = s + j;
                        int b = a + half;
                        double xr = re[b] * wr - im[b] * wi;
                        double xi = re[b] * wi + im[b] * wr;
                        re[b] = re[a] - xr;
                        im[b] = im[a] - xi;
                        re[a] += xr;
                        im[a] += xi;
                    }
                }
            }
        }
    }
}
