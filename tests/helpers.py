"""Helpers shared by the tests (test files import from here, never from conftest).

The mpmath oracles, the skip-or-fail rule for missing prerequisites (and for missing
frameworks, the oracles of tests/lib/test_against_*.py), Chromium, and the built site served.
"""

import ast
import builtins
import contextlib
import functools
import http.server
import importlib
import os
import shutil
import threading
from pathlib import Path

import mpmath
import numpy as np
import pytest

CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")


def unavailable(reason: str, *, whole_module: bool = False) -> None:
    """Skip a test whose prerequisite is missing, loudly; under CI, fail instead of skipping.

    With `whole_module`, called while a test module is imported, the skip covers the module;
    the failure under CI is then an error collecting it, which stops the run.
    """
    __tracebackhide__ = True  # report the caller's line
    if os.environ.get("CI"):
        pytest.fail(f"cannot run in CI: {reason}")
    pytest.skip(f"SKIPPED, NOT PASSED: {reason}", allow_module_level=whole_module)


def framework(name: str):
    """Import and return the framework `name` that a test module uses as its oracle.

    Call it at the top of the module (``torch = framework("torch")``). If the framework is not
    installed, the whole module is skipped with a loud reason, or fails under CI (the rule of
    `unavailable`). A framework that is installed but fails to import (a module it needs is
    missing, or any other error) is an error, not a skip.
    """
    __tracebackhide__ = True  # report the line of the test module that needs the framework
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        # error.name is the module not found: `name` itself or a package above it, not one of
        # the framework's own dependencies.
        if error.name is None or not (name == error.name or name.startswith(error.name + ".")):
            raise
        unavailable(
            f"{name} is not installed, so its oracle tests did not run "
            "(it is pinned in requirements.txt)",
            whole_module=True,
        )


def launch_chromium(playwright):
    """Launch Debian's Chromium through Playwright (no browser download), or skip or fail."""
    if not Path(CHROMIUM).exists():
        unavailable(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])


def mp_lse_naive(row, dps=400):
    """log(sum(exp(row))) straight from the definition, in enough digits to need no tricks.

    This is the independent oracle: no shift, no log1p, only a huge working precision.
    Valid for finite rows with spreads well below 10**dps.
    """
    with mpmath.workdps(dps):
        return mpmath.log(mpmath.fsum(mpmath.exp(mpmath.mpf(float(v))) for v in row))


def mp_softmax_naive(row, dps=400):
    """Softmax of a finite row from the definition, in `dps` digits (independent oracle)."""
    with mpmath.workdps(dps):
        e = [mpmath.exp(mpmath.mpf(float(v))) for v in row]
        s = mpmath.fsum(e)
        return [ei / s for ei in e]


def _exact(v):
    num, den = v.as_integer_ratio()  # exact for every float format, long double included
    return mpmath.mpf(num) / den


def mp_signed_lse_naive(a, b, dps=400):
    """(log|sum(b exp(a))|, sign of the sum) from the definition, in `dps` digits.

    Inputs are read exactly; a zero weight drops its term (SciPy's rule). For finite rows
    whose sum does not cancel to below 10**-(dps - 50) of its largest term.
    """
    with mpmath.workdps(dps):
        s = mpmath.fsum(
            _exact(bi) * mpmath.exp(_exact(ai)) for ai, bi in zip(a, b, strict=True) if bi != 0
        )
        if s == 0:
            return mpmath.ninf, 0.0
        return mpmath.log(abs(s)), float(mpmath.sign(s))


# Inputs shared by a library test and the oracle test of the same function.


def masked_rows():
    """Logits and a `where` mask with a fully masked row, an unmasked one and a single entry.

    (tests/lib/test_where.py and its JAX oracle in test_against_jax.py.)
    """
    rng = np.random.default_rng(5)
    x = rng.normal(0, 30, (6, 9))
    mask = rng.random((6, 9)) < 0.6
    mask[0] = False  # a fully masked row
    mask[1] = True  # nothing masked
    mask[2, :] = False
    mask[2, 4] = True  # one entry left
    return x, mask


