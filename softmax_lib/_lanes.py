r"""The bulk of :mod:`softmax_lib._cancel`'s sum ``T = sum(exp(x))``: one vector pass, in LLVM IR.

Every entry with ``c = round(-256 x)`` in ``[1, GRID_MAX]`` (``-32.001953125 <= x < -2**-9``) is
reduced, looked up, expanded and added here, 8 entries per instruction, and in rows with
an entry below -32 (:func:`wide_lane_sums`) every entry with ``c`` up to FAR_MAX
(``x >= -600.001953125``); the others (the row's maximum, ``c == 0``, NaN, ``+inf``, the lowest)
are counted and left to the scalar code of :mod:`softmax_lib._cancel`; -inf is skipped.

1. ``x = -c / 256 + y``, exactly, ``|y| <= 2**-9``. As ``|x| >= 2**-9``, ``y`` is a multiple
   of 2**-61 (of ulp(x)): ``y**2`` and ``y**3`` neither underflow nor lose an FMA's error.
2. ``P = exp(-c / 256)`` from one table row, ``EXP_GRID[c] = (P1, P2, P3)``: a triple
   within 2**-159 of P (:mod:`decimal`); ``|P2| <= 2**-53 P1``, ``|P3| <= 2**-106 P1``.
   In the wide pass, the product of rows ``c & 8191`` and (after GRID_MAX) ``exp(-32 b)``,
   ``b = c >> 13``, exact pairs where it matters (:func:`_product`): within 2**-145 of P,
   ``|P2| <= 3.03 u P1``, ``|P3| <= 10.01 u**2 P1`` (u = 2**-53); the same triple, bit for
   bit, where ``b == 0``.
3. ``exp(y) = 1 + y + h + sl / 2 + y**3 K(y)``: ``h + sl / 2 = y**2 / 2`` exactly (FMA),
   ``K = sum_k y**k / (k + 3)!`` to ``k = 8`` (the rest is below 2**-109.8), the terms
   from ``k = 5`` on in double, ``k = 4`` with a rounded product, ``k = 3 .. 0`` in
   double-double (the coefficients as pairs): ``K`` within 2**-106.4. ``y**3 K`` is
   ``cube * kh`` exactly as ``G1 + G1e`` (FMA) plus the rounded rest, and
   ``G + g = G1 + sl / 2`` (Fast2Sum: ``|sl| <= 2**-53 y**2`` is below ``|G1|``, or 0
   where ``|y| < 2**-34.5``, y**2 then being exact), ``G2 = g + G1e + rest``:
   ``E = y + h + G + G2`` within 2**-131.2 of ``exp(y) - 1`` (a budget whose smallest
   items, such as the left-out ``cube_e kl`` below 2**-134.6, are not all listed here;
   mpmath measures 2**-133.6 at worst).
4. The term ``P (1 + E)`` as parts, with ``yh + yh_e = y + h`` (Fast2Sum, exact,
   ``|yh_e| <= 2**-62``) and the products exact where they matter (FMA): level 1 ``P1``,
   ``P1 yh``, ``P1 G``; level 2 ``P2``, the error of ``P1 yh``, ``P1 yh_e``, ``P2 yh``,
   and ``small = P1 G2 + P2 G + P2 yh_e + P3 yh`` plus the error of ``P1 G`` (below
   2**-82.58 P1, as ``|G| <= 2**-29.58``; ``|G2| <= 2**-80.1``), rounded; level 3 ``P3``
   plus the errors of ``P1 yh_e`` and ``P2 yh``. Left out or rounded: below 2**-131.2 of
   P1 (2**-130.2 with the wide pass's larger P2 and P3: ``P2 G2`` and ``P3 G`` are left
   out).

**The term's bound**, proved above: the parts of a term add up to ``exp(x)`` within
``TERM = 2**-129`` times ``P1`` (the errors above add up to 2**-130.2, 2**-129.6 in the
wide pass; rounded up). ``tests/lib/test_cancel.py`` checks it against mpmath, term by
term, at random, on the grid, at ``|y| = 2**-9``, at both ends of the table and below -32
(the worst errors found: 2**-133.1 P1, 2**-132.0 P1 in the wide pass).

5. The parts go into 16 lanes (two chains of 8, side by side), each a sum ``S1 + S2 + S3``:
   level 1 into ``S1`` (TwoSum for ``P1``; then Fast2Sum, as ``S1 >= P1`` exceeds the
   other two), each error into ``S2`` (TwoSum), level 2 into ``S2`` (TwoSum), and
   their errors and level 3 into ``S3``, plainly. Only ``S3``'s additions round. With
   ``n`` terms a lane (at most BLOCK / 16) and ``Pi`` the sum of their ``P1``:
   ``|S1| <= 1.01 Pi``; ``S2``'s addends, 3 errors of ``S1`` (``<= u |S1|``) and level 2
   (``<= 3.04 u P1``) a term, keep ``|S2| <= M2 = (3.03 n + 3.04) u Pi``; ``S3``'s, 8
   errors of ``S2`` and a level 3 (``<= 10.01 u**2 P1``) a term, keep
   ``|S3| <= M3 = 8 n u M2 + 10.01 u**2 Pi``; its ``9 n`` roundings are at most
   ``9 n u M3`` (2**-133.2 Pi for n = 64). The constants below count 4, 11 and 12 where
   these counts are 3, 8 and 9 (an earlier version had more parts): they over-count, so
   ``CASCADE``, 2**-131.9 Pi for n = 64, is larger than needed, never smaller.

So a lane's ``S1 + S2 + S3`` is within ``(TERM + CASCADE) Pi`` of the exact sum of its
terms, and ``Pi <= 1.01 S1`` (``S1`` exceeds ``Pi (1 - 2**-8.9)``): the caller adds
``LANE_BOUND * sum |S1|`` (2**-128.8) to the row's bound. No per-term bound is computed.
"""

