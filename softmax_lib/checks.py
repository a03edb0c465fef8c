r"""Self-checks for your own softmax, log-softmax and log-sum-exp.

Write an implementation in a notebook, then run, for example::

    from softmax_lib.checks import check_softmax
    check_softmax(my_softmax)

Each check calls your function on ordinary, adversarial and badly shaped input (overflow,
underflow, ties, float32, a batch of rows) and prints what went wrong and why, with a hint,
but never the expected numbers: the point is that you find the fix. The returned
:class:`CheckReport` has ``passed`` and ``score`` for grading.

Your function is called as ``fn(x)`` with a NumPy array and must work along the last axis.

``strict=True`` adds what a graded exercise asks for as well: the function is written with
NumPy alone (it calls no softmax from a library, this one included), and it rejects complex
input with a ``TypeError`` or ``ValueError`` instead of returning complex numbers. Graders
call :meth:`CheckReport.require` with the names of the checks a test cell awards points for.
"""

from __future__ import annotations

import builtins
import dis
import textwrap
import types
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from softmax_lib.core import log_softmax, logsumexp, softmax

__all__ = [
    "CheckReport",
    "CheckResult",
    "check_log_softmax",
    "check_logsumexp",
    "check_softmax",
    "library_calls",
]

# Packages whose functions a from-scratch implementation may not call.
LIBRARIES = ("softmax_lib", "scipy", "torch", "tensorflow", "keras", "jax", "sklearn", "optax")


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: its name, whether it passed, and feedback if it did not."""

    name: str
    passed: bool
    feedback: str = ""


@dataclass
class CheckReport:
    """All checks of one function. ``print(report)`` gives the feedback."""

    function: str
    results: list[CheckResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when every check passed."""
        return all(r.passed for r in self.results)

    @property
    def score(self) -> float:
        """The fraction of checks passed, in [0, 1]."""
        return sum(r.passed for r in self.results) / len(self.results) if self.results else 0.0

    def require(self, *names: str) -> None:
        """Raise ``AssertionError`` with the feedback of each named check that failed.

        A grader awards a test cell's points for the checks it names; the message tells the
        student what went wrong, never the expected output.

        Raises
        ------
        AssertionError
            If any of the named checks failed.
        ValueError
            If a name is not one of this report's checks.
        """
        known = {r.name: r for r in self.results}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ValueError(
                f"`names` must be checks of this report ({', '.join(map(repr, known))}); "
                f"got {unknown[0]!r}."
            )
        failed = [known[n] for n in names if not known[n].passed]
        if failed:
            raise AssertionError(
                "\n"
                + "\n".join(
                    textwrap.fill(f"[{r.name}] {r.feedback}", 88, subsequent_indent="    ")
                    for r in failed
                )
            )

    def __str__(self) -> str:
        lines = [f"Checking your {self.function}:"]
        for r in self.results:
            mark = "PASS" if r.passed else "FAIL"
            lines.append(f"  [{mark}] {r.name}" + ("" if r.passed else f"\n         {r.feedback}"))
        n_ok = sum(r.passed for r in self.results)
        lines.append(f"{n_ok} of {len(self.results)} checks passed.")
        if self.passed:
            lines.append("Well done: your implementation handles every case we tried.")
        return "\n".join(lines)


def _show(x: np.ndarray) -> str:
    """Render an input briefly (inputs may be shown; expected outputs never are)."""
    if x.ndim == 1 and x.size <= 4:
        return "[" + ", ".join(f"{v:g}" for v in x.tolist()) + "]"
    return f"an array of shape {x.shape} and dtype {x.dtype}"


