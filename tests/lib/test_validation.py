"""Every error message of the package, exactly (one test per message)."""

import re

import numpy as np
import pytest

from softmax_lib import hardmax, log_softmax, logsumexp, softmax
from softmax_lib.calibration import expected_calibration_error, reliability_bins
from softmax_lib.classifier import fit_softmax_regression
from softmax_lib.gradients import cross_entropy_grad, numerical_gradient, softmax_vjp
from softmax_lib.information import cross_entropy_between, entropy, kl_divergence
from softmax_lib.interactive import slider_bars
from softmax_lib.losses import cross_entropy, nll_loss
from softmax_lib.relatives import gumbel_noise
from softmax_lib.sampling import filter_logits
from softmax_lib.stability import float_format, naive_softmax, relative_error, ulp_error

ALL = [softmax, log_softmax, logsumexp, hardmax, naive_softmax]


def raises(exc, message):
    return pytest.raises(exc, match="^" + re.escape(message) + "$")


@pytest.mark.parametrize("fn", ALL)
def test_complex_input(fn):
    with raises(TypeError, "`x` must be real-valued; got dtype complex128."):
        fn(np.array([1 + 2j, 0]))


@pytest.mark.parametrize("fn", ALL)
@pytest.mark.parametrize(("value", "dtype"), [(["a", "b"], "<U1"), ([object(), 1], "object")])
def test_non_numeric_input(fn, value, dtype):
    arr = np.array(value)
    with raises(TypeError, f"`x` must be a real-valued numeric array; got dtype {dtype}."):
        fn(arr)


@pytest.mark.parametrize("fn", ALL)
def test_zero_dimensional_input(fn):
    message = (
        "`x` must have at least one dimension (an axis to normalise over); "
        "got a 0-d array (array(3.))."
    )
    with raises(ValueError, message):
        fn(np.array(3.0))


@pytest.mark.parametrize("fn", ALL)
def test_axis_out_of_range(fn):
    with raises(ValueError, "`axis` must be in [-2, 2) for an array with 2 dimensions; got 2."):
        fn(np.ones((2, 3)), axis=2)
    with raises(
        ValueError, "`axis` must be in [-1, 1) for an array with 1 dimension; got (0, -2)."
    ):
        fn(np.ones(3), axis=(0, -2))


@pytest.mark.parametrize("fn", ALL)
@pytest.mark.parametrize("axis", [1.0, "0", True, [0]])
def test_axis_of_the_wrong_type(fn, axis):
    with raises(TypeError, f"`axis` must be an int, a tuple of ints or None; got {axis!r}."):
        fn(np.ones((2, 3)), axis=axis)


@pytest.mark.parametrize("fn", ALL)
def test_repeated_axis(fn):
    with raises(ValueError, "`axis` must not name the same axis twice; got (1, -1)."):
        fn(np.ones((2, 3)), axis=(1, -1))


@pytest.mark.parametrize("fn", [softmax, log_softmax])
@pytest.mark.parametrize("temperature", [0.0, -1.0, np.inf, np.nan])
def test_temperature_must_be_finite_and_positive(fn, temperature):
    message = f"`temperature` must be a finite number > 0; got {float(temperature)!r}."
    with raises(ValueError, message):
        fn([1.0, 2.0], temperature=temperature)


@pytest.mark.parametrize("fn", [softmax, log_softmax])
@pytest.mark.parametrize("temperature", ["2", None, True, 1j, [1.0]])
def test_temperature_must_be_a_real_number(fn, temperature):
    with raises(TypeError, f"`temperature` must be a real number; got {temperature!r}."):
        fn([1.0, 2.0], temperature=temperature)


def test_keepdims_must_be_bool():
    with raises(TypeError, "`keepdims` must be True or False; got 1."):
        logsumexp([1.0, 2.0], keepdims=1)


def test_ties_must_be_a_known_choice():
    with raises(ValueError, "`ties` must be one of 'first', 'split'; got 'random'."):
        hardmax([1.0, 2.0], ties="random")


def test_float_format_rejects_non_float_types():
    with raises(TypeError, "`dtype` must be a floating-point type; got <class 'numpy.int32'>."):
        float_format(np.int32)
    with raises(TypeError, "`dtype` must be a floating-point type; got 'bfloat15'."):
        float_format("bfloat15")


