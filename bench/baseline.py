"""softmax_lib against an earlier revision of itself and SciPy: one thread, interleaved.

Run:  taskset -c 1 .venv/bin/python bench/baseline.py REV [function ...]   (REV: e.g. main)

The revision's softmax_lib (``git archive REV softmax_lib``) is unpacked into a temporary
directory as the package ``softmax_lib_baseline`` (its imports of itself renamed), so that
both versions run in one process. Each case times the baseline, the working tree's
softmax_lib and SciPy once per round, in an order drawn afresh, both versions on one thread
(their ``on_threads(1)`` blocks); the table shows the medians of the per-round ratios, so
machine noise hits all three alike. This is how a change to the kernels is measured: against
the code before it, in the same run, never against a number from an earlier one. The
baseline's kernels are compiled on first use (their numba cache lives in the temporary
directory), which takes a minute.
"""

import contextlib
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.special as sp

import softmax_lib as sl
from softmax_lib.kernels import on_threads

SHAPES = [(64, 1000), (4096, 1000), (8, 50257), (1, 1_000_000), (256, 32)]
FUNCTIONS = ("softmax", "log_softmax", "logsumexp", "cross_entropy")


def baseline(revision: str, directory: Path):
    """Import softmax_lib as of `revision`, renamed softmax_lib_baseline, from `directory`."""
    root = Path(__file__).resolve().parent.parent
    archive = subprocess.run(
        ["git", "archive", revision, "softmax_lib"], cwd=root, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(directory)], input=archive, check=True)
    package = directory / "softmax_lib_baseline"
    (directory / "softmax_lib").rename(package)
    for path in package.rglob("*.py"):
        path.write_text(re.sub(r"\bsoftmax_lib\b", "softmax_lib_baseline", path.read_text()))
    sys.path.insert(0, str(directory))
    import softmax_lib_baseline

    return softmax_lib_baseline


def calls(lib, name, x, target):
    if name == "cross_entropy":
        return lambda: lib.cross_entropy(x, target, reduction="none")
    return lambda: getattr(lib, name)(x)


def scipy_call(name, x, target):
    if name == "cross_entropy":  # SciPy has none: its log_softmax, then the target's entry
        return lambda: -np.take_along_axis(sp.log_softmax(x, axis=-1), target[:, None], -1)
    if name == "logsumexp":
        return lambda: sp.logsumexp(x, axis=-1)
    return lambda: getattr(sp, name)(x, axis=-1)


def main(revision: str, functions=FUNCTIONS, repeats=31):
    with tempfile.TemporaryDirectory() as directory:
        base = baseline(revision, Path(directory))
        try:
            base_threads = base.kernels.on_threads
        except AttributeError:  # a revision before softmax_lib.kernels: its default threads
            base_threads = lambda count: contextlib.nullcontext()  # noqa: E731
        print(f"baseline: {revision}; ratios are medians of per-round ratios, one thread")
        print(
            f"{'function':13} {'shape':>14} {'dtype':8} {'base /scipy':>11} "
            f"{'now /scipy':>10} {'now /base':>9}"
        )
        rng, order = np.random.default_rng(0), np.random.default_rng(1)
        for name in functions:
            for shape in SHAPES:
                for dtype in (np.float32, np.float64):
                    x = rng.normal(scale=10, size=shape).astype(dtype)
                    target = rng.integers(0, shape[-1], size=shape[:-1])
                    runs = {
                        "base": calls(base, name, x, target),
                        "now": calls(sl, name, x, target),
                        "scipy": scipy_call(name, x, target),
                    }
                    times = {label: [] for label in runs}
                    with on_threads(1), base_threads(1):
                        for run in runs.values():  # warm up (compilation, caches)
                            run()
                        for _ in range(repeats):
                            for label in order.permutation(list(runs)):
                                t0 = time.perf_counter()
                                runs[label]()
                                times[label].append(time.perf_counter() - t0)
                    t = {label: np.array(v) for label, v in times.items()}
                    print(
                        f"{name:13} {shape!s:>14} {dtype.__name__:8} "
                        f"{np.median(t['base'] / t['scipy']):>11.2f} "
                        f"{np.median(t['now'] / t['scipy']):>10.2f} "
                        f"{np.median(t['now'] / t['base']):>9.2f}",
                        flush=True,
                    )


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1], tuple(sys.argv[2:]) or FUNCTIONS)
