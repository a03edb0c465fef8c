"""Adversarial input classes for accuracy measurements (shared by tests and bench/)."""

import numpy as np


def cases(dtype, rng=None, *, long_rows=False):
    """Return {class name: 2-d array of rows} in `dtype`, reproducibly.

    `long_rows` adds a row of length 100,000 (for the benchmark; too slow for the tests,
    because the mpmath reference takes seconds per row).
    """
    rng = np.random.default_rng(20261121) if rng is None else rng
    fmax = float(np.finfo(dtype).max)
    top = 60.0 if dtype == np.float16 else 1e4
    out = {}
    for scale in (1.0, 10.0, 100.0, 1e3, 1e4):
        if scale <= top:
            out[f"normal, scale {scale:g}"] = rng.normal(scale=scale, size=(6, 16))
    out["huge spread"] = np.array([[0.0, -top, -0.7 * top, 0.5 * top, -3.0, 2.0]])
    out["ties"] = np.array([[5.0, 5.0, 5.0, -1.0], [0.0, 0.0, 0.0, 0.0], [-3.0, 2.0, 2.0, -3.0]])
    out["one dominant"] = np.array(
        [[0.9 * top, 0.0, 0.0, 1.0], [0.0, -0.9 * top, -0.8 * top, -top]]
    )
    out["tiny tail"] = np.array([[0.0] + [-15.0] * 8, [0.0, *list(np.linspace(-30, -60, 8))]])
    out["near the maximum"] = np.array([[fmax, fmax / 2, -fmax, 0.0], [fmax, fmax, fmax / 4, 1.0]])
    out["length one"] = np.array([[3.0], [-fmax / 2]])
    out["tiny differences"] = np.array([[1e-30, 0.0, -1e-30], [2.0, 2.0 + 2**-9, 2.0 - 2**-9]])
    # log-sum-exp close to 0 while the maximum is not: m + log(s) cancels.
    near = rng.normal(size=(4, 5))
    shift = np.log(np.sum(np.exp(near - near.max(1, keepdims=True)), 1)) + near.max(1)
    out["log-sum-exp near 0"] = near - shift[:, None] + np.array([[0.0], [1e-12], [-3e-7], [1e-3]])
    if long_rows:
        out["length 100,000"] = rng.normal(scale=10.0, size=(1, 100_000))
    return {k: np.asarray(v, dtype=np.float64).astype(dtype) for k, v in out.items()}
