"""Fused kernels, compiled with numba, for softmax, log-softmax, log-sum-exp and cross-entropy.

The NumPy path (:mod:`softmax_lib._normaliser`) makes one array-sized temporary per step
(shift, TwoSum error, exponential, correction, sum). These kernels do the same arithmetic
row by row with no temporaries beyond a block of the row:

1. the row's maximum ``m``, in the row's own dtype, and (float64) in the same pass its
   lowest entry, which tells whether a term may be subnormal and whether every ``x_i - m``
   may be split by Fast2Sum rather than TwoSum (:func:`softmax_lib._passes.row_bounds`);
2. block by block, the terms ``t_i = exp(d_i + e_i)`` where ``d_i + e_i == x_i - m`` exactly
   (TwoSum or Fast2Sum), with our own ``exp``, rounded once; and their sum, compensated
   (TwoSum in 32 independent lanes, folded pairwise), kept as ``S_hi + S_lo``;
3. the output: ``t_i / S`` (softmax, dividing by the pair), ``(d_i - log S) + e_i`` with
   ``log S = log1p((S_hi - 1) + S_lo)`` (log-softmax), ``m + log S`` (log-sum-exp), or
   the target's entry of log-softmax (cross-entropy).

Speed comes from letting LLVM use the vector units on every pass, without fast-math (which
would reassociate the compensated sums away): an ``exp`` without table look-ups, the maximum
and the sum as LLVM-IR intrinsics with their accumulators in registers
(:mod:`softmax_lib._simd`), and each hot loop its own small function over 1-D slices
(:mod:`softmax_lib._passes`). Rows shorter than SHORT are taken eight at a time, transposed,
one row per lane of the vectors: their terms are one flat loop, and each row's sum collects
in every eighth lane of the accumulators, folded at the end.

float32 rows are read and computed in float64 registers and rounded once when stored; they
need less: a polynomial of degree 7 (2**-43), no TwoSum, and for softmax a plain sum (a
relative error near 2**-40 is far below half a float32 ULP). Rows whose maximum is not
finite, or whose sum is not (a NaN in the row), are flagged and left to the NumPy path,
which owns the special-value policy; log-sum-exps that cancel in ``m + log s`` are computed
again by :func:`softmax_lib._cancel.logsumexp_near_one`. The ``segment_*`` kernels compute
one long row in segments, which :mod:`softmax_lib._dispatch` runs on threads. Each kernel is
compiled by :func:`softmax_lib._dispatch.compile_kernel`: lazily, cached on disk where numba
can, and with its inputs passed read-only, so that one compiled version serves read-only and
writable arrays alike.

numba caches each kernel against this file only (its time stamp and size): an edit to
:mod:`softmax_lib._simd` or :mod:`softmax_lib._passes` alone would leave stale kernels in
the cache. HELPERS therefore records a hash of those two files, and a test fails until it
is updated here, which makes numba compile the kernels afresh.

numba is optional: :func:`softmax_lib._dispatch.kernels` is None without it (or with
``SOFTMAX_LIB_NUMBA=0``), and the callers then use the NumPy path, which meets the same
accuracy bounds (the tests run both).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from softmax_lib._cancel import logsumexp_near_one  # noqa: F401 (the dispatcher calls it here)
from softmax_lib._dispatch import compile_kernel
from softmax_lib._passes import (
    BLOCK,
    SHORT,
    WIDTH,
    add_rest,
    divide,
    exp_terms,
    exp_terms_single,
    fold,
    log_sum,
    row_bounds,
    row_max,
    row_range,
    row_sum,
    scale,
    scale_again,
    short_scratch,
    short_sums,
    subtract,
    usable,
)
from softmax_lib._simd import (
    LANES,
    SUBNORMAL,  # noqa: F401 (the segments' test of a row's lowest entry reads it here)
    exp_single,
    exp_term,
    fma,
    is_single,
    shift,
    vector_sum,
    vector_sum_plain,
)

# float32 softmax keeps a row's terms (float64 scratch, 512 KiB) up to this length; it is not
# below _dispatch.SEGMENT, so longer rows come in segments, whose terms are computed again.
KEEP_SINGLE = 65536
HELPERS = "7fe164f1908e9d93"  # sha256 of _simd.py and _passes.py, 16 hex digits: see above


@compile_kernel()
def softmax_rows(x, out, terms, bad):
    """Softmax of each row of the C-contiguous 2-D `x` into `out`; return how many are flagged.

    Rows left to the NumPy path are flagged in `bad`. `terms` holds a row's terms until
    their sum is known for float32 rows (float64 ones use `out` itself): one float64 row,
    reused for every row, or, for rows longer than KEEP_SINGLE, one block: their terms
    are computed again in the last pass (cheaper than memory the size of the input). The
    public functions send no such row here (they are longer than SEGMENT: see KEEP_SINGLE).
    """
    rows, n = x.shape
    flagged = 0
    acc = np.empty(2 * LANES)
    if n < SHORT:
        m, work, acc, sums, lanes = short_scratch(x)
        for first in range(0, rows, WIDTH):
            short_sums(x, first, m, work, acc, sums, lanes)
            t = work[0]
            for j in range(min(WIDTH, rows - first)):
                r, hi, lo = first + j, sums[0, j], sums[1, j]
                bad[r] = not usable(m[j], hi)
                flagged += bad[r]
                if is_single(x):
                    inverse = 1.0 / (hi + lo)
                    for c in range(n):
                        out[r, c] = t[c * WIDTH + j] * inverse
                else:
                    inverse = 1.0 / hi
                    for c in range(n):
                        q = t[c * WIDTH + j] * inverse
                        residual = fma(-q, lo, fma(-q, hi, t[c * WIDTH + j]))
                        out[r, c] = fma(residual, inverse, q)
        return flagged
    lanes = np.empty(512 // x.itemsize, dtype=x.dtype)
    for r in range(rows):
        m, subnormal, ordered = row_bounds(x[r], lanes)
        if not np.isfinite(m):
            bad[r] = True
            flagged += 1
            continue
        if is_single(x):
            t = terms[0]
            hi, lo = row_sum(x[r], m, t, acc, False, subnormal, ordered)
            if t.shape[0] >= n:
                scale(t[:n], out[r], 1.0 / (hi + lo))
            else:
                scale_again(x[r], m, out[r], 1.0 / (hi + lo))
        else:
            hi, lo = row_sum(x[r], m, out[r], acc, True, subnormal, ordered)
            divide(out[r], hi, lo)
        bad[r] = not np.isfinite(hi)
        flagged += bad[r]
    return flagged


@compile_kernel()
def softmax_rows_online(x, out, bad):
    """Softmax of each row of `x` into `out` in two passes, with the online normaliser.

    Not used by the public functions, which take the three-pass `softmax_rows`: this
    kernel exists for chapter 10's comparison of the two (is one pass fewer worth computing
    each exponential twice?). Built from the same pieces, one row at a time (no short-row
    path):

    1. block by block (BLOCK entries, which stay in the fastest cache, so memory sees one
       read of the row): the block's maximum; if it exceeds the running maximum m, the
       running sum (its lanes and, for float64, their compensations) is multiplied by
       ``exp(m - m_block)``, the products kept exact by FMA (so each rescaling adds only
       the rounding of that factor, about u); then the block's terms ``exp(x - m)``, added
       into the lanes as in `softmax_rows`;
    2. ``out = exp(x - m) / s``, the terms computed again (float64: block by block into
       `out`, then divided in place by the pair).

    Rows left to the NumPy path (a NaN, an infinite maximum, nothing but -inf) are flagged
    in `bad`.
    """
    rows, n = x.shape
    block = np.empty(min(BLOCK, n))
    acc = np.empty(2 * LANES)
    lanes = np.empty(256 // x.itemsize, dtype=x.dtype)
    for r in range(rows):
        row, m, ok = x[r], -np.inf, True
        acc[:] = 0.0
        for start in range(0, n, BLOCK):
            src = row[start : min(start + BLOCK, n)]
            top = row_max(src, lanes)
            if top > m:
                if not np.isfinite(top):  # +inf: the NumPy path's
                    ok = False
                    break
                if m > -np.inf:  # rescale the running sum to the new maximum
                    d, e = shift(m, top)
                    f = exp_single(d) if is_single(x) else exp_term(d, e, True)
                    for j in range(LANES):
                        hi = acc[j] * f
                        acc[LANES + j] = fma(acc[LANES + j], f, fma(acc[j], f, -hi))
                        acc[j] = hi
                m = top
            if m == -np.inf:  # nothing but -inf and NaN so far: look for NaN
                for v in src:
                    ok = ok and v == v
                continue
            dst = block[: src.shape[0]]
            if is_single(x):
                exp_terms_single(src, m, dst)
                add_rest(dst, vector_sum_plain(dst, 0, dst.shape[0], acc), acc, False)
            else:
                exp_terms(src, m, dst, True, False)
                add_rest(dst, vector_sum(dst, 0, dst.shape[0], acc), acc, True)
        hi, lo = fold(acc, 0, 1, not is_single(x))
        bad[r] = not (ok and np.isfinite(m) and np.isfinite(hi))
        if bad[r]:
            continue
        if is_single(x):
            scale_again(row, m, out[r], 1.0 / (hi + lo))
        else:
            for start in range(0, n, BLOCK):
                part = out[r, start : min(start + BLOCK, n)]
                exp_terms(row[start : start + part.shape[0]], m, part, True, False)
                divide(part, hi, lo)


@compile_kernel()
def log_softmax_rows(x, out, bad):
    """Log-softmax of each row of `x` into `out`; flag in `bad`, and count, rows left to NumPy."""
    rows, n = x.shape
    flagged = 0
    if n < SHORT:
        m, work, acc, sums, lanes = short_scratch(x)
        for first in range(0, rows, WIDTH):
            short_sums(x, first, m, work, acc, sums, lanes)
            for j in range(min(WIDTH, rows - first)):
                r, hi, lo = first + j, sums[0, j], sums[1, j]
                bad[r] = not usable(m[j], hi)
                flagged += bad[r]
                if not bad[r]:
                    subtract(x[r], m[j], log_sum(hi, lo), out[r], False)
        return flagged
    block = np.empty(min(BLOCK, n))
    acc = np.empty(2 * LANES)
    lanes = np.empty(512 // x.itemsize, dtype=x.dtype)
    for r in range(rows):
        m, subnormal, ordered = row_bounds(x[r], lanes)
        ok = np.isfinite(m)
        if ok:
            hi, lo = row_sum(x[r], m, block, acc, True, subnormal, ordered)
            ok = np.isfinite(hi)
            if ok:
                subtract(x[r], m, log_sum(hi, lo), out[r], ordered)
        bad[r] = not ok
        flagged += not ok
    return flagged


@nb.njit(inline="always", error_model="numpy")
def store_log_sum_exp(out, r, m, log_s, ok):
    """``out[r] = m + log_s``, or the row's mark (see `logsumexp_rows`); return 1 if marked."""
    if not ok:
        out[r] = np.nan
        return 1
    out[r] = m + log_s
    if m < 0.0 and abs(np.float64(out[r])) < 0.5 * abs(m):  # the rounded result, as stored
        out[r] = np.inf
        return 1
    return 0


