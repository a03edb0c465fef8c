"""Every chapter runs top to bottom, as a reader runs it, and shows only code that runs."""

import json
import re
from pathlib import Path

import jupytext
import pytest
from helpers import cell_names, unavailable

from tools import course

ROOT = Path(__file__).resolve().parents[2]
# The pages that are notebooks (MyST code cells), not pages such as the library reference
# whose ```python examples jupytext would also read as code cells.
CHAPTERS = sorted(p for p in (ROOT / "chapters").glob("*.md") if "```{code-cell}" in p.read_text())


def test_every_chapter_in_the_toc_is_collected():
    toc = (ROOT / "_toc.yml").read_text()
    for path in CHAPTERS:
        assert f"chapters/{path.stem}" in toc, f"{path.name} is not in _toc.yml"
    assert CHAPTERS, "no executable chapter found"


def test_each_chapter_file_is_named_by_its_number_on_the_site():
    # A reader who downloads chapter 10 gets 10-....md, and contributors need no translation.
    numbers = course.chapter_numbers()
    assert len(numbers) >= 10
    wrong = {stem: n for stem, n in numbers.items() if not stem.startswith(f"{n:02d}-")}
    assert not wrong, f"file names disagree with the table of contents: {wrong}"
    numbered = {p.stem for p in CHAPTERS if p.stem[:2].isdigit()}
    assert numbered == set(numbers), "a numbered file is not a numbered chapter of _toc.yml"


EXECUTE = ROOT / "_build" / ".jupyter_cache"


