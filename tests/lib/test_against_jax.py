"""Oracle tests: `softmax_lib` agrees with JAX (jax.nn) in float64.

The masks of softmax, log_softmax and logsumexp (`where=`, from test_where.py) and the signed,
weighted logsumexp (`b=`, `return_sign=`, from test_weighted_logsumexp.py). Without JAX the
module is skipped, loudly, and under CI it is an error (`framework` in tests/helpers.py).
"""

import numpy as np
import pytest
from helpers import SIGNED_LSE_SPECIAL_VALUES, framework, masked_rows

from softmax_lib import log_softmax, logsumexp, softmax

jax = framework("jax")
jnp = jax.numpy

jax.config.update("jax_enable_x64", True)

# The tests marked so run twice: through the fused kernels and through the NumPy path.
both_paths = pytest.mark.usefixtures("both_paths")


# --- Masks (from test_where.py) ----------------------------------------------------------------


@both_paths
def test_agrees_with_jax_including_fully_masked_rows():
    x, mask = masked_rows()
    ours = (softmax(x, where=mask), log_softmax(x, where=mask), logsumexp(x, where=mask))
    theirs = (
        np.asarray(jax.nn.softmax(jnp.asarray(x), where=jnp.asarray(mask))),
        np.asarray(jax.nn.log_softmax(jnp.asarray(x), where=jnp.asarray(mask))),
        np.asarray(jax.nn.logsumexp(jnp.asarray(x), axis=-1, where=jnp.asarray(mask))),
    )
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(np.isinf(a), np.isinf(b))
        finite = np.isfinite(b)
        # JAX's log-softmax loses the tail of a dominant entry (absolute error ~ u |x|), so
        # agreement is absolute here; accuracy is tested against mpmath in test_where.py.
        np.testing.assert_allclose(a[finite], b[finite], rtol=1e-12, atol=1e-13)
    np.testing.assert_array_equal(ours[0][0], 0.0)
    assert np.isneginf(ours[1][0]).all() and np.isneginf(ours[2][0])


# --- Signed, weighted logsumexp (from test_weighted_logsumexp.py) -------------------------------


def _jax(a, b, **kw):
    value, sign = jax.nn.logsumexp(jnp.asarray(a), b=jnp.asarray(b), return_sign=True, **kw)
    return np.asarray(value), np.asarray(sign)


def test_random_rows_agree_with_jax():
    rng = np.random.default_rng(20)
    a = rng.normal(0, 5, (200, 12))
    b = rng.normal(0, 1, (200, 12))
    b[::7] = np.abs(b[::7])
    ours = logsumexp(a, b=b, return_sign=True)
    theirs = _jax(a, b, axis=-1)
    np.testing.assert_array_equal(ours[1], theirs[1])
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-9)  # they lose digits; we don't


def test_where_is_a_weight_of_zero_as_in_jax():
    rng = np.random.default_rng(21)
    a = rng.normal(0, 3, (50, 7))
    b = rng.normal(0, 1, (50, 7))
    keep = rng.random((50, 7)) < 0.6
    keep[0] = False  # nothing left: -inf, sign 0
    ours = logsumexp(a, b=b, where=keep, return_sign=True)
    # (That ours equals a weight of zero is test_weighted_logsumexp's framework-free test.)
    theirs = _jax(a, b, axis=-1, where=jnp.asarray(keep))
    np.testing.assert_array_equal(ours[1], theirs[1])
    finite = np.isfinite(theirs[0])
    np.testing.assert_allclose(ours[0][finite], theirs[0][finite], rtol=1e-9)
    assert np.isneginf(ours[0][0]) and ours[1][0] == 0


@pytest.mark.parametrize(("a", "b", "value", "sign"), SIGNED_LSE_SPECIAL_VALUES)
def test_special_values_follow_the_extended_reals_like_jax(a, b, value, sign):
    ours = logsumexp(a, b=b, return_sign=True)
    np.testing.assert_array_equal(ours, (value, sign))
    np.testing.assert_array_equal(_jax(a, b), (value, sign))


def test_where_jax_differs_from_us():
    # An infinite weight on a logit whose exp underflows: exp(-800) > 0, so +inf, not NaN.
    assert np.isnan(_jax([-800.0, 1.0], [np.inf, 1.0])).all()
    np.testing.assert_array_equal(
        logsumexp([-800.0, 1.0], b=[np.inf, 1.0], return_sign=True), (np.inf, 1.0)
    )
