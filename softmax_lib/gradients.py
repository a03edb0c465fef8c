r"""Derivatives of softmax, log-softmax and the cross-entropy loss, and a numerical checker.

Layout convention (numerator layout), used throughout the book: the Jacobian of a map
``f: R^C -> R^C`` has entries ``J[..., i, j] = d f_i / d x_j``, so row ``i`` belongs to output
``i``. The gradient of a scalar loss has the shape of its input, and a vector-Jacobian product
is ``v @ J``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from softmax_lib._targets import Reduction, prepare_cross_entropy
from softmax_lib._validation import (
    as_real_float_array,
    check_callable,
    check_positive_finite,
    check_real_result,
    check_same_shape,
    prepare,
)
from softmax_lib.core import softmax

__all__ = [
    "cross_entropy_grad",
    "log_softmax_jacobian",
    "numerical_gradient",
    "softmax_jacobian",
    "softmax_vjp",
]


def _probabilities_last(x: ArrayLike, axis: int, name: str = "x") -> tuple[np.ndarray, int]:
    prepared = prepare(x, axis, name, one_axis=True, need_classes=True, widen=False)
    return softmax(np.moveaxis(prepared.arr, prepared.axis, -1), axis=-1), prepared.axis


def softmax_jacobian(x: ArrayLike, axis: int = -1) -> NDArray[np.floating]:
    r"""Return the Jacobian of softmax at `x`: ``diag(p) - outer(p, p)`` for each row.

    Parameters
    ----------
    x : array_like, shape (..., C)
        Logits; `axis` is the class axis.
    axis : int, default: -1
        The class axis. It is moved last in the result.

    Returns
    -------
    ndarray, shape (..., C, C)
        ``J[..., i, j] = d softmax(x)_i / d x_j``, batch axes first (the class axis of `x`
        removed), then output ``i``, then input ``j``.

    Raises
    ------
    TypeError, ValueError
        For invalid `x` or `axis`, as :func:`softmax_lib.softmax`.

    See Also
    --------
    softmax_vjp : ``v @ J`` in O(C), without forming ``J``.
    log_softmax_jacobian : ``I - 1 p^T``.

    Notes
    -----
    .. math:: \frac{\partial p_i}{\partial x_j} = p_i(\delta_{ij} - p_j),
              \qquad J = \operatorname{diag}(p) - p p^\top .

    ``J`` is symmetric, positive semidefinite, and ``J @ 1 = 0`` (rank ``C - 1`` when every
    ``p_i > 0``). Forming it costs O(C^2) memory; frameworks never do.

    Derived in :doc:`/chapters/05-gradients`.

    Examples
    --------
    >>> from softmax_lib.gradients import softmax_jacobian
    >>> softmax_jacobian([0.0, 0.0])
    array([[ 0.25, -0.25],
           [-0.25,  0.25]])
    """
    p, _ = _probabilities_last(x, axis)
    eye = np.eye(p.shape[-1], dtype=p.dtype)
    return p[..., :, None] * eye - p[..., :, None] * p[..., None, :]


def log_softmax_jacobian(x: ArrayLike, axis: int = -1) -> NDArray[np.floating]:
    r"""Return the Jacobian of log-softmax at `x`: ``I - outer(1, p)`` for each row.

    Parameters
    ----------
    x : array_like, shape (..., C)
        Logits.
    axis : int, default: -1
        The class axis. It is moved last in the result.

    Returns
    -------
    ndarray, shape (..., C, C)
        ``J[..., i, j] = d log_softmax(x)_i / d x_j = delta_ij - p_j``. Every row is the
        same vector minus a unit vector; the matrix is not symmetric.

    Raises
    ------
    TypeError, ValueError
        For invalid `x` or `axis`.

    Notes
    -----
    .. math:: \frac{\partial \log p_i}{\partial x_j} = \delta_{ij} - p_j,
              \qquad J = I - \mathbf{1} p^\top .

    Derived in :doc:`/chapters/05-gradients`.

    Examples
    --------
    >>> import numpy as np
    >>> from softmax_lib.gradients import log_softmax_jacobian
    >>> log_softmax_jacobian(np.log([0.75, 0.25]))
    array([[ 0.25, -0.25],
           [-0.75,  0.75]])
    """
    p, _ = _probabilities_last(x, axis)
    eye = np.eye(p.shape[-1], dtype=p.dtype)
    return eye - p[..., None, :]


def softmax_vjp(x: ArrayLike, v: ArrayLike, axis: int = -1) -> NDArray[np.floating]:
    r"""Return the vector-Jacobian product ``v @ J`` of softmax at `x`, in O(C).

    Because ``J`` is symmetric this is also ``J @ v``: ``p * (v - sum(v * p))``.

    Parameters
    ----------
    x : array_like, shape (..., C)
        Logits.
    v : array_like, shape (..., C)
        The upstream gradient ``d loss / d p``, with the shape of `x`.
    axis : int, default: -1
        The class axis of `x` and `v`.

    Returns
    -------
    ndarray
        ``d loss / d x``, with the shape of `x`.

    Raises
    ------
    TypeError, ValueError
        For invalid `x`, `v` or `axis` (as :func:`softmax_lib.softmax`), or if `v` does not
        have the shape of `x`.

    Notes
    -----
    .. math:: (v^\top J)_j = \sum_i v_i p_i (\delta_{ij} - p_j) = p_j (v_j - v^\top p).

    This is how every framework backpropagates through softmax: two passes over the row
    instead of a :math:`C \times C` matrix.

    Special values follow :func:`softmax_lib.softmax`. A row whose softmax is NaN (a row
    with a NaN, with a ``+inf``, or with only ``-inf`` logits) has an all-NaN product,
    whatever `v`, as ``v @ softmax_jacobian(x)`` has: a NaN forward pass never gets a
    clean-looking gradient (earlier versions returned zeros for such rows). An entry
    whose probability is exactly 0 (a ``-inf`` logit beside finite ones, or a logit whose
    exponential underflows) has a zero row and column in ``J``: its result is 0, and its
    cotangent is ignored even where it is infinite or NaN (``v @ J`` would form
    ``0 * inf = NaN``), as a masked entry contributes nothing. A NaN or infinite cotangent
    on an entry with a positive probability reaches every entry with a positive
    probability.

    Derived in :doc:`/chapters/05-gradients`.

    Examples
    --------
    >>> from softmax_lib.gradients import softmax_vjp
    >>> softmax_vjp([0.0, 0.0], [1.0, 0.0])
    array([ 0.25, -0.25])
    """
    arr = as_real_float_array(x, "x")
    vec = as_real_float_array(v, "v")
    check_same_shape(arr, "x", vec, "v")
    dtype = np.result_type(arr, vec)
    p, ax = _probabilities_last(arr.astype(dtype, copy=False), axis)
    v_last = np.moveaxis(vec, ax, -1).astype(dtype, copy=False)
    # v_j - v.p, computed relative to the most probable class k as
    # (v_j - v_k) - sum_{i != k} p_i (v_i - v_k): the same in exact arithmetic (the p sum to
    # 1), but it never subtracts two nearly equal numbers when p_k rounds to 1.
    k = np.argmax(p, axis=-1)[..., None]
    v_k = np.take_along_axis(v_last, k, axis=-1)
    # Entries with p_i == 0 contribute exactly 0 (never 0 * inf). Differences of cotangents
    # near the float maximum are taken at half scale, which is exact, and doubled at the end.
    half = bool(np.any(np.abs(v_last) > np.finfo(dtype).max / 2))
    scale = 0.5 if half else 1.0
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf in v: NaN, as it should
        rel = v_last * scale - v_k * scale
        mean = np.sum(p * rel, axis=-1, keepdims=True, where=p > 0)
        # p is NaN (the whole row) exactly where softmax is undefined: the product is too.
        out = np.where(p > 0, p * (rel - mean), np.where(np.isnan(p), np.nan, 0.0)) / scale
    return np.moveaxis(out, -1, ax).astype(dtype)


def cross_entropy_grad(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    axis: int = -1,
    weight: ArrayLike | None = None,
    ignore_index: int | None = None,
    reduction: Reduction = "mean",
    label_smoothing: float = 0.0,
) -> NDArray[np.floating]:
    r"""Return the gradient of :func:`softmax_lib.losses.cross_entropy` with respect to `logits`.

    The arguments and their semantics are those of the loss. For a one-hot (or any
    probability) target ``y`` that sums to 1, no weights and ``'sum'``, this is
    ``softmax(logits) - y``.

    Parameters
    ----------
    logits, target, axis, weight, ignore_index, reduction, label_smoothing
        As for :func:`softmax_lib.losses.cross_entropy`. With ``reduction='none'`` the
        result is the gradient of the sum of the per-example losses (each row the gradient
        of its own loss).

    Returns
    -------
    ndarray
        The gradient, with the shape and dtype of `logits`.

    Raises
    ------
    TypeError, ValueError
        As for :func:`softmax_lib.losses.cross_entropy`.

    Notes
    -----
    With the coefficients :math:`A_{nc} \ge 0` of the loss
    :math:`\ell_n = -\sum_c A_{nc} \log p_{nc}`,

    .. math:: \frac{\partial \ell_n}{\partial z_{nj}} = \Bigl(\sum_c A_{nc}\Bigr) p_{nj} - A_{nj},

    which is :math:`p - y` when :math:`A = y` sums to 1 ("push all, pull one"), and is
    divided by the denominator of ``'mean'``.

    Special values follow the loss. A row that takes part in the loss and whose softmax is
    NaN (a NaN, a ``+inf``, or only ``-inf`` logits) has a NaN gradient. A row whose
    coefficients are all 0 (an ignored target, or a class of weight 0) contributes exactly 0
    to the loss whatever its logits, so its gradient is exactly 0, even where those logits
    are NaN or infinite (earlier versions returned NaN there). With ``'mean'`` and nothing
    left to average, the gradient is NaN, as the loss is.

    Derived in :doc:`/chapters/05-gradients`.

    Examples
    --------
    >>> from softmax_lib.gradients import cross_entropy_grad
    >>> cross_entropy_grad([[0.0, 0.0]], [1], reduction="sum")
    array([[ 0.5, -0.5]])
    """
    problem = prepare_cross_entropy(
        logits, target, axis, weight, ignore_index, reduction, label_smoothing
    )
    p = softmax(problem.work, axis=-1)
    coeff = problem.coeff
    total = np.sum(coeff, axis=-1, keepdims=True)
    grad = total * p - coeff
    # For the most probable class k, a p_k - A_k = sum_{i != k} A_i - a sum_{i != k} p_i:
    # no cancellation when p_k rounds to 1 (the plain form gives 0 for a one-hot target).
    k = np.argmax(p, axis=-1)[..., None]
    others = np.arange(p.shape[-1]) != k
    grad_k = np.sum(coeff, axis=-1, where=others, keepdims=True) - total * np.sum(
        p, axis=-1, where=others, keepdims=True
    )
    np.put_along_axis(grad, k, grad_k, axis=-1)
    # A row with no coefficient (ignored, or of weight 0) is absent from the loss, which is
    # 0 there whatever the logits, NaN included: its gradient is 0, not 0 * p = NaN.
    grad = np.where(total > 0, grad, 0.0)
    if problem.reduction == "mean":
        with np.errstate(invalid="ignore", divide="ignore"):  # 0 / 0 is NaN, as the loss
            grad = grad / np.float64(problem.denominator)
    return np.moveaxis(grad, -1, problem.axis).astype(problem.dtype)


def numerical_gradient(
    f: Callable[[np.ndarray], float], x: ArrayLike, *, eps: float = 1e-6
) -> NDArray[np.float64]:
    r"""Estimate the gradient of a scalar function by central differences.

    Derived in :doc:`/chapters/05-gradients`.

    Parameters
    ----------
    f : callable
        Maps an array of the shape of `x` to a real number.
    x : array_like
        The point, converted to float64.
    eps : float, default: 1e-6
        The step. The error is O(eps^2) from truncation plus O(machine eps / eps) from
        rounding; 1e-6 balances them for well-scaled float64 functions.

    Returns
    -------
    ndarray of float64
        ``(f(x + eps e_k) - f(x - eps e_k)) / (2 eps)`` for every entry ``k``, with the shape
        of `x`.

    Raises
    ------
    TypeError, ValueError
        If `f` is not callable or does not return one real number (a Python or NumPy
        scalar, or a 0-d array), if `x` is not a real array, or if `eps` is not a finite
        number > 0.

    Examples
    --------
    >>> from softmax_lib import logsumexp
    >>> from softmax_lib.gradients import numerical_gradient
    >>> numerical_gradient(logsumexp, [0.0, 0.0]).round(6)  # softmax([0, 0])
    array([0.5, 0.5])
    """
    check_callable(f, "f")
    eps = check_positive_finite(eps, "eps")
    base = as_real_float_array(x, "x").astype(np.float64)
    grad = np.empty_like(base)
    for index in np.ndindex(base.shape):
        step = np.zeros_like(base)
        step[index] = eps
        up = check_real_result(f(base + step), "f")
        down = check_real_result(f(base - step), "f")
        grad[index] = (up - down) / (2 * eps)
    return grad