@pytest.mark.built
@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_executes_without_error(path):
    """The build executed this chapter as it is now, top to bottom, without an error.

    The chapters are executed once, by make book (which stops at a failing cell); this reads
    that execution from its cache instead of running them again. A chapter edited since the
    build fails here: it was not executed as it is.
    """
    from jupyter_cache import get_cache

    if not (EXECUTE / "global.db").exists():
        unavailable("no execution cache in _build/.jupyter_cache (run make book)")
    try:
        _, nb = get_cache(str(EXECUTE)).merge_match_into_notebook(course._read_notebook(path))
    except KeyError:
        pytest.fail(f"{path.name} as it is now was not executed by the last make book")
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert all(cell.get("execution_count") for cell in code), "a code cell did not run"
    errors = [
        out
        for cell in code
        if "raises-exception" not in cell.metadata.get("tags", [])
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    assert not errors


HIDDEN_FROM_PAGE = {"remove-cell", "remove-input"}  # not in the HTML at all


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_cells_on_the_page_run_without_the_removed_ones(path):
    """Live code (Thebe) runs only the cells that are on the page, in order.

    So a cell the reader sees may not read a name that only a removed cell defines; a
    removed cell that visible code needs must be hidden (``hide-cell``) instead, which keeps
    it on the page, collapsed.
    """
    on_page, removed, problems = set(), set(), []
    for cell in jupytext.read(path).cells:
        if cell.cell_type != "code":
            continue
        defined, used = cell_names(cell.source)
        if HIDDEN_FROM_PAGE & set(cell.metadata.get("tags", [])):
            removed |= defined
            continue
        missing = (used - on_page - defined) & removed
        if missing:
            problems.append(f"{sorted(missing)} in: {cell.source.splitlines()[0][:60]}")
        on_page |= defined
    assert not problems, "\n".join(problems)


# One set-up for every chapter: the hidden set-up cell imports the book's style and glue from
# softmax_lib.book and applies it, and no chapter sets print options or figure style itself.
SETUP_IMPORT = "from softmax_lib.book import "
OWN_SETUP = re.compile(r"set_printoptions|rcParams|def glue_float|def markdown_table")


NUMBERED = [p for p in CHAPTERS if re.match(r"\d\d-", p.name)]


@pytest.mark.parametrize("path", NUMBERED, ids=lambda p: p.stem)
def test_every_chapter_shares_one_set_up_cell(path):
    cells = [c for c in jupytext.read(path).cells if c.cell_type == "code"]
    setup = [c for c in cells if {"hide-cell", "thebe-init"} <= set(c.metadata.get("tags", []))]
    assert setup, f"{path.name} has no hidden set-up cell (tags hide-cell, thebe-init)"
    lines = setup[0].source.splitlines()
    imported = [line for line in lines if line.startswith(SETUP_IMPORT)]
    assert imported and "page_style" in imported[0] and "glue_float" in imported[0]
    assert any(line.startswith("page_style(") for line in lines), "page_style() not called"
    own = [c.source.splitlines()[0] for c in cells if OWN_SETUP.search(c.source)]
    assert not own, f"{path.name} sets up printing or glue itself in: {own}"


# Code the reader sees must fit the code box (about 80 columns) instead of being cut off.
CODE_COLUMNS = 79


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_visible_code_fits_the_code_box(path):
    wide = [
        line
        for cell in jupytext.read(path).cells
        if cell.cell_type == "code" and not HIDDEN_FROM_PAGE & set(cell.metadata.get("tags", []))
        for line in cell.source.splitlines()
        if len(line) > CODE_COLUMNS
    ]
    assert not wide, "\n".join(wide)


# Glue that reads: every value a chapter glues appears in its text (roles and directives).
GLUE_USE = re.compile(r"\{glue(?::\w+)?\}(?:`([^`]+)`|[ \t]+(\S+))")


def glue_keys_used(text: str) -> set[str]:
    """Return the keys the glue roles and directives of a page's text show."""
    return {(role or directive).split(":")[0] for role, directive in GLUE_USE.findall(text)}


def test_glue_keys_used_reads_roles_directives_and_formats():
    text = "A {glue:text}`a:.2f` b {glue}`b` c\n```{glue:figure} fig\n```\n:::{glue:md} table\n"
    assert glue_keys_used(text) == {"a", "b", "fig", "table"}


@pytest.mark.built
@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_glued_value_is_shown(path):
    glued = ROOT / "_build" / "jupyter_execute" / "chapters" / f"{path.stem}.glue.json"
    if not glued.exists():
        unavailable(f"{glued} not built (run make book)")
    unused = set(json.loads(glued.read_text())) - glue_keys_used(path.read_text())
    assert not unused, f"glued but never shown in {path.name}: {sorted(unused)}"


# Code the reader sees should be short enough to read at a glance. A ratchet: the number of
# visible code cells over LONG_CELL lines in each chapter may only go down; when a refactor
# lowers it (a helper moved into softmax_lib or bench/), lower the allowance here with it.
LONG_CELL = 15
LONG_CELLS_ALLOWED = {
    "01-softmax": 3,
    "02-stable-softmax": 7,
    "03-sigmoid": 5,
    "04-entropy": 4,
    "05-gradients": 7,
    "06-frameworks": 7,
    "07-classifier": 7,
    "08-limits": 6,
    "09-attention": 7,
    "10-fast-softmax": 7,
}


def long_visible_cells(path: Path) -> list[str]:
    """Return the first line of each code cell on the page with more than LONG_CELL lines."""
    return [
        cell.source.splitlines()[0]
        for cell in jupytext.read(path).cells
        if cell.cell_type == "code"
        and not HIDDEN_FROM_PAGE & set(cell.metadata.get("tags", []))
        and len(cell.source.splitlines()) > LONG_CELL
    ]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_long_visible_code_cells_only_decrease(path):
    long_cells = long_visible_cells(path)
    allowed = LONG_CELLS_ALLOWED.get(path.stem, 0)
    assert len(long_cells) <= allowed, (
        f"{path.name}: {len(long_cells)} visible code cells over {LONG_CELL} lines "
        f"(allowed {allowed}); shorten one or move a helper into softmax_lib:\n"
        + "\n".join(long_cells)
    )
    assert len(long_cells) == allowed, (
        f"{path.name} has {len(long_cells)} long visible cells now: lower its allowance in "
        f"LONG_CELLS_ALLOWED to {len(long_cells)} (the ratchet only goes down)"
    )