@pytest.mark.parametrize("fn", [ulp_error, relative_error])
def test_error_measures_check_their_inputs(fn):
    with raises(TypeError, "`approx` must be a floating-point array; got dtype int64."):
        fn(np.array([1, 2]), [1.0, 2.0])
    with raises(ValueError, "`exact` must have the shape of `approx`, (2,); got (3,)."):
        fn(np.array([1.0, 2.0]), [1.0, 2.0, 3.0])


# softmax_lib.information and softmax_lib.binary

INFO = [
    ("entropy", lambda p, **kw: entropy(p, **kw)),
    ("cross_entropy_between", lambda p, **kw: cross_entropy_between(p, p, **kw)),
    ("kl_divergence", lambda p, **kw: kl_divergence(p, p, **kw)),
]
info_ids = [name for name, _ in INFO]


@pytest.mark.parametrize(("name", "fn"), INFO, ids=info_ids)
def test_probabilities_must_be_finite_and_non_negative(name, fn):
    message = "`p` must contain probabilities (finite and >= 0); got -0.1 at position (1, 0)."
    with raises(ValueError, message):
        fn(np.array([[0.5, 0.5], [-0.1, 1.1]]))
    with raises(
        ValueError, "`p` must contain probabilities (finite and >= 0); got nan at position (0,)."
    ):
        fn([np.nan, 1.0])


@pytest.mark.parametrize(("name", "fn"), INFO, ids=info_ids)
def test_rows_must_sum_to_one(name, fn):
    message = "`p` must sum to 1 along `axis` (within 1.5e-08); got a sum of 0.9."
    with raises(ValueError, message):
        fn([0.4, 0.5])
    message = (
        "`p` must sum to 1 along `axis` (within 0.00035); "
        "got a sum of 2.0 for the row at position (1,)."
    )
    with raises(ValueError, message):
        fn(np.array([[0.5, 0.5], [1.0, 1.0]], dtype=np.float32))
    with raises(ValueError, "`p` must sum to 1 along `axis` (within 1.5e-08); got a sum of 0.0."):
        fn(np.zeros(0))  # an empty distribution


@pytest.mark.parametrize(("name", "fn"), INFO, ids=info_ids)
def test_base_must_be_a_valid_logarithm_base(name, fn):
    for base in (1, 0, -2.0, np.inf):
        message = f"`base` must be a finite number > 0 other than 1; got {float(base)!r}."
        with raises(ValueError, message):
            fn([0.5, 0.5], base=base)
    with raises(TypeError, "`base` must be a real number or None; got '2'."):
        fn([0.5, 0.5], base="2")


@pytest.mark.parametrize("fn", [cross_entropy_between, kl_divergence])
def test_distributions_must_have_the_same_shape(fn):
    with raises(ValueError, "`q` must have the shape of `p`, (2,); got (3,)."):
        fn([0.5, 0.5], [0.2, 0.3, 0.5])


@pytest.mark.parametrize("fn", [entropy])
def test_information_rejects_zero_dimensional_and_complex_input(fn):
    message = (
        "`p` must have at least one dimension (an axis to normalise over); "
        "got a 0-d array (array(1.))."
    )
    with raises(ValueError, message):
        fn(np.array(1.0))
    with raises(TypeError, "`p` must be real-valued; got dtype complex128."):
        fn(np.array([1.0 + 0j]))


# softmax_lib.losses (and the gradient, which shares its checks)

LOSSES = [cross_entropy, cross_entropy_grad]
Z = np.zeros((4, 3))


@pytest.mark.parametrize("fn", LOSSES)
def test_class_indices_must_be_in_range(fn):
    with raises(ValueError, "`target` class indices must be in [0, 3); got 5 at position (2,)."):
        fn(Z, np.array([0, 1, 5, 2]))
    with raises(ValueError, "`target` class indices must be in [0, 3); got -1 at position (0,)."):
        fn(Z, np.array([-1, 1, 0, 2]))
    message = (
        "`target` class indices must be in [0, 3) or -100 (`ignore_index`); got 7 at position (3,)."
    )
    with raises(ValueError, message):
        fn(Z, np.array([-100, 1, 0, 7]), ignore_index=-100)


