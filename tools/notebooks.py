r"""Render the book's executed MyST notebooks as plain Jupyter notebooks.

The chapters are MyST Markdown. A plain Jupyter front end (JupyterLab, Colab, VS Code) shows
MyST's roles and directives as raw text: ``{glue:text}`p:.3f``` instead of a number, exercise
fences instead of exercises, ``\softmax`` as a MathJax error. This module turns the notebook
MyST-NB executed for a page into one that any front end renders as the website does:

- glued values become text, formatted as on the page (MyST-NB's own formatter);
- exercises become numbered headings; solutions become a collapsed heading section
  (``teacher``), or disappear, replaced by an empty answer cell (``student``), or become
  nbgrader solution and hidden-test cells (``assignment``, see :func:`render`);
- equations get their numbers (``\tag``), the book's LaTeX macros are expanded, and
  cross-references and citations become links to the published page;
- tabs, admonitions and definition lists become plain Markdown.

Code cells are kept as they are, with their outputs, and the cell tags mean what they mean on
the website (:func:`apply_tags`): what the site hides is collapsed, what it removes is gone
(a cell's source stays, collapsed: later cells need it).
The cells are read with the book's MyST parser (``tools/myst.py``), as the site reads them.
Anything MyST that this module does not know raises :class:`UnsupportedMyST`, so a new
construct in a chapter fails the build instead of reaching readers as raw markup.

The Sphinx side (numbers, links, glue data) is behind the small :class:`Resolver` interface,
so the conversion itself is tested without a build (``tests/book/test_notebooks.py``).
"""

from __future__ import annotations

import ast
import copy
import re
import textwrap
from dataclasses import dataclass, field

from tools import myst
from tools.softmax_feedback import image_alt

EDITIONS = ("teacher", "public", "student", "assignment")

# nbgrader's markers (its defaults), written around graded solutions and hidden tests.
BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
STUB = "# YOUR CODE HERE\nraise NotImplementedError()"

ANSWER_NOTE = "*Work this exercise in the cell below.*"
PLACEHOLDER_NOTE = (
    "*The links in this notebook point to {site}, a placeholder: this copy of the book was"
    " built without the address where it is published. Each link's text still names the"
    " chapter, section, equation or exercise it means.*"
)
GRADED_NOTE = (
    "*A graded exercise: complete the function in the cell below. Its solution is not"
    " published; the self-check the exercise names tells you what fails and why.*"
)

ADMONITIONS = {
    "note": "Note",
    "tip": "Tip",
    "hint": "Hint",
    "important": "Important",
    "warning": "Warning",
    "caution": "Caution",
    "attention": "Attention",
    "danger": "Danger",
    "error": "Error",
    "seealso": "See also",
}

# Raw MyST that must never reach a rendered notebook (the tests scan for these).
RAW_MYST = re.compile(
    r"\{(?:glue|eq|cite|doc|ref|numref|math|term|abbr|sub|exercise|solution|tab|name)[\w:-]*\}`"
    r"|^\s*(?:`{3,}|:{3,})\{[\w:-]+\}"
    r"|^\([\w-]+\)=\s*$",
    re.M,
)


class UnsupportedMyST(ValueError):
    """A MyST construct that the renderer does not know how to show in a plain notebook."""


class Resolver:
    """Numbers, links and glue data for one page; the Sphinx extension supplies the real one.

    Subclasses implement :meth:`glue`, :meth:`xref` and :meth:`number`.
    """

    def glue(self, key: str) -> dict:
        """Return the MIME bundle glued under `key` on this page."""
        raise NotImplementedError

    def xref(self, role: str, target: str, title: str | None = None) -> str:
        """Return a ``{role}`target``` reference as Markdown links to the published pages.

        `title`, when given, replaces the text of the link (``{ref}`title <target>```).
        """
        raise NotImplementedError

    def number(self, kind: str, label: str) -> str:
        """Return the number of an ``exercise``, ``figure`` or ``equation``, such as ``1.2``."""
        raise NotImplementedError


@dataclass
class _Event:
    kind: str  # "md", "exercise", "solution-start", "solution-end"
    text: str = ""
    label: str = ""


