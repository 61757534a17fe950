package io.vocodex.model;

import io.vocodex.VocodexException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Collections;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A view of a checkpoint's tensors under a name prefix, so that layer constructors read weights
 * by the names of the ORIGINAL module tree: {@code new Conv(cfg, w.prefix("encoder.model.0"))}
 * reads {@code encoder.model.0.conv.conv.weight_v}. Shapes are checked against what the
 * configuration implies, and weight-norm pairs are folded when read. Every tensor read is
 * recorded, so a loader can report tensors the model never used.
 */
public final class Weights {
    private final SafetensorsFile file;
    private final String prefix;
    private final Set<String> used;
    private final List<String> problems; // null: strict (throw at the first problem)
    private final Map<String, int[]> requested; // probe mode only: names and shapes asked for
    private final boolean probeWeightNorm;

    private Weights(SafetensorsFile file, String prefix, Set<String> used, List<String> problems) {
        this(file, prefix, used, problems, null, false);
    }

    private Weights(SafetensorsFile file, String prefix, Set<String> used, List<String> problems,
                    Map<String, int[]> requested, boolean probeWeightNorm) {
        this.file = file;
        this.prefix = prefix;
        this.used = used;
        this.problems = problems;
        this.requested = requested;
        this.probeWeightNorm = probeWeightNorm;
    }

    /**
     * A view over no file that records the name and shape of every tensor a model asks for and
     * returns zeros: how tools list a configuration's checkpoint layout (e.g. to generate random
     * weights for benchmarks). With {@code weightNorm}, folded weights are requested as
     * {@code weight_g}/{@code weight_v} pairs, as the original checkpoints store them.
     */
    public static Weights probe(boolean weightNorm) {
        return new Weights(null, "", ConcurrentHashMap.newKeySet(), null,
                Collections.synchronizedMap(new LinkedHashMap<>()), weightNorm);
    }

    /** Probe mode: the tensors requested so far, in request order. */
    public Map<String, int[]> requested() {
        if (requested == null) {
            throw new IllegalStateException("not a probe");
        }
        synchronized (requested) {
            return new LinkedHashMap<>(requested);
        }
    }

    /** The root view of {@code file}: a missing or misshaped tensor throws at once. */
    public static Weights of(SafetensorsFile file) {
        return new Weights(file, "", ConcurrentHashMap.newKeySet(), null);
    }

    /**
     * A root view that records every missing or misshaped tensor (and returns zeros for it) instead
     * of throwing, so that an importer can report all problems of a checkpoint at once; see
     * {@link #problems()}.
     */
    public static Weights collecting(SafetensorsFile file) {
        return new Weights(file, "", ConcurrentHashMap.newKeySet(), Collections.synchronizedList(new ArrayList<>()));
    }

    /** The view under {@code name} (joined with a dot). */
    public Weights prefix(String name) {
        return new Weights(file, full(name), used, problems, requested, probeWeightNorm);
    }

    /** Problems recorded by a {@link #collecting} view (empty for a strict one). */
    public List<String> problems() {
        return problems == null ? List.of() : List.copyOf(problems);
    }

    private float[] problem(String message, int[] shape) {
        if (problems == null) {
            throw new VocodexException(file.path() + ": " + message);
        }
        problems.add(message);
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        return new float[n];
    }

    public String full(String name) {
        return prefix.isEmpty() ? name : prefix + "." + name;
    }

    public boolean contains(String name) {
        if (requested != null) {
            return name.equals("weight") ? !probeWeightNorm : name.equals("weight_g");
        }
        return file.contains(full(name));
    }

    /** Tensor {@code name} as float32, checked to have exactly {@code shape}. */
    public float[] floats(String name, int... shape) {
        String f = full(name);
        if (requested != null) {
            requested.put(f, shape.clone());
            int n = 1;
            for (int d : shape) {
                n *= d;
            }
            return new float[n];
        }
        if (!file.contains(f)) {
            return problem("missing tensor '" + f + "' (expected shape " + Arrays.toString(shape) + ")", shape);
        }
        TensorInfo t = file.info(f);
        used.add(f);
        if (!Arrays.equals(t.intShape(), shape)) {
            return problem("tensor '" + f + "' has shape " + t.shapeString()
                    + ", the configuration implies " + Arrays.toString(shape), shape);
        }
        return file.floats(f);
    }

    /** Marks {@code name} as known (read or deliberately ignored, e.g. training statistics). */
    public void markUsed(String name) {
        used.add(full(name));
    }

    /**
     * The effective weight of a possibly weight-normalised module at this prefix:
     * {@code weight} if present, else {@code g * v / ||v||} from {@code weight_g}/{@code weight_v}
     * (or the {@code parametrizations.weight.original0/1} of newer PyTorch), where the norm runs
     * over every dimension except {@code normDim} (0 for conv weights, PyTorch's default, which for a
     * transposed conv {@code (Cin, Cout, K)} means per INPUT channel).
     */
    public float[] foldedWeight(int[] shape) {
        if (contains("weight")) {
            return floats("weight", shape);
        }
        String gName;
        String vName;
        if (contains("weight_g")) {
            gName = "weight_g";
            vName = "weight_v";
        } else if (contains("parametrizations.weight.original0")) {
            gName = "parametrizations.weight.original0";
            vName = "parametrizations.weight.original1";
        } else {
            return problem("missing tensor '" + full("weight") + "' (or its weight-norm pair '"
                    + full("weight_g") + "'/'" + full("weight_v") + "'), expected shape " + Arrays.toString(shape), shape);
        }
        int[] gShape = new int[shape.length];
        Arrays.fill(gShape, 1);
        gShape[0] = shape[0];
        float[] g = floats(gName, gShape);
        float[] v = floats(vName, shape);
        int rows = shape[0];
        int per = v.length / rows;
        float[] w = new float[v.length];
        for (int r = 0; r < rows; r++) {
            double ss = 0;
            for (int i = 0; i < per; i++) {
                double x = v[r * per + i];
                ss += x * x;
            }
            // PyTorch computes the norm in float32; the float64 norm differs from it by < 1 ulp, far
            // below the 1e-4 parity budget, and is the better-conditioned choice.
            float scale = (float) (g[r] / Math.sqrt(ss));
            for (int i = 0; i < per; i++) {
                w[r * per + i] = v[r * per + i] * scale;
            }
        }
        return w;
    }

    /** Names in the file that were never read nor marked: the "extra tensors" of a load. */
    public Set<String> unused() {
        if (file == null) {
            return Set.of();
        }
        Set<String> s = new TreeSet<>(file.tensors().keySet());
        s.removeAll(used);
        return Collections.unmodifiableSet(s);
    }

    public SafetensorsFile file() {
        return file;
    }
}
