package io.vocodex.backend.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The float64 loops of {@link TransformerOps#attendHeadQueries} when {@link Simd#enabled()}: the
 * scores, their scaling and maximum, the softmax weights and the weighted sum of values. Each lane
 * performs exactly the plain loop's operations on one element, in the same order (a multiply, then
 * an add, never a fused multiply-add), so the results are bit-identical to the plain-Java path:
 * <ul>
 *   <li>score of slot {@code s}: {@code dot = 0; for d ascending: dot = dot + q[d] * k[d][s]}, with
 *       lanes across slots and up to four queries sharing every loaded key vector, the sums held
 *       in registers over all {@code d};</li>
 *   <li>scaling {@code s * scale} lane by lane; the maximum is a lanewise {@code Math.max} then a
 *       reduction, and a maximum does not depend on the order it is taken in;</li>
 *   <li>weights {@code e / sum} lane by lane;</li>
 *   <li>{@code acc[d] = acc[d] + w[s] * v[s][d]} for keys {@code s} ascending, lanes across
 *       {@code d}, the accumulators of up to four vectors held in registers over the keys.</li>
 * </ul>
 *
 * <p>Only {@link TransformerOps} touches this class: it links against {@code jdk.incubator.vector},
 * which is resolved only when the JVM runs with {@code --add-modules jdk.incubator.vector}.
 */
final class VectorAttention {
    private static final VectorSpecies<Double> S = DoubleVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private VectorAttention() {
    }

    /**
     * {@code scores[i][s] = sum over d ascending of qd[i][d] * keys[k0 + d][s]} (starting from 0)
     * for every query {@code i < qd.length} and slot {@code s} in {@code [from, to)}.
     */
    static void scores(double[][] qd, double[][] keys, int k0, int from, int to, double[][] scores) {
        int m = qd.length;
        if (m < 4) {
            scoresFewQueries(qd, keys, k0, from, to, scores);
            return;
        }
        int s = from;
        for (; s + 2 * L <= to; s += 2 * L) {
            int i = 0;
            for (; i + 4 <= m; i += 4) {
                scores4x2(qd, i, keys, k0, s, scores);
            }
            for (; i < m; i++) {
                scores1x2(qd[i], keys, k0, s, scores[i]);
            }
        }
        for (; s + L <= to; s += L) {
            for (int i = 0; i < m; i++) {
                scores1x1(qd[i], keys, k0, s, scores[i]);
            }
        }
        for (; s < to; s++) {
            for (int i = 0; i < m; i++) {
                double[] q = qd[i];
                double dot = 0;
                for (int d = 0; d < q.length; d++) {
                    dot += q[d] * keys[k0 + d][s];
                }
                scores[i][s] = dot;
            }
        }
    }

    /**
     * {@link #scores} for one to three queries (a streaming step's rows): pairs of queries over four
     * vectors of slots, so that eight independent sums hide the adds' latency (a single query over
     * two vectors waits on its two add chains). Every sum is the same chain as in {@link #scores}.
     */
    private static void scoresFewQueries(double[][] qd, double[][] keys, int k0, int from, int to, double[][] scores) {
        int m = qd.length;
        int s = from;
        for (; s + 4 * L <= to; s += 4 * L) {
            int i = 0;
            for (; i + 2 <= m; i += 2) {
                scores2x4(qd[i], qd[i + 1], keys, k0, s, scores[i], scores[i + 1]);
            }
            if (i < m) {
                scores1x4(qd[i], keys, k0, s, scores[i]);
            }
        }
        for (; s + L <= to; s += L) {
            for (int i = 0; i < m; i++) {
                scores1x1(qd[i], keys, k0, s, scores[i]);
            }
        }
        for (; s < to; s++) {
            for (int i = 0; i < m; i++) {
                double[] q = qd[i];
                double dot = 0;
                for (int d = 0; d < q.length; d++) {
                    dot += q[d] * keys[k0 + d][s];
                }
                scores[i][s] = dot;
            }
        }
    }

