"""Fused kernels, compiled with numba, for softmax, log-softmax, log-sum-exp and cross-entropy.

The NumPy path (:mod:`softmax_lib._normaliser`) makes one array-sized temporary per step
(shift, TwoSum error, exponential, correction, sum). These kernels do the same arithmetic
row by row with no temporaries beyond a block of the row:

1. the row's maximum ``m``, in the row's own dtype;
2. block by block, the terms ``t_i = exp(d_i + e_i)`` where ``d_i + e_i == x_i - m`` exactly
   (TwoSum), with our own ``exp`` (below), rounded once; and their sum, compensated
   (TwoSum in 32 independent lanes), kept as ``S_hi + S_lo``;
3. the output: ``t_i / S`` (softmax, dividing by the pair), ``(d_i - log S) + e_i`` with
   ``log S = log1p((S_hi - 1) + S_lo)`` (log-softmax), ``m + log S`` (log-sum-exp), or
   the target's entry of log-softmax (cross-entropy).

Speed comes from letting LLVM use the vector units on every pass, without fast-math (which
would reassociate the compensated sums away):

- The ``exp`` has no table: ``d = k ln 2 + r`` with ``|r| <= ln(2) / 2`` (an FMA makes the
  reduction exact), ``exp(r) = 1 + r + r**2 P(r)`` with ``P`` a polynomial of degree 10
  fitted on that interval (a relative error below 2**-61) and ``1 + r`` kept as an
  unevaluated pair, so the term is rounded once; ``2**k`` goes into the exponent bits.
  Every lane does the same arithmetic (a table look-up is a gather, which kept LLVM's
  loop scalar). Terms below 2**-1022 take a second pass that scales by ``2**k`` in two
  steps, so that subnormal terms are rounded once too.
- The maximum and the compensated sum are two small intrinsics written in LLVM IR
  (:func:`_vector_max`, :func:`_vector_sum`), whose vector accumulators live in registers:
  numba cannot tell LLVM that a small array of lanes does not alias the data, and lanes in
  memory made the same loop several times slower (a store-to-load chain per element).
- Each hot loop is its own small function over 1-D slices (not inlined into the kernels:
  the inlined versions vectorised worse).
- Rows shorter than SHORT are taken eight at a time, transposed, one row per lane of the
  vectors: their terms are one flat loop and each row's sum needs no fold across lanes.

float32 rows are read and computed in float64 registers and rounded once when stored; they
need less: a polynomial of degree 7 (2**-43), no TwoSum, and for softmax a plain sum (a
relative error near 2**-40 is far below half a float32 ULP). Rows whose maximum is not
finite, or whose sum is not (a NaN in the row), are flagged and left to the NumPy path,
which owns the special-value policy. The ``segment_*`` kernels compute one long row in
segments, which :mod:`softmax_lib._dispatch` runs on threads. Each kernel is compiled by
:func:`softmax_lib._dispatch.compile_kernel`: lazily, cached on disk where numba can, and
with its inputs passed read-only, so that one compiled version serves read-only and
writable arrays alike.

numba is optional: :func:`softmax_lib._dispatch.kernels` is None without it (or with
``SOFTMAX_LIB_NUMBA=0``), and the callers then use the NumPy path, which meets the same
accuracy bounds (the tests run both).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from softmax_lib._dispatch import compile_kernel

BLOCK = 1024  # terms computed, then summed, per block (8 KiB: stays in L1)
LANES = 32  # independent compensated sums: 4 vectors of 8 doubles
SHORT = 128  # shorter rows are computed eight at a time, one per lane
WIDTH = 8  # rows side by side in the short-row path
KEEP_SINGLE = 4096  # float32 softmax keeps a row's terms (float64 scratch) up to this length
UNDER = -745.2  # exp(d) rounds to 0 in float64 below about -745.13
SUBNORMAL = -708.3  # exp(d) is subnormal below about -708.40: scaled in two steps
FLOOR_SINGLE = -700.0  # float32 rows: exp(-700) is a normal float64, 0 once in float32
INV_LN2 = 1.4426950408889634  # 1 / ln 2, rounded
LN2_HI = 0.6931471805599453  # ln 2 rounded: k * LN2_HI is exact to the FMA's one rounding
LN2_LO = 2.3190468138462996e-17  # ln 2 - LN2_HI, rounded
SHIFTER = 6755399441055744.0  # 1.5 * 2**52: y + SHIFTER holds round(y) in its low bits
# exp(r) = 1 + r + r**2 P(r) on |r| <= ln(2) / 2: P the Chebyshev fit of degree 10 to
# (exp(r) - 1 - r) / r**2 (mpmath.chebyfit; 1.4e-18 off, 2**-61 relative in exp once rounded),
# highest degree first; and of degree 7 (4.6e-13 off, 2**-43 relative) for float32 rows.
POLY = (
    2.0914679376583935e-09,
    2.510520637395701e-08,
    2.7557273661348637e-07,
    2.7557255425746435e-06,
    2.4801587325533363e-05,
    0.00019841269874800493,
    0.0013888888888883752,
    0.008333333333326141,
    0.04166666666666667,
    0.1666666666666667,
    0.5,
)
POLY_SINGLE = (
    2.7617564785876086e-06,
    2.4867870179687727e-05,
    0.00019841224599656011,
    0.0013888839110572009,
    0.00833333334420298,
    0.04166666678626573,
    0.16666666666662586,
    0.4999999999995511,
)


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


@intrinsic
def _bits(typingctx, x):
    """Return the bits of the float64 `x` as an int64 (a bitcast: no conversion)."""

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@intrinsic
def _from_bits(typingctx, k):
    """Return the float64 whose bits are the int64 `k`."""

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


def _vector_loop(context, builder, data, start, stop, step, body):
    """Emit ``for i in range(start, start + step * count): body(address of x[i])``.

    `count` is how many whole steps fit in ``stop - start``; returns the index after them.
    """
    intp = context.get_value_type(types.intp)
    count = builder.sdiv(builder.sub(stop, start), ir.Constant(intp, step))
    with cgutils.for_range(builder, count) as loop:
        base = builder.add(start, builder.mul(loop.index, ir.Constant(intp, step)))
        body(lambda offset: builder.gep(data, [builder.add(base, ir.Constant(intp, offset))]))
    return builder.add(start, builder.mul(count, ir.Constant(intp, step)))


@intrinsic
def _vector_max(typingctx, x, start, stop, lanes):
    """Fold ``x[start:]`` into `lanes` (4 vectors of 64 bytes, x's dtype) by maximum.

    Whole vectors only: returns the index where the rest begins. NaN entries are passed
    over (an ordered comparison); a NaN shows later, in the sum.
    """
    sig = types.intp(x, types.intp, types.intp, lanes)

    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        acc = context.make_array(signature.args[3])(context, builder, args[3]).data
        element = context.get_value_type(signature.args[0].dtype)
        width = 64 // context.get_abi_sizeof(element)
        vector = ir.VectorType(element, width).as_pointer()
        intp = context.get_value_type(types.intp)

        def lane(u):
            return builder.bitcast(builder.gep(acc, [ir.Constant(intp, u * width)]), vector)

        regs = [
            cgutils.alloca_once_value(builder, builder.load(lane(u), align=4)) for u in range(4)
        ]

        def body(at):
            for u, reg in enumerate(regs):
                v = builder.load(builder.bitcast(at(u * width), vector), align=4)
                m = builder.load(reg)
                builder.store(builder.select(builder.fcmp_ordered(">", v, m), v, m), reg)

        done = _vector_loop(context, builder, data, args[1], args[2], 4 * width, body)
        for u, reg in enumerate(regs):
            builder.store(builder.load(reg), lane(u), align=4)
        return done

    return sig, codegen


def _make_vector_sum(compensate):
    """Make an intrinsic that adds ``t[start:]`` (float64) into LANES lanes, 4 vectors of 8.

    ``acc[:LANES]`` are the sums and, with `compensate`, ``acc[LANES:]`` the rounding
    errors of each addition (TwoSum, exact), added up. Whole steps of LANES only: returns
    the index where the rest begins. No fast-math flag is set, so the TwoSum survives.
    """

    @intrinsic
    def vector_sum(typingctx, t, start, stop, acc):
        sig = types.intp(t, types.intp, types.intp, acc)

        def codegen(context, builder, signature, args):
            data = context.make_array(signature.args[0])(context, builder, args[0]).data
            lanes = context.make_array(signature.args[3])(context, builder, args[3]).data
            vector = ir.VectorType(ir.DoubleType(), 8).as_pointer()
            intp = context.get_value_type(types.intp)

            def lane(u):
                return builder.bitcast(builder.gep(lanes, [ir.Constant(intp, 8 * u)]), vector)

            parts = 8 if compensate else 4
            regs = [
                cgutils.alloca_once_value(builder, builder.load(lane(u), align=8))
                for u in range(parts)
            ]

            def body(at):
                for u in range(4):
                    v = builder.load(builder.bitcast(at(8 * u), vector), align=8)
                    a = builder.load(regs[u])
                    s = builder.fadd(a, v)
                    builder.store(s, regs[u])
                    if compensate:  # TwoSum: (a - (s - bv)) + (v - bv), bv = s - a
                        bv = builder.fsub(s, a)
                        err = builder.fadd(
                            builder.fsub(a, builder.fsub(s, bv)), builder.fsub(v, bv)
                        )
                        builder.store(builder.fadd(builder.load(regs[4 + u]), err), regs[4 + u])

            done = _vector_loop(context, builder, data, args[1], args[2], LANES, body)
            for u, reg in enumerate(regs):
                builder.store(builder.load(reg), lane(u), align=8)
            return done

        return sig, codegen

    return vector_sum


_vector_sum = _make_vector_sum(True)
_vector_sum_plain = _make_vector_sum(False)


@nb.njit(inline="always", error_model="numpy")
def _two_sum(a, b):
    s = a + b
    b_virtual = s - a
    return s, (a - (s - b_virtual)) + (b - b_virtual)


@nb.njit(inline="always", error_model="numpy")
def _exp(d, e, subnormal):
    """``exp(d + e)`` rounded once, for ``d <= 0`` and ``|e| <= ulp(d) / 2``; 0 below UNDER.

    ``d = k ln2 + r``: the FMA ``d - k LN2_HI`` is exact (d and k LN2_HI are multiples
    of 2**-53 near each other, or k is 0), and ``r + r_lo`` takes the rest of
    ``-k LN2_LO + e`` (TwoSum), so the reduced argument is good to about 2**-105.
    ``1 + r`` is the pair ``h + h_lo`` (exact); the polynomial part ``q`` is below
    0.07, so its rounding adds at most 1/16 ULP to the last one. With `subnormal`,
    ``2**k`` is applied in two steps, so that a subnormal result is rounded once.
    NaN stays NaN.
    """
    shifted = _fma(d, INV_LN2, SHIFTER)
    kf = shifted - SHIFTER
    k = _bits(shifted) - _bits(SHIFTER)
    r, r_lo = _two_sum(_fma(-kf, LN2_HI, d), _fma(-kf, LN2_LO, e))
    p = POLY[0]
    for c in POLY[1:]:
        p = _fma(p, r, c)
    q = _fma(r * r, p, r_lo)  # exp(r + r_lo) - 1 - r, to 2**-61 relative in exp
    h = 1.0 + r
    h_lo = (1.0 - h) + r  # exact: |r| < 1
    t = h + (h_lo + q)
    if subnormal:
        half = k >> 1
        t = (t * _from_bits((half + 1023) << 52)) * _from_bits((k - half + 1023) << 52)
    else:
        t = t * _from_bits((k + 1023) << 52)
    return 0.0 if d < UNDER else t


@nb.njit(inline="always", error_model="numpy")
def _exp_single(d):
    """``exp(d)`` for ``d <= 0``, to 2**-43 relative: enough for one rounding to float32.

    d is clamped to FLOOR_SINGLE (results that vanish in float32), so 2**k is normal.
    """
    d = FLOOR_SINGLE if d < FLOOR_SINGLE else d
    shifted = _fma(d, INV_LN2, SHIFTER)
    kf = shifted - SHIFTER
    k = _bits(shifted) - _bits(SHIFTER)
    r = _fma(-kf, LN2_HI, d)
    p = POLY_SINGLE[0]
    for c in POLY_SINGLE[1:]:
        p = _fma(p, r, c)
    return (1.0 + _fma(r * r, p, r)) * _from_bits((k + 1023) << 52)


@nb.njit(inline="always", error_model="numpy")
def _shift(v, m):
    """``d + e == v - m`` exactly (TwoSum, written out for the vectoriser)."""
    d = v - m
    b_virtual = d - v
    return d, (v - (d - b_virtual)) - (m + b_virtual)


# The hot loops: each a small function over 1-D slices, so that LLVM vectorises it.


@nb.njit(error_model="numpy")
def _terms(x, m, t):
    """``t = exp(x - m)`` for float64 `x`; True if some term is subnormal (redo: `_terms_low`)."""
    low = 0
    for i in range(x.shape[0]):
        d, e = _shift(x[i], m)
        t[i] = _exp(d, e, False)
        low |= (d < SUBNORMAL) & (d >= UNDER)
    return low != 0


@nb.njit(error_model="numpy")
def _terms_low(x, m, t):
    """``t = exp(x - m)`` for float64 `x`, subnormal terms rounded once."""
    for i in range(x.shape[0]):
        d, e = _shift(x[i], m)
        t[i] = _exp(d, e, True)


@nb.njit(error_model="numpy")
def _terms_single(x, m, t):
    """``t = exp(x - m)`` (float64) for float32 `x`: x - m is exact or within 2**-53."""
    for i in range(x.shape[0]):
        t[i] = _exp_single(np.float64(x[i]) - m)


@nb.njit(error_model="numpy")
def _max(x, lanes):
    """Return the maximum of the 1-D `x` (NaN passed over; -inf if all NaN), as float64."""
    lanes[:] = -np.inf
    done = _vector_max(x, 0, x.shape[0], lanes)
    m = lanes[0]
    for j in range(1, lanes.shape[0]):
        m = lanes[j] if lanes[j] > m else m
    for i in range(done, x.shape[0]):
        m = x[i] if x[i] > m else m
    return np.float64(m)


@nb.njit(inline="always", error_model="numpy")
def _add_rest(t, start, acc, compensate):
    """Add ``t[start:]`` (fewer than LANES) into the lanes, one each."""
    for i in range(start, t.shape[0]):
        j = i - start
        if compensate:
            s, e = _two_sum(acc[j], t[i])
            acc[LANES + j] += e
            acc[j] = s
        else:
            acc[j] += t[i]


@nb.njit(error_model="numpy")
def _fold(acc, first, stride, compensate):
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
                s, e = _two_sum(acc[j], acc[j + half])
                acc[LANES + j] += acc[LANES + j + half] + e
                acc[j] = s
            else:
                acc[j] += acc[j + half]
    if compensate:
        return _two_sum(acc[first], acc[LANES + first])
    return acc[first], 0.0


@nb.njit(error_model="numpy")
def _row_sum(row, m, t, acc, compensate):
    """``sum(exp(row - m))`` as ``hi + lo``, block by block; the terms are left in `t`.

    `t` holds the whole row (softmax keeps them) or one block (reused); `compensate` is
    False only for float32 softmax, which needs the sum, not its tail beside the
    maximum's term (log1p of that tail is what log-softmax and log-sum-exp need).
    """
    n = row.shape[0]
    keep = t.shape[0] >= n
    acc[:] = 0.0
    for start in range(0, n, BLOCK):
        stop = min(start + BLOCK, n)
        src = row[start:stop]
        dst = t[start:stop] if keep else t[: stop - start]
        if _single(row):
            _terms_single(src, m, dst)
        elif _terms(src, m, dst):
            _terms_low(src, m, dst)
        if compensate:
            _add_rest(dst, _vector_sum(dst, 0, dst.shape[0], acc), acc, True)
        else:
            _add_rest(dst, _vector_sum_plain(dst, 0, dst.shape[0], acc), acc, False)
    return _fold(acc, 0, 1, compensate)


@nb.njit(error_model="numpy")
def _divide(t, hi, lo):
    """``t = t / (hi + lo)`` in place: ``q = t (1 / hi)``, corrected by its exact residual.

    ``t - q hi`` is exact (FMA); with ``- q lo`` it is the residual against the pair, and
    ``q + residual / hi`` is within a hair of half an ULP of ``t / (hi + lo)``, without a
    division per element (a division is several times slower than an FMA). In place, on
    one array: with the terms and the output as two arguments that are the same memory,
    LLVM's run-time overlap check sent the loop to its scalar version (3x slower).
    """
    inverse = 1.0 / hi
    for i in range(t.shape[0]):
        q = t[i] * inverse
        t[i] = _fma(_fma(-q, lo, _fma(-q, hi, t[i])), inverse, q)


@nb.njit(error_model="numpy")
def _scale(t, o, inverse):
    """``o = t * inverse`` (float32 softmax: within 2**-51 of ``t / s``, then rounded)."""
    for i in range(t.shape[0]):
        o[i] = t[i] * inverse


@nb.njit(error_model="numpy")
def _scale_again(x, m, o, inverse):
    """``o = exp(x - m) * inverse`` for float32 rows whose terms were not kept."""
    for i in range(x.shape[0]):
        o[i] = _exp_single(np.float64(x[i]) - m) * inverse


@nb.njit(error_model="numpy")
def _subtract(x, m, log_s, o):
    """Write log-softmax's last pass: ``o = (x - m) - log s``, the error of x - m kept.

    float32: x_i - m in float64 is exact when the binary exponents of x_i and m differ by
    at most 29 (24 + 29 = 53 bits); beyond that it is rounded, by at most 2**-53
    relative, far below half a float32 ULP, so the rounding when o[i] is stored dominates.
    """
    if _single(x):
        for i in range(x.shape[0]):
            o[i] = (np.float64(x[i]) - m) - log_s
    else:
        for i in range(x.shape[0]):
            d, e = _shift(x[i], m)
            value = (d - log_s) + e
            o[i] = value if d > -np.inf else d  # -inf entries: e is NaN there


@nb.njit(inline="always", error_model="numpy")
def _log_sum(hi, lo):
    """``log(hi + lo)`` for a sum with ``hi >= 1`` (the maximum's term): hi - 1 is exact."""
    return math.log1p((hi - 1.0) + lo)


# Short rows, eight side by side: `work` holds per column c and row j, at c * WIDTH + j,
# the shifted logit d (row 0), its TwoSum error e (row 1) and the term t (row 2).


@nb.njit(error_model="numpy")
def _terms_flat(d, e, t):
    """``t = exp(d + e)`` over the flat arrays; True if some term is subnormal."""
    low = 0
    for i in range(d.shape[0]):
        t[i] = _exp(d[i], e[i], False)
        low |= (d[i] < SUBNORMAL) & (d[i] >= UNDER)
    return low != 0


@nb.njit(error_model="numpy")
def _terms_flat_low(d, e, t):
    for i in range(d.shape[0]):
        t[i] = _exp(d[i], e[i], True)


@nb.njit(error_model="numpy")
def _terms_flat_single(d, t):
    for i in range(d.shape[0]):
        t[i] = _exp_single(d[i])


@nb.njit(error_model="numpy")
def _short_sums(x, first, m, work, acc, sums, lanes):
    """Rows ``first, ...`` (up to WIDTH) of `x`, shorter than SHORT: shift, terms and sums.

    ``m[j]`` gets row j's maximum (NaN passed over), ``sums[0, j] + sums[1, j]`` the sum of
    its terms (0 where m is not finite: such a row is flagged by the caller). Missing rows
    past the end repeat the last one. The lanes of `_vector_sum` are four columns of eight
    rows: lane k adds row ``k % WIDTH``.
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
            m[j] = _max(x[rows[j]], lanes)  # NaN passed over
    size = n * WIDTH
    d, e, t = work[0, :size], work[1, :size], work[2, :size]
    for j in range(WIDTH):
        mj = m[j] if np.isfinite(m[j]) else 0.0  # a harmless shift; the row is flagged
        row = x[rows[j]]
        for c in range(n):
            d[c * WIDTH + j], e[c * WIDTH + j] = _shift(np.float64(row[c]), mj)
    if _single(x):
        _terms_flat_single(d, t)
    elif _terms_flat(d, e, t):
        _terms_flat_low(d, e, t)
    acc[:] = 0.0
    done = _vector_sum(t, 0, size, acc)
    for i in range(done, size):  # fewer than LANES: lane i - done is row i % WIDTH
        s, err = _two_sum(acc[i - done], t[i])
        acc[LANES + i - done] += err
        acc[i - done] = s
    for j in range(WIDTH):
        sums[0, j], sums[1, j] = _fold(acc, j, WIDTH, True)


@nb.njit(error_model="numpy")
def _short_scratch(x):
    """Scratch for `_short_sums`: maxima, the flat d / e / t, lanes, the sums, max lanes."""
    return (
        np.empty(WIDTH),
        np.empty((3, x.shape[1] * WIDTH)),
        np.empty(2 * LANES),
        np.empty((2, WIDTH)),
        np.empty(256 // x.itemsize, dtype=x.dtype),
    )


@nb.njit(inline="always", error_model="numpy")
def _usable(m, hi):
    """Whether a row's maximum and sum are finite (else the NumPy path takes the row)."""
    return np.isfinite(m) and np.isfinite(hi)


@compile_kernel()
def softmax_rows(x, out, terms, bad):
    """Softmax of each row of the C-contiguous 2-D `x` into `out`.

    Rows left to the NumPy path are flagged in `bad`. `terms` holds a row's terms until
    their sum is known for float32 rows (float64 ones use `out` itself): one float64 row,
    reused for every row, or, for rows longer than KEEP_SINGLE, one block: their terms
    are computed again in the last pass (cheaper than memory the size of the input).
    """
    rows, n = x.shape
    acc = np.empty(2 * LANES)
    if n < SHORT:
        m, work, acc, sums, lanes = _short_scratch(x)
        for first in range(0, rows, WIDTH):
            _short_sums(x, first, m, work, acc, sums, lanes)
            t = work[2]
            for j in range(min(WIDTH, rows - first)):
                r, hi, lo = first + j, sums[0, j], sums[1, j]
                bad[r] = not _usable(m[j], hi)
                if _single(x):
                    inverse = 1.0 / (hi + lo)
                    for c in range(n):
                        out[r, c] = t[c * WIDTH + j] * inverse
                else:
                    inverse = 1.0 / hi
                    for c in range(n):
                        q = t[c * WIDTH + j] * inverse
                        residual = _fma(-q, lo, _fma(-q, hi, t[c * WIDTH + j]))
                        out[r, c] = _fma(residual, inverse, q)
        return
    lanes = np.empty(256 // x.itemsize, dtype=x.dtype)
    for r in range(rows):
        m = _max(x[r], lanes)
        if not np.isfinite(m):
            bad[r] = True
            continue
        if _single(x):
            t = terms[0]
            hi, lo = _row_sum(x[r], m, t, acc, False)
            if t.shape[0] >= n:
                _scale(t[:n], out[r], 1.0 / (hi + lo))
            else:
                _scale_again(x[r], m, out[r], 1.0 / (hi + lo))
        else:
            hi, lo = _row_sum(x[r], m, out[r], acc, True)
            _divide(out[r], hi, lo)
        bad[r] = not np.isfinite(hi)


@compile_kernel()
def log_softmax_rows(x, out, bad):
    """Log-softmax of each row of `x` into `out`; flag rows left to NumPy."""
    rows, n = x.shape
    if n < SHORT:
        m, work, acc, sums, lanes = _short_scratch(x)
        for first in range(0, rows, WIDTH):
            _short_sums(x, first, m, work, acc, sums, lanes)
            d, e = work[0], work[1]
            for j in range(min(WIDTH, rows - first)):
                r, hi, lo = first + j, sums[0, j], sums[1, j]
                bad[r] = not _usable(m[j], hi)
                log_s = _log_sum(hi, lo)
                for c in range(n):
                    dc = d[c * WIDTH + j]
                    if _single(x):
                        out[r, c] = dc - log_s
                    else:
                        out[r, c] = (dc - log_s) + e[c * WIDTH + j] if dc > -np.inf else dc
        return
    block = np.empty(min(BLOCK, n))
    acc = np.empty(2 * LANES)
    lanes = np.empty(256 // x.itemsize, dtype=x.dtype)
    for r in range(rows):
        m = _max(x[r], lanes)
        ok = np.isfinite(m)
        if ok:
            hi, lo = _row_sum(x[r], m, block, acc, True)
            ok = np.isfinite(hi)
            if ok:
                _subtract(x[r], m, _log_sum(hi, lo), out[r])
        bad[r] = not ok


@compile_kernel()
def logsumexp_rows(x, out, maxima, bad):
    """Log-sum-exp of each row of `x` into `out` (and its maximum into `maxima`)."""
    rows, n = x.shape
    if n < SHORT:
        m, work, acc, sums, lanes = _short_scratch(x)
        for first in range(0, rows, WIDTH):
            _short_sums(x, first, m, work, acc, sums, lanes)
            for j in range(min(WIDTH, rows - first)):
                r, hi, lo = first + j, sums[0, j], sums[1, j]
                bad[r] = not _usable(m[j], hi)
                maxima[r] = m[j]
                out[r] = m[j] + _log_sum(hi, lo)
        return
    block = np.empty(min(BLOCK, n))
    acc = np.empty(2 * LANES)
    lanes = np.empty(256 // x.itemsize, dtype=x.dtype)
    for r in range(rows):
        m = _max(x[r], lanes)
        log_s = 0.0
        ok = np.isfinite(m)
        if ok:
            hi, lo = _row_sum(x[r], m, block, acc, True)
            ok = np.isfinite(hi)
            log_s = _log_sum(hi, lo)
        maxima[r] = m
        bad[r] = not ok
        out[r] = m + log_s


@compile_kernel(reads=2)  # x and target
def cross_entropy_rows(x, target, out, bad):
    """``-log_softmax(x)[target]`` of each row of `x` (in float64) into `out`.

    The target's entry of the last pass of log-softmax: ``(log s - d) - e`` with
    ``d + e == x_t - m``. Rows left to the NumPy path are flagged in `bad`.
    """
    rows, n = x.shape
    if n < SHORT:
        m, work, acc, sums, lanes = _short_scratch(x)
        for first in range(0, rows, WIDTH):
            _short_sums(x, first, m, work, acc, sums, lanes)
            for j in range(min(WIDTH, rows - first)):
                r, hi, lo = first + j, sums[0, j], sums[1, j]
                bad[r] = not _usable(m[j], hi)
                d, e = _shift(np.float64(x[r, target[r]]), m[j])
                e = e if e - e == 0.0 else 0.0  # NaN where d is infinite: no correction there
                out[r] = (_log_sum(hi, lo) - d) - e
        return
    block = np.empty(min(BLOCK, n))
    acc = np.empty(2 * LANES)
    lanes = np.empty(256 // x.itemsize, dtype=x.dtype)
    for r in range(rows):
        m = _max(x[r], lanes)
        ok = np.isfinite(m)
        log_s = 0.0
        if ok:
            hi, lo = _row_sum(x[r], m, block, acc, True)
            ok = np.isfinite(hi)
            log_s = _log_sum(hi, lo)
        d, e = _shift(np.float64(x[r, target[r]]), m)
        e = e if e - e == 0.0 else 0.0  # NaN where d is infinite: no correction there
        out[r] = (log_s - d) - e
        bad[r] = not ok


# One long row, in segments (on threads): the maximum of each, then with the row's
# maximum m the sum of each (as hi + lo, terms kept in `terms` when it is as long as
# the segment), then the output of each with the row's sum.


@compile_kernel()
def segment_max(x):
    """Return the maximum of the 1-D `x` (as float64; NaN passed over: the sum shows it)."""
    return _max(x, np.empty(256 // x.itemsize, dtype=x.dtype))


@compile_kernel()
def segment_sum(x, m, terms, compensate):
    """``sum(exp(x - m))`` of the 1-D `x`, as ``hi + lo``; see `_row_sum`."""
    return _row_sum(x, m, terms, np.empty(2 * LANES), compensate)


@compile_kernel()
def segment_softmax(x, m, hi, lo, terms, out):
    """``out = exp(x - m) / (hi + lo)`` for the 1-D `x`, from the terms `segment_sum` left."""
    if not _single(x):  # float64: the terms are in `out` (`terms` is `out`)
        _divide(out, hi, lo)
    elif terms.shape[0] == x.shape[0]:
        _scale(terms, out, 1.0 / (hi + lo))
    else:
        _scale_again(x, m, out, 1.0 / (hi + lo))


@compile_kernel()
def segment_log_softmax(x, m, log_s, out):
    """``out = (x - m) - log_s`` for the 1-D `x`."""
    _subtract(x, m, log_s, out)
