"""The kernel for cancelling log-sum-exps (``softmax_lib._cancel``) against mpmath.

Its exponential, term by term, within the bound it reports; the sum ``T - 1`` of a row within
its bound; and the log-sum-exp of the rows it certifies within a hair of half an ULP, on
log-probabilities of many lengths, spreads and dtypes, on rows where one entry holds nearly
all the mass, and on rows whose result is near zero but not at it. Rows it cannot certify
are flagged, never returned.
"""

import math

import mpmath
import numba
import numpy as np
import pytest

import softmax_lib as sl
from softmax_lib import _cancel, _lanes
from softmax_lib import stability as st

TABLES = (_cancel.EXP_WHOLE, _cancel.EXP_PART)


@numba.njit
def _precise_parts(v, whole, parts):
    level1, level2, level3, bound = _cancel.precise_exp(v, whole, parts)
    return np.array([*level1, *level2, level3]), bound


def exact_sum(values):
    """The exact sum of floats, as an mpmath number (enough bits for any of them)."""
    with mpmath.workprec(2200):
        return mpmath.fsum(mpmath.mpf(float(v)) for v in values)


def kernel(x):
    """The kernel on every row of `x`: (values, flagged)."""
    x = np.ascontiguousarray(x)
    out, bad = np.empty(x.shape[0]), np.zeros(x.shape[0], dtype=bool)
    _cancel.logsumexp_near_one(x, np.arange(x.shape[0]), out, bad)
    return out, bad


@mpmath.workprec(300)
def test_the_tables_are_exp_to_159_bits():
    for table, step in ((_cancel.EXP_WHOLE, 1), (_cancel.EXP_PART, mpmath.mpf(1) / 256)):
        for k, triple in enumerate(table):
            exact = mpmath.exp(-k * step)
            assert abs(exact_sum(triple) - exact) <= 2.0**-159 * exact, k
    for k, pair in enumerate(_cancel.Q_PAIRS):
        exact = 1 / mpmath.factorial(k + 3)
        assert abs(exact_sum(pair) - exact) <= 2.0**-106 * exact, k
    assert _cancel.Q_TAIL == tuple(1 / math.factorial(k) for k in (11, 10, 9, 8))


@pytest.mark.parametrize(
    "points",
    [
        lambda rng: -rng.uniform(0, 1, 400),
        lambda rng: -rng.uniform(0, _cancel.PRECISE, 400),
        lambda rng: -np.exp(rng.uniform(-700, -5, 200)),  # tiny: c == 0, the table unused
        lambda rng: -np.arange(0, 4, 1 / 256),  # on the grid: y == 0
        lambda rng: -np.arange(0, 4, 1 / 256) + rng.uniform(-(2**-9), 2**-9, 1024),
        lambda rng: np.array([-_cancel.PRECISE, -0.0, -(2.0**-9), -(2.0**-9) * (1 + 2**-52)]),
    ],
    ids=["(-1, 0]", "(-PRECISE, 0]", "tiny", "grid", "around the grid", "edges"],
)
def test_the_precise_exp_is_within_its_bound_and_2_to_the_minus_128(points):
    # mpmath: exp(v) against the exact sum of the floats the kernel adds up, with bits
    # enough for 1 + v + v**2 / 2 where v is tiny.
    worst = 0.0
    for v in points(np.random.default_rng(0)):
        parts, bound = _precise_parts(float(v), *TABLES)
        with mpmath.workprec(400 + 2 * max(0, -math.frexp(float(v))[1])):
            exact = mpmath.exp(mpmath.mpf(float(v)))
        error = abs(exact_sum(parts) - exact)
        assert error <= bound, v
        assert bound <= 2.0**-127 * exact, v
        worst = max(worst, float(error / exact))
    assert worst <= 2.0**-130


@numba.njit
def _lane_sums(row, grid, out, wide):
    if wide:
        _lanes.wide_lane_sums(row, 0, row.shape[0], -1, grid, out)
    else:
        _lanes.lane_sums(row, 0, row.shape[0], -1, grid, out)


def lanes_of(row, wide=False):
    """The vector pass on `row` (no maximum set apart): its 64 outputs."""
    out = np.zeros(64)
    _lane_sums(np.ascontiguousarray(row, dtype=np.float64), _lanes.EXP_GRID, out, wide)
    return out


