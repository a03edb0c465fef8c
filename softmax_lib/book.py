"""What the chapters share: their set-up, and the text chapter 9's language model reads.

The set-up is print and figure style, glue of plain floats and Markdown tables.

Each chapter's hidden set-up cell begins with the same lines::

    import matplotlib.pyplot as plt
    from IPython.display import Markdown
    from myst_nb import glue

    from softmax_lib.book import glue_float, page_style

    page_style()

so that a number prints, and a figure looks, the same on every page, in the notebook as on
the website. Plotting needs matplotlib and gluing needs MyST-NB: both are imported when
first used, not with this module (the book's environment and Colab's set-up cell have them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from softmax_lib._validation import (
    check_bool,
    check_real_value,
    check_rows,
    check_str,
    check_str_sequence,
)

__all__ = ["docs_corpus", "glue_float", "markdown_table", "page_style"]

FIGURE_STYLE = {"figure.dpi": 110, "axes.spines.top": False, "axes.spines.right": False}


def page_style(*, suppress: bool = True) -> None:
    """Print arrays with 4 significant digits and draw figures in the book's style.

    Sets NumPy's print options for this process: precision 4, and on NumPy 2 the legacy
    ``"1.25"`` style for scalars, so that ``np.float64(0.5)`` prints as ``0.5`` (as on NumPy
    1, and as the book's text reads). Sets matplotlib's figure resolution and hides the top
    and right spines, if matplotlib is installed.

    Parameters
    ----------
    suppress : bool, default True
        Print tiny entries as ``0.`` beside large ones (NumPy's ``suppress``). A chapter
        about underflow passes False, so that ``1e-30`` stays visible.

    Raises
    ------
    TypeError
        If `suppress` is not a bool.

    Examples
    --------
    >>> import numpy as np
    >>> from softmax_lib.book import page_style
    >>> with np.printoptions():  # restore NumPy's options after the example
    ...     page_style()
    ...     print(np.array([1 / 3, 1e-30]), np.float64(0.5))
    [0.3333 0.    ] 0.5
    """
    suppress = check_bool(suppress, "suppress")
    legacy = "1.25" if int(np.__version__.split(".")[0]) >= 2 else False
    np.set_printoptions(precision=4, suppress=suppress, legacy=legacy)
    try:
        import matplotlib as mpl
    except ImportError:  # figures need matplotlib; printing does not
        return
    mpl.rcParams.update(FIGURE_STYLE)


def glue_float(name: str, value: Any) -> None:
    """Glue `value` for the page's text as a plain Python float, not shown in the cell.

    The book's sentences read measured values with MyST-NB's ``{glue:text}`` role, whose
    format specs (``:.2f``) fail on NumPy scalars; a Python float takes them.

    Parameters
    ----------
    name : str
        The key the text reads.
    value : real number
        A Python or NumPy real number, or a 0-d array of one.

    Raises
    ------
    TypeError
        If `name` is not a string, or `value` is not one real number.
    """
    from myst_nb import glue

    glue(check_str(name, "name"), check_real_value(value, "value"), display=False)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]):
    """Return a Markdown table (IPython's ``Markdown``) of `rows` under `header`.

    Each cell is written with ``str``: format numbers before, as the page should show them.
    Glued with ``glue(name, markdown_table(...), display=False)``, the table shows where the
    page's ``{glue:md}`` directive stands.

    Parameters
    ----------
    header : sequence of str
        The column headings.
    rows : sequence of sequences
        One sequence per row, as long as `header`.

    Raises
    ------
    TypeError
        If `header` is not a sequence of str, or a row is not a sequence.
    ValueError
        If a row's length differs from the header's.

    Examples
    --------
    >>> print(markdown_table(["p", "log p"], [["0.5", "-0.6931"]]).data)
    | p | log p |
    |---|---|
    | 0.5 | -0.6931 |
    """
    from IPython.display import Markdown

    check_str_sequence(header, "header")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in check_rows(rows, len(header), "rows"):
        lines.append("| " + " | ".join(str(c) for c in row) + " |")
    return Markdown("\n".join(lines))


DOCS_CORPUS = "data/docs_corpus.txt"


def docs_corpus() -> str:
    """Return the text the language model of chapter 9 trains on: this library's documentation.

    A snapshot of the docstrings of ``softmax_lib``'s public modules and of the functions
    and classes they hold, some of them defined in private modules (each docstring once,
    sorted, separated by blank lines), shipped with the
    package, so the chapter needs no download. It is a snapshot, not the docstrings of the
    installed version: the model, and every number the chapter reports about it, stay the
    same when the library's documentation changes.

    Returns
    -------
    str
        About a hundred thousand characters of English prose, code and mathematics.

    Examples
    --------
    >>> from softmax_lib.book import docs_corpus
    >>> text = docs_corpus()
    >>> "softmax" in text and len(set(text)) < 128
    True
    """
    from importlib.resources import files

    return files("softmax_lib").joinpath(DOCS_CORPUS).read_text(encoding="utf-8")
