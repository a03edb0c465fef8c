r"""Softmax's relatives: Gumbel-max sampling, the Gumbel-softmax relaxation, and sparsemax.

Randomness always comes from a :class:`numpy.random.Generator` you pass in (``rng``), so every
result is reproducible from its seed.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from softmax_lib._validation import (
    check_bool,
    check_finite,
    check_generator,
    check_positive_int_or_none,
    check_sampling_logits,
    check_shape,
    check_temperature,
    prepare,
)
from softmax_lib.core import hardmax, softmax

__all__ = ["gumbel_max_sample", "gumbel_noise", "gumbel_softmax", "sparsemax"]


_check_rng = check_generator


def _logits(logits: ArrayLike, axis: int) -> tuple[np.ndarray, int]:
    prepared = prepare(logits, axis, "logits", one_axis=True, need_classes=True, widen=False)
    return prepared.arr, prepared.axis


def _open_uniform(shape: tuple[int, ...], rng: np.random.Generator, depth: int = 0) -> np.ndarray:
    """Draw Uniform(0, 1) with float64's full relative resolution, down to the subnormals.

    ``rng.random()`` returns multiples of 2**-53: below 1/2 that grid is coarser than the
    floats, and nothing lies strictly between 0 and 2**-53. A second draw V fills in the
    missing bits, ``U = (j + V) * 2**-53`` (rounded once); where j = 0 (probability 2**-53)
    the pair is replaced by a refined draw scaled by 2**-53, and so on. The result is never 0
    (the smallest subnormal stands in for the probability-2**-1074 event) and never 1.
    """
    coarse = rng.random(shape)
    fine = rng.random(shape)
    # Above 1/2 the grid of coarse is already every float, and adding could round up to 1.
    u = np.where(coarse < 0.5, coarse + fine * 2.0**-53, coarse)
    zero = coarse == 0.0
    if zero.any() and depth < 21:  # 2**(-53 * 21) lies below the smallest subnormal
        u[zero] = _open_uniform((int(zero.sum()),), rng, depth + 1) * 2.0**-53
    return np.maximum(u, _TINY)


_TINY = np.nextafter(0.0, 1.0)  # the smallest positive float, 2**-1074
_TAIL = 2.0**-20  # draws this close to 0 or 1 get the bits that rng.random() leaves out


def _tail_noise(c: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Gumbel noise for the draws `c` of ``rng.random()`` within _TAIL of 0 or 1.

    A draw c stands for the interval [c, c + 2**-53) of a continuous U, and a uniform V of
    full resolution picks the point. Near 0 the noise depends on ``U = (j + V) * 2**-53``,
    with j = c 2**53; near 1 on the small number ``1 - U = (k - 1 + V) * 2**-53``, with
    k = (1 - c) 2**53 exact (1 - V has the distribution of V). Either is a sum rounded once.
    """
    v = _open_uniform(c.shape, rng)
    upper = c > 0.5
    whole = np.where(upper, (1.0 - c) * 2.0**53 - 1.0, c * 2.0**53)  # integers below 2**33
    small = np.maximum((whole + v) * 2.0**-53, _TINY)  # 1 - U near 1, U near 0
    minus_log_u = np.where(upper, -np.log1p(-small), -np.log(small))
    return -np.log(minus_log_u)


def gumbel_noise(shape: int | tuple[int, ...], *, rng: np.random.Generator) -> NDArray[np.float64]:
    r"""Draw standard Gumbel noise ``-log(-log(U))``, ``U ~ Uniform(0, 1)``.

    Parameters
    ----------
    shape : int or tuple of int
        Shape of the sample (non-negative dimensions).
    rng : numpy.random.Generator
        The source of randomness.

    Returns
    -------
    ndarray of float64
        Independent standard Gumbel variables (location 0, scale 1), of shape `shape`.

    Raises
    ------
    TypeError
        If `rng` is not a Generator, or `shape` is not an int or a tuple of ints.
    ValueError
        If `shape` has a negative dimension.

    Notes
    -----
    ``U`` comes from one ``rng.random()`` draw, a multiple of 2**-53 in [0, 1). On that grid
    alone the noise would stop at 36.7 (a class more than about 43 below the maximum logit
    could never win the Gumbel-max race) and be coarse in its tails. So a draw within 2**-20
    of 0 or 1 (about two in a million) takes further draws that place ``U`` within its
    grid cell at float64's full resolution, down to the smallest positive float, and the
    small one of ``U`` and ``1 - U`` is passed to ``log`` or ``log1p`` directly. The noise is
    then an exact Gumbel draw to float64 resolution beyond those thresholds (up to 744.4,
    so :func:`gumbel_max_sample` can draw every class whose probability is not below the
    smallest float, with that probability), and within 2**-33 (1.2e-10) of one between them.
    It is always finite.

    Since issue 30 the rare tail draws consume further values of `rng`, so later draws from
    the same `rng` can differ from those of earlier versions; all other values are unchanged.
    NumPy's own ``Generator.gumbel`` gives the same distribution on the 2**-53 grid.

    Derived in :doc:`/chapters/08-limits`.

    Examples
    --------
    >>> import numpy as np
    >>> from softmax_lib.relatives import gumbel_noise
    >>> gumbel_noise((3,), rng=np.random.default_rng(0)).shape
    (3,)
    """
    rng = _check_rng(rng)
    dims = check_shape(shape)
    c = rng.random(dims).reshape(-1)
    g = -np.log(-np.log(np.maximum(c, _TINY)))  # random() is in [0, 1): avoid log(0)
    tails = (c < _TAIL) | (c > 1.0 - _TAIL)
    if tails.any():
        g[tails] = _tail_noise(c[tails], rng)
    return g.reshape(dims)


