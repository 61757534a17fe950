package io.vocodex.bench;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link CeilingBench#cpu_fma_f32_peak_vectorapi}'s loop: 12 independent accumulator chains of
 * {@code FloatVector.fma} with register operands (enough chains to cover the FMA latency on two
 * ports), i.e. the most a Vector API kernel can issue. Needs {@code --add-modules jdk.incubator.vector}.
 */
final class VectorPeak {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private VectorPeak() {
    }

    static int lanes() {
        return S.length();
    }

    static float run(int steps) {
        FloatVector m = FloatVector.broadcast(S, 0.999999f);
        FloatVector k = FloatVector.broadcast(S, 1e-7f);
        FloatVector a0 = FloatVector.broadcast(S, 0.5f);
        FloatVector a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (int i = 0; i < steps; i++) {
            a0 = a0.fma(m, k);
            a1 = a1.fma(m, k);
            a2 = a2.fma(m, k);
            a3 = a3.fma(m, k);
            a4 = a4.fma(m, k);
            a5 = a5.fma(m, k);
            a6 = a6.fma(m, k);
            a7 = a7.fma(m, k);
            a8 = a8.fma(m, k);
            a9 = a9.fma(m, k);
            a10 = a10.fma(m, k);
            a11 = a11.fma(m, k);
        }
        FloatVector s = a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11);
        return s.reduceLanes(VectorOperators.ADD);
    }
}
