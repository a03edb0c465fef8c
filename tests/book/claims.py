"""Find comparative claims in the prose that no executed check stands next to.

The book promises that every claim about a result ("faster", "more accurate", "agrees",
"equal") is executed: an ``assert`` in a code cell right before or right after the paragraph,
or a sentence chosen by the measurement itself (``{glue:md}``, conditional glue). This scanner
reads a page with the book's MyST reader (``tools/myst.py``), walks its paragraphs (descending into
exercises, solutions and admonitions) and reports each paragraph with a claim word whose
neighbouring code cells (the unbroken run of cells just before it and just after it) hold no
``assert``.

Not scanned, because they restate or announce what the body checks: headings, the paragraphs
before a page's first section, the sections "What you'll learn" and "Summary", and paragraphs
that cite the literature (``{cite}``), whose claims are the cited authors'. Anything else must
be backed, or allowed in ``tests/book/test_claims.py`` with a reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from prose import PROSE_DIRECTIVES

from tools import myst

CLAIM = re.compile(
    r"\b(?:faster|slower|quicker|(?:more|less|as|most|equally) accurate|better|worse|"
    r"outperforms?|beats?|agree(?:s|d)?|match(?:es|ed)?|equal(?:s|ly)?|identical|"
    r"the same (?:values?|results?|answers?|numbers?|loss(?:es)?|gradients?|probabilities|"
    r"digits|bits))\b(?!-)",
    re.IGNORECASE,
)
UNSCANNED_SECTIONS = {"what you'll learn", "summary"}
ASSERT = re.compile(r"^\s*assert\b", re.MULTILINE)


@dataclass(frozen=True)
class Claim:
    line: int
    words: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class _Block:
    kind: str  # "heading", "code" or "text"
    line: int
    content: str
    level: int = 0  # of a heading: 1 for the title, 2 for a section, ...


def _blocks(text: str, first_line: int = 1) -> list[_Block]:
    tokens = myst.tokens(text)
    blocks: list[_Block] = []
    for index, token in enumerate(tokens):
        line = first_line + (token.map[0] if token.map else 0)
        if token.type == "heading_open":
            level = int(token.tag[1])
            blocks.append(_Block("heading", line, tokens[index + 1].content, level))
        elif token.type in ("fence", "colon_fence"):
            block = myst.block(token, first_line)
            if block.kind == "directive" and block.name == "code-cell":
                blocks.append(_Block("code", line, token.content))
            elif block.kind == "directive" and block.name in PROSE_DIRECTIVES:
                blocks += _blocks(block.body, block.body_start)
        elif token.type == "inline" and token.map and tokens[index - 1].type == "paragraph_open":
            blocks.append(_Block("text", line, token.content))
    return blocks


def _words(paragraph: str) -> tuple[str, ...]:
    plain = re.sub(r"`[^`]*`", "", paragraph)  # inline code and roles' targets
    plain = re.sub(r"\$[^$]*\$", "", plain)  # inline math
    return tuple(m.group(0) for m in CLAIM.finditer(plain))


def scan(text: str) -> list[Claim]:
    """Return the paragraphs of a MyST page that claim a comparison no assert backs."""
    blocks = _blocks(text)
    claims: list[Claim] = []
    section = None  # the current section (level 2); None before the first one
    for index, block in enumerate(blocks):
        if block.kind == "heading":
            if block.level == 2:
                section = block.content.strip().lower()
            continue
        if block.kind != "text" or section is None or section in UNSCANNED_SECTIONS:
            continue
        if "{cite" in block.content or "{glue:md}" in block.content:
            continue
        words = _words(block.content)
        if not words:
            continue
        cells = []
        for step in (-1, 1):
            j = index + step
            while 0 <= j < len(blocks) and blocks[j].kind == "code":
                cells.append(blocks[j].content)
                j += step
        if not any(ASSERT.search(cell) for cell in cells):
            claims.append(Claim(block.line, words, " ".join(block.content.split())))
    return claims


def scan_file(path: Path) -> list[Claim]:
    return scan(path.read_text(encoding="utf-8"))
