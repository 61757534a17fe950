package io.vocodex.model;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes seeded random weights for every tensor a model asked a {@link Weights#probe} for, into
 * {@code dir/model.safetensors}: the shared half of each codec's random-model writer (benchmarks
 * and property tests), which only supplies the value range per tensor.
 */
public final class RandomWeights {
    private RandomWeights() {
    }

    /** The uniform range {@code [lo, hi]} of one tensor, by name and shape. */
    @FunctionalInterface
    public interface Range {
        double[] of(String name, int[] shape, int numel);
    }

    /** Default for weights: {@code +-1/sqrt(fan_in)} with {@code fan_in = numel / shape[0]}, as PyTorch initialises. */
    public static double[] fanIn(int[] shape, int numel) {
        int fanIn = shape.length > 1 ? numel / shape[0] : Math.max(1, numel);
        double a = 1 / Math.sqrt(fanIn);
        return new double[] {-a, a};
    }

    /** Creates {@code dir} and writes the probed tensors, uniform in their {@code range}, drawn in request order. */
    public static void write(Path dir, Weights probe, long seed, String source, Range range) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        SafetensorsWriter w = new SafetensorsWriter().metadata("source", source + " seed " + seed);
        SplittableRandom rng = new SplittableRandom(seed);
        for (Map.Entry<String, int[]> e : probe.requested().entrySet()) {
            int[] shape = e.getValue();
            int n = 1;
            for (int d : shape) {
                n *= d;
            }
            double[] lohi = range.of(e.getKey(), shape, n);
            float[] data = new float[n];
            for (int i = 0; i < n; i++) {
                data[i] = (float) (lohi[0] + (lohi[1] - lohi[0]) * rng.nextDouble());
            }
            long[] ls = new long[shape.length];
            for (int i = 0; i < shape.length; i++) {
                ls[i] = shape[i];
            }
            w.put(e.getKey(), ls, data);
        }
        w.write(dir.resolve(ModelFolder.WEIGHTS));
    }
}
