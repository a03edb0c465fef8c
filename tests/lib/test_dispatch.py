"""How ``softmax_lib._dispatch`` chooses and calls the fused kernels: its switches, threads,
the compiled versions of the kernels, and installs where numba cannot cache them.
"""

import ctypes
import dataclasses
import json
import math
import os
import re
import shutil
import subprocess
import sys
import threading
import tracemalloc
import warnings
from functools import partial
from pathlib import Path

import numpy as np
import pytest

import softmax_lib as sl
from softmax_lib import _dispatch, _fused
from softmax_lib import stability as st
from softmax_lib._validation import prepare

WAIT = 60  # seconds a thread waits for the other before the test fails
KERNELS = (
    "softmax_rows",
    "log_softmax_rows",
    "logsumexp_rows",
    "cross_entropy_rows",
    "segment_max",
    "segment_sum",
    "segment_softmax",
    "segment_log_softmax",
    "logsumexp_near_one",
)
FUNCTIONS = {
    "softmax": sl.softmax,
    "log_softmax": sl.log_softmax,
    "logsumexp": sl.logsumexp,
    "cross_entropy": lambda x, t: sl.cross_entropy(x, t, reduction="none"),
}


def run_side_by_side(*bodies):
    """Run each of `bodies` in a thread of its own; re-raise what any of them raised."""
    raised = []

    def guarded(body):
        try:
            body()
        except BaseException as error:  # reported in the main thread
            raised.append(error)

    workers = [threading.Thread(target=guarded, args=(body,)) for body in bodies]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(2 * WAIT)
    assert not any(worker.is_alive() for worker in workers)
    if raised:
        raise raised[0]


def wait(event):
    assert event.wait(WAIT), "the other thread never got there"


def test_issue30_numpy_path_in_overlapping_threads_is_local_and_restored(monkeypatch):
    # Regression: numpy_path() set SOFTMAX_LIB_NUMBA=0 for the whole process and put back,
    # on leaving, the value it had found. Thread B entered while thread A's block was open,
    # found "0", and put "0" back after A had left: the kernels stayed off for the rest of
    # the process. Meanwhile A's block had switched them off in every other thread too.
    monkeypatch.delenv("SOFTMAX_LIB_NUMBA", raising=False)
    a_inside, b_inside, a_left = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def a():
        with _dispatch.numpy_path():
            a_inside.set()
            wait(b_inside)
            seen["A inside, B inside"] = _dispatch.kernels() is None
        a_left.set()

    def b():
        wait(a_inside)
        seen["B before its block, A inside"] = _dispatch.kernels() is not None
        with _dispatch.numpy_path():
            b_inside.set()
            wait(a_left)
            seen["B inside, A left"] = _dispatch.kernels() is None
        seen["B after its block"] = _dispatch.kernels() is not None

    run_side_by_side(a, b)
    assert seen == dict.fromkeys(seen, True) and len(seen) == 4, seen
    assert _dispatch.kernels() is not None  # in this thread, after both blocks
    assert "SOFTMAX_LIB_NUMBA" not in os.environ


def test_issue30_on_threads_in_overlapping_threads_is_local_and_restored(monkeypatch):
    # Regression: on_threads() set SOFTMAX_LIB_THREADS for the whole process, so a block in
    # one thread changed the count of every other, and overlapping blocks left the count
    # of the one that entered second in place. The variable a user sets still counts
    # outside the blocks (2 here).
    monkeypatch.setenv("SOFTMAX_LIB_THREADS", "2")
    a_inside, b_inside, a_left = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def a():
        with _dispatch.on_threads(1):
            a_inside.set()
            wait(b_inside)
            seen["A inside, B inside"] = _dispatch.threads()
        a_left.set()

    def b():
        wait(a_inside)
        seen["B before its block, A inside"] = _dispatch.threads()
        with _dispatch.on_threads(3):
            b_inside.set()
            wait(a_left)
            seen["B inside, A left"] = _dispatch.threads()
        seen["B after its block"] = _dispatch.threads()

    run_side_by_side(a, b)
    assert seen == {
        "A inside, B inside": 1,
        "B before its block, A inside": 2,
        "B inside, A left": 3,
        "B after its block": 2,
    }
    assert _dispatch.threads() == 2
    assert os.environ["SOFTMAX_LIB_THREADS"] == "2"
    monkeypatch.delenv("SOFTMAX_LIB_THREADS")
    assert _dispatch.threads() == len(os.sched_getaffinity(0))


