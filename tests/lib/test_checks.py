"""The self-checks: correct implementations pass, typical mistakes get specific feedback."""

import numpy as np
import pytest

from softmax_lib import log_softmax, logsumexp, softmax
from softmax_lib.checks import check_log_softmax, check_logsumexp, check_softmax, library_calls


def good_softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def naive_softmax(z):
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def wrong_axis_softmax(z):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def whole_array_softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def no_keepdims_softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum()  # forgot the axis: normalises over everything


def upcasting_softmax(z):
    z = z.astype(np.float64)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def in_place_softmax(z):
    z -= z.max(axis=-1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=-1, keepdims=True)
    return z


def log_of_softmax(z):
    return np.log(good_softmax(z))


def good_log_softmax(z):
    m = z.max(axis=-1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=-1, keepdims=True))


def naive_logsumexp(z):
    return np.log(np.exp(z).sum(axis=-1))


def good_logsumexp(z):
    m = z.max(axis=-1, keepdims=True)
    return (m + np.log(np.exp(z - m).sum(axis=-1, keepdims=True)))[..., 0]


def keepdims_logsumexp(z):
    m = z.max(axis=-1, keepdims=True)
    return m + np.log(np.exp(z - m).sum(axis=-1, keepdims=True))  # shape (..., 1)


def failed(report):
    return [r.name for r in report.results if not r.passed]


@pytest.mark.parametrize(
    ("check", "fn"),
    [
        (check_softmax, good_softmax),
        (check_softmax, softmax),
        (check_log_softmax, good_log_softmax),
        (check_log_softmax, log_softmax),
        (check_logsumexp, good_logsumexp),
        (check_logsumexp, logsumexp),
    ],
)
def test_correct_implementations_pass(check, fn, capsys):
    report = check(fn)
    assert report.passed and report.score == 1.0, str(report)
    assert "checks passed" in capsys.readouterr().out


def test_naive_exp_overflows_and_underflows():
    report = check_softmax(naive_softmax, verbose=False)
    assert failed(report) == ["large logits (overflow)", "very negative logits (underflow)"]
    text = str(report)
    assert "your softmax returns nan for [1000, 0]" in text
    assert "Subtract the largest logit" in text


def test_wrong_axis_is_diagnosed():
    report = check_softmax(wrong_axis_softmax, verbose=False)
    assert "a batch of rows (axis=-1)" in failed(report)
    assert "Your columns sum to 1" in str(report)


@pytest.mark.parametrize("fn", [whole_array_softmax, no_keepdims_softmax])
def test_normalising_over_everything_is_diagnosed(fn):
    report = check_softmax(fn, verbose=False)
    assert "a batch of rows (axis=-1)" in failed(report)
    assert "The whole array sums to 1" in str(report)


def test_upcasting_is_diagnosed():
    report = check_softmax(upcasting_softmax, verbose=False)
    assert failed(report) == ["float32 in, float32 out"]
    assert "returns float64 for float32 input" in str(report)


def test_modifying_the_input_is_diagnosed():
    report = check_softmax(in_place_softmax, verbose=False)
    assert failed(report) == ["leaves its input unchanged"]


def test_log_of_softmax_is_diagnosed():
    report = check_log_softmax(log_of_softmax, verbose=False)
    assert "a probability that underflows" in failed(report)
    assert "Never compute log(softmax(z))" in str(report)
    assert "returns -inf for [0, -800]" in str(report)


def test_naive_and_keepdims_logsumexp():
    report = check_logsumexp(naive_logsumexp, verbose=False)
    assert {"large logits (overflow)", "very negative logits (underflow)"} <= set(failed(report))
    report = check_logsumexp(keepdims_logsumexp, verbose=False)
    assert "ordinary logits" in failed(report) and "returns shape (1,)" in str(report)


def test_errors_raised_by_the_student_function_become_feedback():
    def broken(z):
        raise ValueError("not implemented yet")

    report = check_softmax(broken, verbose=False)
    assert report.score == 0.0
    assert "your softmax raised ValueError for [1, 2, 3]: not implemented yet" in str(report)


def test_empty_answer_feedback_says_not_written_yet_without_a_dangling_colon():
    # Issue 29: the stub's NotImplementedError() has no message, and the feedback ended in
    # "for [1, 2, 3]:". Now one sentence that says what happened.
    def stub(z):
        raise NotImplementedError()

    def bare(z):
        raise ValueError

    report = check_softmax(stub, verbose=False)
    lines = [r.feedback for r in report.results if not r.passed]
    assert lines and all(not line.rstrip().endswith(":") for line in lines), lines
    assert "your softmax is not written yet: it raised NotImplementedError for [1, 2, 3]." in lines
    bare_lines = [r.feedback for r in check_softmax(bare, verbose=False).results if not r.passed]
    assert "your softmax raised ValueError for [1, 2, 3]." in bare_lines


@pytest.mark.parametrize("fn", [naive_softmax, wrong_axis_softmax, whole_array_softmax])
def test_feedback_never_reveals_the_expected_values(fn):
    text = str(check_softmax(fn, verbose=False))
    for x in ([1.0, 2.0, 3.0], [1000.0, 0.0], [-1000.0, -1000.0]):
        for value in softmax(np.array(x)):
            if 0 < value < 1:
                assert f"{value:.3f}" not in text and f"{value:.4g}" not in text


def test_check_needs_a_function():
    with pytest.raises(TypeError, match="`fn` must be a function"):
        check_softmax("softmax")


def strict_softmax(z):
    z = np.asarray(z)
    if np.iscomplexobj(z):
        raise TypeError("`z` must be real-valued.")
    return good_softmax(z)


def test_strict_checks_pass_a_from_scratch_implementation_that_rejects_complex_input():
    report = check_softmax(strict_softmax, strict=True, verbose=False)
    assert report.passed, str(report)
    names = [r.name for r in report.results]
    assert "written from scratch (NumPy only)" in names and "complex input is rejected" in names


def test_strict_checks_catch_a_library_call_even_inside_a_helper():
    def helper(z):
        return softmax(z)

    def wrapped(z):
        return helper(z)

    report = check_softmax(wrapped, strict=True, verbose=False)
    failed = {r.name: r.feedback for r in report.results if not r.passed}
    assert list(failed) == ["written from scratch (NumPy only)"]
    assert "softmax" in failed["written from scratch (NumPy only)"]


def test_library_calls_sees_modules_and_functions_but_not_numpy():
    import scipy.special

    assert library_calls(good_softmax) == []
    assert library_calls(lambda z: scipy.special.softmax(z, axis=-1)) == ["scipy"]
    assert library_calls(softmax) == ["softmax"]  # a library function handed in directly


def test_strict_checks_catch_silently_complex_results():
    report = check_softmax(good_softmax, strict=True, verbose=False)
    failed = {r.name: r.feedback for r in report.results if not r.passed}
    assert list(failed) == ["complex input is rejected"]
    assert "complex128" in failed["complex input is rejected"]


def test_require_raises_with_the_feedback_of_the_named_failures_only():
    report = check_softmax(naive_softmax, verbose=False)
    report.require("ordinary logits", "ties")  # these passed: no error
    with pytest.raises(AssertionError, match=r"overflows\s+to\s+inf") as info:
        report.require("ties", "large logits (overflow)")
    assert "[large logits (overflow)]" in str(info.value) and "[ties]" not in str(info.value)
    with pytest.raises(ValueError, match=r"`names` must be checks of this report"):
        report.require("overflow")
