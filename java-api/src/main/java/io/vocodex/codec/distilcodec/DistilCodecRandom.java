package io.vocodex.codec.distilcodec;

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

    public static Path writeModelFolder(DistilCodecConfig config, long seed, Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Weights probe = Weights.probe(true);
        new DistilCodecModel(config, probe);
        SafetensorsWriter w = new SafetensorsWriter().metadata("source", "DistilCodecRandom seed " + seed);
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
            boolean norm = name.endsWith("norm.weight") || name.matches(".*downsample_layers\\.\\d+\\.(0\\.weight|1\\.weight)")
                    && shape.length == 1;
            if (name.endsWith("weight_g")) {
                lo = 0.5;
                hi = 1.5;
            } else if (name.endsWith("._codebook.embed")) {
                lo = -0.5;
                hi = 0.5;
            } else if (name.endsWith("gamma")) {
                lo = 0.1;
                hi = 0.5;
            } else if (norm) {
                lo = 0.9;
                hi = 1.1;
            } else if (name.endsWith("bias")) {
                lo = -0.02;
                hi = 0.02;
            } else {
                int fanIn = shape.length > 1 ? n / shape[0] : Math.max(1, n);
                if (name.contains(".ups.") || name.contains("upsample.")) {
                    fanIn = shape.length > 1 ? n / shape[1] : fanIn; // transposed conv (in, out, K)
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
        DistilCodecImporter.writeConfig(config, dir);
        return dir;
    }
}
