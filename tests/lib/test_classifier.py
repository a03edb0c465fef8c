"""Softmax regression: three independent optimisers reach one optimum.

The regularised objective is strictly convex in the weights, so scikit-learn's
LogisticRegression (C = 1 / (lambda N) with three or more classes, the same function times N;
C = 2 / (lambda N) with two) and PyTorch's L-BFGS on nn.Linear + CrossEntropyLoss (in
test_against_torch.py) must agree with fit_softmax_regression: the oracles. The reported loss
is checked against the objective evaluated in mpmath at the returned weights, at feature
scales from 1e-200 to 1e200.
"""

import re
import warnings

import mpmath
import numpy as np
import pytest
from helpers import digits_sample
from sklearn.linear_model import LogisticRegression

from softmax_lib import classifier
from softmax_lib.classifier import fit_softmax_regression, softmax_regression_objective
from softmax_lib.gradients import numerical_gradient


@pytest.fixture(scope="module")
def digits():
    return digits_sample()


LAMBDA = 1e-2


@pytest.fixture(scope="module")
def ours(digits):
    X, y = digits
    return fit_softmax_regression(X, y, l2=LAMBDA)


def test_scikit_learn_reaches_the_same_optimum(digits, ours):
    X, y = digits
    n, d = X.shape
    sk = LogisticRegression(C=1 / (LAMBDA * n), tol=1e-12, max_iter=20_000).fit(X, y)
    theta_sk = np.concatenate([sk.coef_.T.ravel(), sk.intercept_])
    loss_sk, _ = softmax_regression_objective(theta_sk, X, y, l2=LAMBDA)

    assert ours.converged
    assert loss_sk == pytest.approx(ours.loss, rel=1e-9, abs=0)
    ours_theta = np.concatenate([ours.weights.ravel(), ours.bias])
    # The bias is unique only up to a shared constant: compare centred biases.
    centre = np.concatenate([np.zeros(d * 10), np.full(10, 1.0)])
    diff = theta_sk - ours_theta
    diff -= centre * diff[d * 10 :].mean()
    assert np.abs(diff).max() < 1e-4
    np.testing.assert_array_equal(ours.predict(X), sk.predict(X))


def test_gradient_matches_finite_differences(digits):
    X, y = digits
    rng = np.random.default_rng(1)
    theta = rng.normal(0, 0.1, X.shape[1] * 10 + 10)
    _, grad = softmax_regression_objective(theta, X[:50], y[:50], l2=0.3, n_classes=10)
    some = rng.choice(theta.size, 25, replace=False)

    def along(i):
        def f(t):
            full = theta.copy()
            full[i] = t[0]
            return softmax_regression_objective(full, X[:50], y[:50], l2=0.3, n_classes=10)[0]

        return numerical_gradient(f, theta[i : i + 1])[0]

    np.testing.assert_allclose([along(i) for i in some], grad[some], rtol=1e-6, atol=1e-9)


def test_zero_weights_give_log_c_and_the_optimum_has_class_weights_summing_to_zero(digits, ours):
    X, y = digits
    loss0, _ = softmax_regression_objective(np.zeros(X.shape[1] * 10 + 10), X, y, l2=LAMBDA)
    assert loss0 == pytest.approx(np.log(10), rel=1e-15, abs=0)
    # sum_c of the weight gradient is X^T (P - Y) 1 + lambda W 1 = lambda W 1 = 0 at the optimum.
    assert np.abs(ours.weights.sum(axis=1)).max() < 1e-8 * np.abs(ours.weights).max()


def test_without_regularisation_on_separable_data_the_weights_grow():
    X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    y = np.array([0, 0, 1, 1])
    norms = []
    for iterations in (10, 40):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # it cannot converge: no optimum
            model = fit_softmax_regression(X, y, l2=0.0, max_iter=iterations)
        norms.append(np.abs(model.weights).max())
    assert norms[1] > norms[0] > 1


