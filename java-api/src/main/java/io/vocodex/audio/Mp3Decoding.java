package io.vocodex.audio;

import io.vocodex.VocodexException;
import javazoom.jl.decoder.Bitstream;
import javazoom.jl.decoder.BitstreamException;
import javazoom.jl.decoder.Decoder;
import javazoom.jl.decoder.DecoderException;
import javazoom.jl.decoder.Header;
import javazoom.jl.decoder.SampleBuffer;

import java.io.ByteArrayInputStream;

/**
 * MPEG-1/2/2.5 layer I-III through JLayer ({@code com.googlecode.soundlibs:jlayer}). The decoder's
 * output (16-bit, interleaved) is taken as is: encoder delay and padding are not trimmed, as in
 * most decoders without gapless metadata support.
 */
final class Mp3Decoding {
    private Mp3Decoding() {
    }

    static DecodedAudio decode(byte[] bytes, String name, long maxFrames) {
        Bitstream bs = new Bitstream(new ByteArrayInputStream(bytes));
        Decoder dec = new Decoder();
        PcmBuilder pcm = null;
        int rate = 0;
        int frames = 0;
        try {
            Header h;
            while ((h = bs.readFrame()) != null) {
                SampleBuffer out = (SampleBuffer) dec.decodeFrame(h, bs);
                int nc = out.getChannelCount();
                if (pcm == null) {
                    rate = out.getSampleFrequency();
                    AudioFiles.checkRate(rate, name);
                    pcm = new PcmBuilder(name, nc, maxFrames);
                } else if (nc != pcm.channels() || out.getSampleFrequency() != rate) {
                    throw new VocodexException(name + ": MP3 frame " + frames + " changes format to " + nc + " ch "
                            + out.getSampleFrequency() + " Hz (stream started " + pcm.channels() + " ch " + rate + " Hz)");
                }
                short[] b = out.getBuffer();
                int n = out.getBufferLength() / nc;
                pcm.ensure(n);
                for (int i = 0; i < n; i++) {
                    for (int c = 0; c < nc; c++) {
                        pcm.put(c, i, b[i * nc + c] / 32768f);
                    }
                }
                pcm.advance(n);
                bs.closeFrame();
                frames++;
            }
        } catch (BitstreamException | DecoderException | RuntimeException e) {
            if (e instanceof VocodexException) {
                throw (VocodexException) e;
            }
            throw new VocodexException(name + ": corrupt MP3 data after " + frames + " frames: " + AudioFiles.reason(e), e);
        }
        if (pcm == null || pcm.frames() == 0) {
            throw new VocodexException(name + ": no MPEG audio frames found (empty or not an MP3 file)");
        }
        return new DecodedAudio(pcm.build(), rate, "mp3", "mp3");
    }
}
