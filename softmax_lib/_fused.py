"""Fused kernels, compiled with numba, for softmax, log-softmax and log-sum-exp of rows.

The NumPy path (:mod:`softmax_lib._normaliser`) makes one array-sized temporary per step
(shift, TwoSum error, exponential, correction, sum). These kernels do the same arithmetic
row by row with no temporaries beyond a block of the row:

1. the row's maximum ``m`` (and whether the row holds NaN);
2. block by block, the terms ``t_i = exp(d_i + e_i)`` where ``d_i + e_i == x_i - m`` exactly
   (TwoSum), with our own ``exp`` that returns ``exp(d)`` as an unevaluated sum ``hi + lo``
   (a table of ``2**(j/32)`` in two parts, Cody-Waite reduction, a degree-6 polynomial), so
   the term is rounded once; and their sum, compensated (eight TwoSum lanes), kept as
   ``S_hi + S_lo``;
3. the output: ``t_i / S`` (softmax), ``(d_i - log S) + e_i`` with ``log S =
   log1p((S_hi - 1) + S_lo)`` (log-softmax), or ``m + log S`` (log-sum-exp).

Every loop is written so that LLVM vectorises it without fast-math (no reassociation: the
lanes are explicit). float32 rows are read and computed in float64 registers and rounded once
when stored; they need less: a shorter ``exp`` without the second parts, and for softmax a
plain sum (a relative error near 2**-40 is far below half a float32 ULP). Rows whose maximum
is not finite or that contain NaN are flagged and left to the NumPy path, which owns the
special-value policy.

numba is optional: :func:`softmax_lib._dispatch.kernels` is None without it (or with
``SOFTMAX_LIB_NUMBA=0``), and :mod:`softmax_lib.core` then uses the NumPy path, which meets
the same accuracy bounds (the tests run both).
"""

from __future__ import annotations

import math
import os

import numba as nb
import numpy as np

FLOOR_D = -1100.0  # exp(d) is 0 in float64 below about -745; smaller d are clamped to this
BLOCK = 1024  # terms computed, then summed, per block (8 KiB: stays in L1)
LANES = 32  # independent compensated sums

_JIT = {"cache": os.environ.get("SOFTMAX_LIB_NUMBA_CACHE", "1") != "0", "nogil": True}


@nb.njit(inline="always")
def _pow2(k):
    """2.0**k for an integral float k in [-1022, 1023], from its bits."""
    return np.int64((np.int64(k) + 1023) << 52).view(np.float64)


def _table():
    """2**(j/32) for j = 0..31, each as hi + lo (hi the rounded value, lo what is left)."""
    import mpmath

    with mpmath.workprec(200):
        exact = [mpmath.mpf(2) ** (mpmath.mpf(j) / 32) for j in range(32)]
        hi = [float(v) for v in exact]
        lo = [float(v - mpmath.mpf(h)) for v, h in zip(exact, hi, strict=True)]
    return np.array(hi), np.array(lo)


TABLE_HI, TABLE_LO = _table()
INV_LN2_32 = 46.16624130844683  # 32 / ln 2
LN2_32_HI = 0.021660849391992087  # ln 2 / 32 to 35 bits: k * LN2_32_HI is exact for |k| < 2**18
LN2_32_LO = 5.062034433330175e-13  # ln 2 / 32 - LN2_32_HI, rounded


@nb.njit(inline="always")
def exp_parts(d):
    """``exp(d) == (hi + lo) * 2**k`` for FLOOR_D <= d <= 0, to about 2**-58.

    ``d = (32 k + j) ln2 / 32 + r`` with ``|r| <= ln2 / 64``, so
    ``exp(d) = 2**k 2**(j/32) exp(r)``; the table holds ``2**(j/32)`` in two
    parts, and ``exp(r) - 1`` is a short polynomial whose rounding errors
    are below 2**-59 of the result.
    """
    kf = math.floor(d * INV_LN2_32 + 0.5)
    r_hi = d - kf * LN2_32_HI  # exact
    r = r_hi - kf * LN2_32_LO
    r_lo = (r_hi - r) - kf * LN2_32_LO
    ki = np.int64(kf)
    j = ki & 31
    t_hi = TABLE_HI[j]
    t_lo = TABLE_LO[j]
    p = 1.0 / 24 + r * (1.0 / 120 + r * (1.0 / 720))
    p = r * r * (0.5 + r * (1.0 / 6 + r * p))
    tail = r + (r_lo + p)  # exp(r + r_lo) - 1
    return t_hi, t_hi * tail + t_lo * (1.0 + tail), np.float64(ki >> 5)


@nb.njit(inline="always")
def _two_sum(a, b):
    s = a + b
    b_virtual = s - a
    return s, (a - (s - b_virtual)) + (b - b_virtual)


