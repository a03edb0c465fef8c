"""Notebooks that read like the book: ``tools/notebooks.py``, and what the build made with it.

The first half tests the renderer on small MyST notebooks with a fake resolver (no build).
The second half, marked ``built``, reads every notebook ``make book`` rendered (download,
Colab, Binder, assignments) and checks what a plain Jupyter front end would show.
"""

import json
import re
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
from helpers import unavailable

from softmax_lib import logsumexp, softmax

ROOT = Path(__file__).resolve().parents[2]
from tools import course, notebooks  # noqa: E402

BUILT = ROOT / "_build" / "notebooks"
MACROS = {"softmax": r"\operatorname{softmax}", "lse": r"\operatorname{lse}"}


class FakeResolver(notebooks.Resolver):
    """Numbers and links as a build would give them, for a page called ``chapters/x``."""

    glued: ClassVar[dict[str, dict[str, str]]] = {
        "p": {"text/plain": "0.6590011388859679"},
        "n": {"text/plain": "50257"},
        "table": {"text/plain": "<Markdown>", "text/markdown": "| a | b |\n|---|---|\n| 1 | 2 |"},
        "jac": {"text/plain": "<Math>", "text/latex": "$\\displaystyle J = \\softmax(z)$"},
    }

    def glue(self, key):
        return self.glued[key]

    def xref(self, role, target, title=None):
        return f"[{title or role + ':' + target}](https://site/x.html#{target})"

    def number(self, kind, label):
        return {"ex-1": "1.1", "ex-2": "1.2", "eq-a": "1.3", "fig-a": "1.4"}[label]


