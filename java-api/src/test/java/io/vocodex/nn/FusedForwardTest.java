package io.vocodex.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vocodex.backend.cpu.CpuContext;
import io.vocodex.backend.cpu.CpuOps;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * {@link Sequential#forward} fuses the ELUs beside a conv and a residual block's sum into the conv
 * ({@link CpuOps.ConvEpilogue}, {@link Conv1dLayer#forwardElu}); the result must equal running each
 * module's own forward one after another, bit for bit, on every kernel path (the plain-Java rerun
 * of the build runs this test too), thread count, pad mode and length, the padding edge cases
 * (reflect on an input shorter than its padding) included.
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
