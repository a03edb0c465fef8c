r"""Softmax regression (multinomial logistic regression), fitted to its unique optimum.

The model is ``logits = X @ W + b`` with probabilities ``softmax(logits)``; the objective is
the mean cross-entropy plus an L2 penalty on the weights (not the bias),

.. math:: L(W, b) = \frac{1}{N} \sum_n \bigl(\lse(z_n) - z_{n, y_n}\bigr)
                    + \frac{\lambda}{2} \lVert W \rVert^2 , \qquad z_n = x_n^\top W + b,

whose gradient is ``X.T @ (P - Y) / N + lambda W`` and ``(P - Y).sum(0) / N``. With
``lambda > 0`` the objective is strictly convex in ``W`` and its optimum is unique up to
shifting ``b`` by a constant, so any correct optimiser reaches it. scikit-learn's
``LogisticRegression`` reaches it too: with three or more classes, ``C = 1 / (lambda N)``
makes its objective ``N C`` times this one; with two classes it fits one weight vector, and
the correspondence is ``C = 2 / (lambda N)`` (see :func:`fit_softmax_regression`).

Derived and used in :doc:`/chapters/07-classifier`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from softmax_lib._validation import (
    as_real_float_array,
    check_class_indices,
    check_features,
    check_finite,
    check_fitted_weights,
    check_integer_labels,
    check_matrix,
    check_not_empty,
    check_parameter_layout,
    check_positive_int,
    check_regularisation,
    check_tolerance,
)
from softmax_lib.core import softmax
from softmax_lib.gradients import cross_entropy_grad
from softmax_lib.losses import cross_entropy

__all__ = ["SoftmaxRegression", "fit_softmax_regression", "softmax_regression_objective"]


@dataclass(frozen=True)
class SoftmaxRegression:
    """A fitted softmax regression: ``softmax(X @ weights + bias)``.

    Attributes
    ----------
    weights : ndarray, shape (D, C)
        The weights, in the units of the features given to :func:`fit_softmax_regression`.
    bias : ndarray, shape (C,)
        The bias.
    loss : float
        The regularised objective evaluated at `weights` and `bias` (not the optimiser's
        last trial value).
    n_iter : int
        L-BFGS iterations used (the Newton steps that may follow are not counted).
    converged : bool
        Whether the stopping test of :func:`fit_softmax_regression` was met.
    """

    weights: NDArray[np.float64]  # shape (D, C)
    bias: NDArray[np.float64]  # shape (C,)
    loss: float  # the regularised objective at weights and bias
    n_iter: int  # L-BFGS iterations used
    converged: bool

    def logits(self, X: ArrayLike) -> NDArray[np.float64]:
        """Return ``X @ weights + bias`` for finite examples `X` of shape (N, D).

        `X` must have the D features of the fit, and no NaN or infinity, as in fitting:
        otherwise ValueError (``predict`` of NaN features would be an arbitrary class).
        """
        x = as_real_float_array(X, "X").astype(np.float64)
        check_features(x, self.weights.shape[0], "X")
        check_finite(x, "X")
        return x @ self.weights + self.bias

    def predict(self, X: ArrayLike) -> NDArray[np.int64]:
        """Return the most probable class of each example of `X`, checked as in `logits`."""
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


def _objective(W: np.ndarray, b: np.ndarray, x: np.ndarray, labels: np.ndarray, lam):
    """Return the objective and its gradients in W and b, for one penalty or one per feature.

    `lam` is a float or an array of shape (D, 1). The penalty is computed as
    ``(sqrt(lam) * W)**2 / 2``: finite wherever it is representable (``lam * W * W`` is NaN
    for ``lam = 0`` once ``W * W`` overflows).
    """
    Z = x @ W + b
    loss = float(cross_entropy(Z, labels)) + 0.5 * float(np.sum((np.sqrt(lam) * W) ** 2))
    G = cross_entropy_grad(Z, labels)
    return loss, x.T @ G + lam * W, G.sum(axis=0)


def _curvature(W: np.ndarray, b: np.ndarray, x: np.ndarray, lam):
    """Return ``(V, v) -> H (V, v)``: the objective's Hessian at ``(W, b)`` times a direction.

    It is the gradient's derivative in closed form (no differencing). With
    ``P = softmax(x W + b)`` and ``dZ = x V + v``, the logits' gradient ``(P - Y) / N``
    changes by ``dG = (P * dZ - P * rowsum(P * dZ)) / N``; the weights' part is
    ``x.T dG + lam V`` and the bias part ``dG.sum(0)``.
    """
    P = softmax(x @ W + b, axis=1)

    def times(V: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        Q = P * (x @ V + v)
        dG = (Q - P * Q.sum(axis=1, keepdims=True)) / len(x)
        return x.T @ dG + lam * V, dG.sum(axis=0)

    return times


def _newton_direction(times, g: np.ndarray, size: int) -> np.ndarray:
    """Solve ``H d = -g`` by conjugate gradients, ``H`` given by its products with vectors.

    ``H`` is positive semidefinite (the objective is convex); its null directions, shifting
    every class alike, are orthogonal to ``g``.
    """
    d, r, p = np.zeros_like(g), -g, -g
    rr = float(r @ r)
    stop = (1e-15 * np.sqrt(rr)) ** 2
    for _ in range(size):
        Hp = times(p)
        curvature = float(p @ Hp)
        if not curvature > 0:
            break
        step = rr / curvature
        d += step * p
        r -= step * Hp
        rr_next = float(r @ r)
        if rr_next <= stop:
            break
        p = r + (rr_next / rr) * p
        rr = rr_next
    return d


def _polish(theta: np.ndarray, objective, curvature, tol: float, steps: int = 8):
    """Take Newton steps from where L-BFGS stopped short of `tol`, stalled by rounding.

    L-BFGS stops when the objective's changes fall below its rounding error: near a
    minimiser they shrink like the gradient squared, and a gradient of 1e-8 changes an
    objective of order one by about 1e-16. Newton's method
    needs no comparison of objective values: a step is taken while it makes the largest
    gradient entry smaller, without raising the objective beyond its rounding, and ends at
    `tol` or at the gradient's own rounding floor. Return the point and its largest entry.
    """
    loss, g = objective(theta)
    largest = float(np.max(np.abs(g)))
    for _ in range(steps):
        if largest <= tol:
            break
        trial = theta + _newton_direction(curvature(theta), g, theta.size)
        trial_loss, trial_g = objective(trial)
        trial_largest = float(np.max(np.abs(trial_g)))
        if not (
            trial_largest < largest and trial_loss <= loss + 8 * np.finfo(float).eps * abs(loss)
        ):
            break
        theta, loss, g, largest = trial, trial_loss, trial_g, trial_largest
    return theta, largest


def _standardise(x: np.ndarray, lam: float):
    """Return each feature's mean, deviation, scale ``sqrt(var + lam)``, and standardised values.

    Each column is first divided by a power of two within a factor 2 of its largest entry
    (exact, and no overflow in the mean and variance). The standard deviation is at most the
    largest entry in size, so it is capped there against rounding, and no scale overflows.
    A constant feature has variance 0 exactly and standardises to 0, with scale 1 if
    ``lam == 0``.
    """
    top = np.max(np.abs(x), axis=0)
    unit = np.ldexp(1.0, np.frexp(top)[1] - 1)
    u = x / unit
    constant = np.max(x, axis=0) == np.min(x, axis=0)
    centre = np.where(constant, u[0], np.mean(u, axis=0))
    spread = np.where(constant, 0.0, np.minimum(np.std(u, axis=0), top / unit))
    sigma = unit * spread
    scale = np.hypot(sigma, np.sqrt(lam))
    scale[scale == 0] = 1.0
    return unit * centre, sigma, scale, (u - centre) * (unit / scale)


def _to_feature_units(W_std: np.ndarray, b_std: np.ndarray, mean, sigma, scale, lam: float):
    """Map weights and bias fitted to standardised features back to the features' units."""
    with np.errstate(over="ignore"):  # an infinite weight is refused just below
        W = W_std / scale[:, None]
    check_fitted_weights(W, sigma, lam)
    return W, b_std - mean @ W


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
    the chain rule through ``Z = X W + b`` gives ``X.T @ G`` and ``G.sum(0)``. The penalty is
    computed as ``(sqrt(lambda) W)**2 / 2``, so huge weights with a tiny or zero `l2` do not
    overflow to infinity or NaN.

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
    loss, gW, gb = _objective(theta[: d * c].reshape(d, c), theta[d * c :], x, labels, lam)
    return loss, np.concatenate([gW.ravel(), gb])


