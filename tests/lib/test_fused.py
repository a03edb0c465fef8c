"""The fused kernels (``softmax_lib._fused``, numba) against the NumPy path and mpmath.

Both paths must meet the library's accuracy bounds on every input class, in every layout the
public functions accept; rows with special values, masks, temperatures and the dtypes the
kernels do not take must give exactly what the NumPy path gives. (The accuracy, core, loss
and regression test modules also run twice, once per path: see ``both_paths`` in conftest.)
"""

import hashlib
import math
import os
from pathlib import Path

import mpmath
import numba
import numpy as np
import pytest

import softmax_lib as sl
from softmax_lib import _dispatch
from softmax_lib import stability as st
from softmax_lib.stability.cases import cases

FUNCTIONS = {
    "softmax": (sl.softmax, st.reference_softmax),
    "log_softmax": (sl.log_softmax, st.reference_log_softmax),
    "logsumexp": (sl.logsumexp, st.reference_logsumexp),
}
BOUNDS = {  # the bounds of tests/lib/test_accuracy.py
    np.float32: {"softmax": 0.51, "log_softmax": 0.51, "logsumexp": 0.51},
    np.float64: {"softmax": 4.0, "log_softmax": 4.0, "logsumexp": 2.0},
}


def on_numpy_path(fn, *args, **kwargs):
    with _dispatch.numpy_path():
        return fn(*args, **kwargs)


def test_the_kernels_are_installed_and_can_be_switched_off(monkeypatch):
    # numba is pinned in requirements.txt, so every run of this suite tests the kernels.
    assert _dispatch.kernels() is not None
    monkeypatch.setenv("SOFTMAX_LIB_NUMBA", "0")
    assert _dispatch.kernels() is None


def test_the_kernel_constants_are_what_their_comments_say():
    mpmath.mp.prec = 200
    from softmax_lib import _simd as f

    ln2 = mpmath.log(2)
    assert f.INV_LN2 == float(1 / ln2)
    assert f.LN2_HI == float(ln2)
    assert f.LN2_LO == float(ln2 - mpmath.mpf(f.LN2_HI))
    assert f.SHIFTER == 1.5 * 2**52
    # BIASED rounds d / ln 2 as SHIFTER does, ties apart: d * INV_LN2 is an odd multiple of
    # a power of two at least INV_LN2's odd part (2**51 or more), never half an odd integer
    # below 2**50 in magnitude; and the low 12 bits of round(y) + BIASED are k + 1023.
    assert f.BIASED == f.SHIFTER + 1023
    mantissa, _ = math.frexp(f.INV_LN2)
    odd = int(mantissa * 2**53)
    while odd % 2 == 0:
        odd //= 2
    assert odd >= 2**51
    for k in (-1022, -700, -1, 0, 1, 1023):
        assert (np.float64(k + f.BIASED).view(np.int64) << 52) == np.float64(2.0**k).view(np.int64)
    assert float(mpmath.exp(f.UNDER)) == 0.0 < float(mpmath.exp(f.UNDER + 0.1))
    assert float(mpmath.exp(f.SUBNORMAL)) >= 2.0**-1022 > float(mpmath.exp(f.SUBNORMAL - 0.2))
    assert f.SIXTH == float(mpmath.mpf(1) / 6)
    assert f.SIXTH_LO == float(mpmath.mpf(1) / 6 - mpmath.mpf(f.SIXTH))
    sixth = mpmath.mpf(f.SIXTH) + mpmath.mpf(f.SIXTH_LO)
    # exp(r) = 1 + r + r**2 / 2 + r**3 / 6 + r**4 P(r) on |r| <= ln(2) / 2 to 2**-59.9
    # (float64), 1 + r + r**2 Q(r) to 2**-43 (float32)
    for poly, quartic, bound in ((f.POLY, True, 2.0**-59.9), (f.POLY_SINGLE, False, 2.0**-43)):
        worst = mpmath.mpf(0)
        for r in mpmath.linspace(-ln2 / 2, ln2 / 2, 801):
            p = mpmath.mpf(0)
            for c in poly:
                p = p * r + mpmath.mpf(c)
            approx = 1 + r + (r * r / 2 + r**3 * sixth + r**4 * p if quartic else r * r * p)
            exact = mpmath.exp(r)
            worst = max(worst, abs(approx - exact) / exact)
        assert worst <= bound, (len(poly), worst)


