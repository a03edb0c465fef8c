"""Scalar and option arguments: numbers, ints, shapes, strings, choices, dtypes, and others."""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

# NumPy registers timedelta64 as a numbers.Integral (so also a numbers.Real), and bool is an
# int to Python: neither is a count, a size or a real parameter here.
_NOT_NUMBERS = (bool, np.bool_, np.timedelta64)


def is_int(value: object) -> bool:
    """Return True for a Python or NumPy integer; False for bools and timedelta64."""
    return isinstance(value, numbers.Integral) and not isinstance(value, _NOT_NUMBERS)


def is_real(value: object) -> bool:
    """Return True for a real number (Python, NumPy, mpmath); False for bools and timedelta64."""
    return isinstance(value, numbers.Real) and not isinstance(value, _NOT_NUMBERS)


def check_positive_int(value: object, name: str) -> int:
    """Return `value` if it is an int >= 1 (not a bool), else raise TypeError/ValueError."""
    if not is_int(value):
        raise TypeError(f"`{name}` must be a positive int; got {value!r}.")
    if value < 1:
        raise ValueError(f"`{name}` must be a positive int; got {value!r}.")
    return int(value)


MIN_REFERENCE_DIGITS = 20  # more than long double carries (about 19.3 decimal digits)


def check_reference_digits(dps: object) -> int:
    """Return `dps` if it is an int of at least MIN_REFERENCE_DIGITS decimal digits."""
    if not is_int(dps):
        raise TypeError(f"`dps` must be an int; got {dps!r}.")
    if dps < MIN_REFERENCE_DIGITS:
        raise ValueError(
            f"`dps` must be >= {MIN_REFERENCE_DIGITS} (a reference needs more digits than the "
            f"formats it judges); got {dps!r}."
        )
    return int(dps)


def check_positive_finite(value: object, name: str) -> float:
    """Return `value` as a float after checking that it is a finite real number > 0."""
    if not is_real(value):
        raise TypeError(f"`{name}` must be a real number; got {value!r}.")
    number = float(value)
    if not (np.isfinite(number) and number > 0):
        raise ValueError(f"`{name}` must be a finite number > 0; got {value!r}.")
    return number


def check_positive_int_or_none(value: object, name: str) -> int | None:
    """Return `value` (an int >= 1) or None."""
    if value is None:
        return None
    if not is_int(value):  # 1.5, '2', True: the wrong kind of value, so TypeError
        raise TypeError(f"`{name}` must be a positive int or None; got {value!r}.")
    if value < 1:
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


def check_real_result(value: object, name: str) -> float:
    """Return what the function `name` returned as a float, if it is one real number.

    A Python, NumPy or mpmath real number, or a 0-d array of one (as NumPy reductions and
    framework tensors give), is accepted; an array of any other shape, a complex number,
    None or a string is not.
    """
    if is_real(value):
        return float(value)
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):  # a ragged sequence, or an object NumPy cannot read
        arr = None
    if arr is not None and arr.ndim == 0 and arr.dtype.kind in "fiu":
        return float(arr)
    if arr is not None and arr.ndim > 0 and arr.dtype.kind in "fiub":
        raise ValueError(
            f"`{name}` must return a real number (a scalar); got an array of shape {arr.shape}."
        )
    raise TypeError(f"`{name}` must return a real number; got {value!r}.")


def check_real_value(value: object, name: str) -> float:
    """Return `value` as a float if it is one real number (or a 0-d array of one)."""
    if isinstance(value, np.ndarray) and value.ndim == 0:  # NumPy's 0-d results
        inner = value.item() if value.dtype == object else value  # an mpmath number, say
        if is_real(inner) or (value.dtype.kind in "fiu"):
            return float(inner)
    if is_real(value):
        return float(value)
    raise TypeError(f"`{name}` must be a real number; got {value!r}.")


def check_known_names(names: tuple, known: list, name: str) -> None:
    """Raise ValueError unless every entry of `names` is in `known`."""
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ValueError(
            f"`{name}` must be checks of this report ({', '.join(map(repr, known))}); "
            f"got {unknown[0]!r}."
        )


def check_temperature(temperature: object) -> float:
    """Return `temperature` as a float after checking that it is a finite number > 0."""
    if not is_real(temperature):
        raise TypeError(f"`temperature` must be a real number; got {temperature!r}.")
    value = float(temperature)
    if not (math.isfinite(value) and value > 0):
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


def check_base(base: object) -> float | None:
    """Return `base` as a float (or None) after checking it is a finite number > 0, != 1."""
    if base is None:
        return None
    if not is_real(base):
        raise TypeError(f"`base` must be a real number or None; got {base!r}.")
    value = float(base)
    if not (np.isfinite(value) and value > 0 and value != 1):
        raise ValueError(f"`base` must be a finite number > 0 other than 1; got {value!r}.")
    return value


def check_unit_interval(value: object, name: str) -> float:
    """Return `value` as a float after checking that it is a real number in [0, 1]."""
    if not is_real(value):
        raise TypeError(f"`{name}` must be a real number; got {value!r}.")
    number = float(value)
    if not 0.0 <= number <= 1.0:
        raise ValueError(f"`{name}` must be in [0, 1]; got {number!r}.")
    return number


def check_ignore_index(ignore_index: object) -> int | None:
    """Return `ignore_index` as an int, or None."""
    if ignore_index is None:
        return None
    if not is_int(ignore_index):
        raise TypeError(f"`ignore_index` must be an int or None; got {ignore_index!r}.")
    return int(ignore_index)


