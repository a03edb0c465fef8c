"""Array arguments: conversion, axes, shapes, finiteness, probabilities; and `prepare`."""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from softmax_lib._validation.values import is_real

Axis = int | tuple[int, ...] | None


# Formats narrower than float64 are computed in float64 and rounded once at the end.
WIDENED = (np.dtype(np.float16), np.dtype(np.float32))


@dataclass(frozen=True)
class Prepared:
    """A validated array argument: the input, its working copy, and the axes to reduce."""

    arr: np.ndarray  # the input as a real floating array (integers promoted to float64)
    work: np.ndarray  # arr, widened to float64 if it is float16 or float32
    axes: tuple[int, ...]  # sorted, non-negative
    empty: bool  # True if the reduction has no elements
    mask: np.ndarray | None = None  # `where`, checked and broadcast to arr's shape, or None

    @property
    def axis(self) -> int:
        """The single axis, for functions with one class axis."""
        (ax,) = self.axes
        return ax


def prepare(
    x: ArrayLike,
    axis: Axis,
    name: str = "x",
    *,
    one_axis: bool = False,
    widen: bool = True,
    need_classes: bool = False,
    where: object = None,
) -> Prepared:
    """Validate an array argument and its axis, and choose the compute dtype.

    `one_axis` demands a single int axis (a class axis); `need_classes` rejects an empty one;
    `widen` computes float16 and float32 in float64; a mask `where` is checked last and
    broadcast to the shape of the input.
    """
    arr = as_real_float_array(x, name)
    check_at_least_1d(arr, name)
    axes = normalize_axis(axis, arr.ndim, allow_tuple=not one_axis)
    if need_classes:
        check_classes(math.prod(arr.shape[a] for a in axes), name)
    work = arr.astype(np.float64) if widen and arr.dtype in WIDENED else arr
    empty = math.prod(arr.shape[a] for a in axes) == 0
    mask = None if where is None else check_where(where, arr.shape)
    return Prepared(arr, work, axes, empty, mask)


def prepared_rows(rows: np.ndarray) -> Prepared:
    """`rows` (float, 2-D, made inside the package) as Prepared along the last axis, unchecked.

    For arrays the package computed from input that was already prepared (rows the kernels
    left to the NumPy path, a loss's moved logits): they are not checked a second time.
    """
    return Prepared(rows, rows, (rows.ndim - 1,), rows.shape[-1] == 0)


def as_real_float_array(x: ArrayLike, name: str) -> NDArray[np.floating]:
    """Return `x` as a real floating-point array, promoting integers and booleans to float64.

    Floating-point input keeps its dtype. The input is never copied unless a conversion is
    needed, and it is never modified by any caller. Rejected, each with a message naming
    `name`: complex, non-numeric, date and time-delta input; ragged nested sequences; and
    NumPy masked arrays, whose mask NumPy's functions would silently drop (mask an entry
    with a logit of ``-inf`` instead).
    """
    if type(x) is np.ndarray and x.dtype.kind == "f":  # the common case, checked fast
        return x
    if isinstance(x, np.ma.MaskedArray):
        raise TypeError(
            f"`{name}` must be a plain array, not a masked array, whose mask NumPy would "
            "ignore (pass where=~x.mask to softmax, log_softmax or logsumexp, or give masked "
            "logits the value -inf); got numpy.ma.MaskedArray."
        )
    arr = as_rectangular_array(x, name)
    if np.iscomplexobj(arr):
        raise TypeError(f"`{name}` must be real-valued; got dtype {arr.dtype}.")
    if (
        arr.dtype == object
        or arr.dtype.kind in "mM"  # timedelta64 counts as an integer to NumPy
        or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool)
    ):
        raise TypeError(f"`{name}` must be a real-valued numeric array; got dtype {arr.dtype}.")
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    return arr


def as_rectangular_array(x: object, name: str) -> np.ndarray:
    """Return ``np.asarray(x)``; a ragged nested sequence is a ValueError naming `name`.

    NumPy's own message ("setting an array element with a sequence") names no parameter.
    No other check is made: the caller decides which dtypes it accepts.
    """
    try:
        return np.asarray(x)
    except ValueError as error:  # ragged nesting
        raise ValueError(
            f"`{name}` must be a rectangular array (nested sequences of equal lengths); "
            f"got a ragged sequence ({error})."
        ) from None


def check_matrix(arr: np.ndarray, name: str) -> None:
    """Raise ValueError unless `arr` is 2-D, one example per row: shape (N, C)."""
    if arr.ndim != 2:
        raise ValueError(f"`{name}` must have shape (N, C); got {arr.shape}.")


