"""The course kit: exercises in every chapter, and solutions that never reach students."""

import json
import re
from pathlib import Path

import pytest

from tools import course

ROOT = Path(__file__).resolve().parents[2]

CHAPTERS = sorted((ROOT / "chapters").glob("[0-9]*.md"))
EXERCISE = re.compile(r"^```\{exercise(?:-start)?\}", re.M)
SOLUTION = re.compile(r"^```\{solution(?:-start)?\}", re.M)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_chapter_has_four_exercises_of_three_kinds_with_executed_solutions(path):
    text = path.read_text()
    assert len(EXERCISE.findall(text)) >= 4
    assert len(SOLUTION.findall(text)) == len(EXERCISE.findall(text))
    for kind in ("**Compute.**", "**Prove.**", "**Break.**"):
        assert kind in text, f"{path.name} has no {kind} exercise"
    lines = text.splitlines()
    for first, last, label in course._blocks(text):
        block = "\n".join(lines[first : last + 1])
        assert "```{code-cell}" in block, f"solution {label} has no code for the build to run"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_stripping_removes_every_solution_and_keeps_every_exercise(path):
    text = path.read_text()
    stripped = course.strip_solutions(text)
    assert not SOLUTION.search(stripped)
    assert len(EXERCISE.findall(stripped)) == len(EXERCISE.findall(text))
    lines = text.splitlines()
    blocks = [lines[first : last + 1] for first, last, _ in course._blocks(text)]
    graded = [b for b in blocks if course.graded_stub(b) is not None]
    assert stripped.count("# Your answer to ") == len(blocks) - len(graded)
    assert stripped.count("raise NotImplementedError()") >= len(graded) >= 1
    # Nothing else is lost: without the answer cells, the student text is the teacher text
    # minus its solutions.
    without_answers = stripped
    for block, (_, _, label) in zip(blocks, course._blocks(text), strict=True):
        without_answers = without_answers.replace(course.answer_cell(block, label), "")
    assert " ".join(without_answers.split()) == course.outside_solutions(text)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_chapter_has_a_graded_exercise_with_hidden_tests(path):
    lines = path.read_text().splitlines()
    graded = 0
    for first, last, label in course._blocks(path.read_text()):
        cells = course.code_cells(lines[first : last + 1])
        answers = [o for o, _ in cells if "answer" in (o.get("autograde") or {})]
        tests = [o for o, _ in cells if "test" in (o.get("autograde") or {})]
        if not answers:
            assert not tests, f"{label}: hidden tests without an answer cell"
            continue
        graded += 1
        assert len(answers) == 1, f"{label}: one answer cell per graded exercise"
        assert tests, f"{label}: a graded exercise needs hidden tests"
        for options in tests:
            # Hidden on the website, points given, ids unique in the chapter.
            assert "remove-cell" in options["tags"], label
            assert options["autograde"]["points"] > 0, label
        stub = course.graded_stub(lines[first : last + 1])
        assert stub.count("raise NotImplementedError()") >= 1 and "def " in stub
    assert graded >= 1, f"{path.name} has no graded exercise"


def test_stub_keeps_signature_and_docstring_and_drops_the_body():
    notebooks = course.notebooks
    source = 'def f(x):\n    """Doc."""\n    y = x + 1\n    return y\n\n\ndef g():\n    return 2'
    marked = notebooks.mark_solution(source)
    assert marked.count(notebooks.BEGIN_SOLUTION) == 2
    assert notebooks.stub_solution(marked) == (
        'def f(x):\n    """Doc."""\n    # YOUR CODE HERE\n    raise NotImplementedError()\n'
        "\n\ndef g():\n    # YOUR CODE HERE\n    raise NotImplementedError()"
    )
    # A cell without a function is a solution as a whole.
    assert notebooks.stub_solution(notebooks.mark_solution("x = 1")) == notebooks.STUB


def test_the_leak_check_finds_solutions_in_teacher_material(tmp_path):
    # It must be able to fail: the unstripped chapters are full of solution text.
    (tmp_path / "teacher").mkdir()
    for path in CHAPTERS:
        (tmp_path / "teacher" / path.name).write_text(path.read_text())
    leaks = course.find_leaks(ROOT / "chapters", [tmp_path / "teacher"])
    text = [leak for leak in leaks if ": solution text of " in leak]
    assert {leak.split(": solution text of ")[1].split(":")[0] for leak in text} == {
        p.name for p in CHAPTERS
    }
    # The graded solutions' code is found as code too, names aside.
    code = [leak for leak in leaks if ": graded solution code of " in leak]
    assert {leak.split(": graded solution code of ")[1].split(":")[0] for leak in code} >= {
        "02-stable-softmax.md",
        "07-classifier.md",
    }


