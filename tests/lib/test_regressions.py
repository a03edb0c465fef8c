"""Regression tests for the defects of issue 17, one per defect, each named after it.

Every expected value comes from an independent source: mpmath, a hand derivation stated next
to it, or the function's own definition applied at a scale where it is exact.
"""

import re
import warnings

import mpmath
import numpy as np
import pytest

import softmax_lib as sl
from softmax_lib import calibration, checks, gradients, losses, relatives, stability, streaming
from softmax_lib._extended import to_mpf

# Every test here runs twice: through the fused kernels and through the NumPy path.
pytestmark = pytest.mark.usefixtures("both_paths")


def test_softmax_vjp_does_not_cancel_when_p_rounds_to_one():
    # p = softmax([37.43, 0]) has p_1 = 1 / (1 + e^37.43) = 5.55e-17 and p_0 = 1 - p_1, which
    # rounds to 1. With v = (1, 0): (v^T J)_0 = p_0 (1 - p_0) = p_0 p_1, and entry 1 is -p_0 p_1.
    with mpmath.workdps(50):
        p1 = 1 / (1 + mpmath.exp(mpmath.mpf(37.43)))
        expected = float((1 - p1) * p1)
    out = gradients.softmax_vjp([37.43, 0.0], [1.0, 0.0])
    assert out[0] == pytest.approx(expected, rel=1e-14, abs=0)
    assert out[1] == pytest.approx(-expected, rel=1e-14, abs=0)


def test_cross_entropy_grad_target_entry_does_not_cancel():
    # Target class 0: the gradient is p - e_0, so its entry 0 is p_0 - 1 = -p_1.
    with mpmath.workdps(50):
        p1 = float(1 / (1 + mpmath.exp(mpmath.mpf(37.43))))
    out = gradients.cross_entropy_grad(np.array([[37.43, 0.0]]), np.array([0]), reduction="sum")
    assert out[0, 0] == pytest.approx(-p1, rel=1e-14, abs=0)
    assert out[0, 1] == pytest.approx(p1, rel=1e-14, abs=0)


def test_softmax_vjp_float16_logits_with_float64_cotangent_are_float64_accurate():
    x16 = np.float16([1.0, 2.5, 0.1])
    v = np.array([0.3, -1.0, 2.0])
    out = gradients.softmax_vjp(x16, v)
    # The same logits, exactly, in float64: the float16 values are representable there.
    exact = gradients.softmax_vjp(x16.astype(np.float64), v)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, exact, rtol=1e-15, atol=1e-17)


@pytest.mark.parametrize("scale", [2.0**100, 1e30, 1e300, 1e-14, 2.0**-60, 1e-300])
def test_fit_temperature_is_scale_equivariant(scale):
    rng = np.random.default_rng(0)
    z = rng.normal(size=(200, 4))
    y = (z + rng.normal(size=z.shape)).argmax(-1)
    base = calibration.fit_temperature(z, y)
    # Softmax(c z / (c T)) = softmax(z / T): the optimum for c z is exactly c times the one
    # for z; a power of two scales exactly, others within the solver's tolerance.
    got = calibration.fit_temperature(z * scale, y)
    assert got == pytest.approx(scale * base, rel=1e-9, abs=0)


