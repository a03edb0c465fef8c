"""The report a check returns, and the wrapper that calls a student's function safely."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from softmax_lib._validation import check_callable, check_known_names


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
        check_known_names(names, list(known), "names")
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


def raised(name: str, error: Exception, x: np.ndarray | None = None) -> str:
    """Return the feedback for a student's function that raised `error` (on input `x`).

    One sentence: an unwritten function (``NotImplementedError``, the stub's body) is called
    that, and an error without a message ends the sentence instead of leaving a colon.
    """
    where = f" for {show(x)}" if x is not None else ""
    if isinstance(error, NotImplementedError):
        return f"your {name} is not written yet: it raised NotImplementedError{where}."
    message = str(error).strip()
    return f"your {name} raised {type(error).__name__}{where}" + (
        f": {message}" if message else "."
    )


def show(x: np.ndarray) -> str:
    """Render an input briefly (inputs may be shown; expected outputs never are)."""
    if x.ndim == 1 and x.size <= 4:
        return "[" + ", ".join(f"{v:g}" for v in x.tolist()) + "]"
    return f"an array of shape {x.shape} and dtype {x.dtype}"


class Checker:
    def __init__(self, fn: Callable, name: str):
        check_callable(fn, "fn")
        self.fn, self.name = fn, name
        self.report = CheckReport(name)

    def call(self, x: np.ndarray):
        """Return (output as an array, None) or (None, feedback if the call raised)."""
        try:
            out = self.fn(x.copy())
        except Exception as error:  # any error is feedback for the student
            return None, raised(self.name, error, x)
        return as_result(out, self.name, x)

    def record(self, name: str, feedback: str | None) -> None:
        self.report.results.append(CheckResult(name, feedback is None, feedback or ""))


def as_result(out: object, name: str, x: np.ndarray):
    """Return (out as a real array, None), or (None, feedback) for what is not one."""
    if out is None:
        return None, (
            f"your {name} returned None for {show(x)}: did you forget the `return` statement?"
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
            f"your {name} returned a {type(out).__name__} for {show(x)}; "
            "it must return a NumPy array of numbers."
        )
    if np.iscomplexobj(arr):
        return None, f"your {name} returned complex numbers for {show(x)}; use real arithmetic."
    return arr, None


def nonfinite_feedback(name: str, x: np.ndarray, out: np.ndarray, why: str) -> str | None:
    if np.all(np.isfinite(out)):
        return None
    if np.isnan(out).any():
        bad = "nan"
    else:
        bad = "-inf" if np.all(np.isneginf(out[~np.isfinite(out)])) else "inf"
    return f"your {name} returns {bad} for {show(x)}: {why}"


def close(out: np.ndarray, ref: np.ndarray, rtol: float, atol: float) -> bool:
    return out.shape == ref.shape and bool(np.allclose(out, ref, rtol=rtol, atol=atol))
