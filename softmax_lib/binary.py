r"""The sigmoid and its logarithm: softmax with two classes, element-wise.

The sigmoid is the first entry of ``softmax([x, 0])``. Both functions here are element-wise,
so unlike :func:`~softmax_lib.softmax` they accept 0-d input. float16 and float32 are
computed in float64 and rounded once, as in :mod:`softmax_lib.core`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from softmax_lib._validation import as_real_float_array

__all__ = ["log_sigmoid", "sigmoid"]

_WIDENED = (np.dtype(np.float16), np.dtype(np.float32))


def _working(x: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    arr = as_real_float_array(x, "x")
    return arr, (arr.astype(np.float64) if arr.dtype in _WIDENED else arr)


def _finish(value: np.ndarray, arr: np.ndarray) -> NDArray[np.floating]:
    out = value.astype(arr.dtype, copy=False)
    return out[()] if arr.ndim == 0 else out


def sigmoid(x: ArrayLike) -> NDArray[np.floating]:
    r"""Compute the logistic sigmoid ``1 / (1 + exp(-x))`` element-wise, without overflow.

    ``sigmoid(x) == softmax([x, 0])[0]``, and more generally
    ``sigmoid(a - b) == softmax([a, b])[0]``.

    Parameters
    ----------
    x : array_like
        Real input of any shape, including 0-d. Integers and booleans become float64.

    Returns
    -------
    ndarray
        Values in ``[0, 1]``, with the dtype and shape of `x` (a NumPy scalar for 0-d input).

    Raises
    ------
    TypeError
        If `x` is complex or not numeric.

    See Also
    --------
    log_sigmoid : ``log(sigmoid(x))`` without underflow.
    softmax_lib.softmax : The general case.

    Notes
    -----
    .. math:: \sigma(x) = \frac{1}{1 + e^{-x}} = \frac{e^{x}}{1 + e^{x}}

    The first form is used for ``x >= 0`` and the second for ``x < 0``, so that ``exp`` only
    ever sees a non-positive argument and cannot overflow. The rounding error of the sum
    ``1 + e`` is recovered exactly (Fast2Sum) and corrects the quotient, so the result is
    within two ULPs in float64 and correctly rounded in float16 and float32 (computed in
    float64). Special values: ``sigmoid(inf) = 1``, ``sigmoid(-inf) = 0``, NaN gives NaN.

    Derived in :doc:`/chapters/03-sigmoid`.

    Examples
    --------
    >>> import numpy as np
    >>> from softmax_lib import sigmoid
    >>> print(sigmoid(np.array([-1000.0, 0.0, 1000.0])))
    [0.  0.5 1. ]
    >>> float(sigmoid(-40.0))  # about exp(-40); 1 - sigmoid(40) would give 0
    4.248354255291589e-18
    """
    arr, w = _working(x)
    with np.errstate(invalid="ignore"):  # NaN input stays NaN by design
        e = np.exp(-np.abs(w))  # in (0, 1]; never overflows
    s = 1.0 + e
    err = (1.0 - s) + e  # Fast2Sum: s + err == 1 + e exactly, since 1 >= e
    inv = 1.0 / s
    inv = inv - inv * (err / s)  # 1 / (s + err) to first order
    value = np.where(w >= 0, inv, e * inv)
    return _finish(value, arr)


def log_sigmoid(x: ArrayLike) -> NDArray[np.floating]:
    r"""Compute ``log(sigmoid(x)) = -log(1 + exp(-x))`` element-wise, without underflow.

    ``log_sigmoid(x) == log_softmax([x, 0])[0] == -softplus(-x)``.

    Parameters
    ----------
    x : array_like
        Real input of any shape, including 0-d. Integers and booleans become float64.

    Returns
    -------
    ndarray
        Values in ``[-inf, 0]``, with the dtype and shape of `x`.

    Raises
    ------
    TypeError
        If `x` is complex or not numeric.

    See Also
    --------
    sigmoid : The probability itself.
    softmax_lib.log_softmax : The general case.

    Notes
    -----
    .. math::

        \log \sigma(x) = -\log\bigl(1 + e^{-x}\bigr)
                       = x - \log\bigl(1 + e^{x}\bigr)

    The first (softplus) form is used for ``x >= 0``, the second for ``x < 0``; ``log1p``
    keeps the small term ``e^{-|x|}``. The two terms of the second form are both negative, so
    nothing cancels: the result stays accurate where ``log(sigmoid(x))`` gives ``-inf``.
    Special values: ``log_sigmoid(inf) = -0.0``, ``log_sigmoid(-inf) = -inf``, NaN gives NaN.

    Derived in :doc:`/chapters/03-sigmoid`.

    Examples
    --------
    >>> from softmax_lib import log_sigmoid
    >>> float(log_sigmoid(-1000.0))  # log(sigmoid(-1000.0)) would be log(0) = -inf
    -1000.0
    >>> float(log_sigmoid(0.0))  # -log(2)
    -0.6931471805599453
    """
    arr, w = _working(x)
    with np.errstate(invalid="ignore"):  # inf - inf cannot occur: the branches split at 0
        softplus_tail = np.log1p(np.exp(-np.abs(w)))
        value = np.where(w >= 0, -softplus_tail, w - softplus_tail)
    return _finish(value, arr)
