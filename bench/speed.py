"""Speed report: softmax_lib against SciPy and PyTorch, timed interleaved in one run.

Run:  .venv/bin/python bench/speed.py
Each repetition times every implementation once, in turn, so machine noise hits all alike;
the table shows the median time of softmax_lib and its ratio to each other library.
"""

import time

import numpy as np
import scipy.special as sp
import torch

import softmax_lib as sl

torch.set_num_threads(1)
SHAPES = [(64, 1000), (4096, 1000), (8, 50257), (1, 1_000_000), (256, 32)]


def impls(name):
    def torch_run(x):
        t = torch.from_numpy(x)
        return (
            torch.logsumexp(t, -1) if name == "logsumexp" else getattr(torch, name)(t, -1)
        ).numpy()

    return {
        "softmax_lib": lambda x: getattr(sl, name)(x, axis=-1),
        "scipy": lambda x: getattr(sp, name)(x, axis=-1),
        "torch": torch_run,
    }


def main(repeats=15):
    print(
        f"{'function':12} {'shape':>14} {'dtype':8} {'ours (ms)':>10} {'/scipy':>8} {'/torch':>8}"
    )
    rng = np.random.default_rng(0)
    for name in ("softmax", "log_softmax", "logsumexp"):
        for shape in SHAPES:
            for dtype in (np.float32, np.float64):
                x = rng.normal(scale=10, size=shape).astype(dtype)
                runs = impls(name)
                times = {k: [] for k in runs}
                for _ in range(repeats):
                    for k, fn in runs.items():
                        t0 = time.perf_counter()
                        fn(x)
                        times[k].append(time.perf_counter() - t0)
                med = {k: float(np.median(v)) for k, v in times.items()}
                ours = med["softmax_lib"]
                print(
                    f"{name:12} {shape!s:>14} {dtype.__name__:8} {ours * 1e3:>10.2f}"
                    f" {ours / med['scipy']:>8.2f} {ours / med['torch']:>8.2f}"
                )


if __name__ == "__main__":
    main()
