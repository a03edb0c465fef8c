"""Course kit: student sources, assignment notebooks and the solution-leak check.

One source, two editions. The teacher edition is the book as it is. The student edition is
built from a copy of the sources in which every solution (a gated
``{solution-start}``...``{solution-end}`` block, with its code cells, or a ``{solution}``
directive) is replaced by an empty answer cell. Nothing is hidden with CSS: the solutions are
not in the student sources, so they cannot reach the student HTML, its downloads or the
notebooks.

A graded exercise is one whose solution holds a code cell with ``autograde: {answer: ID}``
metadata (the function the student writes) and hidden-test cells with ``autograde: {test: ID,
points: N}``. Students see the function's signature and docstring with the body replaced by
``raise NotImplementedError()``; the course bundle turns the same cells into nbgrader cells.

Usage (the Makefile calls these)::

    python tools/course.py student-src OUT_DIR [TEACHER_CACHE STUDENT_CACHE]
                              # stripped copy of the book sources; with the caches, the
                              # student build reuses the teacher build's outputs
    python tools/course.py check-seeded STUDENT_CACHE  # fail if the student build executed
    python tools/course.py assignments OUT_DIR        # nbgrader course + student bundle (zips)
    python tools/course.py check-leaks DIR [DIR ...]  # fail if any solution text is found
"""

from __future__ import annotations

import ast
import copy
import doctest
import html
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

if not __package__:  # run as a script (python tools/x.py): make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tools import myst, notebooks

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"
# The rendered nbgrader sources that make book writes (tools/pages.py).
ASSIGNMENT_SOURCES = ROOT / "_build" / "notebooks" / "assignment" / "chapters"
COURSE_ID = "softmax-computed"
BOOK_FILES = [
    "_config.yml",
    "_toc.yml",
    "intro.md",
    "references.bib",
    "requirements.txt",
    "binder/runtime.txt",
    "tools/__init__.py",
    "tools/accessibility.py",
    "tools/assets.py",
    "tools/apilinks.py",
    "tools/citations.py",
    "tools/course.py",
    "tools/glued.py",
    "tools/graded.py",
    "tools/i18n.py",
    "tools/i18n_words.py",
    "tools/templates/language-switch.html",
    "tools/latex.py",
    "tools/launch.py",
    "tools/locales.py",
    "tools/myst.py",
    "tools/notebooks.py",
    "tools/outputs.py",
    "tools/pages.py",
    "tools/publish.py",
    "tools/softmax_feedback.py",
]

ANSWER_CELL = """```{{note}}
Work this exercise in the cell below. The solution is in the teacher's edition.
```

```{{code-cell}} ipython3
# Your answer to {title}
```
"""

GRADED_CELL = """```{{note}}
Complete the function in the cell below. This exercise is graded by hidden tests; its
reference solution is not published (it is in the teacher's material). The self-check the
exercise names tells you what fails and why.
```

```{{code-cell}} ipython3
{stub}
```
"""


def _blocks(text: str) -> list[tuple[int, int, str]]:
    """Return (first line, last line, label) of every solution in a MyST chapter.

    A gated solution runs from its ``{solution-start}`` fence to the closing fence of its
    ``{solution-end}``; a plain ``{solution}`` directive runs to its closing fence.
    """
    found = myst.blocks(text)
    out, k = [], 0
    while k < len(found):
        block = found[k]
        if block.kind == "directive" and block.name in ("solution-start", "solution"):
            last = block
            if block.name == "solution-start":
                ends = [j for j in range(k + 1, len(found)) if found[j].name == "solution-end"]
                k = ends[0] if ends else len(found)
                last = found[k] if ends and found[k].kind == "directive" else None
            if last is None or not last.closed:
                raise ValueError(f"unterminated solution starting at line {block.start + 1}")
            out.append((block.start, last.end - 1, block.argument))
        k += 1
    return out


def code_cells(lines: list[str]) -> list[tuple[dict, str]]:
    """Return ``(options, source)`` of every ``{code-cell}`` in some lines of a chapter."""
    return [(cell.options, cell.body.strip("\n")) for cell in myst.code_cells("\n".join(lines))]


def graded_stub(block: list[str]) -> str | None:
    """Return the student's stub of a graded solution block, or None for an ungraded one."""
    for options, source in code_cells(block):
        if "answer" in (options.get("autograde") or {}):
            return notebooks.stub_solution(notebooks.mark_solution(source))
    return None


def answer_cell(block: list[str], label: str, number: str = "") -> str:
    """Return what replaces a solution for students: an answer cell, or the graded stub."""
    stub = graded_stub(block)
    if stub is None:
        title = f"Exercise {number}" if number else "the exercise above"
        return ANSWER_CELL.format(title=title)
    return GRADED_CELL.format(stub=stub)


def chapter_numbers(toc: Path = ROOT / "_toc.yml") -> dict[str, int]:
    """Return the number the site gives each numbered chapter, by file stem."""
    import yaml

    parts = yaml.safe_load(toc.read_text(encoding="utf-8"))["parts"]
    files = [c["file"] for part in parts if part.get("numbered") for c in part["chapters"]]
    return {Path(name).stem: k for k, name in enumerate(files, start=1)}


def exercise_numbers(text: str, chapter: int) -> dict[str, str]:
    """Return the site's number of each exercise of a chapter (``1.4``), by label."""
    exercises = myst.directives(text, "exercise", "exercise-start")
    labels = [e.options["label"] for e in exercises if e.options.get("label")]
    return {label: f"{chapter}.{k}" for k, label in enumerate(labels, start=1)}


