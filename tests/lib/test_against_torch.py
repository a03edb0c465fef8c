"""Oracle tests: `softmax_lib` agrees with PyTorch in float64 (and float32 where stated).

softmax, log_softmax and logsumexp; cross_entropy and nll_loss over PyTorch's grid of options;
the Jacobians, the VJP and the cross-entropy gradient against autograd; the softmax-regression
fit against L-BFGS on nn.Linear; the bfloat16 format. Without PyTorch the module is skipped,
loudly, and under CI it is an error (`framework` in tests/helpers.py).
"""

import itertools
import zlib

import numpy as np
import pytest
from helpers import digits_sample, framework
from hypothesis import given
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.linear_model import LogisticRegression
from strategies import logits

from softmax_lib import log_softmax, logsumexp, softmax
from softmax_lib import stability as st
from softmax_lib.classifier import fit_softmax_regression, softmax_regression_objective
from softmax_lib.gradients import (
    cross_entropy_grad,
    log_softmax_jacobian,
    softmax_jacobian,
    softmax_vjp,
)
from softmax_lib.losses import cross_entropy, nll_loss

torch = framework("torch")
F = torch.nn.functional

pytestmark = pytest.mark.torch

# The tests marked so run twice: through the fused kernels and through the NumPy path.
both_paths = pytest.mark.usefixtures("both_paths")


# --- softmax, log_softmax, logsumexp ---------------------------------------------------------


@both_paths
@given(logits)
def test_softmax_and_log_softmax_match_torch_float64(x):
    t = torch.from_numpy(x)
    assert_allclose(softmax(x), torch.softmax(t, dim=-1).numpy(), rtol=0, atol=1e-12)
    scale = 1 + np.abs(x).max()
    assert_allclose(
        log_softmax(x), torch.log_softmax(t, dim=-1).numpy(), rtol=0, atol=1e-13 * scale
    )


@both_paths
@given(logits)
def test_logsumexp_matches_torch_float64(x):
    t = torch.from_numpy(x)
    assert_allclose(logsumexp(x), torch.logsumexp(t, dim=-1).numpy(), rtol=1e-13, atol=1e-13)
    dims = tuple(range(x.ndim))
    # torch loses tails (log of a sum near 1), so the slack is absolute as well as relative.
    expected = torch.logsumexp(t, dim=dims).numpy()
    assert_allclose(logsumexp(x, axis=None), expected, rtol=1e-13, atol=1e-13)


@both_paths
def test_temperature_matches_dividing_torch_logits():
    x = np.random.default_rng(11).normal(scale=5, size=(4, 6))
    expected = torch.softmax(torch.from_numpy(x) / 0.3, dim=-1).numpy()
    assert_allclose(softmax(x, temperature=0.3), expected, rtol=1e-13, atol=1e-300)


@both_paths
def test_masking_with_minus_inf_matches_torch():
    x = np.array([[0.0, -np.inf, 2.0], [-np.inf, 1.0, 1.0]])
    expected_p = torch.softmax(torch.from_numpy(x), dim=-1).numpy()
    expected_lp = torch.log_softmax(torch.from_numpy(x), dim=-1).numpy()
    assert_array_equal(softmax(x) == 0, expected_p == 0)  # the masked entries, exactly
    assert_allclose(softmax(x), expected_p, rtol=1e-15)
    assert_allclose(log_softmax(x), expected_lp, rtol=1e-15)  # -inf where torch has -inf


@both_paths
def test_all_minus_inf_row_is_nan_as_in_torch():
    x = np.array([[-np.inf, -np.inf]])
    assert np.isnan(softmax(x)).all() and torch.softmax(torch.from_numpy(x), -1).isnan().all()


# --- cross_entropy and nll_loss over PyTorch's grid (from test_losses.py) -----------------


C = 5
CE_GRID = [
    combo
    for combo in itertools.product(
        ["mean", "sum", "none"],  # reduction
        [0.0, 0.1, 1.0],  # label_smoothing
        [False, True],  # weight
        [None, 2],  # ignore_index
        ["index", "probability"],  # target kind
        [(), (6,), (3, 4)],  # extra dimensions besides the batch
    )
    if not (combo[4] == "probability" and combo[3] is not None)
]


def torch_loss(z, t, kind, **kw):
    """PyTorch's loss with its class axis at dim 1 (ours is last)."""
    zt = torch.tensor(np.moveaxis(z, -1, 1) if z.ndim > 1 else z)
    if kind == "probability":
        tt = torch.tensor(np.moveaxis(t, -1, 1) if t.ndim > 1 else t)
    else:
        tt = torch.tensor(t)
    return F.cross_entropy(zt, tt, **kw).numpy()


