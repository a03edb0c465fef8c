# ruff: noqa: RUF001 (Chinese punctuation in Chinese text)
"""English words in cell outputs, shown in Chinese on the Chinese pages (tools/outputs.py).

The source tests (``make unit``) translate a real interactive figure
(``softmax_lib.interactive``) and real glued Markdown with the functions the Chinese build
uses, and read the chapters' code for every ``slider_bars`` text and every literal table
header: each must have its Chinese. The tests marked ``built`` read what ``make book`` built:
no English word left in a Chinese page's interactive figures, glued tables or cell buttons.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from helpers import unavailable

from tools import glued, i18n, i18n_words, locales, outputs

ROOT = Path(__file__).resolve().parents[2]
LANGUAGE = "zh_CN"
CATALOGUES = ROOT / "locales" / LANGUAGE / "LC_MESSAGES"
HAN = re.compile(r"[\u4e00-\u9fff]")


# ------------------------------------------------------------------ interactive figures


def test_slider_texts_are_the_literal_arguments_that_hold_words():
    code = (
        "%matplotlib inline\n"
        "slider_bars(\n"
        '    [f"class {i} (logit {z[i]:g})" for i in range(3)],\n'
        "    steps, values, name='fig',\n"
        '    alt=("Bars of the probabilities, "\n'
        '         "with a slider."),\n'
        '    step_label="T = ", y_label="probability",\n'
        ")\n"
        'sl.interactive.slider_bars(["H(p)", "sigmoid(x)", "softmax(x, 0), first"], s, v,\n'
        '    name="g", alt=text, y_label="nats")\n'
    )
    assert outputs.slider_texts(code, first_line=10) == [
        ("class {i} (logit {z[i]})", 11),
        ("Bars of the probabilities, with a slider.", 11),
        ("probability", 11),
        ("softmax(x, 0), first", 18),
        ("nats", 18),
    ]


def _figure(**options):
    from softmax_lib.interactive import slider_bars

    steps = np.array([0.5, 1.0, 2.0])
    values = np.full((3, 2), 0.5)
    kwargs = {
        "name": "fig-t",
        "alt": 'Two bars "equal" <always>.',
        "step_label": "T = ",
        "y_label": "probability",
    }
    names = ["class 0 (logit 1)", "sigmoid(x)"]
    return slider_bars(names, steps, values, **{**kwargs, **options})._repr_mimebundle_()


CHINESE = {
    'Two bars "equal" <always>.': "两根柱条“相等”<始终>。",
    "probability": "概率",
    "class {i} (logit {z[i]})": "类别 {i}（logit {z[i]}）",
}


def plotly_texts(page: str) -> list[str]:
    """The texts a figure's Plotly chart draws: bar names, axis title, slider caption."""
    at = re.search(r"Plotly\.newPlot\(\s*\"[\w-]+\",\s*", page).end()
    decoder = json.JSONDecoder()
    data, end = decoder.raw_decode(page, at)
    layout, _ = decoder.raw_decode(page, re.compile(r"\s*,\s*").match(page, end).end())
    slider = layout["sliders"][0]
    texts = [x for trace in data for x in trace["x"]] + [layout["yaxis"]["title"]["text"]]
    texts += [slider["currentvalue"]["prefix"]] + [s["label"] for s in slider["steps"]]
    return [*texts, json.loads(re.search(r"prefix = (\"[^\"]*\")", page).group(1))]


def english_left(page: str) -> list[str]:
    """The English prose an interactive figure's HTML still shows or says."""
    import bs4

    soup = bs4.BeautifulSoup(page, "html.parser")
    found = [t for t in soup.find_all(string=True) if t.parent.name != "script"]
    found += [tag["aria-label"] for tag in soup.find_all(attrs={"aria-label": True})]
    return [t for t in found + plotly_texts(page) if outputs.has_words(t)]


def test_an_interactive_figure_is_shown_in_chinese():
    english = _figure()["text/html"]
    assert len(english_left(english)) >= 5  # the check sees the English figure's words
    lookup = outputs.Matcher(CHINESE)
    chinese, missing = outputs.translate_figure(english, LANGUAGE, lookup)
    assert missing == []
    assert english_left(chinese) == []
    assert 'aria-label="两根柱条“相等”&lt;始终&gt;。"' in chinese
    assert "类别 0（logit 1）" in chinese and '"title":{"text":"概率"}' in chinese
    assert "sigmoid(x)" in chinese  # a function, not prose: as it was
    assert lookup.used == set(CHINESE)
    # The figure still draws: the same numbers, the same ids and script.
    assert chinese.count("Plotly.newPlot(") == 1 and 'id="fig-t-slider"' in chinese
    assert english.count("0.5") == chinese.count("0.5")


