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

from collections.abc import Callable

import numpy as np

from softmax_lib.checks._cases import Spec, run_common_checks, run_strict_checks
from softmax_lib.checks._library import LIBRARIES as LIBRARIES
from softmax_lib.checks._library import library_calls
from softmax_lib.checks._report import Checker, CheckReport, CheckResult, close, show
from softmax_lib.core import log_softmax, logsumexp, softmax

__all__ = [
    "CheckReport",
    "CheckResult",
    "check_log_softmax",
    "check_logsumexp",
    "check_softmax",
    "library_calls",
]


def _softmax_value_hint(out: np.ndarray) -> str:
    total = float(np.sum(out))
    return f" Its entries sum to {total:.4g}, not 1." if abs(total - 1) > 1e-9 else ""


def _softmax_batch_hint(out: np.ndarray) -> str:
    if np.allclose(out.sum(axis=0), 1.0):
        return " Your columns sum to 1: you normalised along axis 0."
    if np.isclose(out.sum(), 1.0):
        return " The whole array sums to 1: you normalised over every element."
    return ""


def _log_softmax_value_hint(out: np.ndarray) -> str:
    return " A log-probability is never positive." if np.any(out > 0) else ""


def check_softmax(fn: Callable, *, verbose: bool = True, strict: bool = False) -> CheckReport:
    r"""Check a softmax implementation along the last axis and explain any failure.

    Derived in :doc:`/chapters/02-stable-softmax`.

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
    c = Checker(fn, "softmax")
    with np.errstate(all="ignore"):
        run_common_checks(
            c,
            Spec(
                "softmax",
                softmax,
                reduces=False,
                value_hint=_softmax_value_hint,
                batch_hint=_softmax_batch_hint,
                overflow_why=(
                    "exp(1000) overflows to inf in float64, and inf / inf is nan. Subtract the "
                    "largest logit from every logit before exponentiating: softmax does not change."
                ),
                underflow_why=(
                    "every exp(-1000) underflows to 0, and 0 / 0 is nan. Subtracting the largest "
                    "logit first fixes this too: the largest term becomes exp(0) = 1."
                ),
            ),
        )
        single = np.array([7.0])
        out, err = c.call(single)
        if err is None and not close(out, np.array([1.0]), 0, 1e-12):
            err = "your softmax of a single logit should be certain of its only class."
        c.record("a single class", err)
        if strict:
            run_strict_checks(c)
    if verbose:
        print(c.report)
    return c.report


def check_log_softmax(fn: Callable, *, verbose: bool = True, strict: bool = False) -> CheckReport:
    r"""Check a log-softmax implementation along the last axis and explain any failure.

    Derived in :doc:`/chapters/02-stable-softmax`.

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
    c = Checker(fn, "log_softmax")
    with np.errstate(all="ignore"):
        run_common_checks(
            c,
            Spec(
                "log_softmax",
                log_softmax,
                reduces=False,
                value_hint=_log_softmax_value_hint,
                overflow_why=(
                    "either exp(1000) overflowed, or a probability underflowed to 0 before its "
                    "logarithm. Compute z - logsumexp(z), with the largest logit subtracted inside "
                    "logsumexp, and never log(softmax(z))."
                ),
                underflow_why=(
                    "every exp(-1000) underflows to 0 and log(0) is -inf. Subtract the largest "
                    "logit before exponentiating."
                ),
            ),
        )
        far = np.array([0.0, -800.0])
        out, err = c.call(far)
        if err is None:
            if np.isneginf(out).any():
                err = (
                    f"your log_softmax returns -inf for {show(far)}: the probability "
                    "exp(-800) underflows to 0 before you take its logarithm. Never compute "
                    "log(softmax(z)); compute z - logsumexp(z), which stays finite."
                )
            elif not close(out, log_softmax(far), 1e-12, 1e-12):
                err = f"your log_softmax({show(far)}) is finite but not right."
        c.record("a probability that underflows", err)
        if strict:
            run_strict_checks(c)
    if verbose:
        print(c.report)
    return c.report


def check_logsumexp(fn: Callable, *, verbose: bool = True, strict: bool = False) -> CheckReport:
    r"""Check a log-sum-exp implementation along the last axis and explain any failure.

    Derived in :doc:`/chapters/01-softmax`.

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

    Examples
    --------
    The library's own log-sum-exp passes; the definition, computed as written, does not
    (``exp`` overflows for large logits):

    >>> import numpy as np
    >>> from softmax_lib import logsumexp
    >>> from softmax_lib.checks import check_logsumexp
    >>> check_logsumexp(logsumexp, verbose=False).passed
    True
    >>> def naive(z):
    ...     return np.log(np.exp(z).sum(axis=-1))
    >>> check_logsumexp(naive, verbose=False).passed
    False
    """
    c = Checker(fn, "logsumexp")
    with np.errstate(all="ignore"):
        run_common_checks(
            c,
            Spec(
                "logsumexp",
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
            ),
        )
        if strict:
            run_strict_checks(c)
    if verbose:
        print(c.report)
    return c.report
