"""Tests for `softmax_lib.core`: reference values, special values, shapes, properties."""

import math
import warnings

import mpmath
import numpy as np
import pytest
from helpers import mp_lse_naive, mp_softmax_naive
from hypothesis import assume, example, given
from hypothesis import strategies as hs
from numpy.testing import assert_allclose, assert_array_equal
from strategies import logit_rows, logits, logits32

from softmax_lib import hardmax, log_softmax, logsumexp, softmax

# Every test here runs twice: through the fused kernels and through the NumPy path.
pytestmark = pytest.mark.usefixtures("both_paths")

inf, nan = np.inf, np.nan

# Rows whose exact values the oracle in conftest computes from the definition at 400 digits.
REFERENCE_ROWS = [
    [0.0, -40.0],  # tail below float64 resolution: plain max-shift returns 0
    [1000.0, 999.0, 0.0],  # naive exp overflows
    [-1000.0, -1000.5, -1001.0],  # naive exp underflows to 0 / 0
    [0.5, 0.5, 0.5, 0.5],  # ties
    [1e-300, 0.0, -1e-300],  # tiny differences
    [700.0, -700.0, 3.25, 1e-3],  # huge spread
    [-0.6931471805599453, -0.6931471805599453],  # lse near 0 (log 2 - log 2)
]


class TestLogSumExp:
    @pytest.mark.parametrize("row", REFERENCE_ROWS)
    def test_matches_high_precision_definition(self, row):
        expected = float(mp_lse_naive(row))
        # Absolute slack for results near 0, where the inputs' own rounding dominates.
        assert_allclose(logsumexp(row), expected, rtol=4e-16, atol=1e-16 * max(map(abs, row)))

    def test_keeps_the_tail_that_the_plain_shift_loses(self):
        # Regression (SciPy gh-18295): m + log(sum(exp(x - m))) gives 0.0 for [0, -40].
        assert logsumexp([0.0, -40.0]) == pytest.approx(float(mp_lse_naive([0, -40])), rel=1e-15)
        assert logsumexp([0.0, -40.0]) > 0

    @pytest.mark.parametrize(
        ("row", "expected"),
        [
            ([inf, 1.0], inf),
            ([inf, -inf], inf),
            ([inf, inf], inf),
            ([-inf, -inf], -inf),  # log of an all-zero sum
            ([-inf, 2.0], 2.0),  # -inf contributes nothing
            ([nan, 1.0], nan),
            ([nan, inf], nan),
            ([nan, -inf], nan),
            ([], -inf),  # log of an empty sum
        ],
    )
    def test_special_values(self, row, expected):
        assert_array_equal(logsumexp(np.array(row, dtype=np.float64)), expected)

    def test_result_near_the_largest_float_rounds_correctly(self):
        big = np.finfo(np.float64).max
        # max + log 2 is within half a spacing of max, so the correctly rounded result is max.
        assert logsumexp([big, big]) == big
        f32 = np.finfo(np.float32).max
        # Computed in float64, then correctly rounded back to float32 max (finite).
        assert logsumexp(np.array([f32, f32], dtype=np.float32)) == f32

    def test_extreme_finite_spread_gives_no_warning_and_the_right_value(self):
        big = np.finfo(np.float64).max
        assert logsumexp([big, -big]) == big

    @pytest.mark.parametrize(
        ("shape", "axis", "keepdims", "expected_shape"),
        [
            ((2, 3), -1, False, (2,)),
            ((2, 3), 0, False, (3,)),
            ((2, 3), (0, 1), False, ()),
            ((2, 3), None, False, ()),
            ((2, 3), None, True, (1, 1)),
            ((2, 3, 4), (0, 2), True, (1, 3, 1)),
            ((2, 0), -1, False, (2,)),
            ((0, 3), -1, False, (0,)),
        ],
    )
    def test_shapes(self, shape, axis, keepdims, expected_shape):
        assert logsumexp(np.ones(shape), axis=axis, keepdims=keepdims).shape == expected_shape

    def test_empty_reduction_is_minus_inf(self):
        assert_array_equal(logsumexp(np.zeros((2, 0))), [-inf, -inf])

    def test_tuple_axis_equals_reducing_a_reshaped_array(self):
        x = np.random.default_rng(1).normal(scale=30, size=(3, 4, 5))
        moved = np.moveaxis(x, 1, -1).reshape(3 * 5, 4)  # axis 1 moved last, other axes flattened
        assert_allclose(logsumexp(x, axis=1).ravel(), logsumexp(moved), rtol=1e-15)
        flat = np.moveaxis(x, (0, 2), (1, 2)).reshape(4, 15)
        assert_allclose(logsumexp(x, axis=(0, 2)), logsumexp(flat), rtol=1e-15)

    @given(logits)
    @example(np.array([1e4, -1e4]))  # one dominant term
    @example(np.array([-1e-210, 0.0, 0.0, 0.0]))  # maximum 0: tolerance must be absolute too
    def test_lies_between_max_and_max_plus_log_n(self, x):
        lse, m, n = logsumexp(x), x.max(axis=-1), x.shape[-1]
        tol = 1e-15 * (1 + np.abs(m))
        assert np.all(lse >= m - tol)
        assert np.all(lse <= m + math.log(n) + tol)

    @given(logit_rows, hs.floats(-1e4, 1e4))
    def test_adding_a_constant_adds_it_to_the_result(self, x, c):
        assert_allclose(logsumexp(x + c), logsumexp(x) + c, rtol=1e-12, atol=1e-10)


