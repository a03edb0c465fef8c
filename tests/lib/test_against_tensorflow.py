"""Oracle tests: `softmax_lib` agrees with TensorFlow in float32 and float64.

softmax, log_softmax, logsumexp (tf.math.reduce_logsumexp), sigmoid, log_sigmoid, and
cross_entropy with class indices (tf.nn.sparse_softmax_cross_entropy_with_logits) and with
probability targets (tf.nn.softmax_cross_entropy_with_logits), on ordinary logits and on logits
of magnitude 1e4, where exp overflows in both formats. Without TensorFlow the module is
skipped, loudly, and under CI it is an error (`framework` in tests/helpers.py).

Tolerances. TensorFlow's kernels are not correctly rounded, so each comparison allows the
error that TensorFlow's own algorithm can make plus ours, in units of u, the unit roundoff of
the dtype (2**-24 in float32, 2**-53 in float64), for logits x of a row with maximum m, C
classes, and the result v of ours:

* ours: within 2 ULPs, so |error| <= 4u |v| (float32 is computed in float64 and rounded once;
  float64 is held to 2 ULPs by the library's own accuracy tests against mpmath);
* TF's softmax is exp(x - m) / sum: the shift rounds (u |x - m|, which exp turns into a
  relative error), exp is within 2 ULPs (4u), each of the C terms of the sum carries the
  shift's error weighted by its share (at most 1/e each) and the sum rounds C - 1 times, the
  division once: relative error <= u (|x - m| + 2C + 9), plus 4u for ours;
* TF's log_softmax is (x - m) - log(sum): the shift and the last subtraction round (each
  <= u |v|, since |x - m| <= |v|), log(sum) is off by the sum's relative error and its own
  rounding (<= (2C + 8 + log C) u): absolute error <= u (6 |v| + 3C + 8) with ours;
* logsumexp is m + log(sum): u (5 |v| + 3C + 8); the loss with class indices is
  log(sum) - (x_y - m), as log_softmax: u (6 |v| + 3C + 8);
* the loss with probabilities t sums C products t_c (log(sum) - (x_c - m)), each within
  u (3 |log p_c| + 3C + 8) t_c, rounded C - 1 times: u ((C + 6) |v| + (3C + 8) sum(t));
* sigmoid and log_sigmoid: 14u relative (10u for TensorFlow, 4u for ours). float64 sigmoid is
  1 / (1 + exp(-x)), within 4u; TF's log_sigmoid is -softplus(-x), whose softplus returns
  exp(t) below t = log(eps) + 2, a relative error up to e**2 eps / 2 = 7.4u, plus exp's. The
  float32 logistic of Eigen was measured within 8.2u over 3e6 points of [-87, 88].

TensorFlow flushes results below float32's smallest normal number to zero (and oneDNN's exp
gives 0 below log(2 * tiny)), so a result of ours below 4 * tiny (the dtype's smallest normal)
only requires TensorFlow's to be below it too.
"""

import os

import numpy as np
import pytest
from helpers import framework

from softmax_lib import cross_entropy, log_sigmoid, log_softmax, logsumexp, sigmoid, softmax

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before the import: no C++ INFO or WARNING
tf = framework("tensorflow")

DTYPES = [np.float32, np.float64]
C = 10


def _logits(kind, dtype):
    rng = np.random.default_rng(["ordinary", "offset", "wide"].index(kind))
    if kind == "ordinary":
        x = rng.normal(0, 3, (64, C))
    elif kind == "offset":  # rows around +-1e4, spread enough that some entries underflow
        x = rng.normal(0, 30, (64, C)) + rng.choice([-1e4, 1e4], (64, 1))
    else:  # entries of both signs up to 1e4: the shift x - m is not exact
        x = rng.uniform(-1e4, 1e4, (64, C))
    return x.astype(dtype)


def _unit_roundoff(dtype):
    return float(np.finfo(dtype).eps) / 2


def assert_within(ours, theirs, bound, flush=0.0):
    """|ours - theirs| <= bound elementwise; where |ours| < flush, only |theirs| <= flush."""
    ours, theirs = np.asarray(ours, np.float64), np.asarray(theirs, np.float64)
    assert np.isfinite(ours).all() and np.isfinite(bound).all()
    flushed = np.abs(ours) < flush
    assert (np.abs(theirs[flushed]) <= flush).all(), theirs[flushed].max()
    err, bound = np.abs(ours - theirs)[~flushed], np.broadcast_to(bound, ours.shape)[~flushed]
    assert (err <= bound).all(), f"worst error / bound: {(err / bound).max():.3g}"


