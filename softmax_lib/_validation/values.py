"""Scalar and option arguments: numbers, ints, choices, dtypes, generators, callables."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np


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


def check_temperature(temperature: object) -> float:
    """Return `temperature` as a float after checking that it is a finite number > 0."""
    if isinstance(temperature, bool | np.bool_) or not isinstance(temperature, numbers.Real):
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


def check_regularisation(l2: object) -> float:
    """Return an L2 penalty as a float after checking that it is a finite number >= 0."""
    if isinstance(l2, bool | np.bool_) or not isinstance(l2, numbers.Real):
        raise TypeError(f"`l2` must be a real number; got {l2!r}.")
    value = float(l2)
    if not (np.isfinite(value) and value >= 0):
        raise ValueError(f"`l2` must be a finite number >= 0; got {value!r}.")
    return value


def check_tolerance(tol: object) -> float:
    """Return a stopping tolerance after checking that it is a finite number > 0."""
    if isinstance(tol, bool | np.bool_) or not isinstance(tol, numbers.Real):
        raise TypeError(f"`tol` must be a real number; got {tol!r}.")
    value = float(tol)
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"`tol` must be a finite number > 0; got {value!r}.")
    return value


def check_top_p(top_p: object) -> float | None:
    """Return a nucleus mass in (0, 1], or None."""
    if top_p is None:
        return None
    if isinstance(top_p, bool | np.bool_) or not isinstance(top_p, numbers.Real):
        raise TypeError(f"`top_p` must be a real number or None; got {top_p!r}.")
    value = float(top_p)
    if not 0.0 < value <= 1.0:
        raise ValueError(f"`top_p` must be in (0, 1]; got {value!r}.")
    return value


def check_min_p(min_p: object) -> float | None:
    """Return a min-p threshold in [0, 1], or None."""
    if min_p is None:
        return None
    if isinstance(min_p, bool | np.bool_) or not isinstance(min_p, numbers.Real):
        raise TypeError(f"`min_p` must be a real number or None; got {min_p!r}.")
    value = float(min_p)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"`min_p` must be in [0, 1]; got {value!r}.")
    return value
