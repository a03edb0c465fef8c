"""Speed report: softmax_lib against SciPy, PyTorch, JAX and TensorFlow, timed interleaved.

Run:  .venv/bin/python bench/speed.py            (a few minutes)

The single-threaded implementations are timed interleaved (each repetition times each once,
in an order drawn afresh, since what ran just before changes the caches), so machine noise
hits all alike. The two on all cores are timed in runs of their
own, since PyTorch's threads keep spinning after a call and slow whatever runs next, and
so is SciPy, which they are compared with ("/scipy" and "/torch": runs; "1t": interleaved).
Name functions to time only those: `bench/speed.py softmax log_softmax`.
softmax_lib runs its fused kernels (numba) on its default number of threads (every core;
large inputs only) and, in the "1t" columns, on one thread (SOFTMAX_LIB_THREADS=1); "np" is
softmax_lib with the kernels switched off (SOFTMAX_LIB_NUMBA=0). SciPy is single-threaded;
PyTorch runs on all cores ("/torch") and on one ("/torch1"); JAX and TensorFlow on one.
For each function, shape and dtype the table shows softmax_lib's median time, the ratios of
medians named in the heading (below 1 means softmax_lib is faster), its time as a multiple
of the memory-bandwidth bound (input read and output written once, at the measured copy
bandwidth), and its peak extra memory as a multiple of the input size (tracemalloc).
cross_entropy is per example with class labels; SciPy's is its log_softmax and a pick.
The last sections: log-sum-exp of log-probabilities, and the kernels' first-call cost.
"""

import os
import time
import tracemalloc

import numpy as np
from frameworks import available

from softmax_lib.kernels import threads

SHAPES = [(64, 1000), (4096, 1000), (8, 50257), (1, 1_000_000), (256, 32)]
FUNCTIONS = ("softmax", "log_softmax", "logsumexp", "cross_entropy")
# Timed in consecutive runs rather than interleaved: PyTorch's OpenMP threads spin for a
# while after each call and would slow whichever multithreaded call came next.
ALL_THREADS = ("softmax_lib", "torch all threads")


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


COLUMNS = [  # (heading, numerator, denominator): ratios of median times
    ("/scipy", "softmax_lib (run)", "scipy (run)"),
    ("/torch", "softmax_lib (run)", "torch all threads (run)"),
    ("1t /scipy", "softmax_lib 1 thread", "scipy"),
    ("1t /torch1", "softmax_lib 1 thread", "torch"),
    ("1t /jax1", "softmax_lib 1 thread", "jax"),
    ("1t /tf1", "softmax_lib 1 thread", "tensorflow"),
    ("np /scipy", "numpy path", "scipy"),
]


def main(repeats=11, functions=FUNCTIONS):
    frameworks = available(threads=True)
    bandwidth = copy_bandwidth()
    print(f"copy bandwidth: {bandwidth / 1e9:.1f} GB/s (read + write)")
    print(f"softmax_lib threads by default: {threads()}\n")
    print(
        f"{'function':13} {'shape':>14} {'dtype':8} {'ours ms':>8} "
        + " ".join(f"{c[0]:>10}" for c in COLUMNS)
        + f" {'x bw bound':>10} {'mem x in':>8}"
    )
    rng = np.random.default_rng(0)
    order = np.random.default_rng(1)
    for name in functions:
        for shape in SHAPES:
            for dtype in (np.float32, np.float64):
                x = rng.normal(scale=10, size=shape).astype(dtype)
                target = rng.integers(0, shape[-1], size=shape[:-1])
                handles = {fw: prep(x) for fw, (prep, _) in frameworks.items()}
                runs = {fw: fns[name] for fw, (_, fns) in frameworks.items() if name in fns}
                for fw, run in runs.items():  # warm up (JIT compilation, caches)
                    run(handles[fw], target)
                alone = [fw for fw in runs if fw not in ALL_THREADS]
                times = {fw: [] for fw in alone}
                for _ in range(repeats):  # the one-thread runs interleaved, in a new order
                    for fw in order.permutation(alone):  # each time: no one always runs first
                        run = runs[fw]
                        times[fw].append(_timed(lambda: run(handles[fw], target)))  # noqa: B023
                for fw in [*ALL_THREADS, "scipy"]:  # in runs of their own: see ALL_THREADS
                    if fw in runs:
                        run = runs[fw]
                        times[fw + " (run)"] = [
                            _timed(lambda: run(handles[fw], target))  # noqa: B023
                            for _ in range(repeats)
                        ]
                med = {fw: float(np.median(v)) for fw, v in times.items()}
                ours = med["softmax_lib (run)"]
                out_bytes = (
                    x.nbytes // shape[-1] if name in ("logsumexp", "cross_entropy") else x.nbytes
                )
                bound = (x.nbytes + out_bytes) / bandwidth
                ours_fn = runs["softmax_lib"]
                extra = peak_extra_memory(lambda: ours_fn(x, target)) / x.nbytes  # noqa: B023
                ratios = " ".join(
                    f"{med[a] / med[b]:>10.2f}" if a in med and b in med else f"{'-':>10}"
                    for _, a, b in COLUMNS
                )
                print(
                    f"{name:13} {shape!s:>14} {dtype.__name__:8} {ours * 1e3:>8.2f} {ratios}"
                    f" {ours / bound:>10.1f} {extra:>8.1f}"
                )


def near_zero(repeats=5, shape=(100, 1000)):
    """Log-sum-exp of log-probabilities: every row's result is 0 up to rounding.

    Such rows (mixtures, HMMs, beam search) cancel in ``m + log(s)``; softmax_lib recomputes
    them with a kernel of their own (``softmax_lib._cancel``: the large terms to about
    2**-128, each row certified by an error bound), SciPy does not. Times are interleaved
    medians.
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
    cliff = med["softmax_lib(log-probs)"] / med["softmax_lib(logits)"]
    print(
        f"  softmax_lib / scipy on log-probs: {ratio:.1f}x time; worst error "
        f"{ours:.2f} ULP (softmax_lib) vs {scipy_err:.3g} ULP (scipy)\n"
        f"  softmax_lib on log-probs / on logits: {cliff:.1f}x time (issue 32 asks at most 3x)"
    )


def first_call():
    """What the fused kernels cost before their first result, each in a fresh process."""
    import subprocess
    import sys

    code = "from softmax_lib.kernels import warm; print(warm())"
    print("\nfirst call of the fused kernels (all nine, float32 and float64):")
    for label, env in (
        ("compiled (no cache)", {"SOFTMAX_LIB_NUMBA_CACHE": "0"}),
        ("from the cache", {}),
    ):
        out = subprocess.run(
            [sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True, text=True
        )
        print(f"  {label:22} {float(out.stdout):6.2f} s")


if __name__ == "__main__":
    import sys

    chosen = tuple(sys.argv[1:]) or FUNCTIONS  # e.g. `speed.py softmax`: that table only
    main(functions=chosen)
    if chosen == FUNCTIONS:
        near_zero()
        first_call()
