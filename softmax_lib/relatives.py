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
    check_temperature,
    prepare,
)
from softmax_lib.core import hardmax, softmax

__all__ = ["gumbel_max_sample", "gumbel_noise", "gumbel_softmax", "sparsemax"]


_check_rng = check_generator


def _logits(logits: ArrayLike, axis: int) -> tuple[np.ndarray, int]:
    prepared = prepare(logits, axis, "logits", one_axis=True, need_classes=True, widen=False)
    return prepared.arr, prepared.axis


def gumbel_noise(shape: tuple[int, ...], *, rng: np.random.Generator) -> NDArray[np.float64]:
    r"""Draw standard Gumbel noise ``-log(-log(U))``, ``U ~ Uniform(0, 1)``.

    Parameters
    ----------
    shape : tuple of int
        Shape of the sample.
    rng : numpy.random.Generator
        The source of randomness.

    Returns
    -------
    ndarray of float64
        Independent standard Gumbel variables (location 0, scale 1).

    Raises
    ------
    TypeError
        If `rng` is not a Generator.

    Notes
    -----
    ``U`` is drawn from the open interval, so the noise is always finite. NumPy's own
    ``Generator.gumbel`` gives the same distribution.

    Derived in :doc:`/chapters/07-limits`.

    Examples
    --------
    >>> import numpy as np
    >>> from softmax_lib.relatives import gumbel_noise
    >>> gumbel_noise((3,), rng=np.random.default_rng(0)).shape
    (3,)
    """
    rng = _check_rng(rng)
    u = rng.random(shape)
    u = np.where(u == 0.0, np.nextafter(0.0, 1.0), u)  # random() is in [0, 1): avoid log(0)
    return -np.log(-np.log(u))


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

    Derived in :doc:`/chapters/07-limits`.

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
    return np.argmax(z + gumbel_noise(shape, rng=rng), axis=-1)


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

    Derived in :doc:`/chapters/07-limits`.

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
    noisy = arr.astype(np.float64) + gumbel_noise(arr.shape, rng=rng)
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

    Derived in :doc:`/chapters/07-limits`.

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
