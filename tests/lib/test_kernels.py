"""The public switches of the fused kernels (`softmax_lib.kernels`), and the one check of
each public function's input before it goes to either path.
"""

import asyncio
import inspect
import os
import re
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import softmax_lib as sl
from softmax_lib import _dispatch, _validation, kernels

WAIT = 60  # seconds a thread waits for the other before the test fails
ROOT = Path(sl.__file__).resolve().parents[1]


def wait(event):
    assert event.wait(WAIT), "the other thread never got there"


def test_a_block_in_one_thread_leaves_the_other_on_the_kernels(monkeypatch):
    monkeypatch.delenv("SOFTMAX_LIB_NUMBA", raising=False)
    inside, looked = threading.Event(), threading.Event()
    seen, raised = {}, []

    def a():
        try:
            with kernels.numpy_path():
                inside.set()
                seen["A inside"] = kernels.enabled()
                wait(looked)
            seen["A after"] = kernels.enabled()
        except BaseException as error:  # reported in the main thread
            raised.append(error)

    def b():
        try:
            wait(inside)
            seen["B while A is inside"] = kernels.enabled()
            seen["B available"] = kernels.available()
        except BaseException as error:
            raised.append(error)
        finally:
            looked.set()

    workers = [threading.Thread(target=a), threading.Thread(target=b)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(2 * WAIT)
    assert not raised, raised
    assert seen == {
        "A inside": False,
        "B while A is inside": True,
        "B available": True,
        "A after": True,
    }
    assert "SOFTMAX_LIB_NUMBA" not in os.environ  # nothing process-wide was set


def test_a_block_in_one_asyncio_task_leaves_the_other_on_the_kernels():
    async def inside(started, done):
        with kernels.numpy_path():
            started.set()
            await done.wait()
            return kernels.enabled()

    async def outside(started, done):
        await started.wait()
        try:
            return kernels.enabled()
        finally:
            done.set()

    async def both():
        started, done = asyncio.Event(), asyncio.Event()
        return await asyncio.gather(inside(started, done), outside(started, done))

    assert asyncio.run(both()) == [False, True]


def test_nested_blocks_restore_the_setting_outside_them(monkeypatch):
    monkeypatch.setenv("SOFTMAX_LIB_THREADS", "2")
    assert kernels.enabled() and kernels.threads() == 2
    with kernels.on_threads(3):
        with kernels.numpy_path(), kernels.on_threads(1):
            assert not kernels.enabled() and kernels.threads() == 1
            with kernels.numpy_path():
                assert not kernels.enabled()
            assert not kernels.enabled()
        assert kernels.enabled() and kernels.threads() == 3
    assert kernels.enabled() and kernels.threads() == 2
    assert os.environ["SOFTMAX_LIB_THREADS"] == "2"


def test_a_block_left_by_an_exception_restores_the_setting(monkeypatch):
    monkeypatch.setenv("SOFTMAX_LIB_THREADS", "2")
    with pytest.raises(KeyError), kernels.numpy_path(), kernels.on_threads(1):
        raise KeyError("inside")
    assert kernels.enabled() and kernels.threads() == 2


@pytest.mark.parametrize(
    ("count", "error", "message"),
    [
        (0, ValueError, "`count` must be a positive int; got 0."),
        (-2, ValueError, "`count` must be a positive int; got -2."),
        (2.0, TypeError, "`count` must be a positive int; got 2.0."),
        (True, TypeError, "`count` must be a positive int; got True."),
        (None, TypeError, "`count` must be a positive int; got None."),
    ],
)
def test_on_threads_rejects_what_is_not_a_count(count, error, message):
    with pytest.raises(error, match="^" + re.escape(message) + "$"):
        kernels.on_threads(count)


def test_the_environment_switches_the_kernels_off_in_a_new_process():
    code = (
        "from softmax_lib import kernels\n"
        "print(kernels.available(), kernels.enabled(), kernels.warm() >= 0.0)\n"
    )
    env = {**os.environ, "SOFTMAX_LIB_NUMBA": "0", "PYTHONPATH": str(ROOT)}
    child = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300
    )
    assert child.returncode == 0, child.stderr
    assert child.stdout.split() == ["False", "False", "True"]


def test_available_is_true_here_and_ignores_the_blocks():
    # numba is pinned for the tests (requirements.txt), so the kernels must be available.
    assert kernels.available()
    with kernels.numpy_path():
        assert kernels.available() and not kernels.enabled()


