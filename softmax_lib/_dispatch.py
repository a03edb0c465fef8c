"""Which path computes softmax, log-softmax and log-sum-exp: the fused kernels or NumPy.

The fused kernels (:mod:`softmax_lib._fused`, compiled with numba) take float32 and float64
input without a temperature (a mask becomes logits of ``-inf``); everything else, and every
row whose maximum is not finite or which holds NaN, goes through the NumPy path in
:mod:`softmax_lib.core`, which owns the special-value policy. Both paths meet the same
accuracy bounds (tested side by side).

Set the environment variable ``SOFTMAX_LIB_NUMBA=0`` to use the NumPy path everywhere; it is
also used when numba is not installed (browser Python, a minimal install).
"""

from __future__ import annotations

import contextlib
import importlib
import math
import os
import time
from collections.abc import Callable

import numpy as np

from softmax_lib._validation import Axis, check_where, prepare

_loaded: list = []  # [the kernels module, or None when numba cannot be imported]


def kernels():
    """Return the module of fused kernels, or None if numba is missing or switched off."""
    if os.environ.get("SOFTMAX_LIB_NUMBA", "1") == "0":
        return None
    if not _loaded:
        try:  # compiles nothing yet: each kernel compiles (or loads its cache) on first call
            module = importlib.import_module("softmax_lib._fused")
        except ImportError:
            module = None
        _loaded.append(module)
    return _loaded[0]


@contextlib.contextmanager
def numpy_path():
    """Within this block, compute on the NumPy path (the kernels switched off), then restore.

    For comparisons (benchmarks, the book); it sets ``SOFTMAX_LIB_NUMBA=0`` for the process.
    """
    before = os.environ.get("SOFTMAX_LIB_NUMBA")
    os.environ["SOFTMAX_LIB_NUMBA"] = "0"
    try:
        yield
    finally:
        if before is None:
            del os.environ["SOFTMAX_LIB_NUMBA"]
        else:
            os.environ["SOFTMAX_LIB_NUMBA"] = before


def warm() -> float:
    """Compile every kernel for float32 and float64, or load it from numba's on-disk cache.

    Returns the seconds it took: the first call's cost, paid once per install (the book's
    build calls this before any chapter runs, so no chapter's timing includes it).
    """
    start = time.perf_counter()
    module = kernels()
    if module is not None:
        for dtype in (np.float32, np.float64):
            x, bad = np.zeros((1, 8), dtype=dtype), np.zeros(1, dtype=bool)
            out = np.empty_like(x)
            module.softmax_rows(x, out, out if dtype == np.float64 else np.empty((1, 8)), bad)
            module.log_softmax_rows(x, np.empty_like(x), bad)
            module.logsumexp_rows(x, np.empty(1, dtype=dtype), np.empty(1), bad)
    return time.perf_counter() - start


def as_rows(arr: np.ndarray, axes: tuple[int, ...]) -> tuple[np.ndarray, tuple[int, ...]]:
    """`arr` with `axes` moved to the end and flattened: C-contiguous rows, one per output.

    No copy when `axes` are the trailing axes of a C-contiguous array. Also returns the
    shape after the move, to undo it.
    """
    last = tuple(range(arr.ndim - len(axes), arr.ndim))
    moved = np.moveaxis(arr, axes, last)
    n = math.prod(moved.shape[len(moved.shape) - len(axes) :])
    return np.ascontiguousarray(moved).reshape(-1, n), moved.shape


def fused(kind: str, x, axis: Axis, numpy_path: Callable[[np.ndarray], np.ndarray], where=None):
    """`kind` of `x` along `axis` by the fused kernel, or None where the kernel does not apply.

    `kind` is ``"softmax"``, ``"log_softmax"`` or ``"logsumexp"``; rows the kernel flags are
    recomputed by ``numpy_path(rows)`` (along the last axis). For ``"logsumexp"`` the result
    keeps the reduced axes (length 1) and comes with them: ``(out, axes)``. A mask `where`
    makes masked entries logits of ``-inf``, and a row with nothing left gives zeros
    (softmax) or ``-inf``, as on the NumPy path.
    """
    module = kernels()
    if module is None:
        return None
    p = prepare(x, axis, widen=False)
    if p.empty or p.arr.dtype not in (np.float32, np.float64):
        return None
    arr, nothing_left = p.arr, None
    if where is not None:
        mask = check_where(where, arr.shape)
        arr = np.where(mask, arr, -np.inf).astype(arr.dtype, copy=False)
        nothing_left = ~np.any(mask, axis=p.axes, keepdims=True)
    rows, moved_shape = as_rows(arr, p.axes)
    bad = np.zeros(rows.shape[0], dtype=bool)
    if kind == "logsumexp":
        out = np.empty(rows.shape[0], dtype=rows.dtype)
        maxima = np.empty(rows.shape[0])
        module.logsumexp_rows(rows, out, maxima, bad)
        # Where m + log(s) cancels (m < 0, result small beside it), the NumPy path refines.
        with np.errstate(invalid="ignore"):
            bad |= (maxima < 0) & (np.abs(out) < 0.5 * np.abs(maxima))
    elif kind == "softmax":
        out = np.empty_like(rows)
        terms = out if out.dtype == np.float64 else np.empty((1, rows.shape[1]))
        module.softmax_rows(rows, out, terms, bad)
    else:
        out = np.empty_like(rows)
        module.log_softmax_rows(rows, out, bad)
    if bad.any():
        out[bad] = numpy_path(rows[bad])
    if kind == "logsumexp":
        kept = tuple(1 if i in p.axes else n for i, n in enumerate(arr.shape))
        out = out.reshape(kept)
    else:
        last = tuple(range(arr.ndim - len(p.axes), arr.ndim))
        out = np.moveaxis(out.reshape(moved_shape), last, p.axes)
    if nothing_left is not None and nothing_left.any():
        out = np.where(nothing_left, 0.0 if kind == "softmax" else -np.inf, out).astype(out.dtype)
    return (out, p.axes) if kind == "logsumexp" else out
