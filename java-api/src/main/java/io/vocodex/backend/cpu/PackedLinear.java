package io.vocodex.backend.cpu;

/**
 * The weight of a bias-free linear layer {@code (out, in)}, packed once at load into the layout
 * {@link TransformerOps#linearRows(CpuContext, float[][], PackedLinear)} streams: panels of
 * {@value #PANEL} consecutive outputs, panel {@code p} row {@code i} holding
 * {@code w[p*PANEL + j][i]} for {@code j < PANEL} as its own array (C2 on Java 17 vectorises a
 * loop over several arrays indexed from 0, but not one over offset slices of one array).
 * Immutable after construction and shared by every stream and thread.
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
    /** {@code [panel][i][j]} = {@code w[panel*PANEL + j][i]}; the last panel may be narrower. */
    final float[][][] panels;

    private PackedLinear(int outFeatures, int inFeatures, float[][][] panels) {
        this.outFeatures = outFeatures;
        this.inFeatures = inFeatures;
        this.panels = panels;
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
        float[][][] panels = new float[n][in][];
        for (int p = 0; p < n; p++) {
            int o0 = p * PANEL;
            int width = Math.min(PANEL, out - o0);
            for (int i = 0; i < in; i++) {
                float[] row = new float[width];
                for (int j = 0; j < width; j++) {
                    row[j] = w[(o0 + j) * in + i];
                }
                panels[p][i] = row;
            }
        }
        return new PackedLinear(out, in, panels);
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
        for (int p = 0; p < panels.length; p++) {
            for (int i = 0; i < inFeatures; i++) {
                float[] row = panels[p][i];
                for (int j = 0; j < row.length; j++) {
                    w[(p * PANEL + j) * inFeatures + i] = row[j];
                }
            }
        }
        return w;
    }
}
