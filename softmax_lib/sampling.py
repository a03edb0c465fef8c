r"""Next-token sampling from logits: temperature, top-k, top-p (nucleus) and min-p filtering.

A language model's decoder turns a row of logits into one token. These helpers keep the work in
log space: the filters compare log-probabilities from :func:`softmax_lib.log_softmax`, never
probabilities that may have underflowed, and remove a token by setting its logit to ``-inf``,
so the result can be fed to any softmax or to the Gumbel-max sampler.

Semantics (each filter keeps at least the most probable token, so a row is never emptied):

* ``temperature``: the logits are divided by ``T`` first, and every filter sees ``z / T``.
* ``top_k``: keep every token whose logit is at least the ``k``-th largest (tokens tied with it
  are kept, so more than ``k`` may remain); ``k >= C`` keeps all.
* ``top_p``: keep token ``i`` if the total probability of the tokens *strictly* more probable
  than ``i`` (a strictly larger logit) is below ``p``: the smallest "nucleus" reaching ``p``,
  with ties at its edge kept; ``p = 1`` keeps every token.
* ``min_p``: keep token ``i`` if ``p_i >= min_p * max_j p_j``, tested as
  ``log p_i - log p_max >= log(min_p)``.

When several are given they are applied together: a token is kept only if every filter keeps
it, each computed on the same distribution ``softmax(z / T)``.

Builds on the Gumbel-max trick of :doc:`/chapters/08-limits`; used in
:doc:`/chapters/09-attention` to sample from a small language model.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from softmax_lib._validation import (
    check_generator,
    check_min_p,
    check_positive_int,
    check_positive_int_or_none,
    check_sampling_logits,
    check_temperature,
    check_top_p,
    prepare,
)
from softmax_lib.core import log_softmax
from softmax_lib.relatives import gumbel_max_sample

__all__ = ["filter_logits", "sample_next_token"]


def filter_logits(
    logits: ArrayLike,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    min_p: float | None = None,
    axis: int = -1,
) -> NDArray[np.float64]:
    r"""Return ``logits / temperature`` with the tokens the filters remove set to ``-inf``.

    Parameters
    ----------
    logits : array_like, shape (..., C)
        Real logits; ``-inf`` marks a token that is already impossible. NaN and ``+inf`` are
        rejected, and so is a row with no finite logit.
    temperature : float, default: 1.0
        Finite ``T > 0``.
    top_k : int, optional
        Keep the ``k`` most likely tokens (and any tied with the ``k``-th).
    top_p : float, optional
        In ``(0, 1]``: keep the smallest set of most likely tokens whose probability reaches
        ``p``.
    min_p : float, optional
        In ``[0, 1]``: keep the tokens at least ``min_p`` times as likely as the most likely.
    axis : int, default: -1
        The token axis.

    Returns
    -------
    ndarray of float64
        The scaled, filtered logits, with the shape of `logits`. The most likely token of
        each row always survives.

    Raises
    ------
    TypeError, ValueError
        If an argument has the wrong type or value (see the module docstring).

    Examples
    --------
    >>> from softmax_lib.sampling import filter_logits
    >>> filter_logits([3.0, 2.0, 1.0, 0.0], top_k=2)
    array([  3.,   2., -inf, -inf])
    >>> filter_logits([3.0, 2.0, 1.0, 0.0], min_p=0.3)
    array([  3.,   2., -inf, -inf])
    """
    temperature = check_temperature(temperature)
    top_k = check_positive_int_or_none(top_k, "top_k")
    top_p = check_top_p(top_p)
    min_p = check_min_p(min_p)
    prepared = prepare(logits, axis, "logits", one_axis=True, need_classes=True, widen=False)
    z = np.moveaxis(prepared.arr, prepared.axis, -1).astype(np.float64)
    check_sampling_logits(z)
    if temperature != 1.0:
        with np.errstate(over="ignore"):  # z / T beyond the float range: see below
            scaled = z / temperature
        # Dividing a finite logit by a small T can overflow; the differences are what count,
        # so rescale those rows by their maximum first (softmax ignores the shift).
        overflow = ~np.isfinite(scaled) & np.isfinite(z)
        if overflow.any():
            rows = overflow.any(axis=-1)
            # A gap itself can overflow ([1e308, -1e308] is 2e308 apart), and so can gap / T.
            # Either becomes -inf: a token of probability exp(-1e308) or less, 0 in any
            # float format, which is what -inf means here; correct by construction.
            with np.errstate(over="ignore"):
                shifted = z[rows] - z[rows].max(axis=-1, keepdims=True)
                scaled[rows] = shifted / temperature
        z = scaled
    keep = np.ones(z.shape, dtype=bool)
    log_p = log_softmax(z, axis=-1)
    if top_k is not None and top_k < z.shape[-1]:
        kth = -np.sort(-z, axis=-1)[..., top_k - 1 : top_k]
        keep &= z >= kth
    if top_p is not None and top_p < 1.0:
        keep &= _nucleus(z, log_p) < top_p
    if min_p is not None and min_p > 0.0:
        keep &= log_p - log_p.max(axis=-1, keepdims=True) >= math.log(min_p)
    out = np.where(keep, z, -np.inf)
    return np.moveaxis(out, -1, prepared.axis)


def _nucleus(z: np.ndarray, log_p: np.ndarray) -> np.ndarray:
    """For each token, the total probability of the tokens strictly more probable than it.

    "More probable" compares the logits themselves, exactly: two logits 1e-34 apart are not
    tied, even though their probabilities round to the same float.
    """
    order = np.argsort(-z, axis=-1, kind="stable")
    sorted_z = np.take_along_axis(z, order, axis=-1)
    p = np.exp(np.take_along_axis(log_p, order, axis=-1))
    before = np.cumsum(p, axis=-1) - p  # the mass ahead of each position in sorted order
    # Tokens tied with earlier ones get the mass ahead of the first of their tie group.
    new_group = np.ones(p.shape, dtype=bool)
    new_group[..., 1:] = sorted_z[..., 1:] != sorted_z[..., :-1]
    positions = np.broadcast_to(np.arange(p.shape[-1]), p.shape)
    group_start = np.maximum.accumulate(np.where(new_group, positions, 0), axis=-1)
    ahead_sorted = np.take_along_axis(before, group_start, axis=-1)
    ahead = np.empty_like(ahead_sorted)
    np.put_along_axis(ahead, order, ahead_sorted, axis=-1)
    return ahead


def sample_next_token(
    logits: ArrayLike,
    *,
    rng: np.random.Generator,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    min_p: float | None = None,
    size: int | None = None,
    axis: int = -1,
) -> NDArray[np.int64]:
    r"""Draw token indices from the filtered distribution, by the Gumbel-max trick.

    Equivalent to sampling from ``softmax(filter_logits(logits, ...))``: the filtered logits go
    to :func:`softmax_lib.relatives.gumbel_max_sample`, which adds Gumbel noise to their gaps
    below the row maximum and takes the argmax, so no probability is computed.

    Parameters
    ----------
    logits : array_like, shape (..., C)
        As for :func:`filter_logits`.
    rng : numpy.random.Generator
        The source of randomness.
    temperature, top_k, top_p, min_p, axis
        As for :func:`filter_logits`.
    size : int, optional
        Draw `size` independent samples (a leading axis); by default one per row.

    Returns
    -------
    ndarray of int64
        Token indices, shape ``(...)`` or ``(size, ...)``.

    Raises
    ------
    TypeError, ValueError
        If an argument has the wrong type or value (see :func:`filter_logits`); `size` must
        be a positive int or None.

    Notes
    -----
    The draws follow the softmax of the filtered logits for logits of any finite size (see
    :func:`softmax_lib.relatives.gumbel_max_sample` for the accuracy). Before issue 30 the
    noise was added to the logits themselves and rounded away when they were large:
    ``[1e300, 1e300]`` always gave token 0, and ``1e16 + [0, 2]`` gave 27 % / 73 % instead
    of the 12 % / 88 % of their softmax. For logits of moderate size a seed gives the draws
    it gave before, until a rare tail draw of the noise consumes further values of `rng`
    (see :func:`softmax_lib.relatives.gumbel_noise`).

    Examples
    --------
    >>> import numpy as np
    >>> from softmax_lib.sampling import sample_next_token
    >>> draws = sample_next_token([5.0, 1.0, 0.0], rng=np.random.default_rng(0), top_k=1,
    ...                           size=4)
    >>> draws.tolist()
    [0, 0, 0, 0]
    """
    rng = check_generator(rng)
    if size is not None:
        size = check_positive_int(size, "size")
    filtered = filter_logits(
        logits, temperature=temperature, top_k=top_k, top_p=top_p, min_p=min_p, axis=axis
    )
    return gumbel_max_sample(filtered, rng=rng, size=size, axis=axis)
