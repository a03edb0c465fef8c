r"""The kernel for rows whose log-sum-exp cancels: ``T = sum(exp(x))`` within 2**-15 of 1.

Log-probabilities (the output of ``log_softmax``) are such rows: their log-sum-exp is 0 up
to the rounding of the inputs, ``|r|`` between about 2**-64 and 2**-50 (and far smaller
where one entry holds nearly all the mass: ``x_max = log(1 - 2**-k)``). In
``r = m + log(s)`` the two parts cancel, so the fused kernels flag these rows
(:func:`softmax_lib._dispatch._cancelled`). Here we compute ``w = T - 1`` directly, with an
error bound of its own, and ``r = log1p(w)``:

1. Every entry with ``x >= -PRECISE`` gets ``exp(x)`` to about 2**-128 relative (below):
   the accumulated ``w`` must be right to about ``2**-58 |r|``, i.e. 2**-122 where
   ``|r| = 2**-64``, and when the terms are many and alike (a flat row of 1000) each of
   them carries that much. Entries below ``-PRECISE`` (terms below 2**-115) take the
   kernels' double ``exp`` (:func:`softmax_lib._simd.exp_term`, within 0.51 ULP): their
   errors are counted in the bound, and vanish beside it.
2. The precise ``exp``: ``x = -c / 256 + y`` with ``c = round(-256 x)``, split exactly
   (``|y| <= 2**-9``; y is exact because x and ``c / 256`` share the grid of ulp(x)).
   ``exp(-c / 256) = exp(-b) exp(-a / 256)`` (``c = 256 b + a``) from two tables of
   triple-double values (three floats each, 2**-159 relative, computed with
   :mod:`decimal`), multiplied with exact products (FMA) to about 2**-145. ``exp(y) = 1 + E``
   with ``E = y + y**2 / 2 + y**3 Q(y)``: ``y`` and ``y**2 / 2`` exact floats plus the
   rounding error of ``y**2`` (exact, by FMA), and ``Q`` the Taylor series
   ``sum_k y**k / (k + 3)!`` to ``k = 8`` (the rest is below 2**-136 relative), its first
   five coefficients as pairs, evaluated in double-double (2**-102 relative, on a part
   below 2**-29.6 of the term).
3. The term ``P (1 + E)`` is a handful of floats, the products of magnitude above about
   2**-120 of the term split exactly (FMA) and the smaller ones rounded, which are added
   into three running sums: ``S1`` (starting at -1, so that ``S1 + S2 + S3`` is ``w``),
   ``S2`` the exact errors of the additions into ``S1`` (TwoSum) and the smaller parts,
   and ``S3`` the errors of ``S2`` and the smallest parts, plainly added: ``S3``'s own
   roundings are counted as they happen (``2**-53 |S3|`` each). The terms other than
   the maximum's go into LANES (16) such sums, lane l taking the terms l, l + 16, ... of
   each block, each lane starting at 0 and doing exactly what one sum does (so the
   bound's derivation holds lane by lane); the sums that make ``w`` then take -1, the
   maximum's term (so that ``1 + E`` cancels against -1 exactly, first), and the lanes'
   ``S1``, ``S2``, ``S3`` as parts of levels 1, 2, 3, with their counted roundings.
4. The bound adds, per term, the error of its table product and of ``Q`` (zero where
   ``c == 0``: there the table factor is exactly 1, so where one entry holds nearly all
   the mass, ``x_max`` tiny, its term ``1 + E`` is exact to a bound relative to
   ``E - y``, not to 1, and ``w`` keeps its relative accuracy however small it is), the
   rounded products, the double terms, and underflow (2**-1000 a term).
5. ``r = log1p(w)`` from ``w = w_hi + w_lo``: ``w_hi + (w_lo - w_hi**2 / 2 + w_hi**3 / 3 -
   w_hi**4 / 4)``, rounded once (``|w| < 2**-15``: the next term is below 2**-60 of r).

The work is done block by block (BLOCK entries) in three passes, so that two of them run
on vectors (numba's LLVM vectorises no loop that loads from a table by index): `gather`
(scalar) reduces each entry and copies its two table triples into a scratch block;
`terms` computes step 2-3's parts and bound from those rows alone (8 entries per AVX-512
instruction); `cascade` (LLVM IR, no fast-math) adds them into the lanes.

A row is certified when its bound is below ``2**-58.5 |w|``: r is then within 2**-58 of
its exact value before the last rounding, a small fraction of an ULP (float64 and
float32). The other rows (``|w| >= 2**-15``: a maximum well below 0 rather than
log-probabilities; or too close a cancellation for these bits) are flagged and left to
the NumPy path (:func:`softmax_lib._extended.refine_near_zero`, long double and mpmath),
so no row is returned uncertified.

numba caches the kernel against this file only: HELPERS records the hash of
:mod:`softmax_lib._simd` and :mod:`softmax_lib._passes`, as in :mod:`softmax_lib._fused`.
"""

