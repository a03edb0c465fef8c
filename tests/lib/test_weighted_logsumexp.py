"""logsumexp(x, b=..., return_sign=...): SciPy's semantics, tested against SciPy, JAX and mpmath.

The oracles: SciPy's own test expectations (ported from scipy/special/tests/test_logsumexp.py
as cases, with their independent reference values), SciPy run side by side for the semantics
(and JAX, in test_against_jax.py), and for accuracy an mpmath evaluation of log|sum(b exp(a))|
straight from the definition in 400 digits (tests/helpers.py), which needs no shift and no
cleverness.
"""

import math
import re

import numpy as np
import pytest
from helpers import SIGNED_LSE_SPECIAL_VALUES, mp_signed_lse_naive
from scipy.special import logsumexp as scipy_lse

from softmax_lib import logsumexp
from softmax_lib import stability as st


def _ulps(value, sign, a, b):
    exact, exact_sign = mp_signed_lse_naive(a, b)
    assert float(sign) == exact_sign
    return float(st.ulp_error(np.asarray(value).reshape(1), np.array([exact], dtype=object))[0])


# --- SciPy's own expectations -------------------------------------------------------------


def test_scipy_weights_cases():
    a = np.arange(200.0)
    b = np.arange(200.0, 0.0, -1.0)
    np.testing.assert_allclose(logsumexp(a, b=b), np.log(np.sum(b * np.exp(a))), rtol=1e-14)
    np.testing.assert_allclose(
        logsumexp([1000.0, 1000.0], b=[1.2, 1.2]), 1000 + math.log(2 * 1.2), rtol=1e-15
    )
    x = np.full(100000, 1e-40)
    w = np.linspace(1, 1000, 100000)
    big = np.stack((np.log(x), np.log(x)))
    both = np.stack((w, w))
    np.testing.assert_allclose(np.exp(logsumexp(big, axis=None, b=both)), np.sum(both * x))
    np.testing.assert_allclose(np.exp(logsumexp(big, axis=0, b=both)), np.sum(both * x, axis=0))
    np.testing.assert_allclose(np.exp(logsumexp(big, axis=1, b=both)), np.sum(both * x, axis=1))


def test_scipy_sign_cases():
    r, s = logsumexp([1, 1, 1], b=[1, -1, -1], return_sign=True)
    assert s == -1.0 and r == pytest.approx(1.0, rel=1e-15)
    r, s = logsumexp([1, 1], b=[1, -1], return_sign=True)
    assert np.isneginf(r) and s == 0.0  # an exact zero, recognised exactly
    r, s = logsumexp(np.ones((1, 2, 3, 4)), axis=2, b=np.ones((1, 2, 3, 4)), return_sign=True)
    assert r.shape == s.shape == (1, 2, 4)
    r, s = logsumexp(np.ones((1, 2, 3, 4)), axis=(1, 3), b=np.ones((1, 2, 3, 4)), return_sign=True)
    assert r.shape == s.shape == (1, 3)


def test_scipy_zero_weight_removes_its_term_and_weights_broadcast():
    assert logsumexp([1, 10000], b=[1, 0]) == 1.0
    out = logsumexp(np.zeros((4, 1, 2, 1)), axis=None, b=np.ones((3, 1, 5)))
    assert out == pytest.approx(math.log(4 * 3 * 2 * 5), rel=1e-15)
    assert np.isnan(logsumexp([np.nan, 1.0])) and logsumexp([np.nan, 1.0], b=[0, 1]) == 1.0
    assert logsumexp([np.inf, 1.0], b=[0, 1]) == 1.0


@pytest.mark.parametrize("dtype_a", ["int64", "float16", "float32", "float64"])
@pytest.mark.parametrize("dtype_b", ["int64", "bool", "float16", "float32", "float64"])
def test_result_dtype_is_scipys(dtype_a, dtype_b):
    a = np.array([2, 1], dtype=dtype_a)
    b = np.array([1, 1], dtype=dtype_b)
    ours, theirs = logsumexp(a, b=b), scipy_lse(a, b=b)
    assert ours.dtype == np.asarray(theirs).dtype
    assert ours == pytest.approx(float(theirs), rel=float(np.finfo(ours.dtype).eps))