def test_the_leak_check_sees_through_html_and_notebooks(tmp_path):
    text = CHAPTERS[0].read_text()
    fragment = course.solution_fragments(text)[0]
    (tmp_path / "page.html").write_text(f"<p><span>{fragment[:5]}</span>{fragment[5:]}</p>")
    notebook = {"cells": [{"cell_type": "code", "source": [fragment], "outputs": []}]}
    (tmp_path / "nb.ipynb").write_text(json.dumps(notebook))
    leaks = course.find_leaks(ROOT / "chapters", [tmp_path])
    assert any("page.html" in leak for leak in leaks)
    assert any("nb.ipynb" in leak for leak in leaks)


# check_logsumexp's docstring example until issue 29: chapter 2's graded my_logsumexp, renamed.
LEAKED_DOCSTRING = '''
def check_logsumexp(fn):
    """Check a log-sum-exp.

    >>> import numpy as np
    >>> def shifted(z):
    ...     m = z.max(axis=-1, keepdims=True)
    ...     return (m + np.log(np.exp(z - m).sum(axis=-1, keepdims=True)))[..., 0]
    >>> check_logsumexp(shifted, verbose=False).passed
    True
    """
'''


def test_leak_check_finds_the_graded_answer_in_check_logsumexps_docstring(tmp_path):
    # Issue 29: the library students receive showed chapter 2's graded solution as a doctest;
    # the text fragments did not see it (the library counted as public).
    (tmp_path / "checks.py").write_text(LEAKED_DOCSTRING)
    leaks = course.find_leaks(ROOT / "chapters", [tmp_path])
    assert any("graded solution code of 02-stable-softmax.md" in leak for leak in leaks), leaks


def test_leak_check_sees_graded_code_under_other_names_and_layout(tmp_path):
    text = (ROOT / "chapters" / "07-classifier.md").read_text()
    (answer,) = course.graded_answers(text)
    statements = course.code_statements(answer) & course.graded_statements(ROOT / "chapters").keys()
    assert statements, "the classifier's graded solution has no distinctive statement"
    renamed = answer.replace("W", "weights").replace("b", "bias_")  # names aside
    markdown = "Some text.\n\n```python\n" + "\n".join(renamed.split("\n")) + "\n```\n"
    (tmp_path / "notes.md").write_text(markdown)
    assert course.find_graded_code(ROOT / "chapters", [tmp_path])


def test_the_library_students_receive_holds_no_graded_solution():
    assert course.find_graded_code(ROOT / "chapters", [ROOT / "softmax_lib"]) == []


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_public_source_replaces_the_graded_solution_only(path):
    from tools import graded

    text = path.read_text()
    public = graded.public_source(text)
    lines = text.splitlines()
    blocks = [lines[first : last + 1] for first, last, _ in course._blocks(text)]
    practice = sum(course.graded_stub(b) is None for b in blocks)
    assert len(course._blocks(public)) == practice == len(blocks) - 1
    assert "raise NotImplementedError()" in public
    assert not course.graded_answers(public)
    assert graded.public_source(public) == public  # rewriting twice changes nothing


def test_answer_cells_name_the_exercise_by_its_number_on_the_site():
    text = (ROOT / "chapters" / "07-classifier.md").read_text()
    numbers = course.exercise_numbers(text, course.chapter_numbers()["07-classifier"])
    stripped = course.strip_solutions(text, numbers=numbers)
    assert (
        "# Your answer to Exercise 7.1" in stripped
        and "ex-classifier" not in stripped.split("# Your answer to")[1].split("\n")[0]
    )


def test_student_sources_have_no_solutions(tmp_path):
    course.write_student_sources(tmp_path / "student")
    assert "(student edition)" in (tmp_path / "student" / "_config.yml").read_text()
    assert course.find_leaks(ROOT / "chapters", [tmp_path / "student"]) == []


def test_student_edition_has_no_button_to_the_repository_and_its_solutions(tmp_path):
    import yaml

    course.write_student_sources(tmp_path / "student")
    teacher = yaml.safe_load((ROOT / "_config.yml").read_text())
    student = yaml.safe_load((tmp_path / "student" / "_config.yml").read_text())
    assert teacher["launch_buttons"]["binderhub_url"] and teacher["launch_buttons"]["colab_url"]
    assert student["launch_buttons"] == {
        k: v for k, v in teacher["launch_buttons"].items() if not k.endswith("_url")
    }
    assert student["launch_buttons"]["thebe"] is True  # live code runs the student page
    assert student["sphinx"]["config"]["launch_repository_button"] is False
    assert student["sphinx"]["config"]["launch_notebook_edition"] == "student"
    # Everything else is the teacher's configuration, and the extension it needs is copied.
    for key in ("execute", "parse", "html", "bibtex_bibfiles", "exclude_patterns"):
        assert student[key] == teacher[key]
    assert (tmp_path / "student" / "tools" / "launch.py").exists()


