package io.vocodex.model;

import java.util.Arrays;

/** One entry of a safetensors header: name, dtype, shape and byte range within the data section. */
public record TensorInfo(String name, DType dtype, long[] shape, long begin, long end) {

    /** Number of elements (product of the shape; 1 for a scalar). */
    public long numel() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** The shape as ints (every Vocodex tensor dimension fits in an int). */
    public int[] intShape() {
        int[] s = new int[shape.length];
        for (int i = 0; i < s.length; i++) {
            s[i] = Math.toIntExact(shape[i]);
        }
        return s;
    }

    public String shapeString() {
        return Arrays.toString(shape);
    }
}