@dataclass
class Options:
    """What one rendering needs besides the notebook and the resolver."""

    edition: str = "teacher"
    macros: dict = field(default_factory=dict)  # name -> LaTeX, e.g. softmax -> \operatorname..
    site_url: str = ""
    # True when site_url is a placeholder (a local build without the published address):
    # the notebook then says so above its first cell, since every link points there.
    site_placeholder: bool = False
    # MyST-NB's options for code cells as the book sets them (``nb_output_stderr``,
    # ``nb_remove_code_source``, ``nb_remove_code_outputs``, ``nb_scroll_outputs``, without the
    # ``nb_`` prefix); a notebook's or a cell's ``mystnb`` metadata overrides them, as on the site.
    cell_config: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- editions

_TEACHER_ONLY = re.compile(r"^<!-- edition: teacher -->\n.*?^<!-- edition: end -->\n?", re.S | re.M)
_STUDENT_ONLY = re.compile(
    r"^<!-- edition: student\n(?P<body>.*?)^edition: end -->\n?", re.S | re.M
)


def select_edition(text: str, edition: str) -> str:
    """Keep the passages of a page that are meant for `edition`.

    A page marks teacher-only text with ``<!-- edition: teacher -->`` ... ``<!-- edition: end
    -->``, and student-only text inside a comment, ``<!-- edition: student`` ... ``edition: end
    -->``, so that the teacher's website, built from the sources as they are, never shows it.
    """
    if edition in ("teacher", "public"):
        return text
    return _STUDENT_ONLY.sub(lambda m: m["body"], _TEACHER_ONLY.sub("", text))


# --------------------------------------------------------------------------- inline markup

_ROLE = re.compile(r"\{(?P<role>[\w:+-]+)\}`(?P<content>[^`]+)`")
_CODE_SPAN = re.compile(r"(?P<ticks>`+)(?P<code>.+?)(?P=ticks)", re.S)
_EXPLICIT = re.compile(r"^(?P<title>.*?)\s*<(?P<target>[^<>]+)>$", re.S)


def escape(text: str) -> str:
    """Escape the characters that would make Markdown read text as a link or emphasis."""
    return re.sub(r"([\\\[\]*_`])", r"\\\1", text)


def expand_macros(text: str, macros: dict) -> str:
    r"""Replace each ``\name`` of `macros` (not followed by a letter) by its definition."""
    for name, definition in macros.items():
        text = re.sub(rf"\\{name}(?![A-Za-z])", lambda _m, d=definition: d, text)
    return text


def _glue_text(resolver: Resolver, content: str) -> str:
    from myst_nb.core.variables import format_plain_text

    key, _, spec = content.partition(":")
    data = resolver.glue(key)
    if "text/plain" not in data:
        raise UnsupportedMyST(f"glue key {key!r} has no text/plain data")
    return format_plain_text(data["text/plain"], spec or "s")


def _glue_markdown(resolver: Resolver, key: str) -> str:
    data = resolver.glue(key)
    if "text/markdown" in data:
        return data["text/markdown"]
    if "text/latex" in data:
        return data["text/latex"]
    return _glue_text(resolver, key)


def _role(match: re.Match, resolver: Resolver, opts: Options) -> str:
    role, content = match["role"], match["content"]
    if role == "glue:text":
        return _glue_text(resolver, content)
    if role in ("glue", "glue:any", "glue:md"):
        return render_inline(_glue_markdown(resolver, content.strip()), resolver, opts)
    if role == "math":
        return f"${expand_macros(content, opts.macros)}$"
    if role in ("eq", "ref", "doc", "numref", "cite", "cite:p", "cite:t", "cite:ps", "cite:ts"):
        explicit = _EXPLICIT.match(content) if role in ("ref", "doc", "numref") else None
        target = explicit["target"] if explicit else content
        title = explicit["title"] if explicit and explicit["title"] else None
        return resolver.xref(role, target.strip(), title)
    raise UnsupportedMyST(f"role {{{role}}} is not supported in notebooks: {match[0]!r}")


