"""Next-token filters and sampling, against their definitions computed row by row by brute force.

The oracle computes each filter token by token from the definitions in the module docstring,
with exact probabilities (mpmath, 60 digits) and no sorting: top-k keeps the tokens with fewer
than k strictly larger logits, top-p the tokens with less than p of mass strictly ahead, min-p
the tokens at least min_p times as likely as the most likely.
"""

import math
import re
import warnings

import mpmath
import numpy as np
import pytest
from helpers import assert_draws_follow, exact_softmax
from hypothesis import given
from hypothesis import strategies as hs
from hypothesis.extra.numpy import arrays

from softmax_lib import kernels, softmax
from softmax_lib.sampling import filter_logits, sample_next_token

BIG = np.finfo(np.float64).max
# Every chi-square test below (helpers.assert_draws_follow) is at the level 1e-3: a correct
# sampler fails one case for about one seed in 1000. The seeds are fixed, so each test is
# deterministic.


@pytest.fixture(params=["fused", "numpy"])
def path(request):
    """Run a test through the fused kernels, then through the NumPy path."""
    if request.param == "numpy":
        with kernels.numpy_path():
            yield "numpy"
    else:
        yield "fused"


def oracle(z, *, top_k=None, top_p=None, min_p=None):
    """The kept tokens of one row, straight from the definitions, in 60-digit arithmetic."""
    z = [float(v) for v in z]
    with mpmath.workdps(60):
        finite = [mpmath.mpf(v) for v in z if v != -math.inf]
        lse = mpmath.log(mpmath.fsum(mpmath.exp(v) for v in finite))
        p = [mpmath.exp(mpmath.mpf(v) - lse) if v != -math.inf else mpmath.mpf(0) for v in z]
        keep = []
        for i, zi in enumerate(z):
            ok = True
            if top_k is not None:
                ok &= sum(1 for zj in z if zj > zi) < top_k
            if top_p is not None and top_p < 1:
                ok &= mpmath.fsum(p[j] for j in range(len(z)) if z[j] > zi) < top_p
            if min_p is not None and min_p > 0:
                ok &= p[i] >= min_p * max(p)
            keep.append(bool(ok) and zi != -math.inf)
    return keep


rows = arrays(
    np.float64,
    hs.integers(1, 12),
    elements=hs.sampled_from([-3.0, -1.0, 0.0, 0.5, 1.0, 2.0, 4.0]) | hs.floats(-20, 20),
)


@given(rows, hs.integers(1, 14))
def test_top_k_matches_its_definition(z, k):
    kept = np.isfinite(filter_logits(z, top_k=k))
    assert kept.tolist() == oracle(z, top_k=k)
    assert kept.sum() >= min(k, z.size)  # ties can only add tokens


@given(rows, hs.floats(0.01, 1.0))
def test_top_p_matches_its_definition(z, p):
    kept = np.isfinite(filter_logits(z, top_p=p))
    expected = oracle(z, top_p=p)
    # The filter sums float64 probabilities; the oracle sums exact ones. They may disagree only
    # for a token whose mass ahead is within rounding of p.
    if kept.tolist() != expected:
        probs = softmax(z)
        for i in np.flatnonzero(kept != np.array(expected)):
            ahead = probs[z > z[i]].sum()
            assert abs(ahead - p) < 1e-12


@given(rows, hs.floats(0.0, 1.0))
def test_min_p_matches_its_definition(z, m):
    kept = np.isfinite(filter_logits(z, min_p=m))
    expected = oracle(z, min_p=m)
    if kept.tolist() != expected:  # only at the boundary p_i = m * p_max, within rounding
        probs = softmax(z)
        for i in np.flatnonzero(kept != np.array(expected)):
            assert abs(probs[i] - m * probs.max()) <= 1e-12 * probs.max()