from __future__ import annotations

import decimal
import math

import numba as nb
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from softmax_lib._dispatch import compile_kernel
from softmax_lib._simd import exp_term, fma, two_sum

HELPERS = "c6f1536ce2fb23a7"  # sha256 of _simd.py and _passes.py, 16 hex digits: see above
PRECISE = 600  # entries from -PRECISE on get the precise exp (terms above 2**-865)
SHIFTER = 6755399441055744.0  # 1.5 * 2**52: q + SHIFTER - SHIFTER rounds q to an integer
CERTIFY = 2.0**-58.5  # a row is certified when its bound is below CERTIFY |w|
NEAR = 2.0**-15  # rows with |w| >= NEAR are left to NumPy
U = 2.0**-53  # unit roundoff of float64
# Factors of the bound (see precise_exp); UNDERFLOW, per term, exceeds any error of a
# subnormal result many times over, and is itself a normal float (no slow subnormal path).
TABLE_ERROR, Q_ERROR, ROUNDED, CHEAP = 2.0**-145, 2.0**-99, 2.0**-50, 2.0**-52
UNDERFLOW = 2.0**-1000


def _triple(value: decimal.Decimal) -> tuple[float, float, float]:
    """Split `value` into three floats whose exact sum is within 2**-159 of it (relative)."""
    hi = float(value)
    rest = value - decimal.Decimal(hi)
    mid = float(rest)
    return hi, mid, float(rest - decimal.Decimal(mid))


def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """exp(-b), exp(-a / 256) as triples, and the pairs of 1 / (k + 3)! for k < 5."""
    with decimal.localcontext() as ctx:
        ctx.prec = 60
        whole = np.array([_triple(decimal.Decimal(-b).exp()) for b in range(PRECISE + 1)])
        parts = np.array([_triple((decimal.Decimal(-a) / 256).exp()) for a in range(256)])
        inverse = [1 / decimal.Decimal(math.factorial(k + 3)) for k in range(5)]
        coefficients = np.array([_triple(v)[:2] for v in inverse])
    return whole, parts, coefficients


EXP_WHOLE, EXP_PART, Q_PAIRS = _tables()
Q_CONSTANTS = tuple((float(hi), float(lo)) for hi, lo in Q_PAIRS)  # constants in the code
# The double tail of Q: 1 / 8!, ..., 1 / 11! (rounded; their errors are below 2**-130).
Q_TAIL = (1 / 39916800, 1 / 3628800, 1 / 362880, 1 / 40320)


@nb.njit(inline="always", error_model="numpy")
def reduce(v):
    """Return ``(y, b, a)``: ``v = -(256 b + a) / 256 + y`` exactly, ``|y| <= 2**-9``."""
    q = -v * 256.0  # exact
    cf = (q + SHIFTER) - SHIFTER
    c = int(cf)
    return v + cf * 0.00390625, c >> 8, c & 255  # y exact


