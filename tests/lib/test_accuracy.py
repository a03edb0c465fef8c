"""Accuracy in ULPs against the mpmath reference, on ordinary and adversarial rows.

Each (dtype, function) pair must stay within a fixed ULP bound on every input class, and its
worst case must be no worse than SciPy's worst case on the same rows (or within 1 ULP, where
SciPy is itself correctly rounded).
"""

import mpmath
import numpy as np
import pytest
from scipy import special

from softmax_lib import cross_entropy, kernels, log_softmax, logsumexp, softmax
from softmax_lib import stability as st
from softmax_lib.information import cross_entropy_between, entropy, kl_divergence
from softmax_lib.stability.cases import cases

# Every test here runs twice: through the fused kernels and through the NumPy path.
pytestmark = pytest.mark.usefixtures("both_paths")

FUNCTIONS = {
    "softmax": (softmax, special.softmax, st.reference_softmax),
    "log_softmax": (log_softmax, special.log_softmax, st.reference_log_softmax),
    "logsumexp": (logsumexp, special.logsumexp, st.reference_logsumexp),
}
# float16 and float32 are computed in float64 and rounded once: correctly rounded up to a
# rare double rounding. float64 bounds are the goal stated for the library.
BOUNDS = {
    np.float16: {"softmax": 0.51, "log_softmax": 0.51, "logsumexp": 0.51},
    np.float32: {"softmax": 0.51, "log_softmax": 0.51, "logsumexp": 0.51},
    np.float64: {"softmax": 4.0, "log_softmax": 4.0, "logsumexp": 2.0},
}


def worst_ulps(dtype, name):
    ours_fn, scipy_fn, reference = FUNCTIONS[name]
    ours, theirs = {}, {}
    for label, x in cases(dtype).items():
        exact = reference(x)
        ours[label] = st.ulp_error(ours_fn(x), exact).max()
        with np.errstate(all="ignore"):
            theirs[label] = st.ulp_error(
                np.asarray(scipy_fn(x, axis=-1)).astype(dtype), exact
            ).max()
    return ours, theirs


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_within_bound_and_no_worse_than_scipy(dtype, name):
    ours, theirs = worst_ulps(dtype, name)
    bound = BOUNDS[dtype][name]
    too_big = {k: v for k, v in ours.items() if v > bound}
    assert not too_big, f"{dtype.__name__} {name} exceeds {bound} ULPs: {too_big}"
    assert max(ours.values()) <= max(max(theirs.values()), 1.0), (ours, theirs)


def test_scipy_log_softmax_really_is_worse_on_these_rows():
    # Guards the comparison above against a reference that agrees with everything: SciPy's
    # x - logsumexp(x) cancels for large logits, so its worst case must be enormous.
    _, theirs = worst_ulps(np.float64, "log_softmax")
    assert max(theirs.values()) > 1e10


CE_BOUNDS = {np.float16: 0.51, np.float32: 0.51, np.float64: 4.0}


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_cross_entropy_per_example_is_accurate(dtype):
    # The loss of the most and of the least likely class of every row, against mpmath.
    for label, x in cases(dtype).items():
        exact_lp = st.reference_log_softmax(x)
        for target in (np.argmax(x, axis=-1), np.argmin(x, axis=-1)):
            exact = -np.take_along_axis(exact_lp, target[:, None], axis=-1)[:, 0]
            loss = cross_entropy(x, target, reduction="none")
            assert loss.dtype == dtype
            worst = st.ulp_error(loss, exact).max()
            assert worst <= CE_BOUNDS[dtype], (label, worst)


