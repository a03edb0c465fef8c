"""Entropy, cross-entropy and KL divergence: against SciPy, mpmath and their identities."""

import mpmath
import numpy as np
import pytest
import scipy.special
import scipy.stats
from hypothesis import assume, given
from hypothesis import strategies as hs
from hypothesis.extra.numpy import arrays

from softmax_lib import softmax
from softmax_lib.information import cross_entropy_between, entropy, kl_divergence
from softmax_lib.stability import ulp_error

EPS = np.finfo(np.float64).eps


def random_pair(rng, n, closeness):
    """A distribution p (sometimes with zeros) and a q near it, or far from it."""
    p = softmax(rng.normal(0, rng.choice([0.1, 1.0, 5.0, 30.0]), n))
    if closeness is None:
        q = softmax(rng.normal(0, 3.0, n))
    else:
        q = softmax(np.log(p) + rng.normal(0, closeness, n))
    return p, q


def pairs(count=120, seed=7):
    rng = np.random.default_rng(seed)
    for k in range(count):
        n = int(rng.integers(2, 50))
        p, q = random_pair(rng, n, [None, 1e-9, 1e-4, 0.1, 3.0][k % 5])
        if k % 4 == 0:
            p[rng.integers(n)] = 0.0
            p = p / p.sum()
        yield p, q


def mp_terms(p, q, dps=80):
    """Exact entropy, cross-entropy and KL of the inputs as given (0 log 0 = 0).

    The KL is the sum of the non-negative terms p log(p/q) - p + q (see the docstring), the
    same value as sum(p log(p/q)) whenever sum(p) == sum(q).
    """
    with mpmath.workdps(dps):
        ps = [mpmath.mpf(float(v)) for v in p]
        qs = [mpmath.mpf(float(v)) for v in q]
        h = [-a * mpmath.log(a) for a in ps if a > 0]
        pairs_ = list(zip(ps, qs, strict=True))
        if any(a > 0 and b == 0 for a, b in pairs_):
            return mpmath.fsum(h), mpmath.inf, mpmath.inf
        c = [-a * mpmath.log(b) for a, b in pairs_ if a > 0]
        k = [(a * mpmath.log(a / b) if a > 0 else 0) - a + b for a, b in pairs_]
        return mpmath.fsum(h), mpmath.fsum(c), mpmath.fsum(k)


def exact(value):
    return np.array(value, dtype=object)


# Accuracy against mpmath on the inputs as given.


def test_accurate_to_a_few_ulps_in_float64():
    worst = {"entropy": 0.0, "cross-entropy": 0.0, "kl": 0.0}
    for p, q in pairs():
        h, c, k = mp_terms(p, q)
        worst["entropy"] = max(worst["entropy"], float(ulp_error(entropy(p), exact(h))))
        worst["cross-entropy"] = max(
            worst["cross-entropy"], float(ulp_error(cross_entropy_between(p, q), exact(c)))
        )
        worst["kl"] = max(worst["kl"], float(ulp_error(kl_divergence(p, q), exact(k))))
    assert max(worst.values()) <= 4, worst


def test_kl_of_nearby_distributions_keeps_its_digits():
    # The rel_entr terms cancel to rounding noise; the kl_div form loses nothing.
    q = np.array([0.3, 0.7])
    p = np.array([0.3 + 1e-9, 0.7 - 1e-9])
    _, _, k = mp_terms(p, q)
    assert ulp_error(kl_divergence(p, q), exact(k)) <= 4
    assert ulp_error(np.sum(scipy.special.rel_entr(p, q)), exact(k)) > 1e3
    assert kl_divergence(q, q) == 0.0


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_narrow_formats_are_rounded_once(dtype):
    tol = np.sqrt(np.finfo(dtype).eps)
    checked = 0
    for p, q in pairs(count=60, seed=3):
        p, q = p.astype(dtype), q.astype(dtype)
        if max(abs(float(v.astype(np.float64).sum()) - 1) for v in (p, q)) > tol:
            continue
        h, c, k = mp_terms(p, q)
        assert entropy(p).dtype == dtype
        assert ulp_error(entropy(p), exact(h)) <= 0.51
        assert ulp_error(cross_entropy_between(p, q), exact(c)) <= 0.51
        assert ulp_error(kl_divergence(p, q), exact(k)) <= 0.51
        checked += 1
    assert checked >= 20


