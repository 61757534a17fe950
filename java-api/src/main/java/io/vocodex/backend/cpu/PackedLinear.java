package io.vocodex.backend.cpu;

/**
 * The weight of a bias-free linear layer {@code (out, in)}, packed once at load into the layout
 * {@link TransformerOps#linearRows(CpuContext, float[][], PackedLinear)} streams: panels of
 * {@value #PANEL} consecutive outputs, panel {@code p} row {@code i} holding
 * {@code w[p*PANEL + j][i]} for {@code j < PANEL}. With the Vector API ({@link Simd#enabled()})
 * each panel is one array, row after row ({@link #flat}): a streaming step reads its weights from
 * memory once per step, and one contiguous panel streams about twice as fast as a panel of
 * separate row arrays. Without it each row is its own array ({@link #rows}; C2 on Java 17
 * vectorises a loop over several arrays indexed from 0, but not one over offset slices of one
 * array). Only one of the two is built. Immutable after construction and shared by every stream
 * and thread.
 *
 * <pre>{@code
 * PackedLinear w = PackedLinear.pack(weight, 2048, 512); // nn.Linear(512, 2048).weight, row-major
 * float[][] y = TransformerOps.linearRows(ctx, x, w);     // x [T][512] -> y [T][2048]
 * }</pre>
 */
public final class PackedLinear {
    /** Outputs per panel: wide enough to vectorise well, narrow enough to split over threads. */
    static final int PANEL = 256;

    private final int outFeatures;
    private final int inFeatures;
    /** {@code [panel][i][j]} = {@code w[panel*PANEL + j][i]}; the last panel may be narrower. Null with the Vector API. */
    final float[][][] rows;
    /** {@code [panel][i*width + j]}, {@code width} the panel's width; null without the Vector API. */
    final float[][] flat;

    private PackedLinear(int outFeatures, int inFeatures, float[][][] rows, float[][] flat) {
        this.outFeatures = outFeatures;
        this.inFeatures = inFeatures;
        this.rows = rows;
        this.flat = flat;
    }

    /** Number of panels. */
    int panelCount() {
        return (outFeatures + PANEL - 1) / PANEL;
    }

    /** Width of panel {@code p}: {@value #PANEL}, or less for the last one. */
    int panelWidth(int p) {
        return Math.min(PANEL, outFeatures - p * PANEL);
    }

    /**
     * Packs a row-major {@code (out, in)} weight (PyTorch's {@code nn.Linear.weight}).
     *
     * @throws IllegalArgumentException when {@code w} does not hold {@code out * in} values
     */
    public static PackedLinear pack(float[] w, int out, int in) {
        if (w.length != (long) out * in) {
            throw new IllegalArgumentException("linear weight has " + w.length + " values, expected " + out + " x " + in);
        }
        int n = (out + PANEL - 1) / PANEL;
        boolean flat = Simd.enabled();
        float[][][] rows = flat ? null : new float[n][in][];
        float[][] panels = flat ? new float[n][] : null;
        for (int p = 0; p < n; p++) {
            int o0 = p * PANEL;
            int width = Math.min(PANEL, out - o0);
            if (flat) {
                panels[p] = new float[in * width];
            }
            for (int i = 0; i < in; i++) {
                float[] row = flat ? panels[p] : new float[width];
                int r0 = flat ? i * width : 0;
                for (int j = 0; j < width; j++) {
                    row[r0 + j] = w[(o0 + j) * in + i];
                }
                if (!flat) {
                    rows[p][i] = row;
                }
            }
        }
        return new PackedLinear(out, in, rows, panels);
    }

    public int outFeatures() {
        return outFeatures;
    }

    public int inFeatures() {
        return inFeatures;
    }

    /** The weight back in row-major {@code (out, in)} (a copy; for tools and device uploads). */
    public float[] unpack() {
        float[] w = new float[outFeatures * inFeatures];
        for (int p = 0; p < panelCount(); p++) {
            int width = panelWidth(p);
            for (int i = 0; i < inFeatures; i++) {
                for (int j = 0; j < width; j++) {
                    float v = flat != null ? flat[p][i * width + j] : rows[p][i][j];
                    w[(p * PANEL + j) * inFeatures + i] = v;
                }
            }
        }
        return w;
    }
}
