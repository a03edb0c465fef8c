"""The sigmoid and log-sigmoid: identities, special values, accuracy against mpmath."""

import re

import mpmath
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as hs

from softmax_lib import log_sigmoid, log_softmax, sigmoid, softmax
from softmax_lib.stability import ulp_error

finite = hs.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False)


def mp_sigmoid(x, dps=400):
    """1 / (1 + exp(-x)) from the definition, in enough digits to need no tricks."""
    with mpmath.workdps(dps):
        return 1 / (1 + mpmath.exp(-mpmath.mpf(float(x))))


def mp_log_sigmoid(x, dps=400):
    with mpmath.workdps(dps):
        return -mpmath.log(1 + mpmath.exp(-mpmath.mpf(float(x))))


def sample(dtype):
    """Arguments over the whole interesting range, including both branch sides and tails."""
    rng = np.random.default_rng(20261121)
    x = np.concatenate(
        [
            rng.normal(0, 1, 300),
            rng.normal(0, 30, 300),
            rng.uniform(-800, 800, 300),
            [0.0, -0.0, 1e-300, -1e-300, 36.7, 37.0, -745.0, -746.0, 709.0, 745.0],
        ]
    )
    return x.astype(dtype)


@given(finite)
def test_sigmoid_is_the_first_entry_of_two_class_softmax(x):
    assert sigmoid(x) == pytest.approx(softmax([x, 0.0])[0], rel=4e-16, abs=1e-300)


@given(finite, finite)
def test_sigmoid_of_a_difference_is_two_class_softmax(a, b):
    assume(np.isfinite(a - b))  # an example that overflows is drawn again, not passed
    assert sigmoid(a - b) == pytest.approx(softmax([a, b])[0], rel=1e-12, abs=1e-300)


@given(finite)
def test_log_sigmoid_is_the_first_entry_of_two_class_log_softmax(x):
    assert log_sigmoid(x) == pytest.approx(log_softmax([x, 0.0])[0], rel=4e-16, abs=1e-300)


@given(finite)
def test_symmetry_sigmoid_of_minus_x(x):
    # sigma(-x) = 1 - sigma(x), checked for every example both ways round. With y = |x|,
    # 1 - sigma(-y) has no cancellation (sigma(-y) <= 1/2): a few ULPs of both values at
    # most; 1 - sigma(y) cancels for large y, hence the absolute tolerance there.
    y = abs(x)
    assert sigmoid(y) == pytest.approx(1 - sigmoid(-y), rel=1e-15, abs=0)
    assert sigmoid(-y) == pytest.approx(1 - sigmoid(y), rel=1e-15, abs=1e-16)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
@pytest.mark.parametrize(("fn", "oracle"), [(sigmoid, mp_sigmoid), (log_sigmoid, mp_log_sigmoid)])
def test_accuracy_against_mpmath(fn, oracle, dtype):
    x = sample(dtype)
    exact = np.array([oracle(v) for v in x], dtype=object)
    bound = 2.0 if dtype == np.float64 else 0.51
    assert ulp_error(fn(x), exact).max() <= bound


def test_the_naive_formulas_fail_where_these_do_not():
    with np.errstate(over="ignore", divide="ignore"):
        assert np.log(1 / (1 + np.exp(1000.0))) == -np.inf  # what log(sigmoid(-1000)) gives
        naive_tail = 1 - 1 / (1 + np.exp(-40.0))
    assert naive_tail == 0.0
    assert log_sigmoid(-1000.0) == -1000.0
    assert sigmoid(-40.0) == pytest.approx(float(mp_sigmoid(-40.0)), rel=1e-15)


def test_special_values():
    x = np.array([np.inf, -np.inf, np.nan])
    np.testing.assert_array_equal(sigmoid(x), [1.0, 0.0, np.nan])
    np.testing.assert_array_equal(log_sigmoid(x), [0.0, -np.inf, np.nan])
    assert np.signbit(log_sigmoid(np.inf))  # -0.0: log(sigmoid(x)) < 0 for every finite x


@pytest.mark.parametrize("fn", [sigmoid, log_sigmoid])
def test_dtype_shape_and_no_mutation(fn):
    x = np.arange(-3.0, 3.0).reshape(2, 3).astype(np.float32)
    before = x.copy()
    out = fn(x)
    assert out.dtype == np.float32 and out.shape == (2, 3)
    np.testing.assert_array_equal(x, before)
    assert fn(2).dtype == np.float64  # integers become float64
    assert np.ndim(fn(2.0)) == 0  # element-wise: 0-d input is fine


@pytest.mark.parametrize("fn", [sigmoid, log_sigmoid])
def test_bad_input_is_rejected(fn):
    with pytest.raises(
        TypeError, match=re.escape("`x` must be real-valued; got dtype complex128.")
    ):
        fn(np.array([1j]))