def test_not_converging_is_said():
    X, y = np.array([[-2.0], [-1.0], [1.0], [2.0]]), np.array([0, 0, 1, 1])
    with pytest.warns(RuntimeWarning, match="stopped after"):
        fit_softmax_regression(X, y, l2=0.0, max_iter=3)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"l2": -1.0}, ValueError, "`l2` must be a finite number >= 0"),
        ({"l2": "a"}, TypeError, "`l2` must be a real number"),
        ({"l2": 0.1, "tol": 0.0}, ValueError, "`tol` must be a finite number > 0"),
        ({"l2": 0.1, "max_iter": 0}, ValueError, "`max_iter` must be a positive int"),
        ({"l2": 0.1, "n_classes": 1}, ValueError, "`y` class indices must be in [0, 1)"),
    ],
)
def test_validation(kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)):
        fit_softmax_regression(np.eye(3), [0, 1, 2], **kwargs)


def test_parameter_layout_is_checked():
    with pytest.raises(ValueError, match=re.escape("`params` must have shape (12,)")):
        softmax_regression_objective(np.zeros(5), np.eye(3), [0, 1, 2], l2=0.0)


# ---- issue 30 ------------------------------------------------------------------------------

SCALES = [1e-200, 1e-12, 1.0, 1e12, 1e200]
# The issue's reproducer: separable, one feature; with l2=1.0 at scale 1e12 the fit returned
# zero weights (objective log 2) but reported a loss of 3.5e-19, and at 1e200 a loss of NaN.
ISSUE_X, ISSUE_Y = np.array([[1.0], [-1.0], [2.0], [-3.0]]), np.array([0, 1, 0, 1])


def overlapping():
    """Three overlapping classes in two features: not separable, so l2=0 has an optimum."""
    rng = np.random.default_rng(7)
    y = np.repeat([0, 1, 2], 15)
    return rng.normal(size=(45, 2)) + 0.8 * np.eye(3, 2)[y], y


def mp_objective(W, b, X, y, lam):
    """The objective by its definition, in mpmath (50 digits) from the exact float inputs."""
    with mpmath.workdps(50):
        total = mpmath.mpf(0)
        for xn, k in zip(X, y, strict=True):
            z = [
                mpmath.fsum(
                    mpmath.mpf(float(a)) * mpmath.mpf(float(w))
                    for a, w in zip(xn, col, strict=True)
                )
                + mpmath.mpf(float(bc))
                for col, bc in zip(W.T, b, strict=True)
            ]
            total += mpmath.log(mpmath.fsum(mpmath.exp(v) for v in z)) - z[int(k)]
        penalty = mpmath.mpf(lam) / 2 * mpmath.fsum(mpmath.mpf(float(w)) ** 2 for w in W.ravel())
        return total / len(y) + penalty


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize(("case", "lam"), [("issue", 1.0), ("overlapping", 0.1), ("shifted", 0.0)])
def test_issue30_reported_loss_is_the_objective_at_the_returned_weights(case, lam, scale):
    # Issue 30, item 4: SciPy's result.fun (the last trial point) was reported as the loss,
    # 3.5e-19 for weights whose objective is log 2 (features of 1e12), NaN for 1e200.
    if case == "issue":
        X, y = ISSUE_X, ISSUE_Y
    else:
        X, y = overlapping()
        X = X + 5.0 if case == "shifted" else X  # a mean far from 0: the centring matters
    model = fit_softmax_regression(X * scale, y, l2=lam)
    assert model.converged
    expected = mp_objective(model.weights, model.bias, X * scale, y, lam)
    # float64 logits of size < 40 and the loss's own rounding: a few ulps, far below 1e-13
    assert model.loss == pytest.approx(float(expected), rel=1e-13, abs=0)


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("scale", SCALES)
def test_issue30_any_feature_scale_gives_the_model_of_unit_scale(scale):
    # Issue 30, item 4: features of 1e12 or 1e200 stopped L-BFGS after 0 iterations. Without
    # a penalty, scaling X by s scales the optimal weights by 1/s and leaves every
    # probability unchanged; scikit-learn's unpenalised fit at scale 1 is the oracle.
    X, y = overlapping()
    sk = LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(X, y)
    model = fit_softmax_regression(X * scale, y, l2=0.0, tol=1e-10)
    assert model.converged
    logits = model.logits(X * scale)
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    # both stop near a gradient of 1e-10: the probabilities agree to about 1e-9
    np.testing.assert_allclose(probs, sk.predict_proba(X), rtol=0, atol=1e-7)


