# ruff: noqa: RUF001 (Chinese punctuation in Chinese text)
"""The Chinese edition (issue 35): its catalogues, its glossary, its build, and what it built.

The source tests (no mark: ``make unit``) read ``locales/``: every catalogue complete and
passing the translators' check (``python -m tools.locales check``), the catalogues agreeing
with templates extracted from the English now (an English edit that ``make locales`` did not
carry over fails here, naming the page and the message), the glossary's terms used, and
``tools/i18n.py``'s hook for glue roles in translated messages pinned to MyST-NB. Each check
is also fed a bad example, to show that it can fail. The tests marked ``built`` compare the
Chinese pages that ``make book`` built with the English ones: the same glued values.

``BOOK_LOCALES`` (a folder holding ``zh_CN/LC_MESSAGES``) points the catalogue tests at
another set of catalogues, such as a trial translation.
"""

import collections
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po
from helpers import unavailable

from tools import glued as glued_words
from tools import i18n, locales

ROOT = Path(__file__).resolve().parents[2]
LANGUAGE = "zh_CN"
LOCALES = Path(os.environ.get("BOOK_LOCALES", ROOT / "locales")).resolve()
CATALOGUES = sorted((LOCALES / LANGUAGE / "LC_MESSAGES").rglob("*.po"))
GLOSSARY = ROOT / "locales" / LANGUAGE / "glossary.tsv"


def page_of(path: Path) -> str:
    return path.relative_to(LOCALES / LANGUAGE / "LC_MESSAGES").with_suffix("").as_posix()


def listing(problems) -> str:
    return "\n".join(f"  {p}" for p in problems)


# ------------------------------------------------------------------ the catalogues


def test_every_page_of_the_book_has_a_catalogue():
    assert {page_of(p) for p in CATALOGUES} == set(locales.book_pages())


def catalogue_problems(path: Path) -> list[str]:
    """The problems of one catalogue: untranslated, fuzzy, or failing the translators' check."""
    with path.open("rb") as f:
        catalog = read_po(f)
    found = []
    for message in catalog:
        if not message.id:
            continue
        where = message.locations[0] if message.locations else ("?", 0)
        why = locales.problems(message.id, message.string or "")
        if message.fuzzy:
            why.append("fuzzy (the English changed: update the translation, drop the flag)")
        found += [f"{where[0]}:{where[1]}: {reason}: {message.id[:80]!r}" for reason in why]
    return found


@pytest.mark.parametrize("path", CATALOGUES, ids=page_of)
def test_catalogue_is_complete_and_passes_the_translators_check(path):
    problems = catalogue_problems(path)
    assert not problems, (
        f"{len(problems)} message(s) of {page_of(path)} not ready (translate them; "
        f"python -m tools.locales check {path.relative_to(ROOT)} lists them):\n"
        + listing(problems[:40])
    )


def write_catalogue(path: Path, messages) -> Path:
    """Write a catalogue of ``(msgid, msgstr, fuzzy)`` messages, located on a page."""
    catalog = Catalog(locale=LANGUAGE)
    for line, (msgid, msgstr, fuzzy) in enumerate(messages, start=10):
        catalog.add(msgid, msgstr, locations=[("chapters/x.md", line)], flags=["fuzzy"] * fuzzy)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        write_po(f, catalog, width=0)
    return path


def test_the_catalogue_check_sees_untranslated_fuzzy_and_broken_messages(tmp_path):
    path = write_catalogue(
        tmp_path / "x.po",
        [
            ("Softmax of {glue:text}`z`.", "{glue:text}`z` 的 softmax。", False),  # good
            ("An untranslated one.", "", False),
            ("Changed English.", "旧的译文。", True),  # fuzzy
            ("With $x$ and {eq}`eq-a`.", "带有 $y$。", False),  # math changed, ref lost
            ("Below {glue:text}`k`.", "低于 {glue:text}`k`，即 3 个。", False),  # a typed number
            # a number of the English typed twice (chapter 9's "reaches 0 after ... and after")
            ("It reaches 0 after 4 and after 5.", "4 步后变为 0，5 步后变为 0。", False),
        ],
    )
    problems = catalogue_problems(path)
    assert len(problems) == 6, listing(problems)
    assert "numbers the English does not have: ['0']" in problems[5]
    assert "x.md:11: untranslated" in problems[0]
    assert "fuzzy" in problems[1]
    assert "roles differ" in problems[2] and "math differ" in problems[3]
    assert "numbers the English does not have: ['3']" in problems[4]


