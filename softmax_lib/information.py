r"""Entropy, cross-entropy and KL divergence of probability vectors.

Every function takes probabilities (not logits) along `axis`, checks that they are
probability vectors, and uses the convention :math:`0 \log 0 = 0` exactly, without fudge
epsilons: a zero probability in `p` contributes nothing, and a zero in `q` where `p` is
positive makes the cross-entropy and the divergence ``inf``. Results are in nats, or in the
unit of `base` (``base=2`` gives bits). Each sum runs pairwise along `axis` whatever the
memory layout of the input (a Fortran-ordered array, a transposed or strided view), so the
accuracy stated on each function holds on every axis and layout.

Losses computed from logits live in :mod:`softmax_lib` (``logsumexp(z) - z @ y``); this
module is about distributions.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from softmax_lib._extended import FT
from softmax_lib._normaliser import reduced_axes_innermost
from softmax_lib._validation import (
    Axis,
    as_real_float_array,
    check_at_least_1d,
    check_base,
    check_probabilities,
    check_same_shape,
    normalize_axis,
)

__all__ = ["cross_entropy_between", "entropy", "kl_divergence"]

_WIDENED = (np.dtype(np.float16), np.dtype(np.float32))


def _distributions(
    arrays: tuple[ArrayLike, ...], names: tuple[str, ...], axis: Axis, base: object
) -> tuple[list[np.ndarray], tuple[int, ...], np.dtype, float | None]:
    """Validate one or two probability arrays; return working copies, axes, dtype, base."""
    base = check_base(base)
    arrs = [as_real_float_array(a, n) for a, n in zip(arrays, names, strict=True)]
    for arr, name in zip(arrs, names, strict=True):
        check_at_least_1d(arr, name)
    if len(arrs) == 2:
        check_same_shape(arrs[0], names[0], arrs[1], names[1])
    axes = normalize_axis(axis, arrs[0].ndim)
    for arr, name in zip(arrs, names, strict=True):
        check_probabilities(arr, name, axes)
    dtype = np.result_type(*arrs)
    work = [a.astype(np.float64) if a.dtype in _WIDENED else a for a in arrs]
    return work, axes, dtype, base


def _total(terms: np.ndarray, axes: tuple[int, ...], dtype: np.dtype, base: float | None):
    # Summed along `axes` in memory order: pairwise, whatever the layout of the input.
    total = np.sum(reduced_axes_innermost(terms, axes), axis=axes)
    if base is not None:
        total = total / math.log(base)
    return np.asarray(total).astype(dtype, copy=False)


def _log_ratio(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Return ``log(p / q)`` where ``p > 0`` (values elsewhere are irrelevant)."""
    tiny, huge = np.finfo(p.dtype).tiny, np.finfo(p.dtype).max
    with np.errstate(divide="ignore", over="ignore", invalid="ignore", under="ignore"):
        r = p / q
        out = np.log(r)
        # Where p / q overflows or underflows, |log(p / q)| > 700 and the difference of
        # logarithms loses nothing that matters; q == 0 gives +inf here, as it should.
        extreme = (r > huge) | (r < tiny)
        if extreme.any():
            out[extreme] = np.log(p[extreme]) - np.log(q[extreme])
    return out


# phi(u) = u - log1p(u) = s*u - 2*s**3 * sum_k s**(2k) / (2k + 3), with s = u / (2 + u). Near
# u = 0 the two terms of u - log1p(u) cancel (by a factor of about 2 / |u|), so the terms of
# the KL divergence use the series there and the plain formula elsewhere. They are computed in
# FT: with long double's 64-bit significands the plain formula can afford a cancellation of
# 2**5 and still keep 2**-58 (the series then needs |u| <= 1/16 and 7 terms); where long double
# is float64, the series covers u in [-0.75, 2] (|s| <= 0.6, 40 terms: 0.36**40 = 2**-59) and
# the plain formula cancels by up to a factor of 3.
_WIDE = np.finfo(FT).nmant > np.finfo(np.float64).nmant
_NEAR, _PHI_TERMS = ((-1 / 16, 1 / 16), 7) if _WIDE else ((-0.75, 2.0), 40)