def test_student_how_to_page_describes_the_student_edition(tmp_path):
    course.write_student_sources(tmp_path / "student")
    teacher = (ROOT / "chapters" / "how-to-use.md").read_text()
    student = (tmp_path / "student" / "chapters" / "how-to-use.md").read_text()
    # The teacher's page describes collapsed solutions and the Binder and Colab buttons ...
    assert "Hidden solutions" in teacher and "\nBinder\n:" in teacher and "\nColab\n:" in teacher
    assert "edition: student" in teacher  # ... and carries the student text only in a comment.
    # The student's page describes what the student edition has, and nothing it lacks.
    assert "Hidden solutions" not in student and "\nBinder\n:" not in student
    assert "\nColab\n:" not in student and "<!-- edition" not in student
    assert "edition: end" not in student
    assert "Exercises without solutions" in student and "no Binder or Colab button" in student


def test_student_sources_can_load_the_book_extension(tmp_path):
    # Regression: the student copy had tools/launch.py without tools/notebooks.py, which it
    # imported, so the student build failed to load its extension. (The page hook that
    # imports it is tools/pages.py now.)
    import subprocess
    import sys

    course.write_student_sources(tmp_path / "student")
    probe = "from tools import pages; print(pages.notebooks)"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path / "student", capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert str(tmp_path / "student") in result.stdout


def test_student_sources_carry_what_their_tools_import(tmp_path):
    # Every build helper the student copy carries imports there: a module that a copied one
    # imports (tools/course.py imports tools/myst.py) is copied too.
    import subprocess
    import sys

    course.write_student_sources(tmp_path / "student")
    copied = sorted(p.stem for p in (tmp_path / "student" / "tools").glob("[a-z]*.py"))
    assert "course" in copied and "launch" in copied
    probe = "; ".join(f"import tools.{name}" for name in copied)
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path / "student", capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_student_edition_leaves_out_the_instructors_guide(tmp_path):
    import yaml

    course.write_student_sources(tmp_path / "student")
    toc = yaml.safe_load((tmp_path / "student" / "_toc.yml").read_text())
    files = [c["file"] for part in toc["parts"] for c in part["chapters"]]
    assert "chapters/instructor-guide" not in files and "chapters/01-softmax" in files
    assert "For teachers" not in [part["caption"] for part in toc["parts"]]
    assert not (tmp_path / "student" / "chapters" / "instructor-guide.md").exists()


def test_student_front_page_has_no_teacher_links(tmp_path):
    course.write_student_sources(tmp_path / "student")
    intro = (tmp_path / "student" / "intro.md").read_text()
    assert "instructor-guide" not in intro and "Colab" not in intro and "edition:" not in intro
    assert "instructor-guide" in (ROOT / "intro.md").read_text()


def test_plain_feedback_keeps_the_message_and_drops_numpys_expected_array():
    import numpy as np

    from tools import softmax_feedback

    try:
        np.testing.assert_allclose([1.0, 2.0], [1.0, 2.5], rtol=1e-12, err_msg="wrong losses")
    except AssertionError as error:
        reasons = softmax_feedback.plain_reason("AssertionError", str(error))
    assert reasons == ["wrong losses"]
    wrapped = "\n[ties] your softmax returned nan for [5, 5,\n    5, 5].\n[axis] summed rows."
    assert softmax_feedback.plain_reason("AssertionError", wrapped) == [
        "[ties] your softmax returned nan for [5, 5, 5, 5].",
        "[axis] summed rows.",
    ]
    assert softmax_feedback.plain_reason("NotImplementedError", "") == [
        "Your function is not written yet: it still raises NotImplementedError."
    ]
    assert softmax_feedback.plain_reason("TypeError", "bad operand\nmore") == [
        "Your code raised TypeError: bad operand"
    ]
    error = {"output_type": "error", "ename": "AssertionError", "evalue": "", "traceback": []}
    assert softmax_feedback.feedback_text("small steps lower the loss", [error]) == (
        "Not passed: small steps lower the loss.\n"
    )
    assert softmax_feedback.feedback_text("anything", []) is None


# One execution for both editions: the student build reuses the teacher build's outputs.


