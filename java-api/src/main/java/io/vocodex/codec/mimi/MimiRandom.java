package io.vocodex.codec.mimi;

import io.vocodex.model.ModelFolder;
import io.vocodex.model.SafetensorsWriter;
import io.vocodex.model.Weights;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes a Mimi model folder with seeded random weights for any configuration (benchmarks,
 * property tests). Names and shapes come from a {@link Weights#probe} pass over the model, so
 * they always match what the loader reads. Conv/linear weights uniform in {@code +-1/sqrt(fan_in)};
 * biases small; layer norms near 1 / 0; layer scales in [0.05, 0.3] (larger than the trained 0.01
 * so that the transformer visibly matters); {@code embedding_sum} uniform in {@code +-0.3} and
 * {@code cluster_usage} in [0.5, 1.5].
 *
 * <pre>{@code
 * MimiRandom.writeModelFolder(MimiConfig.mimi(), 42, Path.of("build/mimi_random"));
 * }</pre>
 */
public final class MimiRandom {
    private MimiRandom() {
    }

    /** Writes {@code dir/config.json} and {@code dir/model.safetensors}. */
    public static Path writeModelFolder(MimiConfig config, long seed, Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Weights probe = Weights.probe(config.seanet().norm().equals("weight_norm"));
        new MimiModel(config, probe);
        SafetensorsWriter w = new SafetensorsWriter().metadata("source", "MimiRandom seed " + seed);
        SplittableRandom rng = new SplittableRandom(seed);
        for (Map.Entry<String, int[]> e : probe.requested().entrySet()) {
            String name = e.getKey();
            int[] shape = e.getValue();
            int n = 1;
            for (int d : shape) {
                n *= d;
            }
            double lo;
            double hi;
            if (name.endsWith("weight_g") || name.endsWith("cluster_usage")) {
                lo = 0.5;
                hi = 1.5;
            } else if (name.endsWith("embedding_sum")) {
                lo = -0.3;
                hi = 0.3;
            } else if (name.endsWith(".scale")) {
                lo = 0.05;
                hi = 0.3;
            } else if ((name.contains("norm1") || name.contains("norm2")) && name.endsWith("weight")) {
                lo = 0.9;
                hi = 1.1;
            } else if (name.endsWith("bias")) {
                lo = -0.02;
                hi = 0.02;
            } else {
                int fanIn = shape.length > 1 ? n / shape[0] : Math.max(1, n);
                if (name.startsWith("upsample")) {
                    fanIn = shape[2] / 2; // depthwise: each output sample sums K/stride taps
                }
                double a = 1 / Math.sqrt(fanIn);
                lo = -a;
                hi = a;
            }
            float[] data = new float[n];
            for (int i = 0; i < n; i++) {
                data[i] = (float) (lo + (hi - lo) * rng.nextDouble());
            }
            long[] ls = new long[shape.length];
            for (int i = 0; i < shape.length; i++) {
                ls[i] = shape[i];
            }
            w.put(name, ls, data);
        }
        w.write(dir.resolve(ModelFolder.WEIGHTS));
        MimiImporter.writeConfig(config, dir);
        return dir;
    }
}