# ------------------------------------------------------------------ in step with the English


@pytest.fixture(scope="module")
def templates(tmp_path_factory):
    """The message templates of the book as it is now (Sphinx's gettext builder, ~25 s)."""
    return locales.templates(tmp_path_factory.mktemp("pot"))


def test_catalogues_agree_with_the_english_now(templates):
    found = locales.stale(LANGUAGE, templates, LOCALES)
    assert not found, (
        "the catalogues are not those of the English as it is now: run make locales, then "
        "translate what it adds or marks fuzzy:\n"
        + listing(f"{page}: {kind}: {msg[:90]!r}" for page, kind, msg in found[:40])
    )


def test_the_staleness_check_sees_an_english_edit(tmp_path):
    pots, loc = tmp_path / "pots", tmp_path / "locales"
    write_catalogue(pots / "chapters" / "x.pot", [("Old sentence.", "", False)])
    (pots / "chapters" / "x.pot").write_text(
        (pots / "chapters" / "x.pot").read_text().replace("Old sentence.", "New sentence.")
    )
    write_catalogue(pots / "chapters" / "new.pot", [("A new page.", "", False)])
    write_catalogue(
        loc / LANGUAGE / "LC_MESSAGES" / "chapters" / "x.po", [("Old sentence.", "旧。", False)]
    )
    found = locales.stale(LANGUAGE, pots, loc)
    assert ("chapters/x", "missing", "New sentence.") in found
    assert ("chapters/x", "obsolete", "Old sentence.") in found
    assert [f[:2] for f in found if f[0] == "chapters/new"] == [("chapters/new", "no catalogue")]


# ------------------------------------------------------------------ the glossary


@pytest.fixture(scope="module")
def terms():
    return locales.read_glossary(GLOSSARY)


def test_the_glossary_reads(terms):
    by_term = {t.english: t for t in terms}
    assert by_term["cross-entropy"].chinese == "交叉熵"
    assert by_term["temperature"].chinese == "温度"
    assert by_term["overflow"].also == ("溢出",)
    assert len(by_term) == len(terms), "a term is listed twice"


@pytest.mark.parametrize("path", CATALOGUES, ids=page_of)
def test_glossary_terms_are_used_consistently(path, terms):
    with path.open("rb") as f:
        catalog = read_po(f)
    found = [
        f"{m.locations[0][0]}:{m.locations[0][1]}: {why}: {m.id[:80]!r}"
        for m in catalog
        if m.id and not m.fuzzy
        for why in locales.glossary_problems(m.id, m.string or "", terms)
    ]
    assert not found, (
        f"{page_of(path)} does not use the glossary ({GLOSSARY.relative_to(ROOT)}; a legitimate "
        "exception goes into its `skip` column):\n" + listing(found[:40])
    )


def test_the_glossary_check_sees_an_inconsistent_term():
    glossary = [
        locales.Term("cross-entropy", "交叉熵"),
        locales.Term("entropy", "熵"),
        locales.Term("overflow", "上溢", also=("溢出",)),
        locales.Term("temperature", "温度", skip=re.compile(r"Temperature, the band")),
        locales.Term("online softmax", "在线 softmax"),
    ]

    def check(msgid, msgstr):
        return locales.glossary_problems(msgid, msgstr, glossary)

    assert check("The cross-entropy of p.", "p 的交叉熵。") == []
    assert check("The cross-entropy of p.", "p 的互熵。") == [
        "'cross-entropy' is rendered '交叉熵'"
    ]
    assert check("No overflow.", "不会溢出。") == []  # an accepted alternative
    assert check("Its Temperature, the band.", "其 Temperature 乐队。") == []  # skipped
    assert check("A temperature.", "一个温度。") == []
    assert check("A TEMPERATURE.", "一个热度。") != []  # any case
    assert check("The temperatures.", "各个热度。") != []  # plurals too
    assert check("Temperatured.", "热度。") == []  # whole words only
    assert check("An online softmax.", "在线softmax。") == []  # spacing is free
    assert check("Keyword `temperature=T`.", "关键字 `temperature=T`。") == []  # code is not prose
    assert check("The cross-entropy.", "") == []  # untranslated: the catalogue test's business
    equation = "\n\\text{cross-entropy} = -\\sum_i y_i \\log p_i\n"
    assert check(equation, equation) == []  # an equation is not prose


