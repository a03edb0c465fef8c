"""Which path computes softmax, log-softmax and log-sum-exp, and how the kernels are called.

The fused kernels (:mod:`softmax_lib._fused`, compiled with numba) take float32 and float64
input without a temperature (a mask becomes logits of ``-inf``); everything else, and every
row whose maximum is not finite or which holds NaN, goes through the NumPy path in
:mod:`softmax_lib._normaliser`, which owns the special-value policy. Both paths meet the same
accuracy bounds (tested side by side). One :class:`Route` per function says which kernel
runs a chunk of rows (and the last pass of a long row, :mod:`softmax_lib._segments`), how
its output is shaped, which NumPy function redoes the rows the kernel leaves, and which
kernel first redoes the log-sum-exps that cancel (:mod:`softmax_lib._cancel`, which leaves
to NumPy only the rows it cannot certify; the kernel marks both kinds of row in its output).
:func:`compute` takes the input as the public function prepared it (checked once), makes
its rows read-only once and calls the compiled kernel directly: one call for small inputs.

Set the environment variable ``SOFTMAX_LIB_NUMBA=0`` to use the NumPy path everywhere; it is
also used when numba is not installed (browser Python, a minimal install). The public
switches are in :mod:`softmax_lib.kernels`. The blocks
``with numpy_path():`` and ``with on_threads(n):`` change the setting for the code inside
them only: they set a context variable, which belongs to the thread (or asyncio task) that
opens the block, so other threads keep their own setting and nothing outlives the block.
"""

from __future__ import annotations

import contextvars
import functools
import importlib
import itertools
import math
import os
import sys
import threading
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from softmax_lib._normaliser import numpy_log_softmax, numpy_logsumexp, numpy_softmax
from softmax_lib._segments import log_softmax_segment, segmented_row, softmax_segment
from softmax_lib._validation import Prepared, check_positive_int, prepared_rows

PARALLEL_MIN = 1 << 17  # elements; smaller inputs are not worth handing to threads
SEGMENT = 1 << 16  # longer rows are computed in segments of this many elements
_loaded: list = []  # [the kernels module, or None when numba cannot be imported]
_pool: list = []  # [(process id, thread pool, its number of threads)]
_lock = threading.Lock()  # for _loaded and _pool
_no_cache: list = []  # [numba's reason], once numba found nowhere to cache the kernels
# Settings of the blocks numpy_path() and on_threads(): per thread (and asyncio task).
_numpy_path = contextvars.ContextVar("softmax_lib_numpy_path", default=False)
_threads = contextvars.ContextVar("softmax_lib_threads", default=0)  # 0: not set here
NO_CACHE = (
    "softmax_lib's fused kernels cannot be cached: numba found no writable directory for its "
    "cache (not the package's folder, not the user's cache directory, nor NUMBA_CACHE_DIR if "
    "set). They are compiled in memory instead, again in every process, so the first call of "
    "each kernel takes seconds. Set NUMBA_CACHE_DIR to a writable directory to keep them, or "
    "SOFTMAX_LIB_NUMBA=0 to use the NumPy path."
)


def kernels():
    """Return the module of fused kernels, or None if numba is missing or switched off.

    Switched off by ``SOFTMAX_LIB_NUMBA=0`` in the environment, or inside a
    :func:`numpy_path` block of the calling thread. Warns (once) when numba cannot cache
    the compiled kernels on disk.
    """
    return None if _numpy_path.get() else installed()


def installed():
    """Return the module of fused kernels, or None if numba is missing or SOFTMAX_LIB_NUMBA=0.

    As :func:`kernels`, whatever the blocks of the calling thread.
    """
    if os.environ.get("SOFTMAX_LIB_NUMBA", "1") == "0":
        return None
    if not _loaded:
        with _lock:
            if not _loaded:  # compiles nothing yet: each kernel compiles (or loads) when called
                try:
                    module = importlib.import_module("softmax_lib._fused")
                except ImportError:
                    module = None
                if _no_cache:
                    warnings.warn(NO_CACHE, RuntimeWarning, stacklevel=_outside_the_package())
                _loaded.append(module)
    return _loaded[0]


