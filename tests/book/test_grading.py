"""The graded assignments, graded for real: nbgrader itself, end to end.

``make assignments`` writes an nbgrader course from the notebooks ``make book`` renders. Here
the course is written to a temporary directory, typical student submissions are dropped into
``submitted/``, and nbgrader's own ``autograde`` and ``generate_feedback`` run on them, in a
fresh kernel each, exactly as a teacher would run them. The scores are read back from
nbgrader's gradebook, the feedback from the HTML pages students receive.

Marked ``built``: it needs the built book (``make test`` runs it after ``make book``). In CI
a missing build is a failure, never a skip.
"""

import html
import json
import re
from pathlib import Path

import pytest
from helpers import unavailable

from tools import course

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.built

# Typical submissions for the first two chapters' graded exercises (a student's own code).
NAIVE_SOFTMAX = '''def my_softmax(z):
    """Softmax from the definition, without the max shift."""
    z = np.asarray(z)
    if np.iscomplexobj(z):
        raise TypeError("z must be real")
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)
'''

WRONG_AXIS_SOFTMAX = '''def my_softmax(z):
    """Shifted softmax, normalised along the first axis instead of the last."""
    z = np.asarray(z)
    if np.iscomplexobj(z):
        raise TypeError("z must be real")
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)
'''

LOG_OF_SOFTMAX = '''def my_logsumexp(z):
    """Shifted log-sum-exp (correct)."""
    z = np.asarray(z)
    if np.iscomplexobj(z):
        raise TypeError("z must be real")
    m = z.max(axis=-1, keepdims=True)
    return (m + np.log(np.exp(z - m).sum(axis=-1, keepdims=True)))[..., 0]


def my_log_softmax(z):
    """The logarithm of a (stable) softmax: loses every probability that underflows."""
    z = np.asarray(z)
    if np.iscomplexobj(z):
        raise TypeError("z must be real")
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return np.log(e / e.sum(axis=-1, keepdims=True))
'''


NO_PENALTY_STEP = '''def gradient_step(W, b, X, y, l2, step):
    """One gradient step that forgets the gradient of the L2 penalty."""
    N, C = X.shape[0], W.shape[1]
    P = sl.softmax(X @ W + b)
    G = (P - np.eye(C)[y]) / N
    return W - step * (X.T @ G), b - step * G.sum(axis=0)
'''


MINUS_INF_FILL = '''def masked_attention(Q, K, V, mask):
    """Masks with -inf logits and a plain softmax: a query with no key left gets NaN."""
    scores = np.where(mask, Q @ K.T / np.sqrt(Q.shape[-1]), -np.inf)
    return sl.softmax(scores) @ V
'''


def _reference(chapter):
    """The teacher's solution of a chapter's graded exercise, markers removed."""
    nb = json.loads((course.ASSIGNMENT_SOURCES / f"{chapter}.ipynb").read_text())
    cell = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("solution"))
    return "\n".join(line for line in cell["source"].splitlines() if "### " not in line)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Autograde nine submissions of four chapters; return the course paths."""
    import nbgrader  # noqa: F401  (required: requirements-dev.txt)

    if not list(course.ASSIGNMENT_SOURCES.glob("0*.ipynb")):
        unavailable("no assignment sources in _build/notebooks (run make book)")
    paths = course.write_assignments(tmp_path_factory.mktemp("grading") / "course")
    submissions = {
        "01-softmax": {
            "correct": _reference("01-softmax"),
            "empty": None,
            "naive": NAIVE_SOFTMAX,
            "wrong-axis": WRONG_AXIS_SOFTMAX,
        },
        "02-stable-softmax": {"log-of-softmax": LOG_OF_SOFTMAX},
        "06b-classifier": {"correct": _reference("06b-classifier"), "no-penalty": NO_PENALTY_STEP},
        "07b-attention": {"correct": _reference("07b-attention"), "minus-inf": MINUS_INF_FILL},
    }
    for chapter, by_student in submissions.items():
        released = json.loads((paths["release"] / chapter / f"{chapter}.ipynb").read_text())
        for student, answer in by_student.items():
            nb = json.loads(json.dumps(released))
            if answer is not None:
                cell = next(
                    c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("solution")
                )
                cell["source"] = answer
            target = paths["course"] / "submitted" / student / chapter / f"{chapter}.ipynb"
            target.parent.mkdir(parents=True)
            target.write_text(json.dumps(nb))
        course._nbgrader(paths["course"], "autograde", chapter, "--force")
        course._nbgrader(paths["course"], "generate_feedback", chapter, "--force")
    return paths


def scores(paths, chapter, student):
    """Points per grade cell of one graded submission, read from nbgrader's gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{paths['course'] / 'gradebook.db'}") as gradebook:
        submission = gradebook.find_submission_notebook(chapter, chapter, student)
        return {g.name: (g.score, g.max_score) for g in submission.grades}