def strip_solutions(
    text: str, *, graded_only: bool = False, numbers: dict[str, str] | None = None
) -> str:
    """Return the chapter with every solution replaced by an answer cell (or graded stub).

    With `graded_only`, only the graded exercises' solutions are replaced (the public book).
    `numbers` gives the exercises' numbers by label, for the answer cells' comments.
    """
    lines = text.splitlines()
    pieces, start = [], 0
    for first, last, label in _blocks(text):
        if graded_only and graded_stub(lines[first : last + 1]) is None:
            continue
        number = (numbers or {}).get(label, "")
        pieces.append("\n".join(lines[start:first]))
        pieces.append(answer_cell(lines[first : last + 1], label, number).rstrip("\n"))
        start = last + 1
    pieces.append("\n".join(lines[start:]))
    return "\n".join(pieces) + "\n"


def _normalise(text: str) -> str:
    return " ".join(text.split())


_MARKUP = re.compile(r"[`${}\[\]*]")


def outside_solutions(text: str) -> str:
    """Return the chapter without its solutions, whitespace-normalised."""
    lines = text.splitlines()
    inside = set()
    for first, last, _ in _blocks(text):
        inside.update(range(first, last + 1))
    return _normalise("\n".join(line for k, line in enumerate(lines) if k not in inside))


def _line_kinds(lines: list[str], first: int = 0) -> dict[int, str]:
    """Return which lines of a chapter's lines are ``code`` or ``markup``; the others are prose.

    Code: a code cell's lines between its fences (its options too, which say what the cell
    is: an answer's id, a hidden test's title). Markup: any other directive's opening fence,
    options and closing fence. Line numbers count from `first`.
    """
    kinds = {}
    for block in myst.walk(myst.blocks("\n".join(lines), first)):
        if block.kind != "directive":
            continue
        body_end = block.end - 1 if block.closed else block.end
        kinds.update(dict.fromkeys(range(block.start, block.body_start), "markup"))
        if block.closed:
            kinds[block.end - 1] = "markup"
        if block.name == "code-cell":
            kinds.update(dict.fromkeys(range(block.start + 1, body_end), "code"))
    return kinds


def solution_fragments(
    text: str,
    *,
    elsewhere: str = "",
    min_code: int = 12,
    min_prose: int = 30,
    graded_only: bool = False,
) -> list[str]:
    """Distinctive lines of the solutions, to look for in student artefacts.

    Code lines of at least `min_code` characters and markup-free prose lines of at least
    `min_prose` characters, keeping only those that occur neither outside the solutions of
    this chapter nor in `elsewhere` (the rest of the book), so that a line students may
    legitimately see, such as a shared import, cannot raise a false alarm. With
    `graded_only`, only the graded exercises' solutions are read, and the practice ones count
    as seen (the public book shows them).
    """
    lines = text.splitlines()
    blocks = _blocks(text)
    outside_text = outside_solutions(text) + " " + elsewhere
    if graded_only:
        practice = [b for b in blocks if graded_stub(lines[b[0] : b[1] + 1]) is None]
        blocks = [b for b in blocks if b not in practice]
        outside_text += " " + " ".join(
            _normalise("\n".join(lines[first : last + 1])) for first, last, _ in practice
        )
    fragments = []
    for first, last, _ in blocks:
        kinds = _line_kinds(lines[first : last + 1], first)
        for k in range(first + 1, last):
            stripped = lines[k].strip()
            in_code = kinds.get(k) == "code"
            if kinds.get(k) == "markup" or not stripped or stripped.startswith((":", "#")):
                continue
            candidate = _normalise(stripped)
            long_enough = len(candidate) >= (min_code if in_code else min_prose)
            prose_ok = in_code or not _MARKUP.search(candidate)
            if long_enough and prose_ok and candidate not in outside_text:
                fragments.append(candidate)
    return fragments


def _artefact_texts(directory: Path):
    """Yield (path, searchable text) for every text artefact under `directory`."""
    for path in sorted(directory.rglob("*")):
        if not path.is_file():
            continue
        suffix = path.suffix.lower()
        if suffix == ".ipynb":
            nb = json.loads(path.read_text(encoding="utf-8"))
            cells = nb.get("cells", [])
            sources = ["".join(c.get("source", "")) for c in cells]
            outputs = [json.dumps(c.get("outputs", [])) for c in cells]
            yield path, _normalise("\n".join(sources + outputs))
        elif suffix in (".html", ".htm"):
            raw = path.read_text(encoding="utf-8", errors="replace")
            text = html.unescape(re.sub(r"<[^>]+>", "", raw))
            yield path, _normalise(text)
        elif suffix in (".md", ".txt", ".py", ".js", ".json", ".tex", ".yml"):
            yield path, _normalise(path.read_text(encoding="utf-8", errors="replace"))


# --------------------------------------------------------------------------- graded code
# A graded exercise's reference solution must not reach students in any form: not as its own
# lines (the fragments above) and not as the same code under other names, for example as a
# docstring example of the self-check that the exercise tells students to run. The code
# check compares statements, each normalised by Python's parser with its names numbered in
# order of appearance (attributes, keywords and constants kept), so that renaming variables,
# reformatting or a doctest prompt does not hide a copy.

_SIMPLE = (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Return, ast.Expr, ast.Raise)
# A statement of fewer syntax nodes than this is too generic to be a solution's own, e.g.
# ``a = a.reshape(-1)`` (8 nodes) or ``return a`` (2).
MIN_NODES = 10