def test_the_exp_adds_one_plus_r_and_half_its_square_by_fast2sum():
    # exp_term adds h = 1 + r and r**2 / 2 with Fast2Sum, exact (as TwoSum) where h's
    # binary exponent is at least that of r**2 / 2: |r| <= ln(2) / 2 (and a hair more, the
    # reduction's k being rounded) keeps h at least 0.65 and r**2 / 2 at most 0.061.
    reach = math.log(2) / 2 + 1e-12
    for r in np.linspace(-reach, reach, 2001):
        h, half_sq = 1.0 + r, 0.5 * (r * r)
        assert h >= 0.65 and half_sq <= 0.061
        assert math.frexp(h)[1] >= math.frexp(half_sq)[1]
        a = h + half_sq
        assert mpmath.mpf(a) + mpmath.mpf(half_sq - (a - h)) == mpmath.mpf(h) + half_sq


def test_the_kernels_record_the_hash_of_their_helpers():
    # numba caches each kernel against _fused.py alone (time stamp and size), so an edit to
    # _simd.py or _passes.py alone would leave stale kernels in the cache: _fused.HELPERS
    # records their hash, and updating it there makes numba compile the kernels afresh.
    # softmax_lib._cancel does the same for its kernel (with _lanes.py, which it inlines).
    from softmax_lib import _cancel, _fused

    def digest(names):
        digest = hashlib.sha256()
        for name in names:
            digest.update((Path(_fused.__file__).parent / name).read_bytes())
        return digest.hexdigest()[:16]

    expected = digest(("_simd.py", "_passes.py"))
    assert expected == _fused.HELPERS, f"set HELPERS = {expected!r} in softmax_lib/_fused.py"
    expected = digest(("_simd.py", "_passes.py", "_lanes.py"))  # _cancel also inlines _lanes
    assert expected == _cancel.HELPERS, f"set HELPERS = {expected!r} in softmax_lib/_cancel.py"


@pytest.mark.parametrize(
    "d",
    [
        0.0,
        -1e-300,
        -1e-9,
        -0.01,
        -0.3465,
        -0.5,
        -1.0,
        -7.3,
        -100.5,
        -700.0,
        -708.5,
        -710.0,
        -745.0,
        -745.1,
    ],
)
@pytest.mark.parametrize("half_ulps", [0.0, 0.5, -0.5])
def test_the_kernel_exp_is_well_within_an_ulp(d, half_ulps):
    # exp(d + e), e the rounding error of d (at most half an ULP of d): one rounding of a
    # value good to 2**-60, plus about 1/100 ULP from the roundings of the small parts;
    # subnormal results (d below -708.4) take the two-step scaling and two roundings.
    from softmax_lib import _simd as f

    e = half_ulps * math.ulp(d) if d else 0.0
    low = d < f.SUBNORMAL
    got = numba.njit(lambda d, e: f.exp_term(d, e, low))(d, e)
    mpmath.mp.prec = 200
    exact = mpmath.exp(mpmath.mpf(d) + mpmath.mpf(e))
    ulp = math.ulp(float(exact)) if float(exact) else math.ulp(0.0)
    bound = 0.52 if float(exact) >= 2.0**-1022 else 1.0  # subnormal: rounded twice
    assert abs(mpmath.mpf(got) - exact) <= bound * ulp
    exact_single = float(mpmath.exp(mpmath.mpf(d)))
    got_single = numba.njit(lambda d: f.exp_single(d))(d)
    assert abs(got_single - exact_single) <= 2.0**-43 * exact_single or exact_single < 1e-300


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_both_paths_meet_the_bounds_on_every_input_class(dtype, name):
    fn, reference = FUNCTIONS[name]
    bound = BOUNDS[dtype][name]
    for label, x in cases(dtype).items():
        exact = reference(x)
        fused, plain = fn(x), on_numpy_path(fn, x)
        assert fused.dtype == plain.dtype == dtype
        assert st.ulp_error(fused, exact).max() <= bound, (label, "fused")
        assert st.ulp_error(plain, exact).max() <= bound, (label, "numpy")