def mp_gradient(W, b, X, y, lam):
    """The objective's gradient by its formula X^T (P - Y) / N + lam W, in mpmath (50 digits)."""
    with mpmath.workdps(50):
        n, d = X.shape
        c = W.shape[1]
        gW = [[mpmath.mpf(lam) * mpmath.mpf(W[j, k]) for k in range(c)] for j in range(d)]
        gb = [mpmath.mpf(0)] * c
        for xn, label in zip(X, y, strict=True):
            z = [
                sum(mpmath.mpf(xn[j]) * mpmath.mpf(W[j, k]) for j in range(d)) + mpmath.mpf(b[k])
                for k in range(c)
            ]
            total = sum(mpmath.exp(v) for v in z)
            for k in range(c):
                g = (mpmath.exp(z[k]) / total - (k == label)) / n
                gb[k] += g
                for j in range(d):
                    gW[j][k] += mpmath.mpf(xn[j]) * g
        return max(abs(float(v)) for v in [*(v for row in gW for v in row), *gb])


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("scale", [1.0, 1e-12])
def test_a_tol_below_the_objectives_rounding_is_reached(scale):
    # The defect: on CPUs without AVX-512, L-BFGS stalled at a gradient of 7.8e-9 at feature
    # scale 1e-12 (tol 1e-10), and it stalls near 1e-9 everywhere: the objective's changes
    # there are below its float64 rounding. Newton steps compare no objective values.
    X, y = overlapping()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a fit short of tol warns
        model = fit_softmax_regression(X * scale, y, l2=0.0, tol=1e-14)
    assert model.converged
    # the gradient in the features' units, independently: standardised features here have
    # deviations near 1 and means below 1 in size, so it is of the same order
    assert mp_gradient(model.weights * scale, model.bias, X, y, 0.0) < 1e-13


def test_issue30_tiny_features_with_l2_zero_have_finite_weights_and_loss():
    # With l2=0 the penalty was 0.5 * 0 * (W * W): NaN once W * W overflowed (features of
    # 1e-300 need weights of 1e300).
    X = ISSUE_X * 1e-300
    model = fit_softmax_regression(X, ISSUE_Y, l2=0.0)
    assert model.converged and np.all(np.abs(model.weights) > 1e299)
    expected = mp_objective(model.weights, model.bias, X, ISSUE_Y, 0.0)
    assert model.loss == pytest.approx(float(expected), rel=1e-13, abs=0)
    params = np.array([1e200, -1e200, 0.0, 0.0])
    loss, _ = softmax_regression_objective(params, [[1e-200], [-1e-200]], [0, 1], l2=0.0)
    assert loss == pytest.approx(np.log1p(np.exp(-2.0)), rel=1e-15, abs=0)


def test_weights_that_overflow_float64_are_refused():
    X = ISSUE_X * 1e-310  # subnormal features: the optimal weights exceed 1.8e308
    message = "`X` must have features whose fitted weights are finite in float64"
    with pytest.raises(ValueError, match=re.escape(message)):
        fit_softmax_regression(X, ISSUE_Y, l2=0.0)
    # a penalty bounds every weight by (its standardised weight) / sqrt(l2): no overflow
    assert fit_softmax_regression(X, ISSUE_Y, l2=1e-6).converged


