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


# Issue 30 ("no silent wrong answer, round three"), items 1, 10 (`where`) and 11.

INF, NAN = np.inf, np.nan

# Every kind of row whose softmax is NaN by softmax's documented policy (the table in
# `softmax`): a NaN anywhere, a +inf (inf / inf), or nothing but -inf (0 / 0).
NAN_SOFTMAX_ROWS = {
    "nan": [NAN, 1.0, 2.0],
    "nan beside +inf": [NAN, INF, 0.0],
    "nan beside -inf": [NAN, -INF, -INF],
    "+inf": [INF, 1.0, 2.0],
    "two +inf": [INF, INF, 0.0],
    "+inf beside -inf": [INF, -INF, 0.0],
    "all -inf": [-INF, -INF, -INF],
}


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("row", NAN_SOFTMAX_ROWS.values(), ids=NAN_SOFTMAX_ROWS.keys())
def test_issue30_softmax_vjp_of_a_nan_softmax_row_is_nan_not_zero(row, dtype):
    # softmax_vjp([nan, 1, 2], v) returned [0, 0, 0]: a NaN forward pass got a clean zero
    # gradient, while v @ J (J = diag(p) - p p^T, every entry NaN when p is) is all NaN.
    x = np.array(row, dtype=dtype)
    assert np.isnan(sl.softmax(x)).all()  # the premise, from softmax's documented policy
    for v in ([0.25, 0.5, 0.25], [0.0, 0.0, 0.0], [1.0, -2.0, 3.0]):
        out = gradients.softmax_vjp(x, np.array(v, dtype=dtype))
        assert out.dtype == dtype
        assert np.isnan(out).all(), out


def test_issue30_softmax_vjp_nan_rows_stay_in_their_rows():
    # A batch, classes on axis 0 (a transposed layout): only the undefined columns are NaN;
    # the finite column is p_j (v_j - v.p), evaluated in mpmath from the definition.
    finite, v_finite = [0.5, -1.0, 2.0], [1.0, 0.0, -1.0]
    rows = [*NAN_SOFTMAX_ROWS.values(), finite]
    x = np.array(rows).T  # shape (3, 8): column c is row c
    v = np.tile(np.array([[0.25], [0.5], [0.25]]), (1, len(rows)))
    v[:, -1] = v_finite
    out = gradients.softmax_vjp(x, v, axis=0)
    assert np.isnan(out[:, :-1]).all()
    with mpmath.workdps(50):
        e = [mpmath.exp(mpmath.mpf(z)) for z in finite]
        p = [ei / mpmath.fsum(e) for ei in e]
        vp = mpmath.fsum(pi * vi for pi, vi in zip(p, v_finite, strict=True))
        expected = [float(pi * (vi - vp)) for pi, vi in zip(p, v_finite, strict=True)]
    np.testing.assert_allclose(out[:, -1], expected, rtol=1e-15, atol=0)


@pytest.mark.parametrize(
    ("target", "kw"),
    [
        ([-100, 1], {"ignore_index": -100}),  # row 0 is ignored
        ([0, 1], {"weight": [0.0, 1.0, 1.0]}),  # row 0's class has weight 0
        (np.array([[0.0, 0.0, 0.0], [0.0, 1.0, 0.0]]), {}),  # row 0's target is all zero
    ],
    ids=["ignored", "weight 0", "zero probabilities"],
)
@pytest.mark.parametrize("bad_row", [[NAN, 1.0, 2.0], [INF, 0.0, 0.0], [-INF, -INF, -INF]])
def test_issue30_cross_entropy_grad_of_a_row_absent_from_the_loss_is_zero(target, kw, bad_row):
    # The loss gives such a row exactly 0 whatever its logits (an ignored entry contributes
    # nothing, even NaN), so its gradient is 0; it was NaN (0 * softmax(NaN row)).
    logits = np.array([bad_row, [0.5, -1.0, 2.0]])
    assert losses.cross_entropy(logits, target, reduction="none", **kw)[0] == 0.0  # premise
    grad = gradients.cross_entropy_grad(logits, target, reduction="sum", **kw)
    np.testing.assert_array_equal(grad[0], [0.0, 0.0, 0.0])
    # Row 1 is p - e_1 (class 1, weight 1), from mpmath.
    with mpmath.workdps(50):
        e = [mpmath.exp(mpmath.mpf(z)) for z in logits[1]]
        expected = [float(ei / mpmath.fsum(e) - (i == 1)) for i, ei in enumerate(e)]
    np.testing.assert_allclose(grad[1], expected, rtol=1e-14, atol=0)


