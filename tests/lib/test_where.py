"""Masks: where= on softmax, log_softmax and logsumexp, with JAX's semantics as the oracle.

Where a mask is given, a masked entry takes no part (it is a logit of -inf, even if it holds
NaN); a row with every entry masked gives zeros (softmax) or -inf (log_softmax, logsumexp), as
jax.nn does (compared with jax.nn itself in test_against_jax.py). The unmasked entries must
equal the function of the unmasked entries alone.
"""

import re

import numpy as np
import pytest
from helpers import masked_rows

from softmax_lib import log_softmax, logsumexp, softmax
from softmax_lib import stability as st

# Every test here runs twice: through the fused kernels and through the NumPy path.
pytestmark = pytest.mark.usefixtures("both_paths")


def test_a_fully_masked_row_gives_zeros_and_minus_inf():
    x, mask = masked_rows()
    ours = (softmax(x, where=mask), log_softmax(x, where=mask), logsumexp(x, where=mask))
    np.testing.assert_array_equal(ours[0][0], 0.0)
    assert np.isneginf(ours[1][0]).all() and np.isneginf(ours[2][0])


def test_unmasked_entries_equal_the_function_of_those_entries_alone():
    x, mask = masked_rows()
    for row, keep in zip(x[1:], mask[1:], strict=True):
        sub = row[keep]
        exact_p = st.reference_softmax(sub)
        exact_lp = st.reference_log_softmax(sub)
        assert st.ulp_error(softmax(row, where=keep)[keep], exact_p).max() <= 2
        assert st.ulp_error(log_softmax(row, where=keep)[keep], exact_lp).max() <= 2
        assert st.ulp_error(logsumexp(row, where=keep), st.reference_logsumexp(sub)) <= 1
        assert (softmax(row, where=keep)[~keep] == 0).all()
        assert np.isneginf(log_softmax(row, where=keep)[~keep]).all()


def test_a_masked_nan_or_inf_is_ignored():
    x = np.array([1.0, np.nan, 2.0, np.inf])
    keep = np.array([True, False, True, False])
    np.testing.assert_allclose(softmax(x, where=keep)[keep], softmax(x[keep]), rtol=1e-15)
    assert np.isnan(softmax(x)).all()  # without the mask, the NaN policy applies


def test_masks_broadcast_combine_with_temperature_axes_and_dtypes():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(3, 4, 5)).astype(np.float32)
    causal = np.tril(np.ones((4, 5), dtype=bool))  # broadcast over the leading axis
    out = softmax(x, where=causal, temperature=0.5)
    assert out.dtype == np.float32
    expected = softmax(np.where(causal, x, -np.inf), temperature=0.5)
    np.testing.assert_array_equal(out, expected)
    both = logsumexp(x, axis=(1, 2), where=causal)
    np.testing.assert_allclose(both, logsumexp(np.where(causal, x, -np.inf), axis=(1, 2)))


def test_without_where_an_all_minus_inf_row_still_gives_nan():
    assert np.isnan(softmax([-np.inf, -np.inf])).all()
    np.testing.assert_array_equal(softmax([1.0, 2.0], where=[False, False]), [0.0, 0.0])


@pytest.mark.parametrize(
    ("where", "error", "message"),
    [
        ([1, 0, 1], TypeError, "`where` must be a boolean array; got dtype int64."),
        ([True, False], ValueError, "`where` must broadcast to the shape of `x`, (3,)"),
    ],
)
def test_validation(where, error, message):
    for fn in (softmax, log_softmax, logsumexp):
        with pytest.raises(error, match=re.escape(message)):
            fn([1.0, 2.0, 3.0], where=where)
