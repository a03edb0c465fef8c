"""The Chinese words for the English words a page computes (issue 35): ``glued.tsv``.

Some glued values are words, chosen by a measurement: ``glue("plain_verdict", "is" if ulps
<= 0.5 else "is not")``. The English prose pastes them with ``{glue:text}`plain_verdict```;
the Chinese edition must paste Chinese. ``locales/zh_CN/glued.tsv`` gives, per page and key,
the Chinese of every English value the code can choose (``page  key  english  chinese``, tab
separated, ``#`` comments). An English cell may hold placeholders, ``{n}``: each stands for
a number (digits, commas and points), carried unchanged into the Chinese cell, so no
measured number is typed by hand. A value that is a list ("A, B and C") is translated item
by item and joined the Chinese way ("A、B 和 C").

:func:`translate` is what ``tools/i18n.py`` calls for each glued value of a translated
message; a word value with no row is an error naming the page, the key and the value.
:func:`alternatives` reads a page's code (Python's ``ast``) for every value each key can
take, as far as literals tell; ``tests/book/test_glued_words.py`` checks each has a row.
"""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TSV = ROOT / "locales" / "zh_CN" / "glued.tsv"

#: Names a value may hold without being a word: libraries, dtypes, units, inf and nan,
#: operating systems.
NAMES = frozenset(
    "NumPy SciPy PyTorch JAX TensorFlow CuPy Numba softmax_lib bfloat16 float16 float32 "
    "float64 KiB MiB GiB TiB kB MB GB ms ns µs LDA ECE ULP ULPs inf nan NaN "
    "Linux Darwin Windows".split()
)
_LATIN = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_PLACEHOLDER = re.compile(r"\{(\w*)\}")
_NUMBER = r"[-+\u2212]?\d[\d,.]*"
_LIST = re.compile(r", | and ")


class MissingTranslation(LookupError):
    """A glued word value that ``glued.tsv`` does not translate."""


def is_word(value: str) -> bool:
    """Whether a glued value holds English words (two Latin letters, not a name or a unit)."""
    for token in _LATIN.findall(value):
        if token in NAMES or "_" in token or any(c.isdigit() for c in token):
            continue  # a library, a dtype, an identifier
        if len(token) >= 2:
            return True
    return False


def pattern(english: str) -> re.Pattern | None:
    """Return the regular expression of a row with placeholders (None without one)."""
    if not _PLACEHOLDER.search(english):
        return None
    parts = _PLACEHOLDER.split(english)
    regex = "".join(re.escape(p) if i % 2 == 0 else f"({_NUMBER})" for i, p in enumerate(parts))
    return re.compile(regex)


@functools.cache
def _rows(path: Path, mtime: float) -> dict[tuple[str, str], dict[str, str]]:
    rows: dict[tuple[str, str], dict[str, str]] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if len(cells) != 4 or not all(c.strip() for c in cells):
            raise ValueError(f"{path.name}:{n}: not four tab-separated cells: {line!r}")
        page, key, english, chinese = cells
        rows.setdefault((page, key), {})[english] = chinese
    return rows


def rows(path: Path = TSV) -> dict[tuple[str, str], dict[str, str]]:
    """Return ``{(page, key): {english: chinese}}`` of ``glued.tsv`` (read once per change)."""
    return _rows(path, path.stat().st_mtime) if path.exists() else {}


def page_of(docname: str) -> str:
    """Return the page column of a page: ``chapters/07-classifier`` -> ``07-classifier``."""
    return Path(docname).name


def _one(table: dict[str, str], value: str) -> str | None:
    if value in table:
        return table[value]
    for english, chinese in table.items():
        regex = pattern(english)
        match = regex.fullmatch(value) if regex else None
        if match:
            numbers = iter(match.groups())
            return _PLACEHOLDER.sub(lambda _, numbers=numbers: next(numbers), chinese)
    if not is_word(value):
        return value
    return None


def translate(page: str, key: str, value: str, path: Path = TSV) -> str:
    """Return the Chinese of a glued value, or the value when it holds no English word."""
    if not is_word(value):
        return value
    chinese = translate_or_none(rows(path).get((page, key), {}), value)
    if chinese is None:
        raise MissingTranslation(
            f"{page}: the glued value of {key!r}, {value!r}, has no Chinese in "
            f"{TSV.relative_to(ROOT)} (add a row: page, key, English, Chinese)"
        )
    return chinese


# ------------------------------------------------------------------ what the code can glue

_CODE_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)
_TEXT_ROLE = re.compile(r"\{glue:text\}`([^`:]+)(?::[^`]*)?`")
_MD_DIRECTIVE = re.compile(r"^[`:]{3,}\{glue:md\}[ \t]+(\S+)", re.M)