@nb.njit(inline="always", error_model="numpy")
def term(y, a1, a2, a3, b1, b2, b3):
    """exp(y) (a1 + a2 + a3) (b1 + b2 + b3) as parts, and a bound: see the module docstring.

    Returns 12 floats: the four level-1 parts (exact, about the term's size), the six
    level-2 parts (exact, below about 2**-51 of it), the rounded level-3 part (below about
    2**-100 of it), and the bound on the error of their sum against the exact term. No
    branch and no table: the loop over a block (:func:`terms`) runs on vectors.
    """
    # P = exp(-b) exp(-a / 256), the product of two triples, as P1 + P2 + P3.
    p1 = a1 * b1
    e1 = fma(a1, b1, -p1)
    s2 = a1 * b2
    e2 = fma(a1, b2, -s2)
    s3 = a2 * b1
    e3 = fma(a2, b1, -s3)
    rest = ((e2 + e3) + (a1 * b3 + a3 * b1)) + a2 * b2
    m, m_err = two_sum(s2, s3)
    p2, m_err2 = two_sum(e1, m)
    p3 = (m_err + m_err2) + rest
    # Q(y) = sum y**k / (k + 3)!: the tail in double, then five double-double steps.
    t = Q_TAIL[0]
    t = fma(t, y, Q_TAIL[1])
    t = fma(t, y, Q_TAIL[2])
    t = fma(t, y, Q_TAIL[3])
    qh, ql = t, 0.0
    for k in range(4, -1, -1):
        ch, cl = Q_CONSTANTS[k]
        prod = qh * y
        prod_err = fma(qh, y, -prod) + ql * y
        s = ch + prod
        ql = ((prod - (s - ch)) + prod_err) + cl  # |ch| > |prod|: fast TwoSum
        qh = s
    sq = y * y
    sq_lo = fma(y, y, -sq)  # exact (unless it underflows: counted in the bound)
    cube = sq * y
    cube_lo = fma(sq, y, -cube) + sq_lo * y
    c1 = cube * qh
    c2 = fma(cube, qh, -c1) + (cube * ql + cube_lo * qh)
    g1, g2 = two_sum(c1, 0.5 * sq_lo)
    g2 = g2 + c2
    h = 0.5 * sq  # E = y + h + g1 + g2
    # The term P (1 + E), its parts split by size.
    u1 = p1 * y
    u1e = fma(p1, y, -u1)
    v1 = p1 * h
    v1e = fma(p1, h, -v1)
    w1 = p1 * g1
    w1e = fma(p1, g1, -w1)
    d1 = p2 * y
    d1e = fma(p2, y, -d1)
    f1 = p2 * h
    f1e = fma(p2, h, -f1)
    small = p3 * y + p2 * g1 + p1 * g2
    level3 = (((p3 + d1e) + f1e) + small) + p3 * h
    # Errors: the table product (2**-145 of P; 0 where c == 0: P = 1 exactly, the only
    # case of p1 == 1, as exp(-1 / 256) rounds below 1); Q's and the truncated series'
    # (2**-99 of P y**3 Q); the rounded products and level3's sum (2**-50 of their
    # magnitudes); the products left out; and underflow.
    magnitude = abs(p3) + abs(d1e) + abs(f1e) + abs(small) + abs(p3 * h)
    dropped = abs(p3) * (abs(g1) + abs(g2)) + abs(p2) * abs(g2)
    bound = (
        (p1 * TABLE_ERROR if p1 < 1.0 else 0.0)
        + abs(w1) * Q_ERROR
        + magnitude * ROUNDED
        + dropped
        + UNDERFLOW
    )
    return p1, u1, v1, w1, p2, u1e, v1e, w1e, d1, f1, level3, bound


@nb.njit(inline="always", error_model="numpy")
def precise_exp(v, whole, parts):
    """exp(v) for ``-PRECISE <= v <= 0`` as floats: see the module docstring, step 2-3.

    Returns ``(level1, level2, level3, bound)``: ``level1`` four exact floats of about the
    term's size (as a tuple), ``level2`` six exact floats below about 2**-51 of it,
    ``level3`` one rounded float below about 2**-100 of it, and ``bound`` on the error of
    their sum against ``exp(v)``.
    """
    y, b, a = reduce(v)
    t = term(y, parts[a, 0], parts[a, 1], parts[a, 2], whole[b, 0], whole[b, 1], whole[b, 2])
    return t[:4], t[4:10], t[10], t[11]


# A block of BLOCK entries at a time, in one flat scratch array of ROWS rows of BLOCK:
# row 0 the reduced arguments y, rows 1-6 the table triples (a1, a2, a3, b1, b2, b3),
# rows PARTS.. the 12 outputs of `term`. One array with rows at constant offsets: LLVM
# then vectorises `terms` (with separate arrays it had too many pairs to check for overlap).
BLOCK = 256
PARTS = 7
ROWS = PARTS + 12
LANES = 16  # the sums run in 16 lanes: two vectors of 8 doubles


@nb.njit(error_model="numpy")
def scratch():
    """Return the scratch of `near_one_row`: the block's rows, and the lanes."""
    return np.empty(ROWS * BLOCK), np.empty(5 * LANES)