def _size(statement: str) -> int:
    """Count the syntax nodes of a statement, load/store contexts aside."""
    return sum(
        not isinstance(node, (ast.expr_context, ast.Module))
        for node in ast.walk(ast.parse(statement))
    )


class _Renamer(ast.NodeTransformer):
    """Number the names of a statement in order of appearance: ``_0``, ``_1``, ..."""

    def __init__(self):
        self.names: dict[str, str] = {}

    def _name(self, name: str) -> str:
        return self.names.setdefault(name, f"_{len(self.names)}")

    def visit_Name(self, node: ast.Name) -> ast.Name:
        return ast.copy_location(ast.Name(id=self._name(node.id), ctx=node.ctx), node)

    def visit_arg(self, node: ast.arg) -> ast.arg:
        node.arg = self._name(node.arg)
        return node


def normalised_statements(tree: ast.AST) -> list[str]:
    """Return every simple statement under `tree`, names aside (docstrings skipped)."""
    out = []
    for node in ast.walk(tree):
        if not isinstance(node, _SIMPLE):
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # a docstring or a bare constant
        out.append(ast.unparse(_Renamer().visit(copy.deepcopy(node))))
    return out


def _parse(code: str) -> ast.AST | None:
    code = "\n".join(line for line in code.splitlines() if not line.lstrip().startswith(("%", "!")))
    try:
        return ast.parse(textwrap.dedent(code))
    except (SyntaxError, ValueError):
        return None


_FENCED = re.compile(r"^\s*(`{3,}|~{3,})[^\n]*\n(.*?)^\s*\1", re.S | re.M)


def code_statements(text: str) -> set[str]:
    """Return the normalised statements of every piece of Python code in a text.

    A text is searched as a whole (a Python file, a code cell), then by its doctest examples
    (docstrings, READMEs), its fenced code blocks and finally line by line, so that code in
    a docstring, in Markdown or in the text of an HTML page is found too.
    """
    pieces = [text]
    try:
        examples = doctest.DocTestParser().get_examples(text)
    except ValueError:  # an inconsistent prompt in prose: the other routes still look
        examples = []
    if examples:
        pieces.append("".join(example.source for example in examples))
    pieces += [match.group(2) for match in _FENCED.finditer(text)]
    found: set[str] = set()
    whole = _parse(text)
    if whole is not None:
        found.update(normalised_statements(whole))
    for piece in pieces[1:]:
        tree = _parse(piece)
        if tree is not None:
            found.update(normalised_statements(tree))
    if whole is None:
        for line in text.splitlines():
            line = re.sub(r"^\s*(>>>|\.\.\.)\s?", "", line).strip()
            if 8 <= len(line) <= 2000:
                tree = _parse(line)
                if tree is not None:
                    found.update(normalised_statements(tree))
    return found


def graded_answers(text: str) -> list[str]:
    """Return the source of every graded answer cell (``autograde: {answer}``) in a chapter."""
    lines = text.splitlines()
    return [
        source
        for first, last, _ in _blocks(text)
        for options, source in code_cells(lines[first : last + 1])
        if "answer" in (options.get("autograde") or {})
    ]


def graded_statements(chapters: Path) -> dict[str, str]:
    """Return the distinctive statements of the graded reference solutions, with their chapter.

    Distinctive: at least :data:`MIN_NODES` syntax nodes, and not shown on the public site
    anyway: by the book outside its solutions (code a chapter teaches may well be part of a
    solution), by a practice exercise's solution, or by the stub students are given.
    """
    texts = {c.name: c.read_text(encoding="utf-8") for c in sorted(chapters.glob("*.md"))}
    visible: set[str] = set()
    for text in texts.values():
        lines = text.splitlines()
        inside = set()
        for first, last, _ in _blocks(text):
            inside.update(range(first, last + 1))
            block = lines[first : last + 1]
            stub = graded_stub(block)
            if stub:
                visible |= code_statements(stub)
            else:
                visible |= {s for _, code in code_cells(block) for s in code_statements(code)}
        outside = "\n".join(line for k, line in enumerate(lines) if k not in inside)
        visible |= code_statements(outside)
        visible |= {
            s for _, source in code_cells(outside.splitlines()) for s in code_statements(source)
        }
    statements = {}
    for name, text in texts.items():
        for source in graded_answers(text):
            for statement in code_statements(source):
                if _size(statement) >= MIN_NODES and statement not in visible:
                    statements[statement] = name
    return statements


