"""Read MyST Markdown with the parser the book is built with.

The one reader of the book's sources for the build's tools (the course kit, the notebook
renderer) and the book's scanners (``tests/book/prose.py``, ``tests/book/claims.py``). It is
the parser Sphinx uses (``myst_parser``'s markdown-it set-up, with the extensions of
``_config.yml``), so that a construct reads here as it reads on the site: nested fences,
colon fences, fences of different lengths and unclosed fences are the parser's business, not
a regular expression's.

- :func:`tokens` is the parser's token stream, for scanners that walk every paragraph.
- :func:`blocks` is a page's top-level blocks (:class:`Block`): a directive with its name,
  argument, options and body; a plain code fence; display math; a heading; a paragraph;
  the front matter; targets, comments and cell breaks. Each knows its source lines, and a
  directive's body is read on demand (:meth:`Block.children`).
- :func:`walk` and :func:`code_cells` descend into the bodies of directives.

Directive options are read as MyST-NB reads a code cell's (the ``---`` YAML block, or the
``:key: value`` lines, as YAML), so ``:tags: [remove-cell]`` is a list.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

# parse: myst_enable_extensions in _config.yml (tests/book/test_myst.py checks they agree).
EXTENSIONS = ("amsmath", "dollarmath", "colon_fence", "deflist", "substitution")
# Directives whose body is not MyST (code, or a cell's source): never read as blocks.
LITERAL = frozenset({"code-cell", "raw-cell", "code-block", "code", "sourcecode"})

_DIRECTIVE = re.compile(r"^\{(?P<name>[\w:-]+)\}(?P<argument>.*)$", re.S)
_MATH = frozenset({"math_block", "math_block_label", "amsmath"})
_KINDS = {
    "front_matter": "front_matter",
    "myst_target": "target",
    "myst_line_comment": "comment",
    "myst_block_break": "break",
    "heading_open": "heading",
    "paragraph_open": "paragraph",
}


@functools.cache
def parser():
    """Return the book's MyST parser (markdown-it with MyST's plugins and the book's extensions)."""
    from markdown_it.renderer import RendererHTML
    from myst_parser.config.main import MdParserConfig
    from myst_parser.parsers.mdit import create_md_parser

    return create_md_parser(MdParserConfig(enable_extensions=set(EXTENSIONS)), RendererHTML)


def tokens(text: str) -> list:
    """Return the markdown-it tokens of a MyST text, every nesting level in document order."""
    if not isinstance(text, str):
        raise TypeError(f"`text` must be a str; got {type(text).__name__}.")
    return parser().parse(text)


@dataclass(frozen=True)
class Block:
    """One top-level block of a MyST text.

    `start` and `end` are line numbers, ``lines[start:end]`` of the text read being the
    block's source (plus the `first_line` given to :func:`blocks`).
    """

    kind: str  # directive, code, math, heading, paragraph, front_matter, target, comment, break,
    # or the parser's name of anything else (bullet_list, table, dl, hr, html_block, ...)
    start: int
    end: int
    name: str = ""  # a directive's name ("code-cell", "exercise"); a code fence's language
    argument: str = ""  # a directive's argument; a labelled equation's label; a target's label
    options: dict[str, Any] = field(default_factory=dict, compare=False)
    body: str = ""  # a directive's or fence's body (options removed); math; a heading's text
    body_start: int = 0  # line number of the body's first line
    level: int = 0  # a heading's level: 1 for the title, 2 for a section
    fence: str = ""  # a fence's opening markup: ``` or :::: ...
    closed: bool = True  # False for a fence that runs to the end of the text

    @property
    def tags(self) -> list[str]:
        """Return the ``tags`` option (a code cell's tags), a list."""
        tags = self.options.get("tags") or []
        return [tags] if isinstance(tags, str) else list(tags)

    def children(self) -> list[Block]:
        """Return the blocks of a directive's body (none for code and other literal bodies)."""
        if self.kind != "directive" or self.name in LITERAL:
            return []
        return blocks(self.body, self.body_start)


