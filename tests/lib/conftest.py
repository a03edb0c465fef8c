"""Fixtures of the library's tests."""

import pytest

from softmax_lib import kernels


@pytest.fixture(scope="module", params=["fused", "numpy"])
def both_paths(request):
    """Run a whole test module twice: through the fused kernels, then the NumPy path.

    Used with ``pytestmark = pytest.mark.usefixtures("both_paths")`` by the modules whose
    promises (accuracy, special values, errors, PyTorch's and SciPy's semantics) must hold
    whichever path computes the result.
    """
    if request.param == "numpy":
        with kernels.numpy_path():
            assert not kernels.enabled()
            yield "numpy"
    else:
        assert kernels.enabled()  # numba is pinned: the kernels must run here
        yield "fused"