@pytest.mark.parametrize("fn", LOSSES)
def test_target_shapes_must_match(fn):
    message = (
        "`target` must have shape (4,) (the shape of the input without `axis`) for class "
        "indices; got (4, 1)."
    )
    with raises(ValueError, message):
        fn(Z, np.zeros((4, 1), dtype=int))
    message = (
        "`target` must have the shape of `logits`, (4, 3), for probability targets; got (4, 2)."
    )
    with raises(ValueError, message):
        fn(Z, np.zeros((4, 2)))


@pytest.mark.parametrize("fn", LOSSES)
def test_probability_targets_reject_ignore_index_and_non_finite_values(fn):
    with raises(ValueError, "`ignore_index` must be None for probability targets; got -100."):
        fn(Z, np.full((4, 3), 1 / 3), ignore_index=-100)
    message = "`target` probabilities must be finite; got nan at position (1, 2)."
    bad = np.full((4, 3), 1 / 3)
    bad[1, 2] = np.nan
    with raises(ValueError, message):
        fn(Z, bad)


@pytest.mark.parametrize("fn", LOSSES)
def test_target_dtype_must_be_integer_or_float(fn):
    message = (
        "`target` must hold integer class indices or floating-point probabilities; got dtype bool."
    )
    with raises(TypeError, message):
        fn(Z, np.array([True, False, True, False]))


@pytest.mark.parametrize("fn", LOSSES)
def test_loss_options_are_checked(fn):
    with raises(ValueError, "`reduction` must be one of 'mean', 'sum', 'none'; got 'avg'."):
        fn(Z, [0, 1, 2, 0], reduction="avg")
    with raises(ValueError, "`label_smoothing` must be in [0, 1]; got 1.5."):
        fn(Z, [0, 1, 2, 0], label_smoothing=1.5)
    with raises(TypeError, "`label_smoothing` must be a real number; got '0.1'."):
        fn(Z, [0, 1, 2, 0], label_smoothing="0.1")
    with raises(TypeError, "`ignore_index` must be an int or None; got 1.0."):
        fn(Z, [0, 1, 2, 0], ignore_index=1.0)
    with raises(ValueError, "`weight` must have shape (3,) (one weight per class); got (2,)."):
        fn(Z, [0, 1, 2, 0], weight=[1.0, 2.0])
    with raises(ValueError, "`weight` must be finite and >= 0; got -1.0 at index 1."):
        fn(Z, [0, 1, 2, 0], weight=[1.0, -1.0, 2.0])
    with raises(ValueError, "`axis` must be in [-2, 2) for an array with 2 dimensions; got 2."):
        fn(Z, [0, 1, 2, 0], axis=2)


def test_nll_loss_rejects_probability_targets():
    message = (
        "`target` must hold integer class indices (nll_loss takes no probability targets); "
        "got dtype float64."
    )
    with raises(TypeError, message):
        nll_loss(Z, np.full((4, 3), 1 / 3))


def test_vjp_shapes_must_match():
    with raises(ValueError, "`v` must have the shape of `x`, (4, 3); got (3,)."):
        softmax_vjp(Z, np.zeros(3))


# Messages added by issue 30 (items 10 and 11), each exactly once.


def test_ragged_where():
    message = (
        "`where` must be a rectangular array (nested sequences of equal lengths); got a ragged "
        "sequence (setting an array element with a sequence."
    )
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        softmax(np.ones((2, 2)), where=[[True, False], [True]])


def test_numerical_gradient_f_must_be_a_function_returning_a_real_number():
    with raises(TypeError, "`f` must be a function; got None."):
        numerical_gradient(None, [0.0, 1.0])
    with raises(TypeError, "`f` must return a real number; got None."):
        numerical_gradient(lambda z: None, [0.0, 1.0])
    message = "`f` must return a real number (a scalar); got an array of shape (2,)."
    with raises(ValueError, message):
        numerical_gradient(softmax, [0.0, 1.0])


@pytest.mark.parametrize("fn", [ulp_error, relative_error])
def test_exact_must_hold_real_numbers(fn):
    must = "`exact` must hold real numbers (floats or mpmath numbers); got"
    with raises(TypeError, f"{must} None at position (1,)."):
        fn(np.array([1.0, 2.0]), [1.0, None])
    with raises(TypeError, f"{must} dtype <U1."):
        fn(np.array([1.0]), ["a"])


