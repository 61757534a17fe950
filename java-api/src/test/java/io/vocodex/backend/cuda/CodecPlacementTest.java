package io.vocodex.backend.cuda;

import io.vocodex.Codec;
import io.vocodex.Device;
import io.vocodex.StreamHub;
import io.vocodex.codec.encodec.EncodecModel;
import io.vocodex.codec.encodec.EncodecRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

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
}
