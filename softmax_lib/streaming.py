r"""Softmax in fewer passes: the online normaliser and blockwise (tiled) softmax.

The max-shifted softmax reads its input three times: once for the maximum, once for the sum
of exponentials, once to write the result. The *online* normaliser (Milakov and Gimelshein,
2018) keeps a running maximum ``m`` and a running sum ``s`` and rescales the sum whenever the
maximum grows, so one pass yields both. Blocks of a row, or blocks of keys in attention, can
be processed independently and their partial results merged; this is the idea that lets
FlashAttention compute ``softmax(Q K^T) V`` without ever storing the attention matrix.

These functions are for teaching and for streaming data. They are as accurate as the
max-shifted formula (log-sum-exp within a few ULPs; probabilities within about ``|x - m|``
ULPs), because they skip the error-free corrections of :func:`softmax_lib.softmax`.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from softmax_lib._validation import (
    as_real_float_array,
    check_at_least_1d,
    check_attention_shapes,
    check_entries,
    check_finite,
    check_finite_scores,
    check_positive_int,
)

__all__ = ["blocked_attention", "merge_normalisers", "online_logsumexp", "online_softmax"]


def _check_block_size(block_size: object) -> int:
    return check_positive_int(block_size, "block_size")


def merge_normalisers(
    m_a: ArrayLike, s_a: ArrayLike, m_b: ArrayLike, s_b: ArrayLike
) -> tuple[NDArray[np.floating], NDArray[np.floating]]:
    r"""Merge two partial normalisers ``(m, s)``, each meaning ``s * exp(m)``.

    Parameters
    ----------
    m_a, s_a, m_b, s_b : array_like
        Running maxima and sums of two disjoint parts of the same rows (``m = -inf``,
        ``s = 0`` for an empty part).

    Returns
    -------
    (m, s) : tuple of ndarray
        ``m = max(m_a, m_b)`` and ``s = s_a exp(m_a - m) + s_b exp(m_b - m)``, so that
        ``log(s) + m`` is the log-sum-exp of the union. The merge is associative and
        commutative (up to rounding).

    Notes
    -----
    .. math:: (m, s) = \Bigl(\max(m_a, m_b),\; s_a e^{m_a - m} + s_b e^{m_b - m}\Bigr)

    Derived in :doc:`/chapters/10-fast-softmax`.

    Examples
    --------
    >>> import numpy as np
    >>> from softmax_lib.streaming import merge_normalisers
    >>> m, s = merge_normalisers(0.0, 1.0, np.log(3.0), 1.0)  # e^0 + e^log 3 = 4
    >>> float(m + np.log(s)), float(np.log(4.0))
    (1.3862943611198906, 1.3862943611198906)
    """
    m_a, s_a, m_b, s_b = (
        as_real_float_array(v, name).astype(np.result_type(v, np.float64), copy=False)
        for v, name in ((m_a, "m_a"), (s_a, "s_a"), (m_b, "m_b"), (s_b, "s_b"))
    )
    m = np.maximum(m_a, m_b)
    safe = np.where(np.isneginf(m), 0.0, m)  # both parts empty: keep s = 0, no NaN
    # exp of a difference that overflows to -inf is 0, the right weight for that part.
    with np.errstate(invalid="ignore", over="ignore"):
        s = s_a * np.exp(m_a - safe) + s_b * np.exp(m_b - safe)
    return m, s


def _rows(x: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    arr = as_real_float_array(x, "x")
    check_at_least_1d(arr, "x")
    check_finite(arr, "x", " for the streaming functions")
    rows = arr.reshape(math.prod(arr.shape[:-1]), arr.shape[-1])  # -1 fails for 0 entries
    return arr, rows.astype(np.float64)


def online_logsumexp(x: ArrayLike, *, block_size: int = 4096) -> NDArray[np.floating]:
    r"""Compute log-sum-exp along the last axis in one pass, block by block.

    Parameters
    ----------
    x : array_like, shape (..., C)
        Finite logits.
    block_size : int, default: 4096
        Entries of each row read per step; ``block_size=1`` is the element-wise online
        algorithm, ``block_size >= C`` is the ordinary two-pass one.

    Returns
    -------
    ndarray, shape (...)
        The log-sum-exp of each row, in the dtype of `x`.

    Raises
    ------
    ValueError
        If `x` is 0-d, empty along the last axis, not finite, or `block_size` is invalid.

    Notes
    -----
    Each block contributes its own maximum and shifted sum, merged into the running pair with
    :func:`merge_normalisers`; the input is read once.

    Derived in :doc:`/chapters/10-fast-softmax`.

    Examples
    --------
    >>> from softmax_lib.streaming import online_logsumexp
    >>> float(online_logsumexp([1000.0, 1000.0], block_size=1))  # 1000 + log 2
    1000.6931471805599
    """
    arr, rows = _rows(x)
    m, s = _online_normaliser(rows, block_size)
    return (m + np.log(s)).reshape(arr.shape[:-1]).astype(arr.dtype)


def _online_normaliser(rows: np.ndarray, block_size: object) -> tuple[np.ndarray, np.ndarray]:
    """Return the running pair ``(m, s)`` of each row after one pass, block by block."""
    block_size = _check_block_size(block_size)
    check_entries(rows.shape[1], "x")
    m = np.full(rows.shape[0], -np.inf)
    s = np.zeros(rows.shape[0])
    for start in range(0, rows.shape[1], block_size):
        block = rows[:, start : start + block_size]
        m_block = block.max(axis=1)
        with np.errstate(over="ignore"):  # a gap beyond the float range: exp gives 0, rightly
            s_block = np.exp(block - m_block[:, None]).sum(axis=1)
        m, s = merge_normalisers(m, s, m_block, s_block)
    return m, s


def online_softmax(x: ArrayLike, *, block_size: int = 4096) -> NDArray[np.floating]:
    r"""Compute softmax along the last axis with a one-pass normaliser (two passes in all).

    Parameters
    ----------
    x : array_like, shape (..., C)
        Finite logits.
    block_size : int, default: 4096
        As for :func:`online_logsumexp`.

    Returns
    -------
    ndarray
        Probabilities with the shape and dtype of `x`.

    Raises
    ------
    ValueError
        As for :func:`online_logsumexp`.

    Notes
    -----
    Pass one computes ``(m, s)`` online; pass two writes ``exp(x - m) / s``. The max-shifted
    formula needs three passes (maximum, sum, output).

    Derived in :doc:`/chapters/10-fast-softmax`.

    Examples
    --------
    >>> from softmax_lib.streaming import online_softmax
    >>> online_softmax([1.0, 1.0, 1.0, 1.0], block_size=3)
    array([0.25, 0.25, 0.25, 0.25])
    """
    arr, rows = _rows(x)
    m, s = _online_normaliser(rows, block_size)
    # exp(x - m) / s, as documented; not exp(x - lse): near large logits lse is rounded to the
    # spacing of floats there, and that absolute error would land in every exponent.
    with np.errstate(over="ignore"):  # as in _online_normaliser
        p = np.exp(rows - m[:, None]) / s[:, None]
    return p.reshape(arr.shape).astype(arr.dtype)


def blocked_attention(
    q: ArrayLike, k: ArrayLike, v: ArrayLike, *, block_size: int = 64
) -> NDArray[np.float64]:
    r"""Compute ``softmax(q @ k.T / sqrt(d)) @ v`` one block of keys at a time.

    Never forms the full ``(n_q, n_k)`` attention matrix: for each block of keys it computes
    the block's scores, updates a running maximum and sum per query, rescales the running
    output, and adds the block's contribution (the FlashAttention recurrence, on the CPU).

    Derived in :doc:`/chapters/10-fast-softmax`.

    Parameters
    ----------
    q : array_like, shape (n_q, d)
        Queries.
    k : array_like, shape (n_k, d)
        Keys.
    v : array_like, shape (n_k, d_v)
        Values.
    block_size : int, default: 64
        Keys per block.

    Returns
    -------
    ndarray of float64, shape (n_q, d_v)
        The attention output.

    Raises
    ------
    ValueError
        If the shapes do not match or `block_size` is invalid.

    Examples
    --------
    >>> import numpy as np
    >>> from softmax_lib.streaming import blocked_attention
    >>> q = k = np.eye(2)
    >>> v = np.array([[1.0], [3.0]])
    >>> blocked_attention(q, k, v, block_size=1).round(4)
    array([[1.6604],
           [2.3396]])
    """
    block_size = _check_block_size(block_size)
    q, k, v = (
        as_real_float_array(a, name).astype(np.float64, copy=False)
        for a, name in ((q, "q"), (k, "k"), (v, "v"))
    )
    check_attention_shapes(q, k, v)
    for array, name in ((q, "q"), (k, "k"), (v, "v")):
        check_finite(array, name, " for attention")
    scale = 1.0 / np.sqrt(q.shape[1]) if q.shape[1] else 1.0  # d = 0: every score is 0
    m = np.full(len(q), -np.inf)
    s = np.zeros(len(q))
    out = np.zeros((len(q), v.shape[1]))
    for start in range(0, len(k), block_size):
        with np.errstate(over="ignore"):
            scores = (q @ k[start : start + block_size].T) * scale
        check_finite_scores(scores)
        m_new = np.maximum(m, scores.max(axis=1))
        rescale = np.exp(m - m_new)  # exp(-inf) = 0 on the first block
        weights = np.exp(scores - m_new[:, None])
        s = s * rescale + weights.sum(axis=1)
        out = out * rescale[:, None] + weights @ v[start : start + block_size]
        m = m_new
    return out / s[:, None]
