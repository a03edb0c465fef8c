r"""Numerical stability, for teaching and for measuring.

Three kinds of tools live here:

* *deliberately naive* formulas (``naive_*``), whose overflow and ``nan`` are the lesson,
  and the textbook max-shifted formulas (``shifted_*``), which fix overflow but not the
  lost tail;
* facts about floating-point formats: :func:`float_format` and the thresholds at which
  ``exp`` overflows or underflows (float16, bfloat16, float32, float64, long double);
* an exact reference computed with mpmath (``reference_*``) and :func:`ulp_error`, which
  measure how far a floating-point result is from the true value.

Unlike the rest of the package, the ``naive_*`` functions do not silence floating-point
warnings: the warnings are part of what they teach.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from softmax_lib._extended import to_mpf
from softmax_lib._validation import (
    Axis,
    as_real_float_array,
    check_at_least_1d,
    check_reference_digits,
    normalize_axis,
)

__all__ = [
    "FloatFormat",
    "exp_overflow_threshold",
    "exp_underflow_threshold",
    "float_format",
    "naive_log_softmax",
    "naive_logsumexp",
    "naive_softmax",
    "reference_log_softmax",
    "reference_logsumexp",
    "reference_softmax",
    "relative_error",
    "shifted_log_softmax",
    "shifted_logsumexp",
    "shifted_softmax",
    "ulp_error",
]


def _checked(x: ArrayLike, axis: Axis) -> tuple[np.ndarray, tuple[int, ...]]:
    arr = as_real_float_array(x, "x")
    check_at_least_1d(arr, "x")
    return arr, normalize_axis(axis, arr.ndim)


# --------------------------------------------------------------------------- naive


def naive_softmax(x: ArrayLike, axis: Axis = -1) -> NDArray[np.floating]:
    r"""Compute softmax straight from the definition, ``exp(x) / sum(exp(x))``.

    For teaching only: it overflows for large logits and divides ``0 / 0`` when every logit
    is very negative. Use :func:`softmax_lib.softmax` for real work.

    Parameters
    ----------
    x : array_like, shape (..., C)
        Real logits; integers are promoted to float64.
    axis : int, tuple of int or None, default: -1
        Axis or axes to normalise over.

    Returns
    -------
    ndarray
        ``exp(x) / sum(exp(x))``, possibly containing ``nan``.

    Examples
    --------
    >>> import numpy as np
    >>> from softmax_lib.stability import naive_softmax
    >>> with np.errstate(over="ignore", invalid="ignore"):
    ...     naive_softmax([1000.0, 0.0])
    array([nan,  0.])
    """
    arr, axes = _checked(x, axis)
    e = np.exp(arr)
    return e / np.sum(e, axis=axes, keepdims=True)


def naive_log_softmax(x: ArrayLike, axis: Axis = -1) -> NDArray[np.floating]:
    r"""Compute ``log(naive_softmax(x))``, the wrong way to get log-probabilities.

    For teaching only: a probability that underflows to 0 becomes ``-inf``.

    Parameters
    ----------
    x : array_like, shape (..., C)
        Real logits; integers are promoted to float64.
    axis : int, tuple of int or None, default: -1
        Axis or axes to normalise over.

    Returns
    -------
    ndarray
        ``log(exp(x) / sum(exp(x)))``, possibly containing ``-inf`` or ``nan``.

    Examples
    --------
    >>> import numpy as np
    >>> from softmax_lib.stability import naive_log_softmax
    >>> with np.errstate(divide="ignore"):
    ...     naive_log_softmax([0.0, -800.0])
    array([  0., -inf])
    """
    return np.log(naive_softmax(x, axis))


def naive_logsumexp(x: ArrayLike, axis: Axis = -1) -> NDArray[np.floating]:
    r"""Compute ``log(sum(exp(x)))`` as written, without a shift.

    For teaching only: it overflows to ``inf`` for large inputs and gives ``-inf`` when
    every input is very negative.

    Parameters
    ----------
    x : array_like, shape (..., C)
        Real input; integers are promoted to float64.
    axis : int, tuple of int or None, default: -1
        Axis or axes to reduce over.

    Returns
    -------
    ndarray
        ``log(sum(exp(x)))`` with the reduced axes removed.

    Examples
    --------
    >>> import numpy as np
    >>> from softmax_lib.stability import naive_logsumexp
    >>> with np.errstate(over="ignore"):
    ...     float(naive_logsumexp([1000.0, 0.0]))
    inf
    """
    arr, axes = _checked(x, axis)
    return np.log(np.sum(np.exp(arr), axis=axes))


# --------------------------------------------------------------------------- shifted


def shifted_logsumexp(x: ArrayLike, axis: Axis = -1) -> NDArray[np.floating]:
    r"""Compute ``m + log(sum(exp(x - m)))`` with ``m = max(x)``: the textbook fix.

    It cannot overflow, but it rounds a tiny tail away: ``shifted_logsumexp([0, -40])`` is
    0, while the true value is about ``4.2e-18``. Compare :func:`softmax_lib.logsumexp`.
    Assumes a finite maximum (no ``inf`` or ``nan`` handling).

    Parameters
    ----------
    x : array_like, shape (..., C)
        Real input with finite values; integers are promoted to float64.
    axis : int, tuple of int or None, default: -1
        Axis or axes to reduce over.

    Returns
    -------
    ndarray
        The shifted log-sum-exp with the reduced axes removed.

    Examples
    --------
    >>> from softmax_lib.stability import shifted_logsumexp
    >>> float(shifted_logsumexp([1000.0, 1000.0])), float(shifted_logsumexp([0.0, -40.0]))
    (1000.693147, 0.0)
    """
    arr, axes = _checked(x, axis)
    m = np.max(arr, axis=axes, keepdims=True)
    return np.squeeze(m + np.log(np.sum(np.exp(arr - m), axis=axes, keepdims=True)), axes)


def shifted_softmax(x: ArrayLike, axis: Axis = -1) -> NDArray[np.floating]:
    r"""Compute ``exp(x - m) / sum(exp(x - m))`` with ``m = max(x)``: the textbook fix.

    It cannot overflow and is what most libraries do; each probability of a logit far below
    the maximum carries the rounding error of ``x - m``. Assumes a finite maximum.

    Parameters
    ----------
    x : array_like, shape (..., C)
        Real logits with finite values; integers are promoted to float64.
    axis : int, tuple of int or None, default: -1
        Axis or axes to normalise over.

    Returns
    -------
    ndarray
        Probabilities along `axis`.

    Examples
    --------
    >>> from softmax_lib.stability import shifted_softmax
    >>> shifted_softmax([1000.0, 1000.0])
    array([0.5, 0.5])
    """
    arr, axes = _checked(x, axis)
    e = np.exp(arr - np.max(arr, axis=axes, keepdims=True))
    return e / np.sum(e, axis=axes, keepdims=True)


def shifted_log_softmax(x: ArrayLike, axis: Axis = -1) -> NDArray[np.floating]:
    r"""Compute ``(x - m) - log(sum(exp(x - m)))``, the max-shifted log-softmax.

    This is the formula SciPy and PyTorch use. It never returns ``-inf`` for finite input,
    but the entry of the maximum, ``-log(1 + tail)``, loses a tiny tail when ``1 + tail`` is
    rounded. Assumes a finite maximum.

    Parameters
    ----------
    x : array_like, shape (..., C)
        Real logits with finite values; integers are promoted to float64.
    axis : int, tuple of int or None, default: -1
        Axis or axes to normalise over.

    Returns
    -------
    ndarray
        Log-probabilities along `axis`.

    Examples
    --------
    >>> from softmax_lib.stability import shifted_log_softmax
    >>> shifted_log_softmax([0.0, -40.0])
    array([  0., -40.])
    """
    arr, axes = _checked(x, axis)
    shifted = arr - np.max(arr, axis=axes, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axes, keepdims=True))


# --------------------------------------------------------------------------- formats


@dataclass(frozen=True)
class FloatFormat:
    r"""A binary floating-point format, described by its precision and exponent range.

    Attributes
    ----------
    name : str
        The format's usual name, such as ``'float32'``.
    precision : int
        Significand bits, counting the implicit leading bit (``p``; 53 for float64).
    emax : int
        Largest exponent of a normal number (1023 for float64).
    emin : int
        Smallest exponent of a normal number (-1022 for float64).
    """

    name: str
    precision: int
    emax: int
    emin: int

    @property
    def eps(self) -> float:
        """Machine epsilon, the gap between 1 and the next larger number: ``2**(1 - p)``."""
        return _pow2_times(1, 1 - self.precision)

    @property
    def max(self) -> float:
        """The largest finite number, ``(2**p - 1) * 2**(emax - p + 1)``."""
        return _pow2_times(2**self.precision - 1, self.emax - self.precision + 1)

    @property
    def smallest_normal(self) -> float:
        """The smallest positive normal number, ``2**emin``."""
        return _pow2_times(1, self.emin)

    @property
    def smallest_subnormal(self) -> float:
        """The smallest positive subnormal number, ``2**(emin - p + 1)``."""
        return _pow2_times(1, self.emin - self.precision + 1)


def _pow2_times(mantissa: int, exponent: int) -> float:
    """Return ``mantissa * 2**exponent`` exactly: a Python float, or a long double if needed."""
    try:
        value = math.ldexp(float(mantissa), exponent)
        if value != 0.0 and float(mantissa) == mantissa:
            return value
    except OverflowError:
        pass
    return np.ldexp(np.longdouble(mantissa), exponent)


# bfloat16 (the "brain" format) has float32's 8 exponent bits and 7 stored fraction bits.
_BFLOAT16 = FloatFormat("bfloat16", precision=8, emax=127, emin=-126)


def float_format(dtype: Any) -> FloatFormat:
    r"""Describe a floating-point dtype: precision, exponent range, and derived limits.

    Parameters
    ----------
    dtype : dtype-like or 'bfloat16'
        A NumPy floating dtype (``np.float16``, ``'float32'``, ...), a framework dtype whose
        name ends in one of those names (such as ``torch.float32``), or ``'bfloat16'``,
        which NumPy lacks.

    Returns
    -------
    FloatFormat
        The format, with ``max``, ``smallest_normal``, ``smallest_subnormal`` and ``eps``.

    Raises
    ------
    TypeError
        If `dtype` is not a floating-point type.

    Examples
    --------
    >>> import numpy as np
    >>> from softmax_lib.stability import float_format
    >>> f = float_format(np.float16)
    >>> f.precision, f.max, f.smallest_subnormal
    (11, 65504.0, 5.960464477539063e-08)
    >>> float_format("bfloat16").max
    3.3895313892515355e+38
    """
    if dtype is None:  # np.dtype(None) would silently mean float64
        raise TypeError("`dtype` must be a floating-point type; got None.")
    name = str(dtype).rsplit(".", 1)[-1].strip("'<>\" ")
    if name == "bfloat16":
        return _BFLOAT16
    try:
        dt = np.dtype(name if name in {"float16", "float32", "float64"} else dtype)
    except TypeError:
        dt = None
    if dt is None or not np.issubdtype(dt, np.floating):
        raise TypeError(f"`dtype` must be a floating-point type; got {dtype!r}.")
    fi = np.finfo(dt)
    return FloatFormat(dt.name, precision=fi.nmant + 1, emax=fi.maxexp - 1, emin=fi.minexp)


def exp_overflow_threshold(dtype: Any) -> float:
    r"""Return the value above which ``exp`` overflows to ``inf`` in `dtype`.

    It is the real number at which rounding to nearest switches from the largest finite value
    to infinity: :math:`\ln(M + u/2)` for the largest finite value :math:`M` and its spacing
    :math:`u`, equal to :math:`\ln M` to about ``p + 1`` bits.

    Parameters
    ----------
    dtype : dtype-like or 'bfloat16'
        See :func:`float_format`.

    Returns
    -------
    float
        The threshold, as a Python float (rounded to float64).

    Notes
    -----
    :math:`M + u/2 = 2^{e_{max}+1}(1 - 2^{-p-1})`, so the threshold is
    :math:`(e_{max}+1)\ln 2 + \operatorname{log1p}(-2^{-p-1})`, which is computed to within
    one float64 rounding.

    Examples
    --------
    >>> import numpy as np
    >>> from softmax_lib.stability import exp_overflow_threshold
    >>> exp_overflow_threshold(np.float64), exp_overflow_threshold(np.float32)
    (709.782712893384, 88.72283908187068)
    """
    f = float_format(dtype)
    return (f.emax + 1) * math.log(2.0) + math.log1p(-math.ldexp(1.0, -f.precision - 1))


def exp_underflow_threshold(dtype: Any) -> float:
    r"""Return the value below which ``exp`` underflows to exactly 0 in `dtype`.

    It is :math:`\ln(s/2)` for the smallest positive subnormal number :math:`s`: below it,
    rounding to nearest gives 0. Between it and :math:`\ln` of the smallest normal number,
    ``exp`` returns subnormal numbers with fewer significant bits.

    Parameters
    ----------
    dtype : dtype-like or 'bfloat16'
        See :func:`float_format`.

    Returns
    -------
    float
        The threshold, as a Python float (rounded to float64).

    Examples
    --------
    >>> import numpy as np
    >>> from softmax_lib.stability import exp_underflow_threshold
    >>> exp_underflow_threshold(np.float64), exp_underflow_threshold(np.float32)
    (-745.1332191019412, -103.97207708399179)
    """
    f = float_format(dtype)
    return (f.emin - f.precision) * math.log(2.0)


# --------------------------------------------------------------------------- reference


def _mp():
    import mpmath  # imported lazily: only the reference functions need it

    return mpmath


_to_mpf = to_mpf  # the package's one exact conversion to mpmath


def _reference_rows(x: ArrayLike):
    """Return the validated input and its rows along the last axis, as a 2-d array."""
    arr = as_real_float_array(x, "x")
    check_at_least_1d(arr, "x")
    return arr, arr.reshape(math.prod(arr.shape[:-1]), arr.shape[-1])


def _row_parts(mp, row):
    """Return (kind, m, d, n_max, tail) for one row, in mpmath (exact inputs)."""
    vals = [_to_mpf(mp, v) for v in row]
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
    a = np.asarray(approx)
    if not np.issubdtype(a.dtype, np.floating):
        raise TypeError(f"`approx` must be a floating-point array; got dtype {a.dtype}.")
    ex = np.asarray(exact, dtype=object)
    if ex.shape != a.shape:
        raise ValueError(f"`exact` must have the shape of `approx`, {a.shape}; got {ex.shape}.")
    return a, ex


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
            got, want = _to_mpf(mp, a[idx]), _to_mpf(mp, ex[idx])
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
            want = _to_mpf(mp, ex[idx])
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
            out[idx] = float(abs(_to_mpf(mp, got) - want) / ulp)
    return out
