"""Targets of the losses, encoded once: the coefficients ``A`` of ``-sum A * log_probs``.

Shared by :mod:`softmax_lib.losses` (the loss) and :mod:`softmax_lib.gradients` (its gradient
``A.sum(-1) * softmax - A``), so that both read a target, its weights, its ignored entries
and its label smoothing the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from softmax_lib._validation import (
    WIDENED,
    Axis,
    Prepared,
    as_rectangular_array,
    check_choice,
    check_class_indices,
    check_ignore_index,
    check_probability_target,
    check_target_kind,
    check_unit_interval,
    check_weight,
    prepare,
)

Reduction = Literal["mean", "sum", "none"]
REDUCTIONS = ("mean", "sum", "none")


@dataclass
class LossProblem:
    """A validated loss problem, with the class axis moved last and widened to float64."""

    work: np.ndarray  # input (logits or log-probabilities), shape (..., C)
    dtype: np.dtype  # dtype of the result
    axis: int  # where the class axis was, to move gradients back
    coeff: np.ndarray  # A >= 0, shape (..., C): loss = -sum(A * log_probs, -1)
    denominator: float  # what "mean" divides the sum by
    reduction: str


@dataclass(frozen=True)
class LossArgs:
    """The checked arguments of a loss, before anything is computed from them."""

    prepared: Prepared  # the input, in its own dtype (not widened), and its class axis
    target: np.ndarray
    indices: bool  # class indices (else probabilities)
    valid: np.ndarray | None  # class indices: which entries count (not ignored)
    weight: np.ndarray | None
    ignore: int | None
    eps: float  # label smoothing
    reduction: str

    @property
    def plain_labels(self) -> bool:
        """Class indices without weights, ignored entries or smoothing (the kernel's case)."""
        return self.indices and self.weight is None and self.ignore is None and self.eps == 0


def check_loss(
    x: ArrayLike,
    target: ArrayLike,
    *,
    x_name: str,
    axis: Axis,
    weight: ArrayLike | None,
    ignore_index: object,
    reduction: object,
    label_smoothing: object,
    allow_probabilities: bool,
    target_first: bool = False,
) -> LossArgs:
    """Check every argument of a loss once; `target_first` converts `target` before `x`."""
    t = as_rectangular_array(target, "target") if target_first else None
    prepared = prepare(x, axis, x_name, one_axis=True, need_classes=True, widen=False)
    arr, ax = prepared.arr, prepared.axis
    reduction = check_choice(reduction, "reduction", REDUCTIONS)
    eps = check_unit_interval(label_smoothing, "label_smoothing")
    ignore = check_ignore_index(ignore_index)
    n_classes = arr.shape[ax]
    w = check_weight(weight, n_classes)
    t = as_rectangular_array(target, "target") if t is None else t
    valid = None
    indices = check_target_kind(t, allow_probabilities) == "indices"
    if indices:
        batch = arr.shape[:ax] + arr.shape[ax + 1 :]
        valid = check_class_indices(t, n_classes, ignore, batch)
    else:
        check_probability_target(t, arr.shape, x_name, ignore)
    return LossArgs(prepared, t, indices, valid, w, ignore, eps, reduction)


def loss_problem(args: LossArgs) -> LossProblem:
    """Build a checked loss's coefficients; widen its input and move the class axis last."""
    arr, ax, eps, t = args.prepared.arr, args.prepared.axis, args.eps, args.target
    work = np.moveaxis(arr.astype(np.float64) if arr.dtype in WIDENED else arr, ax, -1)
    n_classes = work.shape[-1]
    w_full = np.ones(n_classes) if args.weight is None else args.weight
    if args.indices:
        safe = np.where(args.valid, t, 0)
        onehot = np.zeros(work.shape, dtype=np.float64)
        np.put_along_axis(onehot, safe[..., None], 1.0, axis=-1)
        smoothed = (1.0 - eps) * onehot + eps / n_classes if eps else onehot
        coeff = smoothed * w_full * args.valid[..., None]
        denominator = float(np.sum(w_full[safe] * args.valid))
    else:
        y = np.moveaxis(t, ax, -1).astype(np.float64)
        coeff = ((1.0 - eps) * y + eps / n_classes) * w_full
        denominator = float(np.prod(work.shape[:-1]))
    return LossProblem(work, arr.dtype, ax, coeff, denominator, args.reduction)


def prepare_loss(x: ArrayLike, target: ArrayLike, **arguments) -> LossProblem:
    """Check a loss's arguments (see :func:`check_loss`) and build its coefficients."""
    return loss_problem(check_loss(x, target, **arguments))


def prepare_cross_entropy(
    logits, target, axis, weight, ignore_index, reduction, label_smoothing
) -> LossProblem:
    """Validate the arguments of cross_entropy (shared with its gradient)."""
    return prepare_loss(
        logits,
        target,
        x_name="logits",
        axis=axis,
        weight=weight,
        ignore_index=ignore_index,
        reduction=reduction,
        label_smoothing=label_smoothing,
        allow_probabilities=True,
    )
