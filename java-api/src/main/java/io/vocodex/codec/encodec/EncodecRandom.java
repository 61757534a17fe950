package io.vocodex.codec.encodec;

import io.vocodex.model.RandomWeights;
import io.vocodex.model.Weights;

import java.nio.file.Path;

/**
 * Writes an EnCodec model folder with seeded random weights for any configuration: the full-size
 * architecture for benchmarks, odd shapes for property tests. Tensor names and shapes come from
 * the model itself (a {@link Weights#probe} pass), so they always match what the loader reads.
 * Weights are uniform in {@code +-1/sqrt(fan_in)} like PyTorch's default init; weight-norm gains
 * in [0.5, 1.5]; codebooks uniform in {@code +-0.25}.
 *
 * <pre>{@code
 * EncodecRandom.writeModelFolder(EncodecConfig.encodec24khz(), 42, Path.of("build/encodec_random"));
 * }</pre>
 */
public final class EncodecRandom {
    private EncodecRandom() {
    }

    /** Writes {@code dir/config.json} and {@code dir/model.safetensors}. */
    public static Path writeModelFolder(EncodecConfig config, long seed, Path dir) {
        Weights probe = Weights.probe(config.norm().equals("weight_norm"));
        new EncodecModel(config, probe);
        RandomWeights.write(dir, probe, seed, "EncodecRandom", (name, shape, n) -> {
            if (name.endsWith("weight_g")) {
                return new double[] {0.5, 1.5};
            } else if (name.endsWith("._codebook.embed")) {
                return new double[] {-0.25, 0.25};
            }
            int fanIn = shape.length > 1 ? n / shape[0] : Math.max(1, n);
            if (name.contains("lstm")) {
                fanIn = shape.length > 1 ? shape[1] : shape[0] / 4; // PyTorch: U(+-1/sqrt(hidden))
            }
            if (name.endsWith("bias") && shape.length == 1) {
                fanIn = Math.max(1, fanIn * 16);
            }
            double a = 1 / Math.sqrt(fanIn);
            return new double[] {-a, a};
        });
        EncodecImporter.writeConfig(config, dir);
        return dir;
    }
}