class TestSoftmax:
    @pytest.mark.parametrize("row", REFERENCE_ROWS)
    def test_matches_high_precision_definition(self, row):
        expected = np.array([float(v) for v in mp_softmax_naive(row)])
        assert_allclose(softmax(row), expected, rtol=1e-15, atol=0)

    def test_three_logits_against_hand_values(self):
        # Hand derivation: softmax([0, log 2, log 3]) = [1, 2, 3] / 6.
        assert_allclose(softmax([0.0, math.log(2), math.log(3)]), [1 / 6, 2 / 6, 3 / 6], rtol=1e-15)

    @pytest.mark.parametrize(
        ("row", "expected"),
        [
            ([-inf, 0.0, 0.0], [0.0, 0.5, 0.5]),  # -inf masks a class exactly
            ([-inf, -inf], [nan, nan]),  # 0 / 0: no distribution
            ([inf, 1.0], [nan, nan]),  # inf / inf
            ([inf, -inf], [nan, nan]),
            ([nan, 1.0], [nan, nan]),
            ([1000.0, 1000.0], [0.5, 0.5]),
            ([], []),
        ],
    )
    def test_special_values(self, row, expected):
        assert_array_equal(softmax(np.array(row, dtype=np.float64)), expected)

    def test_nan_in_one_row_leaves_other_rows_alone(self):
        out = softmax(np.array([[nan, 0.0], [0.0, 0.0]]))
        assert_array_equal(out, [[nan, nan], [0.5, 0.5]])

    @given(logits)
    def test_rows_are_probability_vectors(self, x):
        p = softmax(x)
        assert np.all((p >= 0) & (p <= 1))
        assert_allclose(p.sum(axis=-1), 1.0, rtol=0, atol=4e-15 * x.shape[-1])

    @given(logits, hs.floats(-1e3, 1e3))
    def test_adding_a_constant_changes_nothing(self, x, c):
        assert_allclose(softmax(x + c), softmax(x), rtol=1e-9, atol=1e-12)

    @given(logit_rows)
    def test_order_is_preserved(self, x):
        p = softmax(x)
        i, j = np.meshgrid(np.arange(x.size), np.arange(x.size))
        assert np.all(p[i][x[i] < x[j]] <= p[j][x[i] < x[j]])

    @given(logits)
    def test_equals_exp_of_log_softmax(self, x):
        assert_allclose(np.exp(log_softmax(x)), softmax(x), rtol=1e-12, atol=1e-300)

    @given(logit_rows)
    def test_infinite_temperature_limit_is_uniform(self, x):
        temperature = 1e9 * (1.0 + np.ptp(x))
        assert_allclose(softmax(x, temperature=temperature), 1 / x.size, rtol=1e-8)

    @given(logit_rows)
    @example(np.array([5e-324, 0.0]))  # found by Hypothesis: the gap is one subnormal
    def test_zero_temperature_limit_is_hardmax_with_ties_split(self, x):
        gaps = x.max() - x
        positive = gaps[gaps > 0]
        # A gap of a few subnormals cannot be divided by 1000 (the temperature would be 0).
        assume(positive.size == 0 or positive.min() >= 1e-250)
        # Every positive gap becomes >= 1000 after division, and e**-1000 is 0 in float64.
        temperature = positive.min() / 1000 if positive.size else 1.0
        expected = hardmax(x, ties="split")
        assert_allclose(softmax(x, temperature=temperature), expected, rtol=1e-15, atol=0)

    def test_temperature_divides_the_logits(self):
        x = np.array([1.0, 2.0, 4.0])
        assert_allclose(softmax(x, temperature=2.0), softmax(x / 2.0), rtol=1e-15)

    def test_temperature_is_a_keyword(self):
        with pytest.raises(TypeError):
            softmax([1.0, 2.0], -1, 2.0)  # type: ignore[misc]

    def test_axis_tuple_normalises_over_both_axes(self):
        x = np.random.default_rng(3).normal(size=(2, 3, 4))
        p = softmax(x, axis=(1, 2))
        assert_allclose(p.sum(axis=(1, 2)), 1.0, rtol=1e-15)
        assert_allclose(p.reshape(2, 12), softmax(x.reshape(2, 12)), rtol=1e-15)
        assert_allclose(softmax(x, axis=None).sum(), 1.0, rtol=1e-15)