def long_rows(dtype):
    rng = np.random.default_rng(7)
    return {
        "vocabulary": (rng.normal(size=(1, 50257)) * 4).astype(dtype),
        "log-probabilities": sl.log_softmax(rng.normal(size=(2, 5000))).astype(dtype),
    }


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_long_rows_are_summed_accurately(dtype, name):
    # Eight compensated lanes over blocks: no error growth with the length of the row.
    fn, reference = FUNCTIONS[name]
    for label, x in long_rows(dtype).items():
        assert st.ulp_error(fn(x), reference(x)).max() <= BOUNDS[dtype][name], label


def special_rows(dtype):
    x = np.array(
        [
            [0.0, 1.0, 2.0, 3.0],
            [np.nan, 1.0, 2.0, 3.0],
            [np.inf, 1.0, 2.0, 3.0],
            [-np.inf, -np.inf, -np.inf, -np.inf],
            [-np.inf, 1.0, -np.inf, 0.5],
            [np.inf, -np.inf, np.nan, 0.0],
            [1e308, -1e308, 0.0, 1.0] if dtype == np.float64 else [3e38, -3e38, 0.0, 1.0],
            [5.0, 5.0, 5.0, 5.0],
        ]
    )
    return x.astype(dtype)


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_special_rows_follow_the_policy_of_the_numpy_path(dtype, name):
    fn, _ = FUNCTIONS[name]
    x = special_rows(dtype)
    fused, plain = fn(x), on_numpy_path(fn, x)
    special = ~np.isfinite(x).all(axis=-1)
    np.testing.assert_array_equal(fused[special], plain[special])  # the NumPy path's rows
    finite_rows = ~special
    np.testing.assert_allclose(fused[finite_rows], plain[finite_rows], rtol=4e-16, atol=0)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_any_axis_and_layout(name):
    fn, reference = FUNCTIONS[name]
    rng = np.random.default_rng(3)
    x = rng.normal(size=(5, 6, 7)) * 20
    for axis, view in [
        (0, x),
        (1, x),
        ((0, 2), x),
        (None, x),
        (-1, x[:, ::2, 1:]),  # not contiguous
        (-1, np.asfortranarray(x)),
    ]:
        got = fn(view, axis=axis)
        expected = on_numpy_path(fn, view, axis=axis)
        assert got.shape == expected.shape, axis
        np.testing.assert_allclose(got, expected, rtol=1e-14, atol=0)
    # and the values themselves, along the first axis
    moved = np.moveaxis(x, 0, -1)
    exact = reference(moved)
    assert (
        st.ulp_error(
            np.moveaxis(fn(x, axis=0), 0, -1) if name != "logsumexp" else fn(x, axis=0), exact
        ).max()
        <= 4
    )


@pytest.mark.parametrize("name", FUNCTIONS)
def test_what_the_kernels_do_not_take_is_exactly_the_numpy_path(name):
    # float16, long double, a temperature, weights, an empty axis.
    fn, _ = FUNCTIONS[name]
    rng = np.random.default_rng(5)
    x = rng.normal(size=(6, 9)) * 10
    calls = [
        (x.astype(np.float16), {}),
        (x.astype(np.longdouble), {}),
        (np.zeros((3, 0)), {}),
    ]
    if name != "logsumexp":
        calls.append((x, {"temperature": 0.7}))
    else:
        calls.append((x, {"b": rng.random((6, 9))}))
    for arr, kwargs in calls:
        np.testing.assert_array_equal(fn(arr, **kwargs), on_numpy_path(fn, arr, **kwargs))