@nb.njit(error_model="numpy")
def gather(row, start, stop, top, work, whole, parts, cheap):
    """Pass 1 over ``row[start:stop]``: y and the table triples into `work`; scalar.

    Scalar, as it loads by index. Returns the count rounded up to LANES, and `cheap` updated.

    Entries below -PRECISE, -inf entries, the maximum's (``top``, added apart) and the
    padding get zeros: a term of 0, exactly (bound: UNDERFLOW). Entries below -PRECISE
    (and NaN) are added to ``cheap = (sum, pair hi, pair lo, rounding)`` instead, their
    double terms summed in a pair as in step 3.
    """
    total, c2, c3, rounding = cheap
    count = stop - start
    padded = (count + LANES - 1) // LANES * LANES
    for j in range(padded):
        i = start + j
        v = np.float64(row[i]) if j < count else -np.inf
        if v >= -PRECISE and i != top:
            y, b, a = reduce(v)
            work[j] = y
            work[BLOCK + j], work[2 * BLOCK + j] = parts[a, 0], parts[a, 1]
            work[3 * BLOCK + j], work[4 * BLOCK + j] = parts[a, 2], whole[b, 0]
            work[5 * BLOCK + j], work[6 * BLOCK + j] = whole[b, 1], whole[b, 2]
            continue
        for k in range(PARTS):
            work[k * BLOCK + j] = 0.0
        if v != -np.inf and i != top:
            t = exp_term(v, 0.0, True)
            total += t
            c2, err = two_sum(c2, t)
            c3 += err
            rounding += abs(c3)
    return padded, (total, c2, c3, rounding)


@nb.njit(error_model="numpy")
def terms(work, count):
    """Pass 2: the parts of the first `count` terms of the block (vector code: no tables)."""
    for j in range(count):
        out = term(
            work[j],
            work[BLOCK + j],
            work[2 * BLOCK + j],
            work[3 * BLOCK + j],
            work[4 * BLOCK + j],
            work[5 * BLOCK + j],
            work[6 * BLOCK + j],
        )
        # Written out: a loop over the tuple (indexed by a variable) kept the loop scalar.
        work[PARTS * BLOCK + j], work[(PARTS + 1) * BLOCK + j] = out[0], out[1]
        work[(PARTS + 2) * BLOCK + j], work[(PARTS + 3) * BLOCK + j] = out[2], out[3]
        work[(PARTS + 4) * BLOCK + j], work[(PARTS + 5) * BLOCK + j] = out[4], out[5]
        work[(PARTS + 6) * BLOCK + j], work[(PARTS + 7) * BLOCK + j] = out[6], out[7]
        work[(PARTS + 8) * BLOCK + j], work[(PARTS + 9) * BLOCK + j] = out[8], out[9]
        work[(PARTS + 10) * BLOCK + j], work[(PARTS + 11) * BLOCK + j] = out[10], out[11]


@intrinsic
def cascade(typingctx, work, count, lanes):
    """Pass 3: add the parts of `count` terms (a multiple of LANES) into the LANES lanes.

    ``lanes`` holds five rows of LANES: S1, S2, S3, the rounding sum and the bound; lane
    l adds the terms l, l + LANES, ... exactly as `near_one_row` adds one term (step 3).
    Written in LLVM IR: each lane's sums are in a vector register (numba's loops would
    keep them in memory, or not vectorise a sum that is not associative); no fast-math.
    """
    sig = types.void(work, types.intp, lanes)

    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        acc = context.make_array(signature.args[2])(context, builder, args[2]).data
        vector = ir.VectorType(ir.DoubleType(), 8)
        intp = context.get_value_type(types.intp)
        fnty = ir.FunctionType(vector, [vector])
        fabs = cgutils.get_or_insert_function(builder.module, fnty, "llvm.fabs.v8f64")
        groups = LANES // 8

        def at(base, index):
            return builder.bitcast(builder.gep(base, [index]), vector.as_pointer())

        def const(k):
            return ir.Constant(intp, k)

        regs = [
            [
                cgutils.alloca_once_value(
                    builder, builder.load(at(acc, const(8 * (g + groups * s))), align=8)
                )
                for s in range(5)
            ]
            for g in range(groups)
        ]

        def two_sum(a, b):
            s = builder.fadd(a, b)
            bv = builder.fsub(s, a)
            return s, builder.fadd(builder.fsub(a, builder.fsub(s, bv)), builder.fsub(b, bv))

        with cgutils.for_range(builder, builder.sdiv(args[1], const(LANES))) as loop:
            base = builder.mul(loop.index, const(LANES))
            for g in range(groups):
                j = builder.add(base, const(8 * g))
                parts = [
                    builder.load(at(data, builder.add(j, const((PARTS + k) * BLOCK))), align=8)
                    for k in range(12)
                ]
                s1, s2, s3, rounding, bound = (builder.load(reg) for reg in regs[g])
                for k, part in enumerate(parts[:11]):
                    if k < 4:  # level 1
                        s1, part = two_sum(s1, part)
                    if k < 10:  # level 1's errors, level 2
                        s2, part = two_sum(s2, part)
                    s3 = builder.fadd(s3, part)
                    rounding = builder.fadd(rounding, builder.call(fabs, [s3]))
                bound = builder.fadd(bound, parts[11])
                for reg, value in zip(regs[g], (s1, s2, s3, rounding, bound), strict=True):
                    builder.store(value, reg)
        for g in range(groups):
            for s in range(5):
                at_lane = at(acc, const(8 * (g + groups * s)))
                builder.store(builder.load(regs[g][s]), at_lane, align=8)  # 8: not 64
        return context.get_dummy_value()

    return sig, codegen


