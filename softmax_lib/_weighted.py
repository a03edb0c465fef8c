r"""Weighted and signed log-sum-exp: ``log|sum(b * exp(a))|`` and the sign of the sum.

Used by :func:`softmax_lib.logsumexp` when weights are given. The semantics are SciPy's
(``scipy.special.logsumexp``): a zero weight removes its term whatever the logit (even NaN or
``+inf``), weights may be negative, and the sign of the sum is returned on request.

The arithmetic is not SciPy's. Each row is summed in the widest fast format the machine has
(:data:`softmax_lib._extended.FT`, 64-bit significands on x86), shifted by the largest logit
that carries a weight, with the rounding error of every shift recovered exactly (TwoSum).
A running error bound decides, row by row, whether that sum settles the result to well
within an ULP of the output format; rows it does not settle (sums that cancel, results near
zero) are recomputed with mpmath from the exact inputs, with as many digits as the
cancellation needs. A sum that is exactly zero is recognised exactly: by the
Lindemann-Weierstrass theorem, ``sum(b_i * exp(a_i))`` with rational (floating-point) ``a_i``
vanishes only when the weights of every distinct logit sum to zero.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from softmax_lib._extended import FT, dd_signed_sums
from softmax_lib._normaliser import unpack
from softmax_lib._validation import check_weights, check_where, prepare

_U_FT = float(np.finfo(FT).eps) / 2  # unit roundoff of the summing format


def _rows(arr: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """Move the reduced axes to the end and flatten them: shape (rows, entries)."""
    n_axes = len(axes)
    moved = np.moveaxis(arr, axes, tuple(range(-n_axes, 0)))
    n_entries = math.prod(arr.shape[a] for a in axes)
    n_rows = math.prod(n for i, n in enumerate(arr.shape) if i not in axes)
    return moved.reshape(n_rows, n_entries)


def _special_sums(a: np.ndarray, b: np.ndarray, live: np.ndarray) -> tuple:
    """Rows with a NaN or infinite term: the sum of those terms in the extended reals.

    A term is NaN when ``a`` or ``b`` is NaN or when it is ``inf * exp(-inf)`` (undefined);
    otherwise an infinite term is ``sign(b) * inf``, whatever the size of ``exp(a)`` (it is
    positive even where it underflows). Finite terms cannot change such a sum.
    """
    nan_term = np.isnan(a) | np.isnan(b) | (np.isneginf(a) & np.isinf(b))
    special = live & (nan_term | np.isposinf(a) | np.isinf(b))
    with np.errstate(invalid="ignore"):
        terms = np.where(nan_term, np.nan, np.sign(b) * np.inf)
        return special.any(axis=1), np.sum(np.where(special, terms, 0.0), axis=1)


def _fast_rows(a: np.ndarray, b: np.ndarray, live: np.ndarray, u_out: float, wide_out: bool):
    """Sum every row in FT; return (values, signs, settled) with a proven error bound.

    Rows whose plain FT sum cancels too much for the bound are summed again in
    double-double: each exponential in double-double, exact products, pairwise
    double-double additions (:func:`softmax_lib._extended.dd_signed_sums`).
    """
    al = np.where(live, a, -np.inf)
    m = np.max(al, axis=1, keepdims=True)  # finite: every row has a live finite term
    d = al - m
    bv = d - al  # TwoSum: e is the exact rounding error of d = a - m
    e = np.nan_to_num((al - (d - bv)) - (m + bv), nan=0.0, posinf=0.0, neginf=0.0)
    t = np.exp(d.astype(FT))
    t += t * e  # exp(d + e) to first order; |e| <= ulp(d) / 2
    bf = b.astype(FT)
    terms = bf * t
    s = np.sum(terms, axis=1)
    p = np.sum(np.abs(terms), axis=1)
    n = a.shape[1]
    # Error of s: one rounding in exp (at most one ulp), one in the product, and the
    # pairwise sum (NumPy's blocks of 8, then log2 levels); underflow below FT's tiny.
    levels = 8 + max(1, math.ceil(math.log2(max(n, 2))))
    floor = 2 * float(np.finfo(FT).tiny) * np.sum(np.abs(b) * live, axis=1)
    err_s = (3 + levels) * _U_FT * p + floor
    tol = max(u_out / 8, 64 * _U_FT) if not wide_out else 16 * _U_FT
    r, settled = _settle(m[:, 0], s, err_s, tol)
    redo = np.flatnonzero(~settled)
    if redo.size:
        s[redo], err = dd_signed_sums(d[redo], e[redo], b[redo], t[redo])
        err_s[redo] = err + floor[redo]
        r[redo], settled[redo] = _settle(m[redo, 0], s[redo], err_s[redo], tol)
    return r, np.sign(s), settled


def _settle(m: np.ndarray, s: np.ndarray, err_s: np.ndarray, tol: float):
    """``m + log|s|`` in FT, and where its error bound is within `tol` of its magnitude."""
    mag = np.abs(s)
    with np.errstate(divide="ignore", invalid="ignore"):
        # log|s| through log1p near 1, where mag - 1 is exact (Sterbenz): small results keep
        # their digits.
        y = np.where(np.abs(mag - 1) < 0.5, np.log1p(mag - 1), np.log(mag))
        r = m.astype(FT) + y
        rel_s = np.where(mag > 0, err_s / mag, np.inf)
        bound = 1.01 * rel_s + _U_FT * (np.abs(y) + np.abs(r))
        return r, (rel_s < 2.0**-20) & (bound <= tol * np.abs(r))


def _exact_row(a: np.ndarray, b: np.ndarray, live: np.ndarray, digits: int) -> tuple:
    """log|sum(b exp(a))| and its sign for one row, with mpmath from the exact inputs."""
    import mpmath

    groups: dict = {}
    for ai, bi in zip(a[live], b[live], strict=True):
        key = Fraction(*ai.as_integer_ratio())
        groups[key] = groups.get(key, 0) + Fraction(*bi.as_integer_ratio())
    groups = {k: v for k, v in groups.items() if v != 0}
    if not groups:
        return -math.inf, 0.0  # the sum is exactly zero
    if len(groups) == 1:
        ((k, v),) = groups.items()
        if k == 0 and abs(v) == 1:
            return 0.0, float(np.sign(v))  # exactly log 1
    m = max(groups)
    dps = digits + 20
    while True:
        with mpmath.workdps(dps):
            mm = mpmath.mpf(m.numerator) / m.denominator
            terms = [
                mpmath.mpf(v.numerator)
                / v.denominator
                * mpmath.exp(mpmath.mpf(k.numerator) / k.denominator - mm)
                for k, v in groups.items()
            ]
            s = mpmath.fsum(terms)
            p = mpmath.fsum(abs(t) for t in terms)
            r = mm + mpmath.log(abs(s)) if s != 0 else mpmath.ninf
            # Every term is good to about 10**(2 - dps) relative; the cancellations in the
            # sum (p / |s|) and in m + log|s| amplify that.
            noise = mpmath.mpf(10) ** (5 - dps) * (p / abs(s) + abs(mm) + 1) if s else 1
            if s != 0 and noise <= mpmath.mpf(10) ** (-digits) * abs(r):
                return mpmath.nstr(r, 40, strip_zeros=False), float(mpmath.sign(s))
            if dps > 20000:  # not reached for any input we know of; keep the best value
                return mpmath.nstr(r, 40, strip_zeros=False), float(mpmath.sign(s))
        dps *= 2


def signed_logsumexp(
    a: np.ndarray, b: np.ndarray, axes: tuple[int, ...], out_dtype: np.dtype
) -> tuple[np.ndarray, np.ndarray]:
    """``log|sum(b * exp(a))|`` over `axes` and the sign of the sum, both with keepdims.

    `a` and `b` have one shape and a float dtype (float64 or wider); zero weights (and masked
    entries, which the caller gives weight zero) take no part. Empty reductions give ``-inf``
    with sign 0.
    """
    rows_a, rows_b = _rows(a, axes), _rows(b, axes)
    n_rows = rows_a.shape[0]
    out = np.full(n_rows, -np.inf, dtype=FT)
    sign = np.zeros(n_rows)
    if rows_a.shape[1]:
        live = rows_b != 0
        with np.errstate(all="ignore"):
            special, inf_sums = _special_sums(rows_a, rows_b, live)
            out[special] = np.abs(inf_sums[special])
            sign[special] = np.sign(inf_sums[special])
            ordinary = ~special & (live & (rows_a > -np.inf)).any(axis=1)
            live &= rows_a > -np.inf
            u_out = float(np.finfo(out_dtype).eps) / 2
            wide_out = np.finfo(out_dtype).nmant >= np.finfo(FT).nmant
            idx = np.flatnonzero(ordinary)
            r, s, settled = _fast_rows(rows_a[idx], rows_b[idx], live[idx], u_out, wide_out)
        out[idx[settled]] = r[settled]
        sign[idx[settled]] = s[settled]
        digits = 40 + np.finfo(out_dtype).precision
        for i in idx[~settled]:
            value, sign[i] = _exact_row(rows_a[i], rows_b[i], live[i], digits)
            out[i] = FT(value) if isinstance(value, float) else _parse(value, out_dtype)
    shape = tuple(1 if i in axes else n for i, n in enumerate(a.shape))
    rest = tuple(n for i, n in enumerate(a.shape) if i not in axes)
    n_axes = len(axes)

    def restore(v: np.ndarray, dtype) -> np.ndarray:
        v = v.astype(dtype).reshape(rest + (1,) * n_axes)
        return np.moveaxis(v, tuple(range(-n_axes, 0)), axes).reshape(shape)

    return restore(out, out_dtype), restore(sign, out_dtype)


def _parse(text: str, dtype: np.dtype):
    """Round a decimal string of 40 digits once to `dtype` (any binary format <= 113 bits)."""
    return dtype.type(text) if dtype != np.float16 else np.float16(np.float64(text))


def weighted_logsumexp(x, b, axis, where):
    """``(log|sum(b * exp(x))|, its sign, axes)`` for :func:`softmax_lib.logsumexp` (keepdims)."""
    a, w, dtype = check_weights(x, b)
    _, work, axes, _ = unpack(prepare(a, axis))
    w = w.astype(work.dtype, copy=False)
    if where is not None:
        w = np.where(check_where(where, work.shape), w, 0.0)
    return *signed_logsumexp(work, w, axes, dtype), axes
