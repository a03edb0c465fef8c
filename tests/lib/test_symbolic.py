"""The symbolic proofs hold, and fail when a formula is altered."""

import pytest
import sympy as sp

from softmax_lib import symbolic as S


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_softmax_jacobian_is_diag_p_minus_ppT(n):
    assert S.matrices_equal(S.jacobian(S.softmax_exprs(n), n), S.softmax_jacobian_closed_form(n))


@pytest.mark.parametrize("n", [2, 3, 4])
def test_log_softmax_jacobian_is_identity_minus_one_pT(n):
    derived = S.jacobian(S.log_softmax_exprs(n), n)
    assert S.matrices_equal(derived, S.log_softmax_jacobian_closed_form(n))
    assert not S.matrices_equal(derived, derived.T)  # not symmetric


@pytest.mark.parametrize("n", [2, 3, 4])
def test_lse_gradient_is_softmax_and_hessian_is_the_jacobian(n):
    grad = S.gradient(S.lse_expr(n), n)
    assert S.matrices_equal(grad, sp.Matrix(S.softmax_exprs(n)))
    hessian = grad.jacobian(sp.Matrix(S.logits(n)))
    assert S.matrices_equal(hessian, S.softmax_jacobian_closed_form(n))


@pytest.mark.parametrize("n", [2, 3, 4])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothed", [False, True])
def test_cross_entropy_gradient_closed_form(n, weighted, smoothed):
    loss = S.cross_entropy_expr(n, weighted=weighted, smoothed=smoothed)
    claimed = S.cross_entropy_grad_closed_form(n, weighted=weighted, smoothed=smoothed)
    assert S.matrices_equal(S.gradient(loss, n), claimed)


# The proofs must be able to fail: altered formulas are rejected.


@pytest.mark.parametrize("n", [2, 3])
def test_altered_jacobians_are_rejected(n):
    derived = S.jacobian(S.softmax_exprs(n), n)
    p = sp.Matrix(S.softmax_exprs(n))
    assert not S.matrices_equal(derived, sp.diag(*p) + p * p.T)  # wrong sign
    assert not S.matrices_equal(derived, sp.diag(*p))  # the element-wise mistake
    assert not S.matrices_equal(derived, S.log_softmax_jacobian_closed_form(n))
    assert not S.matrices_equal(derived, sp.zeros(n + 1, n))  # wrong shape


def test_altered_gradients_are_rejected():
    n = 3
    y = sp.Matrix(sp.symbols("y1:4", real=True))
    p = sp.Matrix(S.softmax_exprs(n))
    grad = S.gradient(S.cross_entropy_expr(n), n)
    assert not S.matrices_equal(grad, p - y)  # only true when sum(y) == 1
    assert S.matrices_equal(grad.subs(y[2], 1 - y[0] - y[1]), (p - y).subs(y[2], 1 - y[0] - y[1]))
    assert not S.matrices_equal(grad, y - p)


def test_is_zero_on_its_own():
    z1, z2 = S.logits(2)
    assert S.is_zero(sp.exp(z1) * sp.exp(z2) - sp.exp(z1 + z2))
    assert S.is_zero(sp.log(sp.exp(z1) * 2) - z1 - sp.log(2))
    assert not S.is_zero(sp.exp(z1) - sp.exp(z2))
    assert not S.is_zero(z1 - z2)


def test_temperature_scaled_softmax():
    T = sp.Symbol("T", positive=True)
    n = 3
    p = sp.Matrix(S.softmax_exprs(n, temperature=T))
    derived = p.jacobian(sp.Matrix(S.logits(n)))
    assert S.matrices_equal(derived, (sp.diag(*p) - p * p.T) / T)
    assert not S.matrices_equal(derived, sp.diag(*p) - p * p.T)


def test_logits_needs_a_positive_int():
    with pytest.raises(ValueError, match=r"`n` must be a positive int; got 0\."):
        S.logits(0)
