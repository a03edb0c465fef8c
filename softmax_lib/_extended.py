"""Extra precision for the rare rows where ``m + log(s)`` cancels: error-free transformations.

A double-double number is an unevaluated sum ``hi + lo`` of two floats of one format. Built
on long double where that is the 80-bit x87 format (64-bit significands, so about 128 bits in
all), on float64 elsewhere (about 106 bits). All functions work element-wise on arrays; no
Python loop runs over elements. The exact conversion to mpmath, used where even this is not
enough, lives here too, so that there is one of it in the package.
"""

from __future__ import annotations

import math

import numpy as np

# The format of the double-double parts: long double when it is wider than float64.
FT = np.longdouble if np.finfo(np.longdouble).nmant > np.finfo(np.float64).nmant else np.float64
_PRECISION = np.finfo(FT).nmant + 1  # significand bits of one part
_SPLITTER = FT(2.0) ** ((_PRECISION + 1) // 2) + 1  # Veltkamp's constant
# Relative error bounds, in units of 2**(-2 * _PRECISION): one exponential (measured worst
# case 2**-118.9 against mpmath with 64-bit parts, i.e. below 2**9 of these units; we allow
# 2**12), and one addition of positive terms.
_EXP_ERROR = 2.0**12
_ADD_ERROR = 2.0**2
# Terms below exp(_CUT) are dropped; the bound accounts for them.
_CUT = -120.0
_SQUARINGS = 8  # exp(r) = exp(r / 2**8) ** (2**8)
# exp(r) = sum of r**n / n! for n < 11: for |r| <= ln(2) / 2**9 = 1.4e-3 the remainder is
# below 2**-130 relative. Terms from n = 7 on are below 2**-78 relative, so they are summed
# in one part (FT) before the double-double Horner steps take over.
_TAYLOR_TERMS = 11
_PLAIN_FROM = 7


def to_mpf(mp, value):
    """Convert a NumPy or Python number to an mpmath number exactly (long double included)."""
    if not isinstance(value, float | int | np.floating | np.integer):
        return mp.mpf(value)  # already an mpmath number, or a constant such as mpmath.pi
    if np.isnan(value):
        return mp.nan
    if np.isinf(value):
        return mp.inf if value > 0 else mp.ninf
    num, den = value.as_integer_ratio()
    return mp.mpf(num) / den  # den is a power of 2, so the division is exact


def _constant(value) -> tuple:
    """Round an mpmath number to a double-double of FT: (hi, lo)."""
    import mpmath

    with mpmath.workdps(80):
        hi = FT(mpmath.nstr(value, 60, strip_zeros=False))
        lo = FT(mpmath.nstr(value - to_mpf(mpmath, hi), 60, strip_zeros=False))
    return hi, lo


_CONSTANTS: dict[str, object] = {}


def _constants():
    """Return ln 2 and the Taylor coefficients 1/n!, computed once with mpmath (lazily imported)."""
    if not _CONSTANTS:
        import mpmath

        with mpmath.workdps(80):
            _CONSTANTS["ln2"] = _constant(mpmath.log(2))
            _CONSTANTS["taylor"] = [
                _constant(1 / mpmath.factorial(n)) for n in range(_TAYLOR_TERMS)
            ]
    return _CONSTANTS["ln2"], _CONSTANTS["taylor"]


def _two_sum(a, b):
    """Return (s, e) with s + e == a + b exactly and s = fl(a + b) (Knuth)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _fast_two_sum(a, b):
    """As _two_sum, for |a| >= |b| (Dekker)."""
    s = a + b
    return s, b - (s - a)


def _split(a):
    c = _SPLITTER * a
    hi = c - (c - a)
    return hi, a - hi


def _two_prod(a, b):
    """Return (p, e) with p + e == a * b exactly and p = fl(a * b) (Dekker, Veltkamp)."""
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _dd_add(ah, al, bh, bl):
    s, e = _two_sum(ah, bh)
    return _fast_two_sum(s, e + (al + bl))


def _dd_mul(ah, al, bh, bl):
    p, e = _two_prod(ah, bh)
    return _fast_two_sum(p, e + (ah * bl + al * bh))


def dd_sum_rows(hi: np.ndarray, lo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sum double-double rows ``hi + lo`` (shape (rows, n)) pairwise, in double-double.

    The error is below ``ceil(log2 n) * _ADD_ERROR * 2**(-2 p)`` times the sum of the
    magnitudes (p the significand bits of FT); one vectorised level at a time.
    """
    while hi.shape[1] > 1:
        if hi.shape[1] % 2:
            hi = np.concatenate([hi, np.zeros_like(hi[:, :1])], axis=1)
            lo = np.concatenate([lo, np.zeros_like(lo[:, :1])], axis=1)
        hi, lo = _dd_add(hi[:, 0::2], lo[:, 0::2], hi[:, 1::2], lo[:, 1::2])
    return hi[:, 0], lo[:, 0]


def dd_exp(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """exp(x) as a double-double, for FT values ``_CUT <= x <= 0`` (exact inputs)."""
    ln2, taylor = _constants()
    k = np.rint(x / ln2[0])
    ph, pl = _two_prod(k, ln2[0])
    rh, rl = _two_sum(x, -ph)
    rh, rl = _fast_two_sum(rh, rl - (pl + k * ln2[1]))  # r = x - k ln 2, |r| <= ln(2) / 2
    rh, rl = np.ldexp(rh, -_SQUARINGS), np.ldexp(rl, -_SQUARINGS)
    ah = np.full_like(rh, taylor[-1][0])
    for hi, _ in reversed(taylor[_PLAIN_FROM:-1]):  # Horner, high orders in one part
        ah = ah * rh + hi
    al = np.zeros_like(ah)
    for hi, lo in reversed(taylor[:_PLAIN_FROM]):  # Horner, low orders in double-double
        ah, al = _dd_mul(ah, al, rh, rl)
        ah, al = _dd_add(ah, al, hi, lo)
    for _ in range(_SQUARINGS):
        ah, al = _dd_mul(ah, al, ah, al)
    ki = k.astype(np.int64)
    return np.ldexp(ah, ki), np.ldexp(al, ki)


def dd_signed_sums(d: np.ndarray, e: np.ndarray, b: np.ndarray, t: np.ndarray):
    """``sum(b * exp(d + e))`` per row in double-double, and a bound on its error.

    `d` holds float64 (or FT) differences ``<= 0`` and `e` their exact rounding errors
    (TwoSum); `b` the weights and `t` the terms' ``exp(d) (1 + e)`` in FT, used where
    ``d < _CUT``. Rows are along axis 1. Returns ``(sum, bound)`` in FT: the sum rounded
    from double-double, and an absolute bound on its error.
    """
    near = d >= _CUT
    dn = np.where(near, d, 0.0).astype(FT)
    eh, el = dd_exp(dn)
    ef = np.where(near, e, 0.0).astype(FT)
    ph, pl = _two_prod(eh, ef)  # exp(d) * (1 + e), to second order in e
    eh, el = _dd_add(eh, el, ph, pl + el * ef)
    bf = b.astype(FT)
    hi, lo = _two_prod(eh, bf)
    lo = lo + el * bf
    far = np.where(near, 0.0, bf * t)
    hi = np.where(near, hi, far)
    lo = np.where(near, lo, 0.0)
    sh, sl = dd_sum_rows(hi, lo)
    unit = 2.0 ** (-2 * _PRECISION)
    levels = max(1, math.ceil(math.log2(max(d.shape[1], 2))))
    second_order = float(np.max(dn.astype(np.float64) ** 2, initial=0.0)) * 2.0**-106
    per_term = (_EXP_ERROR + 4 + levels * _ADD_ERROR) * unit + second_order
    u_ft = float(np.finfo(FT).eps) / 2
    bound = per_term * np.sum(np.abs(hi) * near, axis=1) + 3 * u_ft * np.sum(np.abs(far), axis=1)
    return sh + sl, bound + u_ft * np.abs(sh)


def log_sum_exp_near_zero(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """log(sum(exp(row))) for float64 rows whose result is small beside their maximum.

    Returns ``(values, ok)``: ``values`` in float64, and ``ok`` where an error bound proves
    the value within a small fraction of an ULP of float64 (relative error below 2**-58 before
    the final rounding); the caller recomputes the other rows with mpmath. The sum
    ``S = sum(exp(x))`` is formed in double-double; the result is ``log1p(S - 1)``, with
    ``S - 1`` exact to the bound, so nothing cancels after it.
    """
    x = rows.astype(FT)
    keep = x >= _CUT
    eh, el = dd_exp(np.where(keep, x, 0.0))
    eh = np.where(keep, eh, 0.0)
    el = np.where(keep, el, 0.0)
    n_terms = rows.shape[1]
    sh, sl = dd_sum_rows(eh, el)
    wh, wl = _dd_add(sh, sl, np.full_like(sh, -1.0), np.zeros_like(sh))  # S - 1
    w = wh + wl
    unit = 2.0 ** (-2 * _PRECISION)
    levels = max(1, math.ceil(math.log2(n_terms))) if n_terms > 1 else 1
    dropped = np.count_nonzero(~keep, axis=1) * math.exp(_CUT)
    bound = sh.astype(np.float64) * (_EXP_ERROR + levels * _ADD_ERROR) * unit + dropped
    with np.errstate(divide="ignore", invalid="ignore"):
        values = (np.log1p(wh) + wl / (1 + wh)).astype(np.float64)
        ok = bound <= 2.0**-58 * np.abs(w.astype(np.float64))
    return values, ok & np.isfinite(values)


def _mpmath_nstr(value) -> str:
    import mpmath

    return mpmath.nstr(value, 40, strip_zeros=False)


def _mp_logsumexp(row: np.ndarray, digits: int):
    """log(sum(exp(row))) in `digits` decimal digits with mpmath (inputs read exactly)."""
    import mpmath  # imported lazily: only rows that the bounds below cannot settle need it

    with mpmath.workdps(digits):
        values = [to_mpf(mpmath, v) for v in row if v != -np.inf]
        return mpmath.log(mpmath.fsum(mpmath.exp(v) for v in values))


def refine_near_zero(work: np.ndarray, axes: tuple[int, ...], m: np.ndarray, out: np.ndarray):
    """Recompute, in extra precision, the rows where ``m + log(s)`` cancels.

    ``log(s) >= 0``, so the sum cancels only when the maximum ``m`` is negative and the
    result is small beside it (``|result| < |m| / 2``); such rows have every logit in
    ``[-log n - |m|, 0)``. Log-probabilities are exactly such rows (their log-sum-exp is 0 up
    to rounding). float64 rows (and float16/float32 ones, computed in float64) are summed in
    double-double arithmetic, vectorised (:mod:`softmax_lib._extended`); a row goes to mpmath
    only where the error bound of that sum does not prove the result. Long double rows go to
    mpmath, which reads them exactly.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        flagged = np.isfinite(m) & (m < 0) & (np.abs(out) < 0.5 * np.abs(m))
    if not flagged.any():
        return out
    n_axes = len(axes)
    rows = np.moveaxis(work, axes, tuple(range(-n_axes, 0)))
    rows = rows.reshape(-1, math.prod(work.shape[a] for a in axes))
    flat_out = np.moveaxis(out, axes, tuple(range(-n_axes, 0))).reshape(-1).copy()
    index = np.flatnonzero(np.moveaxis(flagged, axes, tuple(range(-n_axes, 0))).reshape(-1))
    if work.dtype == np.float64:
        values, ok = log_sum_exp_near_zero(rows[index])
        flat_out[index[ok]] = values[ok]
        index = index[~ok]
    flat_m = np.moveaxis(m, axes, tuple(range(-n_axes, 0))).reshape(-1)
    for r in index:
        # Enough digits for the result to survive a cancellation of |m| / |result| (below
        # 10**300 for any result that is not exactly zero in float64), and then some.
        amplification = abs(float(flat_m[r]) / float(flat_out[r])) if flat_out[r] else 1e300
        digits = 40 + np.finfo(work.dtype).precision + int(math.log10(amplification + 1))
        value = _mp_logsumexp(rows[r], digits)
        # A decimal string of 40 digits rounds correctly to any binary format up to 113 bits.
        flat_out[r] = work.dtype.type(_mpmath_nstr(value))
    shape = tuple(out.shape[a] for a in range(out.ndim) if a not in axes) + (1,) * n_axes
    return np.moveaxis(flat_out.reshape(shape), tuple(range(-n_axes, 0)), axes)