def code(page_text: str) -> ast.Module:
    """Return the code cells of a MyST page as one module (options and magics left out)."""
    lines = []
    for cell in _CODE_CELL.findall(page_text):
        body = cell.splitlines()
        if body and body[0].strip() == "---":  # a YAML block of options
            end = body.index("---", 1) if "---" in body[1:] else 0
            body = body[end + 1 :]
        lines += [" " * len(line) if line.startswith((":", "%", "!")) else line for line in body]
        lines.append("")
    return ast.parse("\n".join(lines))


def pasted_keys(page_text: str) -> set[str]:
    """Return the keys a page pastes with ``{glue:text}`` (in its prose) or ``{glue:md}``.

    Rows for ``{glue:md}`` keys translate the words of glued Markdown (``tools/outputs.py``).
    """
    return set(_TEXT_ROLE.findall(page_text)) | set(_MD_DIRECTIVE.findall(page_text))


def _values(node: ast.AST, names: dict[str, list[ast.AST]], depth: int = 0) -> set[str] | None:
    """Every string `node` can be, or None when literals do not tell."""
    if depth > 5:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.JoinedStr):  # f"{count} times": a row with a placeholder
        parts = []
        for part in node.values:
            if isinstance(part, ast.Constant):
                parts.append(str(part.value).replace("{", "{{").replace("}", "}}"))
            else:
                parts.append("{}")
        return {"".join(parts)}
    if isinstance(node, ast.IfExp):
        a, b = _values(node.body, names, depth + 1), _values(node.orelse, names, depth + 1)
        return a | b if a is not None and b is not None else None
    if isinstance(node, ast.Dict):
        found: set[str] = set()
        for v in node.values:
            one = _values(v, names, depth + 1)
            if one is None:
                return None
            found |= one
        return found
    if isinstance(node, ast.Subscript):  # {...}[x], or words[x] with words = {...}
        return _values(node.value, names, depth + 1)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get"
    ):  # {...}.get(x, default)
        found = _values(node.func.value, names, depth + 1)
        for arg in node.args[1:]:
            one = _values(arg, names, depth + 1)
            found = None if found is None or one is None else found | one
        return found
    if isinstance(node, ast.Name) and node.id in names:
        found = set()
        for assigned in names[node.id]:
            one = _values(assigned, names, depth + 1)
            if one is None:
                return None
            found |= one
        return found
    return None


def alternatives(page_text: str) -> dict[str, set[str] | None]:
    """Every glued key of a page: the strings its value can be (None: literals do not tell).

    A key glued by a name made at run time (``glue(f"{tag}_side", ...)``) is not found.
    """
    tree = code(page_text)
    names: dict[str, list[ast.AST]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    names.setdefault(target.id, []).append(node.value)
    found: dict[str, set[str] | None] = {}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "glue"):
            continue
        if len(node.args) < 2 or not isinstance(node.args[0], ast.Constant):
            continue
        key, values = node.args[0].value, _values(node.args[1], names)
        if key in found and (found[key] is None or values is None):
            found[key] = None
        else:
            found[key] = (found.get(key) or set()) | values if values is not None else None
    return found


def glued_keys(page_text: str) -> set[str]:
    """Return every key a page glues, as regular expressions (an f-string's fields: any name)."""
    keys = set()
    for node in ast.walk(code(page_text)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "glue" and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant):
                keys.add(re.escape(first.value))
            elif isinstance(first, ast.JoinedStr):
                keys.add(
                    "".join(
                        re.escape(part.value) if isinstance(part, ast.Constant) else r"\w+"
                        for part in first.values
                    )
                )
    return keys


def has_row(table: dict[str, str], value: str) -> bool:
    """Whether `value` (an alternative, ``{}`` for a computed number) has a row in `table`."""
    if not is_word(value.replace("{}", "")):
        return True
    normal = {_PLACEHOLDER.sub("{}", english) for english in table}
    if value in table or value in normal:
        return True
    if _PLACEHOLDER.search(value):
        return False
    return translate_or_none(table, value) is not None


def translate_or_none(table: dict[str, str], value: str) -> str | None:
    """Return the Chinese of `value` by `table` (a page and key's rows), or None."""
    chinese = _one(table, value)
    if chinese is None and _LIST.search(value):
        items = [_one(table, item) for item in _LIST.split(value)]
        if len(items) > 1 and None not in items:
            chinese = "、".join(items[:-1]) + " 和 " + items[-1]
    return chinese


def pattern_free(cell: str) -> str:
    """Return a cell without its placeholders (``{n}``), which carry the measured numbers."""
    return _PLACEHOLDER.sub("", cell)
