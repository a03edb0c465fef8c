"""An exact reference computed with mpmath, and errors measured against it (ULPs, relative)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from softmax_lib._extended import to_mpf
from softmax_lib._validation import (
    as_real_float_array,
    check_at_least_1d,
    check_error_operands,
    check_reference_digits,
)
from softmax_lib.stability.formats import float_format

__all__ = [
    "reference_log_softmax",
    "reference_logsumexp",
    "reference_softmax",
    "relative_error",
    "ulp_error",
]

# --------------------------------------------------------------------------- reference


def _mp():
    import mpmath  # imported lazily: only the reference functions need it

    return mpmath


def _reference_rows(x: ArrayLike):
    """Return the validated input and its rows along the last axis, as a 2-d array."""
    arr = as_real_float_array(x, "x")
    check_at_least_1d(arr, "x")
    return arr, arr.reshape(math.prod(arr.shape[:-1]), arr.shape[-1])


def _row_parts(mp, row):
    """Return (kind, m, d, n_max, tail) for one row, in mpmath (exact inputs)."""
    vals = [to_mpf(mp, v) for v in row]
    if any(mp.isnan(v) for v in vals):
        return "nan", None, None, None, None
    if not vals:
        return "empty", None, None, None, None
    m = max(vals)
    if mp.isinf(m):
        return ("posinf" if m > 0 else "neginf"), m, None, None, None
    d = [v - m for v in vals]
    n_max = sum(1 for v in vals if v == m)
    tail = mp.fsum(mp.exp(di) for di, v in zip(d, vals, strict=True) if v != m)
    return "finite", m, d, n_max, tail


def reference_logsumexp(x: ArrayLike, *, dps: int = 60) -> NDArray[np.object_]:
    r"""Compute log-sum-exp along the last axis exactly enough to judge float64: mpmath.

    Parameters
    ----------
    x : array_like, shape (..., C)
        Real input, read exactly (every float is a rational number).
    dps : int, default: 60
        Decimal digits of working precision.

    Returns
    -------
    ndarray of mpmath.mpf, shape (...)
        The log-sum-exp of each row, as an object array. Special values follow
        :func:`softmax_lib.logsumexp`.

    Examples
    --------
    >>> from softmax_lib.stability import reference_logsumexp
    >>> print(float(reference_logsumexp([0.0, -40.0])))
    4.248354255291589e-18
    """
    dps = check_reference_digits(dps)
    mp = _mp()
    arr, rows = _reference_rows(x)
    out = np.empty(rows.shape[0], dtype=object)
    with mp.workdps(dps):
        for i, row in enumerate(rows):
            kind, m, _, n_max, tail = _row_parts(mp, row)
            out[i] = (
                {"nan": mp.nan, "empty": mp.ninf, "posinf": mp.inf, "neginf": mp.ninf}.get(kind)
                if kind != "finite"
                else m + mp.log1p(tail + (n_max - 1))
            )
    return out.reshape(arr.shape[:-1])


def _reference_normalised(x: ArrayLike, dps: int, log: bool) -> NDArray[np.object_]:
    dps = check_reference_digits(dps)
    mp = _mp()
    arr, rows = _reference_rows(x)
    out = np.empty(rows.shape, dtype=object)
    with mp.workdps(dps):
        for i, row in enumerate(rows):
            kind, _, d, n_max, tail = _row_parts(mp, row)
            if kind != "finite":
                out[i, :] = mp.nan
            elif log:
                log_s = mp.log1p(tail + (n_max - 1))
                out[i, :] = [di - log_s for di in d]
            else:
                s = n_max + tail
                out[i, :] = [mp.exp(di) / s for di in d]
    return out.reshape(arr.shape)


def reference_softmax(x: ArrayLike, *, dps: int = 60) -> NDArray[np.object_]:
    r"""Compute softmax along the last axis in high precision with mpmath.

    Parameters
    ----------
    x : array_like, shape (..., C)
        Real logits, read exactly.
    dps : int, default: 60
        Decimal digits of working precision.

    Returns
    -------
    ndarray of mpmath.mpf, shape (..., C)
        The probabilities as an object array; special values follow
        :func:`softmax_lib.softmax`.

    Examples
    --------
    >>> from softmax_lib.stability import reference_softmax
    >>> [float(p) for p in reference_softmax([0.0, 1.0])]
    [0.2689414213699951, 0.7310585786300049]
    """
    return _reference_normalised(x, dps, log=False)


def reference_log_softmax(x: ArrayLike, *, dps: int = 60) -> NDArray[np.object_]:
    r"""Compute log-softmax along the last axis in high precision with mpmath.

    Parameters
    ----------
    x : array_like, shape (..., C)
        Real logits, read exactly.
    dps : int, default: 60
        Decimal digits of working precision.

    Returns
    -------
    ndarray of mpmath.mpf, shape (..., C)
        The log-probabilities as an object array; special values follow
        :func:`softmax_lib.log_softmax`.

    Examples
    --------
    >>> from softmax_lib.stability import reference_log_softmax
    >>> print(float(reference_log_softmax([0.0, -40.0])[0]))
    -4.248354255291589e-18
    """
    return _reference_normalised(x, dps, log=True)


def _approx_and_exact(approx: ArrayLike, exact: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Validate a computed float array and its reference (an object array of the same shape)."""
    return check_error_operands(approx, exact)