def test_a_slider_caption_with_words_is_translated_and_names_the_keyboard_slider():
    english = _figure(step_label="temperature = ")["text/html"]
    lookup = outputs.Matcher({**CHINESE, "temperature =": "温度 ="})
    chinese, missing = outputs.translate_figure(english, LANGUAGE, lookup)
    assert missing == [] and english_left(chinese) == []
    assert 'prefix = "温度 = "' in chinese and '"prefix":"温度 = "' in chinese
    assert 'aria-label="滑块：温度"' in chinese and "温度：用方向键移动滑块" in chinese


def test_an_untranslated_figure_text_is_reported():
    english = _figure(step_label="temperature ")["text/html"]
    chinese, missing = outputs.translate_figure(english, LANGUAGE, outputs.Matcher({}))
    assert set(missing) == {
        'Two bars "equal" <always>.',
        "probability",
        "class 0 (logit 1)",
        "temperature",
    }
    # the library's own sentences are translated all the same
    assert "滑块" in chinese and "JupyterLab 中运行" in chinese
    _, missing = outputs.translate_figure(english, "xx", outputs.Matcher(CHINESE))
    assert any("arrow keys" in m for m in missing)  # an edition without FIGURE_UI


def test_every_interactive_figure_text_has_its_chinese():
    missing = []
    for page in [*sorted((ROOT / "chapters").glob("*.md")), ROOT / "intro.md"]:
        texts = locales.interactive_texts(page)
        domain = page.relative_to(ROOT).with_suffix(".po")
        entries = i18n.read_catalogue(CATALOGUES / domain)
        for text, line in texts:
            msgstr, fuzzy = entries.get(text, ("", True))
            if not msgstr or fuzzy or not HAN.search(msgstr):
                missing.append(f"{page.name}:{line}: {text}")
            elif set(re.findall(r"\{[^{}]*\}", text)) != set(re.findall(r"\{[^{}]*\}", msgstr)):
                missing.append(f"{page.name}:{line}: placeholders differ: {msgstr}")
    assert not missing, "interactive figures' texts without Chinese (make locales):\n" + "\n".join(
        missing
    )


# ------------------------------------------------------------------ glued Markdown

TABLE = (
    "| format | largest $M$ | `x|y` | notes |\n|---|---|---|---|\n"
    "| float16 | 6.55e+04 | 11 | fast |\n"
    "| float64 | 1.798e+308 | 53 | 12 runs, at most 3 |\n"
    "\nIts mean cross-entropy on this batch: `2.891213`.\n"
    "\n```python\ndef recipe():\n    return 'loss'\n```\n"
)
ROWS = {
    "format": "格式",
    "largest $M$": "最大值 $M$",
    "fast": "快",
    "{n} runs, at most {n}": "{n} 次运行，至多 {n}",
    "Its mean cross-entropy on this batch: `{n}`.": "它在这批数据上的平均交叉熵：`{n}`。",
}


def table_lookup(text):
    return glued.translate_or_none(ROWS, text)


def test_glued_markdown_is_translated_cell_by_cell():
    chinese, missing = outputs.translate_markdown(TABLE, table_lookup)
    assert missing == ["notes"]
    lines = chinese.split("\n")
    assert lines[0] == "| 格式 | 最大值 $M$ | `x|y` | notes |"
    assert lines[1] == "|---|---|---|---|" and lines[2] == "| float16 | 6.55e+04 | 11 | 快 |"
    assert lines[3] == "| float64 | 1.798e+308 | 53 | 12 次运行，至多 3 |"
    assert "它在这批数据上的平均交叉熵：`2.891213`。" in lines
    assert "    return 'loss'" in lines  # code is left alone


def test_a_list_cell_is_translated_item_by_item():
    lookup = outputs.Matcher({"Compute $\\sigma(x)$ safely.": "安全地计算 $\\sigma(x)$。"})
    text = (
        "| chapter | goals |\n|---|---|\n"
        "| {ref}`ch-a` | • Compute $\\sigma(x)$ safely. <br>• Run. |"
    )
    chinese, missing = outputs.translate_markdown(text, lookup)
    assert missing == ["chapter", "goals", "Run."]
    assert chinese.split("\n")[2] == "| {ref}`ch-a` | • 安全地计算 $\\sigma(x)$。 <br>• Run. |"