def test_the_input_is_never_modified():
    x = np.random.default_rng(0).normal(size=(4, 10)).astype(np.float32)
    before = x.copy()
    for fn, _ in FUNCTIONS.values():
        fn(x)
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernel_corrects_the_shift_error_of_the_whole_exponential(dtype):
    # Regression: the kernel multiplied the TwoSum error e of x - m by hi alone, not by
    # hi + lo (lo is up to 1% of hi), which cost about 5 ULPs on rows whose logits spread
    # over hundreds, where e is largest (found by chapter 6's accuracy table).
    rng = np.random.default_rng(0)
    for scale in (100, 300):
        x = rng.normal(0, scale, (2, 1000)).astype(dtype)
        for name, (fn, reference) in FUNCTIONS.items():
            worst = st.ulp_error(fn(x), reference(x)).max()
            assert worst <= BOUNDS[dtype][name], (scale, name, worst)


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_mask_is_a_logit_of_minus_infinity_on_the_kernel_too(dtype, name):
    fn, reference = FUNCTIONS[name]
    rng = np.random.default_rng(6)
    x = (rng.normal(size=(7, 40)) * 30).astype(dtype)
    x[0, 3] = np.nan  # masked below: takes no part
    mask = rng.random((7, 40)) < 0.6
    mask[0, 3] = False
    mask[2] = False  # nothing left in this row
    got = fn(x, where=mask)
    np.testing.assert_array_equal(
        got[np.arange(7) != 2], fn(np.where(mask, x, -np.inf))[np.arange(7) != 2]
    )
    assert (got[2] == (0.0 if name == "softmax" else -np.inf)).all()
    plain = on_numpy_path(fn, x, where=mask)
    live = np.arange(7) != 2
    exact = reference(np.where(mask, x, -np.inf)[live])
    assert st.ulp_error(got[live], exact).max() <= BOUNDS[dtype][name]
    assert st.ulp_error(plain[live], exact).max() <= BOUNDS[dtype][name]
    np.testing.assert_array_equal(got[2], plain[2])


def with_threads(count, fn, *args, **kwargs):
    with _dispatch.on_threads(count):
        return fn(*args, **kwargs)


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_threads_split_the_rows_without_changing_a_bit(dtype, name, monkeypatch):
    # Large inputs are split over threads by rows; rows with special values in any chunk
    # still go to the NumPy path, and every row is computed the same way on any thread.
    # (Inputs from 1000 elements here, 2**17 in use, keep the mpmath reference quick.)
    monkeypatch.setattr(_dispatch, "PARALLEL_MIN", 1000)
    fn, reference = FUNCTIONS[name]
    rng = np.random.default_rng(11)
    x = (rng.normal(size=(31, 97)) * 30).astype(dtype)
    x[0, 5], x[15, 7], x[30, 0] = np.nan, np.inf, -np.inf
    one, three = with_threads(1, fn, x), with_threads(3, fn, x)
    np.testing.assert_array_equal(one, three)
    np.testing.assert_array_equal(one[0], on_numpy_path(fn, x[:1])[0])  # the NaN row
    live = np.r_[1:15, 16:31]
    assert st.ulp_error(three[live], reference(x[live])).max() <= BOUNDS[dtype][name]


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_long_rows_run_in_segments_with_the_same_result_on_any_thread_count(
    dtype, name, monkeypatch
):
    # Segments of 1000 here (65536 in use) keep the mpmath reference quick.
    monkeypatch.setattr(_dispatch, "SEGMENT", 1000)
    monkeypatch.setattr(_dispatch, "PARALLEL_MIN", 1000)
    fn, reference = FUNCTIONS[name]
    rng = np.random.default_rng(12)
    x = (rng.normal(size=(3, 2123)) * 8).astype(dtype)  # three segments, the last short
    x[1, -1] = np.nan  # in the last segment: the row goes to the NumPy path
    x[2, ::7] = -np.inf
    one, two = with_threads(1, fn, x), with_threads(2, fn, x)
    np.testing.assert_array_equal(one, two)
    np.testing.assert_array_equal(one[1], on_numpy_path(fn, x[1:2])[0])
    live = np.array([0, 2])
    assert st.ulp_error(two[live], reference(x[live])).max() <= BOUNDS[dtype][name]