class _AnyDirective:
    """What MyST-NB reads a cell with: any options (as YAML), an argument, a body."""

    option_spec = {"options": True}  # noqa: RUF012 (docutils' interface)
    required_arguments = 0
    optional_arguments = 1
    final_argument_whitespace = True
    has_content = True


def _closed(token, lines: list[str], end: int) -> bool:
    """Whether a fence token ends with its closing fence (not at the end of the text)."""
    if end - 1 <= token.map[0] or end - 1 >= len(lines):
        return False
    last = lines[end - 1].strip()
    char = token.markup[0]
    return len(last) >= len(token.markup) and set(last) == {char}


def block(token, first_line: int = 0, lines: list[str] | None = None) -> Block:
    """Return the :class:`Block` of one opening or self-contained token.

    `lines` (the text's lines) lets a fence say whether it is closed; without them it is
    assumed closed.
    """
    start = first_line + token.map[0]
    end = first_line + token.map[1]
    if token.type in ("fence", "colon_fence"):
        closed = lines is None or _closed(token, lines, token.map[1])
        match = _DIRECTIVE.match(token.info.strip())
        if not match:
            return Block(
                "code",
                start,
                end,
                token.info.strip(),
                body=token.content,
                body_start=start + 1,
                fence=token.markup,
                closed=closed,
            )
        from myst_parser.parsers.directives import parse_directive_text

        parsed = parse_directive_text(_AnyDirective, "", token.content, validate_options=False)
        if parsed.warnings:
            raise ValueError(
                f"`text` must give valid options to {{{match['name']}}} at line {start + 1}; "
                f"got {parsed.warnings[0].msg}"
            )
        return Block(
            "directive",
            start,
            end,
            match["name"],
            match["argument"].strip(),
            parsed.options,
            "\n".join(parsed.body),
            start + 1 + parsed.body_offset,
            fence=token.markup,
            closed=closed,
        )
    if token.type in _MATH:
        if token.type == "amsmath":  # its map ends on the \end line, not after it
            end = start + token.content.count("\n") + 1
        return Block("math", start, end, argument=token.info, body=token.content, body_start=start)
    kind = _KINDS.get(token.type, token.type.removesuffix("_open"))
    content = token.content
    if token.type == "myst_target":
        return Block(kind, start, end, argument=content, body_start=start)
    return Block(kind, start, end, body=content, body_start=start)


def blocks(text: str, first_line: int = 0) -> list[Block]:
    """Return the top-level blocks of a MyST text, in order.

    Line numbers count from `first_line` (0: indexes into ``text.splitlines()``). A heading's
    or paragraph's `body` is its inline text.
    """
    stream = tokens(text)
    lines = text.splitlines()
    out = []
    for index, token in enumerate(stream):
        if token.level != 0 or token.nesting < 0 or not token.map:
            continue
        found = block(token, first_line, lines)
        if token.type in ("heading_open", "paragraph_open"):
            inline = stream[index + 1]
            level = int(token.tag[1]) if token.type == "heading_open" else 0
            found = Block(
                found.kind,
                found.start,
                found.end,
                body=inline.content,
                body_start=found.start,
                level=level,
            )
        out.append(found)
    return out


def walk(items: str | Iterable[Block]) -> Iterator[Block]:
    """Yield every block of a text (or of some blocks), each directive before its body's."""
    for item in blocks(items) if isinstance(items, str) else items:
        yield item
        yield from walk(item.children())


def directives(items: str | Iterable[Block], *names: str) -> list[Block]:
    """Return the directives called one of `names` (any, without names), at any depth."""
    return [b for b in walk(items) if b.kind == "directive" and (not names or b.name in names)]


def code_cells(items: str | Iterable[Block]) -> list[Block]:
    """Return the ``{code-cell}`` directives of a text, at any depth, in order."""
    return directives(items, "code-cell")
