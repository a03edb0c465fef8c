"""Accuracy report: worst error in ULPs against the mpmath reference, per input class.

Run:  .venv/bin/python bench/accuracy.py
Prints, for each dtype and input class, the worst ULP error of softmax_lib, SciPy and PyTorch
(float64/float32/float16 where each supports it) on the same rows.
"""

import sys
from pathlib import Path

import numpy as np
import scipy.special as sp

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from accuracy_cases import cases

import softmax_lib as sl
from softmax_lib import stability as st

try:
    import torch
except ImportError:  # pragma: no cover - torch is pinned in requirements.txt
    torch = None


def torch_fn(name):
    def run(x, axis=-1):
        t = torch.from_numpy(np.ascontiguousarray(x))
        if name == "logsumexp":
            return torch.logsumexp(t, dim=axis).numpy()
        return getattr(torch, name)(t, dim=axis).numpy()

    return run


FUNCTIONS = {
    "softmax": (sl.softmax, sp.softmax, st.reference_softmax),
    "log_softmax": (sl.log_softmax, sp.log_softmax, st.reference_log_softmax),
    "logsumexp": (sl.logsumexp, sp.logsumexp, st.reference_logsumexp),
}


def main():
    header = f"{'dtype':8} {'function':12} {'input class':20} {'softmax_lib':>12} {'scipy':>10}"
    print(header + (f" {'torch':>10}" if torch else ""))
    worst = {}
    for dtype in (np.float64, np.float32, np.float16):
        for name, (ours, scipy_fn, reference) in FUNCTIONS.items():
            for label, x in cases(dtype).items():
                exact = reference(x)
                with np.errstate(all="ignore"):
                    errs = [st.ulp_error(ours(x), exact).max()]
                    errs.append(
                        st.ulp_error(np.asarray(scipy_fn(x, axis=-1)).astype(dtype), exact).max()
                    )
                    if torch:
                        errs.append(st.ulp_error(torch_fn(name)(x).astype(dtype), exact).max())
                key = (dtype.__name__, name)
                worst[key] = [max(a, b) for a, b in zip(worst.get(key, errs), errs, strict=True)]
                cells = " ".join(f"{e:>10.3g}" for e in errs[1:])
                print(f"{dtype.__name__:8} {name:12} {label:20} {errs[0]:>12.3g} {cells}")
    print("\nWorst case over all classes (ULPs):")
    for (dt, name), errs in worst.items():
        print(f"{dt:8} {name:12} " + " ".join(f"{e:>12.3g}" for e in errs))


if __name__ == "__main__":
    main()
