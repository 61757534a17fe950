package io.vocodex.codec.distilcodec;

import io.vocodex.model.RandomWeights;
import io.vocodex.model.Weights;

import java.nio.file.Path;

/**
 * Writes a DistilCodec model folder with seeded random weights for any configuration (the full
 * released shape for benchmarks, tiny ones for tests). Names and shapes come from the model itself
 * (a {@link Weights#probe} pass). Conv/linear weights are uniform in {@code +-1/sqrt(fan_in)},
 * biases small, layer-norm weights near 1, layer scales ({@code gamma}) 0.1-0.5 so that the
 * ConvNeXt branches matter, weight-norm gains in [0.5, 1.5], codebook entries uniform in
 * {@code +-0.5}.
 *
 * <pre>{@code
 * DistilCodecRandom.writeModelFolder(DistilCodecConfig.tiny(), 7, Path.of("build/distil_tiny"));
 * }</pre>
 */
public final class DistilCodecRandom {
    private DistilCodecRandom() {
    }

    /** Writes {@code dir/config.json} and {@code dir/model.safetensors}. */
    public static Path writeModelFolder(DistilCodecConfig config, long seed, Path dir) {
        Weights probe = Weights.probe(true);
        new DistilCodecModel(config, probe);
        RandomWeights.write(dir, probe, seed, "DistilCodecRandom", (name, shape, n) -> {
            boolean norm = name.endsWith("norm.weight") || name.matches(".*downsample_layers\\.\\d+\\.(0\\.weight|1\\.weight)")
                    && shape.length == 1;
            if (name.endsWith("weight_g")) {
                return new double[] {0.5, 1.5};
            } else if (name.endsWith("._codebook.embed")) {
                return new double[] {-0.5, 0.5};
            } else if (name.endsWith("gamma")) {
                return new double[] {0.1, 0.5};
            } else if (norm) {
                return new double[] {0.9, 1.1};
            } else if (name.endsWith("bias")) {
                return new double[] {-0.02, 0.02};
            } else if ((name.contains(".ups.") || name.contains("upsample.")) && shape.length > 1) {
                double a = 1 / Math.sqrt(n / shape[1]); // transposed conv (in, out, K)
                return new double[] {-a, a};
            }
            return RandomWeights.fanIn(shape, n);
        });
        DistilCodecImporter.writeConfig(config, dir);
        return dir;
    }
}