def _advice(nit: int, max_iter: int, largest: float, tol: float, lam: float, result, counts):
    """Say why the fit stopped short of `tol`, and what can help."""
    said = (
        f"`fit_softmax_regression` stopped after {nit} iterations with a largest gradient "
        f"entry (with respect to the standardised parameters) of {largest:.3g} > "
        f"`tol`={tol:g}"
    )
    if nit >= max_iter:
        said += ": the iteration limit. Raise `max_iter`."
    else:
        said += (
            f" ({result.message}): the objective no longer decreases, its changes being below "
            "its float64 rounding error. More iterations cannot help; a `tol` above the "
            "largest gradient entry can."
        )
    if counts.min() == 0:
        said += (
            f" Class {int(np.argmin(counts))} has no example: no minimiser exists (its bias "
            "decreases without bound)."
        )
    elif lam == 0:
        said += (
            " With `l2=0` a minimiser may not exist (for instance when a hyperplane "
            "separates the classes); `l2` > 0 guarantees one."
        )
    return said


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
        Finite features, of any scale (they are standardised internally; see Notes).
    y : array_like of int, shape (N,)
        Class indices.
    l2 : float
        The L2 penalty ``lambda >= 0`` on the weights; ``lambda > 0`` makes the optimum
        unique (see the module docstring). For scikit-learn's ``LogisticRegression`` see
        Notes: its ``C`` is ``1 / (lambda N)`` with three or more classes, but
        ``2 / (lambda N)`` with two.
    n_classes : int, optional
        ``C``; by default ``max(y) + 1``.
    tol : float, default: 1e-8
        Stop when the largest entry of the gradient with respect to the standardised
        parameters (see Notes) is below `tol`. L-BFGS stalls where the objective's changes
        fall below its rounding error (for a mean loss of order one, at a gradient of about
        1e-9); from there Newton steps, which compare no objective values, continue to
        `tol` or to the gradient's own rounding floor (about 1e-15 on well-scaled data).
    max_iter : int, default: 10000
        Maximum number of L-BFGS iterations, the only limit (the number of evaluations
        is not capped separately).

    Returns
    -------
    SoftmaxRegression
        The weights and bias in the units of `X`, the objective evaluated at them,
        the iterations, and whether `tol` was reached.

    Raises
    ------
    TypeError, ValueError
        If an argument has the wrong type, shape or value; ValueError also if a fitted
        weight overflows float64 (a feature whose standard deviation is below about 1e-300,
        without a penalty): rescale `X`.

    Warns
    -----
    RuntimeWarning
        If `tol` was not reached, saying what can help: a larger `max_iter` when the
        iteration limit stopped the fit, a larger `tol` when rounding error did.

    Notes
    -----
    **Standardisation.** L-BFGS starts from zero and takes steps of order one, so it works
    on standardised features, whatever the scale of `X` (features of 1e-200 or 1e12). With
    :math:`\mu_j` the mean and :math:`\sigma_j` the standard deviation (``ddof=0``) of
    feature :math:`j` over the examples, and :math:`s_j = \sqrt{\sigma_j^2 + \lambda}`
    (1 for a constant feature when :math:`\lambda = 0`),

    .. math:: x'_{nj} = \frac{x_{nj} - \mu_j}{s_j}, \qquad
              W_{j\cdot} = \frac{W'_{j\cdot}}{s_j}, \qquad b = b' - \mu^\top W,

    so that :math:`x_n'^\top W' + b' = x_n^\top W + b`: the objective in :math:`(W', b')` is
    the same function, with the penalty :math:`\frac{\lambda}{2} \sum_j \lVert W'_{j\cdot}
    \rVert^2 / s_j^2`, and its minimiser maps to the minimiser of :math:`L`. Adding
    :math:`\lambda` to the variance keeps every penalty weight :math:`\lambda / s_j^2` at
    most 1, so a feature of tiny spread cannot make the problem ill-conditioned. `tol` and
    `converged` refer to the gradient in :math:`(W', b')`: its weight rows are
    :math:`(\nabla_{W_{j\cdot}} L - \mu_j \nabla_b L) / s_j` and its bias part is
    :math:`\nabla_b L`, so it is the gradient of :math:`L` itself for features with mean 0
    and :math:`\sigma_j^2 + \lambda = 1`. The reported `loss` is :math:`L` evaluated at the
    returned weights and bias, in the units of `X` (until issue 30 it was SciPy's value at
    the last point tried, which could belong to other weights).

    **scikit-learn.** ``LogisticRegression(C=C_sk)`` minimises
    :math:`C_{sk} \sum_n \mathrm{CE}_n + \frac{1}{2} \lVert W \rVert^2`. With three or more
    classes its ``coef_`` is ``weights.T`` (intercepts up to a constant) for
    :math:`C_{sk} = 1/(\lambda N)`. With two classes it fits one vector
    :math:`w = W_{\cdot 1} - W_{\cdot 0}` and intercept :math:`b_1 - b_0`. The optimal
    :math:`W` has opposite columns (:math:`W \mathbf{1} = 0` for :math:`\lambda > 0`), so
    :math:`\lVert W \rVert^2 = \lVert w \rVert^2 / 2`, our objective is
    :math:`\frac{1}{N} \sum_n \mathrm{CE}_n + \frac{\lambda}{4} \lVert w \rVert^2`, and the
    two agree (up to the factor :math:`N C_{sk}`) for :math:`C_{sk} = 2/(\lambda N)`, not
    :math:`1/(\lambda N)`.

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
    mean, sigma, scale, features = _standardise(x, lam)
    penalty = ((np.sqrt(lam) / scale) ** 2)[:, None]  # lambda / s_j^2, at most 1

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        loss, gW, gb = _objective(
            theta[: d * c].reshape(d, c), theta[d * c :], features, labels, penalty
        )
        return loss, np.concatenate([gW.ravel(), gb])

    result = minimize(
        objective,
        np.zeros(d * c + c),
        jac=True,
        method="L-BFGS-B",
        # at most 20 evaluations per iteration (maxls), so max_iter alone stops the fit
        options={
            "maxiter": max_iter,
            "maxfun": 20 * max_iter + 1,
            "gtol": tol,
            "ftol": 0.0,
            "maxcor": 20,
        },
    )
    theta = result.x
    # SciPy's result.fun and result.jac belong to the last point evaluated, which after a
    # failed line search is not result.x: evaluate at the point returned.
    largest = float(np.max(np.abs(objective(theta)[1])))
    if largest > tol and result.nit < max_iter:  # stopped by rounding, not by the limit

        def curvature(point: np.ndarray):
            times = _curvature(point[: d * c].reshape(d, c), point[d * c :], features, penalty)

            def flat(v: np.ndarray) -> np.ndarray:
                hW, hb = times(v[: d * c].reshape(d, c), v[d * c :])
                return np.concatenate([hW.ravel(), hb])

            return flat

        theta, largest = _polish(theta, objective, curvature, tol)
    converged = largest <= tol
    W, b = _to_feature_units(theta[: d * c].reshape(d, c), theta[d * c :], mean, sigma, scale, lam)
    if not converged:
        warnings.warn(
            _advice(
                int(result.nit),
                max_iter,
                largest,
                tol,
                lam,
                result,
                np.bincount(labels, minlength=c),
            ),
            RuntimeWarning,
            stacklevel=2,
        )
    return SoftmaxRegression(
        weights=W,
        bias=b,
        loss=_objective(W, b, x, labels, lam)[0],
        n_iter=int(result.nit),
        converged=converged,
    )
