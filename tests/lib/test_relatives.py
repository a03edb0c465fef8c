"""Gumbel-max, Gumbel-softmax and sparsemax against their definitions."""

import re

import numpy as np
import pytest
import scipy.stats
from hypothesis import given
from hypothesis import strategies as hs
from hypothesis.extra.numpy import arrays

from softmax_lib import softmax
from softmax_lib.relatives import gumbel_max_sample, gumbel_noise, gumbel_softmax, sparsemax


def test_gumbel_noise_has_the_gumbel_distribution():
    g = gumbel_noise((200_000,), rng=np.random.default_rng(1))
    assert np.isfinite(g).all()
    result = scipy.stats.kstest(g, scipy.stats.gumbel_r.cdf)
    assert result.pvalue > 1e-3


@pytest.mark.parametrize("seed", [0, 1])
def test_gumbel_max_is_exactly_categorical(seed):
    rng = np.random.default_rng(seed)
    z = np.array([2.0, 0.5, -1.0, 0.0, 1.5])
    n = 200_000
    counts = np.bincount(gumbel_max_sample(z, rng=rng, size=n), minlength=z.size)
    result = scipy.stats.chisquare(counts, n * softmax(z))
    assert result.pvalue > 1e-3  # seeded: deterministic, not flaky


def test_gumbel_max_respects_impossible_classes_and_batches():
    rng = np.random.default_rng(2)
    z = np.array([[0.0, -np.inf, 1.0], [-np.inf, 0.0, -np.inf]])
    draws = gumbel_max_sample(z, rng=rng, size=1000)
    assert draws.shape == (1000, 2)
    assert not np.any(draws[:, 0] == 1) and np.all(draws[:, 1] == 1)
    assert gumbel_max_sample(z.T, rng=rng, axis=0).shape == (2,)


def test_gumbel_softmax_limits_in_temperature():
    z = np.array([1.0, 2.0, 0.5])
    cold = gumbel_softmax(z, rng=np.random.default_rng(3), temperature=1e-3)
    hard = gumbel_softmax(z, rng=np.random.default_rng(3), hard=True)
    sample = gumbel_max_sample(z, rng=np.random.default_rng(3))
    np.testing.assert_allclose(cold, np.eye(3)[sample], atol=1e-12)
    np.testing.assert_array_equal(hard, np.eye(3)[sample])  # same noise, same argmax
    hot = gumbel_softmax(z, rng=np.random.default_rng(3), temperature=1e6)
    np.testing.assert_allclose(hot, np.full(3, 1 / 3), atol=1e-5)


def test_gumbel_softmax_mean_is_not_softmax_but_converges_as_t_falls():
    # The relaxation is biased: E[gumbel_softmax] != softmax(z) for T > 0.
    z = np.array([1.0, 0.0, -1.0])
    rng = np.random.default_rng(4)
    means = {
        T: gumbel_softmax(np.tile(z, (100_000, 1)), rng=rng, temperature=T).mean(axis=0)
        for T in (0.05, 1.0)
    }
    assert np.abs(means[0.05] - softmax(z)).max() < 0.01
    assert np.abs(means[1.0] - softmax(z)).max() > 0.02


def project_by_bisection(z):
    """Euclidean projection onto the simplex by bisection on tau (independent of sorting)."""
    lo, hi = z.min() - 1, z.max()
    for _ in range(200):
        tau = (lo + hi) / 2
        if np.maximum(z - tau, 0).sum() > 1:
            lo = tau
        else:
            hi = tau
    return np.maximum(z - (lo + hi) / 2, 0)


rows = arrays(np.float64, hs.integers(1, 8), elements=hs.floats(-50, 50, allow_nan=False))


@given(rows)
def test_sparsemax_is_the_euclidean_projection_onto_the_simplex(z):
    p = sparsemax(z)
    assert np.all(p >= 0) and abs(p.sum() - 1) < 1e-12
    np.testing.assert_allclose(p, project_by_bisection(z), atol=1e-9)
    # Optimality (variational inequality): (z - p) . (q - p) <= 0 for every q in the simplex;
    # it suffices to check the vertices.
    assert np.all((np.eye(z.size) - p) @ (z - p) <= 1e-9)


def test_sparsemax_by_hand_and_its_invariances():
    np.testing.assert_allclose(sparsemax([1.0, 0.5, -1.0]), [0.75, 0.25, 0.0])
    np.testing.assert_allclose(sparsemax([0.0, 0.0]), [0.5, 0.5])
    np.testing.assert_array_equal(sparsemax([3.0, 0.0]), [1.0, 0.0])  # exact zeros
    z = np.array([0.3, 0.1, -0.2])
    np.testing.assert_allclose(sparsemax(z + 7), sparsemax(z), atol=1e-15)
    assert not np.allclose(sparsemax(10 * z), sparsemax(z))  # not scale invariant
    batch = np.random.default_rng(5).normal(size=(4, 6))
    np.testing.assert_allclose(sparsemax(batch.T, axis=0).T, sparsemax(batch))


def test_bad_input_messages():
    rng = np.random.default_rng(0)
    with pytest.raises(TypeError, match=re.escape("`rng` must be a numpy.random.Generator")):
        gumbel_max_sample([0.0, 1.0], rng=0)
    with pytest.raises(ValueError, match=re.escape("`logits` must not contain NaN or +inf")):
        gumbel_max_sample([0.0, np.nan], rng=rng)
    with pytest.raises(ValueError, match=re.escape("got a row of -inf.")):
        gumbel_max_sample([-np.inf, -np.inf], rng=rng)
    with pytest.raises(
        ValueError, match=re.escape("`size` must be a positive int or None; got 0.")
    ):
        gumbel_max_sample([0.0, 1.0], rng=rng, size=0)
    with pytest.raises(ValueError, match=re.escape("`temperature` must be a finite number > 0")):
        gumbel_softmax([0.0, 1.0], rng=rng, temperature=0.0)
    with pytest.raises(ValueError, match=re.escape("`logits` must be finite for sparsemax")):
        sparsemax([0.0, np.inf])
    with pytest.raises(ValueError, match=re.escape("`logits` must have at least one class")):
        sparsemax(np.zeros((2, 0)))