@pytest.mark.parametrize(
    "call",
    [
        lambda w: sl.softmax([[1.0, 2.0], [3.0, 4.0]], where=w),
        lambda w: sl.log_softmax([[1.0, 2.0], [3.0, 4.0]], where=w),
        lambda w: sl.logsumexp([[1.0, 2.0], [3.0, 4.0]], where=w),
        lambda w: sl.logsumexp([[1.0, 2.0], [3.0, 4.0]], b=[[1.0, 1.0], [1.0, 1.0]], where=w),
        lambda w: sl.softmax(np.float16([[1.0, 2.0], [3.0, 4.0]]), temperature=2.0, where=w),
    ],
    ids=["softmax", "log_softmax", "logsumexp", "weighted logsumexp", "float16 softmax"],
)
def test_issue30_ragged_where_names_where(call):
    # NumPy's "setting an array element with a sequence" named no parameter.
    with pytest.raises(ValueError, match=re.escape("`where` must be a rectangular array")):
        call([[True, False], [True]])


@pytest.mark.parametrize("f", [None, "logsumexp", np.zeros(2)])
def test_issue30_numerical_gradient_rejects_an_f_that_is_not_a_function(f):
    # numerical_gradient(None, x) raised "'NoneType' object is not callable".
    with pytest.raises(TypeError, match=re.escape(f"`f` must be a function; got {f!r}.")):
        gradients.numerical_gradient(f, [0.0, 1.0])


@pytest.mark.parametrize(
    ("f", "exc", "got"),
    [
        (sl.softmax, ValueError, "an array of shape (2,)"),  # "only 0-dimensional arrays ..."
        (lambda z: None, TypeError, "None"),  # "float() argument must be ..."
        (lambda z: 1j, TypeError, "1j"),
        (lambda z: "a", TypeError, "'a'"),  # was "could not convert string to float"
    ],
    ids=["array", "None", "complex", "string"],
)
def test_issue30_numerical_gradient_names_f_when_it_returns_no_real_number(f, exc, got):
    with pytest.raises(exc, match=re.escape("`f` must return a real number")) as info:
        gradients.numerical_gradient(f, [0.0, 1.0])
    assert str(info.value).endswith(f"got {got}.")


@pytest.mark.parametrize("fn", [stability.ulp_error, stability.relative_error])
@pytest.mark.parametrize(
    ("exact", "got"),
    [
        ([None], "None at position (0,)"),  # was "cannot create mpf from None"
        ([mpmath.mpc(1, 1)], "mpc(real='1.0', imag='1.0') at position (0,)"),
        (np.array([None, 1.0], dtype=object)[:1], "None at position (0,)"),
        (["a"], "dtype <U1"),  # was "could not convert string to float: 'a'"
        ([1j], "dtype complex128"),
        (np.array([1], dtype="m8[s]"), "dtype timedelta64[s]"),
    ],
)
def test_issue30_error_measures_reject_exact_values_that_are_not_numbers(fn, exact, got):
    message = f"`exact` must hold real numbers (floats or mpmath numbers); got {got}."
    with pytest.raises(TypeError, match=re.escape(message)):
        fn(np.array([1.0]), exact)


@pytest.mark.parametrize("fn", [stability.ulp_error, stability.relative_error])
def test_issue30_error_measures_name_a_ragged_operand(fn):
    with pytest.raises(ValueError, match=re.escape("`exact` must be a rectangular array")):
        fn(np.array([1.0, 2.0]), [[1.0], [2.0, 3.0]])
    with pytest.raises(ValueError, match=re.escape("`approx` must be a rectangular array")):
        fn([[1.0], [2.0, 3.0]], [1.0, 2.0])


@pytest.mark.parametrize(
    ("tol", "exc", "message"),
    [
        ("a", TypeError, "`tol` must be a real number; got 'a'."),
        (None, TypeError, "`tol` must be a real number; got None."),
        (-1.0, ValueError, "`tol` must be a finite number > 0; got -1.0."),
        (np.nan, ValueError, "`tol` must be a finite number > 0; got nan."),
    ],
)
def test_issue30_fit_temperature_checks_tol(tol, exc, message):
    # fit_temperature(..., tol='a') returned inf when the answer needed no iteration, and
    # failed inside the loop with "can't multiply sequence by non-int" otherwise.
    uniform_best = (np.array([[1.0, 0.0], [1.0, 0.0]]), [1, 1])
    iterating = (np.array([[4.0, 0.0], [4.0, 0.0], [4.0, 0.0], [0.0, 4.0]]), [0, 0, 1, 1])
    for logits, labels in (uniform_best, iterating):
        with pytest.raises(exc, match=re.escape(message)):
            calibration.fit_temperature(logits, labels, tol=tol)


