package io.vocodex.codec.mimi;

import io.vocodex.model.RandomWeights;
import io.vocodex.model.Weights;

import java.nio.file.Path;

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
        Weights probe = Weights.probe(config.seanet().norm().equals("weight_norm"));
        new MimiModel(config, probe);
        RandomWeights.write(dir, probe, seed, "MimiRandom", (name, shape, n) -> {
            if (name.endsWith("weight_g") || name.endsWith("cluster_usage")) {
                return new double[] {0.5, 1.5};
            } else if (name.endsWith("embedding_sum")) {
                return new double[] {-0.3, 0.3};
            } else if (name.endsWith(".scale")) {
                return new double[] {0.05, 0.3};
            } else if ((name.contains("norm1") || name.contains("norm2")) && name.endsWith("weight")) {
                return new double[] {0.9, 1.1};
            } else if (name.endsWith("bias")) {
                return new double[] {-0.02, 0.02};
            } else if (name.startsWith("upsample")) {
                double a = 1 / Math.sqrt(shape[2] / 2); // depthwise: each output sample sums K/stride taps
                return new double[] {-a, a};
            }
            return RandomWeights.fanIn(shape, n);
        });
        MimiImporter.writeConfig(config, dir);
        return dir;
    }
}
