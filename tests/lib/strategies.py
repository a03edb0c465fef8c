"""Hypothesis strategies for logits."""

import numpy as np
from hypothesis import strategies as hs
from hypothesis.extra.numpy import array_shapes, arrays

# Wide enough that a naive exp() overflows (exp(710) = inf in float64) and underflows.
logits = arrays(
    np.float64,
    array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=6),
    elements=hs.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False),
)

logit_rows = arrays(
    np.float64,
    hs.integers(1, 8),
    elements=hs.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False),
)

logits32 = arrays(
    np.float32,
    array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=6),
    elements=hs.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False, width=32),
)