@pytest.mark.parametrize(
    "points",
    [
        lambda rng: -rng.uniform(2.0**-9, 32, 600),
        lambda rng: -np.arange(1, _lanes.GRID_MAX + 1, 37) / 256,  # on the grid: y == 0
        lambda rng: -np.arange(1, 2048, 7) / 256 + rng.choice([-1, 1], 293) * 2.0**-9,
        lambda rng: -np.arange(1, 2048, 5) / 256 + rng.uniform(-(2**-9), 2**-9, 410),
        lambda rng: np.array(
            [-(2.0**-9) * (1 + 2**-52), -(2.0**-8), -32.0, -32.0 - 2.0**-9, -32.0 - 2**-10]
        ),
    ],
    ids=["random", "grid", "|y| = 2**-9", "around the grid", "ends of the table"],
)
def test_each_term_of_the_lanes_is_within_TERM(points):
    # The a priori bound of softmax_lib._lanes: a term's parts within 2**-129 P1 of exp(x)
    # (mpmath, the exact sum of the lane's S1, S2, S3 after that one term; a lone term
    # in a lane is added without rounding but for S3's, counted in CASCADE by the proof).
    # The worst error found stays below 2**-131: the proof's 2**-130.2 is not loose. The
    # wide pass gives the same sums, bit for bit, on these entries.
    worst = 0.0
    for k, x in enumerate(points(np.random.default_rng(7))):
        row = np.full(16, -np.inf)
        row[k % 16] = x
        out = lanes_of(row)
        c = round(float(-256 * x))
        assert out[48:].sum() == (0 if 1 <= c <= _lanes.GRID_MAX else 1), x
        if not 1 <= c <= _lanes.GRID_MAX:
            continue
        assert np.array_equal(lanes_of(row, wide=True), out)
        p1 = _lanes.EXP_GRID[c, 0]
        with mpmath.workprec(400):
            error = abs(exact_sum(out[:48]) - mpmath.exp(mpmath.mpf(float(x))))
        assert error <= _lanes.TERM * p1, x
        worst = max(worst, float(error / p1))
    assert worst <= 2.0**-131


def test_each_far_term_of_the_wide_pass_is_within_TERM():
    # The wide pass's terms below -32 (c up to FAR_MAX: x >= -600), P the product of two
    # table rows (2**-145): within TERM P1 of exp(x) too (mpmath, with bits enough for
    # terms down to 2**-865). Entries below -600 are left to the scalar code.
    rng = np.random.default_rng(10)
    points = [
        *-rng.uniform(32, 600, 300),
        *-(np.arange(8193, _lanes.FAR_MAX + 1, 811) / 256 + rng.uniform(-(2**-9), 2**-9, 180)),
        -32.0 - 2.0**-8,
        -600.0,
        -600.0 - 2.0**-8,
    ]
    worst = 0.0
    for k, x in enumerate(points):
        row = np.full(16, -np.inf)
        row[k % 16] = x
        out = lanes_of(row, wide=True)
        c = round(float(-256 * x))
        assert out[48:].sum() == (0 if c <= _lanes.FAR_MAX else 1), x
        if c > _lanes.FAR_MAX:
            continue
        with mpmath.workprec(400):
            p1 = float(out[:16].sum())
            error = abs(exact_sum(out[:48]) - mpmath.exp(mpmath.mpf(float(x))))
        assert error <= _lanes.TERM * p1, x
        worst = max(worst, float(error / p1))
    assert worst <= 2.0**-130


