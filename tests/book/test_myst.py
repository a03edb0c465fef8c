"""The book's MyST reader (``tools/myst.py``) on small snippets.

Expected line numbers are counted in the snippets themselves: each test checks that the line a
block says it starts on is the line that opens it in the text.
"""

import textwrap
from pathlib import Path

import pytest
import yaml

from tools import myst

ROOT = Path(__file__).resolve().parents[2]


def text(source: str) -> str:
    return textwrap.dedent(source).lstrip("\n")


def test_extensions_are_the_books():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert set(myst.EXTENSIONS) == set(config["parse"]["myst_enable_extensions"])


def test_front_matter_heading_target_and_paragraph():
    page = text(
        """
        ---
        jupytext:
          formats: md:myst
        ---

        (ch-x)=
        # A title

        Some *prose*
        on two lines.

        ## A section
        """
    )
    blocks = myst.blocks(page)
    assert [b.kind for b in blocks] == ["front_matter", "target", "heading", "paragraph", "heading"]
    front, target, title, paragraph, section = blocks
    assert yaml.safe_load(front.body) == {"jupytext": {"formats": "md:myst"}}
    assert (front.start, front.end) == (0, 4)
    assert target.argument == "ch-x" and target.start == 5
    assert (title.level, title.body, title.start) == (1, "A title", 6)
    assert paragraph.body == "Some *prose*\non two lines." and (paragraph.start, paragraph.end) == (
        8,
        10,
    )
    assert (section.level, section.body) == (2, "A section")


def test_code_cell_with_tags_and_yaml_options():
    page = text(
        """
        ```{code-cell} ipython3
        :tags: [remove-cell, hide-output]

        x = 1
        ```

        ```{code-cell} ipython3
        ---
        autograde: {test: t1, points: 2}
        tags: [remove-cell]
        ---
        assert x == 1
        ```
        """
    )
    first, second = myst.code_cells(page)
    assert first.name == "code-cell" and first.argument == "ipython3"
    assert first.options == {"tags": ["remove-cell", "hide-output"]}
    assert first.tags == ["remove-cell", "hide-output"]
    assert first.body == "x = 1"
    lines = page.splitlines()
    assert lines[first.body_start] == "x = 1"
    assert (first.start, first.end) == (0, 5)
    assert second.options["autograde"] == {"test": "t1", "points": 2}
    assert second.tags == ["remove-cell"]
    assert lines[second.body_start] == "assert x == 1"
    assert second.children() == []  # a cell's source is not MyST


def test_a_single_tag_reads_as_a_list():
    (cell,) = myst.code_cells("```{code-cell}\n:tags: remove-input\n1\n```\n")
    assert cell.tags == ["remove-input"]


def test_backtick_fences_of_different_lengths_nest():
    page = text(
        """
        ````{exercise} Find the temperature
        :label: ex-1

        Text with `code`.

        ```{code-cell} ipython3
        1 + 1
        ```

        ```
        not the end of the exercise
        ```
        ````

        After.
        """
    )
    exercise, after = myst.blocks(page)
    assert (exercise.kind, exercise.name, exercise.argument) == (
        "directive",
        "exercise",
        "Find the temperature",
    )
    assert exercise.options == {"label": "ex-1"} and exercise.fence == "````"
    lines = page.splitlines()
    assert lines[exercise.end - 1] == "````" and exercise.closed
    assert after.body == "After."
    inner = exercise.children()
    assert [(b.kind, b.name) for b in inner] == [
        ("paragraph", ""),
        ("directive", "code-cell"),
        ("code", ""),
    ]
    # Line numbers are the page's, not the body's.
    assert lines[inner[0].start] == "Text with `code`."
    assert lines[inner[1].start] == "```{code-cell} ipython3"
    assert inner[2].body == "not the end of the exercise\n"


def test_a_shorter_fence_does_not_close_a_longer_one():
    page = "````{note}\n```\n````\n"
    (note,) = myst.blocks(page)
    assert note.closed and note.end == 3
    (code,) = note.children()
    # The inner fence has no closing line of its own: it runs to the end of the note's body.
    assert code.kind == "code" and not code.closed


