"""The passes of the fused kernels over a row (or eight short rows): small numba functions.

Each hot loop is its own small function over 1-D slices, not inlined into the kernels of
:mod:`softmax_lib._fused` (the inlined versions vectorised worse), so that LLVM turns
it into vector instructions. Imported only where numba is.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from softmax_lib._simd import (
    LANES,
    SUBNORMAL,
    exp_single,
    exp_term,
    fma,
    is_single,
    shift,
    shift_ordered,
    two_sum,
    vector_max,
    vector_range,
    vector_sum,
    vector_sum_plain,
)

BLOCK = 1024  # terms computed, then summed, per block (8 KiB: stays in L1)
SHORT = 128  # shorter rows are computed eight at a time, one per lane
WIDTH = 8  # rows side by side in the short-row path


# The hot loops: each a small function over 1-D slices, so that LLVM vectorises it.


@nb.njit(error_model="numpy")
def exp_terms(x, m, t, subnormal, ordered):
    """``t = exp(x - m)`` for float64 `x`, subnormal terms included if `subnormal`.

    The two-step scaling of `exp_term` (`subnormal`) is for rows that may have subnormal
    terms, which :func:`row_bounds` tells from the row's lowest entry at no cost to this
    pass; the other rows take one scaling, about seven fewer vector instructions of about
    seventy per eight terms on AVX-512, with the same results (both scalings are exact on
    normal terms). `ordered` rows (see `row_bounds`) shift with Fast2Sum, three fewer, the
    same results. Short rows (`SHORT`) and the online kernel always take both safe paths.
    """
    if subnormal:
        for i in range(x.shape[0]):
            d, e = shift(x[i], m)
            t[i] = exp_term(d, e, True)
    elif ordered:
        for i in range(x.shape[0]):
            d, e = shift_ordered(x[i], m)
            t[i] = exp_term(d, e, False)
    else:
        for i in range(x.shape[0]):
            d, e = shift(x[i], m)
            t[i] = exp_term(d, e, False)


@nb.njit(error_model="numpy")
def exp_terms_single(x, m, t):
    """``t = exp(x - m)`` (float64) for float32 `x`: x - m is exact or within 2**-53."""
    for i in range(x.shape[0]):
        t[i] = exp_single(np.float64(x[i]) - m)


@nb.njit(error_model="numpy")
def row_max(x, lanes):
    """Return the maximum of the 1-D `x` (NaN passed over; -inf if all NaN), as float64."""
    lanes[:] = -np.inf
    done = vector_max(x, 0, x.shape[0], lanes)
    m = lanes[0]
    for j in range(1, lanes.shape[0]):
        m = lanes[j] if lanes[j] > m else m
    for i in range(done, x.shape[0]):
        m = x[i] if x[i] > m else m
    return np.float64(m)


@nb.njit(error_model="numpy")
def row_range(x, lanes):
    """Return the maximum of the 1-D `x` (as `row_max`) and, for float64, its lowest entry.

    One pass (`lanes`: 512 bytes of x's dtype), -inf included, NaN passed over (a row of
    NaN only gives -inf for the maximum, as `row_max`, and +inf for the lowest). float32
    rows, whose `exp` clamps, take `row_max` on the first half of `lanes` (every lane it
    is given is folded), and their maximum stands for the lowest.
    """
    if is_single(x):
        m = row_max(x, lanes[: lanes.shape[0] // 2])
        return m, m
    half = lanes.shape[0] // 2
    lanes[:half] = -np.inf
    lanes[half:] = np.inf
    done = vector_range(x, 0, x.shape[0], lanes)
    m, low = lanes[0], lanes[half]
    for j in range(1, half):
        m = lanes[j] if lanes[j] > m else m
        low = lanes[half + j] if lanes[half + j] < low else low
    for i in range(done, x.shape[0]):
        m = x[i] if x[i] > m else m
        low = x[i] if x[i] < low else low
    return np.float64(m), np.float64(low)


@nb.njit(inline="always", error_model="numpy")
def row_bounds(x, lanes):
    """Return the maximum m of the 1-D `x` and how its terms ``exp(x_i - m)`` may be computed.

    `subnormal`: whether ``fl(low - m)`` lies below SUBNORMAL (then `exp_terms` scales in
    two steps); rounding is monotone, so otherwise every ``fl(x_i - m)`` is at least
    SUBNORMAL, where one step is exact (see `exp_term`). `ordered`: whether every entry's
    binary exponent is at most m's, so that ``x_i - m`` may be split by Fast2Sum: every
    entry lies in [low, m], so ``|x_i| < 2**E`` with ``|m|`` in ``[2**(E - 1), 2**E)``
    holds for all if it holds for low (and for m). For m = 0 (frexp gives E = 0) the test
    reads ``|low| < 1``, stricter than needed: ``x_i - 0`` is exact. float32 rows: False,
    False (their `exp` clamps, their shift is exact). See `row_range` for `lanes`.
    Returns ``(m, subnormal, ordered)``.
    """
    m, low = row_range(x, lanes)
    if is_single(x):
        return m, False, False
    _, top = math.frexp(m)  # |m| < 2**top: E
    return m, low - m < SUBNORMAL, abs(low) < math.ldexp(1.0, top)


@nb.njit(inline="always", error_model="numpy")
def add_rest(t, start, acc, compensate):
    """Add ``t[start:]`` (fewer than LANES) into the lanes, one each."""
    for i in range(start, t.shape[0]):
        j = i - start
        if compensate:
            s, e = two_sum(acc[j], t[i])
            acc[LANES + j] += e
            acc[j] = s
        else:
            acc[j] += t[i]


@nb.njit(error_model="numpy")
def fold(acc, first, stride, compensate):
    """Return the total of lanes ``first, first + stride, ...`` as ``hi + lo``, pairwise.

    Upper halves onto lower ones, with TwoSum: the lanes of tiny terms meet each other
    before they meet the lane that holds the maximum's term (1), so their sum (the tail
    that log1p needs) is not rounded against 1 lane by lane. The lanes are overwritten.
    """
    half = LANES
    while half > stride:
        half //= 2
        for j in range(first, first + half, stride):
            if compensate:
                s, e = two_sum(acc[j], acc[j + half])
                acc[LANES + j] += acc[LANES + j + half] + e
                acc[j] = s
            else:
                acc[j] += acc[j + half]
    if compensate:
        return two_sum(acc[first], acc[LANES + first])
    return acc[first], 0.0


@nb.njit(error_model="numpy")
def row_sum(row, m, t, acc, compensate, subnormal, ordered):
    """``sum(exp(row - m))`` as ``hi + lo``, block by block; the terms are left in `t`.

    `t` holds the whole row (softmax keeps them) or one block (reused); `compensate` is
    False only for float32 softmax, which needs the sum, not its tail beside the
    maximum's term (log1p of that tail is what log-softmax and log-sum-exp need);
    `subnormal` and `ordered`: see :func:`row_bounds` (float64).
    """
    n = row.shape[0]
    keep = t.shape[0] >= n
    acc[:] = 0.0
    for start in range(0, n, BLOCK):
        stop = min(start + BLOCK, n)
        src = row[start:stop]
        dst = t[start:stop] if keep else t[: stop - start]
        if is_single(row):
            exp_terms_single(src, m, dst)
        else:
            exp_terms(src, m, dst, subnormal, ordered)
        if compensate:
            add_rest(dst, vector_sum(dst, 0, dst.shape[0], acc), acc, True)
        else:
            add_rest(dst, vector_sum_plain(dst, 0, dst.shape[0], acc), acc, False)
    return fold(acc, 0, 1, compensate)


@nb.njit(error_model="numpy")
def divide(t, hi, lo):
    """``t = t / (hi + lo)`` in place: ``q = t (1 / hi)``, corrected by its residual.

    ``t - q hi`` is exact (one FMA) unless q is more than an ULP off ``t / hi`` (rare: the
    rounding of ``1 / hi`` and of the product; the error is then of second order); with
    ``- q lo`` it is the residual against the pair, and
    ``q + residual / hi`` is within a hair of half an ULP of ``t / (hi + lo)``, without a
    division per element (a division is several times slower than an FMA). In place, on
    one array: with the terms and the output as two arguments that are the same memory,
    LLVM's run-time overlap check sent the loop to its scalar version (3x slower).
    """
    inverse = 1.0 / hi
    for i in range(t.shape[0]):
        q = t[i] * inverse
        t[i] = fma(fma(-q, lo, fma(-q, hi, t[i])), inverse, q)


@nb.njit(error_model="numpy")
def scale(t, o, inverse):
    """``o = t * inverse`` (float32 softmax: within 2**-51 of ``t / s``, then rounded)."""
    for i in range(t.shape[0]):
        o[i] = t[i] * inverse


@nb.njit(error_model="numpy")
def scale_again(x, m, o, inverse):
    """``o = exp(x - m) * inverse`` for float32 rows whose terms were not kept."""
    for i in range(x.shape[0]):
        o[i] = exp_single(np.float64(x[i]) - m) * inverse


@nb.njit(error_model="numpy")
def subtract(x, m, log_s, o, ordered):
    """Write log-softmax's last pass: ``o = (x - m) - log s``, the error of x - m kept.

    float32: x_i - m in float64 is exact when the binary exponents of x_i and m differ by
    at most 29 (24 + 29 = 53 bits); beyond that it is rounded, by at most 2**-53
    relative, far below half a float32 ULP, so the rounding when o[i] is stored dominates.
    float64: `ordered` (see `row_bounds`) shifts with Fast2Sum, the same d and, for finite
    d, the same e (up to the sign of a zero; see `shift_ordered`).
    """
    if is_single(x):
        for i in range(x.shape[0]):
            o[i] = (np.float64(x[i]) - m) - log_s
    elif ordered:
        for i in range(x.shape[0]):
            d, e = shift_ordered(x[i], m)
            value = (d - log_s) + e
            o[i] = value if d > -np.inf else d  # -inf entries: e is NaN there
    else:
        for i in range(x.shape[0]):
            d, e = shift(x[i], m)
            value = (d - log_s) + e
            o[i] = value if d > -np.inf else d  # -inf entries: e is NaN there


@nb.njit(inline="always", error_model="numpy")
def log_sum(hi, lo):
    """``log(hi + lo)`` for a sum with ``hi >= 1`` (the maximum's term): hi - 1 is exact."""
    return math.log1p((hi - 1.0) + lo)


# Short rows, eight side by side: ``work[0]`` holds per column c and row j, at c * WIDTH + j,
# the shifted logit d, then the term t (in place: one array, so the loops vectorise); for
# float64 rows ``work[1]`` holds the TwoSum error e of d.


@nb.njit(error_model="numpy")
def _terms_flat(d, e):
    """``d = exp(d + e)`` in place over the flat arrays (subnormal terms included)."""
    for i in range(d.shape[0]):
        d[i] = exp_term(d[i], e[i], True)


@nb.njit(error_model="numpy")
def _terms_flat_single(d):
    """``d = exp(d)`` in place (float32 rows)."""
    for i in range(d.shape[0]):
        d[i] = exp_single(d[i])


@nb.njit(error_model="numpy")
def short_sums(x, first, m, work, acc, sums, lanes):
    """Rows ``first, ...`` (up to WIDTH) of `x`, shorter than SHORT: shift, terms and sums.

    ``m[j]`` gets row j's maximum (NaN passed over), ``work[0]`` the terms (see above),
    ``sums[0, j] + sums[1, j]`` the sum of its terms (0 where m is not finite: such a row
    is flagged by the caller). Missing rows past the end repeat the last one. The lanes of
    `vector_sum` are four columns of eight rows: lane k adds row ``k % WIDTH``.
    """
    n, last = x.shape[1], x.shape[0] - 1
    r0, r1, r2, r3 = first, min(first + 1, last), min(first + 2, last), min(first + 3, last)
    r4, r5, r6, r7 = min(first + 4, last), min(first + 5, last), min(first + 6, last), last
    r7 = min(first + 7, last)
    m0, m1, m2, m3 = x[r0, 0], x[r1, 0], x[r2, 0], x[r3, 0]
    m4, m5, m6, m7 = x[r4, 0], x[r5, 0], x[r6, 0], x[r7, 0]
    for c in range(1, n):  # eight independent chains, in registers
        m0, m1 = max(m0, x[r0, c]), max(m1, x[r1, c])
        m2, m3 = max(m2, x[r2, c]), max(m3, x[r3, c])
        m4, m5 = max(m4, x[r4, c]), max(m5, x[r5, c])
        m6, m7 = max(m6, x[r6, c]), max(m7, x[r7, c])
    m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7] = m0, m1, m2, m3, m4, m5, m6, m7
    rows = (r0, r1, r2, r3, r4, r5, r6, r7)
    for j in range(WIDTH):  # a row holding NaN: max() may have returned it
        if not np.isfinite(m[j]):
            m[j] = row_max(x[rows[j]], lanes)  # NaN passed over
    size = n * WIDTH
    t = work[0, :size]  # d, then the terms
    for j in range(WIDTH):
        mj = m[j] if np.isfinite(m[j]) else 0.0  # a harmless shift; the row is flagged
        row = x[rows[j]]
        if is_single(x):
            for c in range(n):
                t[c * WIDTH + j] = np.float64(row[c]) - mj
        else:
            e = work[1, :size]
            for c in range(n):
                t[c * WIDTH + j], e[c * WIDTH + j] = shift(row[c], mj)
    if is_single(x):
        _terms_flat_single(t)
    else:
        _terms_flat(t, work[1, :size])
    acc[:] = 0.0
    done = vector_sum(t, 0, size, acc)
    for i in range(done, size):  # fewer than LANES: lane i - done is row i % WIDTH
        s, err = two_sum(acc[i - done], t[i])
        acc[LANES + i - done] += err
        acc[i - done] = s
    for j in range(WIDTH):
        sums[0, j], sums[1, j] = fold(acc, j, WIDTH, True)


@nb.njit(error_model="numpy")
def short_scratch(x):
    """Scratch for `short_sums`: maxima, the flat terms (and e), lanes, sums, max lanes."""
    return (
        np.empty(WIDTH),
        np.empty((1 if is_single(x) else 2, x.shape[1] * WIDTH)),
        np.empty(2 * LANES),
        np.empty((2, WIDTH)),
        np.empty(256 // x.itemsize, dtype=x.dtype),
    )


@nb.njit(inline="always", error_model="numpy")
def usable(m, hi):
    """Whether a row's maximum and sum are finite (else the NumPy path takes the row)."""
    return np.isfinite(m) and np.isfinite(hi)