def test_the_build_names_each_untranslated_fuzzy_and_stale_message(tmp_path):
    # tools/i18n.py's check at the end of every Chinese build (its warnings fail the build).
    path = write_catalogue(
        tmp_path / "x.po",
        [
            ("Kept.", "保留。", False),
            ("Empty.", "", False),
            ("Changed.", "旧。", True),
            ("Gone from the English.", "已删除。", False),
        ],
    )
    with path.open("rb") as f:
        catalog = read_po(f)
    catalog.add("Raises", "引发", locations=[("softmax_lib.core.softmax", None)])  # a docstring's
    with path.open("wb") as f:
        write_po(f, catalog, width=0)
    seen = {"Kept.", "Empty.", "Changed."}
    assert i18n.page_problems("chapters/x", path, seen) == [
        (11, "untranslated: 'Empty.'"),
        (
            12,
            "fuzzy: the English changed (update the translation, remove the fuzzy flag): "
            "'Changed.'",
        ),
        (
            13,
            "stale: the English no longer has this message (run make locales, translate): "
            "'Gone from the English.'",
        ),
    ]
    assert i18n.page_problems("chapters/x", None, seen) == [
        (0, "no catalogue for this page: run make locales, then translate it")
    ]


# ------------------------------------------------------------------ glue in translated messages

NOTEBOOK = {
    "cells": [
        {
            "cell_type": "code",
            "execution_count": 1,
            "id": "a",
            "metadata": {},
            "outputs": [
                {
                    "data": {"text/plain": "0.6652409557748219"},
                    "metadata": {"scrapbook": {"mime_prefix": "", "name": "p0"}},
                    "output_type": "display_data",
                }
            ],
            "source": "glue('p0', 0.6652409557748219)",
        },
        {
            "cell_type": "markdown",
            "id": "b",
            "metadata": {},
            "source": "# A page\n\nThe top probability is {glue:text}`p0:.3f`.",
        },
    ],
    "metadata": {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}
    },
    "nbformat": 4,
    "nbformat_minor": 5,
}


RST_PAGE = """# Reference

$$
\\text{for every } x
$$ (eq-x)

```{eval-rst}
See :func:`len`.
```
"""


def build_translated_pages(tmp_path, extensions):
    """Build a notebook (its glue in a translation) and a MyST page in Chinese.

    Return the warnings and both pages' HTML.
    """
    import json

    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "page.ipynb").write_text(json.dumps(NOTEBOOK))
    (tmp_path / "reference.md").write_text(RST_PAGE)
    (tmp_path / "index.md").write_text("# Index\n\n```{toctree}\npage\nreference\n```\n")
    (tmp_path / "conf.py").write_text(
        textwrap.dedent(
            f"""
            extensions = {extensions!r}
            language = "zh_CN"
            locale_dirs = ["locales/"]
            gettext_compact = False
            nb_execution_mode = "off"
            myst_enable_extensions = ["dollarmath", "amsmath"]
            exclude_patterns = ["_build"]
            i18n_editions = {{}}
            """
        )
    )
    out = tmp_path / "_build" / "html"
    messages = tmp_path / "locales" / LANGUAGE / "LC_MESSAGES"
    glued = ("The top probability is {glue:text}`p0:.3f`.", "最大的概率是 {glue:text}`p0:.3f`。")
    write_catalogue(messages / "page.po", [("A page", "一页", False), (*glued, False)])
    write_catalogue(messages / "index.po", [("Index", "索引", False)])
    write_catalogue(
        messages / "reference.po",
        [
            ("Reference", "参考", False),
            ("\n\\text{for every } x\n", "\n\\text{对每个 } x\n", False),
            ("See :func:`len`.", "见 :func:`len`。", False),
        ],
    )
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-q", "-b", "html", str(tmp_path), str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    html = [(out / f"{p}.html").read_text(encoding="utf-8") for p in ("page", "reference")]
    return result.stderr, *html


def test_glue_hook_is_for_the_installed_myst_nb():
    import myst_nb

    assert myst_nb.__version__ == i18n.MYST_NB_VERSION, (
        f"tools/i18n.py's Parser (glue in translated messages) was written for MyST-NB "
        f"{i18n.MYST_NB_VERSION}, and MyST-NB {myst_nb.__version__} is installed: read its "
        "parser and glue roles again, and the test below, then update MYST_NB_VERSION"
    )


