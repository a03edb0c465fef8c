"""Accuracy report: worst error in ULPs against the mpmath reference, per input class.

Run:  .venv/bin/python bench/accuracy.py          (about a minute: includes 100,000-long rows)
Prints, for each dtype, function and input class, the worst ULP error of softmax_lib, SciPy,
PyTorch, JAX and TensorFlow on the same rows ("-" where a library has no such function).
cross_entropy is the per-example loss of the least likely class of each row.
"""

import numpy as np
from frameworks import FUNCTIONS, available

from softmax_lib import stability as st
from softmax_lib.stability.cases import cases


def reference(name, x, target):
    if name == "softmax":
        return st.reference_softmax(x)
    if name == "log_softmax":
        return st.reference_log_softmax(x)
    if name == "logsumexp":
        return st.reference_logsumexp(x)
    lp = st.reference_log_softmax(x)
    return -np.take_along_axis(lp, target[:, None], axis=-1)[:, 0]


def main():
    frameworks = available()
    names = list(frameworks)
    print(f"{'dtype':8} {'function':14} {'input class':22} " + " ".join(f"{n:>12}" for n in names))
    worst = {}
    for dtype in (np.float64, np.float32, np.float16):
        for label, x in cases(dtype, long_rows=True).items():
            target = np.argmin(x, axis=-1)
            for name in FUNCTIONS:
                exact = reference(name, x, target)
                errs = []
                for fw in names:
                    prepare, runs = frameworks[fw]
                    if name not in runs:
                        errs.append(None)
                        continue
                    try:
                        with np.errstate(all="ignore"):
                            got = np.asarray(runs[name](prepare(x), target)).astype(dtype)
                            errs.append(float(st.ulp_error(got, exact).max()))
                    except Exception:  # a framework that rejects a dtype (float16 in some ops)
                        errs.append(None)
                key = (dtype.__name__, name)
                prev = worst.get(key, [None] * len(errs))
                worst[key] = [
                    e if p is None else (p if e is None else max(p, e))
                    for p, e in zip(prev, errs, strict=True)
                ]
                cells = " ".join("           -" if e is None else f"{e:>12.3g}" for e in errs)
                print(f"{dtype.__name__:8} {name:14} {label:22} {cells}")
    print("\nWorst case over all input classes (ULPs):")
    print(f"{'dtype':8} {'function':14} " + " ".join(f"{n:>12}" for n in names))
    for (dt, name), errs in worst.items():
        cells = " ".join("           -" if e is None else f"{e:>12.3g}" for e in errs)
        print(f"{dt:8} {name:14} {cells}")


if __name__ == "__main__":
    main()