def render_inline(text: str, resolver: Resolver, opts: Options) -> str:
    """Render roles (outside code spans) and expand macros (in math) in a piece of Markdown."""
    out, pos = [], 0
    while pos < len(text):
        role = _ROLE.search(text, pos)
        code = _CODE_SPAN.search(text, pos)
        # Macros only ever occur in math: expanding them everywhere outside code is the same.
        if role and (code is None or role.start() <= code.start()):
            out.append(expand_macros(text[pos : role.start()], opts.macros))
            out.append(_role(role, resolver, opts))
            pos = role.end()
        elif code:
            out.append(expand_macros(text[pos : code.start()], opts.macros))
            out.append(code[0])
            pos = code.end()
        else:
            out.append(expand_macros(text[pos:], opts.macros))
            break
    return "".join(out)


# --------------------------------------------------------------------------- block markup

# What the renderer reads in a Markdown cell, at any depth (in a list item too): directives,
# code fences and display math; and at the top level, targets and comments, which it drops.
_ANY_DEPTH = {"fence", "colon_fence", "math_block", "math_block_label"}
_TOP_LEVEL = {"myst_target", "myst_line_comment"}


def _markup(text: str) -> list[myst.Block]:
    """Return the blocks of a cell the renderer handles itself, in order; the rest is prose."""
    lines = text.splitlines()
    found: list[myst.Block] = []
    for token in myst.tokens(text):
        if not token.map or not (
            token.type in _ANY_DEPTH or (token.type in _TOP_LEVEL and token.level == 0)
        ):
            continue
        try:
            block = myst.block(token, 0, lines)
        except ValueError as error:  # options the site cannot read either
            raise UnsupportedMyST(str(error)) from error
        if found and block.start < found[-1].end:
            continue  # inside the previous one
        found.append(block)
    return found


def _quote(text: str) -> str:
    return "\n".join(("> " + line).rstrip() for line in text.splitlines())


class _Renderer:
    def __init__(self, resolver: Resolver, opts: Options):
        self.resolver, self.opts = resolver, opts

    def inline(self, text: str) -> str:
        return render_inline(text, self.resolver, self.opts)

    def blocks(self, text: str) -> list[_Event]:
        """Render a Markdown text (one cell, or a directive's body) to events."""
        events: list[_Event] = []
        buffer: list[str] = []

        def flush():
            if any(line.strip() for line in buffer):
                text = self.inline(_deflist("\n".join(buffer))).strip("\n")
                events.append(_Event("md", text))
            buffer.clear()

        lines = text.splitlines()
        done = 0  # lines before this one are rendered
        for block in _markup(text):
            buffer.extend(lines[done : block.start])
            done = block.end
            if block.kind == "directive":
                flush()
                events.extend(self.directive(block))
            elif block.kind == "code":  # a plain code block: copied verbatim
                flush()
                events.append(_Event("md", "\n".join(lines[block.start : block.end])))
            elif block.kind == "math":
                buffer.append(self.display_math(block, lines[block.start : block.end]))
            # A target or a comment: nothing to show.
        buffer.extend(lines[done:])
        flush()
        return events

    def display_math(self, block: myst.Block, lines: list[str]) -> str:
        text = "\n".join(lines)
        if block.argument:  # $$ ... $$ (label)
            number = self.resolver.number("equation", block.argument)
            text = f"$$\n{block.body.strip()}\n\\tag{{{number}}}\n$$"
        return expand_macros(text, self.opts.macros)

    def directive(self, d: myst.Block) -> list[_Event]:
        if not d.closed:
            raise UnsupportedMyST(f"unterminated directive {{{d.name}}}")
        name = d.name
        body = textwrap.dedent(d.body)
        if name == "exercise":
            return [_Event("exercise", label=d.options.get("label", "")), *self.blocks(body)]
        if name == "exercise-start":
            return [_Event("exercise", label=d.options.get("label", ""))]
        if name == "exercise-end":
            return []
        if name == "solution":
            return [
                _Event("solution-start", label=d.argument),
                *self.blocks(body),
                _Event("solution-end"),
            ]
        if name == "solution-start":
            return [_Event("solution-start", label=d.argument)]
        if name == "solution-end":
            return [_Event("solution-end")]
        if name == "glue:md" or name == "glue":
            return self.blocks(_glue_markdown(self.resolver, d.argument))
        if name == "glue:math":
            latex = self.resolver.glue(d.argument).get("text/latex", "")
            latex = re.sub(r"^\$+|\$+$", "", latex.strip())
            latex = latex.removeprefix("\\displaystyle").strip()
            tag = ""
            if d.options.get("label"):
                tag = f"\n\\tag{{{self.resolver.number('equation', d.options['label'])}}}"
            return [_Event("md", expand_macros(f"$$\n{latex}{tag}\n$$", self.opts.macros))]
        if name == "math":
            tag = ""
            if d.options.get("label"):
                tag = f"\n\\tag{{{self.resolver.number('equation', d.options['label'])}}}"
            body = expand_macros(body.strip(), self.opts.macros)
            return [_Event("md", f"$$\n{body}{tag}\n$$")]
        if name == "tab-set":
            return self.blocks(body)
        if name == "tab-item":
            return [_Event("md", f"**{self.inline(d.argument)}**"), *self.blocks(body)]
        if name in ADMONITIONS or name == "admonition":
            title = self.inline(d.argument) if name == "admonition" else ADMONITIONS[name]
            inner = _join(self.blocks(body))
            return [_Event("md", _quote(f"**{title}**\n\n{inner}"))]
        if name in ("code-block", "code", "sourcecode"):
            return [_Event("md", f"```{d.argument}\n{body}\n```")]
        if name == "button-ref":  # sphinx-design's button: a link in bold
            kind = d.options.get("ref-type", "ref")
            link = self.resolver.xref(kind, d.argument.strip(), self.inline(body.strip()) or None)
            return [_Event("md", f"**{link}**")]
        if name == "tableofcontents":
            url = self.opts.site_url + "/index.html" if self.opts.site_url else "index.html"
            return [_Event("md", f"The contents are on [the book's front page]({url}).")]
        if name == "bibliography":
            link = self.resolver.xref("doc", "/chapters/bibliography")
            return [_Event("md", f"The references are listed on the page {link}.")]
        raise UnsupportedMyST(f"directive {{{name}}} is not supported in notebooks")


