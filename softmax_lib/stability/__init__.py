r"""Numerical stability, for teaching and for measuring.

Three kinds of tools live here:

* *deliberately naive* formulas (``naive_*``), whose overflow and ``nan`` are the lesson,
  and the textbook max-shifted formulas (``shifted_*``), which fix overflow but not the
  lost tail;
* facts about floating-point formats: :func:`float_format` and the thresholds at which
  ``exp`` overflows or underflows (float16, bfloat16, float32, float64, long double);
* an exact reference computed with mpmath (``reference_*``) and :func:`ulp_error`, which
  measure how far a floating-point result is from the true value.

Unlike the rest of the package, the ``naive_*`` functions do not silence floating-point
warnings: the warnings are part of what they teach.

The tools live in three modules, re-exported here: :mod:`~softmax_lib.stability.foils`,
:mod:`~softmax_lib.stability.formats` and :mod:`~softmax_lib.stability.reference`; the
adversarial input classes that the accuracy tests and benchmark share are in
:mod:`~softmax_lib.stability.cases`.
"""

from softmax_lib.stability.foils import (
    naive_log_softmax,
    naive_logsumexp,
    naive_softmax,
    shifted_log_softmax,
    shifted_logsumexp,
    shifted_softmax,
)
from softmax_lib.stability.formats import (
    FloatFormat,
    exp_overflow_threshold,
    exp_underflow_threshold,
    float_format,
)
from softmax_lib.stability.reference import (
    reference_log_softmax,
    reference_logsumexp,
    reference_softmax,
    relative_error,
    ulp_error,
)

__all__ = [
    "FloatFormat",
    "exp_overflow_threshold",
    "exp_underflow_threshold",
    "float_format",
    "naive_log_softmax",
    "naive_logsumexp",
    "naive_softmax",
    "reference_log_softmax",
    "reference_logsumexp",
    "reference_softmax",
    "relative_error",
    "shifted_log_softmax",
    "shifted_logsumexp",
    "shifted_softmax",
    "ulp_error",
]
