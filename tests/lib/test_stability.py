"""Tests for `softmax_lib.stability`: teaching claims, float facts, the mpmath reference."""

import mpmath
import numpy as np
import pytest
from helpers import mp_lse_naive, mp_softmax_naive
from numpy.testing import assert_allclose, assert_array_equal

from softmax_lib import stability as st

NUMPY_FLOATS = [np.float16, np.float32, np.float64]


class TestNaive:
    def test_overflow_warns_and_gives_nan(self):
        # The first chapter and the stability chapter say exactly this.
        with pytest.warns(RuntimeWarning, match="overflow|invalid") as record:
            p = st.naive_softmax([1000.0, 0.0])
        assert any("overflow" in str(w.message) for w in record)  # exp(1000) = inf
        assert any("invalid" in str(w.message) for w in record)  # inf / inf = nan
        assert np.isnan(p[0]) and p[1] == 0.0

    def test_all_very_negative_logits_give_zero_over_zero(self):
        with pytest.warns(RuntimeWarning, match="invalid value"):
            p = st.naive_softmax([-1000.0, -1000.0])
        assert np.isnan(p).all()

    def test_log_of_an_underflowed_probability_is_minus_inf(self):
        with pytest.warns(RuntimeWarning, match="divide by zero"):
            lp = st.naive_log_softmax([0.0, -800.0])
        assert_array_equal(lp, [0.0, -np.inf])

    def test_naive_logsumexp_overflows(self):
        with pytest.warns(RuntimeWarning, match="overflow"):
            assert st.naive_logsumexp([1000.0, 0.0]) == np.inf

    def test_naive_formulas_are_right_where_they_work(self):
        x = np.array([[0.5, -1.0, 2.0], [3.0, 3.0, 0.0]])
        assert_allclose(st.naive_softmax(x), [np.array(mp_softmax_naive(r), float) for r in x])
        assert_allclose(st.naive_logsumexp(x), [float(mp_lse_naive(r)) for r in x])

    def test_shifted_formula_loses_the_tail(self):
        assert st.shifted_logsumexp([0.0, -40.0]) == 0.0  # true value 4.2e-18
        assert st.shifted_log_softmax([0.0, -40.0])[0] == 0.0
        assert_allclose(st.shifted_softmax([1000.0, 1000.0]), [0.5, 0.5])


class TestFloatFormat:
    @pytest.mark.parametrize("dtype", [*NUMPY_FLOATS, np.longdouble])
    def test_matches_numpy_finfo(self, dtype):
        f, fi = st.float_format(dtype), np.finfo(dtype)
        assert f.max == fi.max
        assert f.eps == fi.eps
        assert f.smallest_normal == fi.smallest_normal
        assert f.smallest_subnormal == fi.smallest_subnormal

    @pytest.mark.parametrize("spec", ["float32", np.dtype("float32"), "torch.float32"])
    def test_accepts_names_and_framework_dtypes(self, spec):
        assert st.float_format(spec).name == "float32"


class TestThresholds:
    @pytest.mark.parametrize("dtype", [*NUMPY_FLOATS, "bfloat16"])
    def test_overflow_threshold_against_mpmath(self, dtype):
        f = st.float_format(dtype)
        with mpmath.workdps(50):  # ln(max + ulp(max) / 2), from the definition
            half_past = mpmath.ldexp(2 - mpmath.ldexp(1, 1 - f.precision), f.emax) + mpmath.ldexp(
                1, f.emax - f.precision
            )
            expected = float(mpmath.log(half_past))
        assert st.exp_overflow_threshold(dtype) == pytest.approx(expected, rel=2**-52)

    @pytest.mark.parametrize("dtype", [*NUMPY_FLOATS, "bfloat16"])
    def test_underflow_threshold_against_mpmath(self, dtype):
        f = st.float_format(dtype)
        with mpmath.workdps(50):
            expected = float(mpmath.log(mpmath.ldexp(1, f.emin - f.precision)))
        assert st.exp_underflow_threshold(dtype) == pytest.approx(expected, rel=2**-52)

    @pytest.mark.parametrize("dtype", NUMPY_FLOATS)
    def test_numpy_exp_switches_to_inf_and_zero_at_the_thresholds(self, dtype):
        over, under = st.exp_overflow_threshold(dtype), st.exp_underflow_threshold(dtype)
        below_over = np.nextafter(dtype(over), dtype(-np.inf), dtype=dtype)
        above_under = np.nextafter(dtype(under), dtype(np.inf), dtype=dtype)
        assert np.isfinite(np.exp(below_over))
        assert np.exp(above_under) > 0
        with np.errstate(over="ignore", under="ignore"):
            assert np.exp(np.nextafter(dtype(over), dtype(np.inf), dtype=dtype)) == np.inf
            assert np.exp(np.nextafter(dtype(under), dtype(-np.inf), dtype=dtype)) == 0

    def test_known_values(self):
        # Textbook values: exp overflows past 709.78 (float64) and 88.72 (float32).
        assert round(st.exp_overflow_threshold(np.float64), 2) == 709.78
        assert round(st.exp_overflow_threshold(np.float32), 2) == 88.72
        assert round(st.exp_underflow_threshold(np.float64), 2) == -745.13