@nb.njit(error_model="numpy")
def near_one_row(row, whole, parts, work, lanes):
    """Return ``(w_hi, w_lo, bound)``: ``T - 1`` for the 1-D `row`, and a bound on its error.

    `work` and `lanes` are scratch (see :func:`scratch`).
    """
    n = row.shape[0]
    if n == 0:
        return -1.0, 0.0, 0.0
    top = 0  # the maximum's term first: 1 + E cancels against -1, exactly, before the
    for i in range(1, n):  # rest is added, so that S2 and S3 stay small beside T - 1
        top = i if row[i] > row[top] else top
    lanes[:] = 0.0
    cheap = (0.0, 0.0, 0.0, 0.0)
    for start in range(0, n, BLOCK):
        count, cheap = gather(row, start, min(start + BLOCK, n), top, work, whole, parts, cheap)
        terms(work, count)
        cascade(work, count, lanes)
    s1, s2, s3, rounding, bound = -1.0, 0.0, 0.0, 0.0, 0.0
    v = np.float64(row[top])
    if v >= -PRECISE:
        level1, level2, level3, bound = precise_exp(v, whole, parts)
    else:  # T is below n exp(-PRECISE): not near one (flagged); NaN stays NaN
        t = exp_term(v, 0.0, True)
        level1, level2, level3, bound = (t, 0.0, 0.0, 0.0), (0.0,) * 6, 0.0, t * CHEAP + UNDERFLOW
    # Then the lanes (a level-1, a level-2 and a level-3 part each), then the cheap terms.
    for part in level1:
        s1, err = two_sum(s1, part)
        s2, err = two_sum(s2, err)
        s3 += err
        rounding += abs(s3)
    for part in level2:
        s2, err = two_sum(s2, part)
        s3 += err
        rounding += abs(s3)
    s3 += level3
    rounding += abs(s3)
    for lane in range(LANES):
        s1, err = two_sum(s1, lanes[lane])
        s2, err = two_sum(s2, err)
        s3 += err
        rounding += abs(s3)
        s2, err = two_sum(s2, lanes[LANES + lane])
        s3 += err
        rounding += abs(s3)
        s3 += lanes[2 * LANES + lane]
        rounding += abs(s3) + lanes[3 * LANES + lane]
        bound += lanes[4 * LANES + lane]
    total, c2, c3, cheap_rounding = cheap
    s2, err = two_sum(s2, c2)
    s3 += err
    rounding += abs(s3)
    s3 += c3
    rounding += abs(s3) + cheap_rounding
    hi, lo = two_sum(s1, s2)
    lo2 = lo + s3
    w_hi, w_lo = two_sum(hi, lo2)
    # 2**-52 per cheap term (0.51 ULP; their UNDERFLOW is in the bound of their zero
    # entries in the block), 2**-53 per rounding of an S3 and of lo2.
    bound += total * CHEAP + (rounding + abs(lo2)) * U
    return w_hi, w_lo, bound


@compile_kernel(reads=2)  # x and which
def logsumexp_near_one(x, which, out, bad):
    """Log-sum-exp of the rows ``x[which]`` into `out`; flag in `bad` those not certified.

    See the module docstring: ``log1p(T - 1)`` with ``T - 1`` to about 2**-122, certified
    by a bound per row (below 2**-58.5 of ``T - 1``), for rows with ``|T - 1| < 2**-15``.
    """
    work, lanes = scratch()
    for j in range(which.shape[0]):
        w_hi, w_lo, bound = near_one_row(x[which[j]], EXP_WHOLE, EXP_PART, work, lanes)
        ok = w_hi != 0.0 and abs(w_hi) < NEAR and bound <= CERTIFY * abs(w_hi)
        bad[j] = not ok
        if ok:
            series = w_hi * w_hi * (-0.5 + w_hi * (1.0 / 3.0 - 0.25 * w_hi))
            out[j] = w_hi + (w_lo + series)