def test_scipy_gh22903_and_gh23548():
    a = [3.06409428, 0.37251854, 3.87471931]
    assert logsumexp(a, b=[1.88190708, 2.84174795, -0.85016884]) == pytest.approx(
        float(logsumexp(a, b=[1.88190708, 2.84174795, -0.85016884], return_sign=True)[0]),
        rel=1e-15,
    )
    assert np.isnan(logsumexp(a, b=[1.88190708, 2.84174795, -3.85016884]))
    for b, sign in ((None, 1.0), ([-1.0], -1.0)):
        value, s = logsumexp([np.inf], b=b, return_sign=True)
        assert np.isposinf(value) and s == sign


def test_inputs_are_not_written_to():
    a, b = np.array([5.0, 4.0]), np.array([3.0, 2.0])
    logsumexp(a, b=b, return_sign=True)
    np.testing.assert_array_equal(a, [5.0, 4.0])
    np.testing.assert_array_equal(b, [3.0, 2.0])


# --- Semantics side by side with SciPy (and with JAX in test_against_jax.py) ----------------


def test_random_rows_agree_with_scipy():
    rng = np.random.default_rng(20)
    a = rng.normal(0, 5, (200, 12))
    b = rng.normal(0, 1, (200, 12))
    b[::7] = np.abs(b[::7])
    ours = logsumexp(a, b=b, return_sign=True)
    theirs = scipy_lse(a, axis=-1, b=b, return_sign=True)
    np.testing.assert_array_equal(ours[1], theirs[1])
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-9)  # they lose digits; we don't
    no_sign = logsumexp(a, b=b)
    np.testing.assert_array_equal(np.isnan(no_sign), ours[1] < 0)
    np.testing.assert_array_equal(np.isnan(no_sign), np.isnan(scipy_lse(a, axis=-1, b=b)))


def test_where_is_a_weight_of_zero():
    rng = np.random.default_rng(21)
    a = rng.normal(0, 3, (50, 7))
    b = rng.normal(0, 1, (50, 7))
    keep = rng.random((50, 7)) < 0.6
    keep[0] = False  # nothing left: -inf, sign 0
    ours = logsumexp(a, b=b, where=keep, return_sign=True)
    np.testing.assert_array_equal(
        ours[0], logsumexp(a, b=np.where(keep, b, 0.0), return_sign=True)[0]
    )
    assert np.isneginf(ours[0][0]) and ours[1][0] == 0


@pytest.mark.parametrize(("a", "b", "value", "sign"), SIGNED_LSE_SPECIAL_VALUES)
def test_special_values_follow_the_extended_reals(a, b, value, sign):
    ours = logsumexp(a, b=b, return_sign=True)
    np.testing.assert_array_equal(ours, (value, sign))


def test_where_scipy_differs_from_us():
    # An infinite term beside a finite one whose exp overflows: +inf, not NaN.
    assert np.isnan(scipy_lse([np.inf, 800.0], b=[1, -1]))
    # An infinite weight on a logit whose exp underflows: exp(-800) > 0, so +inf, not NaN
    # (JAX gives NaN too: test_against_jax.py).
    assert np.isnan(scipy_lse([-800.0, 1.0], b=[np.inf, 1.0]))
    np.testing.assert_array_equal(
        logsumexp([-800.0, 1.0], b=[np.inf, 1.0], return_sign=True), (np.inf, 1.0)
    )
    np.testing.assert_array_equal(
        logsumexp([np.inf, 800.0], b=[1, -1], return_sign=True), (np.inf, 1.0)
    )
    # An empty reduction: the sum is 0, sign 0 (SciPy gives -1, the sign of its -inf).
    assert scipy_lse(np.zeros((0,)), return_sign=True)[1] == -1
    np.testing.assert_array_equal(
        logsumexp(np.zeros((2, 0)), b=1.0, return_sign=True), [[-np.inf] * 2, [0.0] * 2]
    )


def test_return_sign_without_weights():
    value, sign = logsumexp([[1.0, 2.0], [-np.inf, -np.inf], [np.nan, 1.0]], return_sign=True)
    np.testing.assert_array_equal(sign, [1.0, 0.0, np.nan])
    np.testing.assert_array_equal(value, logsumexp([[1.0, 2.0], [-np.inf, -np.inf], [np.nan, 1.0]]))


# --- Accuracy against mpmath: SciPy's hard cases, and harder --------------------------------