def _artefact_code(directory: Path):
    """Yield (path, code text) for every text file under `directory`, as students see it."""
    for path in sorted(directory.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        suffix = path.suffix.lower()
        if suffix == ".ipynb":
            nb = json.loads(path.read_text(encoding="utf-8"))
            for cell in nb.get("cells", []):
                yield path, "".join(cell.get("source", ""))
        elif suffix in (".html", ".htm"):
            raw = path.read_text(encoding="utf-8", errors="replace")
            yield path, html.unescape(re.sub(r"<[^>]+>", "", raw))
        elif suffix in TEXT_SUFFIXES:
            yield path, path.read_text(encoding="utf-8", errors="replace")


TEXT_SUFFIXES = (
    ".md",
    ".txt",
    ".py",
    ".pyi",
    ".js",
    ".json",
    ".tex",
    ".yml",
    ".yaml",
    ".cfg",
    ".toml",
    ".rst",
)


def find_graded_code(chapters: Path, artefacts: list[Path]) -> list[str]:
    """Return a description of every graded solution statement found in the artefacts."""
    statements = graded_statements(chapters)
    leaks = []
    for directory in artefacts:
        for path, text in _artefact_code(directory):
            for statement in sorted(code_statements(text) & statements.keys()):
                leaks.append(
                    f"{path}: graded solution code of {statements[statement]}: {statement[:70]!r}"
                )
    return leaks


def find_leaks(chapters: Path, artefacts: list[Path], *, graded_only: bool = False) -> list[str]:
    """Return a description of every solution fragment found in the artefacts.

    With `graded_only`, look for the graded exercises' solutions only (the public book).
    """
    texts = {c.name: c.read_text(encoding="utf-8") for c in sorted(chapters.glob("*.md"))}
    visible = " ".join(outside_solutions(t) for t in texts.values())
    visible += " " + _normalise(ANSWER_CELL) + " " + _normalise(GRADED_CELL)
    # What students are given of a graded exercise: the signature and docstring.
    for text in texts.values():
        lines = text.splitlines()
        for first, last, _ in _blocks(text):
            stub = graded_stub(lines[first : last + 1])
            visible += " " + _normalise(stub or "")
    # The library and the build's tools are public in both editions: their code may share
    # lines with solutions (tools/glued.py and a chapter-4 solution both have `found = None`).
    visible += " " + " ".join(
        _normalise(p.read_text())
        for folder in ("softmax_lib", "tools")
        for p in (ROOT / folder).rglob("*.py")
    )
    fragments = {}
    for name, text in texts.items():
        for fragment in solution_fragments(text, elsewhere=visible, graded_only=graded_only):
            fragments[fragment] = name
    leaks = []
    for directory in artefacts:
        for path, text in _artefact_texts(directory):
            for fragment, chapter in fragments.items():
                if fragment in text:
                    leaks.append(f"{path}: solution text of {chapter}: {fragment[:70]!r}")
    return leaks + find_graded_code(chapters, artefacts)


def student_config(path: Path) -> str:
    """Return the book's configuration for the student edition.

    The title says which edition it is, and no button leads to the repository, which holds
    the solutions: Binder and Colab open the teacher's sources, and the repository button
    links to them. Live code (Thebe) stays: it runs the cells of the student page itself.
    """
    import yaml

    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["title"] = f"{config['title']} (student edition)"
    config["launch_buttons"] = {
        key: value
        for key, value in config.get("launch_buttons", {}).items()
        if key not in ("binderhub_url", "colab_url", "jupyterhub_url", "deepnote_url")
    }
    config["sphinx"].setdefault("config", {})["launch_repository_button"] = False
    # The download button offers the student edition's notebook.
    config["sphinx"]["config"]["launch_notebook_edition"] = "student"
    # There is no Chinese student edition: no language switch (tools/i18n.py).
    config["sphinx"]["config"]["i18n_editions"] = {}
    return (
        "# Generated by tools/course.py from _config.yml: the student edition.\n"
        + yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
    )


# Pages for teachers only: the student edition leaves them out (the instructor's guide
# describes the hidden tests and counts their points from the teacher's sources).
TEACHER_PAGES = ("chapters/instructor-guide",)


def student_toc(path: Path) -> str:
    """Return the table of contents of the student edition: the book without teacher pages."""
    import yaml

    toc = yaml.safe_load(path.read_text(encoding="utf-8"))
    parts = []
    for part in toc["parts"]:
        chapters = [c for c in part["chapters"] if c["file"] not in TEACHER_PAGES]
        if chapters:
            parts.append({**part, "chapters": chapters})
    toc["parts"] = parts
    return "# Generated by tools/course.py from _toc.yml: the student edition.\n" + yaml.safe_dump(
        toc, sort_keys=False, allow_unicode=True
    )


def write_student_sources(out: Path) -> None:
    """Copy the book sources to `out`, with the solutions stripped from every chapter."""
    if out.exists():
        shutil.rmtree(out)
    (out / "chapters").mkdir(parents=True)
    for name in BOOK_FILES:
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, out / name)
    (out / "_config.yml").write_text(student_config(ROOT / "_config.yml"), encoding="utf-8")
    (out / "_toc.yml").write_text(student_toc(ROOT / "_toc.yml"), encoding="utf-8")
    intro = (ROOT / "intro.md").read_text(encoding="utf-8")
    (out / "intro.md").write_text(notebooks.select_edition(intro, "student"), encoding="utf-8")
    chapters = chapter_numbers()
    for chapter in sorted(CHAPTERS.glob("*.md")):
        if f"chapters/{chapter.stem}" in TEACHER_PAGES:
            continue
        text = notebooks.select_edition(chapter.read_text(encoding="utf-8"), "student")
        numbers = exercise_numbers(text, chapters[chapter.stem]) if chapter.stem in chapters else {}
        stripped = strip_solutions(text, numbers=numbers)
        (out / "chapters" / chapter.name).write_text(stripped, encoding="utf-8")
    for static in (ROOT / "_static", CHAPTERS / "_static"):
        if static.exists():
            shutil.copytree(static, out / static.relative_to(ROOT))


# One execution for both editions. The student pages show the outputs the teacher build
# computed: every code cell of a student chapter is a cell of the teacher chapter (same
# source, same tags) or an answer cell, which has no output. Seeding the student build's
# execution cache with those notebooks lets MyST-NB find every page there instead of running
# it again; `check-seeded` then fails if the student build executed anything itself.
SEEDED = "seeded from the teacher build"