def feedback(paths, chapter, student):
    """The text of the feedback page nbgrader made for one student."""
    page = paths["course"] / "feedback" / student / chapter / f"{chapter}.html"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", page.read_text())).split())


def test_correct_submission_gets_full_marks(graded):
    got = scores(graded, "01-softmax", "correct")
    assert got and all(score == top for score, top in got.values()), got
    assert sum(top for _, top in got.values()) == 10


def test_empty_submission_gets_zero_and_runs_to_the_end(graded):
    got = scores(graded, "01-softmax", "empty")
    assert got and all(score == 0 for score, _ in got.values()), got
    text = feedback(graded, "01-softmax", "empty")
    assert "NotImplementedError" in text


def test_naive_exp_loses_the_overflow_and_underflow_points_only(graded):
    got = scores(graded, "01-softmax", "naive")
    lost = {name for name, (score, top) in got.items() if score < top}
    assert lost == {"softmax-overflow", "softmax-underflow"}
    assert sum(score for score, _ in got.values()) == 7
    text = feedback(graded, "01-softmax", "naive")
    assert "exp(1000) overflows to inf" in text and "Subtract the largest logit" in text


def test_wrong_axis_loses_the_batch_points_only(graded):
    got = scores(graded, "01-softmax", "wrong-axis")
    lost = {name for name, (score, top) in got.items() if score < top}
    assert lost == {"softmax-axis"}
    assert "Your columns sum to 1: you normalised along axis 0." in feedback(
        graded, "01-softmax", "wrong-axis"
    )


def test_log_of_softmax_loses_the_stability_points_only(graded):
    got = scores(graded, "02-stable-softmax", "log-of-softmax")
    lost = {name for name, (score, top) in got.items() if score < top}
    assert lost == {"log-softmax-stable"}
    text = feedback(graded, "02-stable-softmax", "log-of-softmax")
    assert "never log(softmax(z))" in text


def test_classifier_gradient_step_is_graded(graded):
    # The classifier chapter (file 06b) is in the course, and its tests tell bugs apart:
    # forgetting the penalty's gradient fails the comparison with the reference step (3
    # points) but still descends at this small penalty (2 points).
    correct = scores(graded, "06b-classifier", "correct")
    assert correct and all(score == top for score, top in correct.values()), correct
    got = scores(graded, "06b-classifier", "no-penalty")
    lost = {name for name, (score, top) in got.items() if score < top}
    assert lost == {"gradient-step-matches"}
    assert sum(score for score, _ in got.values()) == 2


def test_attention_with_minus_inf_fill_loses_the_empty_row_points_only(graded):
    # The attention chapter (file 07b): a plain softmax of -inf logits is right wherever a
    # key is left, and NaN for a query with none; the hidden tests tell the two apart.
    correct = scores(graded, "07b-attention", "correct")
    assert correct and all(score == top for score, top in correct.values()), correct
    got = scores(graded, "07b-attention", "minus-inf")
    lost = {name for name, (score, top) in got.items() if score < top}
    assert lost == {"masked-attention-empty-rows"}
    assert sum(score for score, _ in got.values()) == 3


def test_feedback_never_shows_the_reference_solution(graded):
    solution_lines = [
        line.strip()
        for chapter in ("01-softmax", "02-stable-softmax")
        for line in _reference(chapter).splitlines()
        if len(line.strip()) > 20 and not line.strip().startswith(('"""', "def ", "if "))
    ]
    assert solution_lines
    for student, chapter, own in [
        ("empty", "01-softmax", ""),
        ("naive", "01-softmax", NAIVE_SOFTMAX),
        ("wrong-axis", "01-softmax", WRONG_AXIS_SOFTMAX),
        ("log-of-softmax", "02-stable-softmax", LOG_OF_SOFTMAX),
    ]:
        text = feedback(graded, chapter, student)
        # A line the student wrote themselves may of course appear in their feedback.
        shown = [line for line in solution_lines if line in text and line not in own]
        assert not shown, student


def test_release_and_student_bundle_hold_no_solution_or_hidden_test(graded):
    leaks = course.find_leaks(ROOT / "chapters", [graded["release"], graded["student"]])
    assert leaks == []
    released = (graded["release"] / "01-softmax" / "01-softmax.ipynb").read_text()
    assert "BEGIN HIDDEN TESTS" not in released and ".require(" not in released
