"""Building blocks of the fused kernels that LLVM turns into vector instructions.

Used by :mod:`softmax_lib._passes` and :mod:`softmax_lib._fused` (see there for the
algorithm); imported only where numba is. Nothing here uses fast-math: the FMA is LLVM's
intrinsic, and the two reductions (:func:`vector_max`, :func:`vector_sum`) are written in
LLVM IR, with their vector accumulators in registers.

- :func:`exp_term` is an ``exp`` without table look-ups: ``d = k ln 2 + r`` with
  ``|r| <= ln(2) / 2`` (an FMA makes the reduction exact),
  ``exp(r) = 1 + r + r**2 / 2 + r**3 / 6 + r**4 P(r)`` with ``P`` a polynomial of degree 8
  fitted on that interval (2**-60 relative in exp), ``1 + r``, ``r**2``, ``r**3`` and 1/6
  kept as unevaluated pairs, so the term is rounded once (and before that only parts below
  0.008); ``2**k`` goes into the exponent bits. Every lane does the same arithmetic (a
  table look-up is a gather, which kept LLVM's loop scalar). Terms below 2**-1022 can be
  scaled by ``2**k`` in two steps (one factor alone would underflow); they are rounded
  twice, so within one ULP of the subnormal spacing, 2**-1074.
- :func:`exp_single` is the float32 rows' ``exp``: degree 7 (2**-43), no pair.
- :func:`vector_max` (:func:`vector_range`: with the minimum) and :func:`vector_sum`:
  numba cannot tell LLVM that a small array of lanes does not alias the data, and lanes
  in memory made the same loops several times slower (a store-to-load chain per element).
"""

from __future__ import annotations

import numba as nb
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