def test_glued_values_equations_and_rst_render_in_translated_messages(tmp_path):
    warnings, page, reference = build_translated_pages(tmp_path / "hook", ["myst_nb", "tools.i18n"])
    assert warnings == ""
    assert '最大的概率是 <span class="pasted-text">0.665</span>。' in page
    assert "\\text{对每个 } x" in reference  # the equation, translated, still an equation
    assert '<p>见 <code class="xref py py-func' in reference  # a role, not ":func:" as text
    # Without the hook MyST-NB cannot find the page's glue data in a translated message, an
    # equation's translation becomes the formula "::", and a role of an {eval-rst} block is
    # left as text. When the glue part fails, MyST-NB handles translations itself: the glue
    # half of tools/i18n.py's Parser can go.
    warnings, page, reference = build_translated_pages(tmp_path / "plain", ["myst_nb"])
    assert "No key 'p0' found in glue data" in warnings
    assert "最大的概率是" in page and "pasted-text" not in page
    assert "\\[::\\]" in reference and "见 :func:<code" in reference
    assert "inconsistent term references in translated message" in warnings


# ------------------------------------------------------------------ the language switch and search


def test_switch_links_lead_to_the_same_page_in_the_other_edition():
    editions = {"en": "", "zh_CN": "zh_CN"}
    (link,) = i18n.switch_links("chapters/01-softmax", "en", editions)
    assert (link["href"], link["label"], link["lang"]) == (
        "../zh_CN/chapters/01-softmax.html",
        "中文",
        "zh-CN",
    )
    (link,) = i18n.switch_links("chapters/01-softmax", "zh_CN", editions)
    assert (link["href"], link["label"], link["lang"]) == (
        "../../chapters/01-softmax.html",
        "English",
        "en",
    )
    assert i18n.switch_links("intro", "zh_CN", editions)[0]["href"] == "../intro.html"
    assert i18n.switch_links("intro", "en", editions)[0]["href"] == "zh_CN/intro.html"
    assert i18n.switch_links("intro", "en", {}) == []  # the student edition: no switch


def test_chinese_search_splits_han_runs_into_pairs():
    assert i18n.split_han("对 logit 做 softmax，得到交叉熵") == [
        "对",
        "logit",
        "做",
        "softmax",
        "得到",
        "到交",
        "交叉",
        "叉熵",
    ]
    assert i18n.split_han("熵 温度") == ["熵", "温度"]
    index = i18n.SearchChinese({})
    terms = index.split("交叉熵和 temperature")
    assert {"交叉", "叉熵", "熵和", "交", "叉", "熵", "和", "temperature"} <= set(terms)
    assert index.word_filter("熵") and not index.word_filter("x")


def test_the_build_refuses_to_start_without_the_english_execution(tmp_path):
    # tools.locales build executes nothing: a page the execution cache lacks stops it first.
    from jupyter_cache import get_cache

    assert locales.uncached_pages(tmp_path / "none") == [
        "(no execution cache: run the English build first)"
    ]
    assert get_cache(str(tmp_path / "empty")).list_cache_records() == []  # holds no page
    missing = locales.uncached_pages(tmp_path / "empty")
    assert "chapters/01-softmax" in missing and "intro" in missing
    assert "chapters/bibliography" not in missing  # no code: nothing to execute


# ------------------------------------------------------------------ what make book built

SITE = ROOT / "_build" / "html"
HAN = re.compile(r"[\u4e00-\u9fff]")


def built_pages():
    if not (SITE / LANGUAGE / "intro.html").exists():
        unavailable(f"no Chinese edition in {SITE / LANGUAGE} (run make book)")
    return [f"{page}.html" for page in locales.book_pages()]


def glued(html: str) -> dict[str, list[str]]:
    """The glued values of a built page, and every number of its article, each sorted."""
    import bs4

    start = html.index("<article")
    article = bs4.BeautifulSoup(html[start : html.index("</article>", start) + 10], "html.parser")
    text = article.get_text()
    return {
        # Glued words are translated (glued.tsv, tests/book/test_glued_words.py): not compared.
        "text": sorted(
            s.get_text()
            for s in article.select("span.pasted-text")
            if not (glued_words.is_word(s.get_text()) or HAN.search(s.get_text()))
        ),
        "math": sorted(s.get_text() for s in article.select(".pasted-math")),
        "images": sorted(Path(i["src"]).name for i in article.find_all("img")),
        # Numbers as the translators' check sees them: not the digits of a name (float64).
        "numbers": sorted(re.findall(r"(?<![A-Za-z0-9_.])\d+(?:\.\d+)?(?:e[+-]?\d+)?", text)),
    }