def nb(*cells):
    out = []
    for kind, source, *meta in cells:
        cell = {"cell_type": kind, "metadata": meta[0] if meta else {}, "source": source}
        if kind == "code":
            cell.update(outputs=[], execution_count=None)
        out.append(cell)
    return {"cells": out, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def render(notebook, edition="teacher"):
    opts = notebooks.Options(edition=edition, macros=MACROS, site_url="https://site")
    return notebooks.render(notebook, FakeResolver(), opts)


def markdown(rendered):
    return "\n\n".join(c["source"] for c in rendered["cells"] if c["cell_type"] == "markdown")


EXERCISE = nb(
    (
        "markdown",
        "## Exercises\n\n```{exercise-start}\n:label: ex-1\n```\n\nDo it.\n\n"
        "```{exercise-end}\n```\n\n```{solution-start} ex-1\n:class: dropdown\n```\n\n"
        "Because {eq}`eq-a`.",
    ),
    ("code", 'def f(z):\n    """Doc."""\n    return z\n', {"autograde": {"answer": "f"}}),
    (
        "code",
        "assert f(1) == 1\n",
        {"tags": ["remove-cell"], "autograde": {"test": "f-one", "points": 2, "title": "one"}},
    ),
    (
        "markdown",
        "```{solution-end}\n```\n\n```{exercise}\n:label: ex-2\n\nProve it.\n```\n\n"
        "```{solution-start} ex-2\n:class: dropdown\n```\n\nSecret proof.",
    ),
    ("code", "secret = 42\n"),
    ("markdown", "```{solution-end}\n```\n\n## Further reading"),
)


def test_glue_roles_become_the_formatted_value():
    out = render(
        nb(("markdown", "p is {glue:text}`p:.3f`, n is {glue:text}`n:,`; {glue:md}`table`"))
    )
    text = markdown(out)
    assert "p is 0.659, n is 50,257" in text and "| 1 | 2 |" in text
    assert notebooks.raw_myst(out) == []


def test_roles_inside_code_spans_are_left_alone():
    text = markdown(render(nb(("markdown", "Write `` {glue:text}`key` `` to glue."))))
    assert "`` {glue:text}`key` ``" in text


def test_references_citations_and_macros():
    text = markdown(
        render(
            nb(
                (
                    "markdown",
                    "See {eq}`eq-a`, {ref}`the intro <sec-a>`, "
                    "{cite}`bridle1990` and $\\softmax(z)$.",
                )
            )
        )
    )
    assert "[eq:eq-a](https://site/x.html#eq-a)" in text
    assert "[the intro](https://site/x.html#sec-a)" in text
    assert "[cite:bridle1990]" in text
    assert "$\\operatorname{softmax}(z)$" in text and "\\softmax" not in text


def test_labelled_display_math_gets_its_number_and_labels_disappear():
    text = markdown(render(nb(("markdown", "(sec-a)=\n# Title\n\n$$\n\\lse(z)\n$$ (eq-a)\n"))))
    assert "$$\n\\operatorname{lse}(z)\n\\tag{1.3}\n$$" in text
    assert "(sec-a)=" not in text


def test_glue_math_directive_is_display_math_with_its_number():
    text = markdown(render(nb(("markdown", "```{glue:math} jac\n:label: eq-a\n```"))))
    assert text == "$$\nJ = \\operatorname{softmax}(z)\n\\tag{1.3}\n$$"


def test_tabs_admonitions_and_definition_lists_become_plain_markdown():
    source = (
        "::::{tab-set}\n\n:::{tab-item} PyTorch\nTorch text.\n:::\n:::{tab-item} JAX\nJax.\n:::\n"
        "::::\n\n```{note}\nA note.\n```\n\nBinder\n: Opens JupyterLab.\n"
    )
    text = markdown(render(nb(("markdown", source))))
    assert "**PyTorch**\n\nTorch text." in text and "**JAX**\n\nJax." in text
    assert "> **Note**\n>\n> A note." in text
    assert "**Binder**" in text and ": Opens" not in text
    assert notebooks.raw_myst(render(nb(("markdown", source)))) == []


def test_directive_options_the_site_cannot_read_fail_loudly():
    # The renderer reads MyST as the site does (tools/myst.py): a tab item right after the
    # tab set's opening line is read as the set's options, which MyST rejects (the build
    # warns, and fails under -W). The hand parser it replaced rendered it as two tabs.
    source = "::::{tab-set}\n:::{tab-item} PyTorch\nTorch text.\n:::\n::::\n"
    with pytest.raises(notebooks.UnsupportedMyST, match=r"options to \{tab-set\}"):
        render(nb(("markdown", source)))


def test_button_ref_becomes_a_bold_link():
    source = "```{button-ref} sec-a\n:color: primary\n\nStart reading\n```"
    text = markdown(render(nb(("markdown", source))))
    assert text.strip() == "**[Start reading](https://site/x.html#sec-a)**"


def test_unknown_myst_fails_loudly():
    with pytest.raises(notebooks.UnsupportedMyST, match="directive"):
        render(nb(("markdown", "```{mermaid}\ngraph\n```")))
    with pytest.raises(notebooks.UnsupportedMyST, match="role"):
        render(nb(("markdown", "a {kbd}`Ctrl`")))


def test_figure_caption_and_hidden_cells():
    out = render(
        nb(
            (
                "code",
                "plot()",
                {
                    "tags": ["hide-input"],
                    "mystnb": {"figure": {"caption": "A $\\lse$ plot", "name": "fig-a"}},
                },
            ),
            ("code", "glue()", {"tags": ["remove-cell"]}),
        )
    )
    plot, caption, hidden = out["cells"]
    assert plot["metadata"]["jupyter"] == {"source_hidden": True}
    assert caption["source"] == "*Fig. 1.4: A $\\operatorname{lse}$ plot*"
    assert hidden["metadata"]["jupyter"] == {"source_hidden": True, "outputs_hidden": True}


# Outputs as an executed notebook holds them: TensorFlow's start-up log on stderr, and so on.
STDOUT = {"output_type": "stream", "name": "stdout", "text": "printed\n"}
STDERR = {"output_type": "stream", "name": "stderr", "text": "I0000 port.cc:153] oneDNN\n"}
RESULT = {"output_type": "execute_result", "data": {"text/plain": "42"}, "metadata": {}}
ERROR = {"output_type": "error", "ename": "ValueError", "evalue": "bad", "traceback": []}
ALL_OUTPUTS = [STDOUT, STDERR, RESULT]


def rendered_cell(tags=(), outputs=ALL_OUTPUTS, mystnb=None, notebook_mystnb=None, config=None):
    """The one code cell of a one-cell notebook, rendered with `tags` and options."""
    meta = {"tags": list(tags)}
    if mystnb is not None:
        meta["mystnb"] = mystnb
    notebook = nb(("code", "x = 42\nx", meta))
    notebook["cells"][0]["outputs"] = [dict(o) for o in outputs]
    if notebook_mystnb is not None:
        notebook["metadata"]["mystnb"] = notebook_mystnb
    opts = notebooks.Options(site_url="https://site")
    if config is not None:
        opts.cell_config = config
    (cell,) = notebooks.render(notebook, FakeResolver(), opts)["cells"]
    return cell


def test_remove_stderr_drops_the_stderr_outputs_only():
    # Issue 31: TensorFlow's log boxes reached the notebooks of chapters 5, 6, 9 and 10
    # under a cell tagged remove-stderr, which the website honours.
    cell = rendered_cell(["remove-stderr", "thebe-init"])
    assert cell["outputs"] == [STDOUT, RESULT]
    assert "jupyter" not in cell["metadata"]  # the source and the other outputs show
    assert cell["metadata"]["tags"] == ["remove-stderr", "thebe-init"]
    # A cell that printed only its log shows an empty, collapsed output area, so that running
    # it again folds the log away as well.
    alone = rendered_cell(["remove-stderr"], outputs=[STDERR, STDERR])
    assert alone["outputs"] == [] and alone["metadata"]["jupyter"] == {"outputs_hidden": True}
    assert "jupyter" not in rendered_cell(["remove-stderr"], outputs=[])["metadata"]


def test_remove_stdout_drops_the_stdout_outputs_only():
    assert rendered_cell(["remove-stdout"])["outputs"] == [STDERR, RESULT]


@pytest.mark.parametrize(
    ("options", "kept"),
    [
        ({"config": {"output_stderr": "remove"}}, [STDOUT, RESULT]),
        ({"config": {"output_stderr": "remove-warn"}}, [STDOUT, RESULT]),
        ({"config": {"output_stderr": "warn"}}, ALL_OUTPUTS),  # the site shows it, and warns
        ({"notebook_mystnb": {"output_stderr": "remove"}}, [STDOUT, RESULT]),
        ({"mystnb": {"output_stderr": "remove"}}, [STDOUT, RESULT]),
        # The cell's own option wins over the page's and the book's, as in MyST-NB.
        (
            {"mystnb": {"output_stderr": "show"}, "config": {"output_stderr": "remove"}},
            ALL_OUTPUTS,
        ),
        ({}, ALL_OUTPUTS),
    ],
)
def test_nb_output_stderr_option_removes_stderr_at_every_level(options, kept):
    assert rendered_cell(**options)["outputs"] == kept


@pytest.mark.parametrize(
    ("tags", "options", "jupyter", "outputs"),
    [
        (["remove-output"], {}, {"outputs_hidden": True}, []),
        (["remove_output"], {}, {"outputs_hidden": True}, []),
        ([], {"config": {"remove_code_outputs": True}}, {"outputs_hidden": True}, []),
        (["remove-input"], {}, {"source_hidden": True}, ALL_OUTPUTS),
        ([], {"mystnb": {"remove_code_source": True}}, {"source_hidden": True}, ALL_OUTPUTS),
        (["remove-cell"], {}, {"source_hidden": True, "outputs_hidden": True}, []),
        (["remove_cell"], {}, {"source_hidden": True, "outputs_hidden": True}, []),
        # Without its source and its outputs, MyST-NB leaves the cell out: as remove-cell.
        (
            ["remove-input", "remove-output"],
            {},
            {"source_hidden": True, "outputs_hidden": True},
            [],
        ),
        (["hide-cell"], {}, {"source_hidden": True, "outputs_hidden": True}, ALL_OUTPUTS),
        (["hide-input"], {}, {"source_hidden": True}, ALL_OUTPUTS),
        (["hide-output"], {}, {"outputs_hidden": True}, ALL_OUTPUTS),
    ],
)
def test_remove_and_hide_tags(tags, options, jupyter, outputs):
    # What the site removes is gone from the file (a viewer that ignores JupyterLab's
    # metadata shows nothing either); what it hides is collapsed; every source stays.
    cell = rendered_cell(tags, **options)
    assert cell["metadata"]["jupyter"] == jupyter
    assert cell["outputs"] == outputs
    assert cell["source"] == "x = 42\nx"


@pytest.mark.parametrize(
    "options",
    [
        {"tags": ["scroll-output"]},
        {"tags": ["output_scroll"]},
        {"config": {"scroll_outputs": True}},
    ],
)
def test_scroll_output_makes_the_output_area_scroll(options):
    assert rendered_cell(**options)["metadata"]["scrolled"] is True
    assert "scrolled" not in rendered_cell()["metadata"]


@pytest.mark.parametrize(
    "tag", ["raises-exception", "skip-execution", "thebe-init", "full-width", "margin"]
)
def test_tags_that_keep_their_meaning_leave_the_cell_as_it_is(tag):
    # raises-exception and skip-execution mean the same to nbclient; the others only arrange
    # the website's page. The traceback the site shows stays.
    cell = rendered_cell([tag], outputs=[STDOUT, ERROR])
    assert cell["outputs"] == [STDOUT, ERROR]
    assert cell["metadata"]["tags"] == [tag]
    assert "jupyter" not in cell["metadata"] and "scrolled" not in cell["metadata"]


def test_unknown_cell_tag_fails_loudly():
    # A misspelt tag is ignored by the website: the log it meant to hide would show.
    with pytest.raises(notebooks.UnsupportedMyST, match="remove-stder"):
        rendered_cell(["remove-stder"])


def test_every_tag_the_chapters_use_is_known():
    import jupytext

    used = {
        tag
        for page in [*sorted(ROOT.glob("chapters/*.md")), ROOT / "intro.md"]
        for cell in jupytext.read(page).cells
        for tag in cell.metadata.get("tags", [])
    }
    assert "remove-stderr" in used
    assert used <= notebooks.KNOWN_TAGS


def test_teacher_edition_keeps_solutions_in_collapsed_sections():
    out = render(EXERCISE, "teacher")
    headings = [c for c in out["cells"] if c["source"].startswith("#### Solution")]
    assert [c["source"] for c in headings] == [
        "#### Solution to Exercise 1.1",
        "#### Solution to Exercise 1.2",
    ]
    assert all(c["metadata"]["jp-MarkdownHeadingCollapsed"] for c in headings)
    assert out["metadata"]["colab"]["collapsed_sections"] == [c["id"] for c in headings]
    assert "secret = 42\n" in [c["source"] for c in out["cells"]]
    assert "### Exercise 1.1\n\nDo it." in markdown(out)


def test_student_edition_has_no_solution_and_a_stub_for_the_graded_exercise():
    out = render(EXERCISE, "student")
    sources = [c["source"] for c in out["cells"]]
    assert not any("Secret proof" in s or "secret = 42" in s or "assert f(1)" in s for s in sources)
    assert (
        'def f(z):\n    """Doc."""\n    # YOUR CODE HERE\n    raise NotImplementedError()\n'
        in sources
    )
    assert "# Your answer to Exercise 1.2\n" in sources  # the ungraded one gets an empty cell
    assert "Solution" not in markdown(out)


def test_public_edition_keeps_practice_solutions_and_hides_the_graded_one():
    out = render(EXERCISE, "public")
    sources = [c["source"] for c in out["cells"]]
    # The practice exercise keeps its solution, collapsed, as in the teacher edition ...
    assert "secret = 42\n" in sources and "Secret proof." in markdown(out)
    headings = [c["source"] for c in out["cells"] if c["source"].startswith("#### Solution")]
    assert headings == ["#### Solution to Exercise 1.2"]
    # ... the graded one shows the student's stub and a note, never its solution or tests.
    assert not any("return z" in s or "assert f(1)" in s or "Because" in s for s in sources)
    assert notebooks.GRADED_NOTE in sources
    assert 'def f(z):\n    """Doc."""\n    # YOUR CODE HERE\n    raise NotImplementedError()\n' in (
        sources
    )
    assert notebooks.graded_labels(EXERCISE) == {"ex-1"}


def test_links_to_a_placeholder_site_are_announced_at_the_top():
    # Issue 29: handed-out notebooks linked to a placeholder address without saying so.
    opts = notebooks.Options(site_url="https://placeholder", site_placeholder=True)
    out = notebooks.render(
        nb(("markdown", "# Title\n\nSee {ref}`x <sec-a>`.")), FakeResolver(), opts
    )
    assert out["cells"][1]["source"] == notebooks.PLACEHOLDER_NOTE.format(
        site="https://placeholder"
    )
    assert out["metadata"]["softmax_computed"]["site_placeholder"] is True
    plain = render(nb(("markdown", "# Title")))
    assert all("placeholder" not in c["source"] for c in plain["cells"])


def test_assignment_edition_is_nbgrader_source():
    out = render(EXERCISE, "assignment")
    graded = [c for c in out["cells"] if "nbgrader" in c["metadata"]]
    answer, test = graded
    assert (
        answer["metadata"]["nbgrader"]["solution"] and not answer["metadata"]["nbgrader"]["grade"]
    )
    assert notebooks.BEGIN_SOLUTION in answer["source"]
    assert test["metadata"]["nbgrader"] == {
        "grade": True,
        "grade_id": "f-one",
        "locked": True,
        "points": 2,
        "schema_version": 3,
        "solution": False,
        "task": False,
    }
    assert test["source"].startswith("# Autograded: one (2 points).")
    assert f"{notebooks.BEGIN_HIDDEN}\nassert f(1) == 1\n{notebooks.END_HIDDEN}" in test["source"]
    assert "Secret proof" not in markdown(out)


def test_raw_myst_detector_can_fail():
    leftover = nb(("markdown", "a {glue:text}`p` b\n\n```{exercise}\nx\n```"))
    assert len(notebooks.raw_myst(leftover)) == 2


# --------------------------------------------------------------------------- the built book


def _built():
    if not (BUILT / "teacher" / "chapters" / "01-softmax.ipynb").exists():
        unavailable("no rendered notebooks in _build/notebooks (run make book)")


def built_notebooks():
    return sorted(BUILT.glob("*/chapters/*.ipynb")) if BUILT.exists() else []


@pytest.mark.built
def test_every_page_and_edition_was_rendered():
    _built()
    numbered = sorted(p.stem for p in (ROOT / "chapters").glob("[0-9][0-9]-*.md"))
    for edition in notebooks.EDITIONS:
        stems = {p.stem for p in (BUILT / edition / "chapters").glob("*.ipynb")}
        assert set(numbered) <= stems, edition


@pytest.mark.built
@pytest.mark.parametrize(
    "path", built_notebooks(), ids=lambda p: f"{p.parent.parent.name}/{p.stem}"
)
def test_rendered_notebook_is_valid_and_free_of_myst(path):
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert notebooks.raw_myst(notebook) == []
    text = markdown(notebook)
    for macro in MACROS:
        assert f"\\{macro}" not in text.replace("\\operatorname", "")


@pytest.mark.built
def test_glued_numbers_in_the_notebooks_match_a_fresh_computation():
    _built()
    z = np.array([2.0, 1.0, 0.1])
    p = softmax(z)
    for edition in notebooks.EDITIONS:
        text = markdown(json.loads((BUILT / edition / "chapters" / "01-softmax.ipynb").read_text()))
        for expected in (f"{p[0]:.3f}", f"{p[-1]:.3f}", f"{float(logsumexp(z)):.4f}"):
            assert expected in text, (edition, expected)


@pytest.mark.built
def test_editions_differ_exactly_in_their_solutions():
    _built()
    for chapter in sorted((BUILT / "teacher" / "chapters").glob("[0-9][0-9]-*.ipynb")):
        teacher = json.loads(chapter.read_text())
        student = json.loads((BUILT / "student" / "chapters" / chapter.name).read_text())
        exercises = [c for c in teacher["cells"] if c["metadata"].get("exercise")]
        solutions = [c for c in teacher["cells"] if c["metadata"].get("solution")]
        assert len(exercises) == len(solutions) >= 5
        assert [c["source"].split("\n")[0] for c in exercises] == [
            c["source"].split("\n")[0] for c in student["cells"] if c["metadata"].get("exercise")
        ]
        assert not [c for c in student["cells"] if c["metadata"].get("solution")]
        assert "#### Solution" not in markdown(student)
        stubs = [c for c in student["cells"] if "raise NotImplementedError()" in c["source"]]
        assert stubs, chapter.name
        assignment = json.loads((BUILT / "assignment" / "chapters" / chapter.name).read_text())
        grades = [
            c["metadata"]["nbgrader"]
            for c in assignment["cells"]
            if c["metadata"].get("nbgrader", {}).get("grade")
        ]
        assert grades and all(g["points"] > 0 for g in grades)
        ids = [
            c["metadata"]["nbgrader"]["grade_id"]
            for c in assignment["cells"]
            if "nbgrader" in c["metadata"]
        ]
        assert len(ids) == len(set(ids))


@pytest.mark.built
def test_public_site_its_downloads_and_notebooks_hold_no_graded_solution():
    # Issue 29: graded exercises' reference solutions are for teachers only. The public
    # site (pages, .md and .ipynb downloads) and the notebooks Binder and Colab open show the
    # exercise and the student's stub; practice exercises keep their solutions.
    _built()
    site = ROOT / "_build" / "html"
    public = [site / "chapters", site / "_sources", BUILT / "public"]
    assert course.find_leaks(ROOT / "chapters", public, graded_only=True) == []
    # The check can fail: the teacher notebooks hold every chapter's graded solution.
    numbered = {p.stem for p in (ROOT / "chapters").glob("[0-9][0-9]-*.md")}
    leaks = course.find_leaks(ROOT / "chapters", [BUILT / "teacher"], graded_only=True)
    assert {Path(leak.split(":")[0]).stem for leak in leaks} == numbered
    for stem in sorted(numbered):
        page = (site / "chapters" / f"{stem}.html").read_text()
        assert len(re.findall(r'class="[^"]*graded-solution', page)) == 1, stem
        text = (ROOT / "chapters" / f"{stem}.md").read_text()
        lines = text.splitlines()
        practice = sum(
            course.graded_stub(lines[first : last + 1]) is None
            for first, last, _ in course._blocks(text)
        )
        nb = json.loads((BUILT / "public" / "chapters" / f"{stem}.ipynb").read_text())
        headings = [c for c in nb["cells"] if c["metadata"].get("solution")]
        assert len(headings) == practice >= 3, stem
        assert notebooks.GRADED_NOTE in [c["source"] for c in nb["cells"]], stem


@pytest.mark.built
def test_every_figure_in_the_notebooks_has_alt_text():
    # Issue 29: nbconvert (the assignments' feedback pages) reported images without alt text.
    _built()
    images = 0
    for path in built_notebooks():
        for cell in json.loads(path.read_text())["cells"]:
            for output in cell.get("outputs", []):
                data = output.get("data", {})
                if "image/png" in data:
                    images += 1
                    assert re.search(r'<img [^>]*alt="[^"]{20,}"', data.get("text/html", "")), (
                        path.name,
                        cell["id"],
                    )
    assert images > 50


def _book_output_stderr():
    """The book's ``nb_output_stderr`` (``_config.yml``), MyST-NB's default if unset."""
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    return (config.get("sphinx", {}).get("config") or {}).get("nb_output_stderr", "show")


@pytest.mark.built
def test_no_stderr_survives_where_the_site_removes_it():
    # Issue 31: the notebooks of chapters 5, 6, 9 and 10 showed TensorFlow's 15-line log box
    # under a cell tagged remove-stderr (the site hid it; the renderer ignored the tag).
    _built()
    book = _book_output_stderr()
    tagged, found = 0, []
    for path in built_notebooks():
        notebook = json.loads(path.read_text())
        page = (notebook["metadata"].get("mystnb") or {}).get("output_stderr", book)
        for cell in notebook["cells"]:
            if cell["cell_type"] != "code":
                continue
            tags = set(cell["metadata"].get("tags", []))
            setting = (cell["metadata"].get("mystnb") or {}).get("output_stderr", page)
            removed = set()  # the outputs the site does not show, by kind
            if "remove-stderr" in tags or setting in ("remove", "remove-warn"):
                removed.add("stderr")
            if "remove-stdout" in tags:
                removed.add("stdout")
            if tags & {"remove-cell", "remove-output"}:
                removed |= {"stderr", "stdout", "display_data", "execute_result", "error"}
            tagged += "stderr" in removed
            for output in cell.get("outputs", []):
                kind = output.get("name", output["output_type"])
                if kind in removed:
                    found.append((path.parent.parent.name, path.stem, cell["id"], kind))
    assert tagged > 100  # the scan sees the cells: remove-stderr and remove-cell ones
    assert not found, found


# A float repr that shows decimal noise (0.8000000000000002, 9.999999999999999e-06), or a
# NumPy 2 scalar repr: output a reader should never have to squint at.
REPR_NOISE = re.compile(
    r"(?<![\w.])-?\d+\.\d*(?:0{6,}|9{6,})\d{1,3}(?:e[-+]?\d+)?(?![\w.])"
    r"|np\.float\d+\((?:-?\d|-?inf|nan)"  # a repr, not a call in printed source code
)


def test_repr_noise_detector_can_fail():
    noisy = "(0.8000000000000002, 9.999999999999999e-06, np.float64(0.5))"
    assert REPR_NOISE.findall(noisy) == [
        "0.8000000000000002",
        "9.999999999999999e-06",
        "np.float64(0",
    ]
    assert not REPR_NOISE.findall("1.6094379124341005 1e-05 0.5 2.220446049250313e-16 1000000")
    assert not REPR_NOISE.findall("return np.float64(ki >> 5)")  # source code, printed


@pytest.mark.built
def test_outputs_are_free_of_repr_noise():
    _built()
    found = []
    for chapter in sorted((BUILT / "teacher" / "chapters").glob("[0-9][0-9]-*.ipynb")):
        cells = json.loads(chapter.read_text())["cells"]
        outputs = [out for cell in cells for out in cell.get("outputs", [])]
        assert outputs, chapter.name  # the rendered notebooks carry their outputs
        for out in outputs:
            text = "".join(out.get("text", "")) + "".join(out.get("data", {}).get("text/plain", ""))
            found += [(chapter.stem, hit) for hit in REPR_NOISE.findall(text)]
    assert not found, found


@pytest.mark.built
def test_setup_cells_show_no_output():
    # Regression: chapter 10's setup cell ended with `sl.kernels.warm()`, which showed the
    # seconds it took as a raw float (once 0.5190149000000019, failing the repr-noise test).
    _built()
    shown = []
    for chapter in sorted((BUILT / "teacher" / "chapters").glob("[0-9][0-9]-*.ipynb")):
        for cell in json.loads(chapter.read_text())["cells"]:
            if cell["cell_type"] == "code" and "page_style()" in "".join(cell["source"]):
                shown += [chapter.stem] if cell.get("outputs") else []
    assert shown == [], f"setup cells with an output: {shown}"


def test_edition_passages():
    text = (
        "Both.\n<!-- edition: teacher -->\nTeacher.\n<!-- edition: end -->\n"
        "<!-- edition: student\nStudent.\nedition: end -->\nEnd.\n"
    )
    assert notebooks.select_edition(text, "teacher") == text
    assert notebooks.select_edition(text, "student") == "Both.\nStudent.\nEnd.\n"
    assert "Student." in markdown(render(nb(("markdown", text)), "student"))
    assert "Teacher." not in markdown(render(nb(("markdown", text)), "assignment"))
