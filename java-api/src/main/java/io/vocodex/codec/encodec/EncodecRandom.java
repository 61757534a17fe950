package io.vocodex.codec.encodec;

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
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Weights probe = Weights.probe(config.norm().equals("weight_norm"));
        new EncodecModel(config, probe);
        SafetensorsWriter w = new SafetensorsWriter().metadata("source", "EncodecRandom seed " + seed);
        SplittableRandom rng = new SplittableRandom(seed);
        for (Map.Entry<String, int[]> e : probe.requested().entrySet()) {
            String name = e.getKey();
            int[] shape = e.getValue();
            int n = 1;
            for (int d : shape) {
                n *= d;
            }
            float[] data = new float[n];
            double lo;
            double hi;
            if (name.endsWith("weight_g")) {
                lo = 0.5;
                hi = 1.5;
            } else if (name.endsWith("._codebook.embed")) {
                lo = -0.25;
                hi = 0.25;
            } else {
                int fanIn = shape.length > 1 ? n / shape[0] : Math.max(1, n);
                if (name.contains("lstm")) {
                    fanIn = shape.length > 1 ? shape[1] : shape[0] / 4; // PyTorch: U(+-1/sqrt(hidden))
                }
                if (name.endsWith("bias") && shape.length == 1) {
                    fanIn = Math.max(1, fanIn * 16);
                }
                double a = 1 / Math.sqrt(fanIn);
                lo = -a;
                hi = a;
            }
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
        var json = config.toJson();
        var out = json.objectNode();
        out.put("architecture", "encodec");
        out.put("format_version", ModelFolder.FORMAT_VERSION);
        out.setAll(json);
        ModelFolder.writeJson(dir.resolve(ModelFolder.CONFIG), out);
        return dir;
    }
}