def relative_error(approx: ArrayLike, exact: ArrayLike) -> NDArray[np.float64]:
    r"""Measure ``|approx - exact| / |exact|`` element by element, exactly.

    The difference is taken in mpmath, so it is not itself spoiled by rounding.

    Parameters
    ----------
    approx : array_like of float
        Computed values.
    exact : array_like
        Reference values of the same shape: mpmath numbers (as from ``reference_*``) or
        floats.

    Returns
    -------
    ndarray of float64
        The relative error. Where `exact` is 0 it is 0 if `approx` is 0 too and ``inf``
        otherwise; matching NaNs or infinities count as 0, mismatched ones as ``inf``.

    Raises
    ------
    TypeError, ValueError
        If `approx` is not a floating-point array, or `exact` does not have its shape or
        holds anything but real numbers (None, strings, complex numbers, bools and time
        deltas are rejected, naming the first one, rather than failing inside mpmath).

    Examples
    --------
    >>> import numpy as np
    >>> from softmax_lib.stability import relative_error
    >>> relative_error(np.array([1.01, 0.0]), [1.0, 0.0])
    array([0.01, 0.  ])
    """
    mp = _mp()
    a, ex = _approx_and_exact(approx, exact)
    out = np.empty(a.shape, dtype=np.float64)
    with mp.workdps(80):
        for idx in np.ndindex(a.shape):
            got, want = to_mpf(mp, a[idx]), to_mpf(mp, ex[idx])
            if mp.isnan(got) or mp.isnan(want) or mp.isinf(got) or mp.isinf(want) or want == 0:
                out[idx] = 0.0 if (got == want or (mp.isnan(got) and mp.isnan(want))) else np.inf
            else:
                out[idx] = float(abs(got - want) / abs(want))
    return out


def ulp_error(approx: ArrayLike, exact: ArrayLike, *, dtype: Any = None) -> NDArray[np.float64]:
    r"""Measure the error of `approx` in units in the last place (ULPs) of its own format.

    The ULP of a real number :math:`r` in a format of precision :math:`p` is
    :math:`2^{\max(e, e_{min}) - p + 1}` with :math:`2^e \le |r| < 2^{e+1}`: the spacing of
    the floats around :math:`r`. A correctly rounded result has an error of at most 0.5.

    Parameters
    ----------
    approx : array_like of float
        Computed values; their dtype (float16, float32, float64 or long double) is the
        format the ULP refers to.
    exact : array_like
        Reference values of the same shape: mpmath numbers (as from ``reference_*``) or
        floats.
    dtype : dtype-like or 'bfloat16', optional
        The format whose ULPs to count, if not the dtype of `approx`; for example
        ``'bfloat16'`` for bfloat16 results stored in a float32 array.

    Returns
    -------
    ndarray of float64
        ``|approx - exact| / ulp(exact)`` element by element. Matching NaNs and matching
        infinities count as 0; an infinity where the exact value is finite counts as 0 only
        if the exact value rounds to that infinity, and as ``inf`` otherwise.

    Raises
    ------
    TypeError, ValueError
        As for :func:`relative_error`, and if `dtype` is not a floating-point type.

    Examples
    --------
    >>> import numpy as np
    >>> from softmax_lib.stability import ulp_error
    >>> print(ulp_error(np.float32([1.0 + 2**-23]), [1.0]))
    [1.]
    """
    mp = _mp()
    a, ex = _approx_and_exact(approx, exact)
    fmt = float_format(a.dtype if dtype is None else dtype)
    out = np.empty(a.shape, dtype=np.float64)
    with mp.workdps(80):
        half_past_max = mp.ldexp(mp.mpf(2) - mp.ldexp(1, -fmt.precision), fmt.emax)
        for idx in np.ndindex(a.shape):
            got = a[idx]
            want = to_mpf(mp, ex[idx])
            if mp.isnan(want) or np.isnan(got):
                out[idx] = 0.0 if (mp.isnan(want) and np.isnan(got)) else np.inf
                continue
            if np.isinf(got):
                same_sign = (got > 0) == (want > 0)
                out[idx] = 0.0 if same_sign and abs(want) >= half_past_max else np.inf
                continue
            if mp.isinf(want):
                out[idx] = np.inf
                continue
            exponent = mp.frexp(want)[1] - 1 if want != 0 else fmt.emin
            ulp = mp.ldexp(1, max(exponent, fmt.emin) - fmt.precision + 1)
            out[idx] = float(abs(to_mpf(mp, got) - want) / ulp)
    return out