def test_the_switches_nest_and_the_environment_still_switches_everything(monkeypatch):
    monkeypatch.delenv("SOFTMAX_LIB_NUMBA", raising=False)
    with _dispatch.on_threads(4):
        with _dispatch.on_threads(1), _dispatch.numpy_path():
            assert _dispatch.threads() == 1 and _dispatch.kernels() is None
        assert _dispatch.threads() == 4 and _dispatch.kernels() is not None
    monkeypatch.setenv("SOFTMAX_LIB_NUMBA", "0")  # the documented switch: off everywhere
    seen = []
    run_side_by_side(lambda: seen.append(_dispatch.kernels()))
    assert seen == [None] and _dispatch.kernels() is None


@pytest.mark.parametrize(
    ("count", "error", "message"),
    [
        (0, ValueError, "`count` must be a positive int; got 0."),
        (1.5, TypeError, "`count` must be a positive int; got 1.5."),
        ("2", TypeError, "`count` must be a positive int; got '2'."),
    ],
)
def test_on_threads_rejects_what_is_not_a_count(count, error, message):
    with pytest.raises(error, match=re.escape(message)):
        _dispatch.on_threads(count)


def test_the_thread_pool_grows_to_the_count_asked(monkeypatch):
    # The pool was made once, with the count of the first large call: a first call on two
    # threads left one worker, and every later call ran on at most two threads. Each chunk
    # here waits until all have started, which only happens if they run side by side.
    monkeypatch.setattr(_dispatch, "_pool", [])
    for count in (2, 4):
        all_in = threading.Barrier(count, timeout=WAIT).wait
        with _dispatch.on_threads(count):
            _dispatch.in_chunks(lambda a, b, w=all_in: w(), count, _dispatch.PARALLEL_MIN)


def compiled_versions():
    """The argument types each kernel is compiled for, from its numba dispatcher."""
    kernels = {name: getattr(_fused, name) for name in KERNELS}  # (a bare dispatcher before)
    return {n: tuple(getattr(k, "compiled", k).signatures) for n, k in kernels.items()}


def read_only_and_unaligned(x):
    """`x` as arrays that numba types apart from a writable, aligned array."""
    frozen = x.copy()
    frozen.flags.writeable = False
    raw = bytearray(x.nbytes + 1)
    unaligned = np.frombuffer(raw, dtype=x.dtype, count=x.size, offset=1).reshape(x.shape)
    unaligned[...] = x
    return {
        "writeable=False": frozen,
        # like np.asarray of a JAX array: memory that cannot be made writable
        "from bytes": np.frombuffer(x.tobytes(), dtype=x.dtype).reshape(x.shape),
        "unaligned": unaligned,
    }