def check_features(x: np.ndarray, n_features: int, name: str) -> None:
    """Raise ValueError unless `x` has shape (N, n_features): examples for a fitted model."""
    if x.ndim != 2 or x.shape[1] != n_features:
        raise ValueError(
            f"`{name}` must have shape (N, {n_features}) (one example per row, with the "
            f"{n_features} features of the fit); got {x.shape}."
        )


def check_fitted_weights(weights: np.ndarray, sigma: np.ndarray, l2: float) -> None:
    """Raise ValueError if weights of shape (D, C), mapped back to the units of `X`, overflowed.

    `sigma` holds each feature's standard deviation, shape (D,); the message names the first
    feature with an infinite weight, and suggests a penalty where `l2` is 0.
    """
    finite = np.all(np.isfinite(weights), axis=1)
    if not np.all(finite):
        j = int(np.argmin(finite))
        raise ValueError(
            f"`X` must have features whose fitted weights are finite in float64 (rescale `X`"
            f"{'' if l2 else ', or use `l2` > 0'}); got feature {j}, of standard deviation "
            f"{sigma[j]:.3g}, whose weight overflows."
        )


def check_finite(arr: np.ndarray, name: str, where: str = "") -> None:
    """Raise ValueError if `arr` holds NaN or an infinity; `where` names the context."""
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"`{name}` must be finite{where}; got NaN or infinity.")