def _notebook(*cells):
    import nbformat

    return nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(source, outputs=outputs or [])
            if kind == "code"
            else nbformat.v4.new_markdown_cell(source)
            for kind, source, outputs in cells
        ]
    )


def _stream(text):
    import nbformat

    return [nbformat.v4.new_output("stream", name="stdout", text=text)]


def test_student_cells_take_the_teacher_cells_outputs_and_answer_cells_none():
    teacher = _notebook(
        ("code", "x = 1\nprint(x)", _stream("1\n")),
        ("markdown", "Exercise", None),
        ("code", "solution = x + 1\nprint(solution)", _stream("2\n")),
        ("code", "print(x * 3)", _stream("3\n")),
    )
    student = _notebook(
        ("code", "x = 1\nprint(x)", None),
        ("markdown", "Exercise", None),
        ("code", "# Your answer to Exercise 1.1", None),
        ("code", "print(x * 3)", None),
    )
    course.student_outputs(teacher, student)
    outputs = [c.outputs for c in student.cells if c.cell_type == "code"]
    assert outputs == [_stream("1\n"), [], _stream("3\n")]


def test_a_student_cell_the_teacher_never_ran_is_an_error_not_an_empty_output():
    teacher = _notebook(("code", "print(1)", _stream("1\n")))
    student = _notebook(("code", "print(1)", None), ("code", "print('student only')", None))
    with pytest.raises(ValueError, match="not in the teacher's chapter"):
        course.student_outputs(teacher, student)


def test_check_seeded_names_the_pages_a_student_build_executed_itself(tmp_path):
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    cache = get_cache(str(tmp_path / "cache"))
    for name, data in (("seeded", {"source": course.SEEDED}), ("executed", {})):
        nb = _notebook(("code", f"print({name!r})", _stream(name)))
        cache.cache_notebook_bundle(CacheBundleIn(nb, f"/{name}.md", data=data), False, True)
    assert course.executed_pages(tmp_path / "cache") == ["/executed.md"]
    assert course.main(["check-seeded", str(tmp_path / "cache")]) == 1


def _reads_of_removed_names(teacher: list[str], student: list[str]) -> list[str]:
    """Student cells reading a name that only a removed (solution) cell defines."""
    from helpers import cell_names

    kept = set(student)
    solution_only = set().union(*(cell_names(s)[0] for s in teacher if s not in kept))
    defined, problems = set(), []
    for source in student:
        if course._is_answer_cell(source):
            continue
        names, used = cell_names(source)
        missing = (used - defined - names) & solution_only
        if missing:
            problems.append(f"{sorted(missing)} in: {source.splitlines()[0][:60]}")
        defined |= names
    return problems


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_student_code_never_reads_a_name_only_a_solution_defines(path, tmp_path):
    """The student pages are not executed (they show the teacher build's outputs), so this
    checks what that execution would have caught: a cell after a removed solution reading a
    name the solution defined, which fails with NameError when a student runs the notebook."""
    teacher = [c.source for c in course._read_notebook(path).cells if c.cell_type == "code"]
    (tmp_path / path.name).write_text(course.strip_solutions(path.read_text()), encoding="utf-8")
    student = course._read_notebook(tmp_path / path.name).cells
    student = [c.source for c in student if c.cell_type == "code"]
    assert len(student) < len(teacher) + 5  # the student chapter was read
    assert _reads_of_removed_names(teacher, student) == []


def test_a_cell_reading_a_solutions_name_is_found():
    teacher = ["x = 1", "answer = x + 1", "print(answer, x)"]
    student = ["x = 1", "# Your answer to Exercise 1.1", "print(answer, x)"]
    assert _reads_of_removed_names(teacher, student) == ["['answer'] in: print(answer, x)"]


@pytest.mark.built
def test_seeding_finds_student_pages_under_a_folder_named_build(tmp_path):
    # Regression: make student writes the sources to _build/student-src, and the seeding
    # skipped every page under a "_build" folder, so the student build executed them all.
    teacher_cache = ROOT / "_build" / ".jupyter_cache"
    if not (teacher_cache / "global.db").exists():
        from helpers import unavailable

        unavailable("no execution cache in _build/.jupyter_cache (run make book)")
    sources = tmp_path / "_build" / "student-src"
    course.write_student_sources(sources)
    count = course.seed_student_cache(sources, teacher_cache, tmp_path / "cache")
    with_code = [p for p in sources.rglob("*.md") if "```{code-cell}" in p.read_text()]
    assert count == len(with_code) >= len(CHAPTERS)
    assert course.executed_pages(tmp_path / "cache") == []