def gumbel_max_sample(
    logits: ArrayLike, *, rng: np.random.Generator, size: int | None = None, axis: int = -1
) -> NDArray[np.int64]:
    r"""Sample class indices from ``softmax(logits)`` by the Gumbel-max trick.

    ``argmax(logits + G)`` with independent standard Gumbel ``G`` is distributed exactly as
    ``softmax(logits)``; no normalisation, and no exponential, is computed.

    Parameters
    ----------
    logits : array_like, shape (..., C)
        Unnormalised log-probabilities; ``-inf`` marks an impossible class.
    rng : numpy.random.Generator
        The source of randomness.
    size : int, optional
        Number of samples per distribution; they form a new leading axis.
    axis : int, default: -1
        The class axis.

    Returns
    -------
    ndarray of int64
        Class indices, with shape ``logits.shape`` without `axis` (and ``(size, ...)`` first if
        `size` is given).

    Raises
    ------
    TypeError
        If `rng` is not a Generator or `logits` is not real.
    ValueError
        If `logits` is 0-d or contains NaN or ``+inf``, or a row is entirely ``-inf``.

    Notes
    -----
    .. math:: P\bigl(\arg\max_i (z_i + G_i) = k\bigr) = \frac{e^{z_k}}{\sum_j e^{z_j}} .

    The noise is added to the gaps :math:`z_i - \max_j z_j`, not to the logits (the argmax
    is the same in exact arithmetic). Added to a logit of 1e16, whose neighbouring floats are
    2 apart, noise of size 1 would be rounded away: before issue 30 the logits ``1e16 + [0,
    2]`` gave 27 % / 73 % instead of 12 % / 88 %, and ``[1e300, 1e300]`` always class 0.
    After the shift the draws follow ``softmax(logits)`` for any finite logits, each
    probability to within a few parts in 1e10: for every class that can win, the gap and
    its sum with the noise stay below about 750 in magnitude and are rounded by at most
    6e-14; the noise is within 1.2e-10 of an exact Gumbel draw, and exact in its tails, so
    that every class whose probability is not below the smallest float can be drawn (see
    :func:`gumbel_noise`); and a gap beyond the float range becomes ``-inf``, a class of
    probability below ``exp(-1e308)``, which is never drawn.

    Derived in :doc:`/chapters/08-limits`.

    Examples
    --------
    >>> import numpy as np
    >>> from softmax_lib.relatives import gumbel_max_sample
    >>> draws = gumbel_max_sample([0.0, 1000.0], rng=np.random.default_rng(0), size=5)
    >>> draws.tolist()
    [1, 1, 1, 1, 1]
    """
    rng = _check_rng(rng)
    arr, ax = _logits(logits, axis)
    z = np.moveaxis(arr, ax, -1).astype(np.float64)
    check_sampling_logits(z)
    size = check_positive_int_or_none(size, "size")
    shape = z.shape if size is None else (size, *z.shape)
    return np.argmax(_gaps(z) + gumbel_noise(shape, rng=rng), axis=-1)


def _gaps(z: np.ndarray) -> np.ndarray:
    """Return ``z`` minus its finite row maxima (along the last axis); other rows unchanged.

    Softmax, the Gumbel-max argmax and the Gumbel-softmax ignore a shift of the row, and
    noise added to a gap keeps its digits where noise added to a huge logit is rounded away.
    A row whose maximum is NaN, +inf or -inf is left as it is, to follow softmax's policy.
    """
    top = z.max(axis=-1, keepdims=True)
    # A gap beyond the float range overflows to -inf: its class has a probability below
    # exp(-1e308), which is 0 in every float format, so the result is correct by construction.
    with np.errstate(over="ignore"):
        return z - np.where(np.isfinite(top), top, 0.0)


