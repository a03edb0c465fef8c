"""Deliberately naive and textbook max-shifted formulas: what the chapters improve on.

The ``naive_*`` functions do not silence floating-point warnings: the warnings are part of
what they teach.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from softmax_lib._validation import Axis, prepare

__all__ = [
    "naive_log_softmax",
    "naive_logsumexp",
    "naive_softmax",
    "shifted_log_softmax",
    "shifted_logsumexp",
    "shifted_softmax",
]


def _checked(x: ArrayLike, axis: Axis) -> tuple[np.ndarray, tuple[int, ...]]:
    prepared = prepare(x, axis, widen=False)
    return prepared.arr, prepared.axes


def _max(arr: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """Return the maximum with keepdims; -inf over an empty axis (nothing to shift)."""
    return np.max(arr, axis=axes, keepdims=True, initial=-np.inf)


# The shifted formulas are the textbook fix: a difference beyond the float range (logits
# near +-1.8e308) becomes -inf and its exponential 0, the right value, without a warning.


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
    m = _max(arr, axes)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        out = m + np.log(np.sum(np.exp(arr - m), axis=axes, keepdims=True))
    return np.squeeze(out, axes)


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
    with np.errstate(over="ignore"):
        e = np.exp(arr - _max(arr, axes))
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
    with np.errstate(over="ignore"):
        shifted = arr - _max(arr, axes)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axes, keepdims=True))
