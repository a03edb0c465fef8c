"""Speed report: softmax_lib against SciPy, PyTorch, JAX and TensorFlow, timed interleaved.

Run:  .venv/bin/python bench/speed.py            (a few minutes; single-threaded everywhere)

Each repetition times every implementation once, in turn, so machine noise hits all alike.
softmax_lib runs its fused kernels (numba); the "numpy path" column is softmax_lib with them
switched off (SOFTMAX_LIB_NUMBA=0). The last section is the kernels' first-call cost.
For each function, shape and dtype the table shows softmax_lib's median time, its ratio to
each other library's median (below 1 means softmax_lib is faster), its time as a multiple of
the memory-bandwidth bound (input read and output written once, at the measured copy
bandwidth), and its peak extra memory as a multiple of the input size (tracemalloc).
"""

import os
import time
import tracemalloc

import numpy as np
from frameworks import available

SHAPES = [(64, 1000), (4096, 1000), (8, 50257), (1, 1_000_000), (256, 32)]
FUNCTIONS = ("softmax", "log_softmax", "logsumexp")


def copy_bandwidth(nbytes=256 * 2**20, repeats=5):
    """Bytes per second moved by np.copyto (one read and one write per byte copied)."""
    src = np.ones(nbytes // 8)
    dst = np.empty_like(src)
    best = min(_timed(lambda: np.copyto(dst, src)) for _ in range(repeats))
    return 2 * nbytes / best


def _timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def peak_extra_memory(fn):
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def main(repeats=11):
    frameworks = available()
    others = [name for name in frameworks if name != "softmax_lib"]
    bandwidth = copy_bandwidth()
    print(f"copy bandwidth: {bandwidth / 1e9:.1f} GB/s (read + write)\n")
    print(
        f"{'function':12} {'shape':>14} {'dtype':8} {'ours ms':>9} "
        + " ".join(f"{'/' + o:>11}" for o in others)
        + f" {'x bw bound':>10} {'mem x in':>9}"
    )
    rng = np.random.default_rng(0)
    for name in FUNCTIONS:
        for shape in SHAPES:
            for dtype in (np.float32, np.float64):
                x = rng.normal(scale=10, size=shape).astype(dtype)
                target = np.zeros(shape[:-1], dtype=np.int64)
                handles = {fw: prep(x) for fw, (prep, _) in frameworks.items()}
                runs = {fw: fns[name] for fw, (_, fns) in frameworks.items() if name in fns}
                for fw, run in runs.items():  # warm up (JIT compilation, caches)
                    run(handles[fw], target)
                times = {fw: [] for fw in runs}
                for _ in range(repeats):
                    for fw, run in runs.items():
                        times[fw].append(_timed(lambda: run(handles[fw], target)))  # noqa: B023
                med = {fw: float(np.median(v)) for fw, v in times.items()}
                ours = med["softmax_lib"]
                out_bytes = x.nbytes if name != "logsumexp" else x.nbytes // shape[-1]
                bound = (x.nbytes + out_bytes) / bandwidth
                ours_fn = runs["softmax_lib"]
                extra = peak_extra_memory(lambda: ours_fn(x, target)) / x.nbytes  # noqa: B023
                ratios = " ".join(
                    f"{ours / med[o]:>11.2f}" if o in med else f"{'-':>11}" for o in others
                )
                print(
                    f"{name:12} {shape!s:>14} {dtype.__name__:8} {ours * 1e3:>9.2f} {ratios}"
                    f" {ours / bound:>10.1f} {extra:>9.1f}"
                )


def near_zero(repeats=5, shape=(100, 1000)):
    """Log-sum-exp of log-probabilities: every row's result is 0 up to rounding.

    Such rows (mixtures, HMMs, beam search) cancel in ``m + log(s)``; softmax_lib recomputes
    them in double-double arithmetic, SciPy does not. Times are interleaved medians.
    """
    import scipy.special

    import softmax_lib as sl
    from softmax_lib import stability as st

    rng = np.random.default_rng(0)
    z = rng.normal(size=shape)
    lp = sl.log_softmax(z)
    runs = {
        "softmax_lib(log-probs)": lambda: sl.logsumexp(lp),
        "scipy(log-probs)": lambda: scipy.special.logsumexp(lp, axis=-1),
        "softmax_lib(logits)": lambda: sl.logsumexp(z),
    }
    times = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            times[name].append(_timed(run))
    med = {name: float(np.median(v)) for name, v in times.items()}
    exact = st.reference_logsumexp(lp[:20])
    ours = st.ulp_error(sl.logsumexp(lp[:20]), exact).max()
    scipy_err = st.ulp_error(scipy.special.logsumexp(lp[:20], axis=-1), exact).max()
    print(f"\nlog-sum-exp of log-probabilities, shape {shape}, float64:")
    for name, t in med.items():
        print(f"  {name:24} {t * 1e3:9.2f} ms")
    ratio = med["softmax_lib(log-probs)"] / med["scipy(log-probs)"]
    print(
        f"  softmax_lib / scipy on log-probs: {ratio:.1f}x time; worst error "
        f"{ours:.2f} ULP (softmax_lib) vs {scipy_err:.3g} ULP (scipy)"
    )


def first_call():
    """What the fused kernels cost before their first result, each in a fresh process."""
    import subprocess
    import sys

    code = "from softmax_lib._dispatch import warm; print(warm())"
    print("\nfirst call of the fused kernels (six: three functions, float32 and float64):")
    for label, env in (
        ("compiled (no cache)", {"SOFTMAX_LIB_NUMBA_CACHE": "0"}),
        ("from the cache", {}),
    ):
        out = subprocess.run(
            [sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True, text=True
        )
        print(f"  {label:22} {float(out.stdout):6.2f} s")


if __name__ == "__main__":
    main()
    near_zero()
    first_call()
