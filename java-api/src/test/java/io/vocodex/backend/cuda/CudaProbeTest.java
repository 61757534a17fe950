package io.vocodex.backend.cuda;

import io.vocodex.Device;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/** No GPU needed: probing and {@link Device#auto()} never throw, also without {@code libcuda.so.1}. */
class CudaProbeTest {
    @Test
    void probeAndAutoNeverThrow() {
        CudaProbe.Result r = CudaProbe.probe();
        assertNotNull(r.reason());
        assertFalse(r.reason().isBlank());
        Device d = Device.auto();
        assertEquals(r.available() ? Device.Kind.CUDA : Device.Kind.CPU, d.kind(), d.reason());
        assertFalse(d.reason().isBlank());
        System.out.println("[CudaProbeTest] Device.auto() = " + d + ": " + d.reason());
    }

    @Test
    void archSelection() {
        assertEquals(90, KernelModule.archFor(9, 0));
        assertEquals(90, KernelModule.archFor(12, 0));
        assertEquals(80, KernelModule.archFor(8, 9));
        assertEquals(80, KernelModule.archFor(8, 0));
        assertEquals(-1, KernelModule.archFor(7, 5));
    }

    @Test
    void poolRounding() {
        assertEquals(256, DevicePool.roundUp(1));
        assertEquals(512, DevicePool.roundUp(257));
        assertEquals(65536, DevicePool.roundUp(65536));
        long r = DevicePool.roundUp(1_000_001);
        assertEquals(true, r >= 1_000_001 && r <= 1_000_001 * 1.07, "rounded " + r);
    }
}
