"""Fixtures of the library's tests."""

import os

import pytest

from softmax_lib import _dispatch


@pytest.fixture(scope="module", params=["fused", "numpy"])
def both_paths(request):
    """Run a whole test module twice: through the fused kernels, then the NumPy path.

    Used with ``pytestmark = pytest.mark.usefixtures("both_paths")`` by the modules whose
    promises (accuracy, special values, errors, PyTorch's and SciPy's semantics) must hold
    whichever path computes the result.
    """
    before = os.environ.get("SOFTMAX_LIB_NUMBA")
    os.environ["SOFTMAX_LIB_NUMBA"] = "1" if request.param == "fused" else "0"
    if request.param == "fused":
        assert _dispatch.kernels() is not None  # numba is pinned: the kernels must run here
    yield request.param
    if before is None:
        del os.environ["SOFTMAX_LIB_NUMBA"]
    else:
        os.environ["SOFTMAX_LIB_NUMBA"] = before
