"""The Chinese edition's words for the English words the chapters compute (glued.tsv).

A chapter may glue a word chosen by a measurement (``glue("plain_verdict", "is" if ...
else "is not")``); the Chinese edition pastes its Chinese from ``locales/zh_CN/glued.tsv``
(``tools/glued.py``, ``tools/i18n.py``). These tests read the chapters' code, not a build:
every value the code can choose, as far as its literals tell, must have a row, so that
another machine's measurement never meets an untranslated word. The build refuses a word
value with no row too (a value the literals do not tell: a model's or a filter's name).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import unavailable

from tools import glued, locales

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted((ROOT / "chapters").glob("*.md"))


def missing_rows(pages, rows) -> list[str]:
    """Every (page, key, value) a page can paste as a word and `rows` does not translate."""
    missing = []
    for path in pages:
        text = path.read_text(encoding="utf-8")
        choices = glued.alternatives(text)
        for key in sorted(glued.pasted_keys(text)):
            for value in sorted(choices.get(key) or ()):
                if not glued.has_row(rows.get((path.stem, key), {}), value):
                    missing.append(f"{path.stem}\t{key}\t{value}")
    return missing


def test_every_word_a_chapter_can_glue_has_its_chinese():
    missing = missing_rows(PAGES, glued.rows())
    assert not missing, "no row in locales/zh_CN/glued.tsv for:\n" + "\n".join(missing)


def test_a_missing_alternative_is_found(tmp_path):
    page = tmp_path / "02-stable-softmax.md"
    page.write_text(
        "```{code-cell} ipython3\n:tags: [remove-cell]\n"
        'word = {1: "above", 0: "equal to"}\n'
        'glue("plain_verdict", "is" if ulps <= 0.5 else "is not", display=False)\n'
        'glue("side", word[s], display=False)\n'
        'glue("times", {1: "once"}.get(n, f"{n} times"), display=False)\n'
        'glue("n", f"{n:,}", display=False)\n'
        "```\n\nIt {glue:text}`plain_verdict` rounded, {glue:text}`side` one, "
        "{glue:text}`times`, {glue:text}`n:s` times.\n",
        encoding="utf-8",
    )
    rows = {
        ("02-stable-softmax", "plain_verdict"): {"is": "是"},
        ("02-stable-softmax", "side"): {"above": "高于", "equal to": "等于"},
        ("02-stable-softmax", "times"): {"once": "一次", "{n} times": "{n} 次"},
    }
    assert missing_rows([page], rows) == ["02-stable-softmax\tplain_verdict\tis not"]
    del rows[("02-stable-softmax", "times")]["{n} times"]
    assert "02-stable-softmax\ttimes\t{} times" in missing_rows([page], rows)


def test_every_row_names_a_key_its_page_glues_and_pastes():
    known = {}
    for path in PAGES:
        text = path.read_text(encoding="utf-8")
        known[path.stem] = (glued.pasted_keys(text), glued.glued_keys(text))
    wrong = []
    for page, key in glued.rows():
        pasted, patterns = known.get(page, (set(), set()))
        made = any(re.fullmatch(p, key) for p in patterns)
        if key not in pasted or not made:
            wrong.append(f"{page} {key}")
    assert not wrong, "rows of glued.tsv for keys no page glues and pastes: " + ", ".join(wrong)


def digits(cell: str) -> list[str]:
    """The runs of digits a cell types (its placeholders left out), in order."""
    return sorted(re.findall(r"\d+", glued.pattern_free(cell)))


def test_no_chinese_cell_types_a_number():
    # Digits the English cell has too are a name's or a formula's ($T^2$, log1p, x86_64).
    typed = [
        f"{page} {key}: {chinese}"
        for (page, key), table in glued.rows().items()
        for english, chinese in table.items()
        if digits(chinese) != digits(english)
    ]
    assert not typed, "a number in glued.tsv's Chinese (use a placeholder {n}):\n" + "\n".join(
        typed
    )


def test_a_placeholder_carries_the_number_and_a_list_is_joined_in_chinese():
    page = "07-classifier"
    assert glued.translate(page, "top_times", "12 times") == "12 次"
    assert glued.translate(page, "top_times", "1,204 times") == "1,204 次"
    assert glued.translate(page, "val_conf_side", "below") == "低于"
    assert glued.translate("10-fast-softmax", "online_sizes", "1, 100 and 4,096") == (
        "1、100 和 4,096"
    )
    assert glued.translate(page, "anything", "float32") == "float32"
    with pytest.raises(glued.MissingTranslation, match=r"07-classifier.*'T_side'.*'beside'"):
        glued.translate(page, "T_side", "beside")


# ------------------------------------------------------------------ what make book built

SITE = ROOT / "_build" / "html"


def pasted(path: Path) -> list[str]:
    """The values a built page pastes with ``{glue:text}``, in its article."""
    import bs4

    article = bs4.BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser").find("article")
    return [span.get_text() for span in article.select("span.pasted-text")]


@pytest.mark.built
def test_no_chinese_page_shows_a_glued_english_word():
    if not (SITE / "zh_CN" / "intro.html").exists():
        unavailable(f"no Chinese edition in {SITE / 'zh_CN'} (run make book)")
    english = []
    for page in locales.book_pages():
        words = {v for v in pasted(SITE / f"{page}.html") if glued.is_word(v)}
        english += [
            f"{page}: {value!r}"
            for value in pasted(SITE / "zh_CN" / f"{page}.html")
            if value in words
        ]
    assert not english, "glued English words on Chinese pages:\n" + "\n".join(english)
