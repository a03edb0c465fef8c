"""Course kit: student sources, assignment notebooks and the solution-leak check.

One source, two editions. The teacher edition is the book as it is. The student edition is
built from a copy of the sources in which every solution (a gated
``{solution-start}``...``{solution-end}`` block, with its code cells, or a ``{solution}``
directive) is replaced by an empty answer cell. Nothing is hidden with CSS: the solutions are
not in the student sources, so they cannot reach the student HTML, its downloads or the
notebooks.

Usage (the Makefile calls these)::

    python tools/course.py student-src OUT_DIR        # stripped copy of the book sources
    python tools/course.py assignments OUT_DIR        # student .ipynb bundle + library + README
    python tools/course.py check-leaks DIR [DIR ...]  # fail if any solution text is found
"""

from __future__ import annotations

import html
import json
import re
import shutil
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"
BOOK_FILES = [
    "_config.yml",
    "_toc.yml",
    "intro.md",
    "references.bib",
    "requirements.txt",
    "binder/runtime.txt",
    "tools/launch.py",
]

ANSWER_CELL = """```{{note}}
Work this exercise in the cell below. The solution is in the teacher's edition.
```

```{{code-cell}} ipython3
# Your answer to exercise {label}
```
"""

_FENCE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[\w:-]+)\}(?P<arg>.*)$")


def _blocks(text: str) -> list[tuple[int, int, str]]:
    """Return (first line, last line, label) of every solution in a MyST chapter.

    A gated solution runs from its ``{solution-start}`` fence to the closing fence of its
    ``{solution-end}``; a plain ``{solution}`` directive runs to its matching closing fence.
    """
    lines = text.splitlines()
    out, i = [], 0
    while i < len(lines):
        match = _FENCE.match(lines[i].strip())
        if match and match["name"] in ("solution-start", "solution"):
            label = match["arg"].strip()
            fence = match["fence"]
            j = i + 1
            if match["name"] == "solution-start":
                while j < len(lines) and not lines[j].strip().startswith(fence + "{solution-end}"):
                    j += 1
            if j >= len(lines):
                raise ValueError(f"unterminated solution starting at line {i + 1}")
            # Move to the closing fence of the directive that ends the solution.
            j += 1
            while j < len(lines) and lines[j].strip() != fence:
                j += 1
            out.append((i, j, label))
            i = j + 1
        else:
            i += 1
    return out


def strip_solutions(text: str) -> str:
    """Return the chapter with every solution replaced by an empty answer cell."""
    lines = text.splitlines()
    pieces, start = [], 0
    for first, last, label in _blocks(text):
        pieces.append("\n".join(lines[start:first]))
        pieces.append(ANSWER_CELL.format(label=label).rstrip("\n"))
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


def solution_fragments(
    text: str, *, elsewhere: str = "", min_code: int = 12, min_prose: int = 30
) -> list[str]:
    """Distinctive lines of the solutions, to look for in student artefacts.

    Code lines of at least `min_code` characters and markup-free prose lines of at least
    `min_prose` characters, keeping only those that occur neither outside the solutions of
    this chapter nor in `elsewhere` (the rest of the book), so that a line students may
    legitimately see, such as a shared import, cannot raise a false alarm.
    """
    lines = text.splitlines()
    blocks = _blocks(text)
    outside_text = outside_solutions(text) + " " + elsewhere
    fragments = []
    for first, last, _ in blocks:
        in_code = False
        for line in lines[first + 1 : last]:
            stripped = line.strip()
            if stripped.startswith("```"):
                in_code = stripped.startswith("```{code-cell}")
                continue
            if not stripped or stripped.startswith((":", "#")):
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


def find_leaks(chapters: Path, artefacts: list[Path]) -> list[str]:
    """Return a description of every solution fragment found in the artefacts."""
    texts = {c.name: c.read_text(encoding="utf-8") for c in sorted(chapters.glob("*.md"))}
    visible = " ".join(outside_solutions(t) for t in texts.values())
    visible += " " + _normalise(ANSWER_CELL)
    # The library is public in both editions: its docstrings may share lines with solutions.
    visible += " " + " ".join(
        _normalise(p.read_text()) for p in (ROOT / "softmax_lib").glob("*.py")
    )
    fragments = {}
    for name, text in texts.items():
        for fragment in solution_fragments(text, elsewhere=visible):
            fragments[fragment] = name
    leaks = []
    for directory in artefacts:
        for path, text in _artefact_texts(directory):
            for fragment, chapter in fragments.items():
                if fragment in text:
                    leaks.append(f"{path}: solution text of {chapter}: {fragment[:70]!r}")
    return leaks


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
    return (
        "# Generated by tools/course.py from _config.yml: the student edition.\n"
        + yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
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
    for chapter in sorted(CHAPTERS.glob("*.md")):
        stripped = strip_solutions(chapter.read_text(encoding="utf-8"))
        (out / "chapters" / chapter.name).write_text(stripped, encoding="utf-8")
    for static in (ROOT / "_static", CHAPTERS / "_static"):
        if static.exists():
            shutil.copytree(static, out / static.relative_to(ROOT))


STUDENT_README = """# Softmax, computed: assignment notebooks

One notebook per chapter, with the exercises and an empty cell under each. The notebooks
import the book's helper library, `softmax_lib`, which is included here.

Set up once (Python 3.11):

    python -m venv .venv
    .venv/bin/pip install -r requirements.txt
    .venv/bin/jupyter lab

Check your own implementations as you go, for example:

    from softmax_lib.checks import check_softmax
    check_softmax(my_softmax)
"""


def write_assignments(out: Path) -> Path:
    """Write student notebooks, the library and a README to `out`; return the zip file."""
    import jupytext  # only needed here

    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for chapter in sorted(CHAPTERS.glob("[0-9]*.md")):  # numbered chapters only
        notebook = jupytext.reads(strip_solutions(chapter.read_text(encoding="utf-8")), "md:myst")
        jupytext.write(notebook, out / f"{chapter.stem}.ipynb")
    shutil.copytree(
        ROOT / "softmax_lib", out / "softmax_lib", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy2(ROOT / "pyproject.toml", out / "pyproject.toml")
    requirements = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    (out / "requirements.txt").write_text(requirements, encoding="utf-8")
    (out / "README.md").write_text(STUDENT_README, encoding="utf-8")
    archive = out.with_suffix(".zip")
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(out.rglob("*")):
            if path.is_file():
                bundle.write(path, path.relative_to(out.parent))
    return archive


def main(argv: list[str]) -> int:
    """Run one command line of the course kit; return the exit status."""
    if len(argv) >= 2 and argv[0] == "student-src":
        write_student_sources(Path(argv[1]))
        print(f"student sources in {argv[1]}")
        return 0
    if len(argv) >= 2 and argv[0] == "assignments":
        archive = write_assignments(Path(argv[1]))
        print(f"assignment notebooks in {argv[1]}, bundled as {archive}")
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