def _read_notebook(path: Path, text: str | None = None):
    """Read a page as MyST-NB reads it for its execution cache (same cells, same metadata)."""
    from myst_nb.core.read import read_myst_markdown_notebook

    text = path.read_text(encoding="utf-8") if text is None else text
    return read_myst_markdown_notebook(text, path=path)


def _is_answer_cell(source: str) -> bool:
    """Return True for a cell strip_solutions adds: an empty answer cell or a graded stub."""
    return source.startswith("# Your answer to ") or "raise NotImplementedError()" in source


def student_outputs(teacher, student) -> None:
    """Copy each output of the executed `teacher` notebook to the same cell of `student`.

    Student code cells are the teacher's in order, minus the solutions' cells, plus answer
    cells. A student code cell that is neither (for instance one only the student edition
    has) raises ValueError: it would need an execution of its own.
    """
    taught = [c for c in teacher.cells if c.cell_type == "code"]
    position = 0
    for cell in (c for c in student.cells if c.cell_type == "code"):
        match = next(
            (
                i
                for i in range(position, len(taught))
                if taught[i].source == cell.source and taught[i].metadata == cell.metadata
            ),
            None,
        )
        if match is None:
            if not _is_answer_cell(cell.source):
                raise ValueError(
                    f"student code cell not in the teacher's chapter: {cell.source[:60]!r}"
                )
            cell.outputs, cell.execution_count = [], None
            continue
        cell.outputs = copy.deepcopy(taught[match].outputs)
        cell.execution_count = taught[match].get("execution_count")
        position = match + 1


def seed_student_cache(student_sources: Path, teacher_cache: Path, student_cache: Path) -> int:
    """Cache the student pages, with the teacher build's outputs, for the student build.

    `teacher_cache` is the execution cache of ``make book`` (``_build/.jupyter_cache``); a
    page whose current source it does not hold raises RuntimeError (build the book first).
    Returns the number of pages cached.
    """
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    teacher, student = get_cache(str(teacher_cache)), get_cache(str(student_cache))
    seeded = 0
    for page in sorted(student_sources.rglob("*.md")):
        relative = page.relative_to(student_sources)
        if "_build" in relative.parts:
            continue
        text = page.read_text(encoding="utf-8")
        if not myst.code_cells(text):
            continue
        notebook = _read_notebook(page, text)
        original = ROOT / relative
        try:
            _, executed = teacher.merge_match_into_notebook(_read_notebook(original))
        except KeyError:
            raise RuntimeError(
                f"{relative}: the teacher build's execution cache ({teacher_cache}) does not "
                "hold this page as it is now: run make book first"
            ) from None
        student_outputs(executed, notebook)
        student.cache_notebook_bundle(
            CacheBundleIn(notebook, str(page), data={"execution_seconds": 0, "source": SEEDED}),
            check_validity=False,
            overwrite=True,
        )
        seeded += 1
    if not seeded:
        raise RuntimeError(f"no page with code found in {student_sources}")
    return seeded


def executed_pages(cache: Path) -> list[str]:
    """Return the pages of `cache` a build executed itself (not seeded from the teacher's)."""
    from jupyter_cache import get_cache

    return sorted(
        record.uri
        for record in get_cache(str(cache)).list_cache_records()
        if record.data.get("source") != SEEDED
    )