def test_threads_setting_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("SOFTMAX_LIB_THREADS", "3")
    assert _dispatch.threads() == 3
    for unusable in ("0", "-2", "many", ""):
        monkeypatch.setenv("SOFTMAX_LIB_THREADS", unusable)
        assert _dispatch.threads() == len(os.sched_getaffinity(0))


def test_kernel_softmax_divides_by_the_unrounded_sum():
    # Regression: softmax divided each term by the sum rounded to one double, which cost up
    # to a ULP more (2.25 ULPs on the second of these rows); now q = t / hi is corrected by
    # its residual against hi + lo.
    x = np.random.default_rng(0).normal(size=(2, 60000)) * 5
    for r in range(2):
        row = x[r : r + 1]
        assert st.ulp_error(sl.softmax(row), st.reference_softmax(row)).max() <= 1.5, r


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_with_labels_takes_the_kernel_and_agrees_with_the_general_path(dtype):
    rng = np.random.default_rng(13)
    x = (rng.normal(size=(64, 40)) * 25).astype(dtype)
    t = rng.integers(0, 40, 64)
    exact = -np.take_along_axis(st.reference_log_softmax(x), t[:, None], axis=-1)[:, 0]
    fast = sl.cross_entropy(x, t, reduction="none")
    general = sl.cross_entropy(x, t, reduction="none", label_smoothing=np.float64(0.0))
    assert fast.dtype == dtype
    assert st.ulp_error(fast, exact).max() <= BOUNDS[dtype]["log_softmax"]
    np.testing.assert_allclose(
        fast, on_numpy_path(sl.cross_entropy, x, t, reduction="none"), rtol=4 * np.finfo(dtype).eps
    )
    np.testing.assert_allclose(general, fast, rtol=4 * np.finfo(dtype).eps)
    for reduction in ("mean", "sum"):
        got = sl.cross_entropy(x, t, reduction=reduction)
        plain = on_numpy_path(sl.cross_entropy, x, t, reduction=reduction)
        np.testing.assert_allclose(got, plain, rtol=8 * np.finfo(dtype).eps)
    # along another axis, and a row with NaN (the general path's policy decides it)
    np.testing.assert_array_equal(sl.cross_entropy(x.T, t, axis=0, reduction="none"), fast)
    x[3, 0] = np.nan
    np.testing.assert_array_equal(
        sl.cross_entropy(x, t, reduction="none"),
        on_numpy_path(sl.cross_entropy, x, t, reduction="none"),
    )


