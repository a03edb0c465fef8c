"""cross_entropy and nll_loss: their special cases.

PyTorch's semantics over the full grid are tested against PyTorch in test_against_torch.py.
"""

import numpy as np
import pytest

from softmax_lib import log_softmax, logsumexp
from softmax_lib.losses import cross_entropy, nll_loss

# Every test here runs twice: through the fused kernels and through the NumPy path.
pytestmark = pytest.mark.usefixtures("both_paths")


def test_cross_entropy_is_log_softmax_then_nll():
    rng = np.random.default_rng(4)
    z, t = rng.normal(0, 5, (20, 6)), rng.integers(0, 6, 20)
    w = rng.uniform(0.5, 2, 6)
    assert cross_entropy(z, t, weight=w) == nll_loss(log_softmax(z), t, weight=w)


def test_probability_target_is_logsumexp_minus_dot_by_hand():
    rng = np.random.default_rng(5)
    z = rng.normal(0, 5, (10, 4))
    y = rng.dirichlet(np.ones(4), size=10)
    expected = logsumexp(z) - np.sum(z * y, axis=-1)
    np.testing.assert_allclose(cross_entropy(z, y, reduction="none"), expected, rtol=1e-13)


def test_class_axis_can_be_any_axis():
    rng = np.random.default_rng(6)
    z = rng.normal(size=(3, 5, 4))  # classes on axis 1
    t = rng.integers(0, 5, (3, 4))
    moved = cross_entropy(np.moveaxis(z, 1, -1), t, reduction="none")
    np.testing.assert_array_equal(cross_entropy(z, t, axis=1, reduction="none"), moved)


def test_stays_finite_where_probabilities_underflow():
    assert float(cross_entropy([[0.0, -800.0]], [1])) == 800.0
    # A zero coefficient contributes nothing, even against a -inf logit.
    assert float(cross_entropy([[0.0, -np.inf]], np.array([[1.0, 0.0]]))) == 0.0


def test_mean_of_nothing_is_nan_as_in_torch():
    z = np.zeros((2, 3))
    assert np.isnan(cross_entropy(z, [1, 1], ignore_index=1))
    assert np.isnan(cross_entropy(np.zeros((0, 3)), np.zeros(0, dtype=int)))
    assert cross_entropy(np.zeros((0, 3)), np.zeros(0, dtype=int), reduction="sum") == 0.0


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_narrow_dtypes_are_computed_wide_and_rounded_once(dtype):
    rng = np.random.default_rng(7)
    z = rng.normal(0, 10, (50, 8)).astype(dtype)
    t = rng.integers(0, 8, 50)
    out = cross_entropy(z, t, reduction="none")
    assert out.dtype == dtype
    wide = cross_entropy(z.astype(np.float64), t, reduction="none")
    np.testing.assert_array_equal(out, wide.astype(dtype))


def test_inputs_are_not_modified():
    z = np.array([[1.0, 2.0, 3.0]])
    t = np.array([[0.2, 0.3, 0.5]])
    z0, t0 = z.copy(), t.copy()
    cross_entropy(z, t, label_smoothing=0.2)
    np.testing.assert_array_equal(z, z0)
    np.testing.assert_array_equal(t, t0)
