"""Facts about binary floating-point formats, and where ``exp`` overflows or underflows."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from softmax_lib._validation import check_float_dtype

__all__ = ["FloatFormat", "exp_overflow_threshold", "exp_underflow_threshold", "float_format"]


# --------------------------------------------------------------------------- formats


@dataclass(frozen=True)
class FloatFormat:
    r"""A binary floating-point format, described by its precision and exponent range.

    Attributes
    ----------
    name : str
        The format's usual name, such as ``'float32'``.
    precision : int
        Significand bits, counting the implicit leading bit (``p``; 53 for float64).
    emax : int
        Largest exponent of a normal number (1023 for float64).
    emin : int
        Smallest exponent of a normal number (-1022 for float64).
    """

    name: str
    precision: int
    emax: int
    emin: int

    @property
    def eps(self) -> float:
        """Machine epsilon, the gap between 1 and the next larger number, ``2**(1 - p)``."""
        return _pow2_times(1, 1 - self.precision)

    @property
    def max(self) -> float:
        """The largest finite number, ``(2**p - 1) * 2**(emax - p + 1)``."""
        return _pow2_times(2**self.precision - 1, self.emax - self.precision + 1)

    @property
    def smallest_normal(self) -> float:
        """The smallest positive normal number, ``2**emin``."""
        return _pow2_times(1, self.emin)

    @property
    def smallest_subnormal(self) -> float:
        """The smallest positive subnormal number, ``2**(emin - p + 1)``."""
        return _pow2_times(1, self.emin - self.precision + 1)


def _pow2_times(mantissa: int, exponent: int) -> float:
    """Return ``mantissa * 2**exponent`` exactly: a Python float, or a long double if needed."""
    try:
        value = math.ldexp(float(mantissa), exponent)
        if value != 0.0 and float(mantissa) == mantissa:
            return value
    except OverflowError:
        pass
    return np.ldexp(np.longdouble(mantissa), exponent)


# bfloat16 (the "brain" format) has float32's 8 exponent bits and 7 stored fraction bits.
_BFLOAT16 = FloatFormat("bfloat16", precision=8, emax=127, emin=-126)


def float_format(dtype: Any) -> FloatFormat:
    r"""Describe a floating-point dtype: precision, exponent range, and derived limits.

    Parameters
    ----------
    dtype : dtype-like or 'bfloat16'
        A NumPy floating dtype (``np.float16``, ``'float32'``, ...), a framework dtype whose
        name ends in one of those names (such as ``torch.float32``), or ``'bfloat16'``,
        which NumPy lacks.

    Returns
    -------
    FloatFormat
        The format, with ``max``, ``smallest_normal``, ``smallest_subnormal`` and ``eps``.

    Raises
    ------
    TypeError
        If `dtype` is not a floating-point type.

    Examples
    --------
    >>> import numpy as np
    >>> from softmax_lib.stability import float_format
    >>> f = float_format(np.float16)
    >>> f.precision, f.max, f.smallest_subnormal
    (11, 65504.0, 5.960464477539063e-08)
    >>> float_format("bfloat16").max
    3.3895313892515355e+38
    """
    if str(dtype).rsplit(".", 1)[-1].strip("'<>\" ") == "bfloat16":
        return _BFLOAT16
    dt = check_float_dtype(dtype)
    fi = np.finfo(dt)
    return FloatFormat(dt.name, precision=fi.nmant + 1, emax=fi.maxexp - 1, emin=fi.minexp)


def exp_overflow_threshold(dtype: Any) -> float:
    r"""Return the value above which ``exp`` overflows to ``inf`` in `dtype`.

    It is the real number at which rounding to nearest switches from the largest finite value
    to infinity: :math:`\ln(M + u/2)` for the largest finite value :math:`M` and its spacing
    :math:`u`, equal to :math:`\ln M` to about ``p + 1`` bits.

    Parameters
    ----------
    dtype : dtype-like or 'bfloat16'
        See :func:`float_format`.

    Returns
    -------
    float
        The threshold, as a Python float (rounded to float64).

    Notes
    -----
    :math:`M + u/2 = 2^{e_{max}+1}(1 - 2^{-p-1})`, so the threshold is
    :math:`(e_{max}+1)\ln 2 + \operatorname{log1p}(-2^{-p-1})`, which is computed to within
    one float64 rounding.

    Examples
    --------
    >>> import numpy as np
    >>> from softmax_lib.stability import exp_overflow_threshold
    >>> exp_overflow_threshold(np.float64), exp_overflow_threshold(np.float32)
    (709.782712893384, 88.72283908187068)
    """
    f = float_format(dtype)
    return (f.emax + 1) * math.log(2.0) + math.log1p(-math.ldexp(1.0, -f.precision - 1))


def exp_underflow_threshold(dtype: Any) -> float:
    r"""Return the value below which ``exp`` underflows to exactly 0 in `dtype`.

    It is :math:`\ln(s/2)` for the smallest positive subnormal number :math:`s`: below it,
    rounding to nearest gives 0. Between it and :math:`\ln` of the smallest normal number,
    ``exp`` returns subnormal numbers with fewer significant bits.

    Parameters
    ----------
    dtype : dtype-like or 'bfloat16'
        See :func:`float_format`.

    Returns
    -------
    float
        The threshold, as a Python float (rounded to float64).

    Examples
    --------
    >>> import numpy as np
    >>> from softmax_lib.stability import exp_underflow_threshold
    >>> exp_underflow_threshold(np.float64), exp_underflow_threshold(np.float32)
    (-745.1332191019412, -103.97207708399179)
    """
    f = float_format(dtype)
    return (f.emin - f.precision) * math.log(2.0)