def test_edge_cases_from_the_docstring():
    z = np.array([2.0, 1.0, 1.0, -1.0])
    np.testing.assert_array_equal(filter_logits(z, top_k=10), z)  # k >= C keeps all
    np.testing.assert_array_equal(filter_logits(z, top_p=1.0), z)  # p = 1 keeps all
    np.testing.assert_array_equal(filter_logits(z, min_p=0.0), z)
    # Ties at the k-th value are kept: three tokens survive top_k=2.
    assert np.isfinite(filter_logits(z, top_k=2)).tolist() == [True, True, True, False]
    # All the mass on one token: every filter keeps exactly that token.
    one = np.array([0.0, -800.0, -900.0])
    for kwargs in ({"top_k": 1}, {"top_p": 0.5}, {"min_p": 1e-300}):
        assert np.isfinite(filter_logits(one, **kwargs)).tolist() == [True, False, False]
    # Already impossible tokens stay impossible; the best token always survives.
    masked = np.array([-np.inf, 0.0, -np.inf])
    assert np.isfinite(filter_logits(masked, top_p=1e-9)).tolist() == [False, True, False]


def test_temperature_scales_first_and_tiny_temperatures_do_not_overflow():
    z = np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(filter_logits(z, temperature=0.5), z / 0.5)
    # 1e308 / 1e-3 overflows; the differences decide: the top token only survives min_p.
    out = filter_logits(np.array([1e308, 1e308 - 1e293, 0.0]), temperature=1e-3, min_p=0.5)
    assert np.isfinite(out).tolist() == [True, False, False]


def test_filters_combine_as_an_intersection():
    z = np.array([3.0, 2.9, 1.0, 0.5, -2.0])
    both = np.isfinite(filter_logits(z, top_k=3, min_p=0.2))
    alone = np.isfinite(filter_logits(z, top_k=3)) & np.isfinite(filter_logits(z, min_p=0.2))
    np.testing.assert_array_equal(both, alone)


def test_batches_and_axes():
    rng = np.random.default_rng(3)
    batch = rng.normal(size=(4, 6))
    out = filter_logits(batch, top_p=0.8)
    for row, filtered in zip(batch, out, strict=True):
        np.testing.assert_array_equal(filtered, filter_logits(row, top_p=0.8))
    np.testing.assert_array_equal(filter_logits(batch.T, top_p=0.8, axis=0), out.T)


def test_sampling_follows_the_filtered_distribution():
    # Chi-square test of 20,000 draws against softmax of the filtered logits.
    from scipy.stats import chisquare

    z = np.array([2.0, 1.5, 1.0, 0.0, -1.0])
    rng = np.random.default_rng(11)
    draws = sample_next_token(z, rng=rng, top_p=0.9, size=20_000)
    expected = softmax(filter_logits(z, top_p=0.9))
    counts = np.bincount(draws, minlength=z.size)
    assert counts[expected == 0].sum() == 0
    support = expected > 0
    result = chisquare(counts[support], expected[support] * len(draws))
    assert result.pvalue > 1e-3


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"top_k": 0}, ValueError, "`top_k` must be a positive int or None"),
        ({"top_p": 0.0}, ValueError, "`top_p` must be in (0, 1]"),
        ({"top_p": "a"}, TypeError, "`top_p` must be a real number or None"),
        ({"min_p": 1.5}, ValueError, "`min_p` must be in [0, 1]"),
        ({"temperature": 0.0}, ValueError, "`temperature` must be a finite number > 0"),
    ],
)
def test_validation(kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)):
        filter_logits([1.0, 2.0], **kwargs)


def test_rows_without_a_finite_logit_or_with_nan_are_rejected():
    with pytest.raises(ValueError, match=re.escape("`logits` must have a finite entry")):
        filter_logits([-np.inf, -np.inf])
    with pytest.raises(ValueError, match=re.escape("`logits` must not contain NaN or +inf")):
        sample_next_token([np.nan, 1.0], rng=np.random.default_rng(0))


