"""Online and blockwise softmax agree with the core functions and with mpmath."""

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose

from softmax_lib import logsumexp, softmax
from softmax_lib import stability as stab
from softmax_lib.streaming import (
    blocked_attention,
    merge_normalisers,
    online_logsumexp,
    online_softmax,
)

finite_rows = arrays(
    np.float64,
    st.tuples(st.integers(1, 3), st.integers(1, 12)),
    elements=st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False),
)


@given(finite_rows, st.integers(1, 10))
def test_online_equals_the_core_for_every_block_size(x, block_size):
    np.testing.assert_allclose(
        online_logsumexp(x, block_size=block_size), logsumexp(x), rtol=1e-14, atol=1e-14
    )
    np.testing.assert_allclose(
        online_softmax(x, block_size=block_size), softmax(x), rtol=1e-12, atol=1e-300
    )


@pytest.mark.parametrize("block_size", [1, 7, 4096])
def test_online_is_accurate_against_mpmath(block_size):
    rng = np.random.default_rng(0)
    x = rng.normal(0, 300, (3, 50))
    exact = stab.reference_logsumexp(x)
    assert stab.ulp_error(online_logsumexp(x, block_size=block_size), exact).max() <= 4


def test_merge_is_associative_and_commutative():
    rng = np.random.default_rng(1)
    parts = [rng.normal(0, 50, 9) for _ in range(3)]
    pairs = [(p.max(), np.exp(p - p.max()).sum()) for p in parts]
    left = merge_normalisers(*merge_normalisers(*pairs[0], *pairs[1]), *pairs[2])
    right = merge_normalisers(*pairs[0], *merge_normalisers(*pairs[1], *pairs[2]))
    swapped = merge_normalisers(*pairs[1], *pairs[0])
    direct = logsumexp(np.concatenate(parts))
    for m, s in (left, right):
        assert float(m + np.log(s)) == pytest.approx(float(direct), rel=1e-14)
    forward = merge_normalisers(*pairs[0], *pairs[1])
    assert float(swapped[0] + np.log(swapped[1])) == pytest.approx(
        float(forward[0] + np.log(forward[1])), rel=1e-15
    )
    m, s = merge_normalisers(-np.inf, 0.0, -np.inf, 0.0)  # two empty parts
    assert m == -np.inf and s == 0.0


@pytest.mark.parametrize("block_size", [1, 5, 16, 100])
def test_blocked_attention_equals_the_direct_computation(block_size):
    rng = np.random.default_rng(2)
    q, k, v = rng.normal(size=(6, 8)), rng.normal(size=(37, 8)), rng.normal(size=(37, 3))
    direct = softmax(q @ k.T / np.sqrt(8)) @ v
    np.testing.assert_allclose(
        blocked_attention(q, k, v, block_size=block_size), direct, rtol=1e-12, atol=1e-14
    )


def test_validation():
    with pytest.raises(ValueError, match=re.escape("`block_size` must be a positive int; got 0.")):
        online_logsumexp([1.0, 2.0], block_size=0)
    with pytest.raises(ValueError, match=re.escape("`x` must be finite for the streaming")):
        online_softmax([1.0, np.inf])
    with pytest.raises(ValueError, match=re.escape("`q`, `k`, `v` must have shapes")):
        blocked_attention(np.ones((2, 3)), np.ones((4, 2)), np.ones((4, 1)))


@pytest.mark.parametrize(
    "row",
    [
        [1e16, 1e16 + 2, 1e16 - 2],  # lse is rounded to a multiple of 2 here
        [1.7e308, 1.7e308, 1.6e308],  # near the float maximum
        [-1e308, -1e308, -1e308],  # ties far below zero
    ],
)
def test_online_softmax_divides_by_the_running_sum_instead_of_subtracting_lse(row):
    # Regression: online_softmax computed exp(x - lse(x)), whose rounding of lse near large
    # logits made rows sum to 1.15, 2 or 3; its docstring promised exp(x - m) / s.
    got = online_softmax(np.array(row), block_size=1)
    assert_allclose(got.sum(), 1.0, rtol=1e-15)
    assert_allclose(got, softmax(np.array(row)), rtol=1e-15, atol=1e-300)