class TestReference:
    ROWS = np.array([[0.0, -40.0, 3.5], [1000.0, 999.0, 0.0], [-7.25, -7.25, -7.0]])

    def test_reference_agrees_with_the_plain_definition_at_huge_precision(self):
        lse = st.reference_logsumexp(self.ROWS)
        sm = st.reference_softmax(self.ROWS)
        lsm = st.reference_log_softmax(self.ROWS)
        for i, row in enumerate(self.ROWS):
            with mpmath.workdps(60):
                assert abs(lse[i] - mp_lse_naive(row)) <= mpmath.mpf(10) ** -50 * abs(lse[i])
                for j, pj in enumerate(mp_softmax_naive(row)):
                    assert abs(sm[i, j] - pj) <= mpmath.mpf(10) ** -50 * pj
                    assert abs(lsm[i, j] - mpmath.log(pj)) <= mpmath.mpf(10) ** -45

    def test_reference_special_values(self):
        x = np.array([[np.nan, 1.0], [np.inf, 1.0], [-np.inf, -np.inf], [-np.inf, 0.0]])
        lse = st.reference_logsumexp(x)
        assert mpmath.isnan(lse[0]) and lse[1] == mpmath.inf and lse[2] == mpmath.ninf
        assert lse[3] == 0
        sm = st.reference_softmax(x)
        assert all(mpmath.isnan(v) for v in sm[:3].ravel()) and list(sm[3]) == [0, 1]


class TestUlpError:
    def test_one_ulp_above_one(self):
        # Hand derivation: the float32 spacing just above 1 is 2**-23.
        assert st.ulp_error(np.float32([1 + 2**-23]), [1.0])[0] == 1.0
        assert st.ulp_error(np.float64([1 + 2**-52]), [1.0])[0] == 1.0

    def test_spacing_is_taken_from_the_exact_value(self):
        # Below 1 the float64 spacing halves: 1 - 2**-53 is one ulp below 1.
        assert st.ulp_error(np.float64([1.0]), [mpmath.mpf(1) - mpmath.mpf(2) ** -53])[0] == 1.0

    def test_correct_rounding_is_at_most_half_an_ulp(self):
        exact = [mpmath.mpf(1) / 3, mpmath.e, mpmath.pi * 10**-300]
        for dtype in NUMPY_FLOATS:
            approx = np.array([float(v) for v in exact]).astype(dtype)
            assert np.all(st.ulp_error(approx[:2], exact[:2]) <= 0.5 + 1e-12)

    def test_format_can_be_named(self):
        # bfloat16 has 8 significand bits: its spacing above 1 is 2**-7.
        assert st.ulp_error(np.float32([1 + 2**-7]), [1.0], dtype="bfloat16")[0] == 1.0

    def test_subnormal_spacing(self):
        tiny = np.finfo(np.float64).smallest_subnormal
        assert st.ulp_error(np.float64([2 * tiny]), [tiny])[0] == 1.0

    def test_special_values(self):
        got = np.array([np.nan, np.inf, np.inf, 0.0, 1.0])
        exact = [mpmath.nan, mpmath.inf, mpmath.mpf(10) ** 400, mpmath.nan, mpmath.inf]
        assert_array_equal(st.ulp_error(got, exact), [0.0, 0.0, 0.0, np.inf, np.inf])
        assert st.ulp_error(np.array([np.inf]), [1.0])[0] == np.inf


class TestRelativeError:
    def test_hand_values(self):
        got = np.array([1.5, -2.0, 0.0, 0.0, np.nan, np.inf, 1.0])
        exact = [1.0, -4.0, 0.0, 1.0, np.nan, np.inf, 0.0]
        assert_array_equal(st.relative_error(got, exact), [0.5, 0.5, 0.0, 1.0, 0.0, 0.0, np.inf])

    def test_difference_is_exact(self):
        # 1 + 2**-52 against 1: a float64 subtraction would also be exact, but against an
        # mpmath value of 1 + 2**-60 only an exact difference gives 2**-52 - 2**-60.
        with mpmath.workdps(50):
            exact = mpmath.mpf(1) + mpmath.mpf(2) ** -60
            expected = float((mpmath.mpf(2) ** -52 - mpmath.mpf(2) ** -60) / exact)
        assert st.relative_error(np.array([1 + 2**-52]), [exact])[0] == expected
