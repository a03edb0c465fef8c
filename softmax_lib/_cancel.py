r"""The kernel for rows whose log-sum-exp cancels: ``T = sum(exp(x))`` within 2**-15 of 1.

Log-probabilities (the output of ``log_softmax``) are such rows: their log-sum-exp is 0 up
to the rounding of the inputs, ``|r|`` between about 2**-64 and 2**-50 (and far smaller
where one entry holds nearly all the mass: ``x_max = log(1 - 2**-k)``). In
``r = m + log(s)`` the two parts cancel, so the fused kernels flag these rows
(:func:`softmax_lib._dispatch._cancelled`). Here we compute ``w = T - 1`` directly, with an
error bound of its own, and ``r = log1p(w)``:

1. Almost every entry, ``-32.002 < x < -2**-9`` (down to -600 in rows with an entry
   below -32), goes through one vector pass in LLVM IR (:mod:`softmax_lib._lanes`): a
   table row ``exp(-c / 256)`` (``c = round(-256 x)``), ``exp(y)`` of the rest, the term's
   parts added into 16 lanes of three sums, with an a priori bound: a term's parts are
   within ``2**-129 P1`` of it (P1 about the term) and a lane's sums within
   ``2**-131.9 Pi`` of their terms' sum (Pi the sum of their P1), both proved there and
   checked against mpmath. Every BLOCK entries the lanes are added into the row's sums
   (below) and their bound, ``LANE_BOUND sum |S1|``, into the row's.
2. The others are taken one by one, with a bound of their own: the maximum (first), the
   entries with ``c == 0`` (``|x| <= 2**-9``), below -600, NaN. Those with ``x >= -PRECISE``
   get the precise ``exp`` (:func:`precise_exp`): ``x = -c / 256 + y`` split exactly,
   ``exp(-c / 256) = exp(-b) exp(-a / 256)`` (``c = 256 b + a``) from two tables of
   triples (2**-159 relative, :mod:`decimal`) multiplied with exact products (FMA) to
   about 2**-145, and ``exp(y) = 1 + E``, ``E = y + y**2 / 2 + y**3 Q(y)`` (``Q`` the
   series ``sum_k y**k / (k + 3)!`` to ``k = 8``, its first five coefficients as pairs, in
   double-double); lower entries (terms below 2**-866) the kernels' double ``exp``
   (:func:`softmax_lib._simd.exp_term`, 0.51 ULP), counted in the bound. An entry above
   2**-9 (T > 1 + 2**-9: not near one, and out of the tables' range) makes ``w`` NaN.
3. The sums that make ``w``: ``S1`` (starting at -1, so that ``S1 + S2 + S3`` is ``w``),
   ``S2`` the exact errors of the additions into ``S1`` (TwoSum) and the smaller parts,
   and ``S3`` the errors of ``S2`` and the smallest parts, plainly added: ``S3``'s own
   roundings are counted as they happen (``2**-53 |S3|`` each). The maximum's term goes
   first, so that ``1 + E`` cancels against -1 exactly before the rest is added.
4. The bound of a term of step 2 adds the error of its table product and of ``Q`` (zero
   where ``c == 0``: there the table factor is exactly 1, so where one entry holds nearly
   all the mass, ``x_max`` tiny, its term ``1 + E`` is exact to a bound relative to
   ``E - y``, not to 1, and ``w`` keeps its relative accuracy however small it is), the
   rounded products, the double terms, and underflow (2**-1000 a term).
5. ``r = log1p(w)`` from ``w = w_hi + w_lo``: ``w_hi + (w_lo - w_hi**2 / 2 + w_hi**3 / 3 -
   w_hi**4 / 4)``, rounded once (``|w| < 2**-15``: the next term is below 2**-60 of r).

A row is certified when its bound is below ``2**-58.5 |w|``: r is then within 2**-58 of
its exact value before the last rounding, a small fraction of an ULP (float64 and
float32). The other rows (``|w| >= 2**-15``: a maximum well below 0 rather than
log-probabilities; or too close a cancellation for these bits) are flagged and left to
the NumPy path (:func:`softmax_lib._extended.refine_near_zero`, long double and mpmath),
so no row is returned uncertified.

numba caches the kernel against this file only: HELPERS records the hash of
:mod:`softmax_lib._simd`, :mod:`softmax_lib._passes` and :mod:`softmax_lib._lanes`, as in
:mod:`softmax_lib._fused`.
"""

from __future__ import annotations

import decimal
import math

import numba as nb
import numpy as np

from softmax_lib._dispatch import compile_kernel
from softmax_lib._lanes import (
    BLOCK,
    EXP_GRID,
    FAR_MAX,
    GRID_MAX,
    LANE_BOUND,
    lane_sums,
    row_top,
    wide_lane_sums,
)
from softmax_lib._simd import exp_term, fma, two_sum

HELPERS = "71dabb0bec7ac2f6"  # sha256 of _simd.py, _passes.py and _lanes.py: see above
PRECISE = 600  # entries from -PRECISE on get the precise exp (terms above 2**-866)
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


@nb.njit(inline="always", error_model="numpy")
def add_parts(sums, level1, level2, level3):
    """Add a term's parts to ``sums = (S1, S2, S3, rounding)`` (step 3, rounding counted)."""
    s1, s2, s3, rounding = sums
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
    return s1, s2, s3, rounding + abs(s3)