STUDENT_README = """# Softmax, computed: assignments

One folder per chapter, each with one notebook: the chapter as the book shows it, without
solutions, with a cell to complete under every exercise. One exercise per chapter is graded:
a function to write, followed by locked cells whose tests are hidden from you. Do not
rename the notebook, and do not delete or copy cells: the grader finds your answer by the
cell it was given in.

## Set up once

You need Python 3.11, 3.12 or 3.13 (not 3.14 or newer: TensorFlow has no builds for them yet)
and about 5 GB of disk, on a 64-bit x86 Linux, a Mac with Apple silicon and macOS 14 or newer,
or 64-bit x86 Windows. Check which Pythons you have: `python3 --version` (Linux, macOS;
macOS's own `/usr/bin/python3` is too old: install 3.13 from python.org or Homebrew) or
`py --list` (Windows). Below, write your version (`python3.13`, `py -3.13`) where the
commands say 3.11.

Unzip the bundle, open a terminal in the folder that holds this README (`cd` to it), create
an environment there and install what the notebooks use, then start JupyterLab.

Linux and macOS, in a terminal:

    python3.11 -m venv .venv
    .venv/bin/python -m pip install -r requirements.txt
    .venv/bin/python -m jupyter lab

(On Debian and Ubuntu, `sudo apt install python3.11-venv` first if the first line says
ensurepip is not available.)

Windows, in PowerShell or the Command Prompt. Unzip to a short path such as `C:\\softmax`:
PyTorch and TensorFlow have long file names, and Windows refuses paths over 260 characters
unless "long paths" are enabled (an option at the end of python.org's installer).

    py -3.11 -m venv .venv
    .venv\\Scripts\\python -m pip install -r requirements.txt
    .venv\\Scripts\\python -m jupyter lab

Nothing needs activating: the commands call the environment's Python directly. Next time,
run only the last line; stop JupyterLab with Ctrl+C in its terminal.

`requirements.txt` installs the book's versions of NumPy, SciPy, PyTorch, TensorFlow, JAX
and the rest, JupyterLab, nbgrader (for handing in through your course's server, below) and
the book's helper library `softmax_lib` from this folder. On Linux it takes PyTorch's CPU
build from PyTorch's own index (the default Linux build brings several GB of GPU libraries
you do not need). On a Mac with an Intel processor (or a Python running under Rosetta),
PyTorch, TensorFlow, JAX and numba publish no current versions, so they are not installed:
the first chapter runs, and the others stop where they first import one of them. Work on
those chapters where your teacher says (a course JupyterHub, or your notebook uploaded to
Colab): the book's Binder and Colab buttons open the book's own pages, not your assignment.

## Work

Open a chapter's notebook and run it from the top (Run, Run All Cells). Write your function
where it says `# YOUR CODE HERE`, replacing `raise NotImplementedError()`. The graded
exercises of the first two chapters name a self-check you can run as often as you like, for
example:

    from softmax_lib.checks import check_softmax
    check_softmax(my_softmax, strict=True)

It says what fails and why, without giving the answer away; the hidden tests check the same
properties. The later graded exercises say what to compare your function with, and at what
tolerance where it matters. Before you hand the notebook in, restart the kernel and run all
cells: the grader runs it the same way, from the top, in a fresh kernel.

## Hand in

Your teacher says which way:

- **A learning platform** (Moodle, Canvas, a shared drive): upload the notebook under its
  own name, for example `01-softmax.ipynb`. Your feedback comes back the same way.
- **The course's nbgrader exchange** (a shared Linux or macOS machine, or JupyterHub;
  nbgrader's exchange does not run on Windows): your teacher gives you the course id `<id>`
  and the exchange directory `<dir>`. In the folder where you work, fetch the assignment,
  work on it there, submit it, and later fetch your feedback (it lands in
  `<chapter>/feedback/`):

      .venv/bin/python -m nbgrader fetch_assignment <chapter> --course <id> --Exchange.root=<dir>
      .venv/bin/python -m nbgrader submit <chapter> --course <id> --Exchange.root=<dir>
      .venv/bin/python -m nbgrader fetch_feedback <chapter> --course <id> --Exchange.root=<dir>

  (On a JupyterHub whose environment has nbgrader, plain `nbgrader ...` in its terminal.)

The feedback page shows, for each hidden test, what it checked and, if it failed, why.
"""

