package io.vocodex.audio;

import io.vocodex.VocodexException;
import org.jflac.ChannelData;
import org.jflac.FLACDecoder;
import org.jflac.frame.Frame;
import org.jflac.metadata.StreamInfo;

import java.io.ByteArrayInputStream;
import java.io.IOException;

/** FLAC through jFLAC ({@code org.jflac:jflac-codec}), frame by frame from its integer output. */
final class FlacDecoding {
    private FlacDecoding() {
    }

    static DecodedAudio decode(byte[] bytes, String name, long maxFrames) {
        FLACDecoder dec = new FLACDecoder(new ByteArrayInputStream(bytes));
        StreamInfo info;
        try {
            dec.readMetadata();
            info = dec.getStreamInfo();
        } catch (IOException | RuntimeException e) {
            throw new VocodexException(name + ": corrupt FLAC header: " + AudioFiles.reason(e), e);
        }
        if (info == null) {
            throw new VocodexException(name + ": FLAC file without STREAMINFO");
        }
        int channels = info.getChannels();
        int bits = info.getBitsPerSample();
        AudioFiles.checkRate(info.getSampleRate(), name);
        if (channels < 1 || bits < 4 || bits > 32) {
            throw new VocodexException(name + ": implausible FLAC stream (" + channels + " channels, " + bits + " bits)");
        }
        long total = info.getTotalSamples();
        PcmBuilder pcm = new PcmBuilder(name, channels, maxFrames);
        double scale = 1.0 / (1L << (bits - 1));
        try {
            Frame f;
            while ((f = dec.readNextFrame()) != null) {
                int bs = f.header.blockSize;
                if (f.header.channels != channels) {
                    throw new VocodexException(name + ": FLAC frame with " + f.header.channels + " channels in a "
                            + channels + "-channel stream");
                }
                ChannelData[] cd = dec.getChannelData();
                pcm.ensure(bs);
                for (int c = 0; c < channels; c++) {
                    int[] o = cd[c].getOutput();
                    for (int i = 0; i < bs; i++) {
                        pcm.put(c, i, (float) (o[i] * scale));
                    }
                }
                pcm.advance(bs);
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof VocodexException) {
                throw (VocodexException) e;
            }
            throw new VocodexException(name + ": corrupt FLAC data after " + pcm.frames() + " frames: "
                    + AudioFiles.reason(e), e);
        }
        if (dec.getBadFrames() > 0) {
            throw new VocodexException(name + ": " + dec.getBadFrames() + " corrupt FLAC frame(s)");
        }
        if (total > 0 && pcm.frames() < total) {
            throw new VocodexException(name + ": truncated FLAC: " + pcm.frames() + " of " + total + " samples decoded");
        }
        if (pcm.frames() == 0) {
            throw new VocodexException(name + ": empty audio (FLAC stream has no samples)");
        }
        return new DecodedAudio(pcm.build(), info.getSampleRate(), "flac", "flac_s" + bits);
    }
}
