"""
Fits the polynomial coefficients used by src/tfjs-ops/simd/kernels.c and prints their float32
error (numpy only):
  - erf(x) = x * P(x^2) / Q(x^2) on |x| <= 3.925, degrees 5/5, least squares on Chebyshev nodes;
  - e^r = 1 + r + r^2 * P(r) on |r| <= ln2/2, P of degree 3, iteratively reweighted towards
    minimax relative error.
    /usr/bin/python3 scripts/fit-simd-polynomials.py
"""
import math

import numpy as np


def horner(coeffs, x):
    acc = np.float32(coeffs[-1])
    for c in coeffs[-2::-1]:
        acc = (acc * x + np.float32(c)).astype(np.float32)
    return acc


def fit_erf(lim=3.925, n_num=5, n_den=5):
    xs = lim * (0.5 - 0.5 * np.cos(np.linspace(0, math.pi, 4000)))
    xs = xs[xs > 1e-4]
    f = np.array([math.erf(x) / x for x in xs])
    s = xs * xs
    q = np.ones_like(s)
    for _ in range(30):
        # P(s) - f * (Q(s) - 1) = f, with Q(0) = 1, weighted by 1/Q (a linearised rational fit)
        a = np.hstack([np.vstack([s**i for i in range(n_num + 1)]).T, -f[:, None] * np.vstack([s**i for i in range(1, n_den + 1)]).T])
        w = (1 / q)[:, None]
        c, *_ = np.linalg.lstsq(a * w, f * w[:, 0], rcond=None)
        p, qc = c[: n_num + 1], np.concatenate([[1.0], c[n_num + 1 :]])
        q = np.polyval(qc[::-1], s)
    x32 = np.clip(np.linspace(-5, 5, 200001).astype(np.float32), np.float32(-lim), np.float32(lim))
    s32 = (x32 * x32).astype(np.float32)
    y = (x32 * horner(p.astype(np.float32), s32) / horner(qc.astype(np.float32), s32)).astype(np.float32)
    ref = np.array([math.erf(float(v)) for v in np.linspace(-5, 5, 200001).astype(np.float32)])
    print("erf P", p.astype(np.float32).tolist())
    print("erf Q", qc.astype(np.float32).tolist())
    print("erf max abs error (float32):", np.abs(y - ref).max())


def fit_exp(degree=5):
    half = math.log(2) / 2
    r = half * np.cos(np.linspace(0, math.pi, 2001))
    a = np.vstack([r ** (k + 2) for k in range(degree - 1)]).T
    target = np.exp(r) - 1 - r
    w = np.exp(-r)
    for _ in range(50):
        c, *_ = np.linalg.lstsq(a * w[:, None], target * w, rcond=None)
        err = (a @ c - target) / np.exp(r)
        w = w * (np.abs(err) / np.abs(err).max() + 1e-3) ** 0.5
        w /= w.max()
    c32 = c.astype(np.float32)
    r32 = r.astype(np.float32)
    y = (np.float32(1) + r32 + r32 * r32 * horner(c32, r32)).astype(np.float32)
    print("exp P", c32.tolist())
    print("exp max relative error (float32):", np.abs(y.astype(np.float64) / np.exp(r32.astype(np.float64)) - 1).max())


if __name__ == "__main__":
    fit_erf()
    fit_exp()
