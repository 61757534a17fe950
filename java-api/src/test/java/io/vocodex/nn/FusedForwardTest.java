package io.vocodex.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vocodex.backend.cpu.CpuContext;
import io.vocodex.backend.cpu.CpuOps;
import io.vocodex.backend.cpu.FusedResidual;
import io.vocodex.backend.cpu.Simd;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * {@link Sequential#forward} fuses the ELUs beside a conv and a residual block's sum into the conv
 * ({@link CpuOps.ConvEpilogue}, {@link Conv1dLayer#forwardElu}); the result must equal running each
 * module's own forward one after another, bit for bit, on every kernel path (the plain-Java rerun
 * of the build runs this test too), thread count, pad mode and length, the padding edge cases
 * (reflect on an input shorter than its padding) included. On long inputs a residual block runs as
 * one pass over time tiles ({@link FusedResidual}), its output ELU and the next conv's padding
 * included.
 */
class FusedForwardTest {
    private static final float ALPHA = 1f;

    @Test
    void residualBlocksAndEluConvChainsEqualTheirModulesOneByOne() {
        Random r = new Random(2024);
        int[] lengths = {1, 2, 3, 7, 31, 64, 100, 517, 3001};
        for (PadMode mode : PadMode.values()) {
            for (boolean causal : new boolean[] {true, false}) {
                for (boolean trueSkip : new boolean[] {true, false}) {
                    int channels = 8 + r.nextInt(9);
                    ResidualBlock block = residualBlock(r, channels, 3, 1 + r.nextInt(3), causal, mode, trueSkip);
                    Conv1dLayer down = conv(r, channels, 2 * channels, 8, 4, 1, causal, mode);
                    Sequential seanet = new Sequential(List.of(
                            conv(r, 1, channels, 7, 1, 1, causal, mode), block, new EluLayer(channels, ALPHA), down,
                            new EluLayer(2 * channels, ALPHA), conv(r, 2 * channels, 3, 3, 1, 1, causal, mode)));
                    for (int len : lengths) {
                        float[][] x = noise(r, 1, len);
                        for (int threads = 1; threads <= 2; threads++) {
                            try (CpuContext ctx = new CpuContext(threads)) {
                                String where = mode + (causal ? " causal" : " non-causal") + (trueSkip ? " true_skip" : " conv skip")
                                        + ", length " + len + ", " + threads + " thread(s)";
                                assertSame(oneByOne(ctx, seanet, x), seanet.forward(ctx, x), where);
                                float[][] h = noise(r, channels, len);
                                assertSame(oneByOne(ctx, block, h), block.forward(ctx, h), "residual block, " + where);
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * Inputs long enough for {@link FusedResidual} on every thread count: the fused block (identity or
     * 1x1 shortcut, kernels 3 and 7, dilations 1-3, every pad mode), followed by an ELU and a strided
     * conv, by an ELU and a transposed conv, or by an ELU alone, equals the modules one by one.
     */
    @Test
    void longInputsRunTheResidualBlockFusedWithTheSameBits() {
        Random r = new Random(99);
        int[] widths = {64, 24, 40, 128};
        int round = 0;
        for (PadMode mode : PadMode.values()) {
            for (boolean causal : new boolean[] {true, false}) {
                for (boolean trueSkip : new boolean[] {true, false}) {
                    int channels = widths[round++ % widths.length];
                    int kernel = r.nextBoolean() ? 3 : 7;
                    ResidualBlock block = residualBlock(r, channels, kernel, 1 + r.nextInt(3), causal, mode, trueSkip);
                    ConvTranspose1dLayer up = new ConvTranspose1dLayer(channels, 8, 4, 2, 1, causal, 1.0,
                            gaussianWeights(r, channels * 8 * 4, 0.2), null);
                    List<Sequential> chains = List.of(
                            new Sequential(List.of(block, new EluLayer(channels, ALPHA), conv(r, channels, 16, 8, 4, 1, causal, mode))),
                            new Sequential(List.of(block, new EluLayer(channels, ALPHA), up)),
                            new Sequential(List.of(block, new EluLayer(channels, ALPHA))));
                    for (int len : new int[] {6 * 1024 + 37, 9000}) {
                        float[][] x = noise(r, channels, len);
                        x[r.nextInt(channels)][len - 1] = Float.NaN;
                        x[r.nextInt(channels)][0] = -0f;
                        for (int threads = 1; threads <= 3; threads++) {
                            try (CpuContext ctx = new CpuContext(threads)) {
                                assertEquals(Simd.enabled(), FusedResidual.suits(ctx, channels, channels / 2, len), "fused path taken");
                                String where = mode + (causal ? " causal" : " non-causal") + (trueSkip ? " true_skip" : " conv skip")
                                        + ", " + channels + " channels, k" + kernel + ", length " + len + ", " + threads + " thread(s)";
                                assertSame(oneByOne(ctx, block, x), block.forward(ctx, x), "residual block, " + where);
                                for (int c = 0; c < chains.size(); c++) {
                                    assertSame(oneByOne(ctx, chains.get(c), x), chains.get(c).forward(ctx, x), "chain " + c + ", " + where);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /** Wide, short convs take the few-frames kernel: its epilogue runs over the whole output. */
    @Test
    void wideShortConvsFuseTheirEluToo() {
        Random r = new Random(7);
        Sequential s = new Sequential(List.of(new EluLayer(64, ALPHA), conv(r, 64, 512, 4, 2, 1, true, PadMode.CONSTANT),
                new EluLayer(512, ALPHA), conv(r, 512, 16, 3, 1, 1, true, PadMode.CONSTANT)));
        assertTrue(CpuOps.prefersPackedConv(20, 512, 64, 4)); // length 40 gives 20 columns
        try (CpuContext ctx = new CpuContext(2)) {
            for (int len : new int[] {9, 40, 120, 400}) {
                float[][] x = noise(r, 64, len);
                assertSame(oneByOne(ctx, s, x), s.forward(ctx, x), "length " + len);
            }
        }
    }

    /** The reference: each module's own (unfused) forward, and the residual sum as a separate op. */
    private static float[][] oneByOne(CpuContext ctx, StreamingModule m, float[][] x) {
        if (m instanceof Sequential seq) {
            float[][] y = x;
            for (StreamingModule child : seq.modules()) {
                y = oneByOne(ctx, child, y);
            }
            return y;
        }
        if (m instanceof ResidualBlock rb) {
            float[][] b = oneByOne(ctx, rb.block(), x);
            float[][] s = rb.shortcut() == null ? x : oneByOne(ctx, rb.shortcut(), x);
            return CpuOps.add(s, b);
        }
        return m.forward(ctx, x);
    }

    private static ResidualBlock residualBlock(Random r, int dim, int kernel, int dilation, boolean causal, PadMode mode,
                                               boolean trueSkip) {
        int hidden = dim / 2;
        List<StreamingModule> block = new ArrayList<>();
        block.add(new EluLayer(dim, ALPHA));
        block.add(conv(r, dim, hidden, kernel, 1, dilation, causal, mode));
        block.add(new EluLayer(hidden, ALPHA));
        block.add(conv(r, hidden, dim, 1, 1, 1, causal, mode));
        return new ResidualBlock(new Sequential(block), trueSkip ? null : conv(r, dim, dim, 1, 1, 1, causal, mode));
    }

    private static Conv1dLayer conv(Random r, int cin, int cout, int k, int stride, int dilation, boolean causal, PadMode mode) {
        float[] w = new float[cout * cin * k];
        double scale = 1.5 / Math.sqrt(cin * k);
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (r.nextGaussian() * scale);
        }
        float[] b = new float[cout];
        for (int i = 0; i < cout; i++) {
            b[i] = (float) (0.3 * r.nextGaussian());
        }
        return new Conv1dLayer(cin, cout, k, stride, dilation, 1, causal, mode, w, b);
    }

    private static float[] gaussianWeights(Random r, int n, double scale) {
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            w[i] = (float) (r.nextGaussian() * scale);
        }
        return w;
    }

    private static float[][] noise(Random r, int c, int t) {
        float[][] x = new float[c][t];
        for (float[] row : x) {
            for (int i = 0; i < t; i++) {
                row[i] = (float) r.nextGaussian();
            }
        }
        return x;
    }

    private static void assertSame(float[][] want, float[][] got, String where) {
        assertEquals(want.length, got.length, "channels, " + where);
        for (int c = 0; c < want.length; c++) {
            assertArrayEquals(want[c], got[c], "channel " + c + ", " + where);
        }
    }
}