def test_logsumexp_near_zero_is_accurate():
    # lse([-log 2, -log 2]) is the tiny representation error of log 2: about 2.3e-17.
    x = np.array([-0.6931471805599453, -0.6931471805599453])
    assert st.ulp_error(logsumexp(x)[None], st.reference_logsumexp(x)[None])[0] <= 1


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_logsumexp_where_m_plus_log_s_cancels(dtype):
    # Rows whose maximum is negative and whose result is small beside it: every amount of
    # cancellation, from a factor 2 to total, in batches and along other axes.
    rng = np.random.default_rng(9)
    rows = []
    for n in (2, 3, 10, 1000):
        for target in (0.3, 1e-3, 1e-9, 1e-15, 0.0):
            z = rng.normal(0, 1, n)
            z = z - float(logsumexp(z)) + target  # shift so that lse(z) is close to target
            rows.append(z.astype(dtype))
    for row in rows:
        exact = st.reference_logsumexp(row, dps=400)
        bound = 2.0 if dtype == np.float64 else 0.51
        assert st.ulp_error(logsumexp(row)[None], exact[None])[0] <= bound, row
    batch = np.stack([r for r in rows if r.size == 10])
    exact = st.reference_logsumexp(batch, dps=400)
    assert st.ulp_error(logsumexp(batch), exact).max() <= bound
    assert st.ulp_error(logsumexp(batch.T, axis=0), exact).max() <= bound
    cube = batch.reshape(batch.shape[0], 2, 5)
    assert st.ulp_error(logsumexp(cube, axis=(1, 2)), exact).max() <= bound


# Issue 30: the NumPy path summed a reduced axis that was not innermost in memory with one
# running sum per output instead of pairwise (every temperature, float16 and a missing numba
# take that path), and entropy-like sums did the same.


def _rows_along(x, axis):
    return np.ascontiguousarray(np.moveaxis(x, axis, -1))


def test_issue30_softmax_along_the_first_axis_with_a_temperature():
    # The issue's reproducer: about 21 ULPs off along axis 0 (3 along rows) before the fix.
    # Dividing by 2 is exact, so the reference is the softmax of x / 2.
    x = np.random.default_rng(0).normal(0, 3, (1025, 4))
    got = softmax(x, axis=0, temperature=2.0)
    exact = st.reference_softmax(_rows_along(x / 2, 0))
    assert st.ulp_error(_rows_along(got, 0), exact).max() <= BOUNDS[np.float64]["softmax"]


_STRIDED = np.random.default_rng(5).normal(0, 1, (4000, 4)) * [0.1, 1.0, 5.0, 0.1]


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("layout", ["axis 0 of C order", "last axis of Fortran order"])
def test_issue30_normalisers_along_an_axis_that_is_not_innermost(name, layout):
    # On the NumPy path, before the fix: softmax 28, log_softmax 5.0, logsumexp 2.2 ULPs
    # (bounds 4, 4, 2); the same rows along the last axis of a C-ordered array were within.
    fn, _, reference = FUNCTIONS[name]
    rows = _rows_along(_STRIDED, 0)
    if layout == "axis 0 of C order":
        got = fn(_STRIDED, axis=0)
        got = got if name == "logsumexp" else _rows_along(got, 0)
    else:
        fortran = np.asfortranarray(rows)
        assert not fortran.flags.c_contiguous
        got = fn(fortran, axis=-1)
    assert st.ulp_error(got, reference(rows)).max() <= BOUNDS[np.float64][name]


def _mp_entropy_and_cross_entropy(p, q):
    """Entropy and cross-entropy of each row from the definitions, in 50 digits."""
    out = []
    with mpmath.workdps(50):
        for row_p, row_q in zip(p, q, strict=True):
            ps = [mpmath.mpf(float(v)) for v in row_p]
            qs = [mpmath.mpf(float(v)) for v in row_q]
            h = -mpmath.fsum(a * mpmath.log(a) for a in ps if a > 0)
            c = -mpmath.fsum(a * mpmath.log(b) for a, b in zip(ps, qs, strict=True) if a > 0)
            out.append((h, c))
    return [np.array(v, dtype=object) for v in zip(*out, strict=True)]