def _outside_the_package() -> int:
    """Return the `stacklevel` that makes a warning of :func:`kernels` show the user's line."""
    frame, level, here = sys._getframe(2), 2, os.path.dirname(__file__) + os.sep
    while frame is not None and frame.f_code.co_filename.startswith(here):
        frame, level = frame.f_back, level + 1
    return level


def compile_kernel(reads: int = 1):
    """Compile a kernel with numba, lazily, and pass its first `reads` arguments read-only.

    numba compiles one version per type of argument, and it types a read-only array
    apart from a writable one: a read-only input (``np.asarray`` of a JAX array, a
    memory-mapped file) would cost a compilation of its own, seconds per kernel. The
    kernel's inputs are therefore always passed as read-only views (no copy, except of an
    unaligned array; the dispatcher, which calls ``kernel.compiled`` itself, makes them so
    once), and one compiled version serves both kinds. numba caches the compiled
    code on disk (not with ``SOFTMAX_LIB_NUMBA_CACHE=0``); where it finds no writable
    directory for it (a read-only install and home), the kernels are compiled in memory in
    every process, and :func:`kernels` warns. Arithmetic follows IEEE 754 as NumPy's does
    (numba's ``error_model="numpy"``): a division by zero gives inf or NaN, not an exception.
    """
    import numba  # only _fused calls this: numba is installed

    def decorate(fn):
        cache = os.environ.get("SOFTMAX_LIB_NUMBA_CACHE", "1") != "0" and not _no_cache
        try:
            compiled = numba.njit(fn, cache=cache, nogil=True, error_model="numpy")
        except RuntimeError as error:  # "cannot cache function ...: no locator available ..."
            if "no locator available" not in str(error):
                raise
            _no_cache.append(str(error))
            compiled = numba.njit(fn, nogil=True, error_model="numpy")

        @functools.wraps(fn)
        def kernel(*args):
            return compiled(*[_read_only(a) for a in args[:reads]], *args[reads:])

        kernel.compiled = compiled  # numba's dispatcher: .signatures lists what is compiled
        return kernel

    return decorate


def _read_only(arr: np.ndarray) -> np.ndarray:
    """`arr` as an aligned, read-only array: a view (a copy only where `arr` is unaligned)."""
    flags = arr.flags
    if flags.aligned and not flags.writeable:
        return arr
    arr = arr.view() if flags.aligned else arr.copy()
    arr.flags.writeable = False
    return arr


class _Within:  # a class, not a generator: a third of the cost, paid by benchmarks per call
    """Within this block, `setting` has `value` in the calling thread; then its old value."""

    __slots__ = ("_setting", "_tokens", "_value")

    def __init__(self, setting: contextvars.ContextVar, value):
        self._setting, self._value, self._tokens = setting, value, []

    def __enter__(self) -> None:
        self._tokens.append(self._setting.set(self._value))

    def __exit__(self, *exc) -> None:
        self._setting.reset(self._tokens.pop())


def numpy_path():
    """Within this block, compute on the NumPy path (the kernels switched off), then restore.

    For comparisons (benchmarks, the book). The setting is the calling thread's (a context
    variable): other threads, and threads started inside the block, keep the kernels;
    blocks may overlap across threads and nest. ``SOFTMAX_LIB_NUMBA=0`` switches the
    kernels off everywhere.
    """
    return _Within(_numpy_path, True)


def on_threads(count: int):
    """Within this block, split large inputs over `count` threads (1: none), then restore.

    For comparisons at equal thread counts. The setting is the calling thread's (a context
    variable), and takes precedence over ``SOFTMAX_LIB_THREADS``, which sets the count for
    the whole process. Raises TypeError or ValueError unless `count` is an int >= 1.
    """
    plain = type(count) is int and count > 0  # checked fast; anything else, with a message
    return _Within(_threads, count if plain else check_positive_int(count, "count"))