def glue_differences(english: str, chinese: str) -> dict[str, tuple[list[str], list[str]]]:
    """What the Chinese page lacks or adds, of the English page's glued values and numbers."""
    mine, theirs = glued(english), glued(chinese)
    differ = {}
    for kind in mine:
        lost = collections.Counter(mine[kind]) - collections.Counter(theirs[kind])
        added = collections.Counter(theirs[kind]) - collections.Counter(mine[kind])
        if lost or added:
            differ[kind] = (sorted(lost.elements()), sorted(added.elements()))
    return differ


def test_the_glue_comparison_sees_a_lost_or_changed_value():
    english = (
        '<html><article><p>Softmax gives <span class="pasted-text">0.665</span> and '
        '<span class="pasted-text">0.245</span> at T = 1 (float64).</p>'
        '<img src="../_images/a.png"/></article></html>'
    )
    reordered = (
        '<html><article><p>T = 1 时（float64），softmax 给出 <span class="pasted-text">0.245</span>'
        ' 和 <span class="pasted-text">0.665</span>。</p><img src="../_images/a.png"/>'
        "</article></html>"
    )
    assert glue_differences(english, reordered) == {}
    lost = reordered.replace('<span class="pasted-text">0.245</span>', "")
    assert glue_differences(english, lost) == {"text": (["0.245"], []), "numbers": (["0.245"], [])}
    typed = reordered.replace('<span class="pasted-text">0.245</span>', "0.25")
    assert glue_differences(english, typed) == {
        "text": (["0.245"], []),
        "numbers": (["0.245"], ["0.25"]),
    }


@pytest.mark.built
def test_every_chinese_page_shows_the_english_pages_glued_values():
    differ = {}
    for page in built_pages():
        english = (SITE / page).read_text(encoding="utf-8")
        chinese = (SITE / LANGUAGE / page).read_text(encoding="utf-8")
        for kind, (lost, added) in glue_differences(english, chinese).items():
            differ[f"{page} {kind}"] = (lost[:8], added[:8])
    assert not differ, "\n".join(f"{k}: missing {v[0]}, added {v[1]}" for k, v in differ.items())


def test_figure_captions_and_alt_texts_of_code_cells_are_messages(tmp_path):
    # Without execution Sphinx's gettext builder never sees a cell's figure: its caption and
    # alt text come from the cell's options (tools.locales.figure_texts).
    page = tmp_path / "page.md"
    page.write_text(
        "# Title\n\n```{code-cell} ipython3\n---\nmystnb:\n  figure:\n"
        "    caption: The loss, through `log(softmax)`\n      and through $\\log$.\n"
        "    name: fig-a\n  image:\n    alt: A line of\n      slope one.\n---\nplot()\n```\n"
        "\n```{code-cell} ipython3\nprint(1)\n```\n",
        encoding="utf-8",
    )
    assert locales.figure_texts(page) == [
        ("The loss, through `log(softmax)` and through $\\log$.", 3),
        ("A line of slope one.", 3),
    ]
    captions = locales.figure_texts(ROOT / "chapters" / "02-stable-softmax.md")
    catalogue = i18n.read_catalogue(
        LOCALES / LANGUAGE / "LC_MESSAGES" / "chapters" / "02-stable-softmax.po"
    )
    assert captions and all(catalogue.get(text, ("", True))[0] for text, _ in captions)


HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.built
def test_chinese_figures_have_chinese_captions_and_alt_text():
    import bs4

    english_only = []
    for page in built_pages():
        html = (SITE / LANGUAGE / page).read_text(encoding="utf-8")
        article = bs4.BeautifulSoup(html, "html.parser").find("article")
        for caption in article.select("figcaption"):
            if not HAN.search(caption.get_text()):
                english_only.append((page, "caption", caption.get_text()[:60]))
        for image in article.find_all("img"):
            if image.get("alt") and not HAN.search(image["alt"]):
                english_only.append((page, "alt", image["alt"][:60]))
    assert not english_only, english_only


@pytest.mark.built
def test_every_page_says_its_language_and_links_to_the_other_edition():
    for page in built_pages():
        for edition, other, lang in (("", LANGUAGE, "en"), (LANGUAGE, "", "zh-CN")):
            path = SITE / edition / page
            html = path.read_text(encoding="utf-8")
            assert re.search(r"<html[^>]* lang=\"([^\"]+)\"", html).group(1) == lang, path
            (href,) = re.findall(r'<a class="[^"]*language-switch__link" href="([^"]+)"', html)
            target = (path.parent / href).resolve()
            assert target == (SITE / other / page).resolve(), (page, href)
            assert target.exists()