def _deflist(text: str) -> str:
    """Turn MyST definition lists (``Term`` then ``: definition``) into bold terms."""
    lines = text.splitlines()
    for k, line in enumerate(lines):
        if line.startswith(": ") and k > 0 and lines[k - 1].strip():
            if not lines[k - 1].startswith(("  ", "**")):
                lines[k - 1] = f"**{lines[k - 1].strip()}**\n"
            lines[k] = line[2:]
    return "\n".join(lines)


def _join(events: list[_Event]) -> str:
    unknown = [e.kind for e in events if e.kind != "md"]
    if unknown:
        raise UnsupportedMyST(f"{unknown[0]} inside another directive")
    return "\n\n".join(e.text for e in events)


# --------------------------------------------------------------------------- graded cells


def mark_solution(source: str) -> str:
    """Wrap the body of every top-level function in nbgrader's solution markers.

    The signature and docstring stay, so the student's stub shows what to write. A cell
    with no function is wrapped whole.
    """
    tree = ast.parse(source)
    lines = source.splitlines()
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    if not functions:
        return f"{BEGIN_SOLUTION}\n{source.rstrip()}\n{END_SOLUTION}"
    for fn in reversed(functions):
        body = fn.body
        if isinstance(body[0], ast.Expr) and isinstance(
            getattr(body[0], "value", None), ast.Constant
        ):
            if isinstance(body[0].value.value, str) and len(body) > 1:
                body = body[1:]
        first, last = body[0].lineno - 1, fn.end_lineno
        indent = " " * body[0].col_offset
        lines[first:last] = [
            indent + BEGIN_SOLUTION,
            *lines[first:last],
            indent + END_SOLUTION,
        ]
    return "\n".join(lines)


def stub_solution(marked: str) -> str:
    """Replace each marked solution region by nbgrader's stub, as its release step does."""
    out, skipping = [], False
    for line in marked.splitlines():
        if line.strip() == BEGIN_SOLUTION:
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(indent + stub_line for stub_line in STUB.splitlines())
            skipping = True
        elif line.strip() == END_SOLUTION:
            skipping = False
        elif not skipping:
            out.append(line)
    return "\n".join(out)


def autograde(cell: dict) -> dict | None:
    """Return a cell's ``autograde`` metadata: ``{answer: id}`` or ``{test: id, points}``."""
    meta = cell.get("metadata", {}).get("autograde")
    return meta if isinstance(meta, dict) else None