def test_every_literal_table_header_of_a_chapter_has_its_chinese():
    # The code is read as far as literals tell: a name assigned twice (two tables built in
    # `table`) gives both tables' headers to both keys, so a header may have its row under
    # any key of its page here (the build, which sees the real table, wants its own key's).
    everything = i18n_words.all_messages(ROOT / "locales", LANGUAGE)
    missing = []
    for page in sorted((ROOT / "chapters").glob("*.md")):
        table = {}
        for (row_page, _), row in glued.rows().items():
            if row_page == page.stem:
                table.update(row)
        for key, text in outputs.markdown_cells(page.read_text(encoding="utf-8")):
            if glued.translate_or_none(table, text) is None and everything(text) is None:
                missing.append(f"{page.stem}\t{key}\t{text}")
    assert not missing, "no row in locales/zh_CN/glued.tsv for:\n" + "\n".join(missing)


# ------------------------------------------------------------------ what make book built

SITE = ROOT / "_build" / "html"
PROMPT = re.compile(r"(Show|Hide) code cell \w+")


def prose(cell) -> str:
    """A table cell's text without its code and math."""
    import copy

    cell = copy.copy(cell)
    for inner in cell.select("code, pre, span.math, .math"):
        inner.decompose()
    return re.sub(r"\\\(.*?\\\)", " ", cell.get_text(" ", strip=True))


def english_outputs(english_html: str, chinese_html: str) -> list[str]:
    """English prose a Chinese page still shows in its outputs, or words extensions add.

    Its interactive figures' texts, the cells of its tables that the English page has too
    (glued or written), MyST-NB's buttons of hidden cells, sphinx-exercise's solution titles,
    the graded exercises' note (tools/graded.py), sphinx-design's buttons and the book's title.
    """
    import bs4

    def article(html):
        return bs4.BeautifulSoup(html, "html.parser").find("article")

    english, chinese = article(english_html), article(chinese_html)
    found = [t for f in chinese.select("div.interactive-figure") for t in english_left(str(f))]
    english_cells = {prose(c) for c in english.select("table th, table td")}
    for cell in chinese.select("table th, table td"):
        text = prose(cell)
        if text in english_cells and outputs.has_words(text) and not HAN.search(text):
            found.append(text)
    found += [p.get_text(strip=True) for p in chinese.select("summary p")]
    # words other extensions put on the page: solutions' titles, the graded exercises' note,
    # sphinx-design's buttons; and the book's title (in the page's <title>)
    for selector in (".solution > .admonition-title", ".graded-solution p", "a.sd-btn"):
        found += [e.get_text(" ", strip=True) for e in chinese.select(selector)]
    title = bs4.BeautifulSoup(chinese_html, "html.parser").title.get_text()
    found += [title.rsplit("\N{EM DASH}", 1)[-1].strip()]
    return [t for t in found if not HAN.search(t) or PROMPT.search(t)]


@pytest.mark.built
def test_no_chinese_page_shows_english_words_in_its_outputs():
    if not (SITE / LANGUAGE / "intro.html").exists():
        unavailable(f"no Chinese edition in {SITE / LANGUAGE} (run make book)")
    left, seen = {}, 0
    for page in locales.book_pages():
        if page == "chapters/api":
            continue  # the library reference stays English (tools/locales.py)
        english = (SITE / f"{page}.html").read_text(encoding="utf-8")
        chinese = (SITE / LANGUAGE / f"{page}.html").read_text(encoding="utf-8")
        seen += len(english_outputs(english, english))  # the check sees English
        found = english_outputs(english, chinese)
        if found:
            left[page] = sorted(set(found))[:12]
    assert seen > 50
    assert not left, "English in the Chinese pages' outputs:\n" + "\n".join(
        f"{page}: {words}" for page, words in left.items()
    )


# ------------------------------------------------------------------ the theme's words


def test_the_themes_words_are_translated_and_a_new_one_is_reported():
    page = (
        '<a class="headerlink" href="#a" title="Link to this heading">#</a>'
        '<a class="headerlink" href="#b" title="Link to this rubric">#</a>'
        '<nav aria-label="Main"></nav><p>© Copyright 2026.</p>'
    )
    chinese, left = i18n_words.translate_theme_words(page, LANGUAGE)
    assert 'title="链接到此标题"' in chinese and 'aria-label="主导航"' in chinese
    assert "© 版权所有 2026." in chinese
    assert left == ['title="Link to this rubric"']
    english, _ = i18n_words.translate_theme_words(page, "en")
    assert english == page


@pytest.mark.built
def test_no_chinese_page_has_the_themes_english_words():
    if not (SITE / LANGUAGE / "intro.html").exists():
        unavailable(f"no Chinese edition in {SITE / LANGUAGE} (run make book)")
    english = {*i18n_words.THEME_WORDS[LANGUAGE], 'title="Link to this'}
    left = {}
    for path in sorted((SITE / LANGUAGE).rglob("*.html")):
        html = path.read_text(encoding="utf-8")
        found = sorted(e for e in english if e in html)
        if found:
            left[str(path.relative_to(SITE))] = found
    assert not left, left
