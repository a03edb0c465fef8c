"""The NumPy path of softmax, log-softmax and log-sum-exp, and the normaliser they share.

Shift by the maximum, recover the rounding error of that shift exactly (TwoSum), exponentiate,
and keep the maximal terms apart from the tail so that ``log1p`` sees the tail at full
precision; masks (``where=``) enter here as logits of ``-inf``. :mod:`softmax_lib._dispatch`
sends here what the fused kernels do not compute; each function takes its input prepared
(checked) once by the public function.

The sums run along the reduced axes in memory order (:func:`reduced_axes_innermost`), so
that NumPy sums them pairwise whatever the axis and the layout of the input.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from softmax_lib._extended import refine_near_zero
from softmax_lib._validation import WIDENED, Prepared


def unpack(p: Prepared) -> tuple[np.ndarray, np.ndarray, tuple[int, ...], bool]:
    return p.arr, p.work, p.axes, p.empty


class Normaliser(NamedTuple):
    """The pieces of ``log(sum(exp(w / T)))`` over the reduced axes (all with keepdims)."""

    m: np.ndarray  # the maximum
    finite: np.ndarray  # where m is finite
    d: np.ndarray  # (w - m) / T, rounded
    e: np.ndarray | None  # its rounding error (TwoSum), or None when not corrected
    t: np.ndarray  # exp(d), corrected by e
    s: np.ndarray  # sum(t)
    log_s: np.ndarray  # log(s), from the tail with log1p


def apply_where(work: np.ndarray, mask: np.ndarray | None, axes: tuple[int, ...]):
    """Give masked-out entries the logit -inf; return it and where a whole row is masked.

    `mask` is checked and broadcast already (:attr:`Prepared.mask`). Masked entries then take
    no part in any sum or maximum (a NaN there is ignored too), and get probability exactly
    0 and log-probability -inf. Returns ``(work, None)`` when `mask` is None.
    """
    if mask is None:
        return work, None
    nothing_left = ~np.any(mask, axis=axes, keepdims=True)
    return np.where(mask, work, -np.inf).astype(work.dtype, copy=False), nothing_left


def _widened(p: Prepared) -> np.ndarray:
    """Return the working array: float16 and float32 in float64, other dtypes as they are."""
    return p.work.astype(np.float64) if p.work.dtype in WIDENED else p.work


def numpy_logsumexp(p: Prepared, temperature: float = 1.0) -> np.ndarray:
    """Log-sum-exp of `p` along its axes on the NumPy path, the axes kept (length 1)."""
    arr, axes = p.arr, p.axes
    work, _ = apply_where(_widened(p), p.mask, axes)  # an all-masked row is all -inf: -inf
    if p.empty:
        shape = tuple(1 if i in axes else n for i, n in enumerate(arr.shape))
        return np.full(shape, -np.inf, dtype=arr.dtype)
    # inf - inf and overflows occur only in rows overwritten or right by construction.
    with np.errstate(over="ignore", invalid="ignore", under="ignore", divide="ignore"):
        n = normaliser(work, axes, correct=arr.dtype not in WIDENED)
        out = np.where(n.finite, n.m + n.log_s, n.m)
    return refine_near_zero(work, axes, n.m, out).astype(arr.dtype)


def numpy_softmax(p: Prepared, temperature: float = 1.0) -> np.ndarray:
    """Softmax of `p` along its axes on the NumPy path."""
    arr = p.arr
    work, nothing_left = apply_where(_widened(p), p.mask, p.axes)
    if p.empty:
        return arr.copy()
    with np.errstate(over="ignore", invalid="ignore", under="ignore", divide="ignore"):
        # See logsumexp: every warning inside comes from a row that is overwritten with NaN
        # or from an underflow whose rounded result (0 or a subnormal) is the right answer.
        n = normaliser(work, p.axes, correct=arr.dtype not in WIDENED, temperature=temperature)
        t, finite = n.t, n.finite
        t /= n.s
        if not finite.all():
            t = np.where(finite, t, np.nan)
        if nothing_left is not None:
            t = np.where(nothing_left, 0.0, t)  # every entry masked: zeros, as in JAX
        return t.astype(arr.dtype, copy=False)


def numpy_log_softmax(p: Prepared, temperature: float = 1.0) -> np.ndarray:
    """Log-softmax of `p` along its axes on the NumPy path."""
    arr = p.arr
    work, nothing_left = apply_where(_widened(p), p.mask, p.axes)
    if p.empty:
        return arr.copy()
    with np.errstate(over="ignore", invalid="ignore", under="ignore", divide="ignore"):
        # See logsumexp for why these warnings are silenced.
        n = normaliser(work, p.axes, correct=arr.dtype not in WIDENED, temperature=temperature)
        d, finite = n.d, n.finite
        d -= n.log_s
        if n.e is not None:
            d += n.e
        if not finite.all():
            d = np.where(finite, d, np.nan)
        if nothing_left is not None:
            d = np.where(nothing_left, -np.inf, d)  # every entry masked: -inf, as in JAX
        return d.astype(arr.dtype, copy=False)


def reduced_axes_innermost(w: np.ndarray, axes: tuple[int, ...]) -> np.ndarray:
    """`w` itself, or a copy of it whose reduced `axes` are innermost in memory (same shape).

    ``np.sum`` adds pairwise (error growing like ``log2(n)``) only along the axis it loops over
    innermost, which is the axis of smallest stride; along any other axis it keeps one
    running sum per output, whose error grows like ``n``: about 21 ULPs in a softmax over
    1025 entries of a C-ordered array's first axis. The copy puts the reduced axes last in
    memory (C order) and moves them back, so the shape, and every index, is unchanged.
    No copy when they already are, as for the last axis of a C-ordered array (the common
    case, checked first) or the first axis of a Fortran-ordered one.
    """
    last = tuple(range(w.ndim - len(axes), w.ndim))
    if axes == last and w.flags.c_contiguous:
        return w
    moved = np.moveaxis(w, axes, last)
    if moved.flags.c_contiguous:
        return w
    return np.moveaxis(np.ascontiguousarray(moved), last, axes)


def normaliser(
    w: np.ndarray, axes: tuple[int, ...], *, correct: bool = True, temperature: float = 1.0
):
    """Return the pieces of ``log(sum(exp(w / temperature)))`` over `axes` (keepdims).

    Returns a :class:`Normaliser`: ``m`` is the maximum, ``finite`` says where ``m`` is
    finite, ``d + e == w - m`` exactly (TwoSum), ``t ~ exp(w - m)``, ``s = sum(t)`` and
    ``log_s = log(s)`` computed from the tail with ``log1p``. Rows where ``m`` is not finite
    hold meaningless values; callers overwrite them.

    With ``correct=False`` the TwoSum correction is skipped and ``e`` is None. That is exact
    enough when `w` holds float16 or float32 values widened to float64: the rounding error
    of ``w - m`` is then below ``745 * 2**-53`` relative in ``exp``, far below half a float32
    ULP. Temporaries are reused in place to save memory traffic.

    A temperature divides the shifted differences, ``(w - m) / T``, never `w` itself: ``w / T``
    can overflow for finite logits (``1e308 / 0.5``), which is not an infinite logit. Where
    ``w - m`` itself overflows, ``(w / 2 - m / 2) / T * 2`` is used; a quotient that overflows
    to ``-inf`` is a difference whose exponential is 0, rightly.

    Every returned array is laid out with the reduced axes innermost in memory (see
    :func:`reduced_axes_innermost`), so the sums are pairwise on every axis and layout.
    """
    w = reduced_axes_innermost(w, axes)
    m = np.max(w, axis=axes, keepdims=True)
    finite = np.isfinite(m)
    shift = m if finite.all() else np.where(finite, m, 0.0).astype(w.dtype)
    d = w - shift
    e = None
    if correct:
        # TwoSum (Knuth): e is the exact rounding error of d = w - shift, computed as
        # e = (w - (d - (d - w))) - (shift + (d - w)), reusing two temporaries.
        b_virtual = d - w
        e = np.subtract(d, b_virtual)
        np.subtract(w, e, out=e)
        np.add(b_virtual, shift, out=b_virtual)
        np.subtract(e, b_virtual, out=e)
        del b_virtual
        # e is NaN or infinite only where d is infinite (infinite input or an overflowing
        # difference); there the correction is irrelevant and must not poison the result.
        np.nan_to_num(e, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    if temperature != 1.0:
        overflowed = np.isneginf(d) & np.isfinite(w) & finite
        np.divide(d, temperature, out=d)
        if e is not None:
            np.divide(e, temperature, out=e)
        if overflowed.any():
            halves = (np.broadcast_to(w, d.shape) / 2 - shift / 2) / temperature * 2
            d[overflowed] = halves[overflowed]
    t = np.exp(d)
    if correct:
        correction = np.multiply(t, e)
        t += correction  # exp(d + e) to first order; |e| <= ulp(d) / 2
        del correction
    is_max = w == m
    n_max = np.count_nonzero(is_max, axis=axes, keepdims=True)
    # The tail (non-maximal terms) is summed on its own, so log1p keeps it when it is tiny.
    tail = np.sum(t, axis=axes, keepdims=True, where=~is_max)
    s = n_max + tail
    log_s = np.log1p(tail + (n_max - 1))
    return Normaliser(m, finite, d, e, t, s, log_s)