def warm() -> float:
    """Compile every kernel for float32 and float64, or load it from numba's on-disk cache.

    Returns the seconds it took: the first call's cost, paid once per install (the book's
    build calls this before any chapter runs, so no chapter's timing includes it). Every
    input, read-only or writable, then runs on these versions (see :func:`compile_kernel`).
    """
    start = time.perf_counter()
    module = kernels()
    if module is not None:
        for dtype in (np.float32, np.float64):
            x, bad = np.zeros((1, 8), dtype=dtype), np.zeros(1, dtype=bool)
            out, row, scratch = np.empty_like(x), x[0], np.empty(8)
            module.softmax_rows(x, out, np.empty((1, 8)), bad)
            module.log_softmax_rows(x, np.empty_like(x), bad)
            module.logsumexp_rows(x, np.empty(1, dtype=dtype))
            module.cross_entropy_rows(x, np.zeros(1, dtype=np.int64), np.empty(1))
            module.segment_max(row)
            module.segment_sum(row, 0.0, scratch, True, False, False)
            module.segment_softmax(
                row, 0.0, 1.0, 0.0, out[0] if dtype == np.float64 else scratch, out[0]
            )
            module.segment_log_softmax(row, 0.0, 0.0, out[0], False)
            module.logsumexp_near_one(x, np.zeros(1, dtype=np.int64), np.empty(1), bad)
    return time.perf_counter() - start


def as_rows(arr: np.ndarray, axes: tuple[int, ...]) -> tuple[np.ndarray, tuple[int, ...]]:
    """`arr` with `axes` moved to the end and flattened: C-contiguous rows, one per output.

    No copy when `axes` are the trailing axes of a C-contiguous array. Also returns the
    shape after the move, to undo it.
    """
    if axes == (arr.ndim - 1,) and arr.flags.c_contiguous:  # the common case: no move, no copy
        return arr.reshape(-1, arr.shape[-1]), arr.shape
    last = tuple(range(arr.ndim - len(axes), arr.ndim))
    if axes == last and arr.flags.c_contiguous:
        return arr.reshape(-1, math.prod(arr.shape[arr.ndim - len(axes) :])), arr.shape
    moved = np.moveaxis(arr, axes, last)
    n = math.prod(moved.shape[len(moved.shape) - len(axes) :])
    return np.ascontiguousarray(moved).reshape(-1, n), moved.shape


def threads() -> int:
    """How many threads large inputs are split over (1: none).

    The count of the calling thread's :func:`on_threads` block, else ``SOFTMAX_LIB_THREADS``,
    else every core. Each row is computed the same way whichever thread computes it, so
    the results do not depend on this number.
    """
    chosen = _threads.get()
    if chosen:
        return chosen
    value = os.environ.get("SOFTMAX_LIB_THREADS", "")
    if value.strip().isdigit() and int(value) > 0:
        return int(value)
    cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    return len(cores) if cores else (os.cpu_count() or 1)


