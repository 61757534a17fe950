package io.vocodex.backend.cuda;

import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;

import java.util.ArrayList;
import java.util.List;

/** Kernel parameter list builder, in the order of the kernel's C signature. */
final class Args {
    private static final CUdeviceptr NULL = new CUdeviceptr();
    private final List<NativePointerObject> list = new ArrayList<>(24);

    Args ptr(CUdeviceptr p) {
        list.add(Pointer.to(p == null ? NULL : p));
        return this;
    }

    Args buf(DeviceBuffer b) {
        return ptr(b == null ? null : b.pointer());
    }

    Args i32(int v) {
        list.add(Pointer.to(new int[] {v}));
        return this;
    }

    Args i64(long v) {
        list.add(Pointer.to(new long[] {v}));
        return this;
    }

    Args f32(float v) {
        list.add(Pointer.to(new float[] {v}));
        return this;
    }

    Pointer build() {
        return Pointer.to(list.toArray(new NativePointerObject[0]));
    }
}
