"""Find numbers typed by hand into the prose of MyST-markdown pages.

The book's promise is that every number in a sentence is computed at build time and glued in.
This scanner reads a page with the book's MyST reader (``tools/myst.py``), keeps only the
text of sentences (dropping code cells, inline code, math, roles such as glue and cite, directive
options and front matter), descends into directives that hold prose (exercises, solutions,
admonitions), and reports the numerals that remain.

It also reads inline math (``$...$``), where a hand-typed magnitude such as ``$10^{-14}$`` or
``$e^{-745.13}$`` hides as easily as in words, and number words ("a thousand", "sixty",
"billions"). Display math is the mathematics itself and is not scanned.

Allowed: integers from 0 to 10 (they belong to the mathematics: "two classes", "base 2"), and
four-digit years on a line that cites a reference. Anything else must be glued, or allowed in
``tests/book/test_prose_numbers.py`` with a reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tools import myst

PROSE_DIRECTIVES = {
    "exercise",
    "solution",
    "note",
    "tip",
    "warning",
    "important",
    "caution",
    "attention",
    "danger",
    "error",
    "hint",
    "seealso",
    "admonition",
    "dropdown",
    "tab-item",
    "tab-set",
    "card",
    "margin",
    "sidebar",
    "epigraph",
    "topic",
}
NUMERAL = re.compile(
    r"(?<![\w.])[-+\u2212]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)*(?:[eE][-+]?\d+)?%?(?!\w)"
)
YEAR = re.compile(r"^(1[89]|20)\d\d$")
# Number words above ten (and the words for orders of magnitude), which hide numbers as well.
NUMBER_WORD = re.compile(
    r"\b(?:eleven|twelve|(?:thir|four|fif|six|seven|eigh|nine)teen|(?:twen|thir|for|fif|six|"
    r"seven|eigh|nine)ty|hundreds?|thousands?|millions?|billions?|trillions?|dozens?)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Finding:
    line: int
    numeral: str
    text: str


def _allowed(numeral: str, line_source: str) -> bool:
    plain = numeral.lstrip("+-\u2212").rstrip("%")
    if numeral.endswith("%"):
        return False
    if re.fullmatch(r"\d+", plain) and int(plain) <= 10:
        return True
    return bool(YEAR.match(plain)) and ("{cite" in line_source or "et al" in line_source)


def scan(text: str, first_line: int = 1) -> list[Finding]:
    """Return the hand-typed numerals in the prose of a MyST document."""
    findings: list[Finding] = []
    source_lines = text.splitlines()
    for token in myst.tokens(text):
        if token.type in ("fence", "colon_fence"):
            block = myst.block(token, first_line)
            if block.kind == "directive" and block.name in PROSE_DIRECTIVES:
                findings += scan(block.body, block.body_start)
            continue
        if token.type != "inline" or not token.children:
            continue
        start = token.map[0] if token.map else 0
        context = " ".join(source_lines[start : token.map[1]] if token.map else [token.content])
        for child in token.children:
            if child.type == "math_inline":
                numerals = [m.group(0) for m in NUMERAL.finditer(child.content)]
            elif child.type == "text":
                numerals = [m.group(0) for m in NUMERAL.finditer(child.content)]
                numerals += [m.group(0) for m in NUMBER_WORD.finditer(child.content)]
            else:
                continue  # code_inline, myst_role, links' targets, ...
            for numeral in numerals:
                if NUMBER_WORD.fullmatch(numeral) or not _allowed(numeral, context):
                    findings.append(Finding(first_line + start, numeral, child.content.strip()))
    return findings


def scan_file(path: Path) -> list[Finding]:
    """Scan one page; the jupytext front matter is skipped by the parser."""
    return scan(path.read_text(encoding="utf-8"))