def in_chunks(call: Callable[[int, int], object], items: int, size: int) -> list:
    """``[call(a, b)]`` for consecutive chunks ``[a, b)`` of ``range(items)``: on threads if large.

    The kernels release the GIL, so chunks run side by side; work below PARALLEL_MIN
    elements (`size`), or a single item, runs in the calling thread.
    """
    count = min(threads(), items) if size >= PARALLEL_MIN else 1
    if count < 2:
        return [call(0, items)]
    pool = _workers(count - 1)
    edges = [items * i // count for i in range(count + 1)]
    futures = [pool.submit(call, a, b) for a, b in itertools.pairwise(edges[1:])]
    return [call(0, edges[1]), *(future.result() for future in futures)]


def _workers(count: int) -> ThreadPoolExecutor:
    """Return the thread pool, of at least `count` threads: made anew after a fork, or to grow.

    A pool replaced while another thread still uses it finishes that work, then its idle
    threads end.
    """
    with _lock:
        if not _pool or _pool[0][0] != os.getpid() or _pool[0][2] < count:
            _pool[:] = [(os.getpid(), ThreadPoolExecutor(max_workers=count), count)]
        return _pool[0][1]


def _each(parts: list, fn: Callable, size: int) -> list:
    """``[fn(a, b) for a, b in parts]``, the parts spread over threads."""
    results: list = [None] * len(parts)

    def run(first, last):
        for i in range(first, last):
            results[i] = fn(*parts[i])

    in_chunks(run, len(parts), size)
    return results


def _segmented(module, route, rows, out, bad):
    """Rows longer than SEGMENT: each pass runs over segments of SEGMENT, side by side.

    The segments do not depend on the number of threads, so neither do the results. Marks
    the rows it leaves as the kernels do; returns how many rows it marked.
    """
    edges = [*range(0, rows.shape[1], SEGMENT), rows.shape[1]]
    parts = list(itertools.pairwise(edges))
    marked = 0
    for r, row in enumerate(rows):
        done = segmented_row(module, route, row, None if route.reduces else out[r], parts, _each)
        if route.reduces:  # marked in `out`, as logsumexp_rows marks its rows
            out[r] = np.nan if done is None else done[0] + done[1]
            if done is not None and _cancelled(float(out[r]), done[0]):
                out[r] = np.inf
            marked += not math.isfinite(out[r])
        elif done is None:
            bad[r] = True
            marked += 1
    return marked


def _softmax_chunk(module, rows, out, bad):
    """Run softmax's kernel on `rows`; float32 keeps its terms in one float64 row (or block)."""
    n = rows.shape[1]
    if n < module.SHORT or out.dtype.itemsize == 8:  # float64 keeps them in out
        return module.softmax_rows.compiled(rows, out, NO_TERMS, bad)
    terms = np.empty((1, n if n <= module.KEEP_SINGLE else module.BLOCK))
    return module.softmax_rows.compiled(rows, out, terms, bad)


def _log_softmax_chunk(module, rows, out, bad):
    return module.log_softmax_rows.compiled(rows, out, bad)


def _logsumexp_chunk(module, rows, out, bad):
    return module.logsumexp_rows.compiled(rows, out)  # marks rows in `out` itself


@dataclass(frozen=True)
class Route:
    """How one function is computed: by which kernel, into what shape, redone how."""

    chunk: Callable  # (kernels, rows, out, bad) -> how many rows the kernel marked
    segment: Callable | None  # the last pass over a segment of a long row (None: no output)
    keeps_terms: bool  # the sum over segments keeps the terms for the last pass (softmax)
    reduces: bool  # one value per row (the reduced axes kept, length 1), else one per entry
    numpy: Callable[[Prepared, float], np.ndarray]  # the NumPy path: (input, temperature)
    nothing_left: float  # the value of a row whose every entry is masked
    refine: str | None = None  # the kernel for the rows marked +inf (log-sum-exps that cancel)


def _cancelled(value: float, m: float) -> bool:
    """Whether ``value = m + log(s)`` cancels (m < 0, the result small beside it).

    Such rows are refined: by the Route's `refine` kernel (:mod:`softmax_lib._cancel`) where
    its bound certifies them, by the NumPy path's extra precision where not. `value` is the
    result rounded to the output's dtype; ``logsumexp_rows`` makes the same test.
    """
    return m < 0 and abs(value) < 0.5 * abs(m)


NO_TERMS = np.empty((1, 0))  # softmax_rows' `terms` where it needs none (never written)
KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
SOFTMAX = Route(_softmax_chunk, softmax_segment, True, False, numpy_softmax, 0.0)
LOG_SOFTMAX = Route(
    _log_softmax_chunk, log_softmax_segment, False, False, numpy_log_softmax, -np.inf
)
LOGSUMEXP = Route(
    _logsumexp_chunk, None, False, True, numpy_logsumexp, -np.inf, "logsumexp_near_one"
)


def _refined(kernel, rows: np.ndarray, out: np.ndarray) -> None:
    """Recompute the rows of `out` marked ``+inf`` with `kernel`; mark NaN those it leaves.

    The kernel is :func:`softmax_lib._cancel.logsumexp_near_one`: it certifies each row it
    computes with an error bound, and flags the others (then the NumPy path's).
    """
    which = np.flatnonzero(out == np.inf)
    if which.shape[0] == 0:  # only rows for NumPy were marked
        return
    values, left = np.empty(which.shape[0]), np.zeros(which.shape[0], dtype=bool)
    in_chunks(
        lambda a, b: kernel(rows, which[a:b], values[a:b], left[a:b]),
        which.shape[0],
        which.shape[0] * rows.shape[1],
    )
    values[left] = np.nan
    out[which] = values


def compute(route: Route, p: Prepared, temperature: float = 1.0) -> np.ndarray:
    """`route`'s function of the prepared input `p`: by the kernels where they apply, else NumPy.

    A reduction keeps the reduced axes (length 1). `p` is used as it is, not checked again.
    """
    done = fused(route, p) if temperature == 1.0 else None
    return done if done is not None else route.numpy(p, temperature)


def _by_rows(route: Route, module, rows: np.ndarray, out: np.ndarray, bad) -> int:
    """Run `route`'s kernel over `rows` (by segments, on threads, or in one call if small).

    Returns how many rows the kernel marked (see :func:`fused`).
    """
    if rows.shape[1] > SEGMENT:
        return _segmented(module, route, rows, out, bad)
    if rows.size < PARALLEL_MIN:  # the common case of small inputs: no thread, one call
        return route.chunk(module, rows, out, bad)

    def chunk(a, b):
        return route.chunk(module, rows[a:b], out[a:b], None if bad is None else bad[a:b])

    return sum(in_chunks(chunk, rows.shape[0], rows.size))


def fused(route: Route, p: Prepared):
    """`route`'s function of `p` by the fused kernel, or None where the kernel does not apply.

    The kernels take float32 and float64 input; the rows they flag are recomputed by
    ``route.numpy`` (along the last axis). A reduction keeps the reduced axes (length 1).
    A mask makes masked entries logits of ``-inf``, and a row with nothing left gives
    ``route.nothing_left``, as on the NumPy path.
    """
    module, arr, nothing_left = kernels(), p.arr, None
    if module is None or p.empty or arr.dtype not in KERNEL_DTYPES:
        return None
    if p.mask is not None:
        arr = np.where(p.mask, arr, -np.inf).astype(arr.dtype, copy=False)
        nothing_left = ~np.any(p.mask, axis=p.axes, keepdims=True)
    rows, moved_shape = as_rows(arr, p.axes)
    rows = _read_only(rows)  # our own view or copy, which the kernels only read: checked once
    # A reduction's kernel marks the rows it leaves in `out` itself (NaN, or +inf to refine)
    bad = None if route.reduces else np.zeros(rows.shape[0], dtype=bool)
    out = np.empty(rows.shape[0] if route.reduces else rows.shape, dtype=rows.dtype)
    if _by_rows(route, module, rows, out, bad):
        if route.refine is not None:
            _refined(getattr(module, route.refine), rows, out)
        bad = np.isnan(out) if bad is None else bad
        if bad.any():  # not when the refinement certified every row it was given
            out[bad] = route.numpy(prepared_rows(rows[bad]), 1.0).reshape(out[bad].shape)
    if route.reduces:  # the reduced axes kept, of length 1
        out = out.reshape([1 if i in p.axes else n for i, n in enumerate(arr.shape)])
    else:
        last = tuple(range(arr.ndim - len(p.axes), arr.ndim))
        out = out.reshape(moved_shape)
        if p.axes != last:
            out = np.moveaxis(out, last, p.axes)
    if nothing_left is not None and nothing_left.any():
        out = np.where(nothing_left, route.nothing_left, out).astype(out.dtype)
    return out


def cross_entropy_rows(x: np.ndarray, target: np.ndarray) -> np.ndarray | None:
    """``-log_softmax(x)[n, target[n]]`` for the rows of the 2-D `x` (float64 losses).

    None where the kernels do not apply (no numba, another dtype, or a row with NaN or
    an infinite maximum: the caller's NumPy path owns those).
    """
    module = kernels()
    if module is None or x.dtype not in KERNEL_DTYPES or x.size == 0:
        return None
    rows = _read_only(np.ascontiguousarray(x))  # checked once: the kernel is called directly
    labels = _read_only(np.ascontiguousarray(target, dtype=np.int64))
    out, kernel = np.empty(rows.shape[0]), module.cross_entropy_rows.compiled
    if rows.size < PARALLEL_MIN:
        left = kernel(rows, labels, out)
    else:
        chunk = lambda a, b: kernel(rows[a:b], labels[a:b], out[a:b])  # noqa: E731
        left = sum(in_chunks(chunk, rows.shape[0], rows.size))
    return None if left else out