class _Checker:
    def __init__(self, fn: Callable, name: str):
        if not callable(fn):
            raise TypeError(f"`fn` must be a function; got {fn!r}.")
        self.fn, self.name = fn, name
        self.report = CheckReport(name)

    def call(self, x: np.ndarray):
        """Return (output as an array, None) or (None, feedback if the call raised)."""
        try:
            out = self.fn(x.copy())
        except Exception as error:  # any error is feedback for the student
            return None, (f"your {self.name} raised {type(error).__name__} for {_show(x)}: {error}")
        return _as_result(out, self.name, x)

    def record(self, name: str, feedback: str | None) -> None:
        self.report.results.append(CheckResult(name, feedback is None, feedback or ""))


def _as_result(out: object, name: str, x: np.ndarray):
    """Return (out as a real array, None), or (None, feedback) for what is not one."""
    if out is None:
        return None, (
            f"your {name} returned None for {_show(x)}: did you forget the `return` statement?"
        )
    try:
        arr = np.asarray(out)
    except Exception:  # ragged lists and other things NumPy cannot hold
        arr = None
    if (
        arr is None
        or arr.dtype == object
        or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool)
    ):
        return None, (
            f"your {name} returned a {type(out).__name__} for {_show(x)}; "
            "it must return a NumPy array of numbers."
        )
    if np.iscomplexobj(arr):
        return None, f"your {name} returned complex numbers for {_show(x)}; use real arithmetic."
    return arr, None


def _nonfinite_feedback(name: str, x: np.ndarray, out: np.ndarray, why: str) -> str | None:
    if np.all(np.isfinite(out)):
        return None
    if np.isnan(out).any():
        bad = "nan"
    else:
        bad = "-inf" if np.all(np.isneginf(out[~np.isfinite(out)])) else "inf"
    return f"your {name} returns {bad} for {_show(x)}: {why}"


def _close(out: np.ndarray, ref: np.ndarray, rtol: float, atol: float) -> bool:
    return out.shape == ref.shape and bool(np.allclose(out, ref, rtol=rtol, atol=atol))