LANES = 32  # independent compensated sums: 4 vectors of 8 doubles
UNDER = -745.2  # exp(d) rounds to 0 in float64 below about -745.13
SUBNORMAL = -708.3  # exp(d) is subnormal below about -708.40: scaled in two steps
FLOOR_SINGLE = -700.0  # float32 rows: exp(-700) is a normal float64, 0 once in float32
INV_LN2 = 1.4426950408889634  # 1 / ln 2, rounded
LN2_HI = 0.6931471805599453  # ln 2 rounded: k * LN2_HI is exact to the FMA's one rounding
LN2_LO = 2.3190468138462996e-17  # ln 2 - LN2_HI, rounded
SHIFTER = 6755399441055744.0  # 1.5 * 2**52: y + SHIFTER holds round(y) in its low bits
# y + BIASED holds round(y) + 1023 in its low bits, so that for round(y) = k in [-1022, 1023]
# the bits of y + BIASED shifted left by 52 are those of 2**k. Both round y alike: y + C
# rounds as y for an integer C, unless y is half an odd integer, which the exact product
# y = d * INV_LN2 of the FMA (d a double, |y| < 2**50) never is: INV_LN2's odd part has 52
# bits, so y's has at least 52 too. Larger |d| lie far below UNDER, where the result is 0.
BIASED = SHIFTER + 1023.0
# exp(r) = 1 + r + r**2 / 2 + r**3 / 6 + r**4 P(r) on |r| <= ln(2) / 2: P the Chebyshev fit
# of degree 8 to (exp(r) - 1 - r - r**2 / 2 - r**3 / 6) / r**4 (mpmath.chebyfit; 2**-60
# relative in exp with the coefficients rounded), highest degree first, and 1/6 as the pair
# SIXTH + SIXTH_LO; for float32 rows, 1 + r + r**2 Q(r) with Q of degree 7 fitted to
# (exp(r) - 1 - r) / r**2 (2**-43 relative).
SIXTH, SIXTH_LO = 0.16666666666666666, 9.25185853854297e-18
POLY = (
    2.090778051444861e-09,
    2.509554598170022e-08,
    2.7557291269855755e-07,
    2.7557280082684685e-06,
    2.4801587310915086e-05,
    0.0001984126985433077,
    0.0013888888888888048,
    0.008333333333332157,
    0.041666666666666664,
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
def fma(typingctx, a, b, c):
    """Return ``a * b + c`` rounded once (LLVM's fma: one instruction where the CPU has it)."""
    sig = types.float64(types.float64, types.float64, types.float64)

    def codegen(context, builder, signature, args):
        return builder.fma(*args)

    return sig, codegen


@intrinsic
def is_single(typingctx, x):
    """Whether the array `x` is float32, as a constant the compiler folds (itemsize is not)."""
    is_single = x.dtype == types.float32

    def codegen(context, builder, signature, args):
        return context.get_constant(types.boolean, is_single)

    return types.boolean(x), codegen


@intrinsic
def bits(typingctx, x):
    """Return the bits of the float64 `x` as an int64 (a bitcast: no conversion)."""

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@intrinsic
def from_bits(typingctx, k):
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


def _make_vector_max(lowest):
    """Make an intrinsic that folds ``x[start:]`` into `lanes` by maximum (and minimum).

    `lanes` (x's dtype) holds 4 vectors of 64 bytes, the maxima, and with `lowest` 4 more,
    the minima. Whole vectors only: returns the index where the rest begins. NaN entries
    are passed over (an ordered comparison); a NaN shows later, in the sum.
    """

    @intrinsic
    def vector_max(typingctx, x, start, stop, lanes):
        sig = types.intp(x, types.intp, types.intp, lanes)

        def codegen(context, builder, signature, args):
            data = context.make_array(signature.args[0])(context, builder, args[0]).data
            acc = context.make_array(signature.args[3])(context, builder, args[3]).data
            element = context.get_value_type(signature.args[0].dtype)
            width = 64 // context.get_abi_sizeof(element)
            vector = ir.VectorType(element, width).as_pointer()
            intp = context.get_value_type(types.intp)
            folds = (">", "<") if lowest else (">",)

            def lane(u):
                return builder.bitcast(builder.gep(acc, [ir.Constant(intp, u * width)]), vector)

            regs = [
                cgutils.alloca_once_value(builder, builder.load(lane(u), align=4))
                for u in range(4 * len(folds))
            ]

            def body(at):
                for u in range(4):
                    v = builder.load(builder.bitcast(at(u * width), vector), align=4)
                    for f, op in enumerate(folds):
                        reg = regs[4 * f + u]
                        m = builder.load(reg)
                        builder.store(builder.select(builder.fcmp_ordered(op, v, m), v, m), reg)

            done = _vector_loop(context, builder, data, args[1], args[2], 4 * width, body)
            for u, reg in enumerate(regs):
                builder.store(builder.load(reg), lane(u), align=4)
            return done

        return sig, codegen

    return vector_max


vector_max = _make_vector_max(False)
vector_range = _make_vector_max(True)  # the maxima, then the minima (-inf included)


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


vector_sum = _make_vector_sum(True)
vector_sum_plain = _make_vector_sum(False)


@nb.njit(inline="always", error_model="numpy")
def two_sum(a, b):
    s = a + b
    b_virtual = s - a
    return s, (a - (s - b_virtual)) + (b - b_virtual)


@nb.njit(inline="always", error_model="numpy")
def exp_term(d, e, subnormal):
    """``exp(d + e)`` rounded once, for ``d <= 0`` and ``|e| <= ulp(d) / 2``; 0 below UNDER.

    ``d = k ln2 + r``: the FMA ``d - k LN2_HI`` is exact (d and k LN2_HI are multiples
    of 2**-53 near each other, or k is 0), and ``r + r_lo`` takes the rest of
    ``-k LN2_LO + e`` (TwoSum), so the reduced argument is good to about 2**-105.
    ``exp(r + r_lo) = 1 + r + r**2 / 2 + r**3 / 6 + r**4 P(r) + r_lo (1 + r)``: ``1 + r``,
    ``r**2`` and ``r**3`` are the pairs ``h + h_lo``, ``sq + sq_lo`` and ``cube + cube_lo``
    (the first two exact), ``h + sq / 2`` is added with Fast2Sum (exact, as TwoSum: h is
    at least 0.65 and sq / 2 at most 0.061, so h's binary exponent is the larger), so the
    roundings before the last are those of parts below 0.008 (2**-61 each: about 1/100
    ULP in all, with the polynomial's 2**-60). With `subnormal`, ``2**k`` is applied in
    two steps, so that a subnormal result is right too (rounded twice: within one ULP of
    2**-1074); without it, in one, from the bits of ``fl(d * INV_LN2 + BIASED)``, which
    is exact for k >= -1022 (d above about -708.74; the callers ask for d >= SUBNORMAL, or
    below UNDER). Below that, one step returns garbage (-inf or 0), not a slightly wrong
    value: the callers' test, :func:`softmax_lib._passes.row_bounds` and its copy in
    :func:`softmax_lib._segments.segmented_row`, must hold. NaN stays NaN.
    """
    shifted = fma(d, INV_LN2, BIASED)
    kf = shifted - BIASED
    r, r_lo = two_sum(fma(-kf, LN2_HI, d), fma(-kf, LN2_LO, e))
    p = POLY[0]
    for c in POLY[1:]:
        p = fma(p, r, c)
    sq = r * r
    sq_lo = fma(r, r, -sq)  # exact
    cube = sq * r
    cube_lo = fma(sq, r, -cube) + sq_lo * r
    h = 1.0 + r
    h_lo = (1.0 - h) + r  # exact: |r| < 1
    half_sq = 0.5 * sq
    a = h + half_sq  # Fast2Sum: the same a and a_lo as TwoSum, in three operations of six
    a_lo = half_sq - (a - h)
    tiny = fma(cube_lo, SIXTH, fma(cube, SIXTH_LO, fma(sq * sq, p, fma(r, r_lo, r_lo))))
    small = (h_lo + 0.5 * sq_lo) + fma(cube, SIXTH, tiny)
    t = a + (a_lo + small)
    if subnormal:
        k = bits(shifted) - bits(BIASED)
        half = k >> 1
        t = (t * from_bits((half + 1023) << 52)) * from_bits((k - half + 1023) << 52)
    else:
        t = t * from_bits(bits(shifted) << 52)  # 2**k (see BIASED)
    return 0.0 if d < UNDER else t


@nb.njit(inline="always", error_model="numpy")
def exp_single(d):
    """``exp(d)`` for ``d <= 0``, to 2**-43 relative: enough for one rounding to float32.

    d is clamped to FLOOR_SINGLE (results that vanish in float32), so 2**k is normal.
    """
    d = FLOOR_SINGLE if d < FLOOR_SINGLE else d
    shifted = fma(d, INV_LN2, BIASED)
    kf = shifted - BIASED
    r = fma(-kf, LN2_HI, d)
    p = POLY_SINGLE[0]
    for c in POLY_SINGLE[1:]:
        p = fma(p, r, c)
    return (1.0 + fma(r * r, p, r)) * from_bits(bits(shifted) << 52)  # 2**k (see BIASED)


@nb.njit(inline="always", error_model="numpy")
def shift(v, m):
    """``d + e == v - m`` exactly (TwoSum, written out for the vectoriser)."""
    d = v - m
    b_virtual = d - v
    return d, (v - (d - b_virtual)) - (m + b_virtual)


@nb.njit(inline="always", error_model="numpy")
def shift_ordered(v, m):
    """``d + e == v - m`` exactly where v's binary exponent is at most m's (or m is 0).

    Fast2Sum of ``-m + v``: three operations instead of six, and, for finite d, the same
    ``d`` and ``e`` as :func:`shift` wherever it applies (the error of a rounded sum is
    unique), up to the sign of a zero e. Where ``v - m`` overflows, e is inf (shift's
    NaN): such rows are `subnormal` ones, whose terms take :func:`shift`, and a d of -inf
    is the output of log-softmax whatever e is.
    :func:`softmax_lib._passes.row_bounds` tells the rows where every entry qualifies.
    """
    d = v - m
    return d, v - (d + m)
