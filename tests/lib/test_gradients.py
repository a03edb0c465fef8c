"""Jacobians, vector-Jacobian products and the cross-entropy gradient.

Their oracle, PyTorch's autograd, is in test_against_torch.py.
"""

import mpmath
import numpy as np
import pytest

from softmax_lib import log_softmax, logsumexp, softmax
from softmax_lib.gradients import (
    cross_entropy_grad,
    log_softmax_jacobian,
    numerical_gradient,
    softmax_jacobian,
    softmax_vjp,
)
from softmax_lib.losses import cross_entropy


def test_jacobian_properties():
    rng = np.random.default_rng(0)
    for n in (2, 3, 6):
        z = rng.normal(0, 2, n)
        J = softmax_jacobian(z)
        assert np.array_equal(J, J.T)  # symmetric, exactly by construction
        assert np.abs(J @ np.ones(n)).max() < 1e-16  # rows sum to 0
        assert np.linalg.matrix_rank(J) == n - 1
        assert np.linalg.eigvalsh(J).min() > -1e-16  # positive semidefinite
        L = log_softmax_jacobian(z)
        assert not np.allclose(L, L.T)
        np.testing.assert_allclose(L, np.eye(n) - np.outer(np.ones(n), softmax(z)))


def test_batched_jacobian_moves_the_class_axis_last():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(2, 4, 3))  # classes on axis 1
    J = softmax_jacobian(z, axis=1)
    assert J.shape == (2, 3, 4, 4)
    np.testing.assert_array_equal(J[1, 2], softmax_jacobian(z[1, :, 2]))


def test_vjp_equals_v_times_the_jacobian():
    rng = np.random.default_rng(2)
    z, v = rng.normal(size=(5, 6)), rng.normal(size=(5, 6))
    expected = np.einsum("bi,bij->bj", v, softmax_jacobian(z))
    np.testing.assert_allclose(softmax_vjp(z, v), expected, atol=1e-15)
    zt, vt = z.T.copy(), v.T.copy()
    np.testing.assert_allclose(softmax_vjp(zt, vt, axis=0), expected.T, atol=1e-15)


def test_gradient_is_p_minus_y_for_one_hot_targets():
    rng = np.random.default_rng(4)
    z, t = rng.normal(size=(5, 3)), rng.integers(0, 3, 5)
    expected = softmax(z) - np.eye(3)[t]
    np.testing.assert_allclose(cross_entropy_grad(z, t, reduction="sum"), expected, atol=1e-16)


def test_cross_entropy_grad_matches_finite_differences():
    rng = np.random.default_rng(5)
    z = rng.normal(size=(3, 4))
    t = rng.integers(0, 4, 3)
    w = rng.uniform(0.5, 2, 4)

    def loss(x):
        return cross_entropy(x, t, weight=w, label_smoothing=0.1)

    np.testing.assert_allclose(
        cross_entropy_grad(z, t, weight=w, label_smoothing=0.1),
        numerical_gradient(loss, z),
        atol=1e-9,
    )


def test_numerical_gradient_of_logsumexp_is_softmax():
    z = np.array([0.3, -1.2, 2.0])
    np.testing.assert_allclose(numerical_gradient(logsumexp, z), softmax(z), atol=1e-9)
    np.testing.assert_allclose(
        numerical_gradient(lambda x: log_softmax(x)[0], z), log_softmax_jacobian(z)[0], atol=1e-9
    )


@pytest.mark.parametrize("eps", [0.0, -1e-6, np.inf])
def test_numerical_gradient_rejects_bad_steps(eps):
    with pytest.raises(ValueError, match="`eps` must be a finite number > 0"):
        numerical_gradient(logsumexp, [0.0, 1.0], eps=eps)


@pytest.mark.parametrize("eps", [True, "1e-6", None])
def test_numerical_gradient_rejects_steps_that_are_not_numbers(eps):
    with pytest.raises(TypeError, match="`eps` must be a real number"):
        numerical_gradient(logsumexp, [0.0, 1.0], eps=eps)


# The special-value policy of softmax_vjp and cross_entropy_grad (issue 30), and what
# numerical_gradient accepts from `f`: guards beside the regressions in test_regressions.py.


def test_vjp_of_minus_inf_beside_finite_logits_is_exact():
    # Not a NaN row: p = (0, softmax(1, 2)), so the -inf entry has the gradient exactly 0
    # and the others p_j (v_j - v.p), here in mpmath; v @ J agrees (J's row 0 is 0).
    x, v = [-np.inf, 1.0, 2.0], [0.25, 0.5, 0.25]
    with mpmath.workdps(50):
        e1, e2 = mpmath.e, mpmath.exp(2)
        p1, p2 = e1 / (e1 + e2), e2 / (e1 + e2)
        vp = p1 * mpmath.mpf(0.5) + p2 * mpmath.mpf(0.25)
        expected = [0.0, float(p1 * (0.5 - vp)), float(p2 * (0.25 - vp))]
    out = softmax_vjp(x, v)
    assert out[0] == 0.0
    np.testing.assert_allclose(out, expected, rtol=1e-15, atol=0)


def test_cross_entropy_grad_of_a_nan_row_that_counts_is_nan():
    # The other half of the policy: a row that takes part in the loss and has NaN logits
    # has a NaN loss and a NaN gradient.
    logits = np.array([[np.nan, 1.0, 2.0], [0.5, -1.0, 2.0]])
    assert np.isnan(cross_entropy(logits, [0, 1], reduction="none")[0])
    assert np.isnan(cross_entropy_grad(logits, [0, 1], reduction="sum")[0]).all()


def test_numerical_gradient_accepts_scalars_of_every_kind():
    # Python floats, NumPy scalars, 0-d arrays (what logsumexp returns) and mpmath numbers.
    x = np.array([0.5, -1.0])
    expected = softmax(x)  # d logsumexp / dx, by the definition
    for f in (
        lambda z: float(logsumexp(z)),
        lambda z: np.float64(logsumexp(z)),
        logsumexp,
        lambda z: mpmath.mpf(float(logsumexp(z))),
    ):
        np.testing.assert_allclose(numerical_gradient(f, x), expected, atol=1e-9)


def test_vjp_ignores_the_cotangent_of_a_zero_probability_entry():
    # p_0 = 0 exactly: row and column 0 of J are 0, so v_0 never matters, even if it is NaN
    # or infinite (v @ J would form 0 * nan); result 0 is exactly 0.
    x = [-np.inf, 1.0, 2.0]
    reference = softmax_vjp(x, [0.0, 0.5, 0.25])
    for v0 in (np.nan, np.inf, -np.inf, 1e308):
        np.testing.assert_array_equal(softmax_vjp(x, [v0, 0.5, 0.25]), reference)


def test_vjp_nan_cotangent_on_a_positive_probability_reaches_the_positive_entries():
    out = softmax_vjp([-np.inf, 1.0, 2.0], [0.0, np.nan, 0.25])
    assert out[0] == 0.0  # a zero-probability entry stays exactly 0
    assert np.isnan(out[1:]).all()
