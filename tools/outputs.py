# ruff: noqa: RUF001 (Chinese punctuation in Chinese text)
"""English words in the outputs of code cells, shown in the edition's language (issue 35).

The Chinese edition reads the English build's execution, so whatever a cell printed is
English. Two kinds of output hold prose, and ``tools/i18n.py`` translates both in the
edition's build (nothing is executed again):

* **Interactive figures** (``softmax_lib.interactive.slider_bars``): an HTML output whose
  ``aria-label`` is the call's ``alt``, whose Plotly figure shows the bars' names
  (``categories``), the axis label (``y_label``) and the slider's caption (``step_label``),
  and whose fixed sentences (the fallback, the keyboard slider's label) are the library's.
  :func:`slider_texts` reads the literal arguments of each call from a page's code
  (Python's ``ast``) into the page's catalogue (``make locales``, beside the figures'
  captions); an f-string becomes a message with placeholders (``class {i} (logit {z[i]})``),
  carried unchanged into the translation, that matches any value. :func:`translate_figure`
  rewrites the HTML with the page's translations and :data:`FIGURE_UI`.
* **Glued Markdown** (``glue(key, Markdown(table))`` pasted with ``{glue:md}``): each table
  cell, or line outside a table, that holds English words is translated by
  ``locales/<language>/glued.tsv`` (page, key, English, Chinese; ``{n}`` placeholders carry
  numbers, as for glued words: ``tools/glued.py``), or else by the catalogues of the book's
  pages (the instructor guide's tables quote the chapters' objectives, which the chapters'
  catalogues translate). :func:`translate_markdown` does it.

Text with no translation is returned in a list (the build warns, an error under ``-W``);
what counts as English words is :func:`has_words`: code, math, numbers, names of libraries
and formats, and function names (``sigmoid(x)``) do not.
"""

from __future__ import annotations

import ast
import html
import json
import re
from collections.abc import Callable

from tools import glued

#: The sentences ``softmax_lib.interactive`` writes into every figure, in each edition.
FIGURE_UI = {
    "zh_CN": {
        "Interactive figure: move its slider on the book's website, or run this cell in "
        "JupyterLab.": "交互式图表：请在本书网站上拖动它的滑块，或在 JupyterLab 中运行这个单元格。",
        "Slider: {caption}": "滑块：{caption}",
        "{caption}: arrow keys move the slider": "{caption}：用方向键移动滑块",
        "step": "步数",
    }
}

Lookup = Callable[[str], "str | None"]

# ------------------------------------------------------------------ what is prose

