"""The checks themselves: one small function per kind of input, driven by a :class:`Spec`.

A spec says what differs between softmax, log-softmax and log-sum-exp (the reference, whether
the function reduces the last axis, and the hints that explain a failure), so no check has
to ask which function it is looking at.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from softmax_lib.checks._library import library_calls
from softmax_lib.checks._report import Checker, close, nonfinite_feedback, raised, show


def _no_hint(out: np.ndarray) -> str:
    return ""


@dataclass(frozen=True)
class Spec:
    """What the checks need to know about the function under test."""

    name: str
    reference: Callable  # softmax_lib's own function; its output is never shown
    reduces: bool  # True for log-sum-exp: shifting every logit by c shifts the result by c
    overflow_why: str  # explains nan/inf for [1000, 0]
    underflow_why: str  # explains nan/-inf for [-1000, -1000]
    value_hint: Callable[[np.ndarray], str] = _no_hint  # added to a wrong ordinary value
    batch_hint: Callable[[np.ndarray], str] = _no_hint  # added to a wrong batch


def _check_ordinary(c: Checker, spec: Spec) -> None:
    ordinary = np.array([1.0, 2.0, 3.0])
    out, err = c.call(ordinary)
    if err is None:
        ref = spec.reference(ordinary)
        if out.shape != ref.shape:
            err = (
                f"your {c.name} returns shape {out.shape} for input of shape {ordinary.shape}; "
                f"expected shape {ref.shape}."
            )
        elif not close(out, ref, 1e-9, 1e-12):
            err = f"your {c.name}({show(ordinary)}) is not the right value." + spec.value_hint(out)
    c.record("ordinary logits", err)


def _check_extreme(c: Checker, spec: Spec, x: np.ndarray, name: str, why: str, hint: str):
    out, err = c.call(x)
    if err is None:
        err = nonfinite_feedback(c.name, x, out, why)
        if err is None and not close(out, spec.reference(x), 1e-9, 1e-12):
            err = f"your {c.name}({show(x)}) is finite but not right{hint}."
    c.record(name, err)


def _check_ties(c: Checker, spec: Spec) -> None:
    tied = np.array([5.0, 5.0, 5.0, 5.0])
    out, err = c.call(tied)
    if err is None and not close(out, spec.reference(tied), 1e-12, 1e-12):
        err = (
            f"your {c.name} is wrong for tied logits {show(tied)}: equal logits are equally likely."
        )
    c.record("ties", err)


def _check_shift(c: Checker, spec: Spec) -> None:
    z = np.array([0.5, -1.5, 2.0])
    out, err = c.call(z)
    shifted, err2 = c.call(z + 100.0)
    if err is None and err2 is None:
        offset = 100.0 if spec.reduces else 0.0
        if not close(shifted, out + offset, 1e-9, 1e-9):
            err = f"your {c.name} changes when every logit grows by 100, by the wrong amount: " + (
                "logsumexp(z + c) must be logsumexp(z) + c."
                if spec.reduces
                else "adding the same constant to every logit must not change the result."
            )
    c.record("adding a constant to every logit", err or err2)


def _check_batch(c: Checker, spec: Spec) -> None:
    batch = np.random.default_rng(0).normal(0, 2, (3, 4))
    out, err = c.call(batch)
    if err is None:
        ref = spec.reference(batch)
        if out.shape != ref.shape:
            err = (
                f"your {c.name} returns shape {out.shape} for a batch of shape {batch.shape}; "
                f"it should return {ref.shape}, one result per row (last axis). Using "
                "keepdims=True in the reductions keeps the shapes broadcastable."
            )
        elif not close(out, ref, 1e-9, 1e-12):
            err = (
                f"your {c.name} is wrong on a batch of shape {batch.shape}: each row (the last "
                "axis) is one example. Reduce with axis=-1, not over the whole array or axis 0."
            ) + spec.batch_hint(out)
    c.record("a batch of rows (axis=-1)", err)


def _check_float32(c: Checker, spec: Spec) -> None:
    x32 = np.array([1.0, 2.0, 3.0, 40.0], dtype=np.float32)
    out, err = c.call(x32)
    if err is None:
        if out.dtype != np.float32:
            err = (
                f"your {c.name} returns {out.dtype} for float32 input; keep the input's dtype "
                "(a float64 constant or array in the computation promotes the result)."
            )
        elif not close(out.astype(np.float64), spec.reference(x32).astype(np.float64), 1e-5, 1e-7):
            err = f"your {c.name} is not accurate in float32 for {show(x32)}."
    c.record("float32 in, float32 out", err)


def _check_input_unchanged(c: Checker) -> None:
    x = np.array([3.0, 1.0, 2.0])
    before = x.copy()
    try:
        c.fn(x)
        err = (
            None
            if np.array_equal(x, before)
            else f"your {c.name} modified its input array in place; work on a copy."
        )
    except Exception as error:
        err = raised(c.name, error)
    c.record("leaves its input unchanged", err)


def run_common_checks(c: Checker, spec: Spec) -> None:
    """Run the checks shared by the three functions, in the order students read them."""
    _check_ordinary(c, spec)
    _check_extreme(
        c,
        spec,
        np.array([1000.0, 0.0]),
        "large logits (overflow)",
        spec.overflow_why,
        "; check the max shift",
    )
    _check_extreme(
        c,
        spec,
        np.array([-1000.0, -1000.0]),
        "very negative logits (underflow)",
        spec.underflow_why,
        "",
    )
    _check_ties(c, spec)
    _check_shift(c, spec)
    _check_batch(c, spec)
    _check_float32(c, spec)
    _check_input_unchanged(c)


def run_strict_checks(c: Checker) -> None:
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
            f"{show(complex_input)}, but logits are real numbers. Raise TypeError with a "
            "message that says so."
        )
    c.record("complex input is rejected", err)
