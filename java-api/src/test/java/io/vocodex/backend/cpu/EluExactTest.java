package io.vocodex.backend.cpu;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The block-vectorised ELU ({@link CpuOps#eluRow}) is bit-identical to the one-value arithmetic
 * of {@link CpuOps#expm1NonPositive} and the select {@code v > 0 ? v : alpha * expm1(v)}, which
 * the CUDA kernel ports operation for operation.
 */
class EluExactTest {
    static float scalarElu(float v, float alpha) {
        float e = CpuOps.expm1NonPositive(Math.max(Math.min(v, 0f), -87f));
        return v > 0f ? v : alpha * e;
    }

    /** Every {@code stride}-th float bit pattern from {@code start}, in rows of 1000 (so blocks end mid-row). */
    static void sweep(long start, long stride, float alpha) {
        float[] x = new float[1000];
        float[] y = new float[1000];
        CpuOps.EluScratch scratch = new CpuOps.EluScratch();
        for (long bits = start; bits < (1L << 32); ) {
            int n = 0;
            for (; n < x.length && bits < (1L << 32); n++, bits += stride) {
                x[n] = Float.intBitsToFloat((int) bits);
            }
            CpuOps.eluRow(x, y, n, alpha, scratch);
            for (int j = 0; j < n; j++) {
                float want = scalarElu(x[j], alpha);
                boolean same = Float.isNaN(want) ? Float.isNaN(y[j]) : Float.floatToRawIntBits(want) == Float.floatToRawIntBits(y[j]);
                if (!same) {
                    fail("elu(" + x[j] + ") alpha " + alpha + ": " + want + " vs " + y[j]);
                }
            }
        }
    }

    @Test
    void denseSweepOfAllFloats() {
        sweep(0, 61, 1f);
        sweep(5, 997, 0.5f);
    }

    @Test
    void edgeValues() {
        float[] x = {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, -Float.MIN_NORMAL, 1e-30f, -1e-30f,
            -87f, Math.nextUp(-87f), Math.nextDown(-87f), -88f, -1e30f, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY,
            Float.MAX_VALUE, -Float.MAX_VALUE, -0.34657359f, -0.34657362f, -1.0397208f, 3f};
        // short rows take the block path; rows of at least a block the Vector API pass when it is on
        float[] longRow = new float[3 * CpuOps.ELU_BLOCK + 5];
        for (int j = 0; j < longRow.length; j++) {
            longRow[j] = x[j % x.length];
        }
        for (float[] row : new float[][] {x, longRow}) {
            for (float alpha : new float[] {1f, 0.5f, 2f}) {
                float[] y = new float[row.length];
                CpuOps.eluRow(row, y, row.length, alpha, new CpuOps.EluScratch());
                for (int j = 0; j < row.length; j++) {
                    assertEquals(Float.floatToRawIntBits(scalarElu(row[j], alpha)), Float.floatToRawIntBits(y[j]), "elu(" + row[j] + ")");
                }
            }
        }
    }
}
