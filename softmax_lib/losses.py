r"""Cross-entropy and negative log-likelihood losses on logits, with PyTorch's semantics.

Both losses accept a target of class indices (integers, the shape of the input without the
class axis) or, for :func:`cross_entropy`, of probabilities (floats, the shape of the
input). Two differences from ``torch.nn.functional`` are deliberate and documented on each
function: the class axis is last (``axis=-1``) rather than ``dim=1``, and ``ignore_index``
defaults to ``None`` (nothing ignored) rather than ``-100``.

Every loss here is a weighted sum ``-sum_c A[n, c] * log_probs[n, c]`` with non-negative
coefficients ``A`` built from the target, the class weights and the label smoothing; the
gradient with respect to the logits is ``A.sum(-1) * softmax - A`` (see
:func:`softmax_lib.gradients.cross_entropy_grad`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from softmax_lib._dispatch import LOG_SOFTMAX, LOGSUMEXP, compute, cross_entropy_rows
from softmax_lib._targets import (
    LossArgs,
    LossProblem,
    Reduction,
    check_loss,
    loss_problem,
    prepare_loss,
)
from softmax_lib._validation import prepared_rows

__all__ = ["cross_entropy", "nll_loss"]


def _reduce(values: np.ndarray, problem: LossProblem) -> NDArray[np.floating]:
    if problem.reduction == "none":
        # A loss beyond the largest float of a narrow dtype rounds to inf, correctly.
        with np.errstate(over="ignore"):
            return values.astype(problem.dtype)
    total = np.sum(values)
    if problem.reduction == "mean":
        # 0 / 0 (everything ignored, or an empty batch) is NaN, as in PyTorch.
        with np.errstate(invalid="ignore", divide="ignore"):
            total = total / np.float64(problem.denominator)
    with np.errstate(over="ignore"):  # as above
        return np.asarray(total).astype(problem.dtype)


def _weighted_nll(coeff: np.ndarray, log_probs: np.ndarray) -> np.ndarray:
    # A coefficient of 0 contributes exactly nothing, even against a log-probability of -inf.
    with np.errstate(invalid="ignore"):
        return -np.sum(np.where(coeff != 0, coeff * log_probs, 0.0), axis=-1)


def cross_entropy(
    logits: ArrayLike,
    target: ArrayLike,
    *,
    axis: int = -1,
    weight: ArrayLike | None = None,
    ignore_index: int | None = None,
    reduction: Reduction = "mean",
    label_smoothing: float = 0.0,
) -> NDArray[np.floating]:
    r"""Compute the cross-entropy loss between logits and a target, fused with log-softmax.

    ``cross_entropy(z, y) == nll_loss(log_softmax(z), y)`` for class indices; for
    probability targets it is ``-sum(y * log_softmax(z), axis)``, that is
    ``logsumexp(z) - z @ y`` when ``y`` sums to 1.

    Parameters
    ----------
    logits : array_like, shape (..., C)
        Real scores; the class axis is `axis` (last by default). float16 and float32 are
        computed in float64 and rounded once.
    target : array_like of int, shape (...), or of float, shape (..., C)
        Class indices in ``[0, C)`` (the shape of `logits` without `axis`), or probabilities
        (the shape of `logits`; rows need not sum to 1, and each entry is used as given).
    axis : int, default: -1
        The class axis of `logits` (and of a probability `target`).
    weight : array_like, shape (C,), optional
        Non-negative weight per class, multiplying each class's term.
    ignore_index : int, optional
        A class-index value whose entries contribute nothing, neither to the sum nor to the
        denominator of ``'mean'``. Only for class-index targets. Default: nothing ignored.
    reduction : {'mean', 'sum', 'none'}, default: 'mean'
        ``'none'`` returns one loss per example (0 where ignored); ``'sum'`` adds them;
        ``'mean'`` divides the sum by the total weight ``sum(weight[target])`` of the
        non-ignored examples for class indices, and by the number of examples for
        probabilities.
    label_smoothing : float in [0, 1], default: 0.0
        Mix the target with the uniform distribution: ``(1 - eps) * y + eps / C``.

    Returns
    -------
    ndarray
        The loss: shape ``()`` for ``'mean'`` and ``'sum'``, the batch shape for ``'none'``;
        the dtype of `logits`.

    Raises
    ------
    TypeError
        If an input has the wrong type (complex logits, boolean targets, a non-integer
        `ignore_index`, a non-numeric `label_smoothing`).
    ValueError
        If shapes do not match, a class index is out of range, `weight` is not a finite
        non-negative vector of length C, `ignore_index` is given with probability targets,
        or `reduction` or `label_smoothing` is invalid.

    See Also
    --------
    nll_loss : The same loss on log-probabilities.
    softmax_lib.gradients.cross_entropy_grad : Its gradient with respect to `logits`.
    softmax_lib.information.cross_entropy_between : The cross-entropy of two distributions.

    Notes
    -----
    With :math:`A_{nc}` the weighted, smoothed target (for class indices,
    :math:`A_{nc} = w_c\bigl((1 - \varepsilon)[c = k_n] + \varepsilon / C\bigr)`),

    .. math:: \ell_n = -\sum_c A_{nc} \log \operatorname{softmax}(z_n)_c .

    The log-probabilities come from :func:`softmax_lib.log_softmax`, never from
    ``log(softmax(z))``, so a loss stays finite and accurate when a probability underflows.
    With class indices and no weights, smoothing or ignored entries, a fused kernel computes
    only the target's log-probability, by the same arithmetic (when numba is installed).
    A class whose coefficient is 0 contributes exactly nothing, even if its logit is
    ``-inf`` (PyTorch returns NaN there for probability targets).

    Differences from PyTorch: the class axis is `axis` (last by default), not ``dim=1``;
    `ignore_index` defaults to None rather than ``-100``; `weight` must be non-negative.

    Derived in :doc:`/chapters/04-entropy` and :doc:`/chapters/05-gradients`.

    Examples
    --------
    >>> from softmax_lib.losses import cross_entropy
    >>> float(cross_entropy([[0.0, -800.0]], [1]))  # log(softmax) would give inf
    800.0
    >>> float(cross_entropy([[2.0, 0.0], [0.0, 2.0]], [0, 0], weight=[1.0, 3.0]))
    1.126928
    """
    args = check_loss(
        logits,
        target,
        x_name="logits",
        axis=axis,
        weight=weight,
        ignore_index=ignore_index,
        reduction=reduction,
        label_smoothing=label_smoothing,
        allow_probabilities=True,
        target_first=True,  # a ragged target is reported before anything about `logits`
    )
    labels = _by_labels(args) if args.plain_labels else None
    if labels is not None:
        return labels
    problem = loss_problem(args)
    log_probs = compute(LOG_SOFTMAX, prepared_rows(problem.work))
    losses = _weighted_nll(problem.coeff, log_probs)
    # A log-probability below -1.8e308 overflows to -inf although the loss, a weighted
    # mean of such numbers, may be finite. Those rows are recomputed at half scale, which
    # is exact: -sum A (z / 2 - lse / 2), doubled at the end (overflowing only if the loss
    # itself does).
    overflowed = np.any(
        np.isneginf(log_probs) & np.isfinite(problem.work) & (problem.coeff != 0), axis=-1
    )
    if overflowed.any():
        rows = problem.work[overflowed]
        half = rows / 2 - compute(LOGSUMEXP, prepared_rows(rows)) / 2
        with np.errstate(over="ignore"):
            losses[overflowed] = 2 * _weighted_nll(problem.coeff[overflowed], half)
    return _reduce(losses, problem)


def _by_labels(args: LossArgs):
    """Class labels without weights, smoothing or ignored entries: one fused kernel pass.

    None where the kernel does not apply (then the general path runs on the same `args`).
    """
    x = np.moveaxis(args.prepared.arr, args.prepared.axis, -1)
    losses = cross_entropy_rows(x.reshape(-1, x.shape[-1]), args.target.reshape(-1))
    if losses is None:
        return None
    size, axis = float(args.target.size), args.prepared.axis
    problem = LossProblem(x, x.dtype, axis, None, size, args.reduction)
    return _reduce(losses.reshape(x.shape[:-1]), problem)


def nll_loss(
    log_probs: ArrayLike,
    target: ArrayLike,
    *,
    axis: int = -1,
    weight: ArrayLike | None = None,
    ignore_index: int | None = None,
    reduction: Reduction = "mean",
) -> NDArray[np.floating]:
    r"""Compute the negative log-likelihood loss of class indices under log-probabilities.

    ``nll_loss(log_softmax(z), k) == cross_entropy(z, k)``: the loss picks
    ``-log_probs[n, k_n]``, weighted, and reduces.

    Parameters
    ----------
    log_probs : array_like, shape (..., C)
        Log-probabilities, typically from :func:`softmax_lib.log_softmax`. They are used as
        given (not normalised).
    target : array_like of int, shape (...)
        Class indices in ``[0, C)``, the shape of `log_probs` without `axis`.
    axis : int, default: -1
        The class axis of `log_probs`.
    weight : array_like, shape (C,), optional
        Non-negative weight per class.
    ignore_index : int, optional
        A target value whose entries contribute nothing. Default: nothing ignored.
    reduction : {'mean', 'sum', 'none'}, default: 'mean'
        ``'mean'`` divides by the total weight ``sum(weight[target])`` of the non-ignored
        entries.

    Returns
    -------
    ndarray
        Shape ``()`` for ``'mean'`` and ``'sum'``, the batch shape for ``'none'``.

    Raises
    ------
    TypeError
        If `target` is not integer (probability targets belong to :func:`cross_entropy`).
    ValueError
        As for :func:`cross_entropy`.

    See Also
    --------
    cross_entropy : Fused with log-softmax, and with probability targets.

    Notes
    -----
    .. math:: \ell_n = -w_{k_n} \log q_{n, k_n}, \qquad
              \text{mean} = \frac{\sum_n \ell_n}{\sum_n w_{k_n}} .

    Differences from PyTorch: the class axis is `axis` (last by default), not ``dim=1``;
    `ignore_index` defaults to None rather than ``-100``.

    Derived in :doc:`/chapters/04-entropy`.

    Examples
    --------
    >>> import numpy as np
    >>> from softmax_lib import log_softmax
    >>> from softmax_lib.losses import nll_loss
    >>> z = np.array([[2.0, 0.5, -1.0]])
    >>> float(nll_loss(log_softmax(z), [0]))
    0.241311
    """
    problem = prepare_loss(
        log_probs,
        target,
        x_name="log_probs",
        axis=axis,
        weight=weight,
        ignore_index=ignore_index,
        reduction=reduction,
        label_smoothing=0.0,
        allow_probabilities=False,
    )
    return _reduce(_weighted_nll(problem.coeff, problem.work), problem)