class TestLogSoftmax:
    @pytest.mark.parametrize("row", REFERENCE_ROWS)
    def test_matches_high_precision_definition(self, row):
        with mpmath.workdps(400):
            expected = np.array([float(mpmath.log(v)) for v in mp_softmax_naive(row)])
        assert_allclose(log_softmax(row), expected, rtol=4e-16, atol=0)

    def test_largest_entry_keeps_a_tiny_tail(self):
        # log p_0 = -log1p(e**-40) = -4.248e-18; x - logsumexp(x) with a plain shift gives 0.
        assert log_softmax([0.0, -40.0])[0] == pytest.approx(
            -float(mp_lse_naive([0.0, -40.0])), rel=1e-15
        )

    def test_no_cancellation_for_large_logits(self):
        # x - logsumexp(x) would subtract two numbers near 1e6 and lose the small result.
        x = np.array([1e6, 1e6 - 50.0])
        expected = -float(mp_lse_naive([0.0, -50.0]))
        assert log_softmax(x)[0] == pytest.approx(expected, rel=1e-15)

    @pytest.mark.parametrize(
        ("row", "expected"),
        [
            ([-inf, 0.0], [-inf, 0.0]),
            ([-inf, -inf], [nan, nan]),
            ([inf, 1.0], [nan, nan]),
            ([nan, 1.0], [nan, nan]),
            ([0.0, -1000.0], [0.0, -1000.0]),
            ([], []),
        ],
    )
    def test_special_values(self, row, expected):
        assert_array_equal(log_softmax(np.array(row, dtype=np.float64)), expected)

    @given(logits)
    def test_is_never_positive_and_normalised(self, x):
        lp = log_softmax(x)
        assert np.all(lp <= 0)
        assert_allclose(logsumexp(lp), 0.0, atol=1e-13)