def _common_checks(
    c: _Checker, reference: Callable, *, reduces: bool, overflow_why: str, underflow_why: str
) -> None:
    """Run the checks shared by the three functions (the reference is never shown)."""
    ordinary = np.array([1.0, 2.0, 3.0])
    out, err = c.call(ordinary)
    if err is None:
        ref = reference(ordinary)
        if out.shape != ref.shape:
            err = (
                f"your {c.name} returns shape {out.shape} for input of shape {ordinary.shape}; "
                f"expected shape {ref.shape}."
            )
        elif not _close(out, ref, 1e-9, 1e-12):
            err = f"your {c.name}({_show(ordinary)}) is not the right value."
            if c.name == "softmax" and abs(float(np.sum(out)) - 1) > 1e-9:
                err += f" Its entries sum to {float(np.sum(out)):.4g}, not 1."
            if c.name == "log_softmax" and np.any(out > 0):
                err += " A log-probability is never positive."
    c.record("ordinary logits", err)

    big = np.array([1000.0, 0.0])
    out, err = c.call(big)
    if err is None:
        err = _nonfinite_feedback(c.name, big, out, overflow_why)
        if err is None and not _close(out, reference(big), 1e-9, 1e-12):
            err = f"your {c.name}({_show(big)}) is finite but not right; check the max shift."
    c.record("large logits (overflow)", err)

    small = np.array([-1000.0, -1000.0])
    out, err = c.call(small)
    if err is None:
        err = _nonfinite_feedback(c.name, small, out, underflow_why)
        if err is None and not _close(out, reference(small), 1e-9, 1e-12):
            err = f"your {c.name}({_show(small)}) is finite but not right."
    c.record("very negative logits (underflow)", err)

    tied = np.array([5.0, 5.0, 5.0, 5.0])
    out, err = c.call(tied)
    if err is None and not _close(out, reference(tied), 1e-12, 1e-12):
        err = (
            f"your {c.name} is wrong for tied logits {_show(tied)}: "
            "equal logits are equally likely."
        )
    c.record("ties", err)

    z = np.array([0.5, -1.5, 2.0])
    out, err = c.call(z)
    shifted, err2 = c.call(z + 100.0)
    if err is None and err2 is None:
        offset = 100.0 if reduces else 0.0
        if not _close(shifted, out + offset, 1e-9, 1e-9):
            err = f"your {c.name} changes when every logit grows by 100, by the wrong amount: " + (
                "logsumexp(z + c) must be logsumexp(z) + c."
                if reduces
                else "adding the same constant to every logit must not change the result."
            )
    c.record("adding a constant to every logit", err or err2)

    batch = np.random.default_rng(0).normal(0, 2, (3, 4))
    out, err = c.call(batch)
    if err is None:
        ref = reference(batch)
        if out.shape != ref.shape:
            err = (
                f"your {c.name} returns shape {out.shape} for a batch of shape {batch.shape}; "
                f"it should return {ref.shape}, one result per row (last axis). Using "
                "keepdims=True in the reductions keeps the shapes broadcastable."
            )
        elif not _close(out, ref, 1e-9, 1e-12):
            err = (
                f"your {c.name} is wrong on a batch of shape {batch.shape}: each row (the last "
                "axis) is one example. Reduce with axis=-1, not over the whole array or axis 0."
            )
            if c.name == "softmax" and np.allclose(out.sum(axis=0), 1.0):
                err += " Your columns sum to 1: you normalised along axis 0."
            elif c.name == "softmax" and np.isclose(out.sum(), 1.0):
                err += " The whole array sums to 1: you normalised over every element."
    c.record("a batch of rows (axis=-1)", err)

    x32 = np.array([1.0, 2.0, 3.0, 40.0], dtype=np.float32)
    out, err = c.call(x32)
    if err is None:
        if out.dtype != np.float32:
            err = (
                f"your {c.name} returns {out.dtype} for float32 input; keep the input's dtype "
                "(a float64 constant or array in the computation promotes the result)."
            )
        elif not _close(out.astype(np.float64), reference(x32).astype(np.float64), 1e-5, 1e-7):
            err = f"your {c.name} is not accurate in float32 for {_show(x32)}."
    c.record("float32 in, float32 out", err)

    x = np.array([3.0, 1.0, 2.0])
    before = x.copy()
    try:
        c.fn(x)
        err = (
            None
            if np.array_equal(x, before)
            else (f"your {c.name} modified its input array in place; work on a copy.")
        )
    except Exception as error:
        err = f"your {c.name} raised {type(error).__name__}: {error}"
    c.record("leaves its input unchanged", err)


def library_calls(fn: Callable) -> list[str]:
    """Return the names in `fn` (and the functions it calls) that come from a library.

    A global or closure name counts when it refers to a module, function or object of one
    of :data:`LIBRARIES`; NumPy and the standard library are allowed. Helper functions
    written in the same notebook are followed, so hiding a call in a helper does not help.
    """
    found: list[str] = []
    seen: set[int] = set()

    def origin(obj) -> str:
        if isinstance(obj, types.ModuleType):
            return obj.__name__
        return getattr(obj, "__module__", None) or ""

    def visit(code: types.CodeType, namespace: dict, closure: dict) -> None:
        for instruction in dis.get_instructions(code):
            name = instruction.argval
            if instruction.opname in ("LOAD_GLOBAL", "LOAD_NAME"):
                obj = namespace.get(name, getattr(builtins, name, None))
            elif instruction.opname == "LOAD_DEREF" and name in closure:
                obj = closure[name]
            else:
                continue
            if origin(obj).split(".")[0] in LIBRARIES:
                if name not in found:
                    found.append(name)
            elif isinstance(obj, types.FunctionType):
                follow(obj)
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                visit(const, namespace, closure)

    def follow(function: types.FunctionType) -> None:
        if id(function) in seen:
            return
        seen.add(id(function))
        cells = function.__closure__ or ()
        closure = {}
        for name, cell in zip(function.__code__.co_freevars, cells, strict=True):
            try:
                closure[name] = cell.cell_contents
            except ValueError:  # an empty cell: nothing to look at
                pass
        visit(function.__code__, function.__globals__, closure)

    if not isinstance(fn, types.FunctionType):  # a builtin, a ufunc, a callable object
        return [getattr(fn, "__name__", repr(fn))] if origin(fn).split(".")[0] in LIBRARIES else []
    if origin(fn).split(".")[0] in LIBRARIES:  # a library function handed in directly
        return [fn.__name__]
    follow(fn)
    return found


