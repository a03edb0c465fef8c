"""The graded assignments, graded for real: nbgrader itself, end to end, as a normal user.

``make assignments`` writes an nbgrader course from the notebooks ``make book`` renders. Here
the course is written to a temporary directory and graded the two ways its README describes,
with nbgrader's own commands, as a user without administrator rights (CI runs as root, so
the commands run as ``nobody`` there):

- through nbgrader's exchange: the README's commands, read from the README and run as
  written (release, fetch, submit, collect, autograde, feedback, export, fetch feedback);
- as from a learning platform: typical submissions dropped into ``submitted/``, then
  ``autograde`` and ``generate_feedback``.

The scores are read back from nbgrader's gradebook, the feedback from the HTML pages students
receive. Marked ``built``: it needs the built book (``make test`` runs it after ``make
book``). In CI a missing build is a failure, never a skip.
"""

import contextlib
import html
import json
import os
import pwd
import re
import shutil
import stat
import subprocess
import sys
import tempfile
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


def hidden_tests(chapter):
    """The points of each hidden test of a chapter, read from its source (the teacher's)."""
    text = (ROOT / "chapters" / f"{chapter}.md").read_text()
    lines = text.splitlines()
    points = {}
    for first, last, _ in course._blocks(text):
        for options, _ in course.code_cells(lines[first : last + 1]):
            test = (options.get("autograde") or {}).get("test")
            if test:
                points[test] = options["autograde"]["points"]
    return points


@contextlib.contextmanager
def normal_user(*owned: Path):
    """Yield the ``subprocess`` arguments that run a command as a user without root rights.

    Already a normal user: nothing changes. As root (CI's container): the user ``nobody``,
    made owner of the `owned` directories; directories above them, the book's interpreter
    and its checkout that other users may not enter (``/root``, where pyenv puts Python;
    pytest's ``/tmp/pytest-of-root``) get
    the right to be traversed (``o+x``, not to be listed) for as long as the block runs.
    """
    if os.geteuid() != 0:
        yield {}
        return
    user = pwd.getpwnam("nobody")
    for directory in owned:
        for path in [directory, *directory.rglob("*")]:
            os.chown(path, user.pw_uid, user.pw_gid, follow_symlinks=False)
    opened = []
    for target in (Path(sys.executable).resolve().parent, ROOT, *owned):
        for directory in [target, *target.parents]:
            mode = directory.stat().st_mode
            if not mode & stat.S_IXOTH:
                directory.chmod(mode | stat.S_IXOTH)
                opened.append((directory, mode))
    try:
        yield {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
    finally:
        for directory, mode in reversed(opened):
            directory.chmod(mode)


def user_environment(home: Path) -> dict:
    """The environment of a fresh login: its own home, the book's environment on PATH."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "IPYTHON", "XDG"))}
    for name in ("MPLCONFIGDIR", "NUMBA_CACHE_DIR", "PYTHONPATH"):
        keep.pop(name, None)
    bin_dir = Path(sys.executable).parent
    return {**keep, "HOME": str(home), "PATH": f"{bin_dir}{os.pathsep}{keep.get('PATH', '')}"}


def run(command: str, cwd: Path, env: dict, user: dict) -> str:
    """Run one command line of the README; fail with its output if it fails."""
    result = subprocess.run(
        command.split(), cwd=cwd, env=env, capture_output=True, text=True, check=False, **user
    )
    if result.returncode != 0:
        pytest.fail(f"{command} failed:\n{result.stdout}{result.stderr}")
    return result.stdout + result.stderr


EXCHANGE_CHAPTER = "03-sigmoid"
EXCHANGE_SECTION = "## Hand out, collect and grade through nbgrader's exchange"


def readme_commands(readme: str) -> list[str]:
    """The nbgrader command lines of the README's exchange section, in their order."""
    section = readme.split(EXCHANGE_SECTION)[1].split("\n## ")[0]
    return [line.strip() for line in section.splitlines() if line.startswith("    nbgrader ")]


def _answer(notebook: Path, answer: str | None) -> None:
    """Write a student's answer into the graded answer cell of a notebook."""
    nb = json.loads(notebook.read_text())
    if answer is not None:
        cell = next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("solution"))
        cell["source"] = answer
    notebook.write_text(json.dumps(nb))