def check_error_operands(approx: ArrayLike, exact: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Validate a computed float array and its reference; return both, `exact` as objects.

    `exact` must have the shape of `approx` and hold real numbers: Python, NumPy (integer or
    floating) or mpmath ones. None, strings, complex numbers, bools and time deltas are
    rejected, each with a message naming `exact` and the first offending entry.
    """
    a = as_rectangular_array(approx, "approx")
    if not np.issubdtype(a.dtype, np.floating):
        raise TypeError(f"`approx` must be a floating-point array; got dtype {a.dtype}.")
    raw = as_rectangular_array(exact, "exact")
    if raw.shape != a.shape:
        raise ValueError(f"`exact` must have the shape of `approx`, {a.shape}; got {raw.shape}.")
    what = "`exact` must hold real numbers (floats or mpmath numbers)"
    if raw.dtype.kind == "O":
        for index in np.ndindex(raw.shape):
            if not is_real(raw[index]):
                raise TypeError(f"{what}; got {raw[index]!r} at position {index}.")
    elif raw.dtype.kind not in "fiu":
        raise TypeError(f"{what}; got dtype {raw.dtype}.")
    return a, raw.astype(object)


def check_entries(n_entries: int, name: str) -> None:
    """Raise ValueError if the last axis of `name` is empty."""
    if n_entries == 0:
        raise ValueError(f"`{name}` must have at least one entry along the last axis; got 0.")


def check_not_empty(arr: np.ndarray, name: str, what: str) -> None:
    """Raise ValueError if `arr` has no elements; `what` says what is missing."""
    if arr.size == 0:
        raise ValueError(f"`{name}` must hold at least one {what}; got shape {arr.shape}.")


def check_at_least_1d(arr: np.ndarray, name: str) -> None:
    """Reject 0-d input, which has no axis to reduce over."""
    if arr.ndim == 0:
        raise ValueError(
            f"`{name}` must have at least one dimension (an axis to normalise over); "
            f"got a 0-d array ({arr!r})."
        )


def normalize_axis(axis: Axis, ndim: int, *, allow_tuple: bool = True) -> tuple[int, ...]:
    """Return `axis` as a sorted tuple of non-negative axes of an `ndim`-dimensional array.

    With ``allow_tuple=False`` the axis is one class axis: an int, not a tuple and not None.
    """
    what = "an int, a tuple of ints or None" if allow_tuple else "an int"
    if axis is None:
        if not allow_tuple:
            raise TypeError(f"`axis` must be {what}; got None.")
        return tuple(range(ndim))
    items = axis if isinstance(axis, tuple) and allow_tuple else (axis,)
    out = []
    for item in items:
        if isinstance(item, bool | np.bool_):
            raise TypeError(f"`axis` must be {what}; got {axis!r}.")
        try:
            index = operator.index(item)
        except TypeError:
            raise TypeError(f"`axis` must be {what}; got {axis!r}.") from None
        if not -ndim <= index < ndim:
            raise ValueError(
                f"`axis` must be in [{-ndim}, {ndim}) for an array with {ndim} "
                f"dimension{'s' if ndim != 1 else ''}; got {axis!r}."
            )
        out.append(index % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"`axis` must not name the same axis twice; got {axis!r}.")
    return tuple(sorted(out))


def check_same_shape(a: np.ndarray, a_name: str, b: np.ndarray, b_name: str) -> None:
    """Raise ValueError unless `b` has exactly the shape of `a` (no broadcasting)."""
    if a.shape != b.shape:
        raise ValueError(f"`{b_name}` must have the shape of `{a_name}`, {a.shape}; got {b.shape}.")


def probability_tolerance(dtype: np.dtype) -> float:
    """Return how far from 1 a row of probabilities of `dtype` may sum: sqrt(eps)."""
    return float(np.sqrt(np.finfo(dtype).eps))


def check_probabilities(arr: np.ndarray, name: str, axes: tuple[int, ...]) -> None:
    """Check that `arr` holds probability vectors along `axes`.

    Every entry must be finite and >= 0, and every row must sum to 1 within
    :func:`probability_tolerance` (the sum is taken in float64, or long double for long
    double input).
    """
    bad = ~(np.isfinite(arr) & (arr >= 0))
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"`{name}` must contain probabilities (finite and >= 0); "
            f"got {float(arr[where])!r} at position {where}."
        )
    work = arr if arr.dtype == np.longdouble else arr.astype(np.float64)
    sums = np.sum(work, axis=axes)
    tol = probability_tolerance(arr.dtype)
    off = np.abs(sums - 1) > tol
    if np.any(off):
        where = tuple(int(i) for i in np.argwhere(np.atleast_1d(off))[0]) if sums.ndim else ()
        got = float(np.atleast_1d(sums)[where] if sums.ndim else sums)
        raise ValueError(
            f"`{name}` must sum to 1 along `axis` (within {tol:.2g}); "
            f"got a sum of {got!r}" + (f" for the row at position {where}." if where else ".")
        )


def check_classes(n_classes: int, name: str) -> None:
    """Raise ValueError if the class axis of `name` has no entries (no distribution)."""
    if n_classes == 0:
        raise ValueError(f"`{name}` must have at least one class along `axis`; got 0.")


def check_parameter_layout(theta: np.ndarray, n_features: int, n_classes: int) -> None:
    """Check a flat parameter vector: the D * C weights, then the C biases."""
    expected = (n_features * n_classes + n_classes,)
    if theta.shape != expected:
        raise ValueError(
            f"`params` must have shape {expected} (W.ravel() of shape ({n_features}, "
            f"{n_classes}), then the bias); got {theta.shape}."
        )


def check_where(where: object, shape: tuple) -> np.ndarray:
    """Return a boolean mask broadcast to `shape` (a read-only view)."""
    mask = as_rectangular_array(where, "where")
    if mask.dtype != bool:
        raise TypeError(f"`where` must be a boolean array; got dtype {mask.dtype}.")
    try:
        return np.broadcast_to(mask, shape)
    except ValueError:
        raise ValueError(
            f"`where` must broadcast to the shape of `x`, {shape}; got shape {mask.shape}."
        ) from None


def check_weights(x: ArrayLike, b: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.dtype]:
    """Validate log-sum-exp weights; return `x` and `b` broadcast together, and the dtype.

    The result dtype is NumPy's promotion of the two input dtypes, float64 where that is not
    a floating dtype (SciPy's rule for ``logsumexp(a, b=b)``).
    """
    a = as_real_float_array(x, "x")
    w = as_real_float_array(b, "b")
    dtype = np.result_type(np.asarray(x).dtype, np.asarray(b).dtype)
    if not np.issubdtype(dtype, np.floating):
        dtype = np.dtype(np.float64)
    try:
        a, w = np.broadcast_arrays(a, w)
    except ValueError:
        raise ValueError(
            f"`b` must broadcast against `x`, shape {a.shape}; got shape {w.shape}."
        ) from None
    return a.astype(dtype, copy=False), w, dtype


def check_slider_values(values: np.ndarray, n_categories: int, steps: np.ndarray, active: object):
    """Check the precomputed bars of an interactive figure: shape (steps, categories), finite."""
    if steps.ndim != 1 or steps.size == 0:
        raise ValueError(f"`steps` must be a non-empty 1-d array; got shape {steps.shape}.")
    if values.shape != (steps.size, n_categories):
        raise ValueError(
            f"`values` must have shape (len(steps), len(categories)) = "
            f"{(steps.size, n_categories)}; got {values.shape}."
        )
    if not np.isfinite(values).all():
        raise ValueError("`values` must be finite; got NaN or infinity.")
    if isinstance(active, bool) or not isinstance(active, int | np.integer):
        raise TypeError(f"`active` must be an int; got {type(active).__name__}.")
    if not 0 <= active < steps.size:
        raise ValueError(f"`active` must be a step index in [0, {steps.size}); got {active}.")