def cross_entropy_reference(x, target):
    return -np.take_along_axis(st.reference_log_softmax(x), target[:, None], axis=-1)[:, 0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rows_of_every_short_length_and_around_the_vector_steps(dtype):
    # The vector loops take whole steps (32 or 64 entries) and leave the rest to scalar
    # code; rows shorter than SHORT run eight at a time, the last batch part-filled.
    from softmax_lib import _fused as f

    rng = np.random.default_rng(32)
    lengths = [*range(1, 41), f.SHORT - 1, f.SHORT, f.SHORT + 1, f.BLOCK + 33]
    for n in lengths:
        x = (rng.normal(size=(11, n)) * 12).astype(dtype)
        target = rng.integers(0, n, 11)
        for name, (fn, reference) in FUNCTIONS.items():
            worst = st.ulp_error(fn(x), reference(x)).max()
            assert worst <= BOUNDS[dtype][name], (n, name, worst)
        got = sl.cross_entropy(x, target, reduction="none")
        assert (
            st.ulp_error(got, cross_entropy_reference(x, target)).max()
            <= (BOUNDS[dtype]["log_softmax"])
        ), n


@pytest.mark.parametrize("n", [37, 300])  # eight rows side by side, and one at a time
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bad_rows_among_good_ones_take_the_numpy_path_alone(dtype, n):
    # The short-row path computes eight rows at once: a NaN, an infinity or a row of -inf
    # must flag its own row only, and give exactly what the NumPy path gives.
    rng = np.random.default_rng(33)
    x = (rng.normal(size=(21, n)) * 10).astype(dtype)
    x[1, 3] = np.nan
    x[4, -1] = np.inf
    x[6] = -np.inf
    x[9, :-1] = -np.inf  # one finite entry
    x[10, ::3] = -np.inf
    x[13, 0], x[13, 1] = np.inf, np.nan
    x[20, -1] = np.nan  # in the last, part-filled batch
    special = np.array([1, 4, 6, 13, 20])
    good = np.setdiff1d(np.arange(21), special)
    target = rng.integers(0, n, 21)
    target[9] = n - 1
    for name, (fn, reference) in FUNCTIONS.items():
        got = fn(x)
        np.testing.assert_array_equal(got[special], on_numpy_path(fn, x)[special], err_msg=name)
        assert st.ulp_error(got[good], reference(x[good])).max() <= BOUNDS[dtype][name], name
    loss = sl.cross_entropy(x[good], target[good], reduction="none")
    exact = cross_entropy_reference(x[good], target[good])
    assert st.ulp_error(loss, exact).max() <= BOUNDS[dtype]["log_softmax"]


@pytest.mark.parametrize("n", [40, 2000])
def test_subnormal_terms_keep_the_bounds(n):
    # Terms exp(x - m) below 2**-1022 (x - m below -708.4) are scaled by 2**k in two
    # steps (one factor would underflow), within an ULP of 2**-1074; below -745.13 they are 0.
    rng = np.random.default_rng(34)
    x = rng.uniform(-30, 0, size=(9, n))
    x[:, 0] = 0.0
    x[:, 1 : n // 2] = rng.uniform(-746.0, -708.0, size=(9, n // 2 - 1))
    x[0, 2:6] = [-708.39, -708.41, -745.1, -745.2]
    exact = st.reference_softmax(x)
    got = sl.softmax(x)
    assert (exact[:, 1 : n // 2] < 2.0**-1022).any()
    assert st.ulp_error(got, exact).max() <= BOUNDS[np.float64]["softmax"]
    for name in ("log_softmax", "logsumexp"):
        fn, reference = FUNCTIONS[name]
        assert st.ulp_error(fn(x), reference(x)).max() <= BOUNDS[np.float64][name], name


def test_rows_without_subnormal_terms_take_one_scaling_with_the_same_bits():
    # exp_terms scales by 2**k in one step where the maximum's pass (row_bounds) found no
    # entry below m + SUBNORMAL, in two steps elsewhere: the same results on normal terms.
    from softmax_lib import _passes, _simd

    rng = np.random.default_rng(37)
    x = np.concatenate([-rng.exponential(3.0, 1500), rng.uniform(_simd.SUBNORMAL, 0.0, 500)])
    one, two = np.empty_like(x), np.empty_like(x)
    _passes.exp_terms(x, 0.0, one, False, False)
    _passes.exp_terms(x, 0.0, two, True, False)
    np.testing.assert_array_equal(one, two)
    lanes = np.empty(64)
    for n in (3, 40, 1000):  # the vector loop and the rest after it
        for at in (0, n - 1):
            row = rng.uniform(-5.0, 0.0, n)
            row[n // 2] = 3.0
            assert _passes.row_bounds(row, lanes)[:2] == (3.0, False)
            for low, subnormal in (
                (3.01 + _simd.SUBNORMAL, False),
                (-706.0, True),
                (-np.inf, True),
            ):
                row[at] = low
                assert _passes.row_bounds(row, lanes)[:2] == (3.0, subnormal), (n, at, low)


def test_rows_whose_entries_are_no_larger_in_exponent_than_the_maximum_shift_by_fast2sum():
    # row_bounds lets exp_terms and subtract split x - m with Fast2Sum (three operations
    # instead of TwoSum's six) where every entry's binary exponent is at most the maximum's:
    # then d and e are the same, so are the terms and log-softmax's entries.
    from softmax_lib import _passes

    rng = np.random.default_rng(39)
    lanes = np.empty(64)
    for m, low, ordered in [
        (3.0, -3.99, True),
        (3.0, -4.0, False),  # |low| = 2**2: one binary exponent more than 3's
        (-3.0, -3.99, True),
        (-3.0, -4.0, False),
        (0.75, -0.99, True),
        (0.75, -1.0, False),
        (1e-300, -1e-300, True),
        (0.0, -0.5, True),
        (0.0, -1.0, False),
        (700.0, 5.0, True),
    ]:
        row = np.concatenate([rng.uniform(low, m, 997), [m, low]])
        got = _passes.row_bounds(row, lanes)
        assert got == (m, False, ordered), (m, low)
        if not ordered:
            continue
        one, two = np.empty_like(row), np.empty_like(row)
        _passes.exp_terms(row, m, one, False, True)
        _passes.exp_terms(row, m, two, False, False)
        np.testing.assert_array_equal(one, two)
        _passes.subtract(row, m, 0.25, one, True)
        _passes.subtract(row, m, 0.25, two, False)
        np.testing.assert_array_equal(one, two)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_a_long_row_looks_for_subnormal_terms_against_the_whole_rows_maximum(name, monkeypatch):
    # A segment whose entries all lie 708.8 to 709.4 below the row's maximum has no entry
    # far below its own maximum: whether terms may be subnormal is decided from the lowest
    # entry of every segment against the row's maximum, not segment by segment (one scaling
    # by 2**k, k = -1023, would make those terms 0).
    monkeypatch.setattr(_dispatch, "SEGMENT", 1000)
    fn, reference = FUNCTIONS[name]
    rng = np.random.default_rng(38)
    x = rng.uniform(-5.0, 0.0, size=(1, 2500))
    x[0, 0] = 0.0
    x[0, 2000:] = rng.uniform(-709.4, -708.8, size=500)  # the third segment: subnormal terms
    if name == "softmax":
        assert (reference(x)[0, 2000:] < 2.0**-1022).all()
    assert st.ulp_error(fn(x), reference(x)).max() <= BOUNDS[np.float64][name]


def test_float32_softmax_rows_longer_than_the_row_buffer():
    # float32 softmax keeps a row's terms (float64) up to KEEP_SINGLE entries; longer rows
    # compute them again in the last pass, from one block of scratch. KEEP_SINGLE is not
    # below SEGMENT, so the public function sends such rows to the segments (which compute
    # them again too): the kernel's own branch is called directly here as well.
    from softmax_lib import _dispatch
    from softmax_lib import _fused as f

    assert f.KEEP_SINGLE >= _dispatch.SEGMENT
    rng = np.random.default_rng(35)
    for n in (f.KEEP_SINGLE, f.KEEP_SINGLE + 1, f.KEEP_SINGLE + f.BLOCK + 7):
        x = (rng.normal(size=(2, n)) * 6).astype(np.float32)
        exact = st.reference_softmax(x)
        assert st.ulp_error(sl.softmax(x), exact).max() <= 0.51, n
        if n > f.KEEP_SINGLE:
            out, bad = np.empty_like(x), np.zeros(2, dtype=bool)
            assert f.softmax_rows(x, out, np.empty((1, f.BLOCK)), bad) == 0
            assert st.ulp_error(out, exact).max() <= 0.51, n


def test_kernel_adds_the_tiny_lanes_together_before_the_maximum_lane():
    # Regression (found by test_layouts' Hypothesis search): the lanes were folded one after
    # another into the total, so once it held the maximum's term (1) each lane of tiny
    # terms was rounded against it and the tail e**-74 * 533 was summed plainly: 4.07 ULPs
    # on log-softmax of the maximum's entry, whose value is minus that tail. Now upper
    # lanes fold onto lower ones pairwise, with TwoSum, as before the rewrite.
    x = np.zeros((1, 534))
    x[0, 0] = 74.0
    exact = st.reference_log_softmax(x)
    assert st.ulp_error(sl.log_softmax(x), exact)[0, 0] <= 1.5


def test_the_kernel_exp_misses_correct_rounding_by_at_most_a_hundredth_of_an_ulp():
    # Softmax of a term rounded once more than half an ULP off costs up to that much more:
    # an earlier version of the table-free exp (the cubic part, r**3 and 1/6 rounded) was
    # 0.505 ULPs off on a term of bench/accuracy.py's float64 "normal, scale 10" class,
    # and its softmax error rose from 0.823 to 0.948 ULPs.
    from softmax_lib import _simd as f

    rng = np.random.default_rng(36)
    d = np.concatenate([-rng.exponential(3.0, 1500), rng.uniform(-745.0, 0.0, 500)])
    e = rng.uniform(-0.5, 0.5, d.size) * np.spacing(np.abs(d))
    exp = numba.njit(lambda a, b: f.exp_term(a, b, True))
    got = [exp(a, b) for a, b in zip(d, e, strict=True)]
    mpmath.mp.prec = 200
    worst = {True: 0.0, False: 0.0}  # by whether the term is subnormal (rounded twice)
    for g, a, b in zip(got, d, e, strict=True):
        exact = mpmath.exp(mpmath.mpf(a) + mpmath.mpf(b))
        error = float(abs(mpmath.mpf(g) - exact)) / math.ulp(float(exact))
        low = float(exact) < 2.0**-1022
        worst[low] = max(worst[low], error)
    assert worst[False] <= 0.51
    assert worst[True] <= 1.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_two_pass_online_kernel_meets_the_softmax_bounds(dtype):
    # softmax_rows_online (chapter 10's comparison, not used by the public functions)
    # rescales its running sum whenever a block raises the maximum: ascending rows raise it
    # in every block, descending rows never after the first; rows of several blocks.
    from softmax_lib import _fused as f

    rng = np.random.default_rng(37)
    wide = rng.normal(0, 30, (3, 3 * f.BLOCK + 5))
    rows = {
        "ascending": np.sort(wide, axis=-1),
        "maximum first": -np.sort(-wide, axis=-1),
        "random, spread of hundreds": rng.normal(0, 300, (3, 2 * f.BLOCK + 1)),
        "short": rng.normal(0, 5, (3, 40)),
    }
    for label, x in rows.items():
        x = x.astype(dtype)
        out, bad = np.empty_like(x), np.zeros(x.shape[0], dtype=bool)
        f.softmax_rows_online(x, out, bad)
        assert not bad.any(), label
        worst = st.ulp_error(out, st.reference_softmax(x)).max()
        assert worst <= BOUNDS[dtype]["softmax"], (label, worst)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_two_pass_online_kernel_flags_the_rows_the_other_kernels_flag(dtype):
    # NaN (also a first block of NaN alone), +inf, nothing but -inf.
    from softmax_lib import _fused as f

    n = 2 * f.BLOCK + 3
    x = np.random.default_rng(38).normal(0, 3, (7, n))
    x[0, : f.BLOCK] = np.nan  # the first block: NaN alone
    x[1, -1] = np.inf
    x[2] = -np.inf
    x[3, -1] = np.nan
    x[4, : f.BLOCK + 1] = -np.inf  # finite entries from the second block on: a good row
    x[5, ::2] = -np.inf
    x[6, 1] = np.nan  # in the first block, beside finite entries
    x = x.astype(dtype)
    bad, bad_three = np.zeros(7, dtype=bool), np.zeros(7, dtype=bool)
    out = np.empty_like(x)
    f.softmax_rows_online(x, out, bad)
    terms = np.empty((1, n if dtype == np.float32 else 0))
    f.softmax_rows(x, np.empty_like(x), terms, bad_three)
    np.testing.assert_array_equal(bad, [True, True, True, True, False, False, True])
    np.testing.assert_array_equal(bad, bad_three)
    good = x[[4, 5]]
    assert st.ulp_error(out[[4, 5]], st.reference_softmax(good)).max() <= BOUNDS[dtype]["softmax"]