@pytest.fixture(scope="module")
def graded():
    """Grade typical submissions of four chapters as a normal user; yield the paths."""
    import nbgrader  # noqa: F401  (required: requirements-dev.txt)

    if not list(course.ASSIGNMENT_SOURCES.glob("[0-9][0-9]-*.ipynb")):
        unavailable("no assignment sources in _build/notebooks (run make book)")
    # Not under pytest's own temporary root: any pytest run closes that to other users.
    base = Path(tempfile.mkdtemp(prefix="softmax-grading-"))
    base.chmod(0o755)
    try:
        yield _grade(base)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _grade(base: Path) -> dict:
    paths = course.write_assignments(base / "course")
    # From a learning platform: notebooks dropped into submitted/<student>/<chapter>/.
    submissions = {
        "01-softmax": {
            "correct": _reference("01-softmax"),
            "empty": None,
            "naive": NAIVE_SOFTMAX,
            "wrong-axis": WRONG_AXIS_SOFTMAX,
        },
        "02-stable-softmax": {"log-of-softmax": LOG_OF_SOFTMAX},
        # One submission each for chapters 7 and 9 (each is a whole chapter executed on one
        # core, half a minute): that the reference answer passes their hidden tests is
        # checked by the build, where the hidden tests are cells of the chapter run after it
        # (test_chapter_executes_without_error), and that nbgrader gives a correct
        # submission full marks by chapters 1 and 3 here.
        "07-classifier": {"no-penalty": NO_PENALTY_STEP},
        "09-attention": {"minus-inf": MINUS_INF_FILL},
    }
    for chapter, by_student in submissions.items():
        released = paths["release"] / chapter / f"{chapter}.ipynb"
        for student, answer in by_student.items():
            target = paths["course"] / "submitted" / student / chapter / f"{chapter}.ipynb"
            target.parent.mkdir(parents=True)
            shutil.copy(released, target)
            _answer(target, answer)
    home, desk = base / "home", base / "student"
    home.mkdir()
    desk.mkdir()
    env = user_environment(home)
    with normal_user(paths["course"], home, desk) as user:
        # Through the exchange, as the README says, for a chapter nobody handed in otherwise
        # (release_feedback expects every submission to have come through the exchange): the
        # commands are the README's, placeholders filled in; between fetch and submit the
        # student writes the reference answer.
        chapter = EXCHANGE_CHAPTER
        log = []
        for line in readme_commands((paths["course"] / "README.md").read_text()):
            command = line.replace("<chapter>", chapter)
            command = command.replace("<exchange>", str(paths["course"] / "exchange"))
            student = "--Exchange.root=" in command
            if command.startswith("nbgrader submit"):
                _answer(desk / chapter / f"{chapter}.ipynb", _reference(chapter))
            log.append(run(command, desk if student else paths["course"], env, user))
        for chapter in submissions:
            if chapter != EXCHANGE_CHAPTER:
                for step in ("autograde", "generate_feedback"):
                    run(f"nbgrader {step} {chapter}", paths["course"], env, user)
    exchange_student = pwd.getpwuid(user.get("user", os.geteuid())).pw_name
    return {**paths, "desk": desk, "log": "\n".join(log), "exchange_student": exchange_student}


