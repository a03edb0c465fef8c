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
   roundings are counted as they happen (``2**-53 |S3|`` each).
4. The bound adds, per term, the error of its table product and of ``Q`` (zero where
   ``c == 0``: there the table factor is exactly 1, so where one entry holds nearly all
   the mass, ``x_max`` tiny, its term ``1 + E`` is exact to a bound relative to
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
:mod:`softmax_lib._simd` and :mod:`softmax_lib._passes`, as in :mod:`softmax_lib._fused`.
"""

from __future__ import annotations

import decimal
import math

import numba as nb
import numpy as np

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
# The double tail of Q: 1 / 8!, ..., 1 / 11! (rounded; their errors are below 2**-130).
Q_TAIL = (1 / 39916800, 1 / 3628800, 1 / 362880, 1 / 40320)


@nb.njit(inline="always", error_model="numpy")
def precise_exp(v, whole, parts, pairs):
    """exp(v) for ``-PRECISE <= v <= 0`` as floats: see the module docstring, step 2-3.

    Returns ``(level1, level2, level3, bound)``: ``level1`` four exact floats of about the
    term's size (as a tuple), ``level2`` six exact floats below about 2**-51 of it,
    ``level3`` one rounded float below about 2**-100 of it, and ``bound`` on the error of
    their sum against ``exp(v)``.
    """
    q = -v * 256.0  # exact
    cf = (q + SHIFTER) - SHIFTER
    y = v + cf * 0.00390625  # exact: |y| <= 2**-9
    c = int(cf)
    b, a = c >> 8, c & 255
    # P = exp(-b) exp(-a / 256), the product of two triples, as P1 + P2 + P3.
    a1, a2, a3 = parts[a, 0], parts[a, 1], parts[a, 2]
    b1, b2, b3 = whole[b, 0], whole[b, 1], whole[b, 2]
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
        ch, cl = pairs[k, 0], pairs[k, 1]
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
    # Errors: the table product (2**-145 of P; 0 where c == 0, P = 1 exactly); Q's and the
    # truncated series' (2**-99 of P y**3 Q); the rounded products and level3's sum
    # (2**-50 of their magnitudes); the products left out; and underflow.
    magnitude = abs(p3) + abs(d1e) + abs(f1e) + abs(small) + abs(p3 * h)
    dropped = abs(p3) * (abs(g1) + abs(g2)) + abs(p2) * abs(g2)
    bound = (
        (p1 * TABLE_ERROR if c else 0.0)
        + abs(w1) * Q_ERROR
        + magnitude * ROUNDED
        + dropped
        + UNDERFLOW
    )
    return (p1, u1, v1, w1), (p2, u1e, v1e, w1e, d1, f1), level3, bound


@nb.njit(error_model="numpy")
def near_one_row(row, whole, parts, pairs):
    """Return ``(w_hi, w_lo, bound)``: ``T - 1`` for the 1-D `row`, and a bound on its error."""
    n = row.shape[0]
    top = 0  # the maximum's term first: 1 + E cancels against -1, exactly, before the
    for i in range(1, n):  # rest is added, so that S2 and S3 stay small beside T - 1
        top = i if row[i] > row[top] else top
    s1, s2, s3, rounding, bound, cheap = -1.0, 0.0, 0.0, 0.0, 0.0, 0.0
    for k in range(n):
        v = np.float64(row[top if k == 0 else k - 1 if k <= top else k])
        if v == -np.inf:
            continue
        if v < -PRECISE:
            t = exp_term(v, 0.0, True)
            cheap += t
            bound += UNDERFLOW  # subnormal terms: rounded twice
            s2, err = two_sum(s2, t)
            s3 += err
            rounding += abs(s3)
            continue
        level1, level2, level3, term_bound = precise_exp(v, whole, parts, pairs)
        bound += term_bound
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
    hi, lo = two_sum(s1, s2)
    lo2 = lo + s3
    w_hi, w_lo = two_sum(hi, lo2)
    # 2**-52 per cheap term (0.51 ULP), 2**-53 per rounding of S3 and of lo2, and the
    # error of the unrounded cheap sum is exact (TwoSum).
    bound += cheap * CHEAP + (rounding + abs(lo2)) * U
    return w_hi, w_lo, bound


@compile_kernel(reads=2)  # x and which
def logsumexp_near_one(x, which, out, bad):
    """Log-sum-exp of the rows ``x[which]`` into `out`; flag in `bad` those not certified.

    See the module docstring: ``log1p(T - 1)`` with ``T - 1`` to about 2**-122, certified
    by a bound per row (below 2**-58.5 of ``T - 1``), for rows with ``|T - 1| < 2**-15``.
    """
    for j in range(which.shape[0]):
        w_hi, w_lo, bound = near_one_row(x[which[j]], EXP_WHOLE, EXP_PART, Q_PAIRS)
        ok = w_hi != 0.0 and abs(w_hi) < NEAR and bound <= CERTIFY * abs(w_hi)
        bad[j] = not ok
        if ok:
            series = w_hi * w_hi * (-0.5 + w_hi * (1.0 / 3.0 - 0.25 * w_hi))
            out[j] = w_hi + (w_lo + series)
