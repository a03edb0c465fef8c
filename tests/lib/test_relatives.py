"""Gumbel-max, Gumbel-softmax and sparsemax against their definitions."""

import re

import mpmath
import numpy as np
import pytest
import scipy.stats
from helpers import assert_draws_follow, exact_softmax
from hypothesis import given
from hypothesis import strategies as hs
from hypothesis.extra.numpy import arrays

from softmax_lib import kernels, softmax
from softmax_lib.relatives import gumbel_max_sample, gumbel_noise, gumbel_softmax, sparsemax

BIG = np.finfo(np.float64).max
# The significance level of every chi-square test below: a correct sampler fails one case for
# about one seed in 1000. The seeds are fixed, so each test is deterministic.
ALPHA = 1e-3


@pytest.fixture(params=["fused", "numpy"])
def path(request):
    """Run a test through the fused kernels, then through the NumPy path."""
    if request.param == "numpy":
        with kernels.numpy_path():
            yield "numpy"
    else:
        yield "fused"


# Logits of large and mixed magnitude, each written so that every value is a float64 exactly:
# 1e16 and 1e16 + 2 are neighbours-but-one (floats near 1e16 are 2 apart), the floats near
# 1e15 are 0.125 apart, and BIG is the largest float.
HUGE_ROWS = {
    "tie at 1e300": [1e300, 1e300],
    "1e16 + [0, 2]": [1e16, 1e16 + 2],
    "1e15 + [0, 1, 3, 8] / 8": [1e15, 1e15 + 0.125, 1e15 + 0.375, 1e15 + 1.0],
    "mixed scales": [1e16, 3.0, 1e16 + 2, -np.inf, -1e300],
    "three-way tie, masked": [1e300, -np.inf, 1e300, 1e300],
    "gap beyond the float range": [BIG, -BIG, BIG],
    "tiny logits": [5e-324, 0.0, -5e-324],
}


def test_gumbel_noise_has_the_gumbel_distribution():
    g = gumbel_noise((200_000,), rng=np.random.default_rng(1))
    assert np.isfinite(g).all()
    result = scipy.stats.kstest(g, scipy.stats.gumbel_r.cdf)
    assert result.pvalue > 1e-3


@pytest.mark.parametrize("seed", [0, 1])
def test_gumbel_max_is_exactly_categorical(seed):
    rng = np.random.default_rng(seed)
    z = np.array([2.0, 0.5, -1.0, 0.0, 1.5])
    n = 200_000
    counts = np.bincount(gumbel_max_sample(z, rng=rng, size=n), minlength=z.size)
    result = scipy.stats.chisquare(counts, n * softmax(z))
    assert result.pvalue > 1e-3  # seeded: deterministic, not flaky


def test_gumbel_max_respects_impossible_classes_and_batches():
    rng = np.random.default_rng(2)
    z = np.array([[0.0, -np.inf, 1.0], [-np.inf, 0.0, -np.inf]])
    draws = gumbel_max_sample(z, rng=rng, size=1000)
    assert draws.shape == (1000, 2)
    assert not np.any(draws[:, 0] == 1) and np.all(draws[:, 1] == 1)
    assert gumbel_max_sample(z.T, rng=rng, axis=0).shape == (2,)


def test_gumbel_softmax_limits_in_temperature():
    z = np.array([1.0, 2.0, 0.5])
    cold = gumbel_softmax(z, rng=np.random.default_rng(3), temperature=1e-3)
    hard = gumbel_softmax(z, rng=np.random.default_rng(3), hard=True)
    sample = gumbel_max_sample(z, rng=np.random.default_rng(3))
    np.testing.assert_allclose(cold, np.eye(3)[sample], atol=1e-12)
    np.testing.assert_array_equal(hard, np.eye(3)[sample])  # same noise, same argmax
    hot = gumbel_softmax(z, rng=np.random.default_rng(3), temperature=1e6)
    np.testing.assert_allclose(hot, np.full(3, 1 / 3), atol=1e-5)


def test_gumbel_softmax_mean_is_not_softmax_but_converges_as_t_falls():
    # The relaxation is biased: E[gumbel_softmax] != softmax(z) for T > 0.
    z = np.array([1.0, 0.0, -1.0])
    rng = np.random.default_rng(4)
    means = {
        T: gumbel_softmax(np.tile(z, (100_000, 1)), rng=rng, temperature=T).mean(axis=0)
        for T in (0.05, 1.0)
    }
    assert np.abs(means[0.05] - softmax(z)).max() < 0.01
    assert np.abs(means[1.0] - softmax(z)).max() > 0.02


