#!/usr/bin/env python3
"""Fit the polynomial of the float GELU (NnOps.gelu, DistilCodec's ConvNeXt).

The GELU is computed as  max(x, 0) - 0.5 a E  with  a = min(|x|, A_MAX)  and
E = erfc(a / sqrt 2) = exp(-a^2 / 2) * Q(a),  Q(a) = erfcx(a / sqrt 2)  (the scaled complementary
error function, smooth and between 1 and ~0.06 on [0, A_MAX]). Q is a polynomial in
t = 1 / (1 + C a), which maps [0, A_MAX] onto (0.18, 1]. This script fits that polynomial by
least squares on the relative error at Chebyshev nodes in t (mpmath's erfc, 30 digits), rounds the
coefficients to float, and prints them as Java literals with the fit's largest relative error.

Usage: /usr/bin/python3 scripts/fit_gelu_float.py [--degree 9] [--c 0.35] [--a-max 13]
Needs numpy and mpmath (Debian: python3-numpy, python3-mpmath).
"""
import argparse

import mpmath as mp
import numpy as np


def q_exact(a):
    z = mp.mpf(a) / mp.sqrt(2)
    return mp.exp(z * z) * mp.erfc(z)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--degree", type=int, default=9)
    ap.add_argument("--c", type=float, default=0.35)
    ap.add_argument("--a-max", type=float, default=13.0)
    args = ap.parse_args()
    mp.mp.dps = 30
    c = np.float32(args.c)
    t_min = 1.0 / (1.0 + float(c) * args.a_max)
    n = 600
    k = np.arange(n)
    ts = (1 + t_min) / 2 + (1 - t_min) / 2 * np.cos(np.pi * (k + 0.5) / n)
    qs = np.array([float(q_exact((1 / t - 1) / float(c))) for t in ts])
    vander = np.vander(ts, args.degree + 1, increasing=True)
    coef, *_ = np.linalg.lstsq(vander / qs[:, None], np.ones(n), rcond=None)
    coef32 = coef.astype(np.float32)
    grid = np.linspace(t_min, 1.0, 4000)
    exact = np.array([float(q_exact((1 / t - 1) / float(c))) for t in grid])
    rel = np.max(np.abs(np.polyval(coef32.astype(np.float64)[::-1], grid) / exact - 1))
    print(f"// Q(a) = erfcx(a / sqrt 2) ~ sum_k GELU_Q[k] t^k, t = 1 / (1 + {args.c}f a), a in [0, {args.a_max}]:")
    print(f"// degree {args.degree}, float coefficients, largest relative error {rel:.2e} (scripts/fit_gelu_float.py)")
    print("static final float[] GELU_Q = {")
    print("    " + ", ".join(f"{float(v)!r}f" for v in coef32) + ",")
    print("};")


if __name__ == "__main__":
    main()