# Agreement with SciPy.


def test_against_scipy_entropy_and_rel_entr():
    for p, q in pairs(count=60, seed=11):
        # SciPy renormalises p and q and sums terms of both signs: it is the less accurate
        # side, so the tolerances are SciPy's rounding errors, a few ULPs of 1.
        np.testing.assert_allclose(entropy(p), scipy.stats.entropy(p), rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(
            entropy(p, base=2), scipy.stats.entropy(p, base=2), rtol=1e-13, atol=1e-15
        )
        np.testing.assert_allclose(
            kl_divergence(p, q), scipy.stats.entropy(p, q), rtol=1e-12, atol=1e-15
        )
        np.testing.assert_allclose(
            kl_divergence(p, q), np.sum(scipy.special.kl_div(p, q)), rtol=1e-12, atol=1e-15
        )
        np.testing.assert_allclose(
            kl_divergence(p, q), np.sum(scipy.special.rel_entr(p, q)), rtol=1e-12, atol=1e-15
        )


def test_batched_axes_and_joint_distributions():
    rng = np.random.default_rng(5)
    p = softmax(rng.normal(size=(4, 3, 5)), axis=(1, 2))
    joint = entropy(p, axis=(1, 2))
    assert joint.shape == (4,)
    for i in range(4):
        assert joint[i] == pytest.approx(float(scipy.stats.entropy(p[i].ravel())), rel=1e-13)
    by_rows = entropy(softmax(rng.normal(size=(4, 5)), axis=0), axis=0)
    assert by_rows.shape == (5,)


# Conventions and special cases, each derived by hand.


def test_conventions_by_hand():
    assert entropy([1.0, 0.0, 0.0]) == 0.0  # certain outcome
    assert entropy([0.25] * 4, base=2) == 2.0  # uniform on 4: log2(4)
    assert float(entropy([0.5, 0.25, 0.25], base=2)) == 1.5
    assert cross_entropy_between([0.0, 1.0], [0.0, 1.0]) == 0.0  # 0 log 0 = 0 in q too
    assert cross_entropy_between([0.5, 0.5], [1.0, 0.0]) == np.inf
    assert kl_divergence([0.5, 0.5], [1.0, 0.0]) == np.inf
    assert kl_divergence([1.0, 0.0], [0.5, 0.5]) == pytest.approx(np.log(2), rel=1e-16)
    assert float(cross_entropy_between([1.0, 0.0], [0.5, 0.5], base=2)) == 1.0


def test_uniform_has_the_maximum_entropy_log_n():
    for n in (1, 2, 3, 10, 1000):
        assert float(entropy(np.full(n, 1 / n))) == pytest.approx(np.log(n), rel=1e-14, abs=0)


def test_empty_batch_and_dtype_promotion():
    assert entropy(np.zeros((0, 3))).shape == (0,)
    out = kl_divergence(np.array([0.5, 0.5], np.float32), np.array([0.25, 0.75]))
    assert out.dtype == np.float64


# Properties (Hypothesis).

prob_rows = (
    arrays(np.float64, hs.integers(1, 8), elements=hs.floats(0, 1, allow_nan=False))
    .filter(lambda a: a.sum() > 0.1)
    .map(lambda a: a / a.sum())
)


@given(prob_rows, hs.data())
def test_gibbs_and_the_kl_identity(p, data):
    q = data.draw(
        arrays(np.float64, p.shape, elements=hs.floats(1e-6, 1))
        .map(lambda a: a / a.sum())
        .filter(lambda a: abs(a.sum() - 1) < 1e-12)
    )
    assume(abs(p.sum() - 1) <= 1e-12)  # p must be a distribution to the last digits
    h, c, k = entropy(p), cross_entropy_between(p, q), kl_divergence(p, q)
    assert h >= 0 and k >= 0
    assert c >= h - 8 * EPS * max(1.0, h)
    assert c - h == pytest.approx(k, abs=16 * EPS * max(1.0, c))
    assert kl_divergence(p, p) == 0.0
    assert cross_entropy_between(p, p) == pytest.approx(h, rel=1e-15, abs=0)