TEACHER_README = """# Softmax, computed: the graded assignments (teacher's copy)

An nbgrader course directory (nbgrader {nbgrader_version}, the Jupyter project's grader): one
assignment per chapter, each the chapter's notebook with its exercises, and one graded coding
exercise with hidden tests. Points per chapter:

{points_table}

**Keep this directory to yourself.** `source/` holds the reference solutions and the hidden
tests, `gradebook.db` the tests again; the book's public website does not show the graded
solutions. Students get `release/` only, or `{student_zip}`, which is `release/` with a
README, the requirements and the book's library.

## What is here

    nbgrader_config.py   course settings: course id, timeouts, the exchange, the feedback
    softmax_feedback.py  how feedback pages show a failed test: in words, no hidden code
    source/<chapter>/    the teacher's version: solutions and hidden tests (nbgrader format)
    release/<chapter>/   the students' version, made by `nbgrader generate_assignment`
    gradebook.db         nbgrader's database: assignments, grade cells, points
    exchange/            nbgrader's exchange (made by the first nbgrader command):
                         released assignments, submissions and feedback pass through it

`source/` and `gradebook.db` are readable by you alone (`make assignments` sets that; unzipping
does not keep it: run `chmod -R go-rwx source gradebook.db` after you unzip).

## Set up once

Use the book's environment (`make lab` in the repository), or in this directory, on Linux
or macOS (nbgrader's exchange, used below, does not run on Windows; grading work collected
by hand does, with `py -3.11 -m venv .venv` and `.venv\\Scripts\\python -m nbgrader ...`):

    python3.11 -m venv .venv
    .venv/bin/python -m pip install -r requirements.txt

(`requirements.txt` is the students' file: the book's versions of what the notebooks and the
hidden tests import, nbgrader, the CPU build of PyTorch and the book's library `softmax_lib`;
its comments say what differs on macOS.) Run the `nbgrader` commands below with that
environment active (`source .venv/bin/activate`).

The notebooks link to the book's pages at {site_url}.{site_note}

## Hand out, collect and grade through nbgrader's exchange

Students fetch and submit through the exchange folder, by its full path. Below, replace
`<chapter>` with an assignment, such as `01-softmax`, and `<exchange>` with the exchange:

- **On your own (to try the course, or to grade work you collect yourself):** the folder
  `exchange/` here, so `<exchange>` is the full path of this directory followed by
  `/exchange`. No administrator rights are needed.
- **On a machine or JupyterHub shared with your students:** they must not read this
  directory (it holds the solutions), so the exchange goes elsewhere. First an administrator
  makes a directory every user can write, for example
  `mkdir -p /srv/nbgrader/exchange && chmod 1777 /srv/nbgrader/exchange`; then you replace
  the line `c.Exchange.root = os.path.join(HERE, "exchange")` in `nbgrader_config.py` by
  `c.Exchange.root = "/srv/nbgrader/exchange"`, and close this directory to others
  (`chmod 700 .`). `<exchange>` is then `/srv/nbgrader/exchange`.

In this directory, release the assignment:

    nbgrader release_assignment <chapter>

Each student, in a folder of their own, fetches it (it lands in `<chapter>/`), completes the
notebook in JupyterLab, and submits it:

    nbgrader fetch_assignment <chapter> --course {course_id} --Exchange.root=<exchange>
    nbgrader submit <chapter> --course {course_id} --Exchange.root=<exchange>

(They run in the book's environment too; nbgrader warns that it found no
`nbgrader_config.py` in their folder, which is expected.)

In this directory, collect the submissions, grade them, write the feedback and hand it back,
and export the assignment's grades (to `grades-<chapter>.csv`; a plain `nbgrader export`
lists every assignment in the gradebook, with zeros for those not yet released):

    nbgrader collect <chapter>
    nbgrader autograde <chapter>
    nbgrader generate_feedback <chapter>
    nbgrader release_feedback <chapter>
    nbgrader export --assignment=<chapter> --to=grades-<chapter>.csv

Each student then fetches their feedback page, into
`<chapter>/feedback/<submission time>/<chapter>.html`:

    nbgrader fetch_feedback <chapter> --course {course_id} --Exchange.root=<exchange>

The formgrader (JupyterLab's *Nbgrader* menu, opened in this directory) does the teacher's
steps with buttons.

## Or with a learning platform

Upload `{student_zip}` (Moodle, Canvas, a shared drive), or each notebook in
`release/<chapter>/`. Students hand back the notebook under its own name. Put each student's
notebook at `submitted/<student>/<chapter>/<chapter>.ipynb`, then run `nbgrader autograde`,
`nbgrader generate_feedback` and `nbgrader export` as above: the feedback pages are in
`feedback/<student>/<chapter>/`, for you to return (`nbgrader release_feedback` works only
for submissions that came through the exchange). Do not mix the two ways within one
assignment.

## What grading does, and what students see

Autograding restores the hidden tests from `gradebook.db`, runs the notebook from the top in
a fresh kernel and awards each test cell's points when it runs without error. Exercises
without a grade cell are for practice, or for you to grade by hand in the formgrader.

The feedback page shows, under each graded test, what it checked and, if it failed, why, in a
sentence (for example that the student's softmax returns `nan` for large logits because `exp`
overflows), never the hidden tests' code, a traceback or the expected numbers
(`softmax_feedback.py`). The autograded notebooks you open in the formgrader keep the full
tracebacks.

`nbgrader autograde` prints one warning per graded test cell, such as
`Attribute 'checksum' for cell softmax-values has changed!`. That is nbgrader's known false
alarm for hidden tests (jupyter/nbgrader#1961): the gradebook keeps each test cell's checksum
with its hidden tests, the student's copy has them removed, and autograde puts them back,
which is the change it reports. It is harmless; whatever a student did to a locked cell, the
cell is graded as you wrote it. Other messages that mean nothing is wrong: SQLAlchemy's
`SAWarning: Object of type <SubmittedAssignment> not in session` (nbgrader's database code),
`Kernel is running over TCP without encryption` (the kernel nbgrader starts on your own
machine), and from `generate_feedback`, `application/papermill.record/text/plain ... is not
able to be represented` (the book's glued values, which the feedback page does not need).
The feedback pages typeset formulas with MathJax from the internet; offline, formulas show as
LaTeX source.

## Regenerate

From the book's repository: `make assignments` (it builds the book first if needed). The
graded exercises live in the chapters themselves, as `autograde` cells; the reference
solutions pass every hidden test each time the book is built.
"""

NBGRADER_CONFIG = """# nbgrader settings of this course (made by the book's tools/course.py).
import os

c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "{course_id}"
c.ExecutePreprocessor.timeout = 300

# The exchange: where release_assignment puts the assignments, students' fetch_assignment and
# submit find and leave them, and collect picks the submissions up. nbgrader's default,
# /usr/local/share/nbgrader/exchange, must be created by an administrator; here it is the
# folder exchange/ beside this file, made by the first nbgrader command, so that one user can
# run the whole cycle without administrator rights. On a server shared with your students,
# replace the next line by the shared directory an administrator made for it, for example
#     c.Exchange.root = "/srv/nbgrader/exchange"
# (see README.md: students must not be able to read this course directory).
HERE = os.path.dirname(os.path.abspath(__file__))
c.Exchange.root = os.path.join(HERE, "exchange")
if c.Exchange.root.startswith(HERE + os.sep):
    os.makedirs(c.Exchange.root, exist_ok=True)

# Feedback students can act on: each graded test shows what it checked and, if it failed,
# why, in words; not the hidden tests' code or a traceback (softmax_feedback.py, beside this
# file). The autograded notebooks you see in the formgrader keep everything.
import sys  # noqa: E402

sys.path.insert(0, HERE)
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import GetGrades  # noqa: E402
from softmax_feedback import PlainFeedback  # noqa: E402

c.GenerateFeedback.preprocessors = [GetGrades, CSSHTMLHeaderPreprocessor, PlainFeedback]
"""

# What the notebooks need on Linux, macOS and Windows: the students' requirements file
# (tests/book/test_requirements.py resolves it for every system and Python version).
STUDENT_REQUIREMENTS = ROOT / "requirements-student.txt"


def _nbgrader(course: Path, *args: str) -> None:
    """Run one nbgrader command in the course directory; fail loudly."""
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course,
        capture_output=True,
        text=True,
        # nbgrader runs `alembic` from the environment's bin directory.
        env={
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        },
    )
    if result.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed:\n{result.stdout}{result.stderr}")