def scores(paths, chapter, student):
    """Points per grade cell of one graded submission, read from nbgrader's gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{paths['course'] / 'gradebook.db'}") as gradebook:
        submission = gradebook.find_submission_notebook(chapter, chapter, student)
        return {g.name: (g.score, g.max_score) for g in submission.grades}


def _page_text(page: Path) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", page.read_text())).split())


def feedback(paths, chapter, student):
    """The text of the feedback page nbgrader made for one student."""
    return _page_text(paths["course"] / "feedback" / student / chapter / f"{chapter}.html")


def test_the_readme_cycle_runs_as_a_normal_user_through_the_course_exchange(graded):
    # Issue 29: as a normal user, release and collect need an exchange the user can write.
    commands = readme_commands((graded["course"] / "README.md").read_text())
    verbs = [c.split()[1] for c in commands]
    assert verbs == [
        "release_assignment",
        "fetch_assignment",
        "submit",
        "collect",
        "autograde",
        "generate_feedback",
        "release_feedback",
        "export",
        "fetch_feedback",
    ]
    chapter, student = EXCHANGE_CHAPTER, graded["exchange_student"]
    assert (graded["course"] / "exchange" / course.COURSE_ID / "outbound" / chapter).is_dir()
    assert (graded["course"] / "submitted" / student / chapter).is_dir()
    grades = (graded["course"] / f"grades-{chapter}.csv").read_text()
    assert student in grades and "01-softmax" not in grades
    pages = list((graded["desk"] / chapter / "feedback").glob(f"*/{chapter}.html"))
    assert len(pages) == 1, "the student fetched no feedback page"
    assert "Not passed" not in _page_text(pages[0])
    got = scores(graded, chapter, student)
    assert got and all(score == top for score, top in got.values()), got
    if os.geteuid() != 0:
        return  # already a normal user; as root, check that nbgrader's default was not used
    assert not Path("/usr/local/share/nbgrader/exchange").exists()


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
    # The classifier chapter (7) is in the course, and its tests tell bugs apart:
    # forgetting the penalty's gradient fails the comparison with the reference step (3
    # points) but still descends at this small penalty (2 points).
    got = scores(graded, "07-classifier", "no-penalty")
    assert {name: top for name, (_, top) in got.items()} == hidden_tests("07-classifier")
    lost = {name for name, (score, top) in got.items() if score < top}
    assert lost == {"gradient-step-matches"}
    assert sum(score for score, _ in got.values()) == 2


def test_attention_with_minus_inf_fill_loses_the_empty_row_points_only(graded):
    # The attention chapter (9): a plain softmax of -inf logits is right wherever a
    # key is left, and NaN for a query with none; the hidden tests tell the two apart.
    got = scores(graded, "09-attention", "minus-inf")
    assert {name: top for name, (_, top) in got.items()} == hidden_tests("09-attention")
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


def test_feedback_is_plain_sentences_without_hidden_code_or_traceback(graded):
    # Issue 29: feedback showed each hidden test's source and a 15-line traceback with the
    # teacher's paths; now a failed test shows what it checked and why it failed, in words.
    cases = [
        ("empty", "01-softmax"),
        ("naive", "01-softmax"),
        ("wrong-axis", "01-softmax"),
        ("log-of-softmax", "02-stable-softmax"),
        ("no-penalty", "07-classifier"),
        ("minus-inf", "09-attention"),
    ]
    for student, chapter in cases:
        text = feedback(graded, chapter, student)
        for hidden in ("BEGIN HIDDEN TESTS", ".require(", "most recent call last", "site-packages"):
            assert hidden not in text, (student, hidden)
        assert str(graded["course"]) not in text and str(ROOT) not in text, student
        assert "Not passed:" in text, student
    empty = feedback(graded, "01-softmax", "empty")
    assert "your softmax is not written yet: it raised NotImplementedError for [1, 2, 3]." in empty
    assert "Not passed: small steps lower the loss." not in feedback(
        graded, "07-classifier", "no-penalty"
    )
    assert "Not passed: one step equals the reference step." in feedback(
        graded, "07-classifier", "no-penalty"
    )