def test_fit_temperature_says_when_it_did_not_converge():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(100, 3))
    y = (z + rng.normal(size=z.shape)).argmax(-1)
    with pytest.warns(RuntimeWarning, match="did not converge in 1 iterations"):
        calibration.fit_temperature(z, y, max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        calibration.fit_temperature(z, y)  # the default converges, silently


def test_fit_temperature_rejects_empty_input():
    with pytest.raises(ValueError, match=re.escape("`logits` must hold at least one example")):
        calibration.fit_temperature(np.zeros((0, 3)), np.zeros(0, dtype=int))


@pytest.mark.parametrize(
    ("x", "temperature", "expected"),
    [
        # (1e308 - 0) / 0.5 = 2e308 is a finite gap of 2e308: e^-2e308 = 0, so one-hot.
        ([1e308, 0.0, -1.0], 0.5, [1.0, 0.0, 0.0]),
        # (2 - 1) / 1e-310 = 1e310: one-hot on the larger logit.
        ([1.0, 2.0], 1e-310, [0.0, 1.0]),
        # The gap 2e308 overflows float64, but over T = 1e306 it is 200: e^-200 / (1 + e^-200).
        ([1e308, -1e308], 1e306, [1.0, 1.3838965267367376e-87]),
    ],
)
def test_softmax_temperature_overflow_is_not_an_infinite_logit(x, temperature, expected):
    out = sl.softmax(x, temperature=temperature)
    np.testing.assert_allclose(out, expected, rtol=1e-14, atol=0)
    assert not np.isnan(sl.log_softmax(x, temperature=temperature)).any()


def test_softmax_temperature_overflow_expected_value_from_mpmath():
    # The third case above, checked against mpmath rather than typed: e^-200 / (1 + e^-200).
    with mpmath.workdps(40):
        expected = float(mpmath.exp(-200) / (1 + mpmath.exp(-200)))
    assert sl.softmax([1e308, -1e308], temperature=1e306)[1] == pytest.approx(
        expected, rel=1e-14, abs=0
    )


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        # Sparsemax ignores offsets: [1e16, 0] is a gap of 1e16 > 1, so one-hot.
        ([1e16, 0.0], [1.0, 0.0]),
        ([1e300, 0.0, -1e300], [1.0, 0.0, 0.0]),
        ([1e308, -1e308], [1.0, 0.0]),
        # Near 2**60 the plain support test rounds 1 + z away: a gap of 256 > 1, one-hot.
        ([2.0**60 + 512.0, 2.0**60 + 256.0], [1.0, 0.0]),
    ],
)
def test_sparsemax_support_test_runs_on_shifted_logits(x, expected):
    np.testing.assert_array_equal(relatives.sparsemax(x), expected)


def test_sparsemax_of_unsigned_integers_does_not_wrap():
    # 2**63 + 4096 and 2**63 as uint64: a gap of 4096 > 1, one-hot; and [3, 2]: gap 1,
    # tau = (3 + 2 - 1) / 2 = 2, so (1, 0).
    x = np.array([2**63 + 4096, 2**63], dtype=np.uint64)
    np.testing.assert_array_equal(relatives.sparsemax(x), [1.0, 0.0])
    np.testing.assert_array_equal(relatives.sparsemax(np.array([3, 2], dtype=np.uint64)), [1, 0])


def test_logsumexp_long_double_near_zero_has_the_right_sign_and_size():
    x = np.full(2, -np.log(np.longdouble(2)))
    with mpmath.workdps(60):
        value = to_mpf(mpmath, x[0])
        exact = mpmath.log(2 * mpmath.exp(value))
        got = to_mpf(mpmath, sl.logsumexp(x)[()])
        assert abs(got - exact) <= abs(exact) * to_mpf(mpmath, np.finfo(np.longdouble).eps)


def test_logsumexp_of_log_probabilities_is_fast_and_exact():
    # The performance cliff: every row of log-probabilities is a near-zero row. 100 x 1000 took
    # 10.7 s through mpmath; now double-double. Correctness here; the time is in bench/.
    rng = np.random.default_rng(0)
    lp = sl.log_softmax(rng.normal(size=(20, 1000)))
    out = sl.logsumexp(lp)
    exact = stability.reference_logsumexp(lp)
    assert stability.ulp_error(out, exact).max() <= 0.51


@pytest.mark.parametrize(
    ("logits", "target", "expected"),
    [
        # lse = 1.7e308 (the other term is e^-3.4e308 = 0); loss = lse - (0.5 z_0 + 0.5 z_1)
        # = 1.7e308 - 0 = 1.7e308, finite although z_1 - lse = -3.4e308 overflows.
        ([1.7e308, -1.7e308], [0.5, 0.5], 1.7e308),
        ([1e308, -1e308, 0.0], [0.3, 0.3, 0.4], 1e308),
    ],
)
def test_cross_entropy_probability_targets_do_not_overflow_midway(logits, target, expected):
    got = losses.cross_entropy(np.array([logits]), np.array([target]))
    assert got == pytest.approx(expected, rel=1e-15, abs=0)


