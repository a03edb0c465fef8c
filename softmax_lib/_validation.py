"""Input checks and error messages for `softmax_lib`, and the one way input is prepared.

Every error message of the package is written here, in one form:
``"`<param>` must <requirement>; got <actual>."``, and every array argument enters through
:func:`prepare` (or :func:`as_real_float_array` for arrays without an axis). No mathematics
lives in this module.
"""

from __future__ import annotations

import math
import numbers
import operator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

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
) -> Prepared:
    """Validate an array argument and its axis, and choose the compute dtype.

    `one_axis` demands a single int axis (a class axis); `need_classes` rejects an empty one;
    `widen` computes float16 and float32 in float64.
    """
    arr = as_real_float_array(x, name)
    check_at_least_1d(arr, name)
    axes = normalize_axis(axis, arr.ndim, allow_tuple=not one_axis)
    if need_classes:
        check_classes(math.prod(arr.shape[a] for a in axes), name)
    work = arr.astype(np.float64) if widen and arr.dtype in WIDENED else arr
    empty = math.prod(arr.shape[a] for a in axes) == 0
    return Prepared(arr, work, axes, empty)


def as_real_float_array(x: ArrayLike, name: str) -> NDArray[np.floating]:
    """Return `x` as a real floating-point array, promoting integers and booleans to float64.

    Floating-point input keeps its dtype. The input is never copied unless a conversion is
    needed, and it is never modified by any caller. Rejected, each with a message naming
    `name`: complex, non-numeric, date and time-delta input; ragged nested sequences; and
    NumPy masked arrays, whose mask NumPy's functions would silently drop (mask an entry
    with a logit of ``-inf`` instead).
    """
    if isinstance(x, np.ma.MaskedArray):
        raise TypeError(
            f"`{name}` must be a plain array, not a masked array, whose mask NumPy would "
            "ignore (give masked logits the value -inf instead); got numpy.ma.MaskedArray."
        )
    try:
        arr = np.asarray(x)
    except ValueError as error:  # ragged nesting: NumPy's message names no parameter
        raise ValueError(
            f"`{name}` must be a rectangular array (nested sequences of equal lengths); "
            f"got a ragged sequence ({error})."
        ) from None
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


def check_positive_int(value: object, name: str) -> int:
    """Return `value` if it is an int >= 1 (not a bool), else raise TypeError/ValueError."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be a positive int; got {value!r}.")
    if value < 1:
        raise ValueError(f"`{name}` must be a positive int; got {value!r}.")
    return int(value)


MIN_REFERENCE_DIGITS = 20  # more than long double carries (about 19.3 decimal digits)


def check_reference_digits(dps: object) -> int:
    """Return `dps` if it is an int of at least MIN_REFERENCE_DIGITS decimal digits."""
    if isinstance(dps, bool | np.bool_) or not isinstance(dps, numbers.Integral):
        raise TypeError(f"`dps` must be an int; got {dps!r}.")
    if dps < MIN_REFERENCE_DIGITS:
        raise ValueError(
            f"`dps` must be >= {MIN_REFERENCE_DIGITS} (a reference needs more digits than the "
            f"formats it judges); got {dps!r}."
        )
    return int(dps)


def check_classes(n_classes: int, name: str) -> None:
    """Raise ValueError if the class axis of `name` has no entries (no distribution)."""
    if n_classes == 0:
        raise ValueError(f"`{name}` must have at least one class along `axis`; got 0.")


def check_matrix(arr: np.ndarray, name: str) -> None:
    """Raise ValueError unless `arr` is 2-D, one example per row: shape (N, C)."""
    if arr.ndim != 2:
        raise ValueError(f"`{name}` must have shape (N, C); got {arr.shape}.")


def check_integer_labels(labels: ArrayLike, name: str = "labels") -> np.ndarray:
    """Return `labels` as an array after checking that it holds integers."""
    t = np.asarray(labels)
    if not np.issubdtype(t.dtype, np.integer):
        raise TypeError(f"`{name}` must hold integer class indices; got dtype {t.dtype}.")
    return t


def check_finite(arr: np.ndarray, name: str, where: str = "") -> None:
    """Raise ValueError if `arr` holds NaN or an infinity; `where` names the context."""
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"`{name}` must be finite{where}; got NaN or infinity.")


def check_positive_finite(value: object, name: str) -> float:
    """Return `value` as a float after checking that it is a finite real number > 0."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a real number; got {value!r}.")
    number = float(value)
    if not (np.isfinite(number) and number > 0):
        raise ValueError(f"`{name}` must be a finite number > 0; got {value!r}.")
    return number


def check_positive_int_or_none(value: object, name: str) -> int | None:
    """Return `value` (an int >= 1) or None."""
    if value is None:
        return None
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"`{name}` must be a positive int or None; got {value!r}.")
    return int(value)