def _fitted():
    X, y = overlapping()
    return fit_softmax_regression(np.hstack([X, X**2]), y, l2=0.1)  # four features


@pytest.mark.parametrize("method", ["logits", "predict"])
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_issue30_nan_or_infinite_features_are_rejected_by_every_method(method, value):
    # Issue 30, item 5: predict(np.full((2, 4), np.nan)) returned [0, 0].
    X = np.ones((2, 4))
    X[1, 2] = value
    with pytest.raises(ValueError, match=re.escape("`X` must be finite; got NaN or infinity.")):
        getattr(_fitted(), method)(X)


@pytest.mark.parametrize("method", ["logits", "predict"])
@pytest.mark.parametrize("shape", [(2, 3), (2, 5), (4,), (1, 2, 4)])
def test_issue30_wrong_feature_count_is_rejected_by_every_method(method, shape):
    # Issue 30, item 5: three features instead of four gave NumPy's raw matmul message.
    message = (
        "`X` must have shape (N, 4) (one example per row, with the 4 features of the fit); "
        f"got {shape}."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        getattr(_fitted(), method)(np.ones(shape))


def _warning(**kwargs):
    X, y = kwargs.pop("data", overlapping())
    with pytest.warns(RuntimeWarning, match="stopped after") as record:
        fit_softmax_regression(X, y, **kwargs)
    (warning,) = record
    return str(warning.message)


def test_issue30_the_warning_says_what_can_help():
    # Issue 30, item 4: every stop said "Raise `max_iter` or `tol`", even after zero
    # iterations, where more iterations could not help.
    limit = _warning(l2=0.1, max_iter=2)
    assert "the iteration limit. Raise `max_iter`." in limit and "`tol` above" not in limit
    floor = _warning(l2=0.1, tol=1e-15)  # below the float64 floor of this gradient
    assert "More iterations cannot help; a `tol` above the largest gradient entry can." in floor
    assert "max_iter" not in floor
    separable = _warning(data=(ISSUE_X, ISSUE_Y), l2=0.0, max_iter=3)
    assert "With `l2=0` a minimiser may not exist" in separable
    empty_class = _warning(l2=0.1, n_classes=4, max_iter=2)
    assert "Class 3 has no example: no minimiser exists" in empty_class


def test_issue30_scikit_learn_binary_correspondence_is_c_equals_2_over_lambda_n():
    # Issue 30, item 6: the docstring said C = 1 / (lambda N) for every number of classes.
    # With two classes scikit-learn fits w = W[:, 1] - W[:, 0]; the optimal W has opposite
    # columns, so |W|^2 = |w|^2 / 2 and C = 2 / (lambda N).
    X, y = overlapping()
    X, y = X[y < 2], y[y < 2]
    lam, n = 0.05, len(y)
    ours = fit_softmax_regression(X, y, l2=lam, tol=1e-10)
    w, beta = ours.weights[:, 1] - ours.weights[:, 0], ours.bias[1] - ours.bias[0]
    logits = ours.logits(X)
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    gaps = {}
    for name, c in (("2 / (lambda N)", 2 / (lam * n)), ("1 / (lambda N)", 1 / (lam * n))):
        sk = LogisticRegression(C=c, tol=1e-14, max_iter=10_000).fit(X, y)
        gaps[name] = max(
            np.abs(sk.coef_[0] - w).max(),
            abs(sk.intercept_[0] - beta),
            np.abs(sk.predict_proba(X) - probs).max(),
        )
    # both stop at gradients near 1e-10: parameters and probabilities agree to about 1e-9
    assert gaps["2 / (lambda N)"] < 1e-7
    assert gaps["1 / (lambda N)"] > 1e-2  # the old statement is measurably wrong
    doc = classifier.fit_softmax_regression.__doc__
    assert "``2 / (lambda N)`` with two" in doc and "C = 2 / (lambda N)" in classifier.__doc__
