"""Fused kernels, compiled with numba, for softmax, log-softmax, log-sum-exp and cross-entropy.

The NumPy path (:mod:`softmax_lib._normaliser`) makes one array-sized temporary per step
(shift, TwoSum error, exponential, correction, sum). These kernels do the same arithmetic
row by row with no temporaries beyond a block of the row:

1. the row's maximum ``m`` (and whether the row holds NaN), in the row's own dtype;
2. block by block, the terms ``t_i = exp(d_i + e_i)`` where ``d_i + e_i == x_i - m`` exactly
   (TwoSum), with our own ``exp`` that returns ``exp(d)`` as an unevaluated sum ``hi + lo``
   (a table of ``2**(j/32)`` in two parts, Cody-Waite reduction, a degree-6 polynomial,
   fused multiply-adds), so the term is rounded once; and their sum, compensated (TwoSum
   in LANES independent lanes), kept as ``S_hi + S_lo``;
3. the output: ``t_i / S`` (softmax, dividing by the pair), ``(d_i - log S) + e_i`` with
   ``log S = log1p((S_hi - 1) + S_lo)`` (log-softmax), ``m + log S`` (log-sum-exp), or
   the target's entry of log-softmax (cross-entropy).

Every loop is written so that LLVM vectorises it without fast-math (no reassociation: the
lanes are explicit; fused multiply-adds only where written, through `_fma`). numba inlines
the helpers into each kernel, once per level of nesting: the terms of a block and the
log-sum of a row are written out where they are used, not nested one level deeper, which
took about 15% off the compilation and about 20% off the time of rows of 32 entries
(log-softmax, log-sum-exp and cross-entropy), with the same results bit for bit. float32 rows
are read and computed in float64 registers and rounded once when stored; they need less: an
``exp`` without the table, and for softmax a plain sum (a relative error near 2**-40 is far
below half a float32 ULP). Rows whose maximum is not finite or that contain NaN are flagged
and left to the NumPy path, which owns the special-value policy. The ``segment_*`` kernels
compute one long row in segments, which :mod:`softmax_lib._dispatch` runs on threads. Each
kernel is compiled by :func:`softmax_lib._dispatch.compile_kernel`: lazily, cached on disk
where numba can, and with its inputs passed read-only, so that one compiled version serves
read-only and writable arrays alike.

numba is optional: :func:`softmax_lib._dispatch.kernels` is None without it (or with
``SOFTMAX_LIB_NUMBA=0``), and the callers then use the NumPy path, which meets the same
accuracy bounds (the tests run both).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np
from numba import types
from numba.extending import intrinsic

from softmax_lib._dispatch import compile_kernel

FLOOR_D = -746.0  # exp(d) rounds to 0 in float64 below about -745.13: smaller d are clamped
BLOCK = 1024  # terms computed, then summed, per block (8 KiB: stays in L1)
LANES = 32  # independent compensated sums
FLOOR_SINGLE = -700.0  # float32 rows: exp(-700) is a normal float64, 0 once in float32
KEEP_SINGLE = 1024  # float32 softmax keeps a row's terms (float64 scratch) up to this length


@intrinsic
def _fma(typingctx, a, b, c):
    """Return ``a * b + c`` rounded once (LLVM's fma: one instruction where the CPU has it)."""
    sig = types.float64(types.float64, types.float64, types.float64)

    def codegen(context, builder, signature, args):
        return builder.fma(*args)

    return sig, codegen


@intrinsic
def _single(typingctx, x):
    """Whether the array `x` is float32, as a constant the compiler folds (itemsize is not)."""
    is_single = x.dtype == types.float32

    def codegen(context, builder, signature, args):
        return context.get_constant(types.boolean, is_single)

    return types.boolean(x), codegen


def _table():
    """2**(j/32) for j = 0..31, each as hi + lo (hi the rounded value, lo what is left)."""
    import mpmath

    with mpmath.workprec(200):
        exact = [mpmath.mpf(2) ** (mpmath.mpf(j) / 32) for j in range(32)]
        hi = [float(v) for v in exact]
        lo = [float(v - mpmath.mpf(h)) for v, h in zip(exact, hi, strict=True)]
    return np.array(hi), np.array(lo)


TABLE_HI, TABLE_LO = _table()
INV_LN2_32 = 46.16624130844683  # 32 / ln 2
LN2_32_HI = 0.021660849391992087  # ln 2 / 32 to 35 bits: k * LN2_32_HI is exact for |k| < 2**18
LN2_32_LO = 5.062034433330175e-13  # ln 2 / 32 - LN2_32_HI, rounded
INV_LN2 = 1.4426950408889634  # 1 / ln 2
LN2 = 0.6931471805599453  # ln 2, rounded
SHIFTER = 6755399441055744.0  # 1.5 * 2**52: y + SHIFTER holds round(y) in its low bits
EXP_BITS = -(1 << 52)  # the sign and exponent field of a float64, as an int64 mask
BIAS_60 = (1023 + 60) << 52  # the exponent field of 2**60
TWO_M60 = 2.0**-60


@nb.njit(inline="always")
def _reduce(d):
    """Split d as ``(32 k + j) ln2 / 32 + r``: return ``kf = 32 k + j``, ``j``, ``2**(k + 60)``.

    ``kf`` is rounded to the nearest integer by adding SHIFTER, whose low bits then
    hold it (two's complement): ``j`` and ``k`` are read from them, no conversion.
    """
    shifted = _fma(d, INV_LN2_32, SHIFTER)
    kf = shifted - SHIFTER
    bits = np.float64(shifted).view(np.int64)
    scale = np.int64(((bits << 47) & EXP_BITS) + BIAS_60).view(np.float64)
    return kf, bits & 31, scale


@nb.njit(inline="always")
def exp_parts(d, e):
    """``exp(d + e) == (hi + lo) * scale * 2**-60`` for FLOOR_D <= d <= 0, to about 2**-57.

    ``e`` is the rounding error of ``d`` (``|e| <= ulp(d) / 2``). ``d = (32 k + j)
    ln2 / 32 + r`` with ``|r| <= ln2 / 64``, so ``exp(d) = 2**k 2**(j/32) exp(r)``;
    the table holds ``2**(j/32)`` in two parts, ``exp(r) - 1`` is a short
    polynomial, and ``2**(k + 60)`` is exact even where ``2**k`` is subnormal.
    """
    kf, j, scale = _reduce(d)
    r_hi = _fma(-kf, LN2_32_HI, d)  # exact
    r = _fma(-kf, LN2_32_LO, r_hi)
    r_lo = _fma(-kf, LN2_32_LO, r_hi - r)
    p = _fma(r, 1.0 / 720, 1.0 / 120)
    p = _fma(r, _fma(r, _fma(r, p, 1.0 / 24), 1.0 / 6), 0.5)
    tail = r + _fma(r * r, p, r_lo)  # exp(r + r_lo) - 1
    tail = tail + _fma(e, tail, e)  # exp(r + r_lo + e) - 1
    hi = TABLE_HI[j]
    return hi, _fma(hi, tail, TABLE_LO[j]), scale


@nb.njit(inline="always")
def _two_sum(a, b):
    s = a + b
    b_virtual = s - a
    return s, (a - (s - b_virtual)) + (b - b_virtual)


@nb.njit(inline="always")
def _shift(xi, m):
    """``d + e == xi - m`` exactly (TwoSum), with d clamped to FLOOR_D (and e then 0)."""
    d, e = _two_sum(xi, -m)
    low = d < FLOOR_D
    return (FLOOR_D if low else d), (0.0 if low else e)


@nb.njit(inline="always")
def _term(xi, m):
    """``exp(xi - m)`` rounded once, for a float64 ``xi <= m``."""
    d, e = _shift(xi, m)
    hi, lo, scale = exp_parts(d, e)
    return ((hi + lo) * scale) * TWO_M60  # the first product is exact, the second rounds


@nb.njit(inline="always")
def _term_single(xi, m):
    """``exp(xi - m)`` for a float32 ``xi``, with a relative error below 2**-36.

    Its results are rounded to float32 (2**-24), so less suffices, and no table:
    ``xi - m`` is within 2**-53 in float64 (no TwoSum); ``d = k ln2 + r`` with one constant
    (off by at most 2**-43) and ``|r| <= ln2 / 2``; ``exp(r)`` a polynomial of
    degree 9; results below 2**-1000, which vanish in float32, are not made exact:
    d is clamped to FLOOR_SINGLE and ``2**k`` goes into the exponent bits directly.
    """
    d = max(np.float64(xi) - m, FLOOR_SINGLE)
    shifted = _fma(d, INV_LN2, SHIFTER)
    kf = shifted - SHIFTER
    r = _fma(-kf, LN2, d)
    p = _fma(r, 1.0 / 362880, 1.0 / 40320)
    for c in (1.0 / 5040, 1.0 / 720, 1.0 / 120, 1.0 / 24, 1.0 / 6, 0.5, 1.0, 1.0):
        p = _fma(r, p, c)
    k_bits = np.float64(shifted).view(np.int64) << 52
    return np.int64(np.float64(p).view(np.int64) + k_bits).view(np.float64)


@nb.njit(inline="always")
def _add_plain(v, lanes):
    """Add ``v`` into LANES running sums, uncompensated: enough for float32 softmax.

    Their sums need a relative error far below 2**-24, not the compensated 2**-100.
    """
    n = v.shape[0]
    i = 0
    while i + LANES <= n:
        for j in range(LANES):
            lanes[j] += v[i + j]
        i += LANES
    for j in range(n - i):
        lanes[j] += v[i + j]


@nb.njit(inline="always")
def _add_compensated(v, lanes, errors):
    """Add ``v`` into LANES running sums with TwoSum, their errors into `errors`.

    Thirty-two independent lanes keep the TwoSum chains of a long row from stalling
    the vector units; the lanes run on across blocks and are combined once per row.
    """
    n = v.shape[0]
    i = 0
    while i + LANES <= n:
        for j in range(LANES):
            s, e = _two_sum(lanes[j], v[i + j])
            errors[j] += e
            lanes[j] = s
        i += LANES
    for j in range(n - i):
        s, e = _two_sum(lanes[j], v[i + j])
        errors[j] += e
        lanes[j] = s


@nb.njit(inline="always")
def _combine(lanes, errors, compensate):
    """Return the lanes' total as ``hi + lo``: upper halves folded onto lower, to one lane."""
    half = LANES
    while half > 1:
        half //= 2
        for j in range(half):
            if compensate:
                s, e = _two_sum(lanes[j], lanes[j + half])
                errors[j] += errors[j + half] + e
            else:
                s = lanes[j] + lanes[j + half]
            lanes[j] = s
    return lanes[0], errors[0] if compensate else 0.0


@nb.njit(inline="always")
def _row_max(row):
    """Return the row's maximum (as float64) and whether it holds NaN.

    Computed in the row's own dtype (16 float32 lanes fit where 8 float64 do), in 8
    explicit lanes, which LLVM vectorises without fast-math; ``v - v`` stays 0 unless
    v is NaN or infinite.
    """
    n = row.shape[0]
    m0 = m1 = m2 = m3 = m4 = m5 = m6 = m7 = row[0]
    z0 = z1 = z2 = z3 = z4 = z5 = z6 = z7 = row[0] - row[0]
    i = 0
    while i + 8 <= n:
        v0, v1, v2, v3 = row[i], row[i + 1], row[i + 2], row[i + 3]
        v4, v5, v6, v7 = row[i + 4], row[i + 5], row[i + 6], row[i + 7]
        m0, m1 = (v0 if v0 > m0 else m0), (v1 if v1 > m1 else m1)
        m2, m3 = (v2 if v2 > m2 else m2), (v3 if v3 > m3 else m3)
        m4, m5 = (v4 if v4 > m4 else m4), (v5 if v5 > m5 else m5)
        m6, m7 = (v6 if v6 > m6 else m6), (v7 if v7 > m7 else m7)
        z0, z1, z2, z3 = z0 + (v0 - v0), z1 + (v1 - v1), z2 + (v2 - v2), z3 + (v3 - v3)
        z4, z5, z6, z7 = z4 + (v4 - v4), z5 + (v5 - v5), z6 + (v6 - v6), z7 + (v7 - v7)
        i += 8
    m = max(max(max(m0, m1), max(m2, m3)), max(max(m4, m5), max(m6, m7)))
    z = ((z0 + z1) + (z2 + z3)) + ((z4 + z5) + (z6 + z7))
    while i < n:
        v = row[i]
        m = v if v > m else m
        z += v - v
        i += 1
    has_nan = False
    if z != z:  # an infinity or a NaN: look again, for NaN only (rare)
        for j in range(n):
            has_nan |= row[j] != row[j]
    return np.float64(m), has_nan


@nb.njit(inline="always")
def _row_sum(row, m, terms, lanes, errors, single, compensate):
    """``sum(exp(row - m))`` as ``hi + lo``, block by block; the terms are left in `terms`.

    `terms` holds the whole row (softmax keeps them) or one block (reused); `single`
    says the row is float32 (cheaper terms suffice); `compensate` is False only for
    float32 softmax, which needs the sum, not its tail beside the maximum's term
    (log1p of that tail is what log-softmax and log-sum-exp need).
    """
    n = row.shape[0]
    keep = terms.shape[0] == n
    lanes[:] = 0.0
    errors[:] = 0.0
    for start in range(0, n, BLOCK):
        stop = min(start + BLOCK, n)
        dst = terms[start:stop] if keep else terms[: stop - start]
        src = row[start:stop]  # the block's terms: exp(src - m)
        if single:
            for i in range(src.shape[0]):
                dst[i] = _term_single(src[i], m)
        else:
            for i in range(src.shape[0]):
                dst[i] = _term(np.float64(src[i]), m)
        if compensate:
            _add_compensated(dst, lanes, errors)
        else:
            _add_plain(dst, lanes)
    return _combine(lanes, errors, compensate)


@nb.njit(inline="always")
def _divide(row, m, hi, lo, t, o, single):
    """Write softmax's last pass: ``o = t / (hi + lo)`` (long float32 rows: terms again).

    float64: ``q = t / hi``, then its residual ``t - q (hi + lo)`` (exact but for the
    tiny ``q lo``) corrects q, so the sum is not rounded to one double first (which
    cost up to one ULP more).
    """
    s = hi + lo
    if not single:  # t is o: in place (LLVM would not vectorise o[i] = t[i] / s)
        inverse = 1.0 / s
        for i in range(t.shape[0]):
            q = t[i] / hi
            t[i] = _fma(_fma(-q, lo, _fma(-q, hi, t[i])), inverse, q)
    elif t.shape[0] == row.shape[0]:  # float32: t * (1 / s) is within 2**-51 of t / s
        for i in range(t.shape[0]):
            o[i] = t[i] * (1.0 / s)
    else:
        for i in range(row.shape[0]):
            o[i] = _term_single(row[i], m) * (1.0 / s)


@nb.njit(inline="always")
def _subtract(row, m, log_s, o, single):
    """Write log-softmax's last pass: ``o = (x - m) - log s``, the error of x - m kept."""
    # float32: x_i - m in float64 is exact when the binary exponents of x_i and m differ by
    # at most 29 (24 + 29 = 53 bits); beyond that it is rounded, by at most 2**-53 relative,
    # far below half a float32 ULP (at least 2**-25 relative), so the rounding to float32
    # when o[i] is stored dominates the error.
    if single:
        for i in range(row.shape[0]):
            o[i] = (np.float64(row[i]) - m) - log_s
    else:
        for i in range(row.shape[0]):
            d, e = _two_sum(row[i], -m)  # d + e == x_i - m exactly
            e = e if e - e == 0.0 else 0.0  # NaN where d is infinite: no correction there
            o[i] = (d - log_s) + e


@compile_kernel()
def softmax_rows(x, out, terms, bad):
    """Softmax of each row of the C-contiguous 2-D `x` into `out`.

    Rows left to the NumPy path are flagged in `bad`. `terms` holds a row's
    terms until their sum is known: `out` itself when it is float64 (no scratch
    at all; it must be `out`), else one float64 row, reused for every row, or
    for float32 rows longer than KEEP_SINGLE one block: their terms are computed
    again in the last pass (cheaper than memory the size of the input).
    """
    rows = x.shape[0]
    single = _single(x)
    lanes, errors = np.empty(LANES), np.empty(LANES)
    for r in range(rows):
        row = x[r]
        m, has_nan = _row_max(row)
        if has_nan or not np.isfinite(m):
            bad[r] = True
            continue
        t = terms[r] if terms.shape[0] == rows else terms[0]
        hi, lo = _row_sum(row, m, t, lanes, errors, single, not single)
        _divide(row, m, hi, lo, t, out[r], single)


@compile_kernel()
def log_softmax_rows(x, out, bad):
    """Log-softmax of each row of `x` into `out`; flag rows left to NumPy."""
    block = np.empty(min(BLOCK, x.shape[1]))
    single = _single(x)
    lanes, errors = np.empty(LANES), np.empty(LANES)
    for r in range(x.shape[0]):
        m, has_nan = _row_max(x[r])
        ok = not has_nan and np.isfinite(m)  # else the row is left to NumPy
        if ok:  # log s = log(sum(exp(x - m))), with hi >= 1 (the maximum's term): hi - 1 exact
            hi, lo = _row_sum(x[r], m, block, lanes, errors, single, True)
            _subtract(x[r], m, math.log1p((hi - 1.0) + lo), out[r], single)
        bad[r] = not ok


@compile_kernel()
def logsumexp_rows(x, out, maxima, bad):
    """Log-sum-exp of each row of `x` into `out` (and its maximum into `maxima`)."""
    block = np.empty(min(BLOCK, x.shape[1]))
    single = _single(x)
    lanes, errors = np.empty(LANES), np.empty(LANES)
    for r in range(x.shape[0]):
        m, has_nan = _row_max(x[r])
        ok = not has_nan and np.isfinite(m)  # else the row is left to NumPy
        log_s = 0.0  # log(sum(exp(x - m))), with hi >= 1 (the maximum's term): hi - 1 exact
        if ok:
            hi, lo = _row_sum(x[r], m, block, lanes, errors, single, True)
            log_s = math.log1p((hi - 1.0) + lo)
        maxima[r] = m
        bad[r] = not ok
        out[r] = m + log_s


@compile_kernel(reads=2)  # x and target
def cross_entropy_rows(x, target, out, bad):
    """``-log_softmax(x)[target]`` of each row of `x` (in float64) into `out`.

    The target's entry of the last pass of log-softmax: ``(log s - d) - e`` with
    ``d + e == x_t - m``. Rows left to the NumPy path are flagged in `bad`.
    """
    block = np.empty(min(BLOCK, x.shape[1]))
    single = _single(x)
    lanes, errors = np.empty(LANES), np.empty(LANES)
    for r in range(x.shape[0]):
        m, has_nan = _row_max(x[r])
        ok = not has_nan and np.isfinite(m)  # else the row is left to NumPy
        log_s = 0.0  # log(sum(exp(x - m))), with hi >= 1 (the maximum's term): hi - 1 exact
        if ok:
            hi, lo = _row_sum(x[r], m, block, lanes, errors, single, True)
            log_s = math.log1p((hi - 1.0) + lo)
        d, e = _two_sum(np.float64(x[r, target[r]]), -m)
        e = e if e - e == 0.0 else 0.0  # NaN where d is infinite: no correction there
        out[r] = (log_s - d) - e
        bad[r] = not ok


# One long row, in segments (on threads): the maximum of each, then with the row's
# maximum m the sum of each (as hi + lo, terms kept in `terms` when it is as long as
# the segment), then the output of each with the row's sum.


@compile_kernel()
def segment_max(x):
    """Return the maximum of the 1-D `x` (as float64) and whether it holds NaN."""
    return _row_max(x)


@compile_kernel()
def segment_sum(x, m, terms, compensate):
    """``sum(exp(x - m))`` of the 1-D `x`, as ``hi + lo``; see `_row_sum`."""
    lanes, errors = np.empty(LANES), np.empty(LANES)
    return _row_sum(x, m, terms, lanes, errors, _single(x), compensate)


@compile_kernel()
def segment_softmax(x, m, hi, lo, terms, out):
    """``out = exp(x - m) / (hi + lo)`` for the 1-D `x`, from the terms `segment_sum` left."""
    _divide(x, m, hi, lo, terms, out, _single(x))


@compile_kernel()
def segment_log_softmax(x, m, log_s, out):
    """``out = (x - m) - log_s`` for the 1-D `x`."""
    _subtract(x, m, log_s, out, _single(x))