@nb.njit(inline="always")
def _shift(xi, m):
    """``d + e == xi - m`` exactly (TwoSum), with d clamped to FLOOR_D (and e then 0)."""
    d, e = _two_sum(xi, -m)
    low = d < FLOOR_D
    return (FLOOR_D if low else d), (0.0 if low else e)


@nb.njit(inline="always")
def _terms(src, m, dst):
    """``dst[i] = exp(src[i] - m)``, rounded once, for every i (equal lengths)."""
    for i in range(src.shape[0]):
        d, e = _shift(np.float64(src[i]), m)
        hi, lo, k = exp_parts(d)
        k1 = max(k, -1022.0)  # 2**k in two factors when it is subnormal or below
        dst[i] = ((hi + (lo + (hi + lo) * e)) * _pow2(k1)) * _pow2(k - k1)


@nb.njit(inline="always")
def _terms_single(src, m, dst):
    """`_terms` for float32 rows, whose results are rounded to float32.

    Their differences ``src[i] - m`` are exact in float64, and a relative error
    near 2**-48 in the term is far below half a float32 ULP (2**-24): no TwoSum,
    no second part of the table, a shorter polynomial.
    """
    for i in range(src.shape[0]):
        d = np.float64(src[i]) - m
        d = FLOOR_D if d < FLOOR_D else d
        kf = math.floor(d * INV_LN2_32 + 0.5)
        r = (d - kf * LN2_32_HI) - kf * LN2_32_LO
        ki = np.int64(kf)
        p = r * (1.0 + r * (0.5 + r * (1.0 / 6 + r * (1.0 / 24 + r * (1.0 / 120)))))
        hi = TABLE_HI[ki & 31]
        k = np.float64(ki >> 5)
        k1 = max(k, -1022.0)
        dst[i] = ((hi + hi * p) * _pow2(k1)) * _pow2(k - k1)


@nb.njit(inline="always")
def _sum_plain(v, lanes):
    """``sum(v)`` in LANES lanes, uncompensated: enough for float32 softmax.

    Their sums need a relative error far below 2**-24, not the compensated 2**-100.
    """
    n = v.shape[0]
    lanes[:] = 0.0
    i = 0
    while i + LANES <= n:
        for j in range(LANES):
            lanes[j] += v[i + j]
        i += LANES
    total = 0.0
    for j in range(LANES):
        total += lanes[j]
    while i < n:
        total += v[i]
        i += 1
    return total


@nb.njit(inline="always")
def _sum2(v, lanes, errors):
    """``sum(v)`` as ``hi + lo``, compensated: TwoSum in LANES independent lanes.

    `lanes` and `errors` are scratch arrays of length LANES (reused: no allocation per
    block). Thirty-two lanes keep the TwoSum chains from stalling the vector units.
    """
    n = v.shape[0]
    lanes[:] = 0.0
    errors[:] = 0.0
    i = 0
    while i + LANES <= n:
        for j in range(LANES):
            a = lanes[j]
            b = v[i + j]
            s = a + b
            b_virtual = s - a
            errors[j] += (a - (s - b_virtual)) + (b - b_virtual)
            lanes[j] = s
        i += LANES
    hi = 0.0
    lo = 0.0
    for j in range(LANES):
        hi, e = _two_sum(hi, lanes[j])
        lo += e + errors[j]
    while i < n:
        hi, e = _two_sum(hi, v[i])
        lo += e
        i += 1
    return hi, lo


@nb.njit(inline="always")
def _row_max(row):
    """Return the row's maximum (as float64) and whether it holds NaN."""
    n = row.shape[0]
    m0 = m1 = m2 = m3 = m4 = m5 = m6 = m7 = -np.inf
    z0 = z1 = z2 = z3 = z4 = z5 = z6 = z7 = 0.0  # stays 0 unless the row holds NaN or inf
    i = 0
    while i + 8 <= n:
        v0, v1 = np.float64(row[i]), np.float64(row[i + 1])
        v2, v3 = np.float64(row[i + 2]), np.float64(row[i + 3])
        v4, v5 = np.float64(row[i + 4]), np.float64(row[i + 5])
        v6, v7 = np.float64(row[i + 6]), np.float64(row[i + 7])
        m0 = v0 if v0 > m0 else m0
        m1 = v1 if v1 > m1 else m1
        m2 = v2 if v2 > m2 else m2
        m3 = v3 if v3 > m3 else m3
        m4 = v4 if v4 > m4 else m4
        m5 = v5 if v5 > m5 else m5
        m6 = v6 if v6 > m6 else m6
        m7 = v7 if v7 > m7 else m7
        z0 += v0 * 0.0
        z1 += v1 * 0.0
        z2 += v2 * 0.0
        z3 += v3 * 0.0
        z4 += v4 * 0.0
        z5 += v5 * 0.0
        z6 += v6 * 0.0
        z7 += v7 * 0.0
        i += 8
    m = max(max(max(m0, m1), max(m2, m3)), max(max(m4, m5), max(m6, m7)))
    z = ((z0 + z1) + (z2 + z3)) + ((z4 + z5) + (z6 + z7))
    while i < n:
        v = np.float64(row[i])
        m = v if v > m else m
        z += v * 0.0
        i += 1
    has_nan = False
    if z != z:  # an infinity or a NaN: look again, for NaN only (rare)
        for j in range(n):
            has_nan |= row[j] != row[j]
    return np.float64(m), has_nan