@compile_kernel()
def logsumexp_rows(x, out):
    """Log-sum-exp of each row of `x` into `out`; return how many rows are marked there.

    A row left to the NumPy path is marked NaN; one that cancels (``m < 0`` and the result,
    rounded to `out`'s dtype, below ``|m| / 2``: the test of
    :func:`softmax_lib._dispatch._cancelled`), ``+inf``, for
    :func:`softmax_lib._cancel.logsumexp_near_one`. Neither is the value of a row kept
    (finite, at most ``m + log(n)``), so no array beside `out` records the marks.
    """
    rows, n = x.shape
    marked = 0
    if n < SHORT:
        m, work, acc, sums, lanes = short_scratch(x)
        for first in range(0, rows, WIDTH):
            short_sums(x, first, m, work, acc, sums, lanes)
            for j in range(min(WIDTH, rows - first)):
                hi, lo = sums[0, j], sums[1, j]
                ok = usable(m[j], hi)
                marked += store_log_sum_exp(out, first + j, m[j], log_sum(hi, lo), ok)
        return marked
    block = np.empty(min(BLOCK, n))
    acc = np.empty(2 * LANES)
    lanes = np.empty(512 // x.itemsize, dtype=x.dtype)
    for r in range(rows):
        m, subnormal, ordered = row_bounds(x[r], lanes)
        log_s = 0.0
        ok = np.isfinite(m)
        if ok:
            hi, lo = row_sum(x[r], m, block, acc, True, subnormal, ordered)
            ok = np.isfinite(hi)
            log_s = log_sum(hi, lo)
        marked += store_log_sum_exp(out, r, m, log_s, ok)
    return marked


@compile_kernel(reads=2)  # x and target
def cross_entropy_rows(x, target, out):
    """``-log_softmax(x)[target]`` of each row of `x` (in float64) into `out`.

    The target's entry of the last pass of log-softmax: ``(log s - d) - e`` with
    ``d + e == x_t - m``. Returns how many rows the kernel cannot compute (a NaN, an
    infinite maximum): the caller then leaves every row to the NumPy path.
    """
    rows, n = x.shape
    left = 0
    if n < SHORT:
        m, work, acc, sums, lanes = short_scratch(x)
        for first in range(0, rows, WIDTH):
            short_sums(x, first, m, work, acc, sums, lanes)
            for j in range(min(WIDTH, rows - first)):
                r, hi, lo = first + j, sums[0, j], sums[1, j]
                left += not usable(m[j], hi)
                d, e = shift(np.float64(x[r, target[r]]), m[j])
                e = e if e - e == 0.0 else 0.0  # NaN where d is infinite: no correction there
                out[r] = (log_sum(hi, lo) - d) - e
        return left
    block = np.empty(min(BLOCK, n))
    acc = np.empty(2 * LANES)
    lanes = np.empty(512 // x.itemsize, dtype=x.dtype)
    for r in range(rows):
        m, subnormal, ordered = row_bounds(x[r], lanes)
        ok = np.isfinite(m)
        log_s = 0.0
        if ok:
            hi, lo = row_sum(x[r], m, block, acc, True, subnormal, ordered)
            ok = np.isfinite(hi)
            log_s = log_sum(hi, lo)
        d, e = shift(np.float64(x[r, target[r]]), m)
        e = e if e - e == 0.0 else 0.0  # NaN where d is infinite: no correction there
        out[r] = (log_s - d) - e
        left += not ok
    return left


# One long row, in segments (on threads): the maximum of each, then with the row's
# maximum m the sum of each (as hi + lo, terms kept in `terms` when it is as long as
# the segment), then the output of each with the row's sum.


@compile_kernel()
def segment_max(x):
    """Return the maximum of the 1-D `x` and its lowest entry (see `row_range`), as float64.

    NaN is passed over: the sum shows it.
    """
    return row_range(x, np.empty(512 // x.itemsize, dtype=x.dtype))


@compile_kernel()
def segment_sum(x, m, terms, compensate, subnormal, ordered):
    """``sum(exp(x - m))`` of the 1-D `x`, as ``hi + lo``; see `row_sum`."""
    return row_sum(x, m, terms, np.empty(2 * LANES), compensate, subnormal, ordered)


@compile_kernel()
def segment_softmax(x, m, hi, lo, terms, out):
    """``out = exp(x - m) / (hi + lo)`` for the 1-D `x`, from the terms `segment_sum` left."""
    if not is_single(x):  # float64: the terms are in `out` (`terms` is `out`)
        divide(out, hi, lo)
    elif terms.shape[0] == x.shape[0]:
        scale(terms, out, 1.0 / (hi + lo))
    else:
        scale_again(x, m, out, 1.0 / (hi + lo))


@compile_kernel()
def segment_log_softmax(x, m, log_s, out, ordered):
    """``out = (x - m) - log_s`` for the 1-D `x` (`ordered`: see `row_bounds`)."""
    subtract(x, m, log_s, out, ordered)
