#!/usr/bin/python3
"""Coefficients of VectorGelu's erf polynomial: erf(z) ~ z * P(z^2 - CENTER) for |z| < sqrt(T).

Usage:
    /usr/bin/python3 scripts/fit_erf_polynomial.py [--range 9] [--degree 24]

f(t) = erf(sqrt t) / sqrt t is entire in t, so its Chebyshev interpolant on [0, T] converges fast.
The interpolant at the Chebyshev nodes is computed with mpmath at 60 digits, converted (still at
60 digits) to monomials in s = t - T/2, and each coefficient is rounded to the nearest double.
The script then evaluates z * P(z^2 - T/2) in float64 Horner steps (a multiply and an add, one
rounding more than the fma the Java kernel uses) at 20000 points of [0, sqrt T) and prints the
largest distance to mpmath's erf, and the Java array to paste into VectorGelu.

The Java side does not trust this number: GeluShortcutTest measures the distance of the
polynomial to each exact erf the GELUs use, and the bounds VectorGelu states carry a margin over it.
"""

import argparse

import mpmath as mp
import numpy as np


def ratio(t):
    if t == 0:
        return 2 / mp.sqrt(mp.pi)
    r = mp.sqrt(t)
    return mp.erf(r) / r


def fit(upper, degree):
    """Monomial coefficients (float) in s = t - upper/2 of the Chebyshev interpolant of `ratio`."""
    n = degree + 1
    center = mp.mpf(upper) / 2
    half = mp.mpf(upper) / 2
    angles = [mp.pi * (k + mp.mpf(1) / 2) / n for k in range(n)]
    values = [ratio(center + half * mp.cos(a)) for a in angles]
    cheb = [2 * mp.fsum(values[k] * mp.cos(j * angles[k]) for k in range(n)) / n for j in range(n)]
    cheb[0] /= 2
    # T_j as monomials in x = s / half, by the recurrence T_j = 2x T_(j-1) - T_(j-2)
    basis = [[mp.mpf(1)], [mp.mpf(0), mp.mpf(1)]]
    for j in range(2, n):
        p = [mp.mpf(0)] + [2 * v for v in basis[j - 1]]
        for i, v in enumerate(basis[j - 2]):
            p[i] -= v
        basis.append(p)
    mono = [mp.mpf(0)] * n
    for j in range(n):
        for i, v in enumerate(basis[j]):
            mono[i] += cheb[j] * v
    return float(center), [float(mono[i] / half ** i) for i in range(n)]


def evaluate(center, coef, z):
    s = z * z - center
    p = np.full_like(z, coef[-1])
    for c in reversed(coef[:-1]):
        p = p * s + c
    return z * p


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--range", type=float, default=9.0, help="T: the fit covers z^2 in [0, T]")
    ap.add_argument("--degree", type=int, default=24)
    args = ap.parse_args()
    mp.mp.dps = 60
    center, coef = fit(args.range, args.degree)
    zs = np.linspace(0, np.sqrt(args.range), 20001)[:-1]
    approx = evaluate(center, coef, zs)
    err = max(abs(float(mp.erf(mp.mpf(float(z)))) - a) for z, a in zip(zs, approx))
    print(f"// z^2 in [0, {args.range}], degree {args.degree}, center {center}: "
          f"max |z P(z^2 - c) - erf z| = {err:.3g} (float64 Horner, 20000 points)")
    print("private static final double[] COEFFICIENTS = {")
    for i in range(0, len(coef), 3):
        print("    " + ", ".join(repr(c) for c in coef[i:i + 3]) + ",")
    print("};")


if __name__ == "__main__":
    main()
