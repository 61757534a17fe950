package io.vocodex.backend.cpu;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The channel-vectorised few-frames conv is bit-identical to CpuOps.conv1d (the arithmetic contract). */
class FewFramesConvTest {
    @Test
    void packedKernelOnWideShortLayersIsBitIdenticalToConv1d() {
        Random r = new Random(6);
        try (CpuContext ctx = new CpuContext(2)) {
            int[][] shapes = {{24, 300, 4, 2, 1, 70}, {8, 513, 3, 1, 2, 200}, {16, 256, 7, 1, 1, 256}};
            for (int[] sh : shapes) {
                int cin = sh[0];
                int cout = sh[1];
                int k = sh[2];
                int s = sh[3];
                int d = sh[4];
                int tout = sh[5];
                int tin = (tout - 1) * s + (k - 1) * d + 1;
                float[][] x = new float[cin][tin];
                for (float[] row : x) {
                    for (int i = 0; i < tin; i++) {
                        row[i] = (float) r.nextGaussian();
                    }
                }
                float[] w = new float[cout * cin * k];
                for (int i = 0; i < w.length; i++) {
                    w[i] = (float) r.nextGaussian();
                }
                float[] bias = new float[cout];
                for (int i = 0; i < cout; i++) {
                    bias[i] = (float) r.nextGaussian();
                }
                float[][] want = CpuOps.conv1d(ctx, x, tin, w, bias, cout, k, s, d, 1);
                float[][] got = CpuOps.conv1dFewFrames(ctx, x, tin, PackedLinear.pack(w, cout, cin * k), bias, k, s, d);
                for (int co = 0; co < cout; co++) {
                    assertEquals(tout, got[co].length);
                    for (int t = 0; t < tout; t++) {
                        assertEquals(Float.floatToRawIntBits(want[co][t]), Float.floatToRawIntBits(got[co][t]),
                                cout + " outputs, " + tout + " columns: co " + co + " t " + t);
                    }
                }
            }
        }
    }

    @Test
    void bitIdenticalToConv1d() {
        Random r = new Random(5);
        try (CpuContext ctx = new CpuContext(2)) {
            for (int trial = 0; trial < 200; trial++) {
                int cin = 1 + r.nextInt(40);
                int cout = 1 + r.nextInt(70);
                int k = 1 + r.nextInt(16);
                int s = 1 + r.nextInt(8);
                int d = 1 + r.nextInt(3);
                int span = (k - 1) * d + 1;
                int tin = span + r.nextInt(CpuOps.FEW_FRAMES * s + 1);
                float[][] x = new float[cin][tin + r.nextInt(5)];
                for (float[] row : x) {
                    for (int i = 0; i < row.length; i++) {
                        row[i] = (float) r.nextGaussian();
                    }
                }
                float[] w = new float[cout * cin * k];
                for (int i = 0; i < w.length; i++) {
                    w[i] = (float) r.nextGaussian();
                }
                float[] bias = r.nextBoolean() ? null : new float[cout];
                if (bias != null) {
                    for (int i = 0; i < cout; i++) {
                        bias[i] = (float) r.nextGaussian();
                    }
                }
                float[][] want = CpuOps.conv1d(ctx, x, tin, w, bias, cout, k, s, d, 1);
                float[][] got = CpuOps.conv1dFewFrames(x, tin, CpuOps.transposeConvWeight(w, cout, cin, k), bias, cout, k, s, d);
                float[][] packed = CpuOps.conv1dFewFrames(ctx, x, tin, PackedLinear.pack(w, cout, cin * k), bias, k, s, d);
                for (int co = 0; co < cout; co++) {
                    assertEquals(want[co].length, got[co].length);
                    assertEquals(want[co].length, packed[co].length);
                    for (int t = 0; t < want[co].length; t++) {
                        assertEquals(Float.floatToRawIntBits(want[co][t]), Float.floatToRawIntBits(got[co][t]),
                                "trial " + trial + " co " + co + " t " + t + ": " + want[co][t] + " vs " + got[co][t]);
                        assertEquals(Float.floatToRawIntBits(want[co][t]), Float.floatToRawIntBits(packed[co][t]),
                                "packed: trial " + trial + " co " + co + " t " + t);
                    }
                }
            }
        }
    }
}