def test_cross_entropy_that_truly_overflows_is_inf():
    # loss = 1.7e308 - (-1.7e308) = 3.4e308 > the largest float64: inf is the right rounding.
    assert np.isposinf(losses.cross_entropy(np.array([[1.7e308, -1.7e308]]), np.array([1])))


def test_masked_arrays_are_rejected_with_a_clear_error():
    masked = np.ma.masked_array([1.0, 2.0, 50.0], mask=[0, 0, 1])
    for fn in (sl.softmax, sl.log_softmax, sl.logsumexp, relatives.sparsemax):
        with pytest.raises(TypeError, match=re.escape("must be a plain array, not a masked")):
            fn(masked)


@pytest.mark.parametrize("dps", [0, -3, 5, 19])
def test_reference_rejects_too_few_digits(dps):
    for fn in (stability.reference_softmax, stability.reference_log_softmax):
        with pytest.raises(ValueError, match=re.escape("`dps` must be >= 20")):
            fn([1.0, 2.0], dps=dps)
    with pytest.raises(ValueError, match=re.escape("`dps` must be >= 20")):
        stability.reference_logsumexp([1.0, 2.0], dps=dps)


@pytest.mark.parametrize("dps", [30.0, "40", None, True])
def test_reference_rejects_non_integer_digits(dps):
    with pytest.raises(TypeError, match=re.escape("`dps` must be an int")):
        stability.reference_softmax([1.0, 2.0], dps=dps)


@pytest.mark.parametrize("bad", [1 + 2j, "a", np.datetime64("2026-01-01"), None])
def test_streaming_functions_reject_non_real_input(bad):
    with pytest.raises(TypeError, match=r"must be (a )?real-valued"):
        streaming.merge_normalisers(bad, 1.0, 0.0, 1.0)
    good = np.ones((2, 2))
    with pytest.raises(TypeError, match=r"must be (a )?real-valued"):
        streaming.blocked_attention(np.array([[bad, bad]]), good, good)


def test_timedelta_is_not_a_number():
    td = np.array([1, 2], dtype="timedelta64[s]")
    for fn in (sl.softmax, sl.log_softmax, sl.logsumexp, sl.hardmax, relatives.sparsemax):
        with pytest.raises(TypeError, match=re.escape("got dtype timedelta64[s]")):
            fn(td)


def test_float_format_of_none_is_an_error():
    with pytest.raises(
        TypeError, match=re.escape("`dtype` must be a floating-point type; got None")
    ):
        stability.float_format(None)


@pytest.mark.parametrize("bad", [None, "softmax", {"p": 1}, np.array([1 + 1j, 2]), [[1], [2, 3]]])
@pytest.mark.parametrize(
    "check", [checks.check_softmax, checks.check_log_softmax, checks.check_logsumexp]
)
def test_checks_give_feedback_when_the_function_returns_no_array(check, bad):
    report = check(lambda z: bad, verbose=False, strict=True)
    assert not report.passed
    first = report.results[0].feedback
    assert first.startswith("your ") and ("return" in first)


def test_hardmax_of_an_empty_batch():
    out = sl.hardmax(np.zeros((0, 3)))
    assert out.shape == (0, 3)


def test_cross_entropy_with_zero_classes_is_a_clear_error():
    with pytest.raises(ValueError, match=re.escape("`logits` must have at least one class")):
        losses.cross_entropy(np.zeros((2, 0)), np.zeros(2, dtype=int))
    with pytest.raises(ValueError, match=re.escape("`logits` must have at least one class")):
        gradients.cross_entropy_grad(np.zeros((2, 0)), np.zeros(2, dtype=int))


