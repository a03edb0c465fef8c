"""Switches of the fused kernels: whether they run, on how many threads, and their warm-up.

:func:`softmax_lib.softmax`, :func:`~softmax_lib.log_softmax`,
:func:`~softmax_lib.logsumexp` and :func:`~softmax_lib.cross_entropy` compute float32 and
float64 input (without a temperature) with fused kernels compiled by numba, when numba is
installed, and everything else, with the rows the kernels leave to it (NaN, an infinite
maximum, a log-sum-exp that cancels where no kernel certifies it), on a NumPy path; both
paths meet the same accuracy bounds. This module says which path runs and lets you choose
it, for comparisons (benchmarks, the book's timings):

* :func:`available` and :func:`enabled`: whether the kernels can run, and whether they
  would for a call made here;
* :func:`numpy_path` and :func:`on_threads`: blocks that switch the kernels off, or set the
  number of threads, for the code inside them;
* :func:`threads` and :func:`warm`: the number of threads in use, and the compilation
  paid once.

The blocks set context variables: they change the setting of the thread (or asyncio task)
that opens them, and of nothing else, and end with the block. Nothing process-wide changes,
so a block in one thread never switches the path of another. Two environment variables
set the defaults for the whole process: ``SOFTMAX_LIB_NUMBA=0`` switches the kernels off
everywhere, and ``SOFTMAX_LIB_THREADS`` sets the number of threads.

Derived in :doc:`/chapters/10-fast-softmax`.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from softmax_lib._dispatch import SEGMENT as segment_length
from softmax_lib._dispatch import installed as installed_kernels
from softmax_lib._dispatch import kernels as enabled_kernels
from softmax_lib._dispatch import numpy_path as numpy_path_block
from softmax_lib._dispatch import on_threads as threads_block
from softmax_lib._dispatch import threads as thread_count
from softmax_lib._dispatch import warm as warm_kernels

__all__ = ["SEGMENT", "available", "enabled", "numpy_path", "on_threads", "threads", "warm"]

#: Rows longer than this many entries (softmax, log-softmax, log-sum-exp) are computed in
#: segments of this length, on threads when the row is long enough to share, and the
#: segments' results added in a fixed order: the bits of the result do
#: not depend on the number of threads. Read-only (changing it here changes nothing).
SEGMENT: int = segment_length


def available() -> bool:
    """Return whether the fused kernels can run in this process.

    True when numba can be imported and ``SOFTMAX_LIB_NUMBA=0`` is not set, whatever the
    :func:`numpy_path` blocks open in the calling thread. The first call imports numba,
    which takes a moment; no kernel is compiled.

    Returns
    -------
    bool
        False without numba (browser Python, a minimal install) or with the kernels
        switched off by the environment: every function then takes its NumPy path.

    See Also
    --------
    enabled : Whether a call made here would use the kernels now.

    Examples
    --------
    >>> from softmax_lib import kernels
    >>> with kernels.numpy_path():  # a block does not change what is available
    ...     inside = kernels.available()
    >>> inside == kernels.available()
    True
    """
    return installed_kernels() is not None


def enabled() -> bool:
    """Return whether a call made here, now, would use the fused kernels.

    False without the kernels (see :func:`available`) and inside a :func:`numpy_path`
    block of the calling thread; other threads are not affected by that block.

    Returns
    -------
    bool
        True if float32 and float64 input without a temperature would be computed by the
        kernels.

    See Also
    --------
    available : Whether the kernels can run at all.

    Examples
    --------
    >>> from softmax_lib import kernels
    >>> kernels.enabled() == kernels.available()
    True
    >>> with kernels.numpy_path():
    ...     kernels.enabled()
    False
    """
    return enabled_kernels() is not None


def numpy_path() -> AbstractContextManager[None]:
    """Compute on the NumPy path inside this block (the kernels switched off), then restore.

    The setting belongs to the calling thread (a context variable): other threads, and
    threads started inside the block, keep the kernels. Blocks nest, and blocks in
    different threads may overlap; each ends with its own ``with`` statement.

    Returns
    -------
    context manager
        Use it in a ``with`` statement.

    See Also
    --------
    on_threads : The other block, for the number of threads.

    Notes
    -----
    For comparisons of the two paths: both meet the same accuracy bounds against the exact
    result, so they may differ in the last bits. The environment variable
    ``SOFTMAX_LIB_NUMBA=0`` switches the kernels off in every thread instead.

    Examples
    --------
    >>> import numpy as np
    >>> import softmax_lib as sl
    >>> x = np.array([[1000.0, 999.0, 0.0]])
    >>> with sl.kernels.numpy_path():
    ...     print(sl.kernels.enabled(), sl.softmax(x))
    False [[0.731059 0.268941 0.      ]]
    """
    return numpy_path_block()


def on_threads(count: int) -> AbstractContextManager[None]:
    """Split large inputs over `count` threads inside this block (1: none), then restore.

    The setting belongs to the calling thread (a context variable), like :func:`numpy_path`,
    and takes precedence over ``SOFTMAX_LIB_THREADS``. Each row is computed the same way
    whichever thread computes it, so results do not depend on the count, bit for bit.

    Parameters
    ----------
    count : int
        The number of threads, at least 1.

    Returns
    -------
    context manager
        Use it in a ``with`` statement.

    Raises
    ------
    TypeError
        If `count` is not an int.
    ValueError
        If `count` is less than 1.

    See Also
    --------
    threads : The count in use.

    Examples
    --------
    >>> from softmax_lib import kernels
    >>> with kernels.on_threads(1):
    ...     kernels.threads()
    1
    """
    return threads_block(count)


def threads() -> int:
    """Return how many threads large inputs are split over (1: none).

    The count of the calling thread's :func:`on_threads` block, else the environment
    variable ``SOFTMAX_LIB_THREADS``, else the number of cores this process may use.
    Small inputs run in the calling thread whatever the count.

    Returns
    -------
    int
        At least 1.

    Examples
    --------
    >>> from softmax_lib import kernels
    >>> kernels.threads() >= 1
    True
    """
    return thread_count()


def warm() -> float:
    """Compile every kernel the public functions use, or load it from numba's disk cache.

    The first call of each kernel in a process otherwise pays this cost: seconds for a
    compilation, a fraction of a second from the cache (numba writes it on first use). The
    book's build calls this before any chapter runs, so that the chapters load the kernels
    from the cache; a chapter that times them calls it too, before its first timing. Does
    nothing without the kernels, or inside a :func:`numpy_path` block.

    Returns
    -------
    float
        The seconds it took.

    Examples
    --------
    >>> from softmax_lib import kernels
    >>> kernels.warm() >= 0.0
    True
    """
    return warm_kernels()
