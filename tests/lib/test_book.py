"""softmax_lib.book: the set-up every chapter shares (printing, figures, glue, tables)."""

import numpy as np
import pytest

from softmax_lib.book import glue_float, markdown_table, page_style


@pytest.fixture
def restored_printoptions():
    with np.printoptions():
        yield


def test_page_style_prints_four_digits_and_plain_scalars(restored_printoptions):
    page_style()
    assert np.array2string(np.array([1 / 3, 2 / 3])) == "[0.3333 0.6667]"
    assert repr(np.float64(0.5)) == "0.5"  # not np.float64(0.5) on NumPy 2
    assert np.array2string(np.array([1.0, 1e-30])) == "[1. 0.]"  # suppressed


def test_page_style_without_suppress_keeps_tiny_values_visible(restored_printoptions):
    page_style(suppress=False)
    assert "1.e-30" in np.array2string(np.array([1.0, 1e-30]))


def test_page_style_sets_the_figure_style(restored_printoptions):
    import matplotlib as mpl

    with mpl.rc_context():
        page_style()
        assert mpl.rcParams["figure.dpi"] == 110
        assert not mpl.rcParams["axes.spines.top"] and not mpl.rcParams["axes.spines.right"]


def test_page_style_rejects_a_non_bool_suppress():
    with pytest.raises(TypeError, match="`suppress` must be True or False; got 1"):
        page_style(suppress=1)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (3, 1.0, "`name` must be a str; got 3"),
        ("x", "1.5", "`value` must be a real number; got '1.5'"),
        ("x", np.array([1.0, 2.0]), "`value` must be a real number"),
        ("x", True, "`value` must be a real number; got True"),
    ],
)
def test_glue_float_rejects_what_is_not_one_real_number(name, value, message):
    with pytest.raises(TypeError, match=message):
        glue_float(name, value)


def test_markdown_table_writes_one_line_per_row():
    table = markdown_table(["a", "b"], [[1, "x"], ["2.5", None]]).data
    assert table.splitlines() == ["| a | b |", "|---|---|", "| 1 | x |", "| 2.5 | None |"]


@pytest.mark.parametrize(
    ("header", "rows", "error", "message"),
    [
        ("ab", [["1", "2"]], TypeError, "`header` must be a sequence of str"),
        (["a", "b"], "12", TypeError, "`rows` must be a sequence of rows"),
        (["a", "b"], [3], TypeError, "`rows` must hold sequences"),
        (["a", "b"], [["1"]], ValueError, "rows of 2 cells, as many as the header; got one of 1"),
    ],
)
def test_markdown_table_rejects_rows_that_do_not_fit(header, rows, error, message):
    with pytest.raises(error, match=message):
        markdown_table(header, rows)


@pytest.mark.parametrize(
    "value",
    [2.5, np.float32(2.5), np.int64(2), np.array(2.5), np.array(__import__("mpmath").mpf(2.5))],
    ids=["float", "float32", "int64", "0-d array", "0-d array of an mpmath number"],
)
def test_glue_float_glues_a_plain_float_without_display(monkeypatch, value):
    glued = []
    monkeypatch.setattr("myst_nb.glue", lambda *args, **kwargs: glued.append((args, kwargs)))
    glue_float("key", value)
    [((name, got), options)] = glued
    assert name == "key" and type(got) is float and got == float(value)
    assert options == {"display": False}


# sha256 of softmax_lib/data/docs_corpus.txt: the snapshot chapter 9 trains on. It is frozen
# on purpose (the chapter's numbers follow from it); change it only with the chapter.
DOCS_CORPUS_SHA256 = "b087d2fb4d4ad55191a7c4267880afa8025df26b4a2e25f9c23fbb10571d2ddc"


def test_docs_corpus_is_the_frozen_snapshot():
    import hashlib

    from softmax_lib.book import docs_corpus

    text = docs_corpus()
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == DOCS_CORPUS_SHA256
    assert "softmax" in text and len(text) > 50_000