def test_sampling_and_streaming_on_empty_axes():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=re.escape("`logits` must have at least one class")):
        relatives.gumbel_max_sample(np.zeros((3, 0)), rng=rng)
    with pytest.raises(ValueError, match=re.escape("`x` must have at least one entry")):
        streaming.online_softmax(np.zeros((3, 0)))
    assert streaming.online_softmax(np.zeros((0, 3))).shape == (0, 3)


def test_ragged_input_names_the_parameter():
    with pytest.raises(ValueError, match=re.escape("`x` must be a rectangular array")):
        sl.softmax([[1.0, 2.0], [3.0]])
    with pytest.raises(ValueError, match=re.escape("`logits` must be a rectangular array")):
        losses.cross_entropy([[1.0, 2.0], [3.0]], [0, 0])


@pytest.mark.parametrize(
    "call",
    [
        lambda: losses.cross_entropy(np.zeros((2, 3)), np.zeros(2, dtype=int), axis=None),
        lambda: gradients.softmax_jacobian(np.zeros((2, 3)), axis=None),
        lambda: relatives.sparsemax(np.zeros((2, 3)), axis=None),
    ],
)
def test_axis_none_where_one_class_axis_is_needed(call):
    with pytest.raises(TypeError, match=re.escape("`axis` must be an int; got None.")):
        call()


def test_calibration_blames_labels_not_target():
    with pytest.raises(ValueError, match=re.escape("`labels` class indices must be in [0, 2)")):
        calibration.expected_calibration_error([[0.5, 0.5]], [2])
    with pytest.raises(ValueError, match=re.escape("`labels` must have shape (1,)")):
        calibration.fit_temperature([[0.5, 0.5]], [0, 1])


@pytest.mark.parametrize(
    "call",
    [
        lambda: sl.hardmax([np.nan, 1.0], ties="split"),
        lambda: gradients.cross_entropy_grad(np.float16([[60000.0, -60000.0, 0.0]]), np.array([0])),
        lambda: streaming.online_logsumexp([1e308, -1e308]),
        lambda: streaming.online_softmax([1e308, -1e308]),
        lambda: relatives.sparsemax([1e308, -1e308]),
    ],
)
def test_no_runtime_warning_on_valid_input(call):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        call()


# Found by the bad-input sweep after the fixes above (every public function x odd inputs).


def test_softmax_vjp_at_the_float_maximum_is_not_nan():
    # x = v = (1e308, -1e308): p = (1, 0) exactly (p_1 = e^-2e308), so v^T J = p * (v - v.p)
    # is (1 * 0, 0 * ...) = (0, 0); the true values are 0 and -2e308 e^-2e308, which is 0.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = gradients.softmax_vjp([1e308, -1e308], [1e308, -1e308])
    np.testing.assert_array_equal(out, [0.0, 0.0])


def test_shifted_foils_handle_an_empty_axis_and_the_float_maximum():
    assert stability.shifted_softmax(np.zeros((2, 0))).shape == (2, 0)
    np.testing.assert_array_equal(stability.shifted_logsumexp(np.zeros((2, 0))), [-np.inf] * 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(stability.shifted_softmax([1e308, -1e308]), [1.0, 0.0])
        assert stability.shifted_logsumexp([1e308, -1e308]) == 1e308


def test_blocked_attention_rejects_what_has_no_finite_answer():
    good = np.ones((2, 2))
    with pytest.raises(ValueError, match=re.escape("`q` must be finite for attention")):
        streaming.blocked_attention(np.array([[np.inf, 0.0]]), good, good)
    with pytest.raises(ValueError, match=re.escape("`q` and `k` must give finite scores")):
        streaming.blocked_attention(np.array([[1e308, 1e308]]), good * 1e308, good)
    # d = 0: every score is 0, so every query averages the values.
    out = streaming.blocked_attention(np.zeros((3, 0)), np.zeros((2, 0)), np.array([[1.0], [3.0]]))
    np.testing.assert_array_equal(out, [[2.0]] * 3)