TIMEDELTA_LABELS = np.array([0, 1], dtype="timedelta64[s]")
PROBS = np.array([[0.6, 0.4], [0.3, 0.7]])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: calibration.expected_calibration_error(PROBS, TIMEDELTA_LABELS),
            "`labels` must hold integer class indices; got dtype timedelta64[s].",
        ),
        (
            lambda: calibration.reliability_bins(PROBS, TIMEDELTA_LABELS),
            "`labels` must hold integer class indices; got dtype timedelta64[s].",
        ),
        (
            lambda: calibration.fit_temperature(PROBS, TIMEDELTA_LABELS),
            "`labels` must hold integer class indices; got dtype timedelta64[s].",
        ),
        (
            lambda: losses.cross_entropy(PROBS, TIMEDELTA_LABELS),
            "`target` must hold integer class indices or floating-point probabilities; "
            "got dtype timedelta64[s].",
        ),
        (
            lambda: gradients.cross_entropy_grad(PROBS, TIMEDELTA_LABELS),
            "`target` must hold integer class indices or floating-point probabilities; "
            "got dtype timedelta64[s].",
        ),
        (
            lambda: losses.nll_loss(np.log(PROBS), TIMEDELTA_LABELS),
            "`target` must hold integer class indices (nll_loss takes no probability "
            "targets); got dtype timedelta64[s].",
        ),
        (
            lambda: sl.classifier.fit_softmax_regression(PROBS, TIMEDELTA_LABELS, l2=1.0),
            "`y` must hold integer class indices; got dtype timedelta64[s].",
        ),
    ],
    ids=["ece", "reliability_bins", "fit_temperature", "cross_entropy", "grad", "nll", "fit"],
)
def test_issue30_timedelta_labels_are_not_class_indices(call, message):
    # NumPy counts timedelta64 as an integer dtype: ECE silently scored them (0.0), and the
    # losses failed with "arrays used as indices must be of integer (or boolean) type".
    with pytest.raises(TypeError, match=re.escape(message)):
        call()


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda td: calibration.expected_calibration_error(PROBS, [0, 1], n_bins=td), "n_bins"),
        (lambda td: calibration.fit_temperature(PROBS, [1, 0], max_iter=td), "max_iter"),
        (lambda td: calibration.fit_temperature(PROBS, [1, 0], tol=td), "tol"),
        (lambda td: gradients.numerical_gradient(sl.logsumexp, [0.0], eps=td), "eps"),
        (lambda td: gradients.cross_entropy_grad(PROBS, [0, 1], ignore_index=td), "ignore_index"),
        (lambda td: losses.cross_entropy(PROBS, [0, 1], label_smoothing=td), "label_smoothing"),
        (lambda td: sl.softmax([1.0, 2.0], temperature=td), "temperature"),
        (lambda td: stability.reference_softmax([1.0, 2.0], dps=td), "dps"),
    ],
)
def test_issue30_timedelta_scalars_are_not_numbers(call, name):
    # np.timedelta64 is registered as a numbers.Integral: every option took it as a number
    # (n_bins=np.timedelta64(3) binned in 3, temperature=np.timedelta64(2) divided by 2).
    with pytest.raises(TypeError, match=re.escape(f"`{name}` must be ")):
        call(np.timedelta64(3))


@pytest.mark.parametrize("shape", [(0, 2), (2, 0), (0, 0)])
@pytest.mark.parametrize(
    "fn", [calibration.expected_calibration_error, calibration.reliability_bins]
)
def test_issue30_calibration_rejects_empty_input(fn, shape):
    # N = 0 returned NaN (ECE) or empty bins; (2, 0) blamed the row sums; (0, 0) raised
    # "zero-size array to reduction operation maximum which has no identity".
    message = f"`probs` must hold at least one example with at least one class; got shape {shape}."
    with pytest.raises(ValueError, match=re.escape(message)):
        fn(np.zeros(shape), np.zeros(shape[0], dtype=int))


@pytest.mark.parametrize(
    "call",
    [
        lambda t: calibration.expected_calibration_error(PROBS, t),
        lambda t: calibration.fit_temperature(PROBS, t),
        lambda t: gradients.cross_entropy_grad(PROBS, t),
        lambda t: losses.nll_loss(np.log(PROBS), t),
        lambda t: losses.cross_entropy(np.log(PROBS), t),  # NumPy's message until the fix
    ],
)
def test_issue30_ragged_class_indices_name_their_parameter(call):
    with pytest.raises(ValueError, match=r"^`(labels|target)` must be a rectangular array"):
        call([[0], [1, 0]])


def test_issue30_top_k_that_is_not_an_int_is_a_type_error():
    # top_k=1.5 raised ValueError: the wrong kind of value is a TypeError (STYLE section 4).
    with pytest.raises(TypeError, match=re.escape("`top_k` must be a positive int or None")):
        sl.sampling.filter_logits([1.0, 2.0], top_k=1.5)
    with pytest.raises(ValueError, match=re.escape("`top_k` must be a positive int or None")):
        sl.sampling.filter_logits([1.0, 2.0], top_k=0)
