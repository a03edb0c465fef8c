"""One long row by the fused kernels, in segments: each pass over the segments side by side.

:mod:`softmax_lib._dispatch` sends here each row longer than its SEGMENT, cut into parts of
that length. The maximum of each part, then (with the row's maximum) the sum of each, added
with TwoSum in a fixed order, then the output of each part: the parts do not depend on the
number of threads, so neither do the results. `each` runs ``fn(a, b)`` over the parts on
threads (:func:`softmax_lib._dispatch.in_chunks`); `module` is :mod:`softmax_lib._fused`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

NO_TERMS = np.empty(0)  # float32 softmax: no terms kept, computed again (never written)


def segmented_row(module, route, row: np.ndarray, out, parts: list, each: Callable):
    """Compute one long row by segments into `out`; return ``(m, log s)``, or None (NumPy's).

    `route` (:class:`softmax_lib._dispatch.Route`) gives the last pass over a part
    (``route.segment``, None for log-sum-exp) and whether the sum keeps the terms for it
    (``route.keeps_terms``: float64 softmax keeps them in `out`; float32 computes them again
    and sums them plainly).
    """
    n, kept = row.shape[0], route.keeps_terms and row.dtype == np.float64
    bounds = each(parts, lambda a, b: module.segment_max(row[a:b]), n)
    m, low = max(top for top, _ in bounds), min(low for _, low in bounds)
    if not math.isfinite(m):
        return None
    # as row_bounds: a term may be subnormal; every entry's exponent is at most m's
    subnormal = low - m < module.SUBNORMAL
    ordered = abs(low) < math.ldexp(1.0, math.frexp(m)[1])

    def total(a, b):  # float64 softmax keeps its terms in out; the rest use scratch
        terms = out[a:b] if kept else np.empty(min(module.BLOCK, b - a))
        compensate = kept or not route.keeps_terms
        return module.segment_sum(row[a:b], m, terms, compensate, subnormal, ordered)

    hi = lo = 0.0
    for part_hi, part_lo in each(parts, total, n):
        s = hi + part_hi  # TwoSum
        lo += ((hi - (s - (s - hi))) + (part_hi - (s - hi))) + part_lo
        hi = s
    if not math.isfinite(hi):  # a NaN in the row
        return None
    log_s = math.log1p((hi - 1.0) + lo)
    if route.segment is not None:
        sums = (hi, lo, log_s, ordered)
        each(parts, lambda a, b: route.segment(module, row, m, sums, out, a, b), n)
    return m, log_s


def softmax_segment(module, row, m, total, out, a, b) -> None:
    """Write softmax over ``row[a:b]`` from the row's sum (float32 computes its terms again)."""
    terms = out[a:b] if row.dtype == np.float64 else NO_TERMS
    module.segment_softmax(row[a:b], m, total[0], total[1], terms, out[a:b])


def log_softmax_segment(module, row, m, total, out, a, b) -> None:
    """Write log-softmax over ``row[a:b]`` from the row's ``log s`` (``total[3]``: ordered)."""
    module.segment_log_softmax(row[a:b], m, total[2], out[a:b], total[3])