def test_the_lanes_of_a_block_are_within_their_bound():
    # A block of BLOCK terms (64 a lane: the CASCADE bound's n), flat (every term alike,
    # the most additions of the same size) or spread: the lanes' sum within
    # LANE_BOUND * sum |S1| of the exact sum of exp(x) (mpmath).
    rng = np.random.default_rng(8)
    for row, wide in (
        (np.full(_lanes.BLOCK, -np.log(_lanes.BLOCK) - 2.0**-20), False),
        (-rng.uniform(2.0**-9, 12, _lanes.BLOCK), False),
        (sl.log_softmax(rng.normal(size=_lanes.BLOCK)) - 0.01, False),
        (sl.log_softmax(30 * rng.normal(size=_lanes.BLOCK)) - 0.01, True),
    ):
        out = lanes_of(row, wide)
        assert out[48:].sum() == 0
        with mpmath.workprec(800):
            exact = mpmath.fsum(mpmath.exp(mpmath.mpf(float(v))) for v in row)
        error = abs(exact_sum(out[:48]) - exact)
        assert error <= _lanes.LANE_BOUND * np.abs(out[:16]).sum()
        assert _lanes.CASCADE <= 2.0**-131.5


def test_the_grid_is_exp_to_159_bits():
    with mpmath.workprec(300):
        for c in range(0, _lanes.GRID_MAX + 1, 13):
            exact = mpmath.exp(mpmath.mpf(-c) / 256)
            assert abs(exact_sum(_lanes.EXP_GRID[c, :3]) - exact) <= 2.0**-159 * exact, c
        for b in range(1, _lanes.FAR_ROWS):  # the wide pass's second factor
            exact = mpmath.exp(-32 * b)
            row = _lanes.EXP_GRID[_lanes.GRID_MAX + b, :3]
            assert abs(exact_sum(row) - exact) <= 2.0**-159 * exact, b
        for k, pair in enumerate(_lanes.K_PAIRS):
            exact = 1 / mpmath.factorial(k + 3)
            assert abs(exact_sum(pair) - exact) <= 2.0**-106 * exact, k
    assert _lanes.K_TAIL == tuple(1 / math.factorial(k) for k in (11, 10, 9, 8))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_vector_maximum_is_the_first_maximum(dtype):
    # The vector pass of _lanes.row_top and its lanes' fold: np.argmax (the first maximum) on
    # rows of every length mod 16, with ties, -inf entries, and all -inf (index 0).
    rng = np.random.default_rng(9)
    for n in [*range(1, 40), 1000, 1023]:
        row = rng.integers(-5, 0, n).astype(dtype)  # many ties
        row[rng.random(n) < 0.3] = -np.inf
        assert _cancel.first_maximum(row, np.empty(64)) == np.argmax(row), (n, row)
        assert _cancel.first_maximum(np.full(n, -np.inf, dtype=dtype), np.empty(64)) == 0


def log_probability_rows(rng, n, rows, spread, dtype):
    return sl.log_softmax((rng.normal(size=(rows, n)) * spread).astype(dtype))


def dominant_rows(rng, dtype, ks=(*range(1, 150, 4), 150), lengths=(2, 3, 10, 200)):
    """Rows with p_max = 1 - 2**-k, the rest of the mass spread at random (mpmath logs)."""
    rows = []
    with mpmath.workdps(80):
        for k in ks:
            for n in lengths:
                rest = rng.dirichlet(np.ones(n - 1)) * mpmath.mpf(2) ** -k
                row = [float(mpmath.log(1 - mpmath.mpf(2) ** -k))]
                row += [float(mpmath.log(r)) for r in rest]
                rows.append(row + [-np.inf] * (max(lengths) - n))
    return np.array(rows, dtype=dtype)


def test_the_sum_of_each_row_is_within_its_bound():
    # T - 1 (exactly, mpmath) against the kernel's w_hi + w_lo and its bound, on rows of
    # every kind below: the bound is what certifies a row, so it must hold everywhere.
    rng = np.random.default_rng(1)
    rows = [
        *log_probability_rows(rng, 10, 50, 1.0, np.float64),
        *log_probability_rows(rng, 1000, 3, 5.0, np.float64),
        *dominant_rows(rng, np.float64, ks=(1, 20, 60, 150), lengths=(2, 10)),
        np.array([-1.0, -1.25, -800.0, -np.inf]),  # not near one; a term below -PRECISE
    ]
    for row in rows:
        w_hi, w_lo, bound = _cancel.near_one_row(row, *TABLES, _lanes.EXP_GRID, np.empty(64))
        with mpmath.workprec(800):
            exact = mpmath.fsum(mpmath.exp(mpmath.mpf(float(v))) for v in row) - 1
        assert abs(exact_sum([w_hi, w_lo]) - exact) <= bound