def _kl_terms(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Return ``p log(p / q) - p + q`` term by term, each >= 0, in FT (or `p`'s wider dtype).

    Each term has a relative error of a few units in FT's last place: below 2**-58 with long
    double's 64-bit significands, so that their sum rounds once to float64; about 8 units
    of float64 where long double is no wider. Each entry takes one of the two formulas.
    """
    wide = np.promote_types(p.dtype, FT)
    p, q = p.astype(wide), q.astype(wide)
    terms = q.copy()  # 0 log 0 = 0 leaves the term q where p == 0
    with np.errstate(divide="ignore", over="ignore", invalid="ignore", under="ignore"):
        u = (q - p) / p  # q / p - 1, exact numerator when q / p is in [0.5, 2] (Sterbenz)
        live = p > 0
        near = live & (u >= _NEAR[0]) & (u <= _NEAR[1])
        far = live & ~near
        u, p_near = u[near], p[near]
        s = u / (2 + u)
        s2 = s * s
        poly = np.zeros_like(s2)
        for k in reversed(range(_PHI_TERMS)):
            poly = poly * s2 + wide.type(1) / wide.type(2 * k + 3)
        terms[near] = p_near * (s * u - 2 * s * s2 * poly)
        p_far, q_far = p[far], q[far]
        terms[far] = (q_far - p_far) + p_far * _log_ratio(p_far, q_far)
    return terms


def entropy(p: ArrayLike, axis: Axis = -1, *, base: float | None = None) -> NDArray[np.floating]:
    r"""Compute the Shannon entropy ``-sum(p * log(p))`` of probability vectors.

    ``entropy(p) == cross_entropy_between(p, p)``; it is 0 for a one-hot `p` and ``log(n)``
    for the uniform distribution on ``n`` outcomes, its maximum.

    Parameters
    ----------
    p : array_like, shape (..., C)
        Probabilities along `axis`: finite, non-negative, each row summing to 1 within
        ``sqrt(eps)`` of its dtype (about 1.5e-8 in float64).
    axis : int, tuple of int or None, default: -1
        Axis or axes holding the outcomes; ``None`` treats the whole array as one
        distribution (a joint distribution, for example).
    base : float or None, default: None
        Base of the logarithm: None for nats, 2 for bits.

    Returns
    -------
    ndarray
        The entropy, with the dtype of `p` and the reduced axes removed (a 0-d array for 1-d
        input).

    Raises
    ------
    TypeError
        If `p` is complex or not numeric, or `base` is not a number.
    ValueError
        If `p` is 0-d, holds a negative or non-finite entry, has a row that does not sum to 1,
        or `base` is not a finite number > 0 other than 1.

    See Also
    --------
    cross_entropy_between, kl_divergence
    scipy.stats.entropy : Normalises its input silently; this function rejects it instead.

    Notes
    -----
    .. math:: H(p) = -\sum_i p_i \log p_i, \qquad 0 \log 0 = 0.

    Every term is non-negative, so the sum has no cancellation and the result is accurate to
    a few ULPs; float16 and float32 are computed in float64 and rounded once. Unlike
    ``scipy.stats.entropy``, input that is not normalised is an error rather than being
    rescaled, because a silently rescaled vector hides a bug upstream.

    Derived in :doc:`/chapters/04-entropy`.

    Examples
    --------
    >>> from softmax_lib.information import entropy
    >>> float(entropy([0.5, 0.25, 0.25], base=2))
    1.5
    >>> float(entropy([1.0, 0.0, 0.0]))  # 0 log 0 = 0: a certain outcome
    0.0
    """
    (w,), axes, dtype, base = _distributions((p,), ("p",), axis, base)
    with np.errstate(divide="ignore"):  # log(0) is masked out by `where`
        terms = np.where(w > 0, -w * np.log(np.where(w > 0, w, 1)), 0.0)
    return _total(terms, axes, dtype, base)


def cross_entropy_between(
    p: ArrayLike, q: ArrayLike, axis: Axis = -1, *, base: float | None = None
) -> NDArray[np.floating]:
    r"""Compute the cross-entropy ``-sum(p * log(q))`` of distribution `q` relative to `p`.

    ``cross_entropy_between(p, q) == entropy(p) + kl_divergence(p, q) >= entropy(p)``
    (Gibbs' inequality), with equality only when ``q == p``.

    Parameters
    ----------
    p : array_like, shape (..., C)
        The reference ("true") probabilities along `axis`.
    q : array_like, shape (..., C)
        The model's probabilities, with the shape of `p` (no broadcasting).
    axis : int, tuple of int or None, default: -1
        Axis or axes holding the outcomes.
    base : float or None, default: None
        Base of the logarithm: None for nats, 2 for bits.

    Returns
    -------
    ndarray
        The cross-entropy, with the dtype ``result_type(p, q)``, the reduced axes removed.
        ``inf`` where `q` is 0 and `p` is not.

    Raises
    ------
    TypeError
        If `p` or `q` is complex or not numeric, or `base` is not a number.
    ValueError
        If the shapes differ, an input is 0-d, holds a negative or non-finite entry, has a
        row that does not sum to 1, or `base` is invalid.

    See Also
    --------
    entropy, kl_divergence
    softmax_lib.log_softmax : For a loss from logits, ``-sum(y * log_softmax(z))``.

    Notes
    -----
    .. math:: H(p, q) = -\sum_i p_i \log q_i, \qquad 0 \log q = 0 \text{ for every } q.

    Every term is non-negative, so the sum is accurate to a few ULPs. The name avoids a
    clash with the loss on logits, whose target plays the role of `p`.

    Derived in :doc:`/chapters/04-entropy`.

    Examples
    --------
    >>> from softmax_lib.information import cross_entropy_between
    >>> float(cross_entropy_between([1.0, 0.0], [0.5, 0.5], base=2))
    1.0
    >>> float(cross_entropy_between([0.5, 0.5], [1.0, 0.0]))  # q rules out a possible outcome
    inf
    """
    (wp, wq), axes, dtype, base = _distributions((p, q), ("p", "q"), axis, base)
    with np.errstate(divide="ignore"):  # log(0) = -inf is the right value where p > 0
        terms = np.where(wp > 0, -wp * np.log(np.where(wp > 0, wq, 1)), 0.0)
    return _total(terms, axes, dtype, base)


def kl_divergence(
    p: ArrayLike, q: ArrayLike, axis: Axis = -1, *, base: float | None = None
) -> NDArray[np.floating]:
    r"""Compute the Kullback-Leibler divergence ``sum(p * log(p / q))`` of `q` from `p`.

    ``kl_divergence(p, q) == cross_entropy_between(p, q) - entropy(p) >= 0``, zero only when
    ``q == p``. It is not symmetric: ``kl_divergence(p, q) != kl_divergence(q, p)`` in
    general.

    Parameters
    ----------
    p : array_like, shape (..., C)
        The reference probabilities along `axis`.
    q : array_like, shape (..., C)
        The approximating probabilities, with the shape of `p` (no broadcasting).
    axis : int, tuple of int or None, default: -1
        Axis or axes holding the outcomes.
    base : float or None, default: None
        Base of the logarithm: None for nats, 2 for bits.

    Returns
    -------
    ndarray
        The divergence, with the dtype ``result_type(p, q)``, the reduced axes removed.
        ``inf`` where `q` is 0 and `p` is not.

    Raises
    ------
    TypeError
        If `p` or `q` is complex or not numeric, or `base` is not a number.
    ValueError
        If the shapes differ, an input is 0-d, holds a negative or non-finite entry, has a
        row that does not sum to 1, or `base` is invalid.

    See Also
    --------
    entropy, cross_entropy_between
    scipy.special.kl_div : The terms ``p * log(p / q) - p + q`` one by one.
    scipy.special.rel_entr : The terms ``p * log(p / q)`` one by one.

    Notes
    -----
    .. math:: D_{\mathrm{KL}}(p \,\|\, q) = \sum_i p_i \log \frac{p_i}{q_i}.

    The terms of this sum have both signs and cancel when `q` is close to `p`. Because
    ``sum(p) == sum(q) == 1``, the function sums instead

    .. math:: \sum_i \Bigl(p_i \log \frac{p_i}{q_i} - p_i + q_i\Bigr),

    whose terms (SciPy's ``kl_div``) are each :math:`\ge 0`, zero exactly where
    :math:`q_i = p_i`. Near that point each term is computed from
    :math:`u = q_i/p_i - 1` by a series for :math:`u - \log(1 + u)`, so no digit is lost
    to cancellation. The terms are computed and summed in long double where that format
    is wider than float64 (64-bit significands on x86) and rounded once: the result is then
    within about half an ULP (0.54 measured) in every float format; where long double is
    float64 itself, within a few ULPs (about 6). Either way it is never negative, exactly 0
    for ``q == p``, and keeps its digits for nearby distributions, where summing
    ``rel_entr`` terms returns rounding noise. (For inputs that sum to 1 only within the
    tolerance, the two sums differ by ``sum(q) - sum(p)``, a few ULPs of 1.)

    Derived in :doc:`/chapters/04-entropy`.

    Examples
    --------
    >>> from softmax_lib.information import kl_divergence
    >>> p, q = [0.5, 0.5], [0.9, 0.1]
    >>> float(kl_divergence(p, q)), float(kl_divergence(q, p))
    (0.5108256, 0.3680642)
    """
    (wp, wq), axes, dtype, base = _distributions((p, q), ("p", "q"), axis, base)
    terms = _kl_terms(wp, wq)
    return _total(terms, axes, dtype, base)