@nb.njit(inline="always", error_model="numpy")
def add_entry(v, whole, parts, sums, cheap):
    """Add ``exp(v)`` (an entry the lanes leave) to `sums` or to `cheap`; return them, its bound.

    ``v >= -PRECISE`` gets the precise exp, lower entries (and NaN) the double one, summed
    in ``cheap = (sum, pair hi, pair lo, rounding)`` as in step 3. ``v > 2**-9`` (a row
    that is not near one: T > 1 + 2**-9) poisons the sum with NaN: the reduction would
    index the tables out of range.
    """
    if v > 0.001953125:
        return (np.nan, 0.0, 0.0, 0.0), cheap, 0.0
    if v >= -PRECISE:
        level1, level2, level3, bound = precise_exp(v, whole, parts)
        return add_parts(sums, level1, level2, level3), cheap, bound
    total, c2, c3, rounding = cheap
    t = exp_term(v, 0.0, True)
    c2, err = two_sum(c2, t)
    c3 += err
    return sums, (total + t, c2, c3, rounding + abs(c3)), UNDERFLOW


@nb.njit(error_model="numpy")
def first_maximum(row, lanes):
    """Return the index of the first maximum of `row` (0 if all are -inf; NaN passed over)."""
    row_top(row, lanes)
    top = 0
    for lane in range(16):
        value, at = lanes[lane], lanes[16 + lane]
        if value > lanes[top] or (value == lanes[top] and at < lanes[16 + top]):
            top = lane
    return int(lanes[16 + top])


@nb.njit(error_model="numpy")
def near_one_row(row, whole, parts, grid, lanes):
    """Return ``(w_hi, w_lo, bound)``: ``T - 1`` for the 1-D `row`, and a bound on its error.

    `lanes` is scratch of 64 floats (:func:`softmax_lib._lanes.lane_sums`' output).
    """
    n = row.shape[0]
    if n == 0:
        return -1.0, 0.0, 0.0
    top = first_maximum(row, lanes)  # its term first: 1 + E cancels against -1, exactly,
    # before the rest is added, so that S2 and S3 stay small beside T - 1
    wide = lanes[32:48].min() < -32.0  # entries with c > GRID_MAX: the wide pass
    limit = FAR_MAX if wide else GRID_MAX
    cheap = (0.0, 0.0, 0.0, 0.0)
    sums, cheap, bound = add_entry(np.float64(row[top]), whole, parts, (-1.0, 0.0, 0.0, 0.0), cheap)
    for start in range(0, n, BLOCK):
        stop = min(start + BLOCK, n)
        if wide:
            wide_lane_sums(row, start, stop, top, grid, lanes)
        else:
            lane_sums(row, start, stop, top, grid, lanes)
        s1, s2, s3, rounding = sums
        pi = 0.0  # sum |S1| of the lanes: their bound is LANE_BOUND times it (see _lanes)
        for lane in range(16):  # each lane: a level-1, a level-2 and a level-3 part
            s1, err = two_sum(s1, lanes[lane])
            s2, err = two_sum(s2, err)
            s3 += err
            rounding += abs(s3)
            s2, err = two_sum(s2, lanes[16 + lane])
            s3 += err
            rounding += abs(s3)
            s3 += lanes[32 + lane]
            rounding += abs(s3)
            pi += abs(lanes[lane])
        sums = (s1, s2, s3, rounding)
        bound += LANE_BOUND * pi
        if lanes[48:].sum() == 0.0:
            continue
        for i in range(start, stop):  # the entries the lanes left (as they decide it)
            v = np.float64(row[i])
            c = (v * -256.0 + SHIFTER) - SHIFTER
            if i == top or v == -np.inf or (c >= 1.0 and c <= limit):
                continue
            sums, cheap, term_bound = add_entry(v, whole, parts, sums, cheap)
            bound += term_bound
    s1, s2, s3, rounding = sums
    total, c2, c3, cheap_rounding = cheap
    s2, err = two_sum(s2, c2)
    s3 += err
    rounding += abs(s3)
    s3 += c3
    rounding += abs(s3) + cheap_rounding
    hi, lo = two_sum(s1, s2)
    lo2 = lo + s3
    w_hi, w_lo = two_sum(hi, lo2)
    # 2**-52 per cheap term (0.51 ULP), 2**-53 per rounding of an S3 and of lo2.
    bound += total * CHEAP + (rounding + abs(lo2)) * U
    return w_hi, w_lo, bound


@compile_kernel(reads=2)  # x and which
def logsumexp_near_one(x, which, out, bad):
    """Log-sum-exp of the rows ``x[which]`` into `out`; flag in `bad` those not certified.

    See the module docstring: ``log1p(T - 1)`` with ``T - 1`` to about 2**-122, certified
    by a bound per row (below 2**-58.5 of ``T - 1``), for rows with ``|T - 1| < 2**-15``.
    """
    lanes = np.empty(64)
    for j in range(which.shape[0]):
        w_hi, w_lo, bound = near_one_row(x[which[j]], EXP_WHOLE, EXP_PART, EXP_GRID, lanes)
        ok = w_hi != 0.0 and abs(w_hi) < NEAR and bound <= CERTIFY * abs(w_hi)
        bad[j] = not ok
        if ok:
            series = w_hi * w_hi * (-0.5 + w_hi * (1.0 / 3.0 - 0.25 * w_hi))
            out[j] = w_hi + (w_lo + series)
