r"""Calibration of softmax classifiers: reliability bins, ECE, and temperature scaling.

A classifier is *calibrated* when, among the predictions it makes with confidence about
``c``, a fraction about ``c`` is correct. These functions measure that and fix the simplest
kind of miscalibration, a wrong temperature.
"""

from __future__ import annotations

import math
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
    check_positive_int,
    check_probabilities,
    check_tolerance,
)
from softmax_lib.core import softmax

__all__ = ["ReliabilityBins", "expected_calibration_error", "fit_temperature", "reliability_bins"]


@dataclass(frozen=True)
class ReliabilityBins:
    """Per-bin statistics of a reliability diagram (equal-width bins of confidence)."""

    edges: NDArray[np.float64]  # shape (n_bins + 1,), from 0 to 1
    count: NDArray[np.int64]  # predictions per bin
    confidence: NDArray[np.float64]  # mean top probability per bin (NaN if empty)
    accuracy: NDArray[np.float64]  # fraction correct per bin (NaN if empty)


def _predictions(probs: ArrayLike, labels: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    p = as_real_float_array(probs, "probs")
    check_matrix(p, "probs")
    check_not_empty(p, "probs", "example with at least one class")
    check_probabilities(p, "probs", (1,))
    t = check_integer_labels(labels)
    check_class_indices(t, p.shape[1], None, p.shape[:1], name="labels")
    confidence = p.max(axis=1).astype(np.float64)
    correct = p.argmax(axis=1) == t
    return confidence, correct


def _check_n_bins(n_bins: object) -> int:
    return check_positive_int(n_bins, "n_bins")


def reliability_bins(probs: ArrayLike, labels: ArrayLike, *, n_bins: int = 15) -> ReliabilityBins:
    r"""Group predictions by confidence and compare confidence with accuracy in each group.

    Derived in :doc:`/chapters/08-limits`.

    Parameters
    ----------
    probs : array_like, shape (N, C)
        Predicted probabilities (rows summing to 1).
    labels : array_like of int, shape (N,)
        True classes.
    n_bins : int, default: 15
        Number of equal-width bins on ``[0, 1]``; bin ``b`` holds confidences in
        ``(b / n_bins, (b + 1) / n_bins]`` (the first bin also holds 0).

    Returns
    -------
    ReliabilityBins
        Edges, counts, mean confidence and accuracy per bin.

    Raises
    ------
    TypeError, ValueError
        If `probs` is not a 2-D array of probability rows with at least one example and one
        class, `labels` are not valid integer class indices of matching length (time deltas,
        floats and bools are not class indices), or `n_bins` is not a positive int.

    Examples
    --------
    >>> from softmax_lib.calibration import reliability_bins
    >>> bins = reliability_bins([[0.9, 0.1], [0.8, 0.2]], [0, 1], n_bins=2)
    >>> bins.count.tolist(), bins.accuracy.tolist()
    ([0, 2], [nan, 0.5])
    """
    n_bins = _check_n_bins(n_bins)
    confidence, correct = _predictions(probs, labels)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    index = np.clip(np.ceil(confidence * n_bins).astype(np.int64) - 1, 0, n_bins - 1)
    count = np.bincount(index, minlength=n_bins)
    with np.errstate(invalid="ignore"):  # empty bins are NaN by design
        conf = np.bincount(index, weights=confidence, minlength=n_bins) / count
        acc = np.bincount(index, weights=correct.astype(np.float64), minlength=n_bins) / count
    return ReliabilityBins(edges, count, conf, acc)


def expected_calibration_error(probs: ArrayLike, labels: ArrayLike, *, n_bins: int = 15) -> float:
    r"""Return the expected calibration error (ECE) of predicted probabilities.

    The ECE is the average, weighted by the number of predictions in each bin, of
    ``|accuracy - confidence|`` over the bins of :func:`reliability_bins`.

    Parameters
    ----------
    probs : array_like, shape (N, C)
        Predicted probabilities.
    labels : array_like of int, shape (N,)
        True classes.
    n_bins : int, default: 15
        Number of equal-width confidence bins (Guo et al., 2017, use 15).

    Returns
    -------
    float
        A number in ``[0, 1]``; 0 means calibrated at the resolution of the bins.

    Raises
    ------
    TypeError, ValueError
        As for :func:`reliability_bins`. No predictions (``N = 0``) is a ValueError: there
        is no error to measure. (Earlier versions returned NaN.)

    Notes
    -----
    .. math::

        \mathrm{ECE} = \sum_b \frac{|B_b|}{N}
                       \bigl|\mathrm{acc}(B_b) - \mathrm{conf}(B_b)\bigr| .

    The value depends on the binning; report ``n_bins`` with it.

    Derived in :doc:`/chapters/08-limits`.

    Examples
    --------
    >>> from softmax_lib.calibration import expected_calibration_error
    >>> expected_calibration_error([[0.9, 0.1], [0.8, 0.2]], [0, 1], n_bins=2)
    0.35
    """
    bins = reliability_bins(probs, labels, n_bins=n_bins)
    total = bins.count.sum()  # >= 1: empty input is rejected
    used = bins.count > 0
    gaps = np.abs(bins.accuracy[used] - bins.confidence[used])
    return float(np.sum(bins.count[used] * gaps) / total)


def fit_temperature(
    logits: ArrayLike, labels: ArrayLike, *, tol: float = 1e-10, max_iter: int = 100
) -> float:
    r"""Fit the temperature ``T > 0`` that minimises the mean NLL of ``softmax(logits / T)``.

    Temperature scaling (Guo et al., 2017): one parameter, fitted on held-out data, that
    leaves every argmax, and so the accuracy, unchanged.

    Parameters
    ----------
    logits : array_like, shape (N, C)
        Finite logits of held-out examples.
    labels : array_like of int, shape (N,)
        Their true classes.
    tol : float, default: 1e-10
        Stop when a Newton step changes ``1 / T`` by less than ``tol`` relative.
    max_iter : int, default: 100
        Maximum number of iterations.

    Returns
    -------
    float
        The optimal temperature; ``inf`` if the NLL does not decrease from ``T = inf`` (the
        best model is uniform), and ``0.0`` if the argmax is right on every example (the NLL
        keeps decreasing as ``T -> 0``).

    Raises
    ------
    TypeError, ValueError
        If `logits` is not a finite 2-D array with at least one example and one class,
        `labels` are not valid integer class indices, `tol` is not a finite number > 0, or
        `max_iter` is not a positive int. The options are checked first, whatever the data.

    Notes
    -----
    With :math:`\beta = 1/T`, the mean NLL :math:`f(\beta) = \overline{\lse(\beta z) - \beta
    z_k}` is convex, with :math:`f'(\beta) = \overline{E_p[z] - z_k}` and
    :math:`f''(\beta) = \overline{\mathrm{Var}_p[z]} \ge 0` where :math:`p = \softmax(\beta z)`.
    The fit is Newton's method on :math:`\beta`, safeguarded by bisection on the sign of
    :math:`f'`, so it converges from any start.

    Derived in :doc:`/chapters/08-limits`.

    Examples
    --------
    >>> import numpy as np
    >>> from softmax_lib.calibration import fit_temperature
    >>> z = np.array([[4.0, 0.0], [4.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
    >>> T = fit_temperature(z, [0, 0, 1, 1])  # one in four confident predictions is wrong
    >>> round(T, 4)  # softmax(z / T) gives the top class probability 3/4
    3.6410
    """
    tol = check_tolerance(tol)
    max_iter = check_positive_int(max_iter, "max_iter")
    z = as_real_float_array(logits, "logits").astype(np.float64)
    check_matrix(z, "logits")
    check_not_empty(z, "logits", "example with at least one class")
    check_finite(z, "logits")
    t = check_integer_labels(labels)
    check_class_indices(t, z.shape[1], None, z.shape[:1], name="labels")
    # The fit is equivariant: logits c z give the temperature c T. Fitting z / c, with c the
    # power of two nearest the largest |z|, makes the search scale-free (logits of 1e30 or
    # 1e-14 bracket as easily as logits of 1) and the rescaling exact.
    largest = float(np.max(np.abs(z)))
    scale = 2.0 ** round(math.log2(largest)) if largest > 0 else 1.0
    z = z / scale
    true_logit = np.take_along_axis(z, t[:, None], axis=1)
    others = np.where(np.arange(z.shape[1]) == t[:, None], -np.inf, z)
    if largest == 0:
        return float("inf")  # every logit is 0: the model is uniform at every temperature
    if z.shape[1] == 1 or np.all(true_logit[:, 0] > others.max(axis=1)):
        return 0.0  # every argmax is right: the NLL decreases for ever as T -> 0
    gaps = z - true_logit  # z_c - z_k; the slope sums p_c * gap_c without cancellation

    def slope_and_curvature(beta: float) -> tuple[float, float]:
        p = softmax(beta * z)
        mean_gap = np.sum(p * gaps, axis=1)
        var_z = np.sum(p * (gaps - mean_gap[:, None]) ** 2, axis=1)
        return float(np.mean(mean_gap)), float(np.mean(var_z))

    slope0, _ = slope_and_curvature(0.0)
    if slope0 >= 0:  # the NLL does not decrease for any beta > 0: uniform is best
        return float("inf")
    # Bracket the minimum: f'(lo) < 0 <= f'(hi).
    lo, hi = 0.0, 1.0
    while slope_and_curvature(hi)[0] < 0:
        lo, hi = hi, 2 * hi
        if hi > 1e12:  # the NLL keeps decreasing as far as float64 can tell
            return 0.0
    beta = hi / 2 if lo == 0 else (lo + hi) / 2
    converged = False
    for _ in range(max_iter):
        slope, curvature = slope_and_curvature(beta)
        if slope < 0:
            lo = beta
        else:
            hi = beta
        step = slope / curvature if curvature > 0 else np.inf
        candidate = beta - step
        if not lo < candidate < hi:  # Newton left the bracket: bisect instead
            candidate = (lo + hi) / 2
        if abs(candidate - beta) <= tol * beta or hi - lo <= tol * lo:
            beta = candidate
            converged = True
            break
        beta = candidate
    if not converged:
        warnings.warn(
            f"`fit_temperature` did not converge in {max_iter} iterations (tol={tol}); "
            "the temperature returned is the last iterate. Raise `max_iter` or `tol`.",
            RuntimeWarning,
            stacklevel=2,
        )
    return scale / beta
