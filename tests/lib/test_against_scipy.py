"""Oracle tests: `softmax_lib` agrees with `scipy.special` wherever SciPy is accurate.

SciPy is not a dependency of softmax_lib (only fitting a classifier imports it), so without it
this module is skipped, loudly, and under CI it is an error (`framework` in tests/helpers.py).
"""

import numpy as np
import pytest
from helpers import framework
from hypothesis import given
from numpy.testing import assert_allclose
from strategies import logits

from softmax_lib import log_softmax, logsumexp, softmax

special = framework("scipy.special")

# Every test here runs twice: through the fused kernels and through the NumPy path.
pytestmark = pytest.mark.usefixtures("both_paths")


@given(logits)
def test_logsumexp_matches_scipy(x):
    for axis in [-1, 0, None]:
        assert_allclose(
            logsumexp(x, axis=axis),
            special.logsumexp(x, axis=axis),
            rtol=1e-13,
            atol=1e-13,
        )


@given(logits)
def test_softmax_matches_scipy(x):
    # SciPy's own error grows with the spread of the logits (hundreds of ulps at 1e3),
    # so the tolerance is relative to the largest probability rather than elementwise.
    for axis in [-1, 0]:
        assert_allclose(softmax(x, axis=axis), special.softmax(x, axis=axis), rtol=0, atol=1e-12)


@given(logits)
def test_log_softmax_matches_scipy(x):
    # SciPy computes x - lse, which cancels: compare with an absolute tolerance scaled to x.
    scale = 1 + np.abs(x).max()
    assert_allclose(log_softmax(x), special.log_softmax(x, axis=-1), rtol=0, atol=1e-13 * scale)


@pytest.mark.parametrize(
    "special_row", [[np.inf, 1.0], [np.nan, 1.0], [-np.inf, -np.inf], [-np.inf, 1.0]]
)
def test_special_values_of_logsumexp_match_scipy(special_row):
    x = np.array(special_row)
    with np.errstate(all="ignore"):
        expected = special.logsumexp(x)
    assert_allclose(logsumexp(x), expected)
