r"""Softmax regression (multinomial logistic regression), fitted to its unique optimum.

The model is ``logits = X @ W + b`` with probabilities ``softmax(logits)``; the objective is
the mean cross-entropy plus an L2 penalty on the weights (not the bias),

.. math:: L(W, b) = \frac{1}{N} \sum_n \bigl(\lse(z_n) - z_{n, y_n}\bigr)
                    + \frac{\lambda}{2} \lVert W \rVert^2 , \qquad z_n = x_n^\top W + b,

whose gradient is ``X.T @ (P - Y) / N + lambda W`` and ``(P - Y).sum(0) / N``. With
``lambda > 0`` the objective is strictly convex in ``W`` and its optimum is unique up to
shifting ``b`` by a constant, so any correct optimiser reaches it: scikit-learn's
``LogisticRegression(C=1 / (lambda N))`` minimises the same function (times ``N``).

Derived and used in :doc:`/chapters/06b-classifier`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from softmax_lib._validation import (
    as_real_float_array,
    check_class_indices,
    check_finite,
    check_integer_labels,
    check_matrix,
    check_not_empty,
    check_parameter_layout,
    check_positive_int,
    check_regularisation,
    check_tolerance,
)
from softmax_lib.gradients import cross_entropy_grad
from softmax_lib.losses import cross_entropy

__all__ = ["SoftmaxRegression", "fit_softmax_regression", "softmax_regression_objective"]


@dataclass(frozen=True)
class SoftmaxRegression:
    """A fitted softmax regression: ``softmax(X @ weights + bias)``."""

    weights: NDArray[np.float64]  # shape (D, C)
    bias: NDArray[np.float64]  # shape (C,)
    loss: float  # the regularised objective at the optimum
    n_iter: int  # L-BFGS iterations used
    converged: bool

    def logits(self, X: ArrayLike) -> NDArray[np.float64]:
        """Return ``X @ weights + bias`` for examples `X` of shape (N, D)."""
        x = as_real_float_array(X, "X").astype(np.float64)
        check_matrix(x, "X")
        return x @ self.weights + self.bias

    def predict(self, X: ArrayLike) -> NDArray[np.int64]:
        """Return the most probable class of each example."""
        return np.argmax(self.logits(X), axis=1)


def _data(X: ArrayLike, y: ArrayLike, n_classes: int | None):
    x = as_real_float_array(X, "X").astype(np.float64)
    check_matrix(x, "X")
    check_not_empty(x, "X", "example with at least one feature")
    check_finite(x, "X")
    labels = check_integer_labels(y, "y")
    c = int(labels.max()) + 1 if n_classes is None and labels.size else n_classes
    c = check_positive_int(c, "n_classes")
    check_class_indices(labels, c, None, x.shape[:1], name="y")
    return x, labels.astype(np.int64), c


def softmax_regression_objective(
    params: ArrayLike, X: ArrayLike, y: ArrayLike, *, l2: float, n_classes: int | None = None
) -> tuple[float, NDArray[np.float64]]:
    r"""Return the regularised mean cross-entropy and its gradient, for a flat parameter vector.

    Parameters
    ----------
    params : array_like, shape (D * C + C,)
        ``W.ravel()`` (row-major, shape (D, C)) followed by ``b``: the layout
        ``scipy.optimize.minimize`` works with.
    X : array_like, shape (N, D)
        Finite features, one example per row.
    y : array_like of int, shape (N,)
        Class indices in ``[0, C)``.
    l2 : float
        The penalty ``lambda >= 0`` on ``W`` (the bias is not penalised).
    n_classes : int, optional
        ``C``; by default ``max(y) + 1``.

    Returns
    -------
    (float, ndarray)
        The objective and its gradient, in the layout of `params`.

    Raises
    ------
    TypeError, ValueError
        If an argument has the wrong type, shape or value.

    Notes
    -----
    The loss is :func:`softmax_lib.cross_entropy` (mean reduction) and the gradient with
    respect to the logits is :func:`softmax_lib.gradients.cross_entropy_grad`, ``(P - Y)/N``;
    the chain rule through ``Z = X W + b`` gives ``X.T @ G`` and ``G.sum(0)``.

    Examples
    --------
    >>> import numpy as np
    >>> from softmax_lib.classifier import softmax_regression_objective
    >>> X, y = np.eye(3), np.array([0, 1, 2])
    >>> loss, grad = softmax_regression_objective(np.zeros(12), X, y, l2=0.1)
    >>> round(loss, 6) == round(float(np.log(3)), 6), grad.shape
    (True, (12,))
    """
    x, labels, c = _data(X, y, n_classes)
    lam = check_regularisation(l2)
    theta = as_real_float_array(params, "params").astype(np.float64)
    d = x.shape[1]
    check_parameter_layout(theta, d, c)
    W = theta[: d * c].reshape(d, c)
    b = theta[d * c :]
    Z = x @ W + b
    loss = float(cross_entropy(Z, labels)) + 0.5 * lam * float(np.sum(W * W))
    G = cross_entropy_grad(Z, labels)
    grad = np.concatenate([(x.T @ G + lam * W).ravel(), G.sum(axis=0)])
    return loss, grad


def fit_softmax_regression(
    X: ArrayLike,
    y: ArrayLike,
    *,
    l2: float,
    n_classes: int | None = None,
    tol: float = 1e-8,
    max_iter: int = 10_000,
) -> SoftmaxRegression:
    r"""Fit softmax regression by L-BFGS, from zero weights, to the regularised optimum.

    Parameters
    ----------
    X : array_like, shape (N, D)
        Finite features.
    y : array_like of int, shape (N,)
        Class indices.
    l2 : float
        The L2 penalty ``lambda >= 0`` on the weights; ``lambda > 0`` makes the optimum
        unique (see the module docstring). scikit-learn's ``C`` is ``1 / (lambda N)``.
    n_classes : int, optional
        ``C``; by default ``max(y) + 1``.
    tol : float, default: 1e-8
        Stop when the largest gradient entry is below `tol` (the float64 floor of the
        gradient of a mean loss of order one is about 1e-9).
    max_iter : int, default: 10000
        Maximum number of L-BFGS iterations.

    Returns
    -------
    SoftmaxRegression
        The weights, bias, final objective, iterations and whether `tol` was reached.

    Raises
    ------
    TypeError, ValueError
        If an argument has the wrong type, shape or value.

    Examples
    --------
    >>> import numpy as np
    >>> from softmax_lib.classifier import fit_softmax_regression
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> model = fit_softmax_regression(X, [0, 0, 1, 1], l2=0.01)
    >>> model.predict(X).tolist(), model.converged
    ([0, 0, 1, 1], True)
    """
    from scipy.optimize import minimize  # imported lazily: only fitting needs SciPy

    x, labels, c = _data(X, y, n_classes)
    lam = check_regularisation(l2)
    tol = check_tolerance(tol)
    max_iter = check_positive_int(max_iter, "max_iter")
    d = x.shape[1]
    result = minimize(
        lambda theta: softmax_regression_objective(theta, x, labels, l2=lam, n_classes=c),
        np.zeros(d * c + c),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": max_iter, "gtol": tol, "ftol": 0.0, "maxcor": 20},
    )
    theta = result.x
    converged = float(np.max(np.abs(result.jac))) <= tol
    if not converged:
        warnings.warn(
            f"`fit_softmax_regression` stopped after {result.nit} iterations with a largest "
            f"gradient entry of {np.max(np.abs(result.jac)):.3g} > tol={tol} "
            f"({result.message}). Raise `max_iter` or `tol`.",
            RuntimeWarning,
            stacklevel=2,
        )
    return SoftmaxRegression(
        weights=theta[: d * c].reshape(d, c).copy(),
        bias=theta[d * c :].copy(),
        loss=float(result.fun),
        n_iter=int(result.nit),
        converged=converged,
    )