def _strict_checks(c: _Checker) -> None:
    """Record the checks a graded exercise adds: NumPy only, and invalid input rejected."""
    used = library_calls(c.fn)
    c.record(
        "written from scratch (NumPy only)",
        None
        if not used
        else (
            f"your {c.name} uses {', '.join(used)} from a library; the exercise is to write "
            "it yourself with NumPy."
        ),
    )
    complex_input = np.array([1.0 + 1.0j, 2.0])
    try:
        out = c.fn(complex_input.copy())
    except (TypeError, ValueError):
        err = None
    except Exception as error:
        err = (
            f"your {c.name} raised {type(error).__name__} for complex input; raise TypeError "
            "(the wrong kind of input) with a message that says what was expected."
        )
    else:
        if isinstance(out, np.ndarray):
            what = f"{out.dtype} values"
        else:
            what = "None" if out is None else f"a {type(out).__name__}"
        err = (
            f"your {c.name} returned {what} for complex input "
            f"{_show(complex_input)}, but logits are real numbers. Raise TypeError with a "
            "message that says so."
        )
    c.record("complex input is rejected", err)


def check_softmax(fn: Callable, *, verbose: bool = True, strict: bool = False) -> CheckReport:
    r"""Check a softmax implementation along the last axis and explain any failure.

    Parameters
    ----------
    fn : callable
        Your function: takes a NumPy array, returns the softmax along the last axis.
    verbose : bool, default: True
        Print the report.
    strict : bool, default: False
        Also check that `fn` is written with NumPy alone and rejects complex input.

    Returns
    -------
    CheckReport
        ``report.passed`` and ``report.score`` for grading; ``print(report)`` for feedback.

    Raises
    ------
    TypeError
        If `fn` is not callable.

    Derived in :doc:`/chapters/02-stable-softmax`.

    Examples
    --------
    >>> import numpy as np
    >>> from softmax_lib.checks import check_softmax
    >>> def naive(z):
    ...     e = np.exp(z)
    ...     return e / e.sum(axis=-1, keepdims=True)
    >>> with np.errstate(all="ignore"):
    ...     report = check_softmax(naive, verbose=False)
    >>> report.passed, [r.name for r in report.results if not r.passed]
    (False, ['large logits (overflow)', 'very negative logits (underflow)'])
    """
    c = _Checker(fn, "softmax")
    with np.errstate(all="ignore"):
        _common_checks(
            c,
            softmax,
            reduces=False,
            overflow_why=(
                "exp(1000) overflows to inf in float64, and inf / inf is nan. Subtract the "
                "largest logit from every logit before exponentiating: softmax does not change."
            ),
            underflow_why=(
                "every exp(-1000) underflows to 0, and 0 / 0 is nan. Subtracting the largest "
                "logit first fixes this too: the largest term becomes exp(0) = 1."
            ),
        )
        single = np.array([7.0])
        out, err = c.call(single)
        if err is None and not _close(out, np.array([1.0]), 0, 1e-12):
            err = "your softmax of a single logit should be certain of its only class."
        c.record("a single class", err)
        if strict:
            _strict_checks(c)
    if verbose:
        print(c.report)
    return c.report