def within_half_an_ulp(x, out, bad, dps=80):
    """The certified rows' worst error in ULPs of x's dtype (mpmath reference)."""
    exact = st.reference_logsumexp(x[~bad], dps=dps)
    return st.ulp_error(out[~bad].astype(x.dtype), exact).max()


# Certified rows are within 2**-58 of the exact value before the last rounding: at most
# 0.5 + 2**-5 ULPs of float64 (bound); float32 adds the rounding of the float64 result.
BOUND = 0.51


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("n", "rows"), [(2, 100), (3, 100), (10, 100), (1000, 20), (50257, 2)])
@pytest.mark.parametrize("spread", [0.1, 1.0, 5.0, 30.0])
def test_issue32_logsumexp_of_log_probabilities_is_certified_and_accurate(n, rows, spread, dtype):
    # Log-probabilities cancel in m + log(s): 700-2000x the time of the logits' log-sum-exp
    # on the NumPy path's long double and mpmath before this kernel. Its rows are within
    # BOUND ULPs (mpmath), and at most a few rows of the widest spread are left to NumPy.
    rng = np.random.default_rng(n)
    x = log_probability_rows(rng, n, rows, spread, dtype)
    out, bad = kernel(x)
    assert within_half_an_ulp(x, out, bad) <= BOUND
    assert bad.sum() <= (0 if spread < 30 else max(1, rows // 8))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_issue32_logsumexp_of_log_probabilities_with_one_dominant_entry(dtype):
    # p_max = 1 - 2**-k for k up to 150: x_max is about -2**-k, and T - 1 is about
    # 2**-(k + 53). The first attempt (one absolute bound for all terms) was 4.5 ULPs off
    # at 2**-132; this kernel adds the maximum's term first and bounds each term's error
    # relative to its own size, so T - 1 keeps its relative accuracy.
    x = dominant_rows(np.random.default_rng(2), dtype)
    out, bad = kernel(x)
    assert not bad.any()
    assert within_half_an_ulp(x, out, bad, dps=200) <= BOUND


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_issue32_logsumexp_of_log_probabilities_near_but_not_at_zero(dtype):
    # Rows shifted so that their log-sum-exp is near a small target (1e-30 .. 1e-5), and
    # log(0.5) twice (0 in exact arithmetic, not for the rounded inputs).
    rng = np.random.default_rng(3)
    rows = []
    for target in 10.0 ** -rng.uniform(5, 30, 100):
        z = sl.log_softmax(rng.normal(size=int(rng.integers(2, 100))))
        rows.append(np.concatenate([z + target * rng.choice([-1, 1]), [-np.inf] * 100])[:100])
    rows.append([math.log(0.5), math.log(0.5)] + [-np.inf] * 98)
    x = np.array(rows, dtype=dtype)
    out, bad = kernel(x)
    assert bad.sum() <= 2
    assert within_half_an_ulp(x, out, bad) <= BOUND


def test_rows_not_near_one_are_left_to_numpy():
    # m = -1 and a log-sum-exp of about -0.4: flagged by the fused kernels (|r| < |m| / 2),
    # but T - 1 is not small: the kernel flags it instead of returning an uncertified value.
    _, bad = kernel(np.array([[-1.0, -1.2], [-1e-300, -800.0]]))
    # T - 1 = -1e-300 (and 1e-348): below what the allowance for underflow lets it certify.
    assert bad.tolist() == [True, True]


def test_issue32_a_positive_entry_is_never_certified():
    # The kernel took any x >= -PRECISE through its tables, x = 0.01 to a negative row index
    # (exp(-600) in place of exp(0.01)): [0.01, -1e-10] came back certified as -1e-10
    # (exact: 0.698). The dispatcher sends no such row (its maximum is negative); the
    # kernel now flags any entry above 2**-9, where T exceeds 1 + 2**-9; smaller ones
    # (c == 0) are in the tables' range, and the row [1e-6] is near one.
    out, bad = kernel(np.array([[0.01, -1e-10], [-1e-10, 0.01], [1e-6, -np.inf]]))
    assert bad.tolist() == [True, True, False]
    assert out[2] == 1e-6