def test_warm_returns_the_seconds_it_took():
    seconds = kernels.warm()
    assert type(seconds) is float and seconds >= 0.0
    with kernels.numpy_path():
        assert kernels.warm() < 1.0  # nothing to compile on the NumPy path


def test_segment_is_the_length_the_dispatcher_uses():
    assert kernels.SEGMENT == _dispatch.SEGMENT and kernels.SEGMENT > 0


def test_the_module_is_exported_at_the_top_level():
    assert sl.kernels is kernels and "kernels" in sl.__all__
    assert set(kernels.__all__) == {
        "SEGMENT",
        "available",
        "enabled",
        "numpy_path",
        "on_threads",
        "threads",
        "warm",
    }


# ------------------------------------------------------ each input is checked once

CHECKS = (
    "prepare",
    "as_real_float_array",
    "as_rectangular_array",
    "check_where",
    "check_choice",
    "check_class_indices",
    "check_target_kind",
    "check_probability_target",
    "check_weight",
)


@pytest.fixture
def checks_made(monkeypatch):
    """Count the calls of each check, by check and by the argument it names.

    Every module of the package binds the checks by name, so each binding is replaced.
    """
    made = Counter()
    for check in CHECKS:
        original = getattr(_validation, check)
        signature = inspect.signature(original)

        def spy(*args, _original=original, _check=check, _signature=signature, **kwargs):
            bound = _signature.bind(*args, **kwargs).arguments
            made[_check, bound.get("name", bound.get("x_name", ""))] += 1
            return _original(*args, **kwargs)

        for module in list(sys.modules.values()):
            if getattr(module, "__name__", "").startswith("softmax_lib"):
                if getattr(module, check, None) is original:
                    monkeypatch.setattr(module, check, spy)
    return made


X = np.random.default_rng(32).normal(0, 3, (4, 5))
BAD_ROW = np.vstack([X, [np.inf, 0.0, 0.0, 0.0, 0.0]])  # a row the kernels leave to NumPy
LABELS = [0, 1, 2, 3]
CALLS = {
    "softmax": lambda: sl.softmax(X),
    "softmax of a list": lambda: sl.softmax(X.tolist()),
    "softmax of float16": lambda: sl.softmax(X.astype(np.float16)),
    "softmax of an infinite row": lambda: sl.softmax(BAD_ROW),
    "softmax with where": lambda: sl.softmax(X, where=X > 0),
    "softmax at T = 2": lambda: sl.softmax(X, temperature=2.0),
    "log_softmax": lambda: sl.log_softmax(X),
    "log_softmax of float16": lambda: sl.log_softmax(X.astype(np.float16), axis=0),
    "log_softmax of an infinite row": lambda: sl.log_softmax(BAD_ROW),
    "logsumexp": lambda: sl.logsumexp(X),
    "logsumexp with where": lambda: sl.logsumexp(X, where=X > 0),
    "logsumexp of an infinite row": lambda: sl.logsumexp(BAD_ROW),
    "cross_entropy": lambda: sl.cross_entropy(X, LABELS),
    "cross_entropy of a NaN row": lambda: sl.cross_entropy(BAD_ROW * np.nan, [*LABELS, 0]),
    "cross_entropy with weights": lambda: sl.cross_entropy(X, LABELS, weight=np.ones(5)),
    "cross_entropy of probabilities": lambda: sl.cross_entropy(X, np.full(X.shape, 0.2)),
}


@pytest.mark.parametrize("path", ["fused", "numpy"])
@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_issue32_each_function_checks_its_input_once(checks_made, call, path):
    # Regression: the public functions checked their input on the way to the kernels and
    # again on the NumPy path: softmax of float16, or of a row the kernels leave to NumPy,
    # prepared `x` twice; cross_entropy prepared `logits` three or four times and checked
    # its target and reduction twice. Now each is checked once, then sent to either path.
    if path == "numpy":
        with kernels.numpy_path():
            call()
    else:
        call()
    assert checks_made  # the spies saw the calls
    assert max(checks_made.values()) == 1, dict(checks_made)


def test_the_spies_see_every_check_of_a_call(checks_made):
    sl.cross_entropy(X.tolist(), LABELS)
    assert checks_made == {
        ("prepare", "logits"): 1,
        ("as_real_float_array", "logits"): 1,
        ("as_rectangular_array", "logits"): 1,
        ("as_rectangular_array", "target"): 1,
        ("check_choice", "reduction"): 1,
        ("check_target_kind", ""): 1,
        ("check_class_indices", ""): 1,
        ("check_weight", ""): 1,
    }