class TestHardmax:
    def test_one_hot_of_the_argmax(self):
        assert_array_equal(hardmax([[1.0, 3.0, 2.0], [5.0, 0.0, 1.0]]), [[0, 1, 0], [1, 0, 0]])

    def test_ties(self):
        assert_array_equal(hardmax([2.0, 7.0, 7.0]), [0.0, 1.0, 0.0])
        assert_array_equal(hardmax([2.0, 7.0, 7.0], ties="split"), [0.0, 0.5, 0.5])
        assert_array_equal(hardmax([-inf, -inf]), [1.0, 0.0])  # all -inf is a tie

    def test_special_values(self):
        assert_array_equal(hardmax([1.0, inf, 3.0]), [0.0, 1.0, 0.0])
        assert_array_equal(hardmax([1.0, nan]), [nan, nan])

    def test_axis_and_tuple_axis(self):
        x = np.array([[1.0, 9.0], [4.0, 2.0]])
        assert_array_equal(hardmax(x, axis=0), [[0, 1], [1, 0]])
        assert_array_equal(hardmax(x, axis=(0, 1)), [[0, 1], [0, 0]])
        assert_array_equal(hardmax(x, axis=None), [[0, 1], [0, 0]])

    @given(logits)
    def test_matches_numpy_argmax(self, x):
        expected = np.zeros_like(x)
        np.put_along_axis(expected, np.argmax(x, axis=-1)[..., None], 1.0, axis=-1)
        assert_array_equal(hardmax(x), expected)


# ---------------------------------------------------------------- behaviour of every function

FUNCTIONS = [softmax, log_softmax, logsumexp, hardmax]


@pytest.mark.parametrize("fn", FUNCTIONS)
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.longdouble])
def test_dtype_is_preserved(fn, dtype):
    assert fn(np.array([[1.0, 2.0, 3.0]], dtype=dtype)).dtype == dtype


@pytest.mark.parametrize("fn", FUNCTIONS)
@pytest.mark.parametrize("values", [[1, 2, 3], [True, False, True]])
def test_integer_and_bool_input_is_promoted_to_float64(fn, values):
    out = fn(np.array(values))
    assert out.dtype == np.float64
    assert_allclose(out, fn(np.array(values, dtype=np.float64)), rtol=0)


@pytest.mark.parametrize("fn", FUNCTIONS)
def test_input_is_not_modified(fn):
    x = np.array([[3.0, 1.0, -np.inf], [1e308, -1e308, 2.0]])
    before = x.copy()
    fn(x)
    assert_array_equal(x, before)


@pytest.mark.parametrize("fn", FUNCTIONS)
def test_non_contiguous_views_give_the_same_result_as_copies(fn):
    base = np.random.default_rng(5).normal(scale=100, size=(6, 8))
    view = base[::2, 1::2].T  # neither C- nor F-contiguous
    assert not view.flags.c_contiguous
    assert_array_equal(fn(view), fn(np.ascontiguousarray(view)))


@pytest.mark.parametrize("fn", FUNCTIONS)
@pytest.mark.parametrize("axis", [0, 1, 2, -1, -2, (0, 2), None])
def test_any_axis_equals_moving_it_last(fn, axis):
    x = np.random.default_rng(9).normal(scale=10, size=(2, 3, 4))
    out = fn(x, axis=axis)
    axes = tuple(range(3)) if axis is None else (axis if isinstance(axis, tuple) else (axis,))
    axes = tuple(a % 3 for a in axes)
    rest = tuple(a for a in range(3) if a not in axes)
    moved = np.transpose(x, rest + axes).reshape([x.shape[a] for a in rest] + [-1])
    ref = fn(moved, axis=-1)
    if fn is logsumexp:
        assert_allclose(out, ref, rtol=1e-15)
    else:
        back = np.transpose(out, rest + axes).reshape(ref.shape)
        assert_allclose(back, ref, rtol=1e-15)


@pytest.mark.parametrize("fn", FUNCTIONS)
def test_valid_extreme_input_emits_no_warning(fn):
    big = np.finfo(np.float64).max
    x = np.array([[big, -big, 0.0], [-inf, 5.0, -1e300], [-800.0, -801.0, -1e308], [big, big, 1]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = fn(x)
    assert not np.isnan(out[:3]).any()


@given(logits32)
def test_float32_input_agrees_with_float64_computation(x):
    # float32 work is done in float64 and rounded once, so it equals rounding the
    # float64 result (up to the rare double-rounding tie).
    wide = x.astype(np.float64)
    for fn in (softmax, log_softmax, logsumexp):
        assert_allclose(fn(x), fn(wide).astype(np.float32), rtol=2**-23, atol=1e-44)
