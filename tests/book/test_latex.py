"""The PDF's side of the book (``tools/latex.py``) on small document trees, without a build.

``tests/book/test_pdf.py`` checks the PDF ``make pdf`` built; these run in ``make test``.
"""

from docutils import nodes
from sphinx import addnodes

from tools import latex

# What MyST-NB writes for an interactive figure's text/plain output (softmax_lib.interactive).
STAND_IN = (
    "Interactive figure: move its slider on the book's website, or run this cell in JupyterLab."
)


def page(*outputs: str) -> nodes.document:
    """A page's own tree: a code cell per output text, as MyST-NB makes it."""
    document = nodes.document(None, None)
    for text in outputs:
        output = nodes.container("", nodes.literal_block(text, text, classes=["output"]))
        document += nodes.container("", output, classes=["cell", "tag_hide-input"])
    return document


def book(*outputs: str) -> nodes.document:
    """A LaTeX build's tree: one chapter holding a code cell per output text."""
    document = nodes.document(None, None)
    chapter = addnodes.start_of_file(docname="chapters/01-softmax")
    chapter.extend(page(*outputs).children)
    document += chapter
    return document


def test_slider_stand_in_gives_the_pages_address():
    # Issue 31: the PDF told its reader to move a slider "on the book's website" without
    # saying where the website is.
    tree = book(STAND_IN, "array([0.659, 0.242, 0.099])")
    assert latex.slider_lines(tree, "https://someone.github.io/softmax", placeholder=False) == 1
    (line,) = tree.findall(nodes.paragraph)
    url = "https://someone.github.io/softmax/chapters/01-softmax.html"
    assert line.astext() == latex.SLIDER_LINE + url + latex.SLIDER_END
    (link,) = line.findall(nodes.reference)
    assert link["refuri"] == url  # a link in the PDF, not only text
    assert STAND_IN not in tree.astext()
    # Other outputs stay as they are.
    assert [b.astext() for b in tree.findall(nodes.literal_block)] == [
        "array([0.659, 0.242, 0.099])"
    ]


def test_slider_stand_in_on_a_placeholder_site_says_the_address_is_unknown():
    # A build without the published address must not print an address that leads nowhere;
    # it says so, as the notebooks do ("built without the address where it is published").
    tree = book(STAND_IN)
    assert latex.slider_lines(tree, "https://your-account.github.io/x", placeholder=True) == 1
    text = tree.astext()
    assert text == latex.SLIDER_PLACEHOLDER
    assert "built without the address where the website is published" in text
    assert "your-account" not in text and not list(tree.findall(nodes.reference))


def test_outputs_that_are_not_sliders_are_left_alone():
    tree = book("Interactive mode is off.", "0.5")
    assert latex.slider_lines(tree, "https://site", placeholder=False) == 0
    assert [b.astext() for b in tree.findall(nodes.literal_block)] == [
        "Interactive mode is off.",
        "0.5",
    ]


def test_slider_line_finds_its_page_in_the_latex_builders_tree():
    # The LaTeX builder inlines each page as ``sof.children = subtree.children`` (Sphinx's
    # inline_all_toctrees), leaving the parent pointers on the page's own document: walking up
    # from the figure found no page, and the PDF said "placeholder" with BOOK_SITE_URL set.
    document = nodes.document(None, None)
    outer = addnodes.start_of_file(docname="intro")
    inner = addnodes.start_of_file(docname="chapters/02-stable-softmax")
    inner.children = page(STAND_IN).children  # as the builder does: parents not updated
    outer.children = [nodes.paragraph("", "Contents"), inner]
    document.children = [outer]
    assert latex.slider_lines(document, "https://site", placeholder=False) == 1
    assert "https://site/chapters/02-stable-softmax.html" in document.astext()


def test_slider_line_outside_any_page_takes_the_documents_name():
    tree = nodes.document(None, None)
    tree += nodes.container("", nodes.literal_block(STAND_IN, STAND_IN, classes=["output"]))
    assert latex.slider_lines(tree, "https://site", False, docname="chapters/03-sigmoid") == 1
    assert "https://site/chapters/03-sigmoid.html" in tree.astext()