KINDS = pytest.mark.parametrize("kind", ["ordinary", "offset", "wide"])
DTYPE = pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)


@KINDS
@DTYPE
def test_softmax_matches_tensorflow(kind, dtype):
    x = _logits(kind, dtype)
    ours, theirs = softmax(x), tf.nn.softmax(x).numpy()
    assert ours.dtype == theirs.dtype == dtype
    shift = np.abs(x.astype(np.float64) - x.max(axis=-1, keepdims=True))  # exact in float64
    bound = _unit_roundoff(dtype) * (shift + 2 * C + 13) * ours
    assert_within(ours, theirs, bound, flush=4 * float(np.finfo(dtype).tiny))


@KINDS
@DTYPE
def test_log_softmax_matches_tensorflow(kind, dtype):
    x = _logits(kind, dtype)
    ours, theirs = log_softmax(x), tf.nn.log_softmax(x).numpy()
    assert ours.dtype == theirs.dtype == dtype
    assert_within(ours, theirs, _unit_roundoff(dtype) * (6 * np.abs(ours) + 3 * C + 8))


@KINDS
@DTYPE
def test_logsumexp_matches_tensorflow(kind, dtype):
    x = _logits(kind, dtype)
    ours, theirs = logsumexp(x), tf.math.reduce_logsumexp(x, axis=-1).numpy()
    assert ours.dtype == theirs.dtype == dtype
    assert_within(ours, theirs, _unit_roundoff(dtype) * (5 * np.abs(ours) + 3 * C + 8))


@KINDS
@DTYPE
def test_cross_entropy_with_class_indices_matches_tensorflow(kind, dtype):
    x = _logits(kind, dtype)
    y = np.random.default_rng(10).integers(0, C, len(x))
    ours = cross_entropy(x, y, reduction="none")
    theirs = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=x).numpy()
    assert ours.dtype == theirs.dtype == dtype
    assert_within(ours, theirs, _unit_roundoff(dtype) * (6 * np.abs(ours) + 3 * C + 8))


@KINDS
@DTYPE
def test_cross_entropy_with_probabilities_matches_tensorflow(kind, dtype):
    x = _logits(kind, dtype)
    t = np.random.default_rng(11).dirichlet(np.ones(C), len(x)).astype(dtype)
    ours = cross_entropy(x, t, reduction="none")
    theirs = tf.nn.softmax_cross_entropy_with_logits(labels=t, logits=x).numpy()
    assert ours.dtype == theirs.dtype == dtype
    total = t.astype(np.float64).sum(axis=-1)
    bound = _unit_roundoff(dtype) * ((C + 6) * np.abs(ours) + (3 * C + 8) * total)
    assert_within(ours, theirs, bound)


def _sigmoid_inputs(dtype):
    rng = np.random.default_rng(12)
    special = [0.0, -40.0, 40.0, -800.0, 800.0, -1e4, 1e4]  # exp overflows at 89 and 710
    x = np.concatenate([rng.normal(0, 5, 300), rng.uniform(-120, 120, 300), special])
    return x.astype(dtype)


@DTYPE
def test_sigmoid_matches_tensorflow(dtype):
    x = _sigmoid_inputs(dtype)
    ours, theirs = sigmoid(x), tf.math.sigmoid(x).numpy()
    assert ours.dtype == theirs.dtype == dtype
    bound = 14 * _unit_roundoff(dtype) * np.abs(ours)
    assert_within(ours, theirs, bound, flush=4 * float(np.finfo(dtype).tiny))


@DTYPE
def test_log_sigmoid_matches_tensorflow(dtype):
    x = _sigmoid_inputs(dtype)
    ours, theirs = log_sigmoid(x), tf.math.log_sigmoid(x).numpy()
    assert ours.dtype == theirs.dtype == dtype
    bound = 14 * _unit_roundoff(dtype) * np.abs(ours)
    assert_within(ours, theirs, bound, flush=4 * float(np.finfo(dtype).tiny))
