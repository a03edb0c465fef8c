"""Class indices, loss targets and weights, sampling logits, and attention operands."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from softmax_lib._validation.arrays import as_real_float_array, as_rectangular_array

# Class indices are signed or unsigned integers. NumPy counts timedelta64 as an integer
# type (np.issubdtype(timedelta64, np.integer) is True), so the kind is tested instead.
INDEX_KINDS = "iu"


def check_integer_labels(labels: ArrayLike, name: str = "labels") -> np.ndarray:
    """Return `labels` as an array after checking that it holds integers (not time deltas)."""
    t = as_rectangular_array(labels, name)
    if t.dtype.kind not in INDEX_KINDS:
        raise TypeError(f"`{name}` must hold integer class indices; got dtype {t.dtype}.")
    return t


def check_sampling_logits(z: np.ndarray) -> None:
    """Check logits to sample from: no NaN or +inf, and a finite entry in every row."""
    if np.isnan(z).any() or np.isposinf(z).any():
        raise ValueError("`logits` must not contain NaN or +inf; got at least one.")
    if z.size and np.any(np.all(np.isneginf(z), axis=-1)):
        raise ValueError("`logits` must have a finite entry in every row; got a row of -inf.")


def check_target_kind(target: np.ndarray, allow_probabilities: bool) -> str:
    """Return 'indices' or 'probabilities' for a loss target, by its dtype."""
    if target.dtype.kind in INDEX_KINDS:
        return "indices"
    if not allow_probabilities:
        raise TypeError(
            f"`target` must hold integer class indices (nll_loss takes no probability "
            f"targets); got dtype {target.dtype}."
        )
    if target.dtype.kind == "f":
        return "probabilities"
    raise TypeError(
        "`target` must hold integer class indices or floating-point probabilities; "
        f"got dtype {target.dtype}."
    )


def check_probability_target(
    target: np.ndarray, shape: tuple, x_name: str, ignore_index: int | None
) -> None:
    """Check a probability target: no ignore_index, the input's shape, finite entries."""
    if ignore_index is not None:
        raise ValueError(
            f"`ignore_index` must be None for probability targets; got {ignore_index}."
        )
    if target.shape != shape:
        raise ValueError(
            f"`target` must have the shape of `{x_name}`, {shape}, for probability "
            f"targets; got {target.shape}."
        )
    if not np.all(np.isfinite(target)):
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(target))[0])
        raise ValueError(
            f"`target` probabilities must be finite; got {float(target[where])!r} at position "
            f"{where}."
        )


def check_attention_shapes(q: np.ndarray, k: np.ndarray, v: np.ndarray) -> None:
    """Check the shapes of queries (n_q, d), keys (n_k, d) and values (n_k, d_v)."""
    if q.ndim != 2 or k.ndim != 2 or v.ndim != 2 or q.shape[1] != k.shape[1] or len(k) != len(v):
        raise ValueError(
            "`q`, `k`, `v` must have shapes (n_q, d), (n_k, d), (n_k, d_v); "
            f"got {q.shape}, {k.shape}, {v.shape}."
        )


def check_finite_scores(scores: np.ndarray) -> None:
    """Raise ValueError if attention scores q @ k.T overflowed (no finite answer exists)."""
    if not np.all(np.isfinite(scores)):
        raise ValueError(
            "`q` and `k` must give finite scores q @ k.T / sqrt(d); got an overflow to infinity."
        )


def check_weight(weight: ArrayLike | None, n_classes: int) -> np.ndarray | None:
    """Return `weight` as a float64 array of shape (n_classes,) with finite entries >= 0."""
    if weight is None:
        return None
    w = as_real_float_array(weight, "weight")
    if w.shape != (n_classes,):
        raise ValueError(
            f"`weight` must have shape ({n_classes},) (one weight per class); got {w.shape}."
        )
    bad = ~(np.isfinite(w) & (w >= 0))
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"`weight` must be finite and >= 0; got {float(w[i])!r} at index {i}.")
    return w


def check_class_indices(
    target: np.ndarray,
    n_classes: int,
    ignore_index: int | None,
    expected_shape: tuple,
    name: str = "target",
) -> np.ndarray:
    """Check integer class indices against the logits; return a boolean mask of valid entries."""
    if target.shape != expected_shape:
        raise ValueError(
            f"`{name}` must have shape {expected_shape} (the shape of the input without "
            f"`axis`) for class indices; got {target.shape}."
        )
    valid = np.ones(target.shape, dtype=bool) if ignore_index is None else target != ignore_index
    bad = valid & ((target < 0) | (target >= n_classes))
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        extra = "" if ignore_index is None else f" or {ignore_index} (`ignore_index`)"
        raise ValueError(
            f"`{name}` class indices must be in [0, {n_classes}){extra}; "
            f"got {int(target[where])} at position {where}."
        )
    return valid
