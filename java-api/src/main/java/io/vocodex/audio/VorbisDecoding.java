package io.vocodex.audio;

import com.jcraft.jogg.Packet;
import com.jcraft.jogg.Page;
import com.jcraft.jogg.StreamState;
import com.jcraft.jogg.SyncState;
import com.jcraft.jorbis.Block;
import com.jcraft.jorbis.Comment;
import com.jcraft.jorbis.DspState;
import com.jcraft.jorbis.Info;
import io.vocodex.VocodexException;

import java.nio.charset.StandardCharsets;

/**
 * Ogg Vorbis through JOrbis ({@code org.jcraft:jorbis}): the first logical stream of the file is
 * decoded; its length is cut to the end-of-stream page's granule position, as libvorbisfile does.
 * A stream that ends without an end-of-stream page is reported as truncated.
 */
final class VorbisDecoding {
    private VorbisDecoding() {
    }

    static DecodedAudio decode(byte[] bytes, String name, long maxFrames) {
        try {
            return run(bytes, name, maxFrames);
        } catch (VocodexException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new VocodexException(name + ": corrupt Ogg Vorbis data: " + AudioFiles.reason(e), e);
        }
    }

    private static DecodedAudio run(byte[] bytes, String name, long maxFrames) {
        if (bytes.length > 27 && bytes.length >= 27 + (bytes[26] & 0xff) + 8) {
            int body = 27 + (bytes[26] & 0xff);
            if (new String(bytes, body, 8, StandardCharsets.ISO_8859_1).equals("OpusHead")) {
                throw new VocodexException(name + ": Ogg Opus is not supported (Ogg Vorbis only); convert it, "
                        + "e.g. opusdec in.opus out.wav");
            }
        }
        SyncState oy = new SyncState();
        StreamState os = new StreamState();
        Page og = new Page();
        Packet op = new Packet();
        Info vi = new Info();
        Comment vc = new Comment();
        oy.init();
        int at = oy.buffer(bytes.length);
        System.arraycopy(bytes, 0, oy.data, at, bytes.length);
        oy.wrote(bytes.length);

        if (oy.pageout(og) != 1) {
            throw new VocodexException(name + ": not an Ogg stream (no page found)");
        }
        int serial = og.serialno();
        os.init(serial);
        vi.init();
        vc.init();
        if (os.pagein(og) < 0 || os.packetout(op) != 1) {
            throw new VocodexException(name + ": corrupt first Ogg page");
        }
        if (vi.synthesis_headerin(vc, op) < 0) {
            String head = new String(op.packet_base, op.packet, Math.min(8, op.bytes), StandardCharsets.ISO_8859_1);
            if (head.startsWith("OpusHead")) {
                throw new VocodexException(name + ": Ogg Opus is not supported (Ogg Vorbis only); convert it, "
                        + "e.g. opusdec in.opus out.wav");
            }
            throw new VocodexException(name + ": Ogg stream is not Vorbis");
        }
        int headers = 1;
        while (headers < 3) {
            int r = oy.pageout(og);
            if (r == 0) {
                throw new VocodexException(name + ": truncated Ogg Vorbis headers");
            }
            if (r < 0 || og.serialno() != serial) {
                continue;
            }
            os.pagein(og);
            while (headers < 3) {
                int p = os.packetout(op);
                if (p == 0) {
                    break;
                }
                if (p < 0 || vi.synthesis_headerin(vc, op) < 0) {
                    throw new VocodexException(name + ": corrupt Ogg Vorbis header packet " + headers);
                }
                headers++;
            }
        }
        AudioFiles.checkRate(vi.rate, name);
        if (vi.channels < 1) {
            throw new VocodexException(name + ": Vorbis stream with " + vi.channels + " channels");
        }
        DspState vd = new DspState();
        Block vb = new Block(vd);
        vd.synthesis_init(vi);
        vb.init(vd);
        PcmBuilder pcm = new PcmBuilder(name, vi.channels, maxFrames);
        float[][][] buf = new float[1][][];
        int[] index = new int[vi.channels];
        boolean eos = false;
        long lastGranule = -1;
        int holes = 0;
        while (!eos) {
            int r = oy.pageout(og);
            if (r == 0) {
                break;
            }
            if (r < 0) {
                holes++;
                continue;
            }
            if (og.serialno() != serial) {
                continue; // another logical stream (chained/multiplexed): ignored
            }
            os.pagein(og);
            while (true) {
                int p = os.packetout(op);
                if (p == 0) {
                    break;
                }
                if (p < 0) {
                    holes++;
                    continue;
                }
                if (vb.synthesis(op) == 0) {
                    vd.synthesis_blockin(vb);
                }
                int n;
                while ((n = vd.synthesis_pcmout(buf, index)) > 0) {
                    pcm.ensure(n);
                    for (int c = 0; c < vi.channels; c++) {
                        float[] src = buf[0][c];
                        int o = index[c];
                        for (int i = 0; i < n; i++) {
                            pcm.put(c, i, src[o + i]);
                        }
                    }
                    pcm.advance(n);
                    vd.synthesis_read(n);
                }
            }
            if (og.granulepos() >= 0) {
                lastGranule = og.granulepos();
            }
            eos = og.eos() != 0;
        }
        if (holes > 0) {
            throw new VocodexException(name + ": corrupt Ogg Vorbis stream (" + holes + " damaged page(s) or packet(s))");
        }
        if (!eos) {
            throw new VocodexException(name + ": truncated Ogg Vorbis stream (no end-of-stream page; "
                    + pcm.frames() + " frames decoded)");
        }
        if (pcm.frames() == 0) {
            throw new VocodexException(name + ": empty audio (Vorbis stream has no samples)");
        }
        float[][] ch = pcm.build();
        if (lastGranule > 0 && lastGranule < ch[0].length) {
            for (int c = 0; c < ch.length; c++) {
                ch[c] = java.util.Arrays.copyOf(ch[c], (int) lastGranule);
            }
        }
        return new DecodedAudio(ch, vi.rate, "ogg", "vorbis");
    }
}