def check_log_softmax(fn: Callable, *, verbose: bool = True, strict: bool = False) -> CheckReport:
    r"""Check a log-softmax implementation along the last axis and explain any failure.

    Parameters
    ----------
    fn : callable
        Your function: takes a NumPy array, returns log-softmax along the last axis.
    verbose : bool, default: True
        Print the report.
    strict : bool, default: False
        Also check that `fn` is written with NumPy alone and rejects complex input.

    Returns
    -------
    CheckReport
        See :func:`check_softmax`.

    Raises
    ------
    TypeError
        If `fn` is not callable.

    Derived in :doc:`/chapters/02-stable-softmax`.

    Examples
    --------
    >>> import numpy as np
    >>> from softmax_lib import softmax
    >>> from softmax_lib.checks import check_log_softmax
    >>> with np.errstate(all="ignore"):
    ...     report = check_log_softmax(lambda z: np.log(softmax(z)), verbose=False)
    >>> [r.name for r in report.results if not r.passed]
    ['large logits (overflow)', 'a probability that underflows']
    """
    c = _Checker(fn, "log_softmax")
    with np.errstate(all="ignore"):
        _common_checks(
            c,
            log_softmax,
            reduces=False,
            overflow_why=(
                "either exp(1000) overflowed, or a probability underflowed to 0 before its "
                "logarithm. Compute z - logsumexp(z), with the largest logit subtracted inside "
                "logsumexp, and never log(softmax(z))."
            ),
            underflow_why=(
                "every exp(-1000) underflows to 0 and log(0) is -inf. Subtract the largest "
                "logit before exponentiating."
            ),
        )
        far = np.array([0.0, -800.0])
        out, err = c.call(far)
        if err is None:
            if np.isneginf(out).any():
                err = (
                    f"your log_softmax returns -inf for {_show(far)}: the probability "
                    "exp(-800) underflows to 0 before you take its logarithm. Never compute "
                    "log(softmax(z)); compute z - logsumexp(z), which stays finite."
                )
            elif not _close(out, log_softmax(far), 1e-12, 1e-12):
                err = f"your log_softmax({_show(far)}) is finite but not right."
        c.record("a probability that underflows", err)
        if strict:
            _strict_checks(c)
    if verbose:
        print(c.report)
    return c.report


def check_logsumexp(fn: Callable, *, verbose: bool = True, strict: bool = False) -> CheckReport:
    r"""Check a log-sum-exp implementation along the last axis and explain any failure.

    Parameters
    ----------
    fn : callable
        Your function: takes a NumPy array, returns ``log(sum(exp(z)))`` along the last axis,
        removing that axis (a 2-D input of shape ``(N, C)`` gives shape ``(N,)``).
    verbose : bool, default: True
        Print the report.
    strict : bool, default: False
        Also check that `fn` is written with NumPy alone and rejects complex input.

    Returns
    -------
    CheckReport
        See :func:`check_softmax`.

    Raises
    ------
    TypeError
        If `fn` is not callable.

    Derived in :doc:`/chapters/01-softmax`.

    Examples
    --------
    >>> import numpy as np
    >>> from softmax_lib.checks import check_logsumexp
    >>> def shifted(z):
    ...     m = z.max(axis=-1, keepdims=True)
    ...     return (m + np.log(np.exp(z - m).sum(axis=-1, keepdims=True)))[..., 0]
    >>> check_logsumexp(shifted, verbose=False).passed
    True
    """
    c = _Checker(fn, "logsumexp")
    with np.errstate(all="ignore"):
        _common_checks(
            c,
            logsumexp,
            reduces=True,
            overflow_why=(
                "exp(1000) overflows to inf. Use logsumexp(z) = m + log(sum(exp(z - m))) with "
                "m the largest logit."
            ),
            underflow_why=(
                "every exp(-1000) underflows to 0 and log(0) is -inf, though the answer is "
                "close to -1000. The same shift by the largest logit fixes it."
            ),
        )
        if strict:
            _strict_checks(c)
    if verbose:
        print(c.report)
    return c.report
