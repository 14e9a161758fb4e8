#!/usr/bin/env python3
"""Fits the odd rational approximation of erf in Sources/AstroMAE/Kernels.swift.

    f(x) ≈ x · P(x²) / Q(x²)  on [0, H],  Q(0) = 1

by iteratively reweighted linear least squares (Loeb's linearisation, with
weights that grow where the error is largest, a cheap stand-in for Remez) in
a Chebyshev basis, then converts to power-basis coefficients in t = x² and
reports the maximum error of the float32 Horner evaluation the kernels use.

    python3 scripts/fit_rational.py erf     # GELU's erf, (6,4) on [0, 3.92]

Needs numpy and scipy.
"""
import sys

import numpy as np
from numpy.polynomial import chebyshev as C
from numpy.polynomial import polynomial as P
from scipy.special import erf

TARGETS = {"erf": (erf, 3.92, 6, 4)}


def fit(f, h, np_, nq, iterations=400):
    n = 6000
    x = np.sort(np.concatenate([np.linspace(0, h, n), h * (1 - np.cos(np.linspace(0, np.pi / 2, n)))]))
    u = 2 * x * x / (h * h) - 1
    y = f(x)
    basis = lambda k, deg: C.chebval(u, np.eye(deg + 1)[k])
    a = np.stack([x * basis(k, np_) for k in range(np_ + 1)] + [-y * basis(k, nq) for k in range(1, nq + 1)], 1)
    b = y * basis(0, nq)
    w = np.ones_like(x)
    best = (np.inf, None)
    for _ in range(iterations):
        sol, *_ = np.linalg.lstsq(a * w[:, None], b * w, rcond=None)
        pc, qc = sol[: np_ + 1], np.concatenate([[1.0], sol[np_ + 1:]])
        err = x * C.chebval(u, pc) / C.chebval(u, qc) - y
        worst = np.abs(err).max()
        if worst < best[0]:
            best = (worst, (pc, qc))
        w = w * (np.abs(err) / worst + 0.02) ** 0.3
        w /= w.max()
    return best[1]


def to_power_basis_in_t(cheb, h):
    """Chebyshev coefficients in u = 2t/h² − 1 → power coefficients in t."""
    poly = C.cheb2poly(cheb)
    out, acc, linear = np.zeros(len(poly)), np.array([1.0]), np.array([-1.0, 2 / (h * h)])
    for c in poly:
        term = c * acc
        out[: len(term)] += term
        acc = P.polymul(acc, linear)
    return out


def main():
    name = sys.argv[1] if len(sys.argv) > 1 else "erf"
    f, h, np_, nq = TARGETS[name]
    pc, qc = fit(f, h, np_, nq)
    p, q = to_power_basis_in_t(pc, h), to_power_basis_in_t(qc, h)
    p, q = p / q[0], q / q[0]
    xs = np.linspace(0, h, 400001).astype(np.float32)
    ts = xs * xs
    pv = np.zeros_like(xs)
    for c in p[::-1]:
        pv = (pv * ts + np.float32(c)).astype(np.float32)
    qv = np.zeros_like(xs)
    for c in q[::-1]:
        qv = (qv * ts + np.float32(c)).astype(np.float32)
    approx = np.minimum((xs * pv / qv).astype(np.float32), 1)
    worst = np.abs(approx.astype(np.float64) - f(xs.astype(np.float64))).max()
    print(f"{name} on [0, {h}]: P degree {np_}, Q degree {nq} in x²; float32 max |error| {worst:.2e}")
    print("P (t⁰ first):", ", ".join(f"{np.float32(c):.8g}" for c in p))
    print("Q (t⁰ first):", ", ".join(f"{np.float32(c):.8g}" for c in q))


if __name__ == "__main__":
    main()
