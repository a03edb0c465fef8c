"""Reliability bins, ECE and temperature scaling, against hand computations and SciPy."""

import re

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

from softmax_lib import cross_entropy, softmax
from softmax_lib.calibration import (
    expected_calibration_error,
    fit_temperature,
    reliability_bins,
)


def test_ece_by_hand():
    probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.4, 0.6]])
    labels = np.array([0, 1, 1, 1])
    # n_bins=2: all confidences (0.9, 0.8, 0.7, 0.6) fall in (0.5, 1]; accuracy 3/4,
    # mean confidence 0.75: ECE 0. With n_bins=4: bins (0.5, 0.75] holds 0.7, 0.6 (both
    # right: |1 - 0.65| = 0.35) and (0.75, 1] holds 0.9, 0.8 (one right: |0.5 - 0.85| = 0.35).
    assert expected_calibration_error(probs, labels, n_bins=2) == pytest.approx(0.0, abs=1e-15)
    assert expected_calibration_error(probs, labels, n_bins=4) == pytest.approx(0.35)
    bins = reliability_bins(probs, labels, n_bins=4)
    assert bins.count.tolist() == [0, 0, 2, 2]
    np.testing.assert_allclose(bins.accuracy[2:], [1.0, 0.5])
    np.testing.assert_allclose(bins.confidence[2:], [0.65, 0.85])


def test_a_calibrated_sampler_has_small_ece():
    rng = np.random.default_rng(0)
    probs = softmax(rng.normal(0, 2, (100_000, 4)))
    labels = np.array([rng.choice(4, p=p) for p in probs[:20_000]])
    assert expected_calibration_error(probs[:20_000], labels) < 0.02


def test_fit_temperature_by_hand():
    z = np.array([[4.0, 0.0], [4.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
    # Three of four margin-4 predictions are right: the best top probability is 3/4, so
    # 4 / T = log 3.
    assert fit_temperature(z, np.array([0, 0, 1, 1])) == pytest.approx(4 / np.log(3), rel=1e-12)


def test_fit_temperature_matches_a_generic_optimiser():
    rng = np.random.default_rng(1)
    z = rng.normal(0, 3, (300, 5))
    labels = np.where(rng.random(300) < 0.6, z.argmax(1), rng.integers(0, 5, 300))
    T = fit_temperature(z, labels)
    best = minimize_scalar(
        lambda log_t: float(cross_entropy(z / np.exp(log_t), labels)),
        bounds=(-5, 5),
        method="bounded",
        options={"xatol": 1e-10},
    )
    assert T == pytest.approx(np.exp(best.x), rel=1e-6)
    assert cross_entropy(z / T, labels) <= best.fun + 1e-12


def test_fit_temperature_edge_cases():
    z = np.array([[1.0, 0.0], [1.0, 0.0]])
    assert fit_temperature(z, np.array([1, 1])) == np.inf  # always wrong: uniform is best
    assert fit_temperature(z, np.array([0, 0])) == 0.0  # always right: T -> 0


def test_argmax_and_accuracy_do_not_change_with_temperature():
    rng = np.random.default_rng(2)
    z = rng.normal(size=(50, 3))
    np.testing.assert_array_equal(softmax(z / 3.7).argmax(1), z.argmax(1))


def test_validation():
    with pytest.raises(ValueError, match=re.escape("`probs` must have shape (N, C); got (2,).")):
        expected_calibration_error([0.5, 0.5], [0])
    with pytest.raises(ValueError, match=re.escape("`probs` must sum to 1 along `axis`")):
        expected_calibration_error([[0.5, 0.6]], [0])
    with pytest.raises(TypeError, match=re.escape("`labels` must hold integer class indices")):
        expected_calibration_error([[0.5, 0.5]], [0.0])
    with pytest.raises(ValueError, match=re.escape("`n_bins` must be a positive int; got 0.")):
        expected_calibration_error([[0.5, 0.5]], [0], n_bins=0)
    with pytest.raises(ValueError, match=re.escape("`logits` must be finite")):
        fit_temperature([[np.inf, 0.0]], [0])
    with pytest.raises(ValueError, match=re.escape("`labels` class indices must be in [0, 2)")):
        fit_temperature([[1.0, 0.0]], [2])
