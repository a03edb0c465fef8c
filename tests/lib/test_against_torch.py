"""Oracle tests: `softmax_lib` agrees with PyTorch in float64 (and float32 where stated)."""

import numpy as np
import pytest
import torch
from hypothesis import given
from numpy.testing import assert_allclose, assert_array_equal
from strategies import logits

from softmax_lib import log_softmax, logsumexp, softmax

# Every test here runs twice: through the fused kernels and through the NumPy path.
pytestmark = [pytest.mark.torch, pytest.mark.usefixtures("both_paths")]


@given(logits)
def test_softmax_and_log_softmax_match_torch_float64(x):
    t = torch.from_numpy(x)
    assert_allclose(softmax(x), torch.softmax(t, dim=-1).numpy(), rtol=0, atol=1e-12)
    scale = 1 + np.abs(x).max()
    assert_allclose(
        log_softmax(x), torch.log_softmax(t, dim=-1).numpy(), rtol=0, atol=1e-13 * scale
    )


@given(logits)
def test_logsumexp_matches_torch_float64(x):
    t = torch.from_numpy(x)
    assert_allclose(logsumexp(x), torch.logsumexp(t, dim=-1).numpy(), rtol=1e-13, atol=1e-13)
    dims = tuple(range(x.ndim))
    # torch loses tails (log of a sum near 1), so the slack is absolute as well as relative.
    expected = torch.logsumexp(t, dim=dims).numpy()
    assert_allclose(logsumexp(x, axis=None), expected, rtol=1e-13, atol=1e-13)


def test_temperature_matches_dividing_torch_logits():
    x = np.random.default_rng(11).normal(scale=5, size=(4, 6))
    expected = torch.softmax(torch.from_numpy(x) / 0.3, dim=-1).numpy()
    assert_allclose(softmax(x, temperature=0.3), expected, rtol=1e-13, atol=1e-300)


def test_masking_with_minus_inf_matches_torch():
    x = np.array([[0.0, -np.inf, 2.0], [-np.inf, 1.0, 1.0]])
    expected_p = torch.softmax(torch.from_numpy(x), dim=-1).numpy()
    expected_lp = torch.log_softmax(torch.from_numpy(x), dim=-1).numpy()
    assert_array_equal(softmax(x) == 0, expected_p == 0)  # the masked entries, exactly
    assert_allclose(softmax(x), expected_p, rtol=1e-15)
    assert_allclose(log_softmax(x), expected_lp, rtol=1e-15)  # -inf where torch has -inf


def test_all_minus_inf_row_is_nan_as_in_torch():
    x = np.array([[-np.inf, -np.inf]])
    assert np.isnan(softmax(x)).all() and torch.softmax(torch.from_numpy(x), -1).isnan().all()