def _nbgrader(grade_id: str, *, solution: bool, grade: bool, points: float = 0) -> dict:
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": not solution,
        "schema_version": 3,
        "solution": solution,
        "task": False,
    }
    if grade:
        meta["points"] = points
    return meta


# --------------------------------------------------------------------------- notebooks


def _markdown_cell(source: str, **metadata) -> dict:
    return {"cell_type": "markdown", "metadata": dict(metadata), "source": source}


def _code_cell(source: str, **metadata) -> dict:
    return {
        "cell_type": "code",
        "execution_count": None,
        "metadata": dict(metadata),
        "outputs": [],
        "source": source,
    }


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


# --------------------------------------------------------------------------- cell tags
#
# The cell tags the website honours (MyST-NB 1.4: core/nb_to_tokens.py, core/render.py; nbclient;
# sphinx-book-theme; sphinx-thebe) and what a notebook reader gets instead. A notebook cannot
# drop a cell that later cells need, so "remove" of a source becomes JupyterLab's collapsed
# source (``jupyter.source_hidden``); "remove" of outputs deletes them from the file (a viewer
# that ignores JupyterLab's metadata, such as GitHub's, must not show them either) and
# collapses whatever a re-run prints; "hide" collapses, as the site's toggles do.
REMOVE_CELL = {"remove-cell", "remove_cell"}
REMOVE_INPUT = {"remove-input", "remove_input"}
REMOVE_OUTPUT = {"remove-output", "remove_output"}
SCROLL_OUTPUT = {"scroll-output", "output_scroll"}
# Tags that keep their meaning in a notebook as they are (raises-exception, skip-execution:
# nbclient reads them), or that only arrange the website's page (thebe-init: Thebe runs the
# cell first; full-width, margin: the theme's layout; scroll-input: the site's CSS).
KEPT_TAGS = {
    "raises-exception",
    "skip-execution",
    "thebe-init",
    "full-width",
    "margin",
    "scroll-input",
    "colab-setup",
}
KNOWN_TAGS = (
    REMOVE_CELL
    | REMOVE_INPUT
    | REMOVE_OUTPUT
    | SCROLL_OUTPUT
    | KEPT_TAGS
    | {"hide-cell", "hide-input", "hide-output", "remove-stdout", "remove-stderr"}
)
# MyST-NB's defaults for the options of Options.cell_config.
CELL_CONFIG_DEFAULTS = {
    "output_stderr": "show",
    "remove_code_source": False,
    "remove_code_outputs": False,
    "scroll_outputs": False,
}


def cell_config(cell: dict, notebook_metadata: dict, config: dict, name: str):
    """Return MyST-NB's option `name` for a code cell: cell, then notebook, then book, default.

    As MyST-NB reads it: the ``mystnb`` metadata of the cell, then of the notebook (a page's
    front matter), then the book's ``nb_<name>`` (`config`, without the prefix).
    """
    for level in (cell.get("metadata", {}), notebook_metadata):
        mystnb = level.get("mystnb") or {}
        if name in mystnb:
            return mystnb[name]
    return config.get(name, CELL_CONFIG_DEFAULTS[name])


