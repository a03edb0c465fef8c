"""The PDF matches the website: numbers, parts, no hidden cells, one citation style.

Reads what ``make pdf`` left in _build/latex (the LaTeX ``.toc`` and ``.aux``, the ``.tex``)
and what ``make book`` built in _build/html, and compares them. Run by ``make pdf`` (marker
``pdf``), after the PDF is built.
"""

import re
from pathlib import Path

import bs4
import jupytext
import pytest
import yaml
from helpers import unavailable

ROOT = Path(__file__).resolve().parents[2]
LATEX = ROOT / "_build" / "latex"
HTML = ROOT / "_build" / "html"

pytestmark = pytest.mark.pdf


def _key(title: str) -> str:
    """A title with LaTeX and HTML spelling differences removed."""
    title = title.replace("\\sphinxhyphen {}", "-").replace("\u2019", "'")
    return re.sub(r"[^a-z0-9]+", " ", title.lower()).strip()


def _read(path: Path) -> str:
    if not path.exists():
        unavailable(f"{path.relative_to(ROOT)} is missing (run make book and make pdf)")
    return path.read_text(encoding="utf-8", errors="replace")


def _html(page: str) -> bs4.BeautifulSoup:
    return bs4.BeautifulSoup(_read(HTML / page), "html.parser")


def _toc_pages() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [c["file"] for part in toc["parts"] for c in part["chapters"]]


def test_chapter_numbers_and_titles_are_the_sites():
    latex = {}
    for line in _read(LATEX / "book.toc").splitlines():
        found = re.match(
            r"\\contentsline \{chapter\}\{(?:\\numberline \{(\d+)\})?(.*)\}\{\d+\}\{", line
        )
        if found:
            latex[_key(found.group(2))] = found.group(1)
    site = {}
    for page in _toc_pages():
        soup = _html(f"{page}.html")
        h1 = next(h for h in soup.find_all("h1") if h.find("a", class_="headerlink"))
        number = h1.find(class_="section-number")
        title = h1.get_text().replace("#", "")
        if number is not None:
            title = title.replace(number.get_text(), "", 1)
        site[_key(title)] = number.get_text().strip().rstrip(".") if number else None
    site.pop(_key("Bibliography"))  # LaTeX's list has its own unnumbered chapter, checked below
    assert latex.pop(_key("Bibliography")) is None
    assert latex == site
    numbers = [n for n in site.values() if n]
    assert numbers == [str(i) for i in range(1, len(numbers) + 1)]


def test_parts_are_kept_in_order():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    parts = re.findall(r"\\contentsline \{part\}\{([^}]*)\}", _read(LATEX / "book.toc"))
    assert parts == [part["caption"] for part in toc["parts"]]


def test_figure_and_equation_numbers_are_the_sites():
    aux = _read(LATEX / "book.aux")
    latex = {}
    for docname, label, number in re.findall(
        r"\\newlabel\{(?:equation:)?(chapters/[\w-]+):((?:fig|eq)-[\w-]+)\}\{\{([\d.]+)\}", aux
    ):
        latex[docname, label] = number
    site = {}
    for page in _toc_pages():
        soup = _html(f"{page}.html")
        for figure in soup.select("figure[id]"):
            number = figure.select_one(".caption-number")
            if number is not None:
                site[page, figure["id"]] = number.get_text().replace("Fig.", "").strip()
        for math in soup.select("div.math[id]"):
            eqno = math.select_one(".eqno")
            if eqno is not None:
                label = math["id"].removeprefix("equation-")
                site[page, label] = eqno.get_text().strip("()#")
    assert len(site) > 20
    assert {k: latex.get(k) for k in site} == site


def _class_blocks(tex: str, name: str) -> list[str]:
    """The LaTeX inside each ``sphinxuseclass`` environment of a class (nesting counted)."""
    blocks = []
    opener = "\\begin{sphinxuseclass}{" + name + "}"
    for found in re.finditer(re.escape(opener), tex):
        depth, pos = 1, found.end()
        for token in re.finditer(r"\\(begin|end)\{sphinxuseclass\}", tex[pos:]):
            depth += 1 if token.group(1) == "begin" else -1
            if depth == 0:
                blocks.append(tex[pos : pos + token.start()])
                break
    return blocks