_CODE = re.compile(r"``?[^`]+``?")
_MATH = re.compile(r"\$\$.+?\$\$|\$[^$]+\$", re.S)
_ROLE = re.compile(r"\{[\w:-]+\}`[^`]*`")
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")
_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*(\()?")
#: Names an output may show that are not English words: functions, methods, abbreviations.
NAMES = glued.NAMES | frozenset(
    "logit logits dtype log-sum-exp softmax log-softmax logsumexp lse sigmoid NLL CE KL L-BFGS "
    "L-BFGS-B BFGS scikit-learn Python JupyterLab Plotly Keras Linux macOS x86_64 CPU GPU "
    "cpu".split()
)


def has_words(text: str) -> bool:
    """Whether `text` holds English words: prose outside code, math, roles and placeholders.

    A word is two Latin letters or more that is not a name (:data:`NAMES`), an identifier
    (digits or ``_``), a function applied (``sigmoid(x)``, ``KL(p || q)``) or a unit.
    """
    for pattern in (_ROLE, _CODE, _MATH, _PLACEHOLDER):
        text = pattern.sub(" ", text)
    for match in _TOKEN.finditer(text):
        token, call = match.group(0).rstrip("("), match.group(1)
        if call or token in NAMES or "_" in token or any(c.isdigit() for c in token):
            continue
        if len(token) >= 2:
            return True
    return False


def one_line(text: str) -> str:
    """Return `text` with its runs of white space made one space (as messages are)."""
    return " ".join(text.split())


class Matcher:
    """A lookup of ``{english: translation}`` by exact text or by pattern; it notes what it used.

    An English text with placeholders (``class {i} (logit {z[i]})``) matches a value with
    anything in their place; the translation gets the same pieces in its placeholders.
    """

    def __init__(self, entries: dict[str, str], *, patterns: bool = True) -> None:
        self.entries = entries
        self.used: set[str] = set()
        self.patterns = []
        for english in entries if patterns else ():
            names = _PLACEHOLDER.findall(english)
            if names:
                regex = "(.+?)".join(re.escape(p) for p in _PLACEHOLDER.split(english))
                self.patterns.append((re.compile(regex), names, english))

    def __call__(self, text: str) -> str | None:
        """Return the translation of `text`, or None."""
        text = one_line(text)
        if text in self.entries:
            self.used.add(text)
            return self.entries[text]
        for regex, names, english in self.patterns:
            match = regex.fullmatch(text)
            if match:
                self.used.add(english)
                values = dict(zip(names, match.groups(), strict=True))
                return _PLACEHOLDER.sub(
                    lambda m, v=values: v.get(m.group(0), m.group(0)), self.entries[english]
                )
        return None


# ------------------------------------------------------------------ interactive figures

#: The arguments of ``slider_bars`` that hold text, by keyword; the categories are the first.
TEXT_ARGUMENTS = ("alt", "step_label", "y_label")


def _literal(node: ast.AST) -> str | None:
    """Return a string literal, or an f-string as a pattern (``{i}``), or None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        parts = []
        for part in node.values:
            if isinstance(part, ast.Constant):
                parts.append(str(part.value))
            else:
                parts.append("{" + ast.unparse(part.value) + "}")
        return "".join(parts)
    return None


def _categories(node: ast.AST) -> list[str]:
    if isinstance(node, ast.List | ast.Tuple):
        return [t for t in map(_literal, node.elts) if t is not None]
    if isinstance(node, ast.ListComp):
        found = _literal(node.elt)
        return [found] if found is not None else []
    return []


def slider_texts(code: str, first_line: int = 1) -> list[tuple[str, int]]:
    """Return the texts of each ``slider_bars`` call in `code` that hold words, with lines."""
    source = "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in code.splitlines()
    )
    texts = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", getattr(node.func, "attr", ""))
        if name != "slider_bars":
            continue
        found = _categories(node.args[0]) if node.args else []
        keywords = {k.arg: k.value for k in node.keywords}
        found += [t for k in TEXT_ARGUMENTS if k in keywords for t in [_literal(keywords[k])] if t]
        line = first_line + node.lineno - 1
        texts += [(one_line(t), line) for t in found if has_words(t)]
    return texts


_FIGURE = re.compile(r'(<div class="interactive-figure" role="figure" aria-label=")([^"]*)(")')
_FALLBACK = re.compile(r'(<p id="[\w-]+-fallback">)([^<]*)(</p>)')
_KNOB = re.compile(r'(role="slider" .*?aria-label=")([^"]*)(".*?hidden>)([^<]*)(</div>)', re.S)
_PLOT = re.compile(r"Plotly\.newPlot\(\s*\"[\w-]+\",\s*")
_PREFIX = re.compile(r"(prefix = )(\"(?:[^\"\\]|\\.)*\")")


def _js(value) -> str:
    """JSON for a script in HTML (no ``<``, so no ``</script>``)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


def translate_figure(page: str, language: str, lookup: Lookup) -> tuple[str, list[str]]:
    """Translate an interactive figure's HTML; return it and the texts left untranslated."""
    ui = FIGURE_UI.get(language, {})
    missing: list[str] = []

    def text(value: str) -> str:
        if not has_words(value):
            return value
        found = lookup(value)
        if found is None:
            missing.append(one_line(value))
            return value
        start, end = len(value) - len(value.lstrip()), len(value.rstrip())
        return value[:start] + found + value[end:]  # "T = " keeps its space before the value

    def fixed(english: str, **fields) -> str:
        found = ui.get(english)
        if found is None:
            missing.append(english.format(**fields))
            return english.format(**fields)
        return found.format(**fields)

    def attribute(match, translate) -> str:
        value = translate(html.unescape(match.group(2)))
        return match.group(1) + html.escape(value) + match.group(3)

    page = _FIGURE.sub(lambda m: attribute(m, text), page, count=1)
    page = _FALLBACK.sub(lambda m: attribute(m, lambda v: fixed(v)), page, count=1)

    # The keyboard slider is named by the slider's caption (step_label without " = ").
    prefix = _PREFIX.search(page)
    step_label = text(json.loads(prefix.group(2))) if prefix else ""
    if prefix:
        page = page[: prefix.start(2)] + _js(step_label) + page[prefix.end(2) :]
    caption = step_label.strip(" =:") or fixed("step")

    def knob(match) -> str:
        label, shown = html.unescape(match.group(2)), html.unescape(match.group(4))
        if not label.startswith("Slider: ") or not shown.endswith(": arrow keys move the slider"):
            missing.append(f"{label} / {shown}")  # the library's sentences changed
        new_label = fixed("Slider: {caption}", caption=caption)
        new_shown = fixed("{caption}: arrow keys move the slider", caption=caption)
        return (
            match.group(1) + html.escape(new_label) + match.group(3)
            + html.escape(new_shown) + match.group(5)
        )  # fmt: skip

    page = _KNOB.sub(knob, page, count=1)
    found = _PLOT.search(page)
    if found:
        decoder = json.JSONDecoder()
        data, end = decoder.raw_decode(page, found.end())
        comma = re.compile(r"\s*,\s*").match(page, end)
        layout, stop = decoder.raw_decode(page, comma.end())
        for trace in data:
            trace["x"] = [text(x) if isinstance(x, str) else x for x in trace.get("x", [])]
        title = layout.get("yaxis", {}).get("title", {})
        if "text" in title:
            title["text"] = text(title["text"])
        for slider in layout.get("sliders", []):
            current = slider.get("currentvalue", {})
            if "prefix" in current:
                current["prefix"] = text(current["prefix"])
        page = page[: found.end()] + _js(data) + comma.group(0) + _js(layout) + page[stop:]
    return page, missing


# ------------------------------------------------------------------ glued Markdown

_SEPARATOR = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_CELL_SPLIT = re.compile(r"(``?[^`]+``?|\$[^$]+\$|\\\||\|)")
_ITEMS = re.compile(r"\s*<br>\s*")


def cells(line: str) -> list[str]:
    """Split a Markdown table row into its cells (a ``|`` in code or math stays)."""
    pieces, current = [], ""
    for part in _CELL_SPLIT.split(line.strip()):
        if part == "|":
            pieces.append(current)
            current = ""
        else:
            current += part
    pieces.append(current)
    if pieces and not pieces[0].strip():
        pieces = pieces[1:]
    if pieces and not pieces[-1].strip():
        pieces = pieces[:-1]
    return pieces


def _translate_text(text: str, lookup: Lookup, missing: list[str]) -> str:
    """Translate a cell: whole, or item by item (``• a <br>• b``) when it is a list."""
    if not has_words(text):
        return text
    found = lookup(text)
    if found is not None:
        return found
    items = _ITEMS.split(text)
    if len(items) > 1 or text.startswith("• "):
        out = []
        for item in items:
            bullet = "• " if item.startswith("• ") else ""
            body = item.removeprefix("• ")
            one = lookup(body) if has_words(body) else body
            if one is None:
                missing.append(body)
                one = body
            out.append(bullet + one)
        return " <br>".join(out)
    missing.append(text)
    return text


def translate_markdown(text: str, lookup: Lookup) -> tuple[str, list[str]]:
    """Translate the prose of glued Markdown; return it and the texts left untranslated.

    Table rows are translated cell by cell; a line outside a table as a whole; code fences
    are left alone.
    """
    missing: list[str] = []
    out, fenced = [], False
    for line in text.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
            out.append(line)
        elif fenced or not line.strip() or _SEPARATOR.match(line):
            out.append(line)
        elif line.lstrip().startswith("|"):
            row = [_translate_text(c.strip(), lookup, missing) for c in cells(line)]
            out.append("| " + " | ".join(row) + " |")
        else:
            out.append(_translate_text(line, lookup, missing))
    return "\n".join(out), missing


# ------------------------------------------------------------------ what the code can glue


def _key_pattern(node: ast.AST) -> str | None:
    """Return a glued key as a regular expression (an f-string's fields: any name)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return re.escape(node.value)
    if isinstance(node, ast.JoinedStr):
        return "".join(
            re.escape(p.value) if isinstance(p, ast.Constant) else r"\w+" for p in node.values
        )
    return None


def _strings(node: ast.AST, names: dict[str, list[ast.AST]], depth: int = 0) -> list[str]:
    """Return the string literals an expression is built from (an f-string's fields as ``{}``)."""
    if depth > 4:
        return []
    if isinstance(node, ast.Constant):
        return [node.value] if isinstance(node.value, str) else []
    if isinstance(node, ast.JoinedStr):
        return [
            "".join(p.value if isinstance(p, ast.Constant) else "{}" for p in node.values)
        ]  # fmt: skip
    if isinstance(node, ast.Name):
        return [s for value in names.get(node.id, []) for s in _strings(value, names, depth + 1)]
    return [s for child in ast.iter_child_nodes(node) for s in _strings(child, names, depth)]


def markdown_cells(page_text: str) -> list[tuple[str, str]]:
    r"""Return ``(key, cell)`` for each literal table cell with words that a page glues.

    Read from the code (``glue(key, Markdown(...))``, and the names the Markdown is built
    from, as far as literals tell): a table's headers, and literal words in its rows; a cell
    with a computed part is left out (the build checks what it becomes). `key` is a regular
    expression (``recipe_\w+`` for ``f"recipe_{name}"``).
    """
    tree = glued.code(page_text)
    names: dict[str, list[ast.AST]] = {}
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, ast.Assign) else []
        if isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            if isinstance(target, ast.Name) and getattr(node, "value", None) is not None:
                names.setdefault(target.id, []).append(node.value)
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "glue"):
            continue
        if len(node.args) < 2 or getattr(node.args[1], "func", None) is None:
            continue
        if getattr(node.args[1].func, "id", None) != "Markdown":
            continue
        key = _key_pattern(node.args[0])
        for text in _strings(node.args[1], names) if key else []:
            for line in text.split("\n"):
                if not line.lstrip().startswith("|") or _SEPARATOR.match(line):
                    continue
                for cell in cells(line):
                    cell = cell.strip()
                    if "{}" not in cell and has_words(cell) and (key, cell) not in found:
                        found.append((key, cell))
    return found