@both_paths
@pytest.mark.parametrize(
    ("reduction", "eps", "weighted", "ignore", "kind", "extra"),
    CE_GRID,
    ids=lambda v: str(v),
)
def test_cross_entropy_matches_torch(reduction, eps, weighted, ignore, kind, extra):
    rng = np.random.default_rng(
        zlib.crc32(repr((reduction, eps, weighted, ignore, kind, extra)).encode())
    )
    shape = (7, *extra)
    z = rng.normal(0, 3, (*shape, C))
    w = rng.uniform(0.1, 2.0, C) if weighted else None
    if kind == "index":
        t = rng.integers(0, C, shape)
        if ignore is not None:
            t.flat[::3] = ignore  # some entries ignored (2 is also a real class otherwise)
    else:
        t = rng.dirichlet(np.ones(C), size=shape)
    ours = cross_entropy(
        z, t, weight=w, ignore_index=ignore, reduction=reduction, label_smoothing=eps
    )
    theirs = torch_loss(
        z,
        t,
        kind,
        weight=None if w is None else torch.tensor(w),
        ignore_index=-100 if ignore is None else ignore,
        reduction=reduction,
        label_smoothing=eps,
    )
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=1e-15)


@both_paths
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore", [None, 0])
def test_nll_loss_matches_torch(reduction, weighted, ignore):
    rng = np.random.default_rng(3)
    z = rng.normal(0, 3, (9, C))
    t = rng.integers(0, C, 9)
    w = rng.uniform(0.1, 2.0, C) if weighted else None
    lp = log_softmax(z)
    ours = nll_loss(lp, t, weight=w, ignore_index=ignore, reduction=reduction)
    theirs = F.nll_loss(
        torch.tensor(lp),
        torch.tensor(t),
        weight=None if w is None else torch.tensor(w),
        ignore_index=-100 if ignore is None else ignore,
        reduction=reduction,
    ).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=1e-15)


@both_paths
def test_a_single_example_without_batch_axis_matches_torch():
    z = np.array([0.5, -1.0, 2.0])
    theirs = F.cross_entropy(torch.tensor(z), torch.tensor(1)).item()
    assert float(cross_entropy(z, 1)) == pytest.approx(theirs, rel=1e-15)


# --- Gradients against autograd (from test_gradients.py) ------------------------------------


def autograd_jacobian(fn, z):
    return torch.autograd.functional.jacobian(fn, torch.tensor(z)).numpy()


@pytest.mark.parametrize("n", [1, 2, 3, 7])
def test_jacobians_match_torch_autograd(n):
    z = np.random.default_rng(n).normal(0, 3, n)
    np.testing.assert_allclose(
        softmax_jacobian(z), autograd_jacobian(lambda t: torch.softmax(t, 0), z), atol=1e-15
    )
    np.testing.assert_allclose(
        log_softmax_jacobian(z),
        autograd_jacobian(lambda t: torch.log_softmax(t, 0), z),
        atol=1e-15,
    )


def test_vjp_matches_torch_backward():
    rng = np.random.default_rng(3)
    z, v = rng.normal(size=(4, 9)), rng.normal(size=(4, 9))
    zt = torch.tensor(z, requires_grad=True)
    torch.softmax(zt, -1).backward(torch.tensor(v))
    np.testing.assert_allclose(softmax_vjp(z, v), zt.grad.numpy(), atol=1e-15)


GRAD_GRID = [
    combo
    for combo in itertools.product(
        ["mean", "sum", "none"], [0.0, 0.2], [False, True], [None, 1], ["index", "probability"]
    )
    if not (combo[4] == "probability" and combo[3] is not None)
]


@pytest.mark.parametrize(("reduction", "eps", "weighted", "ignore", "kind"), GRAD_GRID, ids=str)
def test_cross_entropy_grad_matches_torch_autograd(reduction, eps, weighted, ignore, kind):
    rng = np.random.default_rng(
        len(GRAD_GRID) + GRAD_GRID.index((reduction, eps, weighted, ignore, kind))
    )
    C = 4
    z = rng.normal(0, 3, (6, C))
    w = rng.uniform(0.2, 2.0, C) if weighted else None
    if kind == "index":
        t = rng.integers(0, C, 6)
    else:
        t = rng.dirichlet(np.ones(C), size=6) * rng.uniform(0.5, 2.0)  # need not sum to 1
    kw = dict(reduction=reduction, label_smoothing=eps)
    zt = torch.tensor(z, requires_grad=True)
    loss = torch.nn.functional.cross_entropy(
        zt,
        torch.tensor(t),
        weight=None if w is None else torch.tensor(w),
        ignore_index=-100 if ignore is None else ignore,
        **kw,
    )
    loss.sum().backward()
    ours = cross_entropy_grad(z, t, weight=w, ignore_index=ignore, **kw)
    np.testing.assert_allclose(ours, zt.grad.numpy(), rtol=1e-12, atol=1e-15)


# --- Softmax regression against L-BFGS on nn.Linear (from test_classifier.py) ---------------

LAMBDA = 1e-2


@pytest.fixture(scope="module")
def digits():
    return digits_sample()


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


# --- Floating-point formats (from test_stability.py) ----------------------------------------


class TestFloatFormat:
    def test_bfloat16_matches_torch(self):
        f, ti = st.float_format("bfloat16"), torch.finfo(torch.bfloat16)
        assert (f.max, f.eps, f.smallest_normal) == (ti.max, ti.eps, ti.smallest_normal)
        # torch does not list the subnormal; it is the spacing just above zero.
        tiny = torch.tensor(f.smallest_subnormal, dtype=torch.bfloat16)
        assert float(tiny) == f.smallest_subnormal
        assert float(torch.tensor(f.smallest_subnormal / 4, dtype=torch.bfloat16)) == 0.0
