package io.vocodex.backend.cuda;

import io.vocodex.Codec;
import io.vocodex.Device;
import io.vocodex.StreamHub;
import io.vocodex.codec.distilcodec.DistilCodecConfig;
import io.vocodex.codec.distilcodec.DistilCodecModel;
import io.vocodex.codec.distilcodec.DistilCodecRandom;
import io.vocodex.codec.encodec.EncodecModel;
import io.vocodex.codec.encodec.EncodecRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Where {@code Codec.load(dir, Device.cuda(0))} puts an EnCodec model: on the GPU ({@link CudaEncodec})
 * when CUDA is usable, else on the CPU with a device whose reason says why; StreamHub follows. Runs
 * everywhere (no tag): without a GPU it checks the fallback.
 */
class CodecPlacementTest {
    @Test
    void cudaRequestFallsBackToCpuWithAReasonOrRunsOnCuda(@TempDir Path tmp) {
        Path dir = EncodecRandom.writeModelFolder(CudaStreamScheduleTest.hubConfig(), 3, tmp.resolve("m"));
        CudaProbe.Result probe = CudaProbe.probe();
        for (Device d : new Device[] {Device.cuda(0), Device.cuda(0).withTf32(true)}) {
            try (Codec c = Codec.load(dir, d); StreamHub hub = new StreamHub(c, 6.0, 4)) {
                System.out.println("[placement] " + d + " -> " + c.device() + ": " + c.device().reason() + "; hub: " + hub.backend());
                if (probe.available()) {
                    assertInstanceOf(CudaEncodec.class, c.model());
                    assertEquals(Device.Kind.CUDA, c.device().kind());
                } else {
                    assertInstanceOf(EncodecModel.class, c.model());
                    assertEquals(Device.Kind.CPU, c.device().kind());
                    assertTrue(c.device().reason().startsWith("CUDA requested but not usable"), c.device().reason());
                    assertTrue(hub.backend().startsWith("cpu"), hub.backend());
                }
            }
        }
    }

    /**
     * DistilCodec on {@code Device.cuda(0)}: the code search on the GPU (codes equal to the CPU codec's)
     * when CUDA is usable, else the whole model on the CPU with a reason.
     */
    @Test
    void distilCodecSearchGoesToTheGpuOrFallsBack(@TempDir Path tmp) {
        Path dir = DistilCodecRandom.writeModelFolder(DistilCodecConfig.tiny(), 5, tmp.resolve("d"));
        float[][] clips = new float[3][];
        java.util.Random r = new java.util.Random(2);
        for (int i = 0; i < clips.length; i++) {
            clips[i] = new float[2000 + 700 * i];
            for (int j = 0; j < clips[i].length; j++) {
                clips[i][j] = (float) (0.1 * r.nextGaussian());
            }
        }
        try (Codec cpu = Codec.load(dir, Device.cpu(2)); Codec c = Codec.load(dir, Device.cuda(0))) {
            DistilCodecModel m = assertInstanceOf(DistilCodecModel.class, c.model());
            System.out.println("[placement] distilcodec cuda:0 -> " + c.device() + ": " + c.device().reason()
                    + "; search: " + m.codeSearchPlace());
            if (CudaProbe.probe().available()) {
                assertEquals(Device.Kind.CUDA, c.device().kind());
                assertTrue(m.codeSearchPlace().startsWith("cuda:0"), m.codeSearchPlace());
            } else {
                assertEquals(Device.Kind.CPU, c.device().kind());
                assertEquals("cpu", m.codeSearchPlace());
                assertTrue(c.device().reason().startsWith("CUDA requested but not usable"), c.device().reason());
            }
            java.util.List<io.vocodex.Audio> audio = new java.util.ArrayList<>();
            for (float[] pcm : clips) {
                audio.add(io.vocodex.Audio.of(pcm, c.sampleRate()));
            }
            double kbps = c.bandwidths()[0];
            java.util.List<io.vocodex.Tokens> want = cpu.encodeBatch(audio, kbps);
            java.util.List<io.vocodex.Tokens> got = c.encodeBatch(audio, kbps);
            for (int i = 0; i < clips.length; i++) {
                for (int k = 0; k < want.get(i).numCodebooks(); k++) {
                    assertArrayEquals(want.get(i).codes()[k], got.get(i).codes()[k], "clip " + i + " codebook " + k);
                }
                assertEquals(want.get(i), c.encode(audio.get(i), kbps), "clip " + i + " alone");
            }
        }
    }

    /**
     * Mimi on {@code Device.cuda(0)}: {@link CudaMimi} with the CPU's batch codes and a GPU StreamHub ({@link CudaMimiStreams})
     * when CUDA is usable, else the CPU (codec and hub) with a reason.
     */
    @Test
    void mimiGoesToTheGpuOrFallsBack(@TempDir Path tmp) {
        Path dir = io.vocodex.codec.mimi.MimiRandom.writeModelFolder(MimiTransformerPlanTest.config(6, false, true), 7, tmp.resolve("mimi"));
        float[] pcm = new float[5000];
        java.util.Random r = new java.util.Random(3);
        for (int i = 0; i < pcm.length; i++) {
            pcm[i] = (float) (0.1 * r.nextGaussian());
        }
        try (Codec cpu = Codec.load(dir, Device.cpu(1)); Codec c = Codec.load(dir, Device.cuda(0));
             StreamHub hub = new StreamHub(c, c.bandwidths()[0], 4)) {
            System.out.println("[placement] mimi cuda:0 -> " + c.device() + ": " + c.device().reason() + "; hub: " + hub.backend());
            if (CudaProbe.probe().available()) {
                assertInstanceOf(CudaMimi.class, c.model());
                assertEquals(Device.Kind.CUDA, c.device().kind());
                assertTrue(hub.backend().startsWith("GPU Mimi StreamHub"), hub.backend());
            } else {
                assertInstanceOf(io.vocodex.codec.mimi.MimiModel.class, c.model());
                assertEquals(Device.Kind.CPU, c.device().kind());
                assertTrue(c.device().reason().startsWith("CUDA requested but not usable"), c.device().reason());
                assertTrue(hub.backend().startsWith("cpu"), hub.backend());
            }
            io.vocodex.Audio a = io.vocodex.Audio.of(pcm, c.sampleRate());
            double kbps = c.bandwidths()[c.bandwidths().length - 1];
            io.vocodex.Tokens want = cpu.encode(a, kbps);
            io.vocodex.Tokens got = c.encode(a, kbps);
            for (int k = 0; k < want.numCodebooks(); k++) {
                assertArrayEquals(want.codes()[k], got.codes()[k], "codebook " + k);
            }
        }
    }
}
