package io.vocodex.backend.cuda;

import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Device memory recycled by size: a closed {@link DeviceBuffer} goes back to the free list of its
 * (rounded) size and the next request of that size reuses it, so a steady workload stops calling
 * {@code cuMemAlloc} after its first pass. Sizes round up to 256 B, or to 1/16 of the next power of
 * two above 64 KiB, bounding the waste to about 6%. Everything is freed when the context closes.
 */
final class DevicePool implements AutoCloseable {
    private final Map<Long, ArrayDeque<CUdeviceptr>> free = new HashMap<>();
    private final List<CUdeviceptr> all = new ArrayList<>();
    private long allocatedBytes;

    static long roundUp(long bytes) {
        long b = Math.max(256, bytes);
        if (b <= 65536) {
            return (b + 255) & ~255L;
        }
        long step = Long.highestOneBit(b - 1) / 8; // 1/16 of the next power of two
        return (b + step - 1) / step * step;
    }

    synchronized DeviceBuffer take(long bytes) {
        long size = roundUp(bytes);
        ArrayDeque<CUdeviceptr> q = free.get(size);
        CUdeviceptr p = q == null ? null : q.pollFirst();
        if (p == null) {
            p = new CUdeviceptr();
            JCudaDriver.cuMemAlloc(p, size);
            all.add(p);
            allocatedBytes += size;
        }
        return new DeviceBuffer(this, p, size);
    }

    synchronized void giveBack(CUdeviceptr p, long size) {
        free.computeIfAbsent(size, k -> new ArrayDeque<>()).addFirst(p);
    }

    /** Bytes held from the driver (in use or free). */
    synchronized long allocatedBytes() {
        return allocatedBytes;
    }

    @Override
    public synchronized void close() {
        for (CUdeviceptr p : all) {
            JCudaDriver.cuMemFree(p);
        }
        all.clear();
        free.clear();
        allocatedBytes = 0;
    }
}
