"""softmax_lib: the tested helper library of the executable textbook on softmax.

The top level holds the numerically careful core; submodules hold the rest:

* :mod:`softmax_lib.stability`: naive and max-shifted formulas for teaching, facts about
  floating-point formats, and an mpmath reference with :func:`~softmax_lib.stability.ulp_error`.
"""

from softmax_lib import stability
from softmax_lib.core import hardmax, log_softmax, logsumexp, softmax

__version__ = "0.1.0"

__all__ = ["__version__", "hardmax", "log_softmax", "logsumexp", "softmax", "stability"]