    /** Queries {@code q0, q1}, slots {@code s .. s+4L-1}: eight vector sums in registers. */
    private static void scores2x4(double[] q0, double[] q1, double[][] keys, int k0, int s, double[] out0, double[] out1) {
        DoubleVector a00 = DoubleVector.broadcast(S, 0.0);
        DoubleVector a01 = a00;
        DoubleVector a02 = a00;
        DoubleVector a03 = a00;
        DoubleVector a10 = a00;
        DoubleVector a11 = a00;
        DoubleVector a12 = a00;
        DoubleVector a13 = a00;
        for (int d = 0; d < q0.length; d++) {
            double[] kr = keys[k0 + d];
            DoubleVector x0 = DoubleVector.fromArray(S, kr, s);
            DoubleVector x1 = DoubleVector.fromArray(S, kr, s + L);
            DoubleVector x2 = DoubleVector.fromArray(S, kr, s + 2 * L);
            DoubleVector x3 = DoubleVector.fromArray(S, kr, s + 3 * L);
            DoubleVector b0 = DoubleVector.broadcast(S, q0[d]);
            a00 = x0.mul(b0).add(a00);
            a01 = x1.mul(b0).add(a01);
            a02 = x2.mul(b0).add(a02);
            a03 = x3.mul(b0).add(a03);
            DoubleVector b1 = DoubleVector.broadcast(S, q1[d]);
            a10 = x0.mul(b1).add(a10);
            a11 = x1.mul(b1).add(a11);
            a12 = x2.mul(b1).add(a12);
            a13 = x3.mul(b1).add(a13);
        }
        a00.intoArray(out0, s);
        a01.intoArray(out0, s + L);
        a02.intoArray(out0, s + 2 * L);
        a03.intoArray(out0, s + 3 * L);
        a10.intoArray(out1, s);
        a11.intoArray(out1, s + L);
        a12.intoArray(out1, s + 2 * L);
        a13.intoArray(out1, s + 3 * L);
    }

    /** Query {@code q}, slots {@code s .. s+4L-1}: four vector sums in registers. */
    private static void scores1x4(double[] q, double[][] keys, int k0, int s, double[] out) {
        DoubleVector a0 = DoubleVector.broadcast(S, 0.0);
        DoubleVector a1 = a0;
        DoubleVector a2 = a0;
        DoubleVector a3 = a0;
        for (int d = 0; d < q.length; d++) {
            double[] kr = keys[k0 + d];
            DoubleVector b = DoubleVector.broadcast(S, q[d]);
            a0 = DoubleVector.fromArray(S, kr, s).mul(b).add(a0);
            a1 = DoubleVector.fromArray(S, kr, s + L).mul(b).add(a1);
            a2 = DoubleVector.fromArray(S, kr, s + 2 * L).mul(b).add(a2);
            a3 = DoubleVector.fromArray(S, kr, s + 3 * L).mul(b).add(a3);
        }
        a0.intoArray(out, s);
        a1.intoArray(out, s + L);
        a2.intoArray(out, s + 2 * L);
        a3.intoArray(out, s + 3 * L);
    }

    /** Queries {@code i .. i+3}, slots {@code s .. s+2L-1}: eight vector sums in registers. */
    private static void scores4x2(double[][] qd, int i, double[][] keys, int k0, int s, double[][] scores) {
        double[] q0 = qd[i];
        double[] q1 = qd[i + 1];
        double[] q2 = qd[i + 2];
        double[] q3 = qd[i + 3];
        DoubleVector a00 = DoubleVector.broadcast(S, 0.0);
        DoubleVector a01 = a00;
        DoubleVector a10 = a00;
        DoubleVector a11 = a00;
        DoubleVector a20 = a00;
        DoubleVector a21 = a00;
        DoubleVector a30 = a00;
        DoubleVector a31 = a00;
        for (int d = 0; d < q0.length; d++) {
            double[] kr = keys[k0 + d];
            DoubleVector x0 = DoubleVector.fromArray(S, kr, s);
            DoubleVector x1 = DoubleVector.fromArray(S, kr, s + L);
            DoubleVector b0 = DoubleVector.broadcast(S, q0[d]);
            a00 = x0.mul(b0).add(a00);
            a01 = x1.mul(b0).add(a01);
            DoubleVector b1 = DoubleVector.broadcast(S, q1[d]);
            a10 = x0.mul(b1).add(a10);
            a11 = x1.mul(b1).add(a11);
            DoubleVector b2 = DoubleVector.broadcast(S, q2[d]);
            a20 = x0.mul(b2).add(a20);
            a21 = x1.mul(b2).add(a21);
            DoubleVector b3 = DoubleVector.broadcast(S, q3[d]);
            a30 = x0.mul(b3).add(a30);
            a31 = x1.mul(b3).add(a31);
        }
        a00.intoArray(scores[i], s);
        a01.intoArray(scores[i], s + L);
        a10.intoArray(scores[i + 1], s);
        a11.intoArray(scores[i + 1], s + L);
        a20.intoArray(scores[i + 2], s);
        a21.intoArray(scores[i + 2], s + L);
        a30.intoArray(scores[i + 3], s);
        a31.intoArray(scores[i + 3], s + L);
    }