def apply_tags(cell: dict, notebook_metadata: dict | None = None, config: dict | None = None):
    """Give a code cell what the website's tags and MyST-NB options mean, in a notebook.

    Collapses the source or the outputs (``hide-*``, ``remove-input``), deletes the outputs the
    site removes (``remove-cell``, ``remove-output``, ``remove-stdout``, ``remove-stderr`` and
    ``nb_output_stderr: remove``) and makes long outputs scroll (``scroll-output``). An unknown
    tag raises :class:`UnsupportedMyST`: the site would ignore a misspelt ``remove-stderr``.
    """
    meta = cell.setdefault("metadata", {})
    tags = set(meta.get("tags", []))
    unknown = tags - KNOWN_TAGS
    if unknown:
        raise UnsupportedMyST(f"cell tag {sorted(unknown)[0]!r} is not supported in notebooks")
    notebook_metadata, config = notebook_metadata or {}, config or {}

    def option(name):
        return cell_config(cell, notebook_metadata, config, name)

    remove_input = bool(tags & REMOVE_INPUT) or option("remove_code_source")
    remove_output = bool(tags & REMOVE_OUTPUT) or option("remove_code_outputs")
    if tags & REMOVE_CELL or (remove_input and remove_output):
        tags |= {"remove-cell"}  # MyST-NB leaves out a cell without source and outputs
    jupyter = {}
    if tags & (REMOVE_CELL | {"hide-cell", "hide-input"}) or remove_input:
        jupyter["source_hidden"] = True
    if tags & (REMOVE_CELL | {"hide-cell", "hide-output"}) or remove_output:
        jupyter["outputs_hidden"] = True
    removed = set()
    if tags & REMOVE_CELL or remove_output:
        removed = {"stream:stdout", "stream:stderr", "display_data", "execute_result", "error"}
    if "remove-stdout" in tags:
        removed.add("stream:stdout")
    if "remove-stderr" in tags or option("output_stderr") in ("remove", "remove-warn"):
        removed.add("stream:stderr")

    def kind(output):
        if output.get("output_type") == "stream":
            return f"stream:{output.get('name')}"
        return output.get("output_type")

    outputs = cell.get("outputs", [])
    kept = [o for o in outputs if kind(o) not in removed]
    if outputs and not kept:
        # Every output was one the site removes (TensorFlow's start-up log, say): collapse
        # the output area, so that running the cell again folds the log away too.
        jupyter["outputs_hidden"] = True
    if jupyter:
        meta["jupyter"] = jupyter
    if "outputs" in cell:
        cell["outputs"] = kept
    if tags & SCROLL_OUTPUT or option("scroll_outputs"):
        meta["scrolled"] = True  # JupyterLab's and Notebook's scrolled output area
    return cell


def graded_labels(nb: dict) -> set[str]:
    """Return the labels of a notebook's graded exercises.

    A graded exercise is one whose solution holds a code cell with ``autograde: {answer:
    ...}`` metadata; the code cells of a gated solution follow the Markdown cell that opens it.
    """
    labels, label = set(), None
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            try:
                marks = myst.directives(_source(cell), "solution-start", "solution-end")
            except ValueError as error:  # options the site cannot read either
                raise UnsupportedMyST(str(error)) from error
            if marks:  # the last one says whether the code cells after it are a solution's
                last = marks[-1]
                label = last.argument if last.name == "solution-start" else None
        elif label and "answer" in (autograde(cell) or {}):
            labels.add(label)
    return labels


