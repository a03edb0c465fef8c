"""softmax_lib: the tested helper library of the executable textbook on softmax.

The top level holds the numerically careful core; submodules hold the rest:

* :mod:`softmax_lib.stability`: naive and max-shifted formulas for teaching, facts about
  floating-point formats, and an mpmath reference with :func:`~softmax_lib.stability.ulp_error`.
* :mod:`softmax_lib.information`: entropy, cross-entropy and KL divergence of probability
  vectors.
"""

from softmax_lib import information, stability
from softmax_lib.binary import log_sigmoid, sigmoid
from softmax_lib.core import hardmax, log_softmax, logsumexp, softmax

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "hardmax",
    "information",
    "log_sigmoid",
    "log_softmax",
    "logsumexp",
    "sigmoid",
    "softmax",
    "stability",
]
