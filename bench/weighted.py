"""Weighted, signed log-sum-exp: worst error in ULPs against mpmath, and time, per input class.

Run:  .venv/bin/python bench/weighted.py        (about half a minute)
Compares softmax_lib.logsumexp(x, b=..., return_sign=True) with scipy.special.logsumexp and
jax.nn.logsumexp (float64, x64 enabled) on the same rows. A result with the wrong sign counts
as an infinite error; "inf" also marks a NaN or infinity where the exact value is finite.
PyTorch and TensorFlow have no weighted log-sum-exp.
"""

import time

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
from scipy.special import logsumexp as scipy_lse

from softmax_lib import logsumexp
from softmax_lib import stability as st

jax.config.update("jax_enable_x64", True)


def exact(a, b, dps=400):
    """(log|sum(b exp(a))|, sign) from the definition in `dps` digits, inputs read exactly."""
    with mpmath.workdps(dps):
        s = mpmath.fsum(
            mpmath.mpf(float(bi)) * mpmath.exp(mpmath.mpf(float(ai)))
            for ai, bi in zip(a, b, strict=True)
            if bi != 0
        )
        return (mpmath.log(abs(s)), float(mpmath.sign(s))) if s else (mpmath.ninf, 0.0)


def classes(rng):
    n = 200
    near_cancel_a = rng.normal(0, 2, (n, 10))
    near_cancel_b = rng.normal(0, 1, (n, 10))
    scale = np.sum(near_cancel_b[:, :-1] * np.exp(near_cancel_a[:, :-1] - near_cancel_a[:, -1:]), 1)
    near_cancel_b[:, -1] = -scale * (1 + 10.0 ** rng.uniform(-12, -4, n))
    lp = np.log(rng.dirichlet(np.ones(50), n))
    w = rng.dirichlet(np.ones(50), n)
    lp -= np.log(np.sum(w * np.exp(lp), axis=1, keepdims=True))
    wide_a = np.stack([rng.uniform(-900, -700, n), np.zeros(n)], axis=1)
    wide_b = np.stack([10.0 ** rng.uniform(250, 300, n), 10.0 ** rng.uniform(-320, -300, n)], 1)
    return {
        "positive weights": (rng.normal(0, 5, (n, 50)), rng.random((n, 50))),
        "mixed signs": (rng.normal(0, 5, (n, 50)), rng.normal(0, 1, (n, 50))),
        "cancels to 1e-4..1e-12": (near_cancel_a, near_cancel_b),
        "result near zero": (lp, w),
        "weights 1e-320..1e300": (wide_a, wide_b),
    }


def libraries():
    def jax_lse(a, b):
        v, s = jax.nn.logsumexp(jnp.asarray(a), axis=-1, b=jnp.asarray(b), return_sign=True)
        return np.asarray(v), np.asarray(s)

    return {
        "softmax_lib": lambda a, b: logsumexp(a, b=b, return_sign=True),
        "SciPy": lambda a, b: scipy_lse(a, axis=-1, b=b, return_sign=True),
        "JAX": jax_lse,
    }


def worst_ulps(value, sign, refs):
    worst = 0.0
    for v, s, (ref, ref_sign) in zip(value, sign, refs, strict=True):
        if s != ref_sign:
            return float("inf")
        err = float(st.ulp_error(np.array([v]), np.array([ref], dtype=object))[0])
        worst = max(worst, err)
    return worst


def main():
    rng = np.random.default_rng(2026)
    libs = libraries()
    print(f"{'input class':26}" + "".join(f"{n:>14}" for n in libs) + "   (worst ULPs)")
    for label, (a, b) in classes(rng).items():
        refs = [exact(ra, rb) for ra, rb in zip(a, b, strict=True)]
        cells = []
        for run in libs.values():
            with np.errstate(all="ignore"):
                value, sign = run(a, b)
            cells.append(worst_ulps(np.asarray(value), np.asarray(sign), refs))
        print(f"{label:26}" + "".join(f"{c:>14.3g}" for c in cells))
    a, b = rng.normal(size=(1000, 1000)), rng.normal(size=(1000, 1000))
    print("\nTime for 1000 rows of 1000, mixed signs (median of 5):")
    for name, run in libs.items():
        run(a, b)
        times = []
        for _ in range(5):
            start = time.perf_counter()
            run(a, b)
            times.append(time.perf_counter() - start)
        print(f"  {name:12} {np.median(times) * 1e3:8.1f} ms")


if __name__ == "__main__":
    main()
