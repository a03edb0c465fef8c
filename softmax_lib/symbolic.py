r"""Symbolic softmax, log-sum-exp and cross-entropy, and the derivatives the book proves.

Requires SymPy, which this module imports; ``import softmax_lib`` does not import it. Every
function builds expressions in symbols ``z1, ..., zn`` (logits), ``y1, ..., yn`` (target),
``w1, ..., wn`` (class weights) and ``epsilon`` (label smoothing), so that an identity proved
for them holds for all real values, not just for sampled numbers.

:func:`is_zero` is the proof step: it rewrites every ``exp(z_i)`` as a positive symbol, which
turns a derivative of softmax into a rational function, and decides whether that function is
identically zero exactly (``cancel``), without numerical sampling.
"""

from __future__ import annotations

import sympy as sp

from softmax_lib._validation import check_positive_int

__all__ = [
    "cross_entropy_expr",
    "cross_entropy_grad_closed_form",
    "gradient",
    "is_zero",
    "jacobian",
    "log_softmax_exprs",
    "log_softmax_jacobian_closed_form",
    "logits",
    "lse_expr",
    "matrices_equal",
    "softmax_exprs",
    "softmax_jacobian_closed_form",
]


def logits(n: int) -> tuple[sp.Symbol, ...]:
    """Return the real symbols ``z1, ..., zn``."""
    n = check_positive_int(n, "n")
    return sp.symbols(f"z1:{n + 1}", real=True)


def lse_expr(n: int) -> sp.Expr:
    r"""Return :math:`\log \sum_i e^{z_i}` in the symbols of :func:`logits`."""
    return sp.log(sum(sp.exp(zi) for zi in logits(n)))


def softmax_exprs(n: int, *, temperature: sp.Expr | None = None) -> list[sp.Expr]:
    r"""Return :math:`p_i = e^{z_i/T} / \sum_j e^{z_j/T}` for ``i = 1..n`` (default ``T = 1``)."""
    z = logits(n)
    scaled = z if temperature is None else [zi / temperature for zi in z]
    total = sum(sp.exp(si) for si in scaled)
    return [sp.exp(si) / total for si in scaled]


def log_softmax_exprs(n: int) -> list[sp.Expr]:
    r"""Return :math:`z_i - \log \sum_j e^{z_j}`, the logarithm of each softmax entry."""
    lse = lse_expr(n)
    return [zi - lse for zi in logits(n)]


def jacobian(outputs: list[sp.Expr], n: int) -> sp.Matrix:
    """Differentiate: entry ``(i, j)`` is ``d outputs[i] / d z_j`` (numerator layout)."""
    return sp.Matrix(outputs).jacobian(sp.Matrix(logits(n)))


def gradient(expr: sp.Expr, n: int) -> sp.Matrix:
    """Return the column of partial derivatives of a scalar ``expr`` in ``z1, ..., zn``."""
    return sp.Matrix([sp.diff(expr, zi) for zi in logits(n)])


def softmax_jacobian_closed_form(n: int) -> sp.Matrix:
    r"""Return :math:`\operatorname{diag}(p) - p p^\top`, in terms of the softmax expressions."""
    p = sp.Matrix(softmax_exprs(n))
    return sp.diag(*p) - p * p.T


def log_softmax_jacobian_closed_form(n: int) -> sp.Matrix:
    r"""Return :math:`I - \mathbf{1} p^\top`."""
    p = sp.Matrix(softmax_exprs(n))
    return sp.eye(n) - sp.ones(n, 1) * p.T


def _target_coefficients(n: int, weighted: bool, smoothed: bool) -> tuple[list, list[sp.Expr]]:
    y = list(sp.symbols(f"y1:{n + 1}", real=True))
    w = sp.symbols(f"w1:{n + 1}", positive=True) if weighted else [1] * n
    eps = sp.Symbol("epsilon", nonnegative=True)
    targets = [(1 - eps) * yi + eps / n for yi in y] if smoothed else y
    return y, [wi * ti for wi, ti in zip(w, targets, strict=True)]


def cross_entropy_expr(n: int, *, weighted: bool = False, smoothed: bool = False) -> sp.Expr:
    r"""Return :math:`-\sum_c A_c \log p_c` for one example.

    :math:`A_c = w_c \bigl((1 - \varepsilon) y_c + \varepsilon / n\bigr)` with the optional
    weights and smoothing; the target ``y`` is general (a one-hot or probability target is a
    special value of it).
    """
    _, coeff = _target_coefficients(n, weighted, smoothed)
    return -sum(a * lp for a, lp in zip(coeff, log_softmax_exprs(n), strict=True))


def cross_entropy_grad_closed_form(
    n: int, *, weighted: bool = False, smoothed: bool = False
) -> sp.Matrix:
    r"""Return :math:`(\sum_c A_c)\, p - A`, the claimed gradient of :func:`cross_entropy_expr`."""
    _, coeff = _target_coefficients(n, weighted, smoothed)
    a = sp.Matrix(coeff)
    p = sp.Matrix(softmax_exprs(n))
    return sum(coeff) * p - a


def is_zero(expr: sp.Expr) -> bool:
    """Decide exactly whether ``expr`` (in logits and other symbols) is identically zero.

    Logarithms of products are expanded, each ``exp(z_i)`` becomes a positive symbol, and the
    resulting rational function is put over a common denominator: it is zero exactly when its
    numerator cancels.
    """
    expr = sp.expand_log(sp.sympify(expr), force=True)
    exps = {e for e in expr.atoms(sp.exp)}
    positive = {e: sp.Dummy(positive=True) for e in exps}
    rational = expr.xreplace(positive)
    if sp.cancel(sp.together(rational)) == 0:
        return True
    return sp.simplify(expr) == 0


def matrices_equal(a: sp.Matrix, b: sp.Matrix) -> bool:
    """Return True when ``a - b`` is identically zero, entry by entry (see :func:`is_zero`)."""
    if a.shape != b.shape:
        return False
    return all(is_zero(entry) for entry in a - b)
