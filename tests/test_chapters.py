"""Execute every chapter of the book, as a reader running it top to bottom would."""

from pathlib import Path

import pytest

jupytext = pytest.importorskip("jupytext")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[1]
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