@nb.njit(inline="always")
def _row_sum(row, m, terms, lanes, errors, single, compensate):
    """``sum(exp(row - m))`` as ``hi + lo``, block by block; the terms are left in `terms`.

    `terms` holds the whole row (softmax keeps them) or one block (the others reuse it);
    `single` says the row is float32 (cheaper terms suffice); `compensate` is
    False only for float32 softmax, which needs the sum, not its tail beside the
    maximum's term (log1p of that tail is what log-softmax and log-sum-exp need).
    """
    n = row.shape[0]
    size = terms.shape[0]
    hi = lo = 0.0
    for start in range(0, n, size):
        stop = min(start + size, n)
        dst = terms[start:stop] if size == n else terms[: stop - start]
        if single:
            _terms_single(row[start:stop], m, dst)
        else:
            _terms(row[start:stop], m, dst)
        if compensate:
            b_hi, b_lo = _sum2(dst, lanes, errors)
        else:
            b_hi, b_lo = _sum_plain(dst, lanes), 0.0
        hi, e = _two_sum(hi, b_hi)
        lo += e + b_lo
    return hi, lo


@nb.njit(inline="always")
def _row_log_sum(row, block, lanes, errors, single):
    """Return ``(m, log(sum(exp(row - m))), ok)``; ok is False for a row left to NumPy."""
    m, has_nan = _row_max(row)
    if has_nan or not np.isfinite(m):
        return m, 0.0, False
    hi, lo = _row_sum(row, m, block, lanes, errors, single, True)
    return m, math.log1p((hi - 1.0) + lo), True  # hi >= 1 (the maximum's term): hi - 1 exact


@nb.njit(**_JIT)
def softmax_rows(x, out, terms, bad):
    """Softmax of each row of the C-contiguous 2-D `x` into `out`.

    Rows left to the NumPy path are flagged in `bad`. `terms` holds a row's
    terms until their sum is known: `out` itself when it is float64 (no
    scratch at all), else one float64 row, reused for every row.
    """
    rows, n = x.shape
    single = x.itemsize == 4
    lanes, errors = np.empty(LANES), np.empty(LANES)
    for r in range(rows):
        row = x[r]
        m, has_nan = _row_max(row)
        if has_nan or not np.isfinite(m):
            bad[r] = True
            continue
        t = terms[r] if terms.shape[0] == rows else terms[0]
        hi, lo = _row_sum(row, m, t, lanes, errors, single, not single)
        s = hi + lo
        o = out[r]
        for i in range(n):
            o[i] = t[i] / s


@nb.njit(**_JIT)
def log_softmax_rows(x, out, bad):
    """Log-softmax of each row of `x` into `out`; flag rows left to NumPy."""
    rows, n = x.shape
    block = np.empty(min(BLOCK, x.shape[1]))
    single = x.itemsize == 4
    lanes, errors = np.empty(LANES), np.empty(LANES)
    for r in range(rows):
        row = x[r]
        m, log_s, ok = _row_log_sum(row, block, lanes, errors, single)
        if not ok:
            bad[r] = True
            continue
        o = out[r]
        for i in range(n):
            d, e = _two_sum(np.float64(row[i]), -m)  # d + e == x_i - m exactly
            e = e if e - e == 0.0 else 0.0  # NaN where d is infinite: no correction there
            o[i] = (d - log_s) + e


@nb.njit(**_JIT)
def logsumexp_rows(x, out, maxima, bad):
    """Log-sum-exp of each row of `x` into `out` (and its maximum into `maxima`)."""
    rows = x.shape[0]
    block = np.empty(min(BLOCK, x.shape[1]))
    single = x.itemsize == 4
    lanes, errors = np.empty(LANES), np.empty(LANES)
    for r in range(rows):
        m, log_s, ok = _row_log_sum(x[r], block, lanes, errors, single)
        maxima[r] = m
        bad[r] = not ok
        out[r] = m + log_s