def project_by_bisection(z):
    """Euclidean projection onto the simplex by bisection on tau (independent of sorting)."""
    lo, hi = z.min() - 1, z.max()
    for _ in range(200):
        tau = (lo + hi) / 2
        if np.maximum(z - tau, 0).sum() > 1:
            lo = tau
        else:
            hi = tau
    return np.maximum(z - (lo + hi) / 2, 0)


rows = arrays(np.float64, hs.integers(1, 8), elements=hs.floats(-50, 50, allow_nan=False))


@given(rows)
def test_sparsemax_is_the_euclidean_projection_onto_the_simplex(z):
    p = sparsemax(z)
    assert np.all(p >= 0) and abs(p.sum() - 1) < 1e-12
    np.testing.assert_allclose(p, project_by_bisection(z), atol=1e-9)
    # Optimality (variational inequality): (z - p) . (q - p) <= 0 for every q in the simplex;
    # it suffices to check the vertices.
    assert np.all((np.eye(z.size) - p) @ (z - p) <= 1e-9)


def test_sparsemax_by_hand_and_its_invariances():
    np.testing.assert_allclose(sparsemax([1.0, 0.5, -1.0]), [0.75, 0.25, 0.0])
    np.testing.assert_allclose(sparsemax([0.0, 0.0]), [0.5, 0.5])
    np.testing.assert_array_equal(sparsemax([3.0, 0.0]), [1.0, 0.0])  # exact zeros
    z = np.array([0.3, 0.1, -0.2])
    np.testing.assert_allclose(sparsemax(z + 7), sparsemax(z), atol=1e-15)
    assert not np.allclose(sparsemax(10 * z), sparsemax(z))  # not scale invariant
    batch = np.random.default_rng(5).normal(size=(4, 6))
    np.testing.assert_allclose(sparsemax(batch.T, axis=0).T, sparsemax(batch))


def test_bad_input_messages():
    rng = np.random.default_rng(0)
    with pytest.raises(TypeError, match=re.escape("`rng` must be a numpy.random.Generator")):
        gumbel_max_sample([0.0, 1.0], rng=0)
    with pytest.raises(ValueError, match=re.escape("`logits` must not contain NaN or +inf")):
        gumbel_max_sample([0.0, np.nan], rng=rng)
    with pytest.raises(ValueError, match=re.escape("got a row of -inf.")):
        gumbel_max_sample([-np.inf, -np.inf], rng=rng)
    with pytest.raises(
        ValueError, match=re.escape("`size` must be a positive int or None; got 0.")
    ):
        gumbel_max_sample([0.0, 1.0], rng=rng, size=0)
    with pytest.raises(ValueError, match=re.escape("`temperature` must be a finite number > 0")):
        gumbel_softmax([0.0, 1.0], rng=rng, temperature=0.0)
    with pytest.raises(ValueError, match=re.escape("`logits` must be finite for sparsemax")):
        sparsemax([0.0, np.inf])
    with pytest.raises(ValueError, match=re.escape("`logits` must have at least one class")):
        sparsemax(np.zeros((2, 0)))


# Issue 30: the Gumbel-max trick added the noise to the logits themselves, where it was
# rounded away at large magnitudes: [1e300, 1e300] always gave class 0, 1e16 + [0, 2] gave
# 27 % / 73 % instead of 12 % / 88 %.
@pytest.mark.parametrize("row", HUGE_ROWS.values(), ids=HUGE_ROWS.keys())
def test_issue30_gumbel_max_sample_is_exact_at_large_magnitudes(row):
    draws = gumbel_max_sample(row, rng=np.random.default_rng(30), size=20_000)
    assert_draws_follow(draws, exact_softmax(row))


def test_issue30_gumbel_max_sample_is_the_exact_argmax_of_logits_plus_noise():
    # The definition, draw by draw: with the same seed the sampler adds the same noise, and
    # its answer must be the argmax of z + G in exact arithmetic (50 digits hold every sum).
    for seed, row in enumerate(HUGE_ROWS.values()):
        n = 500
        draws = gumbel_max_sample(row, rng=np.random.default_rng(seed), size=n)
        noise = gumbel_noise((n, len(row)), rng=np.random.default_rng(seed))
        with mpmath.workdps(700):  # BIG + G needs about 330 digits; 1e300 - 5e-324 more
            for draw, g in zip(draws, noise, strict=True):
                sums = [
                    mpmath.mpf(float(z)) + mpmath.mpf(float(gi))
                    for z, gi in zip(row, g, strict=True)
                ]
                assert draw == max(range(len(row)), key=sums.__getitem__)