def test_issue30_entropy_of_a_fortran_ordered_array():
    # 61 ULPs off before the fix for rows of 4000 in Fortran order (1 in C order): the sum of
    # the terms ran along the outer axis of memory, one running sum per row.
    rng = np.random.default_rng(5)
    p = softmax(rng.normal(0, 10, (3, 4000)))
    q = softmax(rng.normal(0, 1, (3, 4000)))
    h, c = _mp_entropy_and_cross_entropy(p, q)
    pf, qf = np.asfortranarray(p), np.asfortranarray(q)
    for got_h, got_c in (
        (entropy(pf), cross_entropy_between(pf, qf)),
        (entropy(p.T, axis=0), cross_entropy_between(p.T, q.T, axis=0)),
    ):
        assert st.ulp_error(got_h, h).max() <= 4
        assert st.ulp_error(got_c, c).max() <= 4


LONG_DOUBLE_IS_WIDER = np.finfo(np.longdouble).nmant > np.finfo(np.float64).nmant


def test_issue30_kl_divergence_of_distant_distributions_is_within_its_bound():
    # Found by the layout property test (tests/lib/test_layouts.py), on any layout: the two
    # parts of a term p log(p / q) - p + q far from q = p cancel by up to a factor of 3, and
    # the float64 sum was 5.7 ULPs off. The terms are now computed and summed in long double
    # where that is wider and rounded once ("about half an ULP"; "a few" elsewhere).
    p = [0.15855293015865957, 0.3387066967748069, 0.33704460823258586, 0.16569576483394766]
    q = [0.2268709695834747, 0.08820408953813039, 0.5053107803502521, 0.1796141605281428]
    with mpmath.workdps(50):
        ps, qs = [mpmath.mpf(v) for v in p], [mpmath.mpf(v) for v in q]
        exact = mpmath.fsum(a * mpmath.log(a / b) - a + b for a, b in zip(ps, qs, strict=True))
    error = st.ulp_error(np.atleast_1d(kl_divergence(p, q)), np.array([exact], dtype=object))
    assert error[0] <= (0.51 if LONG_DOUBLE_IS_WIDER else 8.0)


@pytest.mark.xfail(
    strict=True,
    reason="open (issue 30, reported): m + log(s) cancels partly where the maximum m is "
    "negative and the result is at least |m| / 2, which is not refined; up to about 6 ULPs",
)
def test_issue30_logsumexp_where_a_negative_maximum_partly_cancels():
    # Found by the layout property test: 3.5 ULPs on both paths, against the bound of 2.
    # log(s) = 0.0676 is rounded before m = -0.038 cancels half of it.
    x = np.array([-2.6973495603711024, -0.03798646318891119])
    exact = st.reference_logsumexp(x, dps=60)
    assert st.ulp_error(logsumexp(x)[None], exact[None])[0] <= BOUNDS[np.float64]["logsumexp"]


@pytest.mark.xfail(
    strict=True,
    reason="open (issue 30, reported): the NumPy path sums the tail of each row in float64 "
    "(NumPy's pairwise sum adds up to 16 terms in a row); the kernels compensate",
)
def test_issue30_numpy_path_sums_the_tail_in_float64():
    # Found by the layout property test (on any layout), on the NumPy path under both
    # fixtures: a log-sum-exp of 2.6 ULPs (1.4 with the kernels; bound 2), and the softmax of
    # a long row of repeated values at 5.8 ULPs (0.8 with the kernels; bound 4).
    row = np.array([0.0, -16.41175742246799, -2.0581121337551567, -8.460549642909001,
                    -11.287664912634675, -5.381473564257742])  # fmt: skip
    long_row = np.array([0.0] * 8 + [-2.0] * 4000)
    with mpmath.workdps(50):
        t = mpmath.exp(mpmath.mpf(-2))
        s = 8 + 4000 * t
        exact = np.array([1 / s] * 8 + [t / s] * 4000, dtype=object)
    with kernels.numpy_path():
        lse, p = logsumexp(row), softmax(long_row)
    lse_error = st.ulp_error(lse[None], st.reference_logsumexp(row)[None])[0]
    softmax_error = st.ulp_error(p, exact).max()
    assert lse_error <= BOUNDS[np.float64]["logsumexp"]
    assert softmax_error <= BOUNDS[np.float64]["softmax"]