from __future__ import annotations

import decimal
import math

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

GRID_MAX = 8192  # table rows c = 0 .. GRID_MAX: exp(-c / 256) down to exp(-32)
FAR_MAX = 153600  # the wide pass takes c up to 256 * 600 (x >= -600.002, terms above 2**-866)
FAR_ROWS = (FAR_MAX >> 13) + 1  # exp(-32 b), b = 1 .. 18, in the rows after GRID_MAX
SHIFTER = 6755399441055744.0  # 1.5 * 2**52: q + SHIFTER - SHIFTER rounds q to an integer
BLOCK = 1024  # entries a call: n <= 64 terms a lane in the bound
U = 2.0**-53
TERM = 2.0**-129
_N = BLOCK // 16
_M2 = (4.04 * _N + 3.04) * U  # over-counts: see the cascade above
_M3 = 11 * _N * U * _M2 + 10.01 * U * U
CASCADE = 12 * _N * U * _M3
LANE_BOUND = (TERM + CASCADE) * 1.01


def _triple(value: decimal.Decimal) -> tuple[float, float, float]:
    """Split `value` into three floats whose exact sum is within 2**-159 of it (relative)."""
    hi = float(value)
    rest = value - decimal.Decimal(hi)
    mid = float(rest)
    return hi, mid, float(rest - decimal.Decimal(mid))