def test_issue30_gumbel_max_sample_batches_of_different_scales_along_axis_0():
    z = np.array([[1e300, 0.0, 1e16, -np.inf], [1e300, 0.5, 1e16 + 2, 2.0]])
    draws = gumbel_max_sample(z, rng=np.random.default_rng(31), size=20_000, axis=0)
    assert draws.shape == (20_000, 4)
    for column in range(z.shape[1]):
        assert_draws_follow(draws[:, column], exact_softmax(z[:, column]))


# Issue 30: the same rounding in gumbel_softmax: noise added to [1e300, 1e300] vanished, so
# every relaxed sample was [0.5, 0.5] and every hard one class 0.
@pytest.mark.parametrize("row", [[1e300, 1e300], [1e16, 1e16 + 2, -1e300]])
@pytest.mark.parametrize("temperature", [1.0, 0.5])
def test_issue30_gumbel_softmax_of_huge_logits_follows_its_definition(path, row, temperature):
    # softmax((z + G) / T) with the same noise G, in exact arithmetic. The float result may
    # differ by the rounding of each gap-plus-noise x_i = (z_i - max z) + G_i (at most
    # |x_i| eps / 2, which moves p_i by a factor exp((d_i - sum_j p_j d_j) / T): twice the
    # largest, over 1/T) and by softmax's own bound of 4 ULPs. Classes whose probability is
    # 0 in float64 (a gap of 1e300) are exactly 0 on both sides.
    n = 200
    batch = np.tile(row, (n, 1))
    noise = gumbel_noise(batch.shape, rng=np.random.default_rng(5))
    relaxed = gumbel_softmax(batch, rng=np.random.default_rng(5), temperature=temperature)
    hard = gumbel_softmax(batch, rng=np.random.default_rng(5), hard=True)
    eps = np.finfo(np.float64).eps
    gaps = np.array(row) - max(row)  # exact for the entries that count (Sterbenz)
    for y, y_hard, g in zip(relaxed, hard, noise, strict=True):
        with mpmath.workdps(700):
            sums = [
                mpmath.mpf(float(z)) + mpmath.mpf(float(gi)) for z, gi in zip(row, g, strict=True)
            ]
            winner = max(range(len(row)), key=sums.__getitem__)
            t = mpmath.mpf(temperature)
            expected = np.array(
                [float(1 / mpmath.fsum(mpmath.exp((sj - sk) / t) for sj in sums)) for sk in sums]
            )
        counts = expected > 0
        largest = np.max(np.abs(gaps[counts]) + np.abs(g[counts]))
        bound = largest * eps / temperature + 4 * eps
        np.testing.assert_allclose(y, expected, rtol=bound, atol=0)
        np.testing.assert_array_equal(y_hard, np.eye(len(row))[winner])


PCG_MULTIPLIER = 47026247687942121848144207491837523525  # PCG64's 128-bit LCG multiplier
MASK64 = 2**64 - 1


def generator_whose_next_output_is(raw, seed):
    """A PCG64 Generator whose next 64-bit output is `raw`; the stream then goes on as usual.

    PCG64 (O'Neill 2014, as NumPy implements it) first steps its 128-bit state,
    s -> a s + inc mod 2**128, then outputs rotr64(high ^ low, s >> 122) of the new state.
    We pick the new state's high half from `seed`, solve for its low half, and step back.
    ``random()`` then returns (raw >> 11) * 2**-53.
    """
    bit_generator = np.random.PCG64(seed)
    inc = bit_generator.state["state"]["inc"]
    high = (seed * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) & MASK64
    rot = high >> 58
    low = (((raw << rot) | (raw >> (64 - rot))) & MASK64) ^ high  # rotl undoes rotr
    after = (high << 64) | low
    before = (after - inc) * pow(PCG_MULTIPLIER, -1, 2**128) % 2**128
    state = {"state": before, "inc": inc}
    bit_generator.state = {"bit_generator": "PCG64", "state": state, "has_uint32": 0, "uinteger": 0}
    return np.random.Generator(bit_generator)