def test_no_collapsed_cell_is_printed():
    # Every cell reaches LaTeX wrapped in its tags as classes (tag_hide-cell, ...).
    tex = _read(LATEX / "book.tex")
    tags = [
        tag
        for page in _toc_pages()
        for cell in jupytext.read(ROOT / f"{page}.md").cells
        if cell.cell_type == "code"
        for tag in cell.metadata.get("tags", [])
    ]
    assert tags.count("hide-cell") > 10
    assert not _class_blocks(tex, "tag_hide-cell")
    hide_input = _class_blocks(tex, "tag_hide-input")
    assert len(hide_input) == tags.count("hide-input") > 0  # their outputs stay
    assert not [b for b in hide_input if "{cell_input}" in b]
    # The scanner does see inputs where they belong: in the cells run first, for instance.
    shown = _class_blocks(tex, "tag_thebe-init")
    assert shown and all("{cell_input}" in b for b in shown)


def test_one_author_year_style_in_text_and_list():
    labels = re.findall(r"\\bibitem\[([^\]]*)\]", _read(LATEX / "book.tex"))
    soup = _html("chapters/bibliography.html")
    site = [
        label.get_text().strip("[]")
        for label in soup.select("div.citation span.label, dl.citation dt span.label")
    ]
    assert labels and site
    style = re.compile(r"^[^\d,]+(?: and [^\d,]+| et al\.)?, \d{4}$")
    assert all(style.match(label) for label in labels), labels
    assert sorted(_key(s) for s in site) == sorted(_key(label) for label in labels)
    in_text = _html("chapters/09-attention.html").get_text()
    assert "Vaswani et al., 2017" in in_text and "Vaswani et al., 2017" in labels


def test_bibliography_is_one_chapter():
    toc = _read(LATEX / "book.toc")
    assert len(re.findall(r"\{chapter\}\{Bibliography\}", toc)) == 1


def test_guide_tables_keep_their_items_apart():
    # The web page breaks lines with <br>, which LaTeX drops: items must not run together.
    tex = _read(LATEX / "book.tex")
    guide = tex[tex.index("\\chapter{Instructor") :]
    guide = guide[: guide.index("\\chapter{", 1)]
    assert guide.count("•") > 20
    assert not re.findall(r"[a-z]\.•|[a-z]\.[A-Z][a-z]", guide)


def test_the_pdf_holds_no_graded_solution():
    # Issue 29: the PDF, like the public site, shows graded exercises without their solution.
    from tools import course

    tex = _read(LATEX / "book.tex")
    numbered = list((ROOT / "chapters").glob("[0-9][0-9]-*.md"))
    assert tex.count("This exercise is graded.") == len(numbered)
    assert course.find_leaks(ROOT / "chapters", [LATEX], graded_only=True) == []


def test_interactive_figures_give_their_pages_address():
    # Issue 31: paper cannot move a slider; the PDF's stand-in said "on the book's website"
    # without the address. Each now gives its page's address, or says that this copy of
    # the book was built without one (a placeholder site, as the notebooks say too).
    from tools import launch

    tex = _read(LATEX / "book.tex")
    sliders = {
        page: len(re.findall(r"^slider_bars\(", (ROOT / f"{page}.md").read_text(), re.M))
        for page in _toc_pages()
    }
    assert sum(sliders.values()) >= 4
    assert "run this cell in JupyterLab" not in tex  # the stand-in of the website is gone
    lines = re.findall(r"Interactive figure: move its slider on this page\b", tex)
    assert len(lines) == sum(sliders.values())
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    repo, _ = launch.repository_url(config["repository"]["url"], cwd=ROOT)
    site = launch.site_url(repo)
    if launch.site_is_placeholder(repo):
        assert tex.count("built without the address where the website is published") == len(lines)
        assert site not in tex
    else:
        for page, count in sliders.items():
            assert tex.count(f"{{{site}/{page}.html}}") == count, page