def test_colon_fences_nest_by_length():
    page = text(
        """
        ::::{tab-set}
        :sync-group: framework

        :::{tab-item} PyTorch
        :sync: torch

        Torch's text.
        :::

        :::{tab-item} JAX
        JAX's text.
        :::
        ::::
        """
    )
    (tabs,) = myst.blocks(page)
    assert (tabs.name, tabs.fence, tabs.options) == ("tab-set", "::::", {"sync-group": "framework"})
    items = tabs.children()
    assert [(b.name, b.argument, b.options) for b in items] == [
        ("tab-item", "PyTorch", {"sync": "torch"}),
        ("tab-item", "JAX", {}),
    ]
    lines = page.splitlines()
    assert [lines[b.start] for b in items] == [":::{tab-item} PyTorch", ":::{tab-item} JAX"]
    assert [b.body for b in myst.walk(page) if b.kind == "paragraph"] == [
        "Torch's text.",
        "JAX's text.",
    ]


def test_gated_directives_and_directives_without_body():
    page = text(
        """
        ```{solution-start} ex-1
        :class: dropdown
        ```

        ```{code-cell} ipython3
        answer = 42
        ```

        ```{solution-end}
        ```
        """
    )
    start, cell, end = myst.blocks(page)
    assert cell.name == "code-cell"
    assert (start.name, start.argument, start.options, start.body) == (
        "solution-start",
        "ex-1",
        {"class": "dropdown"},
        "",
    )
    assert (end.name, end.start, end.end) == ("solution-end", 8, 10)
    assert [c.body for c in myst.code_cells(page)] == ["answer = 42"]
    assert myst.directives(page, "solution-start", "solution-end") == [start, end]


def test_display_math():
    page = text(
        r"""
        $$ p_i = e^{z_i} / \sum_j e^{z_j} $$ (eq-softmax)

        $$
        x = 1
        $$

        \begin{align}
        a &= b
        \end{align}

        Inline $x$ is not a block.
        """
    )
    labelled, plain, aligned, paragraph = myst.blocks(page)
    assert (labelled.kind, labelled.argument) == ("math", "eq-softmax")
    assert labelled.body.strip() == r"p_i = e^{z_i} / \sum_j e^{z_j}"
    assert (plain.kind, plain.body.strip(), plain.start, plain.end) == ("math", "x = 1", 2, 5)
    assert (aligned.kind, aligned.start, aligned.end) == ("math", 6, 9)
    assert paragraph.kind == "paragraph"


def test_an_unclosed_fence_runs_to_the_end():
    (fence,) = myst.blocks("```{solution-start} ex-1\nno end\n")
    assert fence.name == "solution-start" and not fence.closed


def test_line_numbers_count_from_first_line():
    (cell,) = myst.blocks("```{code-cell}\n1\n```\n", first_line=10)
    assert (cell.start, cell.end, cell.body_start) == (10, 13, 11)


def test_comments_and_cell_breaks():
    kinds = [b.kind for b in myst.blocks("% a comment\n\n+++\n\ntext\n")]
    assert kinds == ["comment", "break", "paragraph"]


def test_tokens_are_the_parsers():
    types = [t.type for t in myst.tokens("# T\n\n- a {glue:text}`k:.2f`\n")]
    assert types[:3] == ["heading_open", "inline", "heading_close"]
    assert "bullet_list_open" in types
    inline = next(t for t in myst.tokens("a {glue:text}`k:.2f`\n") if t.type == "inline")
    assert [c.type for c in inline.children] == ["text", "myst_role"]


def test_bad_options_raise_value_error():
    with pytest.raises(ValueError, match=r"valid options to \{code-cell\} at line 1"):
        myst.blocks("```{code-cell}\n---\n[1, 2]\n---\nx\n```\n")


def test_text_must_be_a_string():
    with pytest.raises(TypeError, match=r"`text` must be a str; got bytes"):
        myst.tokens(b"# T")


def test_the_book_tools_parse_myst_through_this_reader():
    # Issue 33: one MyST reader. The build's tools and the book's scanners get the parser from
    # tools/myst.py; none sets up markdown-it or MyST's directive parsing of its own.
    readers = sorted(
        path.relative_to(ROOT).as_posix()
        for path in [*(ROOT / "tools").glob("*.py"), *(ROOT / "tests" / "book").glob("*.py")]
        if path.name not in ("myst.py", "test_myst.py")
        and any(
            name in path.read_text(encoding="utf-8")
            for name in ("create_md_parser", "markdown_it", "parse_directive_text")
        )
    )
    assert readers == []
    users = {
        path.name
        for path in [*(ROOT / "tools").glob("*.py"), *(ROOT / "tests" / "book").glob("*.py")]
        if "from tools import myst" in path.read_text(encoding="utf-8")
    }
    assert {"course.py", "notebooks.py", "prose.py", "claims.py"} <= users