def test_the_crafted_generator_draws_what_it_was_built_to_draw():
    for raw in (0, 12345, ((2**53 - 1) << 11) | 7, MASK64):
        rng = generator_whose_next_output_is(raw, seed=3)
        assert rng.random() == (raw >> 11) * 2.0**-53


# Issue 30: the noise came from one rng.random() draw, a multiple of 2**-53, so it stopped at
# 36.7 (the largest draw, 1 - 2**-53) and was coarse in its tails, the part that decides
# whether an unlikely class wins. A draw in a tail now takes further draws that place U
# within its grid cell [c, c + 2**-53): given the draw c, the noise must be that of a
# uniform U in the cell. Here c is forced by a crafted generator, 2000 times.
@pytest.mark.parametrize(
    ("draw", "upper"),
    [(2**53 - 1, True), (2**53 - 7, True), (0, False), (3, False)],
    ids=["c = 1 - 2**-53", "c = 1 - 7 * 2**-53", "c = 0", "c = 3 * 2**-53"],
)
def test_issue30_gumbel_noise_is_exact_in_its_tails(draw, upper):
    c = draw * 2.0**-53
    noise = np.array(
        [
            gumbel_noise(1, rng=generator_whose_next_output_is(draw << 11, seed))[0]
            for seed in range(2000)
        ]
    )
    # Invert G = -log(-log U): with E = exp(-G) = -log U, 1 - U = -expm1(-E) near 1 and
    # U = exp(-E) near 0, each computed to a relative 1e-13 or better from G.
    if upper:
        position = (1.0 - c) * 2.0**53 - (-np.expm1(-np.exp(-noise))) * 2.0**53
    else:
        position = np.exp(-np.exp(-noise)) * 2.0**53 - draw
    # U's position in its cell, in units of 2**-53, must be Uniform(0, 1).
    assert scipy.stats.kstest(position, "uniform").pvalue > ALPHA
    if draw == 2**53 - 1:
        assert noise.max() > 40  # beyond the old cap of -log(-log1p(-2**-53)) = 36.74


def test_gumbel_noise_outside_the_tails_is_the_textbook_formula_on_one_draw():
    # All but about two values in a million are -log(-log(random())) as before issue 30.
    c = np.random.default_rng(11).random(10**5)
    expected = -np.log(-np.log(c))
    g = gumbel_noise(10**5, rng=np.random.default_rng(11))
    bulk = (c >= 2.0**-20) & (c <= 1 - 2.0**-20)
    np.testing.assert_array_equal(g[bulk], expected[bulk])


def test_gumbel_noise_stays_finite_and_within_its_range():
    g = gumbel_noise((1000, 100), rng=np.random.default_rng(10))
    # -log(-log1p(-U)) for U between the smallest subnormal and 1 - 2**-53 (by hand: log(2**53)
    # = 36.74, -log(2**-1074 * ...) = 744.44).
    assert np.isfinite(g).all()
    assert g.min() > -np.log(53 * np.log(2)) - 1e-12 and g.max() < 744.45
    assert g.dtype == np.float64 and g.shape == (1000, 100)


# Issue 30: gumbel_noise(shape=-1) raised NumPy's "negative dimensions are not allowed",
# naming no parameter; floats, strings and None gave NumPy's messages (None a bare float).
@pytest.mark.parametrize(
    ("shape", "error", "message"),
    [
        (-1, ValueError, "`shape` must have no negative dimension; got -1."),
        ((2, -3), ValueError, "`shape` must have no negative dimension; got (2, -3)."),
        (None, TypeError, "`shape` must be an int or a tuple of ints; got None."),
        ("3", TypeError, "`shape` must be an int or a tuple of ints; got '3'."),
        (1.5, TypeError, "`shape` must be an int or a tuple of ints; got 1.5."),
        ((2, 1.0), TypeError, "`shape` must be an int or a tuple of ints; got (2, 1.0)."),
        (True, TypeError, "`shape` must be an int or a tuple of ints; got True."),
    ],
)
def test_issue30_gumbel_noise_shape_errors_name_shape(shape, error, message):
    with pytest.raises(error, match=re.escape(message)):
        gumbel_noise(shape, rng=np.random.default_rng(0))


def test_gumbel_noise_accepts_an_int_and_empty_shapes():
    assert gumbel_noise(3, rng=np.random.default_rng(0)).shape == (3,)
    assert gumbel_noise((2, 0), rng=np.random.default_rng(0)).shape == (2, 0)
    assert gumbel_noise(np.int64(2), rng=np.random.default_rng(0)).shape == (2,)