@pytest.mark.parametrize("fn", [expected_calibration_error, reliability_bins])
def test_calibration_needs_an_example(fn):
    message = "`probs` must hold at least one example with at least one class; got shape (0, 2)."
    with raises(ValueError, message):
        fn(np.zeros((0, 2)), np.zeros(0, dtype=int))


def test_labels_must_be_integers_and_rectangular():
    with raises(TypeError, "`labels` must hold integer class indices; got dtype timedelta64[s]."):
        expected_calibration_error([[0.5, 0.5]], np.array([1], dtype="m8[s]"))
    with pytest.raises(ValueError, match="^" + re.escape("`labels` must be a rectangular array")):
        expected_calibration_error([[0.5, 0.5], [0.5, 0.5]], [[0], [1, 0]])


def test_positive_int_or_none_of_the_wrong_type():
    with raises(TypeError, "`top_k` must be a positive int or None; got 1.5."):
        filter_logits([1.0, 2.0], top_k=1.5)


# Messages of checks moved into _validation by issue 30 (they were written inline in
# classifier.py, relatives.py and interactive.py), each exactly once.


def test_features_must_match_the_fit():
    model = fit_softmax_regression([[1.0, 0.0], [0.0, 1.0]], [0, 1], l2=1.0)
    message = (
        "`X` must have shape (N, 2) (one example per row, with the 2 features of the fit); "
        "got (2, 3)."
    )
    with raises(ValueError, message):
        model.predict(np.ones((2, 3)))


def test_fitted_weights_must_be_finite():
    # subnormal, separable features: the optimal weights exceed float64's largest number
    X = np.array([[1.0], [-1.0], [2.0], [-3.0]]) * 1e-310
    message = (
        "`X` must have features whose fitted weights are finite in float64 (rescale `X`, or "
        "use `l2` > 0); got feature 0, of standard deviation 1.92e-310, whose weight overflows."
    )
    with raises(ValueError, message):
        fit_softmax_regression(X, [0, 1, 0, 1], l2=0.0)


def test_shape_must_be_non_negative_ints():
    rng = np.random.default_rng(0)
    with raises(TypeError, "`shape` must be an int or a tuple of ints; got (2, 1.0)."):
        gumbel_noise((2, 1.0), rng=rng)
    with raises(ValueError, "`shape` must have no negative dimension; got (2, -3)."):
        gumbel_noise((2, -3), rng=rng)


def _bars(**kwargs):
    options = {"categories": ["a", "b"], "steps": [1.0], "values": [[0.5, 0.5]]}
    return slider_bars(**{**options, "name": "fig", "alt": "bars", **kwargs})


def test_categories_must_be_a_sequence_of_str():
    with raises(TypeError, "`categories` must be a sequence of str; got 'ab'."):
        _bars(categories="ab")
    with raises(TypeError, "`categories` must be a sequence of str; got 2 in it."):
        _bars(categories=["a", 2])


def test_text_options_must_be_str():
    with raises(TypeError, "`step_label` must be a str; got 1j."):
        _bars(step_label=1j)


def test_name_must_be_an_html_id():
    with raises(TypeError, "`name` must be a str (an HTML id); got None."):
        _bars(name=None)
    message = "`name` must be an HTML id: a letter, then letters, digits, '-' or '_'; got '1a'."
    with raises(ValueError, message):
        _bars(name="1a")


def test_y_range_must_be_an_increasing_pair_of_finite_numbers():
    with raises(TypeError, "`y_range` must be a pair of real numbers or None; got (0, '1')."):
        _bars(y_range=(0, "1"))
    message = "`y_range` must be two finite numbers (low, high) with low < high; got (1, 0)."
    with raises(ValueError, message):
        _bars(y_range=(1, 0))


def test_meta_must_be_a_dict_of_json_values():
    with raises(TypeError, "`meta` must be a dict or None; got 'p'."):
        _bars(meta="p")
    message = "`meta` must hold JSON values (numbers, strings, lists, dicts); got {'p': 1j}."
    with raises(TypeError, message):
        _bars(meta={"p": 1j})