# Every value a float64 exactly: floats near 1e16 are 2 apart, near 1e15 0.125 apart; the
# floats just below BIG (about 1.8e308) are 2**971 apart, and BIG / 2**971 = 2**53 - 1.
ULP_BIG = 2.0**971
CASES = {
    "tie at 1e300": ([1e300, 1e300], {}, None),
    "1e16 + [0, 2]": ([1e16, 1e16 + 2], {}, None),
    "1e15 + [0, 1, 3, 8] / 8": ([1e15, 1e15 + 0.125, 1e15 + 0.375, 1e15 + 1.0], {}, None),
    "mixed scales": ([1e16, 3.0, 1e16 + 2, -np.inf, -1e300], {}, None),
    "three-way tie, masked": ([1e300, -np.inf, 1e300, 1e300], {}, None),
    "gap beyond the float range": ([BIG, -BIG, BIG], {}, None),
    "temperature 2 at 1e16": ([1e16, 1e16 + 2], {"temperature": 2.0}, None),
    # z / T = 2**53 - [1, 2, 4]: gaps of 0, 1 and 3 at a magnitude of 9e15.
    "temperature 2**971 near the largest float": (
        [BIG, BIG - ULP_BIG, BIG - 3 * ULP_BIG],
        {"temperature": ULP_BIG},
        None,
    ),
    # z / T overflows, so the filter shifts by the maximum first; only ties with the maximum
    # can then have a probability (any other gap is at least 2**971 / T).
    "ties when z / T overflows": ([BIG, 1.0, BIG], {"temperature": 0.5}, None),
    "top_k at 1e16": ([1e16, 1e16 + 2, 1e16 + 4], {"top_k": 2}, [False, True, True]),
    # No mass lies strictly ahead of the three tied tokens, so top_p keeps them all (ties at
    # the edge of the nucleus are kept); the fourth, 1e290 below, has probability 0.
    "top_p on ties at 1e300": ([1e300, 1e300, 1e300, 1e300 - 1e290], {"top_p": 0.3}, None),
}


# Issue 30: sampling added the Gumbel noise to the logits themselves, where it was rounded
# away at large magnitudes: [1e300, 1e300] gave token 0 10,000 times in 10,000, and
# 1e16 + [0, 2] gave 26.6 % / 73.4 % instead of 11.9 % / 88.1 %.
@pytest.mark.parametrize(("row", "options", "keep"), CASES.values(), ids=CASES.keys())
def test_issue30_sample_next_token_is_exact_at_large_magnitudes(path, row, options, keep):
    draws = sample_next_token(row, rng=np.random.default_rng(30), size=20_000, **options)
    expected = exact_softmax(row, options.get("temperature", 1.0), keep)
    assert_draws_follow(draws, expected)


def test_issue30_sample_next_token_batches_of_different_scales(path):
    z = np.array([[1e300, 1e300, 0.0], [0.0, 2.0, -np.inf], [1e16, 1e16 + 2, 1e16 + 2]])
    draws = sample_next_token(z, rng=np.random.default_rng(32), size=20_000)
    assert draws.shape == (20_000, 3)
    for i, row in enumerate(z):
        assert_draws_follow(draws[:, i], exact_softmax(row))


# Issue 30: top_k=1.5 raised ValueError; a value of the wrong type is a TypeError (STYLE 4).
@pytest.mark.parametrize("top_k", [1.5, 2.0, "2", True, np.timedelta64(2)])
def test_issue30_top_k_of_a_non_integer_type_is_a_type_error(top_k):
    message = f"`top_k` must be a positive int or None; got {top_k!r}."
    with pytest.raises(TypeError, match=re.escape(message)):
        filter_logits([1.0, 2.0], top_k=top_k)
    with pytest.raises(TypeError, match=re.escape(message)):
        sample_next_token([1.0, 2.0], rng=np.random.default_rng(0), top_k=top_k)


# Issue 30: filter_logits([1e308, -1e308, 0.], temperature=0.5) warned "overflow encountered
# in subtract" although its result was right; valid input never warns (STYLE 2).
@pytest.mark.parametrize(
    ("row", "temperature", "expected"),
    [
        # z / T overflows, so the row is shifted by its maximum first (softmax ignores it);
        # the other tokens lie 4e308 and 2e308 below it after scaling, probabilities of
        # exp(-2e308) or less, 0 in float64: the documented -inf.
        ([1e308, -1e308, 0.0], 0.5, [0.0, -np.inf, -np.inf]),
        ([-BIG, BIG, 1.0], 1e-3, [-np.inf, 0.0, -np.inf]),
        # No temperature: the logits come back as they are, and only the sampler's gap
        # -BIG - BIG overflows.
        ([BIG, -BIG], 1.0, [BIG, -BIG]),
    ],
)
def test_issue30_filter_logits_does_not_warn_when_a_gap_overflows(path, row, temperature, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = filter_logits(row, temperature=temperature)
        draws = sample_next_token(
            row, rng=np.random.default_rng(0), temperature=temperature, size=100
        )
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(draws, np.argmax(row))  # the others have probability 0