def gumbel_softmax(
    logits: ArrayLike,
    *,
    rng: np.random.Generator,
    temperature: float = 1.0,
    hard: bool = False,
    axis: int = -1,
) -> NDArray[np.floating]:
    r"""Draw a relaxed one-hot sample: ``softmax((logits + G) / temperature)``.

    As ``temperature -> 0`` the sample tends to the one-hot vector of
    :func:`gumbel_max_sample`; as it grows, to the uniform vector.

    Parameters
    ----------
    logits : array_like, shape (..., C)
        Unnormalised log-probabilities.
    rng : numpy.random.Generator
        The source of randomness.
    temperature : float, default: 1.0
        Finite ``T > 0``.
    hard : bool, default: False
        If True, return the one-hot vector of the sample's largest entry (the forward value of
        the straight-through estimator; the gradient trick itself needs an autodiff framework).
    axis : int, default: -1
        The class axis.

    Returns
    -------
    ndarray
        A point of the probability simplex along `axis` (one-hot if `hard`), with the shape
        and dtype of `logits`.

    Raises
    ------
    TypeError, ValueError
        For an invalid `rng`, `logits`, `temperature`, `hard` or `axis`.

    Notes
    -----
    Introduced independently by Jang, Gu and Poole (2017) and by Maddison, Mnih and Teh
    (2017, as the "Concrete" distribution).

    As in :func:`gumbel_max_sample`, the noise is added to the gaps below each row's maximum
    (the result is the same in exact arithmetic): before issue 30, noise added to logits such
    as ``[1e300, 1e300]`` was rounded away, and every sample was ``[0.5, 0.5]`` (with
    ``hard=True``, always class 0). A row holding NaN or ``+inf`` gives NaN, as softmax does.

    Derived in :doc:`/chapters/08-limits`.

    Examples
    --------
    >>> import numpy as np
    >>> from softmax_lib.relatives import gumbel_softmax
    >>> y = gumbel_softmax([1.0, 2.0, 3.0], rng=np.random.default_rng(0), temperature=0.5)
    >>> float(y.sum())
    1.0
    """
    rng = _check_rng(rng)
    temperature = check_temperature(temperature)
    hard = check_bool(hard, "hard")
    arr, ax = _logits(logits, axis)
    gaps = np.moveaxis(_gaps(np.moveaxis(arr, ax, -1).astype(np.float64)), -1, ax)
    noisy = gaps + gumbel_noise(arr.shape, rng=rng)
    if hard:
        return hardmax(noisy, axis=ax).astype(arr.dtype)
    return softmax(noisy, axis=ax, temperature=temperature).astype(arr.dtype)


def sparsemax(logits: ArrayLike, axis: int = -1) -> NDArray[np.floating]:
    r"""Project logits onto the probability simplex: the sparse alternative to softmax.

    ``sparsemax(z) = argmin_{p in simplex} ||p - z||^2``, which is ``max(z - tau, 0)`` for
    the unique threshold ``tau`` that makes the entries sum to 1. Entries below ``tau`` are
    exactly 0.

    Parameters
    ----------
    logits : array_like, shape (..., C)
        Finite real scores.
    axis : int, default: -1
        The class axis.

    Returns
    -------
    ndarray
        Probabilities with the shape and dtype of `logits` (float64 for integers), summing to
        1 along `axis`, with exact zeros.

    Raises
    ------
    TypeError
        If `logits` is not real.
    ValueError
        If `logits` is 0-d, has an empty class axis, or contains NaN or infinity.

    Notes
    -----
    With :math:`z_{(1)} \ge z_{(2)} \ge \dots` sorted, the support size is
    :math:`k = \max\{j : 1 + j z_{(j)} > \sum_{i \le j} z_{(i)}\}` and
    :math:`\tau = (\sum_{i \le k} z_{(i)} - 1)/k` (Martins and Astudillo, 2016). Sorting
    costs :math:`O(C \log C)`. Unlike softmax, sparsemax is not invariant to scaling, only
    to adding a constant.

    Derived in :doc:`/chapters/08-limits`.

    Examples
    --------
    >>> from softmax_lib.relatives import sparsemax
    >>> sparsemax([1.0, 0.5, -1.0])
    array([0.75, 0.25, 0.  ])
    """
    arr, ax = _logits(logits, axis)
    z = np.moveaxis(arr, ax, -1).astype(np.float64)
    check_finite(z, "logits", " for sparsemax")
    # Sparsemax ignores a shared offset, so shift by the maximum first: the support test
    # then compares numbers of the size of the gaps, not of the logits (1e16 + 1 == 1e16).
    # A gap beyond the float range becomes -inf, which is simply outside the support.
    with np.errstate(over="ignore"):
        z = z - z.max(axis=-1, keepdims=True)
    z_sorted = -np.sort(-z, axis=-1)
    with np.errstate(invalid="ignore"):  # -inf + -inf stays -inf; nothing else is invalid
        cumulative = np.cumsum(z_sorted, axis=-1)
    j = np.arange(1, z.shape[-1] + 1)
    in_support = 1 + j * z_sorted > cumulative
    k = np.sum(in_support, axis=-1, keepdims=True)  # the condition holds for a prefix
    tau = (np.take_along_axis(cumulative, k - 1, axis=-1) - 1) / k
    p = np.maximum(z - tau, 0.0)
    return np.moveaxis(p, -1, ax).astype(arr.dtype)
