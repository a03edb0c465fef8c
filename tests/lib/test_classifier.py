"""Softmax regression: three independent optimisers reach one optimum.

The regularised objective is strictly convex in the weights, so scikit-learn's
LogisticRegression (C = 1 / (lambda N), the same function times N) and PyTorch's L-BFGS on
nn.Linear + CrossEntropyLoss must agree with fit_softmax_regression: the oracles.
"""

import re
import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

from softmax_lib.classifier import fit_softmax_regression, softmax_regression_objective
from softmax_lib.gradients import numerical_gradient


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    rng = np.random.default_rng(0)
    keep = rng.permutation(len(y))[:400]
    return X[keep] / 16.0, y[keep]


LAMBDA = 1e-2


@pytest.fixture(scope="module")
def ours(digits):
    X, y = digits
    return fit_softmax_regression(X, y, l2=LAMBDA)


def test_three_optimisers_reach_the_same_optimum(digits, ours):
    X, y = digits
    n, d = X.shape
    sk = LogisticRegression(C=1 / (LAMBDA * n), tol=1e-12, max_iter=20_000).fit(X, y)
    theta_sk = np.concatenate([sk.coef_.T.ravel(), sk.intercept_])
    loss_sk, _ = softmax_regression_objective(theta_sk, X, y, l2=LAMBDA)

    lin = torch.nn.Linear(d, 10, dtype=torch.float64)
    torch.nn.init.zeros_(lin.weight)
    torch.nn.init.zeros_(lin.bias)
    xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    opt = torch.optim.LBFGS(
        lin.parameters(),
        max_iter=5000,
        tolerance_grad=1e-12,
        tolerance_change=0.0,
        history_size=20,
        line_search_fn="strong_wolfe",
    )

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(lin(xt), yt) + 0.5 * LAMBDA * (lin.weight**2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    theta_t = np.concatenate([lin.weight.detach().numpy().T.ravel(), lin.bias.detach().numpy()])
    loss_t, _ = softmax_regression_objective(theta_t, X, y, l2=LAMBDA)

    assert ours.converged
    assert loss_sk == pytest.approx(ours.loss, rel=1e-9, abs=0)
    assert loss_t == pytest.approx(ours.loss, rel=1e-9, abs=0)
    ours_theta = np.concatenate([ours.weights.ravel(), ours.bias])
    # The bias is unique only up to a shared constant: compare centred biases.
    centre = np.concatenate([np.zeros(d * 10), np.full(10, 1.0)])
    for theta in (theta_sk, theta_t):
        diff = theta - ours_theta
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