@pytest.mark.parametrize("path", ["fused", "numpy"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_issue30_read_only_input_compiles_no_new_kernel(dtype, path, monkeypatch):
    # Regression: numba types a read-only array apart from a writable one, so a read-only
    # input (np.asarray of a JAX array) compiled its own version of each kernel, seconds
    # each, even after warm(); an unaligned one too. Now every input takes the versions
    # warm() compiled, with the same bits; rows of 2100 run in segments of 1000 here.
    monkeypatch.setattr(_dispatch, "SEGMENT", 1000)
    _dispatch.warm()
    before = compiled_versions()
    rng = np.random.default_rng(30)
    long_rows = (rng.normal(size=(4, 2100)) * 10).astype(dtype)  # in segments
    long_rows[2:] = sl.log_softmax(long_rows[2:])  # cancelling log-sum-exps: softmax_lib._cancel
    labels = rng.integers(0, 50, 4)
    labels.flags.writeable = False
    inputs = [
        (f"{label}, {source.shape}", arr)
        for source in (long_rows, long_rows[:, :50].copy())
        for label, arr in read_only_and_unaligned(source).items()
    ]
    for label, arr in inputs:
        assert arr.flags.writeable is label.startswith("unaligned")
        assert arr.flags.aligned is not label.startswith("unaligned")
        for name, fn in FUNCTIONS.items():
            args = (arr, labels) if name == "cross_entropy" else (arr,)
            writable = [np.array(a) for a in args]  # writable, aligned copies
            if path == "numpy":
                with _dispatch.numpy_path():
                    got, expected = fn(*args), fn(*writable)
            else:
                got, expected = fn(*args), fn(*writable)
            np.testing.assert_array_equal(got, expected, err_msg=f"{label}, {name}")
    assert compiled_versions() == before
    assert all(len(versions) == 2 for versions in before.values())  # float32 and float64


def without_root_rights():
    """A ``preexec_fn`` that takes from root the rights to ignore file permissions.

    As root, a read-only directory is still writable: the child process runs without
    CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH and CAP_FOWNER (dropped from its bounding set,
    so it does not get them back when it executes Python). None for another user.
    """
    if os.geteuid() != 0:
        return None
    libc = ctypes.CDLL(None, use_errno=True)

    def drop():
        for capability in (1, 2, 3):
            if libc.prctl(24, capability, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
                raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")

    return drop


def run_child(command, **options):
    """Run `command` without root's rights over file permissions (see `without_root_rights`)."""
    try:
        with warnings.catch_warnings():
            # A preexec_fn makes subprocess fork, and once JAX has run in this process (the
            # oracle tests in test_against_jax.py run earlier), JAX warns at every fork that
            # its threads may deadlock the child. The child only calls prctl before it
            # executes Python afresh, so that warning, and only that one, is ignored here.
            warnings.filterwarnings(
                "ignore", message=r"os\.fork\(\) was called", category=RuntimeWarning
            )
            return subprocess.run(
                command,
                capture_output=True,
                text=True,
                preexec_fn=without_root_rights(),
                timeout=600,
                **options,
            )
    except subprocess.SubprocessError as error:  # prctl refused: root rights cannot be dropped
        pytest.skip(f"cannot run a process without root's rights here: {error}")


CHILD = """
import json, sys, warnings
import numpy as np
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import softmax_lib as sl
    from softmax_lib import _dispatch
    x = np.load(sys.argv[1])
    first, second = sl.softmax(x), sl.softmax(x)
    with _dispatch.numpy_path():
        plain = sl.softmax(x)
    kernels = _dispatch.kernels() is not None
try:
    open(sys.argv[3], "w").close()
    writable = True
except OSError:
    writable = False
np.savez(sys.argv[2], first=first, second=second, plain=plain)
print(json.dumps({"file": sl.__file__, "kernels": kernels, "writable": writable,
                  "warnings": [[type(w.message).__name__, str(w.message)] for w in caught]}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux permissions")
def test_issue30_read_only_install_compiles_the_kernels_without_a_cache(tmp_path):
    # Regression: with nowhere for numba to write its cache (the package's folder and the
    # home directory read-only, NUMBA_CACHE_DIR unset), every call raised "RuntimeError:
    # cannot cache function 'softmax_rows': no locator available for file ...". Now the
    # kernels are compiled in memory, with one warning, and give the same bits.
    install, home = tmp_path / "install", tmp_path / "home"
    package = install / "softmax_lib"
    shutil.copytree(Path(sl.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__"))
    home.mkdir()
    x = np.random.default_rng(7).normal(0, 5, (3, 40))
    np.save(tmp_path / "x.npy", x)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("NUMBA_CACHE_DIR", "XDG_CACHE_HOME", "PYTHONPATH")
        and not k.startswith("SOFTMAX_LIB_")
    }
    env |= {"HOME": str(home), "PYTHONPATH": str(install)}
    locked = [*package.rglob("*"), package, home]  # files, then their folders
    for path in locked:
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        child = run_child(
            [sys.executable, "-c", CHILD, tmp_path / "x.npy", tmp_path / "out.npz", package / "t"],
            cwd=tmp_path,
            env=env,
        )
    finally:
        for path in locked:
            path.chmod(0o755 if path.is_dir() else 0o644)
    assert child.returncode == 0, child.stderr
    report = json.loads(child.stdout)
    assert report["file"] == str(package / "__init__.py")
    assert not report["writable"]  # the install really was read-only for the child
    assert report["kernels"]  # compiled without a cache, not switched off
    assert len(report["warnings"]) == 1, report["warnings"]
    kind, message = report["warnings"][0]
    assert kind == "RuntimeWarning" and message == _dispatch.NO_CACHE
    out = np.load(tmp_path / "out.npz")
    np.testing.assert_array_equal(out["first"], sl.softmax(x))  # the kernels' bits, as here
    np.testing.assert_array_equal(out["second"], out["first"])
    with _dispatch.numpy_path():
        np.testing.assert_array_equal(out["plain"], sl.softmax(x))
    exact = st.reference_softmax(x)  # both paths within the bound of tests/lib/test_accuracy
    assert st.ulp_error(out["first"], exact).max() <= 4
    assert st.ulp_error(out["plain"], exact).max() <= 4


@pytest.fixture
def numpy_refinements(monkeypatch):
    """Count the rows the NumPy path refines in double-double (softmax_lib._extended)."""
    from softmax_lib import _extended

    seen = []
    original = _extended.log_sum_exp_near_zero

    def spy(rows):
        seen.append(rows.shape[0])
        return original(rows)

    monkeypatch.setattr(_extended, "log_sum_exp_near_zero", spy)
    return seen


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_issue32_logsumexp_of_log_probabilities_takes_the_kernel(dtype, numpy_refinements):
    # Every row of log-probabilities cancels in m + log(s), and every one went to the NumPy
    # path's refinement (long double, then mpmath): 700-2000x the time of the logits'
    # log-sum-exp. The kernel of softmax_lib._cancel now computes and certifies them.
    rng = np.random.default_rng(32)
    x = sl.log_softmax(rng.normal(size=(64, 300)).astype(dtype))
    got = sl.logsumexp(x)
    assert numpy_refinements == []
    assert st.ulp_error(got, st.reference_logsumexp(x)).max() <= 0.51  # mpmath
    with _dispatch.on_threads(2), pytest.MonkeyPatch.context() as patch:
        patch.setattr(_dispatch, "PARALLEL_MIN", 1000)  # the rows in chunks, on threads
        np.testing.assert_array_equal(sl.logsumexp(x), got)
    assert numpy_refinements == []


def test_rows_the_kernel_cannot_certify_still_take_the_numpy_path(numpy_refinements):
    # m = -1 and a log-sum-exp near -0.4 cancels too (|r| < |m| / 2), but its sum is not
    # near 1: the kernel flags it, and the NumPy path refines it, beside a row it certifies.
    x = np.array([[-1.0, -1.2], [math.log(0.25), math.log(0.75)]])
    got = sl.logsumexp(x)
    assert numpy_refinements == [1]
    assert st.ulp_error(got, st.reference_logsumexp(x)).max() <= 0.51


def extra_memory(fn):
    """Return the peak memory `fn()` allocates beyond its result (tracemalloc), in bytes."""
    fn()  # compiled, and numba's caches filled
    tracemalloc.start()
    try:
        out = fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak - out.nbytes


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logsumexp_allocates_nothing_the_size_of_its_output_beyond_it(dtype):
    # Regression: beside the output, the dispatcher kept the maxima (float64), the kernel's
    # flags and a test of which rows cancel, made of four more temporaries: about 0.26x of
    # the input at (1024, 32) float32 (32 bytes a row), growing with the rows. Now the
    # kernel marks in the output itself the rows it leaves (NaN) and those that cancel
    # (+inf): beyond the output only a fixed scratch remains, whatever the number of rows.
    # (Below PARALLEL_MIN elements: one thread.)
    rng = np.random.default_rng(1)

    def extra(rows):
        p = prepare((rng.normal(size=(rows, 32)) * 10).astype(dtype), -1, widen=False)
        return extra_memory(lambda: _dispatch.compute(_dispatch.LOGSUMEXP, p))

    small, large = extra(1024), extra(4000)
    assert large - small < 256, (small, large)  # was 92 KiB more (float32)
    assert large < 4000 * np.dtype(dtype).itemsize / 2, large  # below half the output


def test_the_logsumexp_kernel_marks_the_rows_it_leaves_in_its_output():
    # NaN: the NumPy path's (a NaN, an infinite maximum); +inf: the rows that cancel by
    # _dispatch._cancelled, for softmax_lib._cancel; other rows keep their value.
    rng = np.random.default_rng(2)
    x = rng.normal(size=(40, 20)) * 5
    x[10:20] = sl.log_softmax(x[10:20])  # cancel
    x[20:25] -= 40  # m < 0, far from cancelling
    x[25:30] = x[25:30] * 1e-3 - 0.3  # m < 0, |r| near 2.7 > |m| / 2
    x[30, 3], x[31, 0], x[32] = np.nan, np.inf, -np.inf
    with _dispatch.numpy_path():
        expected = sl.logsumexp(x)
    for dtype in (np.float32, np.float64):
        rows = x.astype(dtype)
        rows.flags.writeable = False
        for n in (20, 200):  # the short-row path, and the one for longer rows
            wide = np.concatenate([rows, np.full((40, n - 20), -np.inf, dtype)], axis=1)
            wide.flags.writeable = False
            out = np.empty(40, dtype=dtype)
            marked = _fused.logsumexp_rows(wide, out)
            m = rows.max(axis=1).astype(np.float64)
            rounded = expected.astype(dtype).astype(np.float64)  # as the kernel stores it
            cancels = [_dispatch._cancelled(v, mv) for v, mv in zip(rounded, m, strict=True)]
            left = np.isnan(expected) | ~np.isfinite(m)
            assert marked == np.sum(cancels) + left.sum() == 13
            np.testing.assert_array_equal(np.isposinf(out), np.array(cancels) & ~left)
            np.testing.assert_array_equal(np.isnan(out), left)
            kept = np.isfinite(out)
            np.testing.assert_allclose(out[kept], expected[kept], rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logsumexp_computes_its_sign_only_when_asked(dtype):
    # Regression: logsumexp made the sign of every result (two boolean and two float64
    # arrays, one entry a row each) even without return_sign, which then dropped it:
    # 17 bytes a row at the peak beyond the output. Now it is made only for return_sign=True.
    rng = np.random.default_rng(3)

    def extra(rows):
        x = (rng.normal(size=(rows, 32)) * 10).astype(dtype)
        return extra_memory(lambda: sl.logsumexp(x))

    small, large = extra(1024), extra(4000)
    assert large - small < 256, (small, large)  # was 49 KiB more
    x = np.array([[0.0, 1.0], [-np.inf, -np.inf], [np.nan, 0.0]], dtype=dtype)
    value, sign = sl.logsumexp(x, return_sign=True)
    np.testing.assert_array_equal(value, sl.logsumexp(x))
    np.testing.assert_array_equal(sign, np.array([1.0, 0.0, np.nan], dtype=dtype))
    assert sign.dtype == dtype


def dispatcher_steps(fn):
    """The Python functions of softmax_lib._dispatch that one call of `fn` enters, in order."""
    fn()
    steps = []

    def profile(frame, event, arg):
        if event == "call" and frame.f_code.co_filename == _dispatch.__file__:
            steps.append(frame.f_code.co_name)

    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return steps


@pytest.mark.parametrize(
    ("name", "budget"),
    [("softmax", 8), ("log_softmax", 8), ("logsumexp", 9), ("cross_entropy", 5)],
)
def test_a_small_input_crosses_the_dispatcher_in_few_python_steps(name, budget):
    # Regression (issue 32, per-call cost of small inputs): a (256, 32) input went through
    # 11 functions of the dispatcher (logsumexp 14, cross_entropy 9): a chunk lambda and the
    # thread splitter even below PARALLEL_MIN, string comparisons to pick the kernel, the
    # kernel's wrapper checking again the rows the dispatcher had just made read-only, and
    # for logsumexp the test of cancelling rows in NumPy. Now one record per function
    # (Route) calls its compiled kernel directly, on rows checked once, and the kernel
    # counts the rows it marks.
    x = np.random.default_rng(4).normal(size=(256, 32))
    labels = np.zeros(256, dtype=np.int64)
    fn = FUNCTIONS[name]
    steps = dispatcher_steps(lambda: fn(x, labels) if name == "cross_entropy" else fn(x))
    assert len(steps) <= budget, steps
    assert steps.count("_read_only") == (2 if name == "cross_entropy" else 1), steps
    assert "in_chunks" not in steps and "kernel" not in steps, steps


def python_calls(fn):
    """The Python functions (any module) that one call of `fn` enters, `fn` itself left out."""
    fn()
    calls = []

    def profile(frame, event, arg):
        if event == "call":
            calls.append(frame.f_code.co_name)

    sys.setprofile(profile)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return calls[1:]


@pytest.mark.parametrize("block", ["numpy_path", "on_threads"])
def test_a_switch_block_costs_few_python_steps(block):
    # Regression (issue 32, per-call cost): numpy_path() and on_threads() were generators
    # under contextlib.contextmanager, 7 and 11 Python calls a block (on_threads checked
    # an int through three), 2.4 us in all: the benchmark's one-thread column pays it on
    # every call it times, 7% of softmax at (256, 32). Now a small class: 4 calls, 0.9 us.
    make = {"numpy_path": _dispatch.numpy_path, "on_threads": partial(_dispatch.on_threads, 2)}

    def enter_and_leave():
        with make[block]():
            pass

    calls = python_calls(enter_and_leave)
    assert len(calls) <= 4, calls
    with _dispatch.on_threads(3), _dispatch.numpy_path():  # still nested and restored
        with _dispatch.on_threads(1):
            assert _dispatch.threads() == 1 and _dispatch.kernels() is None
        assert _dispatch.threads() == 3
    assert _dispatch.kernels() is not None


def test_rows_the_refinement_certifies_never_reach_the_numpy_path():
    # While the kernel's marks replaced the flags, every call with a marked row ran the
    # NumPy path, on no rows at all when the refinement had certified them all: 3% of the
    # time of log-sum-exps of log-probabilities (100 x 1000). Only rows left go there.
    calls = []

    def numpy(p, temperature):
        calls.append(p.arr.shape)
        return _dispatch.LOGSUMEXP.numpy(p, temperature)

    route = dataclasses.replace(_dispatch.LOGSUMEXP, numpy=numpy)
    x = sl.log_softmax(np.random.default_rng(5).normal(size=(16, 100)))
    x[3, 7] = np.nan  # one row for NumPy beside them, alone
    _dispatch.compute(route, prepare(x, -1, widen=False))
    assert calls == [(1, 100)]
    _dispatch.compute(route, prepare(np.delete(x, 3, axis=0), -1, widen=False))
    assert calls == [(1, 100)]
