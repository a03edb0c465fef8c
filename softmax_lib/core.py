r"""Softmax, log-softmax, log-sum-exp and hardmax: the numerically careful core.

All three smooth functions share one computation: shift by the maximum, recover the rounding
error of that shift exactly (TwoSum), exponentiate, and sum the terms with the tail apart, so
that ``log1p`` sees it at full precision. float16 and float32 input is computed in float64 and
rounded once. Each function checks its input once; then float32 and float64 rows without a
temperature go through fused kernels when numba is installed (:mod:`softmax_lib.kernels`),
the rest through NumPy (:mod:`softmax_lib._normaliser`). Both sum each row in memory order
(copying it there if needed), so the accuracy does not depend on the axis or on the layout
of the input. Special values follow one policy, the value of the formula in the extended
reals, with NaN where it is undefined (see the table in :func:`softmax`).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from softmax_lib._dispatch import LOG_SOFTMAX, LOGSUMEXP, SOFTMAX, compute
from softmax_lib._normaliser import unpack
from softmax_lib._validation import Axis, check_bool, check_choice, check_temperature, prepare
from softmax_lib._weighted import weighted_logsumexp

__all__ = ["hardmax", "log_softmax", "logsumexp", "softmax"]


def logsumexp(
    x: ArrayLike,
    axis: Axis = -1,
    *,
    b: ArrayLike | None = None,
    return_sign: bool = False,
    keepdims: bool = False,
    where: ArrayLike | None = None,
):
    r"""Compute ``log(sum(exp(x)))`` along an axis without overflow or lost tails.

    The log-sum-exp is the logarithm of the softmax normaliser, so
    ``log_softmax(x) == x - logsumexp(x, keepdims=True)``; it is also a smooth maximum,
    ``max(x) <= logsumexp(x) <= max(x) + log(n)``.

    Introduced in :doc:`/chapters/01-softmax`.

    Parameters
    ----------
    x : array_like, shape (..., C)
        Real input, typically logits. Integers and booleans are promoted to float64; every
        floating dtype is kept. At least one dimension.
    axis : int, tuple of int or None, default: -1
        Axis or axes to reduce over; ``None`` reduces over every element. (SciPy's default
        is None; ours is the last axis, the class axis, like the rest of this package.)
    b : array_like, optional
        Weights, broadcast together with `x` (as in SciPy): the result is
        ``log|sum(b * exp(x))|``. Weights may be negative. A zero weight removes its term,
        whatever the logit (NaN and ``+inf`` included), as in SciPy.
    return_sign : bool, default: False
        If True, return ``(result, sign)``, where `sign` is the sign of the sum: 1, -1, or 0
        where the sum is exactly zero (then the result is ``-inf``), NaN where it is NaN. If
        False, a negative sum gives NaN (SciPy's convention).
    keepdims : bool, default: False
        If True, the reduced axes are kept with length one, so the result broadcasts
        against `x`.
    where : array_like of bool, optional
        Which entries take part, broadcastable to `x`, with JAX's semantics: a masked entry
        is treated as a logit of ``-inf`` (even if it is NaN), so it gets probability 0 and
        log-probability ``-inf``; a row with every entry masked gives ``-inf`` rather than
        NaN. (Without `where`, a row of ``-inf`` logits gives NaN: no distribution.) With
        `b`, a masked entry is a weight of zero.

    Returns
    -------
    ndarray, or (ndarray, ndarray) if `return_sign`
        The log-sum-exp, with the dtype of `x` (float64 for integer input; with `b`, NumPy's
        promotion of the two dtypes, float64 if that is an integer type) and the reduced
        axes removed (or kept with length one). A 0-d array for 1-d input. The sign has
        the same dtype and shape.

    Raises
    ------
    TypeError
        If `x` or `b` is complex, not numeric, `axis` is not an int, tuple or None, or
        `keepdims` or `return_sign` is not a bool.
    ValueError
        If `x` is 0-d, `b` does not broadcast against `x`, or `axis` is out of range or
        repeated.

    See Also
    --------
    softmax : ``exp(x - logsumexp(x, keepdims=True))``.
    log_softmax : ``x - logsumexp(x, keepdims=True)``.
    scipy.special.logsumexp : Reference implementation, with weights and signs.

    Notes
    -----
    With :math:`m = \max_i x_i` and :math:`k` the number of entries equal to :math:`m`,

    .. math::

        \log \sum_i e^{x_i}
        = m + \operatorname{log1p}\Bigl(k - 1 + \sum_{x_i < m} e^{x_i - m}\Bigr).

    The shifted exponents are at most :math:`0`, so nothing overflows, and the sum is at
    least :math:`1`, so it cannot underflow. Summing the non-maximal terms apart and passing
    them to ``log1p`` keeps tails such as ``logsumexp([0, -40]) = 4.2e-18``, which the plain
    shifted formula rounds to 0. The rounding error of each difference :math:`x_i - m` is
    recovered exactly (TwoSum) and corrects the exponential. float16 and float32 input is
    computed in float64 and rounded once.

    Special values: a NaN anywhere in the reduction gives NaN; otherwise a ``+inf`` gives
    ``+inf``; ``-inf`` entries contribute nothing, so an all ``-inf`` reduction gives
    ``-inf``, as does an empty one (the logarithm of an empty sum). Finite input never
    overflows: the result is at most ``max(x) + log(n)``.

    References
    ----------
    .. [1] P. Blanchard, D. J. Higham and N. J. Higham, "Accurately computing the log-sum-exp
       and softmax functions", IMA Journal of Numerical Analysis 41(4), 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from softmax_lib import logsumexp

    The naive formula overflows; the stable one returns ``1000 + log(2)``:

    >>> float(logsumexp([1000.0, 1000.0]))
    1000.693147
    >>> with np.errstate(over="ignore"):
    ...     float(np.log(np.sum(np.exp([1000.0, 1000.0]))))
    inf

    A tiny tail survives:

    >>> float(logsumexp([0.0, -40.0]))
    4.248354e-18

    Weights, and a signed result, ``log|e - e**2|`` (the sum is negative):

    >>> value, sign = logsumexp([1.0, 2.0], b=[1.0, -1.0], return_sign=True)
    >>> float(value), float(sign)
    (1.541325, -1.0)
    """
    keepdims = check_bool(keepdims, "keepdims")
    return_sign = check_bool(return_sign, "return_sign")
    if b is not None:
        out, sign, axes = weighted_logsumexp(x, b, axis, where)
        if not return_sign:
            out = np.where(sign < 0, np.nan, out)  # SciPy's convention: no log of a negative
    else:
        p = prepare(x, axis, widen=False, where=where)
        out, axes = compute(LOGSUMEXP, p), p.axes
        if return_sign:  # only when asked for: four arrays, one entry a row each
            sign = np.where(np.isneginf(out), 0.0, np.where(np.isnan(out), np.nan, 1.0))
    if not keepdims:
        out = np.squeeze(out, axis=axes)
    if not return_sign:
        return out
    return out, (sign if keepdims else np.squeeze(sign, axis=axes)).astype(out.dtype)


def softmax(
    x: ArrayLike, axis: Axis = -1, *, temperature: float = 1.0, where: ArrayLike | None = None
) -> NDArray[np.floating]:
    r"""Compute the softmax of `x` along an axis: ``exp(x / T)`` normalised to sum to 1.

    ``softmax(x) == exp(log_softmax(x))``, computed without overflow and with each
    probability close to correctly rounded.

    Defined in :doc:`/chapters/01-softmax`.

    Parameters
    ----------
    x : array_like, shape (..., C)
        Real logits. Integers and booleans are promoted to float64; every floating dtype is
        kept. At least one dimension.
    axis : int, tuple of int or None, default: -1
        Axis or axes that each distribution runs along; ``None`` normalises over every
        element.
    temperature : float, default: 1.0
        Finite ``T > 0``; the logits are divided by it. Large ``T`` flattens the
        distribution towards uniform; small ``T`` sharpens it towards :func:`hardmax`.
    where : array_like of bool, optional
        Which entries take part, broadcastable to `x`, with JAX's semantics: a masked entry
        is treated as a logit of ``-inf`` (even if it is NaN), so it gets probability 0 and
        log-probability ``-inf``; a row with every entry masked gives zeros rather than
        NaN. (Without `where`, a row of ``-inf`` logits gives NaN: no distribution.)

    Returns
    -------
    ndarray
        Probabilities with the shape and dtype of `x` (float64 for integer input); they
        are non-negative and sum to 1 along `axis`, up to rounding.

    Raises
    ------
    TypeError
        If `x` is complex or not numeric, or `axis` or `temperature` has the wrong type.
    ValueError
        If `x` is 0-d, `axis` is out of range or repeated, or `temperature` is not a
        finite number > 0.

    See Also
    --------
    log_softmax : The logarithm of the softmax, computed directly.
    hardmax : The zero-temperature limit, a one-hot vector.
    logsumexp : The log of the normaliser.

    Notes
    -----
    .. math::

        \operatorname{softmax}(x)_i = \frac{e^{x_i / T}}{\sum_j e^{x_j / T}}
                                    = \frac{e^{x_i/T - m}}{\sum_j e^{x_j/T - m}},
        \quad m = \max_j x_j / T.

    After the shift every exponent is at most 0, so no exponential overflows, and the
    denominator lies in :math:`[1, C]`. The rounding error of each shifted logit is
    recovered exactly (TwoSum) and corrects its exponential; without that correction a
    logit far below the maximum carries an error of hundreds of units in the last place.
    float16 and float32 input is computed in float64 and rounded once. Dividing by a
    temperature other than 1 is one extra rounding of each logit.

    Special values, per distribution (row):

    ============================  ===========================================
    row contains                  result
    ============================  ===========================================
    finite values and ``-inf``    ``-inf`` entries get probability exactly 0
    only ``-inf``                 NaN (``0 / 0``: no distribution)
    ``+inf`` (and no NaN)         NaN (``inf / inf``)
    NaN                           NaN
    no entries (empty axis)       an empty result
    ============================  ===========================================

    Examples
    --------
    >>> import numpy as np
    >>> from softmax_lib import softmax
    >>> softmax([1.0, 2.0, 3.0])
    array([0.090031, 0.244728, 0.665241])

    Large logits do not overflow; ``-inf`` masks an entry:

    >>> softmax([1000.0, 1000.0, -np.inf])
    array([0.5, 0.5, 0. ])

    Temperature flattens or sharpens:

    >>> softmax([1.0, 2.0, 3.0], temperature=10.0).round(4)
    array([0.3006, 0.3322, 0.3672])
    """
    temperature = check_temperature(temperature)
    return compute(SOFTMAX, prepare(x, axis, widen=False, where=where), temperature)


def log_softmax(
    x: ArrayLike, axis: Axis = -1, *, temperature: float = 1.0, where: ArrayLike | None = None
) -> NDArray[np.floating]:
    r"""Compute the logarithm of the softmax of `x` along an axis, without forming it.

    ``log_softmax(x) == x / T - logsumexp(x / T, keepdims=True)``, computed so that neither
    the exponentials underflow to ``log(0) = -inf`` nor the subtraction cancels.

    Defined in :doc:`/chapters/01-softmax`.

    Parameters
    ----------
    x : array_like, shape (..., C)
        Real logits. Integers and booleans are promoted to float64; every floating dtype is
        kept. At least one dimension.
    axis : int, tuple of int or None, default: -1
        Axis or axes that each distribution runs along; ``None`` normalises over every
        element.
    temperature : float, default: 1.0
        Finite ``T > 0``; the logits are divided by it.
    where : array_like of bool, optional
        Which entries take part, broadcastable to `x`, with JAX's semantics: a masked entry
        is treated as a logit of ``-inf`` (even if it is NaN), so it gets probability 0 and
        log-probability ``-inf``; a row with every entry masked gives ``-inf`` rather than
        NaN. (Without `where`, a row of ``-inf`` logits gives NaN: no distribution.)

    Returns
    -------
    ndarray
        Log-probabilities (all ``<= 0``) with the shape and dtype of `x` (float64 for
        integer input).

    Raises
    ------
    TypeError
        If `x` is complex or not numeric, or `axis` or `temperature` has the wrong type.
    ValueError
        If `x` is 0-d, `axis` is out of range or repeated, or `temperature` is not a
        finite number > 0.

    See Also
    --------
    softmax : ``exp(log_softmax(x))``.
    logsumexp : The log of the normaliser.

    Notes
    -----
    With :math:`m` the maximum and :math:`d_i = x_i - m` (its rounding error recovered
    exactly), the result is :math:`d_i - \log s` where :math:`s = \sum_j e^{d_j}` and
    :math:`\log s` comes from ``log1p`` of the tail. Both :math:`d_i` and :math:`-\log s` are
    at most 0, so their sum never cancels; the entry of the maximum is :math:`-\log s`
    itself, accurate even when it is as small as ``1e-300``. Computing
    ``x - logsumexp(x)`` directly instead cancels catastrophically when the logits are
    large, and ``log(softmax(x))`` returns ``-inf`` once a probability underflows.

    Special values follow :func:`softmax`: ``-inf`` entries of a row with a finite maximum
    give ``-inf``; rows with NaN, ``+inf`` or only ``-inf`` give NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from softmax_lib import log_softmax
    >>> log_softmax([0.0, -1000.0])
    array([    0., -1000.])

    The naive route loses the small probability entirely:

    >>> with np.errstate(divide="ignore"):
    ...     np.log(np.exp([0.0, -1000.0]) / np.sum(np.exp([0.0, -1000.0])))
    array([  0., -inf])
    """
    temperature = check_temperature(temperature)
    return compute(LOG_SOFTMAX, prepare(x, axis, widen=False, where=where), temperature)


def hardmax(x: ArrayLike, axis: Axis = -1, *, ties: str = "first") -> NDArray[np.floating]:
    r"""Return the one-hot vector of the largest entry of `x` along an axis.

    Hardmax is what softmax tends to as the temperature goes to 0; it differs from that
    limit only at ties, which `ties` decides.

    Defined in :doc:`/chapters/01-softmax`.

    Parameters
    ----------
    x : array_like, shape (..., C)
        Real scores. Integers and booleans are promoted to float64. At least one dimension.
    axis : int, tuple of int or None, default: -1
        Axis or axes to take the maximum over; ``None`` uses every element.
    ties : {'first', 'split'}, default: 'first'
        ``'first'`` puts the 1 on the first maximal entry in C order, as ``numpy.argmax``
        does. ``'split'`` shares the mass equally among all maximal entries, which is the
        limit of ``softmax(x, temperature=T)`` as ``T -> 0``.

    Returns
    -------
    ndarray
        An array of zeros and ones (or ``1/k`` for ``k`` tied maxima with ``ties='split'``)
        with the shape and dtype of `x`; a row containing NaN is all NaN.

    Raises
    ------
    TypeError
        If `x` is complex or not numeric, or `axis` has the wrong type.
    ValueError
        If `x` is 0-d, `axis` is out of range or repeated, or `ties` is not a known choice.

    See Also
    --------
    softmax : The smooth version.

    Notes
    -----
    ``+inf`` is an ordinary largest value here, and a row of ``-inf`` is a row of ties.

    Examples
    --------
    >>> from softmax_lib import hardmax
    >>> hardmax([1.0, 3.0, 2.0])
    array([0., 1., 0.])
    >>> hardmax([3.0, 1.0, 3.0]), hardmax([3.0, 1.0, 3.0], ties="split")
    (array([1., 0., 0.]), array([0.5, 0. , 0.5]))
    """
    ties = check_choice(ties, "ties", ("first", "split"))
    arr, _, axes, empty = unpack(prepare(x, axis))
    if empty:
        return arr.copy()
    k = len(axes)
    moved = np.moveaxis(arr, axes, range(arr.ndim - k, arr.ndim))
    flat = moved.reshape((*moved.shape[: arr.ndim - k], math.prod(moved.shape[arr.ndim - k :])))
    m = flat.max(axis=-1, keepdims=True)
    is_max = flat == m
    if ties == "first":
        out = np.zeros(flat.shape, dtype=arr.dtype)
        np.put_along_axis(out, np.argmax(is_max, axis=-1)[..., None], 1, axis=-1)
    else:
        with np.errstate(invalid="ignore", divide="ignore"):  # a NaN row: 0 / 0, then NaN
            out = (is_max / np.count_nonzero(is_max, axis=-1, keepdims=True)).astype(arr.dtype)
    out = np.where(np.isnan(m), np.nan, out).astype(arr.dtype)
    return np.moveaxis(out.reshape(moved.shape), range(arr.ndim - k, arr.ndim), axes)