    private static void scores1x2(double[] q, double[][] keys, int k0, int s, double[] out) {
        DoubleVector a0 = DoubleVector.broadcast(S, 0.0);
        DoubleVector a1 = a0;
        for (int d = 0; d < q.length; d++) {
            double[] kr = keys[k0 + d];
            DoubleVector b = DoubleVector.broadcast(S, q[d]);
            a0 = DoubleVector.fromArray(S, kr, s).mul(b).add(a0);
            a1 = DoubleVector.fromArray(S, kr, s + L).mul(b).add(a1);
        }
        a0.intoArray(out, s);
        a1.intoArray(out, s + L);
    }

    private static void scores1x1(double[] q, double[][] keys, int k0, int s, double[] out) {
        DoubleVector a = DoubleVector.broadcast(S, 0.0);
        for (int d = 0; d < q.length; d++) {
            a = DoubleVector.fromArray(S, keys[k0 + d], s).mul(DoubleVector.broadcast(S, q[d])).add(a);
        }
        a.intoArray(out, s);
    }

    /** {@code sc[s] = sc[s] * scale} for {@code s} in {@code [from, to)}; returns the max of {@code max} and those. */
    static double scaleAndMax(double[] sc, int from, int to, double scale, double max) {
        int s = from;
        if (s + L <= to) {
            DoubleVector vmax = DoubleVector.broadcast(S, max);
            for (; s + L <= to; s += L) {
                DoubleVector x = DoubleVector.fromArray(S, sc, s).mul(scale);
                x.intoArray(sc, s);
                vmax = x.max(vmax); // the fresh vector as receiver: see VectorVq.block2
            }
            max = Math.max(max, vmax.reduceLanes(VectorOperators.MAX));
        }
        for (; s < to; s++) {
            sc[s] = sc[s] * scale;
            max = Math.max(max, sc[s]);
        }
        return max;
    }

    /** {@code sc[s] = sc[s] / sum} for {@code s} in {@code [from, to)}. */
    static void divide(double[] sc, int from, int to, double sum) {
        int s = from;
        for (; s + L <= to; s += L) {
            DoubleVector.fromArray(S, sc, s).div(sum).intoArray(sc, s);
        }
        for (; s < to; s++) {
            sc[s] = sc[s] / sum;
        }
    }

    /**
     * {@code acc[d] = acc[d] + w[s] * values[s][d]} for {@code d < headDim} and slots {@code s} in
     * {@code [from, to)} ascending: four vectors of {@code d} at a time stay in registers over all keys.
     */
    static void accumulate(double[] w, double[][] values, int from, int to, double[] acc, int headDim) {
        if (from >= to) {
            return;
        }
        int d = 0;
        for (; d + 4 * L <= headDim; d += 4 * L) {
            DoubleVector a0 = DoubleVector.fromArray(S, acc, d);
            DoubleVector a1 = DoubleVector.fromArray(S, acc, d + L);
            DoubleVector a2 = DoubleVector.fromArray(S, acc, d + 2 * L);
            DoubleVector a3 = DoubleVector.fromArray(S, acc, d + 3 * L);
            for (int s = from; s < to; s++) {
                double[] vr = values[s];
                DoubleVector p = DoubleVector.broadcast(S, w[s]);
                a0 = DoubleVector.fromArray(S, vr, d).mul(p).add(a0);
                a1 = DoubleVector.fromArray(S, vr, d + L).mul(p).add(a1);
                a2 = DoubleVector.fromArray(S, vr, d + 2 * L).mul(p).add(a2);
                a3 = DoubleVector.fromArray(S, vr, d + 3 * L).mul(p).add(a3);
            }
            a0.intoArray(acc, d);
            a1.intoArray(acc, d + L);
            a2.intoArray(acc, d + 2 * L);
            a3.intoArray(acc, d + 3 * L);
        }
        for (; d + L <= headDim; d += L) {
            DoubleVector a = DoubleVector.fromArray(S, acc, d);
            for (int s = from; s < to; s++) {
                a = DoubleVector.fromArray(S, values[s], d).mul(w[s]).add(a);
            }
            a.intoArray(acc, d);
        }
        for (; d < headDim; d++) {
            double a = acc[d];
            for (int s = from; s < to; s++) {
                a += w[s] * values[s][d];
            }
            acc[d] = a;
        }
    }
}