def check_float_dtype(dtype: Any) -> np.dtype:
    """Return `dtype` as a NumPy floating dtype (None is not float64 here)."""
    if dtype is None:  # np.dtype(None) would silently mean float64
        raise TypeError("`dtype` must be a floating-point type; got None.")
    name = str(dtype).rsplit(".", 1)[-1].strip("'<>\" ")
    try:
        dt = np.dtype(name if name in {"float16", "float32", "float64"} else dtype)
    except TypeError:
        dt = None
    if dt is None or not np.issubdtype(dt, np.floating):
        raise TypeError(f"`dtype` must be a floating-point type; got {dtype!r}.")
    return dt


def check_error_operands(approx: ArrayLike, exact: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Validate a computed float array and its reference (an object array of the same shape)."""
    a = np.asarray(approx)
    if not np.issubdtype(a.dtype, np.floating):
        raise TypeError(f"`approx` must be a floating-point array; got dtype {a.dtype}.")
    ex = np.asarray(exact, dtype=object)
    if ex.shape != a.shape:
        raise ValueError(f"`exact` must have the shape of `approx`, {a.shape}; got {ex.shape}.")
    return a, ex


def check_generator(rng: object) -> np.random.Generator:
    """Return `rng` if it is a NumPy Generator."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"`rng` must be a numpy.random.Generator (np.random.default_rng(seed)); got {rng!r}."
        )
    return rng


def check_callable(fn: object, name: str) -> None:
    """Raise TypeError unless `fn` can be called."""
    if not callable(fn):
        raise TypeError(f"`{name}` must be a function; got {fn!r}.")


def check_known_names(names: tuple, known: list, name: str) -> None:
    """Raise ValueError unless every entry of `names` is in `known`."""
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(
            f"`{name}` must be checks of this report ({', '.join(map(repr, known))}); "
            f"got {unknown[0]!r}."
        )


def check_sampling_logits(z: np.ndarray) -> None:
    """Check logits to sample from: no NaN or +inf, and a finite entry in every row."""
    if np.isnan(z).any() or np.isposinf(z).any():
        raise ValueError("`logits` must not contain NaN or +inf; got at least one.")
    if z.size and np.any(np.all(np.isneginf(z), axis=-1)):
        raise ValueError("`logits` must have a finite entry in every row; got a row of -inf.")


def check_target_kind(target: np.ndarray, allow_probabilities: bool) -> str:
    """Return 'indices' or 'probabilities' for a loss target, by its dtype."""
    if np.issubdtype(target.dtype, np.integer):
        return "indices"
    if np.issubdtype(target.dtype, np.floating):
        if not allow_probabilities:
            raise TypeError(
                f"`target` must hold integer class indices (nll_loss takes no probability "
                f"targets); got dtype {target.dtype}."
            )
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


def check_temperature(temperature: object) -> float:
    """Return `temperature` as a float after checking that it is a finite number > 0."""
    if isinstance(temperature, bool | np.bool_) or not isinstance(temperature, numbers.Real):
        raise TypeError(f"`temperature` must be a real number; got {temperature!r}.")
    value = float(temperature)
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"`temperature` must be a finite number > 0; got {value!r}.")
    return value


def check_bool(value: object, name: str) -> bool:
    """Return `value` if it is a bool (Python or NumPy), else raise TypeError."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"`{name}` must be True or False; got {value!r}.")
    return bool(value)


def check_choice(value: object, name: str, choices: tuple[str, ...]) -> str:
    """Return `value` if it is one of the strings in `choices`, else raise ValueError."""
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"`{name}` must be one of {listed}; got {value!r}.")
    return value


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


def check_base(base: object) -> float | None:
    """Return `base` as a float (or None) after checking it is a finite number > 0, != 1."""
    if base is None:
        return None
    if isinstance(base, bool | np.bool_) or not isinstance(base, numbers.Real):
        raise TypeError(f"`base` must be a real number or None; got {base!r}.")
    value = float(base)
    if not (np.isfinite(value) and value > 0 and value != 1):
        raise ValueError(f"`base` must be a finite number > 0 other than 1; got {value!r}.")
    return value


def check_unit_interval(value: object, name: str) -> float:
    """Return `value` as a float after checking that it is a real number in [0, 1]."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a real number; got {value!r}.")
    number = float(value)
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"`{name}` must be in [0, 1]; got {number!r}.")
    return number


def check_ignore_index(ignore_index: object) -> int | None:
    """Return `ignore_index` as an int, or None."""
    if ignore_index is None:
        return None
    if isinstance(ignore_index, bool | np.bool_) or not isinstance(ignore_index, numbers.Integral):
        raise TypeError(f"`ignore_index` must be an int or None; got {ignore_index!r}.")
    return int(ignore_index)


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