def _hard_cases():
    """Rows where the sum cancels, the result is near zero, or the weights span the range."""
    rng = np.random.default_rng(22)
    rows = [
        ([1.0, 2.0], [1.0, -1.0]),
        ([0.0, 1e-10], [1.0, -1.0]),  # e^(1e-10) - 1: cancels to 10 digits
        ([1.0, 1.0 + 2**-40, 1.0 - 2**-40], [2.0, -1.0, -1.0]),  # cancels to 2**-80 relative
        ([0.0, -40.0], [1.0, 1.0]),  # SciPy gh-18295
        ([-800.0, 0.0], [1e300, 1e-320]),  # the weight decides which term matters
        ([3.06409428, 0.37251854, 3.87471931], [1.88190708, 2.84174795, -0.85016884]),
        ([700.0, 700.0, 0.0], [1e300, -1e300, 1.0]),  # the two giants cancel exactly
    ]
    for _ in range(20):  # log-probabilities with weights summing to 1: results near zero
        lp = np.log(rng.dirichlet(np.ones(50)))
        w = rng.dirichlet(np.ones(50))
        rows.append((lp - np.log(np.sum(w * np.exp(lp))), w))
    for _ in range(20):  # a sum of weights near zero, signs mixed
        a = rng.normal(0, 2, 10)
        w = rng.normal(0, 1, 10)
        w[-1] = -np.sum(w[:-1] * np.exp(a[:-1] - a[-1])) * (1 + 1e-8)
        rows.append((a, w))
    return rows


def test_accuracy_on_hard_cases_within_half_an_ulp_and_never_worse_than_scipy():
    worst_ours = worst_scipy = 0.0
    for a, b in _hard_cases():
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        value, sign = logsumexp(a, b=b, return_sign=True)
        ours = _ulps(value, sign, a, b)
        theirs_value, theirs_sign = scipy_lse(a, b=b, return_sign=True)
        theirs = _ulps(theirs_value, sign, a, b) if theirs_sign == sign else math.inf
        assert ours <= 0.5 + 2**-6, (a, b, ours)
        assert ours <= theirs + 2**-6
        worst_ours, worst_scipy = max(worst_ours, ours), max(worst_scipy, theirs)
    assert worst_scipy > 1e6 * max(worst_ours, 2**-10)  # and SciPy is far off on some


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.longdouble])
def test_accuracy_on_random_signed_rows_in_every_format(dtype):
    rng = np.random.default_rng(23)
    a = rng.normal(0, 4, (60, 9)).astype(dtype)
    b = rng.normal(0, 2, (60, 9)).astype(dtype)
    value, sign = logsumexp(a, b=b, return_sign=True)
    assert value.dtype == sign.dtype == np.dtype(dtype)
    errors = [_ulps(v, s, ra, rb) for v, s, ra, rb in zip(value, sign, a, b, strict=True)]
    # Narrower formats are summed in a wider one: correctly rounded but for a rounding in
    # the wider format. Long double is summed in itself: a few ULPs, by the error bound.
    assert max(errors) <= (0.5 + 2**-6 if dtype != np.longdouble else 2.0)


def test_an_exact_zero_is_recognised_through_repeated_logits():
    # The weights of each distinct logit sum to zero: the sum is exactly zero.
    a = [0.5, 2.0, 0.5, 2.0, 2.0]
    b = [1.0, 0.25, -1.0, 0.5, -0.75]
    value, sign = logsumexp(a, b=b, return_sign=True)
    assert np.isneginf(value) and sign == 0.0
    value, sign = logsumexp(a, b=[1.0, 0.25, -1.0, 0.5, -0.5], return_sign=True)
    assert sign == 1.0 and value == pytest.approx(2.0 + math.log(0.25), rel=1e-15)


# --- Bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"b": [1j, 1]}, TypeError, "`b` must be real-valued; got dtype complex128."),
        ({"b": ["a", "b"]}, TypeError, "`b` must be a real-valued numeric array; got dtype <U1."),
        (
            {"b": [1.0, 2.0, 3.0]},
            ValueError,
            "`b` must broadcast against `x`, shape (2,); got shape (3,).",
        ),
        (
            {"b": [1.0, 2.0], "return_sign": 1},
            TypeError,
            "`return_sign` must be True or False; got 1.",
        ),
        ({"b": np.ma.array([1.0, 2.0])}, TypeError, "`b` must be a plain array"),
    ],
)
def test_bad_weights_get_clear_errors(kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)):
        logsumexp([1.0, 2.0], **kwargs)
