"""Execute every chapter of the book, as a reader running it top to bottom would."""

from pathlib import Path

import jupytext
import nbclient
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHAPTERS = sorted(
    p
    for p in (ROOT / "chapters").glob("*.md")
    if any(c.cell_type == "code" for c in jupytext.read(p).cells)
)


def test_every_chapter_in_the_toc_is_collected():
    toc = (ROOT / "_toc.yml").read_text()
    for path in CHAPTERS:
        assert f"chapters/{path.stem}" in toc, f"{path.name} is not in _toc.yml"
    assert CHAPTERS, "no executable chapter found"


@pytest.mark.notebooks
@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_executes_without_error(path):
    nb = jupytext.read(path)
    client = nbclient.NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()  # raises CellExecutionError on the first failing cell
    errors = [
        out
        for cell in nb.cells
        if cell.cell_type == "code" and "raises-exception" not in cell.metadata.get("tags", [])
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    assert not errors


HIDDEN_FROM_PAGE = {"remove-cell", "remove-input"}  # not in the HTML at all


def _names(source):
    """Names a cell defines and names it reads (over-approximate definitions: any binding)."""
    import ast
    import builtins

    code = "\n".join(
        "pass" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()
    )
    tree = ast.parse(code)
    defined, used = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (defined if isinstance(node.ctx, ast.Store) else used).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            defined.add(node.name)
            defined.update(a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg))
        elif isinstance(node, ast.Lambda):
            defined.update(a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            defined.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            defined.add(node.name)
    return defined, used - set(dir(builtins))


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
        defined, used = _names(cell.source)
        if HIDDEN_FROM_PAGE & set(cell.metadata.get("tags", [])):
            removed |= defined
            continue
        missing = (used - on_page - defined) & removed
        if missing:
            problems.append(f"{sorted(missing)} in: {cell.source.splitlines()[0][:60]}")
        on_page |= defined
    assert not problems, "\n".join(problems)


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