# logsumexp(a, b=b, return_sign=True) on special values (test_weighted_logsumexp.py, and
# JAX's in test_against_jax.py).
SIGNED_LSE_SPECIAL_VALUES = [
    # (a, b, our value, our sign): the formula in the extended reals
    ([np.inf, 1.0], [1.0, 1.0], np.inf, 1.0),
    ([np.inf, 1.0], [-1.0, 1.0], np.inf, -1.0),
    ([np.inf, np.inf], [1.0, -1.0], np.nan, np.nan),  # inf - inf
    ([np.nan, 1.0], [1.0, 1.0], np.nan, np.nan),
    ([1.0, 2.0], [np.nan, 1.0], np.nan, np.nan),
    ([-np.inf, 1.0], [np.inf, 1.0], np.nan, np.nan),  # inf * exp(-inf) = inf * 0
    ([-np.inf, -np.inf], [1.0, 1.0], -np.inf, 0.0),  # an empty sum
    ([5.0, 1.0], [0.0, 0.0], -np.inf, 0.0),
]


def digits_sample():
    """400 of scikit-learn's digits, with features scaled to [0, 1].

    (tests/lib/test_classifier.py and the PyTorch oracle of the fit in test_against_torch.py.)
    """
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    rng = np.random.default_rng(0)
    keep = rng.permutation(len(y))[:400]
    return X[keep] / 16.0, y[keep]


# The samplers' oracle and test (tests/lib/test_sampling.py and test_relatives.py).


def exact_softmax(row, temperature=1.0, keep=None):
    """softmax(row / T) over the tokens in `keep`, from the definition in 50 digits.

    p_k = 1 / sum_j exp((z_j - z_k) / T) over the kept j, each float read exactly; a token
    not kept, or of logit -inf, has probability 0. Nothing comes from the library.
    """
    keep = [True] * len(row) if keep is None else keep
    with mpmath.workdps(50):
        z = [mpmath.mpf(float(v)) if k else -mpmath.inf for v, k in zip(row, keep, strict=True)]
        t = mpmath.mpf(temperature)
        return np.array(
            [
                0.0
                if zk == -mpmath.inf
                else float(1 / mpmath.fsum(mpmath.exp((zj - zk) / t) for zj in z))
                for zk in z
            ]
        )


def assert_draws_follow(draws, probs, alpha=1e-3):
    """Chi-square goodness of fit of class indices `draws` to `probs`, at the level `alpha`.

    A class whose expected count is below 1e-6 in all must never be drawn (a correct sampler
    fails that less than once in a million); every other class is a cell of the test.
    """
    n = draws.size
    counts = np.bincount(draws.ravel(), minlength=probs.size)
    expected = n * probs
    never = expected < 1e-6
    assert counts[never].sum() == 0, (counts, probs)
    cells = ~never
    assert expected[cells].min() >= 5  # the chi-square approximation holds: a test design check
    if cells.sum() == 1:
        return
    import scipy.stats  # here, so that helpers imports without SciPy (framework("scipy"))

    test = scipy.stats.chisquare(counts[cells], expected[cells] * n / expected[cells].sum())
    assert test.pvalue > alpha, (counts / n, probs)


def cell_names(source):
    """Names a cell defines and names it reads (over-approximate definitions: any binding)."""
    code = "\n".join(
        "pass" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()
    )
    tree = ast.parse(code)
    defined, used = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (defined if isinstance(node.ctx, ast.Store) else used).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            defined.add(node.name)
            defined.update(a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg))
        elif isinstance(node, ast.ClassDef):  # no arguments; its methods are walked above
            defined.add(node.name)
        elif isinstance(node, ast.Lambda):
            defined.update(a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            defined.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            defined.add(node.name)
    return defined, used - set(dir(builtins))


SITE = Path(__file__).resolve().parents[1] / "_build" / "html"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files without logging each request."""

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve_site(handler=QuietHandler, site: Path = SITE):
    """Serve the built site on 127.0.0.1 with `handler`; yield its base URL."""
    if not (site / "index.html").exists():
        unavailable(f"no built site in {site} (run make book)")
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(site))
    )
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