def check_regularisation(l2: object) -> float:
    """Return an L2 penalty as a float after checking that it is a finite number >= 0."""
    if not is_real(l2):
        raise TypeError(f"`l2` must be a real number; got {l2!r}.")
    value = float(l2)
    if not (np.isfinite(value) and value >= 0):
        raise ValueError(f"`l2` must be a finite number >= 0; got {value!r}.")
    return value


def check_tolerance(tol: object) -> float:
    """Return a stopping tolerance after checking that it is a finite number > 0."""
    if not is_real(tol):
        raise TypeError(f"`tol` must be a real number; got {tol!r}.")
    value = float(tol)
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"`tol` must be a finite number > 0; got {value!r}.")
    return value


def check_top_p(top_p: object) -> float | None:
    """Return a nucleus mass in (0, 1], or None."""
    if top_p is None:
        return None
    if not is_real(top_p):
        raise TypeError(f"`top_p` must be a real number or None; got {top_p!r}.")
    value = float(top_p)
    if not 0.0 < value <= 1.0:
        raise ValueError(f"`top_p` must be in (0, 1]; got {value!r}.")
    return value


def check_min_p(min_p: object) -> float | None:
    """Return a min-p threshold in [0, 1], or None."""
    if min_p is None:
        return None
    if not is_real(min_p):
        raise TypeError(f"`min_p` must be a real number or None; got {min_p!r}.")
    value = float(min_p)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"`min_p` must be in [0, 1]; got {value!r}.")
    return value


def check_shape(shape: object, name: str = "shape") -> tuple[int, ...]:
    """Return `shape` (an int, or a tuple or list of ints, each >= 0) as a tuple of ints."""
    dims = tuple(shape) if isinstance(shape, tuple | list) else (shape,)
    for dim in dims:
        if not is_int(dim):  # bools and time deltas are not dimensions
            raise TypeError(f"`{name}` must be an int or a tuple of ints; got {shape!r}.")
        if dim < 0:
            raise ValueError(f"`{name}` must have no negative dimension; got {shape!r}.")
    return tuple(int(dim) for dim in dims)


def check_str(value: object, name: str, what: str = "") -> str:
    """Return `value` if it is a str; `what` (such as ``" (an HTML id)"``) says what for."""
    if not isinstance(value, str):
        raise TypeError(f"`{name}` must be a str{what}; got {value!r}.")
    return value


def check_rows(rows: object, width: int, name: str) -> list:
    """Return `rows` as a list of sequences of length `width`, else raise Type/ValueError."""
    if isinstance(rows, str) or not isinstance(rows, Sequence | np.ndarray):
        raise TypeError(f"`{name}` must be a sequence of rows; got {rows!r}.")
    checked = []
    for row in rows:
        if isinstance(row, str) or not isinstance(row, Sequence | np.ndarray):
            raise TypeError(f"`{name}` must hold sequences (one per row); got {row!r} in it.")
        if len(row) != width:
            raise ValueError(
                f"`{name}` must hold rows of {width} cells, as many as the header; "
                f"got one of {len(row)}."
            )
        checked.append(row)
    return checked


def check_str_sequence(value: object, name: str) -> None:
    """Raise TypeError unless `value` is a sequence (or array) of str, and not one str."""
    if isinstance(value, str) or not isinstance(value, Sequence | np.ndarray):
        raise TypeError(f"`{name}` must be a sequence of str; got {value!r}.")
    for item in value:
        if not isinstance(item, str):
            raise TypeError(f"`{name}` must be a sequence of str; got {item!r} in it.")


# An HTML id that is also safe, unescaped, inside a JavaScript string and a CSS selector
# (Plotly writes a figure's id into both as it is).
_HTML_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


def check_html_id(value: object, name: str) -> str:
    """Return `value` if it is a str made of an ASCII letter, then letters, digits, - or _."""
    text = check_str(value, name, " (an HTML id)")
    if not _HTML_ID.fullmatch(text):
        raise ValueError(
            f"`{name}` must be an HTML id: a letter, then letters, digits, '-' or '_'; "
            f"got {text!r}."
        )
    return text


def check_interval_or_none(value: object, name: str) -> None:
    """Raise unless `value` is None or a pair (low, high) of finite real numbers, low < high."""
    if value is None:
        return
    is_pair = isinstance(value, Sequence | np.ndarray) and not isinstance(value, str)
    pair = tuple(value) if is_pair else ()
    if not is_pair or not all(
        isinstance(v, numbers.Real) and not isinstance(v, bool | np.bool_) for v in pair
    ):
        raise TypeError(f"`{name}` must be a pair of real numbers or None; got {value!r}.")
    if len(pair) != 2 or not (
        math.isfinite(pair[0]) and math.isfinite(pair[1]) and pair[0] < pair[1]
    ):
        raise ValueError(
            f"`{name}` must be two finite numbers (low, high) with low < high; got {value!r}."
        )


def check_json_dict_or_none(value: object, name: str, encode: Callable[[Any], str]) -> None:
    """Raise TypeError unless `value` is None or a dict that `encode` can write as JSON.

    `encode` is the caller's JSON writer (Plotly's, which also takes NumPy arrays), and
    raises TypeError for a value it cannot write.
    """
    if value is None:
        return
    if not isinstance(value, dict):
        raise TypeError(f"`{name}` must be a dict or None; got {value!r}.")
    try:
        encode(value)
    except TypeError:
        raise TypeError(
            f"`{name}` must hold JSON values (numbers, strings, lists, dicts); got {value!r}."
        ) from None
