"""softmax_lib: the tested helper library of the executable textbook on softmax.

The top level holds the numerically careful core; submodules hold the rest:

* :mod:`softmax_lib.stability`: naive and max-shifted formulas for teaching, facts about
  floating-point formats, and an mpmath reference with :func:`~softmax_lib.stability.ulp_error`.
* :mod:`softmax_lib.information`: entropy, cross-entropy and KL divergence of probability
  vectors.
* :mod:`softmax_lib.losses`: ``cross_entropy`` and ``nll_loss`` on logits, with PyTorch's
  semantics (also exported here).
* :mod:`softmax_lib.gradients`: Jacobians, vector-Jacobian products, the cross-entropy
  gradient and a finite-difference checker.
* :mod:`softmax_lib.calibration`: reliability bins, expected calibration error and
  temperature scaling.
* :mod:`softmax_lib.classifier`: softmax regression, its objective and an L-BFGS fit.
* :mod:`softmax_lib.relatives`: Gumbel-max sampling, Gumbel-softmax and sparsemax.
* :mod:`softmax_lib.sampling`: next-token sampling with temperature, top-k, top-p and min-p.
* :mod:`softmax_lib.streaming`: the online normaliser, blockwise softmax and attention.
* :mod:`softmax_lib.kernels`: the switches of the fused kernels (on or off, threads,
  warm-up), for comparing the compiled and the NumPy path.
* :mod:`softmax_lib.checks`: self-checks for students' own implementations.
* :mod:`softmax_lib.interactive`: figures with a slider for the book's pages (needs Plotly).
* :mod:`softmax_lib.book`: the set-up every chapter shares (print and figure style, glue of
  plain floats, Markdown tables).
* :mod:`softmax_lib.symbolic` (imports SymPy; not imported here): the symbolic objects the
  book's derivations are proved with.
"""

from softmax_lib import (
    book,
    calibration,
    checks,
    classifier,
    gradients,
    information,
    interactive,
    kernels,
    losses,
    relatives,
    sampling,
    stability,
    streaming,
)
from softmax_lib.binary import log_sigmoid, sigmoid
from softmax_lib.core import hardmax, log_softmax, logsumexp, softmax
from softmax_lib.losses import cross_entropy, nll_loss

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "book",
    "calibration",
    "checks",
    "classifier",
    "cross_entropy",
    "gradients",
    "hardmax",
    "information",
    "interactive",
    "kernels",
    "log_sigmoid",
    "log_softmax",
    "logsumexp",
    "losses",
    "nll_loss",
    "relatives",
    "sampling",
    "sigmoid",
    "softmax",
    "stability",
    "streaming",
]
