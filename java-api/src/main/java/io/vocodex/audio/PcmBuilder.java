package io.vocodex.audio;

import io.vocodex.VocodexException;

import java.util.Arrays;

/** Per-channel growable float buffers for decoders that produce audio block by block. */
final class PcmBuilder {
    private final String name;
    private final long maxFrames;
    private float[][] ch;
    private int n;

    PcmBuilder(String name, int channels, long maxFrames) {
        this.name = name;
        this.maxFrames = maxFrames;
        this.ch = new float[channels][1024];
    }

    int channels() {
        return ch.length;
    }

    int frames() {
        return n;
    }

    /** Room for {@code more} frames. */
    void ensure(int more) {
        long need = (long) n + more;
        if (need > maxFrames || need > Integer.MAX_VALUE - 8) {
            throw new VocodexException(name + ": more than " + Math.min(maxFrames, Integer.MAX_VALUE - 8)
                    + " frames; too long to decode into memory");
        }
        if (need > ch[0].length) {
            int cap = (int) Math.min(Integer.MAX_VALUE - 8, Math.max(need, 2L * ch[0].length));
            for (int c = 0; c < ch.length; c++) {
                ch[c] = Arrays.copyOf(ch[c], cap);
            }
        }
    }

    void put(int channel, int offset, float v) {
        ch[channel][n + offset] = v;
    }

    void advance(int frames) {
        n += frames;
    }

    float[][] build() {
        float[][] out = new float[ch.length][];
        for (int c = 0; c < ch.length; c++) {
            out[c] = ch[c].length == n ? ch[c] : Arrays.copyOf(ch[c], n);
        }
        return out;
    }
}
