"""The course kit: exercises in every chapter, and solutions that never reach students."""

import importlib.util
import json
import re
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("course", ROOT / "tools" / "course.py")
course = importlib.util.module_from_spec(spec)
spec.loader.exec_module(course)

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
    assert stripped.count("# Your answer to exercise") == len(SOLUTION.findall(text))
    # Nothing else is lost: without the answer cells, the student text is the teacher text
    # minus its solutions.
    without_answers = stripped
    for _, _, label in course._blocks(text):
        without_answers = without_answers.replace(course.ANSWER_CELL.format(label=label), "")
    assert " ".join(without_answers.split()) == course.outside_solutions(text)


def test_the_leak_check_finds_solutions_in_teacher_material(tmp_path):
    # It must be able to fail: the unstripped chapters are full of solution text.
    (tmp_path / "teacher").mkdir()
    for path in CHAPTERS:
        (tmp_path / "teacher" / path.name).write_text(path.read_text())
    leaks = course.find_leaks(ROOT / "chapters", [tmp_path / "teacher"])
    assert {leak.split(": solution text of ")[1].split(":")[0] for leak in leaks} == {
        p.name for p in CHAPTERS
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


def test_student_sources_have_no_solutions(tmp_path):
    course.write_student_sources(tmp_path / "student")
    assert "(student edition)" in (tmp_path / "student" / "_config.yml").read_text()
    assert course.find_leaks(ROOT / "chapters", [tmp_path / "student"]) == []


def test_student_edition_has_no_button_to_the_repository_and_its_solutions(tmp_path):
    yaml = pytest.importorskip("yaml")
    course.write_student_sources(tmp_path / "student")
    teacher = yaml.safe_load((ROOT / "_config.yml").read_text())
    student = yaml.safe_load((tmp_path / "student" / "_config.yml").read_text())
    assert teacher["launch_buttons"]["binderhub_url"] and teacher["launch_buttons"]["colab_url"]
    assert student["launch_buttons"] == {
        k: v for k, v in teacher["launch_buttons"].items() if not k.endswith("_url")
    }
    assert student["launch_buttons"]["thebe"] is True  # live code runs the student page
    assert student["sphinx"]["config"]["launch_repository_button"] is False
    # Everything else is the teacher's configuration, and the extension it needs is copied.
    for key in ("execute", "parse", "html", "bibtex_bibfiles", "exclude_patterns"):
        assert student[key] == teacher[key]
    assert (tmp_path / "student" / "tools" / "launch.py").exists()


def test_assignment_bundle_has_student_notebooks_only(tmp_path):
    jupytext = pytest.importorskip("jupytext")
    archive = course.write_assignments(tmp_path / "assignments")
    assert course.find_leaks(ROOT / "chapters", [tmp_path / "assignments"]) == []
    notebooks = sorted((tmp_path / "assignments").glob("*.ipynb"))
    assert [p.stem for p in notebooks] == [p.stem for p in CHAPTERS]
    for nb_path in notebooks:
        nb = jupytext.read(nb_path)
        assert sum("# Your answer to exercise" in c.source for c in nb.cells) >= 4
    with zipfile.ZipFile(archive) as bundle:
        names = bundle.namelist()
    assert "assignments/README.md" in names and "assignments/softmax_lib/checks.py" in names