def render(nb: dict, resolver: Resolver, opts: Options) -> dict:
    """Return a plain-Jupyter copy of an executed MyST-NB notebook.

    `opts.edition` is ``teacher`` (solutions kept as collapsed sections), ``public`` (what the
    website publishes: as ``teacher``, but a graded exercise gets the student's stub instead
    of its solution), ``student`` (solutions removed; an answer cell, or for a graded exercise
    the function stub, under each exercise) or ``assignment`` (the nbgrader source: as
    ``student``, but graded answers carry their solution between nbgrader's markers and the
    hidden tests follow them).
    """
    if opts.edition not in EDITIONS:
        raise ValueError(f"`edition` must be one of {EDITIONS}; got {opts.edition!r}.")
    renderer = _Renderer(resolver, opts)
    out = copy.deepcopy(nb)
    cells: list[dict] = []
    state = {"exercise": "", "in_solution": False, "graded": False, "show": False}
    graded = graded_labels(nb)

    def answer_cell(label: str) -> None:
        number = resolver.number("exercise", label)
        title = f"Exercise {number}" if number else "the exercise above"
        cells.append(_markdown_cell(ANSWER_NOTE))
        cells.append(_code_cell(f"# Your answer to {title}\n"))

    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            merge = False  # consecutive pieces of one source cell stay one cell
            for event in renderer.blocks(select_edition(_source(cell), opts.edition)):
                if event.kind == "md":
                    if state["show"] or not state["in_solution"]:
                        if merge:
                            cells[-1]["source"] += "\n\n" + event.text
                        else:
                            cells.append(_markdown_cell(event.text))
                        merge = True
                    continue
                merge = False
                if event.kind == "exercise":
                    number = resolver.number("exercise", event.label)
                    state["exercise"] = number
                    cells.append(_markdown_cell(f"### Exercise {number}", exercise=event.label))
                    merge = True  # the exercise's text joins its heading
                elif event.kind == "solution-start":
                    show = opts.edition == "teacher" or (
                        opts.edition == "public" and event.label not in graded
                    )
                    state.update(in_solution=True, graded=False, label=event.label, show=show)
                    number = resolver.number("exercise", event.label)
                    if show:
                        cells.append(
                            _markdown_cell(
                                f"#### Solution to Exercise {number}",
                                **{
                                    "jp-MarkdownHeadingCollapsed": True,
                                    "heading_collapsed": True,
                                    "solution": event.label,
                                },
                            )
                        )
                elif event.kind == "solution-end":
                    if not state["show"] and not state["graded"]:
                        answer_cell(state["label"])
                    state.update(in_solution=False, show=False)
            continue
        if cell["cell_type"] != "code":
            cells.append(copy.deepcopy(cell))
            continue
        new = copy.deepcopy(cell)
        new.setdefault("metadata", {})
        grading = autograde(cell)
        if state["in_solution"] and not state["show"]:
            if grading and "answer" in grading:
                state["graded"] = True
                marked = mark_solution(_source(cell))
                if opts.edition in ("public", "student"):
                    cells.append(_markdown_cell(GRADED_NOTE))
                    cells.append(_code_cell(stub_solution(marked) + "\n"))
                else:
                    cells.append(
                        _code_cell(
                            marked + "\n",
                            nbgrader=_nbgrader(grading["answer"], solution=True, grade=False),
                        )
                    )
            elif grading and "test" in grading and opts.edition == "assignment":
                title = grading.get("title", grading["test"])
                points = grading.get("points", 1)
                source = (
                    f"# Autograded: {title} ({points} point{'s' if points != 1 else ''}).\n"
                    "# The tests are hidden: test your work first as the exercise says.\n"
                    f"{BEGIN_HIDDEN}\n{_source(cell).rstrip()}\n{END_HIDDEN}\n"
                )
                cells.append(
                    _code_cell(
                        source,
                        nbgrader=_nbgrader(
                            grading["test"], solution=False, grade=True, points=points
                        ),
                    )
                )
            continue
        apply_tags(new, nb.get("metadata", {}), opts.cell_config)
        image_alt(new)
        cells.append(new)
        caption = new["metadata"].get("mystnb", {}).get("figure", {})
        if caption.get("caption"):
            number = resolver.number("figure", caption.get("name", ""))
            prefix = f"Fig. {number}: " if number else ""
            cells.append(_markdown_cell(f"*{prefix}{renderer.inline(caption['caption'])}*"))
    if opts.site_placeholder:
        at = 1 if cells and cells[0]["cell_type"] == "markdown" else 0
        cells.insert(at, _markdown_cell(PLACEHOLDER_NOTE.format(site=opts.site_url)))
    # Cells get fresh ids: several rendered cells can come from one source cell. Colab keeps
    # its own copy in the metadata, and collapses the sections it lists.
    for k, c in enumerate(cells):
        c["id"] = c["metadata"]["id"] = f"cell-{k}"
        if c["cell_type"] == "markdown":
            c.pop("outputs", None)
            c.pop("execution_count", None)
    out["cells"] = cells
    out["nbformat"], out["nbformat_minor"] = 4, max(out.get("nbformat_minor", 0), 5)
    metadata = out.setdefault("metadata", {})
    metadata["softmax_computed"] = {
        "edition": opts.edition,
        "site_url": opts.site_url,
        "site_placeholder": opts.site_placeholder,
    }
    collapsed = [c["id"] for c in cells if c["metadata"].get("jp-MarkdownHeadingCollapsed")]
    metadata["colab"] = {"provenance": [], "collapsed_sections": collapsed}
    return out


def raw_myst(nb: dict) -> list[str]:
    """Return every piece of raw MyST left in the Markdown cells of a rendered notebook."""
    found = []
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            text = _source(cell)
            # Code may show MyST on purpose (the how-to page); only prose counts. A fence or a
            # span that follows a role's or directive's braces is MyST, not code.
            prose = re.sub(r"^(`{3,})(?!\{)[^\n]*\n.*?^\1", "", text, flags=re.S | re.M)
            prose = re.sub(r"(?<![}`])(`+)(?!\{)[^`]+?\1(?!`)", "", prose)
            found += [m.group(0) for m in RAW_MYST.finditer(prose)]
    return found