def _grid() -> np.ndarray:
    """Return ``exp(-c / 256)`` as triples (and a 0), c = 0 .. GRID_MAX, then ``exp(-32 b)``.

    The rows after GRID_MAX, b = 1 .. FAR_MAX >> 13, are the wide pass's second factor.
    """
    with decimal.localcontext() as ctx:
        ctx.prec = 60
        part = [(decimal.Decimal(-a) / 256).exp() for a in range(256)]
        whole = [decimal.Decimal(-b).exp() for b in range(GRID_MAX // 256 + 1)]
        rows = [(*_triple(whole[c >> 8] * part[c & 255]), 0.0) for c in range(GRID_MAX + 1)]
        far = [(*_triple(decimal.Decimal(-32 * b).exp()), 0.0) for b in range(1, FAR_ROWS)]
    return np.array(rows + far)


EXP_GRID = _grid()


def _pairs() -> tuple[tuple[float, float], ...]:
    """1/3! .. 1/7! as pairs (hi, lo), within 2**-106 (relative)."""
    with decimal.localcontext() as ctx:
        ctx.prec = 60
        return tuple(_triple(1 / decimal.Decimal(math.factorial(k)))[:2] for k in range(3, 8))


# K(y) = sum_k y**k / (k + 3)!: 1/3! .. 1/7! as pairs, 1/8! .. 1/11! rounded.
K_PAIRS = _pairs()
K_TAIL = tuple(1 / math.factorial(k) for k in (11, 10, 9, 8))


class _Vectors:
    """IEEE arithmetic on ``<8 x double>`` (no fast-math flags), and the error-free sums."""

    def __init__(self, builder):
        self.b = builder
        self.type = ir.VectorType(ir.DoubleType(), 8)
        fnty = ir.FunctionType(self.type, [self.type] * 3)
        self._fma = cgutils.get_or_insert_function(builder.module, fnty, "llvm.fma.v8f64")

    def const(self, value):
        return ir.Constant(self.type, [float(value)] * 8)

    def add(self, a, b):
        return self.b.fadd(a, b)

    def sub(self, a, b):
        return self.b.fsub(a, b)

    def mul(self, a, b):
        return self.b.fmul(a, b)

    def neg(self, a):  # exact: fma(a, b, neg(p)) is one vfmsub
        return self.b.fneg(a)

    def fma(self, a, b, c):
        return self.b.call(self._fma, [a, b, c])

    def two_sum(self, a, b):
        s = self.add(a, b)
        bv = self.sub(s, a)
        return s, self.add(self.sub(a, self.sub(s, bv)), self.sub(b, bv))

    def fast_two_sum(self, a, b):  # exact where |a| >= |b| (or b == 0)
        s = self.add(a, b)
        return s, self.sub(b, self.sub(s, a))


def _term(v, y, p1, p2, p3):
    """Return the parts of ``P (1 + E)``: level 1, level 2, level 3 (see the module docstring)."""
    sq = v.mul(y, y)
    sl = v.fma(y, y, v.neg(sq))  # y**2 = sq + sl exactly
    h = v.mul(v.const(0.5), sq)
    # K: the tail (k >= 5) in double, k = 4 rounded (2**-113.3 in K), k = 3 .. 0 as pairs.
    t = v.fma(v.const(K_TAIL[0]), y, v.const(K_TAIL[1]))
    t = v.fma(t, y, v.const(K_TAIL[2]))
    t = v.fma(t, y, v.const(K_TAIL[3]))
    kh, kl = v.fast_two_sum(v.const(K_PAIRS[4][0]), v.mul(t, y))
    kl = v.add(kl, v.const(K_PAIRS[4][1]))
    for ch, cl in reversed(K_PAIRS[:4]):
        p = v.mul(kh, y)
        pe = v.fma(kl, y, v.fma(kh, y, v.neg(p)))
        s, err = v.fast_two_sum(v.const(ch), p)  # |p| <= 2**-9 |ch| (or so): exact
        kl = v.add(v.add(err, pe), v.const(cl))
        kh = s
    cube = v.mul(sq, y)
    cube_e = v.fma(sl, y, v.fma(sq, y, v.neg(cube)))  # y**3 - cube, 2**-133
    g1 = v.mul(cube, kh)
    g1e = v.fma(cube, kh, v.neg(g1))
    rest = v.fma(cube, kl, v.mul(cube_e, kh))
    g, g_err = v.fast_two_sum(g1, v.mul(v.const(0.5), sl))
    g2 = v.add(v.add(g_err, g1e), rest)  # E = y + h + g + g2
    yh, yh_e = v.fast_two_sum(y, h)  # y + h exactly: |h| <= 2**-10 |y|, |yh_e| <= 2**-62
    parts1, parts2, parts3 = [p1], [p2], [p3]
    for factor in (yh, g):  # P1 (y + h), P1 g: level 1, their errors level 2
        prod = v.mul(p1, factor)
        parts1.append(prod)
        parts2.append(v.fma(p1, factor, v.neg(prod)))
    for factor, level in ((yh_e, p1), (yh, p2)):  # P1 yh_e, P2 yh: level 2, errors level 3
        prod = v.mul(level, factor)
        parts2.append(prod)
        parts3.append(v.fma(level, factor, v.neg(prod)))
    # small = P1 G2 + P2 G + P2 yh_e + P3 yh + the error of P1 g (below 2**-82.58 P1;
    # |G2| <= 2**-80.1, so its four roundings stay within 2**-131.8 P1), in level 2 for the
    # part it replaces.
    small = v.fma(p3, yh, parts2.pop(2))
    small = v.fma(p1, g2, v.fma(p2, g, v.fma(p2, yh_e, small)))
    parts2.append(small)
    return parts1, parts2, v.add(v.add(parts3[0], parts3[1]), parts3[2])


def _lane_sums(typingctx, row, start, stop, top, grid, out, wide):
    """Add the terms of ``row[start:stop]`` with ``1 <= c <= GRID_MAX`` (not ``top``) in lanes.

    ``out`` (64 floats) receives, lane by lane (16 each), ``S1``, ``S2``, ``S3`` and how
    many entries were left to the caller (not -inf, not summed here). With `wide`, ``c``
    goes up to FAR_MAX: P is the product (:func:`_product`) of ``exp(-(c & 8191) / 256)``
    and ``exp(-32 (c >> 13))`` (row 0, exactly 1, where ``c >> 13 == 0``: those terms are
    the narrow pass's, bit for bit). The row is float32 or float64, C-contiguous;
    ``stop - start <= BLOCK``.
    """
    if not (isinstance(row, types.Array) and row.ndim == 1 and row.layout == "C"):
        return None
    sig = types.void(row, types.intp, types.intp, types.intp, grid, out)
    single = row.dtype == types.float32
    limit = FAR_MAX if wide else GRID_MAX

    def codegen(context, builder, signature, args):
        v = _Vectors(builder)
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        table = context.make_array(signature.args[4])(context, builder, args[4]).data
        acc = context.make_array(signature.args[5])(context, builder, args[5]).data
        first, last, top_index = args[1], args[2], args[3]
        i64 = ir.IntType(64)
        ivec = ir.VectorType(i64, 8)
        bvec = ir.VectorType(ir.IntType(1), 8)
        elem = ir.FloatType() if single else ir.DoubleType()
        load_type = ir.VectorType(elem, 8)
        dptr = ir.DoubleType().as_pointer()
        fnty = ir.FunctionType(load_type, [load_type.as_pointer(), ir.IntType(32), bvec, load_type])
        name = f"llvm.masked.load.v8f{32 if single else 64}.p0"
        masked_load = cgutils.get_or_insert_function(builder.module, fnty, name)
        gather_ty = ir.FunctionType(v.type, [ir.VectorType(dptr, 8), ir.IntType(32), bvec, v.type])
        gather = cgutils.get_or_insert_function(
            builder.module, gather_ty, "llvm.masked.gather.v8f64.v8p0"
        )

        def splat(value):
            return _splat(builder, value)

        def acc_at(k):
            return builder.bitcast(builder.gep(acc, [i64(8 * k)]), v.type.as_pointer())

        iota = ir.Constant(ivec, list(range(8)))
        regs = [
            [cgutils.alloca_once_value(builder, v.const(0.0)) for _ in range(4)] for _ in range(2)
        ]
        base = builder.ptrtoint(table, i64)
        count = builder.sdiv(builder.add(builder.sub(last, first), i64(15)), i64(16))
        minus_inf = ir.Constant(load_type, [float("-inf")] * 8)
        with cgutils.for_range(builder, count) as loop:
            i = builder.add(first, builder.mul(loop.index, i64(16)))
            for chain in range(2):
                j = builder.add(i, i64(8 * chain))
                where = builder.add(splat(j), iota)
                inside = builder.icmp_signed("<", where, splat(last))
                ptr = builder.bitcast(builder.gep(data, [j]), load_type.as_pointer())
                x = builder.call(masked_load, [ptr, ir.IntType(32)(4), inside, minus_inf])
                x = builder.fpext(x, v.type) if single else x
                x = builder.select(
                    builder.icmp_signed("==", where, splat(top_index)), v.const(-np.inf), x
                )
                cf = v.sub(v.fma(x, v.const(-256.0), v.const(SHIFTER)), v.const(SHIFTER))
                valid = builder.and_(
                    builder.fcmp_ordered(">=", cf, v.const(1.0)),
                    builder.fcmp_ordered("<=", cf, v.const(limit)),
                )
                left = builder.and_(
                    builder.not_(valid), builder.fcmp_unordered("!=", x, v.const(-np.inf))
                )
                c = builder.fptosi(builder.select(valid, cf, v.const(0.0)), ivec)
                y = builder.select(valid, v.fma(cf, v.const(0.00390625), x), v.const(0.0))

                def look_up(index, valid):  # the table row `index`: three gathers
                    rows = builder.add(splat(base), builder.mul(index, ir.Constant(ivec, [32] * 8)))
                    return [
                        builder.call(
                            gather,
                            [
                                builder.inttoptr(
                                    builder.add(rows, ir.Constant(ivec, [8 * k] * 8)),
                                    ir.VectorType(dptr, 8),
                                ),
                                ir.IntType(32)(8),
                                valid,
                                v.const(0.0),
                            ],
                        )
                        for k in range(3)
                    ]

                s1, s2, s3, n_left = (builder.load(reg) for reg in regs[chain])
                if wide:
                    b = builder.lshr(c, ir.Constant(ivec, [13] * 8))
                    near = builder.icmp_signed("==", b, ir.Constant(ivec, [0] * 8))
                    second = builder.select(
                        near, b, builder.add(b, ir.Constant(ivec, [GRID_MAX] * 8))
                    )
                    a1, a2, a3 = look_up(builder.and_(c, ir.Constant(ivec, [8191] * 8)), valid)
                    p = _product(v, (a1, a2, a3), look_up(second, valid))
                else:
                    p = look_up(c, valid)
                level1, level2, level3 = _term(v, y, *p)
                for k, part in enumerate(level1):
                    s1, err = (v.two_sum if k == 0 else v.fast_two_sum)(s1, part)
                    s2, err = v.two_sum(s2, err)
                    s3 = v.add(s3, err)
                for part in level2:
                    s2, err = v.two_sum(s2, part)
                    s3 = v.add(s3, err)
                s3 = v.add(s3, level3)
                n_left = v.add(n_left, builder.select(left, v.const(1.0), v.const(0.0)))
                for reg, value in zip(regs[chain], (s1, s2, s3, n_left), strict=True):
                    builder.store(value, reg)
        for chain in range(2):
            for k in range(4):
                builder.store(builder.load(regs[chain][k]), acc_at(2 * k + chain), align=8)
        return context.get_dummy_value()

    return sig, codegen


def _product(v, a, b):
    """Return the triple ``a b`` (both triples) within 2**-145 of it, as in _cancel's `term`.

    The products ``a1 b1``, ``a1 b2``, ``a2 b1`` are exact pairs (FMA), the rest rounded:
    ``|P2| <= 3.03 u P1``, ``|P3| <= 10.01 u**2 P1`` (a priori; over the tables' row pairs
    4.46 u**2). 2**-145 is loose: the a priori error is a few 2**-159. Where
    ``b = (1, 0, 0)`` it is ``a``, exactly.
    """
    (a1, a2, a3), (b1, b2, b3) = a, b
    p1 = v.mul(a1, b1)
    e1 = v.fma(a1, b1, v.neg(p1))
    s2 = v.mul(a1, b2)
    e2 = v.fma(a1, b2, v.neg(s2))
    s3 = v.mul(a2, b1)
    e3 = v.fma(a2, b1, v.neg(s3))
    rest = v.add(v.add(v.add(e2, e3), v.add(v.mul(a1, b3), v.mul(a3, b1))), v.mul(a2, b2))
    m, m_err = v.two_sum(s2, s3)
    p2, m_err2 = v.two_sum(e1, m)
    return [p1, p2, v.add(v.add(m_err, m_err2), rest)]


@intrinsic
def lane_sums(typingctx, row, start, stop, top, grid, out):
    """Add the entries with ``1 <= c <= GRID_MAX`` in lanes: see :func:`_lane_sums`."""
    return _lane_sums(typingctx, row, start, stop, top, grid, out, False)


@intrinsic
def wide_lane_sums(typingctx, row, start, stop, top, grid, out):
    """Add the entries with ``1 <= c <= FAR_MAX`` in lanes: see :func:`_lane_sums`."""
    return _lane_sums(typingctx, row, start, stop, top, grid, out, True)


@intrinsic
def row_top(typingctx, row, out):
    """Fold `row` into 16 lanes: their maxima, the first index of each, their minima.

    ``out[:16]`` the maxima, ``out[16:32]`` the first index of each, ``out[32:48]`` the
    minima above -inf (0 if none is lower). The first index of the row's maximum is then
    the smallest index among the lanes holding the largest value (0 where every entry is
    -inf). NaN entries are passed over (an ordered comparison): a row with one is flagged
    by its sum anyway.
    """
    if not (isinstance(row, types.Array) and row.ndim == 1 and row.layout == "C"):
        return None
    sig = types.void(row, out)
    single = row.dtype == types.float32

    def codegen(context, builder, signature, args):
        v = _Vectors(builder)
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        acc = context.make_array(signature.args[1])(context, builder, args[1]).data
        n = cgutils.unpack_tuple(
            builder, context.make_array(signature.args[0])(context, builder, args[0]).shape, 1
        )[0]
        i64 = ir.IntType(64)
        ivec = ir.VectorType(i64, 8)
        bvec = ir.VectorType(ir.IntType(1), 8)
        elem = ir.FloatType() if single else ir.DoubleType()
        load_type = ir.VectorType(elem, 8)
        fnty = ir.FunctionType(load_type, [load_type.as_pointer(), ir.IntType(32), bvec, load_type])
        name = f"llvm.masked.load.v8f{32 if single else 64}.p0"
        masked_load = cgutils.get_or_insert_function(builder.module, fnty, name)
        iota = ir.Constant(ivec, list(range(8)))
        regs = [
            [
                cgutils.alloca_once_value(builder, v.const(-np.inf)),
                cgutils.alloca_once_value(builder, ir.Constant(ivec, [0] * 8)),
                cgutils.alloca_once_value(builder, v.const(0.0)),
            ]
            for _ in range(2)
        ]
        minus_inf = ir.Constant(load_type, [float("-inf")] * 8)
        with cgutils.for_range(builder, builder.sdiv(builder.add(n, i64(15)), i64(16))) as loop:
            for chain in range(2):
                j = builder.add(builder.mul(loop.index, i64(16)), i64(8 * chain))
                where = builder.add(_splat(builder, j), iota)
                inside = builder.icmp_signed("<", where, _splat(builder, n))
                ptr = builder.bitcast(builder.gep(data, [j]), load_type.as_pointer())
                x = builder.call(masked_load, [ptr, ir.IntType(32)(4), inside, minus_inf])
                x = builder.fpext(x, v.type) if single else x
                m, at, low = (builder.load(reg) for reg in regs[chain])
                larger = builder.fcmp_ordered(">", x, m)
                builder.store(builder.select(larger, x, m), regs[chain][0])
                builder.store(builder.select(larger, where, at), regs[chain][1])
                finite_low = builder.and_(
                    builder.fcmp_ordered("<", x, low),
                    builder.fcmp_ordered(">", x, v.const(-np.inf)),
                )
                builder.store(builder.select(finite_low, x, low), regs[chain][2])
        for chain in range(2):
            for k in range(3):
                value = builder.load(regs[chain][k])
                value = builder.sitofp(value, v.type) if k == 1 else value
                at = builder.gep(acc, [i64(16 * k + 8 * chain)])
                builder.store(value, builder.bitcast(at, v.type.as_pointer()), align=8)
        return context.get_dummy_value()

    return sig, codegen


def _splat(builder, value):
    """``value`` (an i64) in each of 8 lanes."""
    ivec = ir.VectorType(ir.IntType(64), 8)
    vec = builder.insert_element(ir.Constant(ivec, ir.Undefined), value, ir.IntType(64)(0))
    return builder.shuffle_vector(vec, vec, ir.Constant(ir.VectorType(ir.IntType(32), 8), [0] * 8))