def assignment_points(nb: dict) -> float:
    """Return the points of an nbgrader notebook: the sum over its grade cells."""
    return sum(
        c["metadata"].get("nbgrader", {}).get("points", 0)
        for c in nb["cells"]
        if c["metadata"].get("nbgrader", {}).get("grade")
    )


def _zip(directory: Path, archive: Path, root: str) -> Path:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(directory.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                bundle.write(path, Path(root) / path.relative_to(directory))
    return archive


def _environment(folder: Path) -> None:
    """Put what ``pip install -r requirements.txt`` needs in `folder`, the library included."""
    shutil.copy2(STUDENT_REQUIREMENTS, folder / "requirements.txt")
    shutil.copy2(ROOT / "pyproject.toml", folder / "pyproject.toml")
    shutil.copytree(
        ROOT / "softmax_lib", folder / "softmax_lib", ignore=shutil.ignore_patterns("__pycache__")
    )


def write_assignments(out: Path, sources: Path = ASSIGNMENT_SOURCES) -> dict[str, Path]:
    """Write the nbgrader course to `out` and zip it, with a student bundle beside it.

    `sources` holds the rendered nbgrader source notebooks of the numbered chapters, which
    ``make book`` writes. Returns the paths of the course directory, its release folder and
    the two zip files (``teacher`` and ``student``).
    """
    import nbgrader

    chapters = sorted(sources.glob("[0-9]*.ipynb"))
    if not chapters:
        raise FileNotFoundError(f"no assignment sources in {sources}: run make book first")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / "nbgrader_config.py").write_text(NBGRADER_CONFIG.format(course_id=COURSE_ID))
    shutil.copy2(ROOT / "tools" / "softmax_feedback.py", out / "softmax_feedback.py")
    rows = ["| assignment | graded points |", "|---|---|"]
    for chapter in chapters:
        target = out / "source" / chapter.stem / chapter.name
        target.parent.mkdir(parents=True)
        shutil.copy2(chapter, target)
        points = assignment_points(json.loads(chapter.read_text(encoding="utf-8")))
        rows.append(f"| {chapter.stem} | {points:g} |")
        _nbgrader(out, "generate_assignment", chapter.stem, "--force")
    student_zip = out.parent / f"{out.name}-student.zip"
    site = json.loads(chapters[0].read_text(encoding="utf-8"))["metadata"]["softmax_computed"]
    site_note = (
        " That address is a placeholder (the book was built without its published address): "
        "set `BOOK_SITE_URL` to the address where your students read the book and run "
        "`make assignments` again before you hand the notebooks out."
        if site.get("site_placeholder")
        else " To point them elsewhere, set `BOOK_SITE_URL` and run `make assignments` again."
    )
    (out / "README.md").write_text(
        TEACHER_README.format(
            nbgrader_version=nbgrader.__version__,
            points_table="\n".join(rows),
            student_zip=student_zip.name,
            course_id=COURSE_ID,
            site_url=site.get("site_url", ""),
            site_note=site_note,
        ),
        encoding="utf-8",
    )
    _environment(out)
    # The solutions and hidden tests are the teacher's alone.
    for private in (out / "source", out / "gradebook.db"):
        for path in [private, *private.rglob("*")]:
            path.chmod(0o700 if path.is_dir() else 0o600)

    # The students' bundle: the released notebooks, the library, the requirements.
    student = out.parent / f"{out.name}-student"
    if student.exists():
        shutil.rmtree(student)
    shutil.copytree(out / "release", student)
    _environment(student)
    (student / "README.md").write_text(STUDENT_README, encoding="utf-8")
    return {
        "course": out,
        "release": out / "release",
        "student": student,
        "teacher_zip": _zip(out, out.parent / f"{out.name}-teacher.zip", out.name),
        "student_zip": _zip(student, student_zip, "softmax-computed-assignments"),
    }


def main(argv: list[str]) -> int:
    """Run one command line of the course kit; return the exit status."""
    if len(argv) >= 2 and argv[0] == "student-src":
        write_student_sources(Path(argv[1]))
        print(f"student sources in {argv[1]}")
        if len(argv) == 4:  # teacher's cache, student build's cache
            count = seed_student_cache(Path(argv[1]), Path(argv[2]), Path(argv[3]))
            print(f"{count} student pages cached with the teacher build's outputs in {argv[3]}")
        return 0
    if len(argv) == 2 and argv[0] == "check-seeded":
        executed = executed_pages(Path(argv[1]))
        for uri in executed:
            print("EXECUTED AGAIN", uri)
        print(f"check-seeded: {len(executed)} pages executed by the student build itself")
        return 1 if executed else 0
    if len(argv) >= 2 and argv[0] == "assignments":
        paths = write_assignments(Path(argv[1]))
        print(
            f"nbgrader course (teacher's copy): {paths['course']}, zipped as {paths['teacher_zip']}"
        )
        print(f"students' bundle: {paths['student']}, zipped as {paths['student_zip']}")
        return 0
    if len(argv) >= 2 and argv[0] == "check-leaks":
        directories = [Path(a) for a in argv[1:]]
        missing = [d for d in directories if not d.is_dir()]
        if missing:
            print(f"check-leaks: not a directory: {', '.join(map(str, missing))}")
            return 2
        leaks = find_leaks(CHAPTERS, directories)
        for leak in leaks:
            print("LEAK", leak)
        scanned = sum(1 for d in directories for _ in _artefact_texts(d))
        print(f"check-leaks: {len(leaks)} solution fragments found in {scanned} files")
        return 1 if leaks else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
