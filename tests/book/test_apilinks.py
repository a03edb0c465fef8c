"""The library reference (chapters/api*.md) and the links from the chapters to it.

The matching of tools/apilinks.py is tested on small doctrees, without a build; the built
pages (``built``) and one click in Chromium (``browser``) check what a reader gets.
"""

import functools
import http.server
import re
import threading
from pathlib import Path

import bs4
import numpy as np
import pytest
from docutils import nodes
from docutils.frontend import get_default_settings
from docutils.parsers.rst import Parser
from docutils.utils import new_document
from helpers import unavailable
from sphinx import addnodes

import softmax_lib as sl
from tools import apilinks

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"


@pytest.fixture(scope="module")
def names():
    return apilinks.library_names()


# ------------------------------------------------------------------- matching, no build


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("logsumexp", "softmax_lib.logsumexp"),
        ("softmax_lib.logsumexp", "softmax_lib.logsumexp"),
        ("sl.softmax(z / T)", "softmax_lib.softmax"),
        ("softmax([0.0, -g])", "softmax_lib.softmax"),
        ("softmax_lib.core.softmax", "softmax_lib.softmax"),  # documented at the top
        ("softmax_lib.losses.cross_entropy", "softmax_lib.cross_entropy"),
        ("information.entropy(p)", "softmax_lib.information.entropy"),
        ("entropy(..., axis=None)", "softmax_lib.information.entropy"),
        ("streaming.online_softmax", "softmax_lib.streaming.online_softmax"),
        ("stability.shifted_softmax", "softmax_lib.stability.shifted_softmax"),
        ("fit_softmax_regression", "softmax_lib.classifier.fit_softmax_regression"),
        ("SoftmaxRegression", "softmax_lib.classifier.SoftmaxRegression"),
        ("symbolic.jacobian", "softmax_lib.symbolic.jacobian"),
        ("softmax_lib", "softmax_lib"),
        ("softmax_lib.stability", "softmax_lib.stability"),
        ("sl.information", "softmax_lib.information"),
    ],
)
def test_a_mention_names_the_documented_object(names, text, target):
    assert apilinks.mentioned(text, names) == target


@pytest.mark.parametrize(
    "text",
    [
        "log(softmax(z))",  # a call of something else
        "my_softmax(z)",
        "softmax(x)[0]",  # more than a call
        "softmax(a)(b)",
        "softmax(a",
        "torch.softmax",  # other libraries' functions
        "F.cross_entropy",
        "np.exp",
        "logits",  # softmax_lib.symbolic's names are not matched bare
        "gradient",
        "softmax_lib._dispatch",  # private
        "softmax_lib.nothing",
        "__version__",  # not a function, class or module
        "eq-softmax",  # a label
        "",
    ],
)
def test_lookalikes_are_not_mentions(names, text):
    assert apilinks.mentioned(text, names) is None


def test_the_table_covers_every_public_function(names):
    documented = set(names.kinds)
    for module_name in ["softmax_lib", *(f"softmax_lib.{m}" for m in _public_modules())]:
        module = __import__(module_name, fromlist=["_"])
        assert module_name in documented
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if callable(obj) and not isinstance(obj, type(sl)):
                assert names.targets[f"{module_name}.{name}"] in documented


def _public_modules():
    import pkgutil

    return [i.name for i in pkgutil.iter_modules(sl.__path__) if not i.name.startswith("_")]


def _doctree(rst: str):
    settings = get_default_settings(Parser)
    settings.report_level = 5
    document = new_document("<test>", settings)
    Parser().parse(rst, document)
    return document


def _links(tree):
    return [(x["reftarget"], x.astext()) for x in tree.findall(addnodes.pending_xref)]


def test_only_the_first_mention_on_a_page_is_linked(names):
    tree = _doctree(
        "Title with ``softmax``\n======================\n\n"
        "First ``softmax(z)``, then ``logsumexp`` and ``softmax`` again, ``sl.softmax``.\n\n"
        "`A link with \\`\\`logsumexp\\`\\` <https://example.org>`_,"
        " and ``softmax_lib.logsumexp``.\n"
        "\n::\n\n    softmax(z)  # a code block\n"
    )
    linked = apilinks.link_first_mentions(tree, "chapters/01-softmax", names)
    assert linked == [
        ("chapters/01-softmax", "softmax_lib.softmax"),
        ("chapters/01-softmax", "softmax_lib.logsumexp"),
    ]
    assert _links(tree) == [
        ("softmax_lib.softmax", "softmax(z)"),
        ("softmax_lib.logsumexp", "logsumexp"),
    ]
    title = next(iter(tree.findall(nodes.title)))
    assert not list(title.findall(addnodes.pending_xref))  # the title is left alone
    xref = next(iter(tree.findall(addnodes.pending_xref)))
    assert (xref["refdomain"], xref["reftype"], xref["refwarn"]) == ("py", "obj", True)
    assert "apilink" in xref[0]["classes"]


@pytest.mark.parametrize(
    ("rst", "linked"),
    [
        # Chapter 6's sentences: the bare names are PyTorch's and SciPy's.
        ("Read PyTorch's ``cross_entropy`` exactly. Ours: ``cross_entropy``.", [1]),
        ("SciPy does not guess: its ``softmax`` and *``logsumexp``* reduce.", []),
        ("The backward passes of ``log_softmax`` in PyTorch differ.", []),
        ("``F.cross_entropy(z, k)`` is ``log_softmax`` then ``nll_loss``.", []),
        ("With NumPy alone (not with this book's ``entropy``).", [0]),
        # A qualified name is the library's whatever the sentence says.
        ("Unlike PyTorch's, ``softmax_lib.softmax`` and ``sl.log_softmax`` keep dtypes.", [0, 1]),
        ("Our ``softmax`` agrees with PyTorch's within 2 ULPs.", []),
        ("Our ``softmax`` is exact. PyTorch's is not.", [0]),
    ],
)
def test_a_bare_name_in_a_sentence_about_another_library_is_not_linked(names, rst, linked):
    tree = _doctree(rst + "\n")
    literals = list(tree.findall(nodes.literal))
    apilinks.link_first_mentions(tree, "chapters/06-frameworks", names)
    assert [i for i, lit in enumerate(literals) if lit.parent.tagname == "pending_xref"] == linked


def test_a_link_already_there_is_left_and_does_not_count(names):
    tree = _doctree("`see \\`\\`softmax\\`\\` <https://example.org>`_, then ``softmax``.\n")
    assert _links(tree) == []
    apilinks.link_first_mentions(tree, "chapters/01-softmax", names)
    assert _links(tree) == [("softmax_lib.softmax", "softmax")]
    assert len(list(tree.findall(nodes.reference))) == 1


def test_each_inlined_page_of_the_latex_book_counts_apart(names):
    # The LaTeX builder resolves one tree for the whole book: pages are start_of_file nodes.
    book = _doctree("Front matter: ``softmax``.\n")
    for page in ("chapters/01-softmax", "chapters/02-stable-softmax", "chapters/api"):
        inlined = addnodes.start_of_file(docname=page)
        inlined += _doctree("``softmax`` and ``softmax``.\n").children
        book += inlined
    linked = apilinks.link_first_mentions(book, "intro", names, exclude=["chapters/api*"])
    pages = [page for page, _ in linked]
    assert pages == ["intro", "chapters/01-softmax", "chapters/02-stable-softmax"]
    assert len(_links(book)) == 3


def test_the_extension_registers_before_references_are_resolved():
    class App:
        def add_config_value(self, name, default, rebuild):
            self.default = default

        def add_post_transform(self, transform):
            self.transform = transform

        def connect(self, event, handler):
            self.event = event

    app = App()
    apilinks.setup(app)
    assert app.default == ["chapters/api*"] and app.event == "missing-reference"
    assert app.transform.default_priority < 10  # before Sphinx's ReferencesResolver


def test_the_conventions_the_reference_states_hold():
    # chapters/api.md, "Conventions": each sentence about errors and special values.
    inf, nan = np.inf, np.nan
    with pytest.raises(TypeError, match="axis"):
        sl.softmax([1.0], axis=1.0)
    with pytest.raises(TypeError, match="`x`"):
        sl.softmax([1j])
    with pytest.raises(ValueError, match="temperature"):
        sl.softmax([1.0], temperature=-1.0)
    with pytest.raises(ValueError, match="axis"):
        sl.softmax([1.0], axis=3)
    assert np.isnan(sl.softmax([nan, 0.0])).all()
    assert sl.softmax([-inf, 0.0]).tolist() == [0.0, 1.0]
    assert sl.log_softmax([-inf, 0.0]).tolist() == [-inf, 0.0]
    assert np.isnan(sl.softmax([-inf, -inf])).all() and np.isnan(sl.softmax([inf, 0.0])).all()
    assert float(sl.logsumexp([-inf, -inf])) == -inf and float(sl.logsumexp([inf, 0.0])) == inf
    assert sl.softmax([5.0, 1.0], where=[False, True]).tolist() == [0.0, 1.0]
    assert sl.softmax(np.float32([1.0, 2.0])).dtype == np.float32
    assert sl.softmax([1, 2]).dtype == np.float64
    from softmax_lib.streaming import online_softmax

    with pytest.raises(ValueError, match="finite"):
        online_softmax([inf, 0.0])
    # Arrays: at least one dimension, except the element-wise functions; no masked arrays.
    with pytest.raises(ValueError, match="dimension"):
        sl.softmax(3.0)
    assert float(sl.sigmoid(0.0)) == 0.5
    with pytest.raises(TypeError):
        sl.softmax(np.ma.masked_array([1.0, 2.0], mask=[False, True]))
    assert sl.softmax(np.longdouble([1.0, 2.0])).dtype == np.longdouble
    # Special values, per row; fully masked rows; nll_loss reads the target's entry only.
    for row in ([nan, 0.0], [inf, 0.0], [-inf, -inf]):
        assert np.isnan(sl.log_softmax(row)).all(), row
    assert np.isnan(sl.logsumexp([nan, 0.0]))
    masked = [[False, False]]
    assert sl.softmax([[1.0, 2.0]], where=masked).tolist() == [[0.0, 0.0]]
    assert sl.log_softmax([[1.0, 2.0]], where=masked).tolist() == [[-inf, -inf]]
    assert sl.logsumexp([[1.0, 2.0]], where=masked).tolist() == [-inf]
    assert float(sl.nll_loss([[nan, -2.0]], [1])) == 2.0


# -------------------------------------------------------------------- the built pages


def _html(page: str) -> bs4.BeautifulSoup:
    path = HTML / f"{page}.html"
    if not path.exists():
        unavailable(f"{path.relative_to(ROOT)} is missing (run make book)")
    return bs4.BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def _mentions(soup, target, names):
    """The inline code spans of the article that mention `target`, in order."""
    article = soup.select_one("article")
    return [
        code
        for code in article.select("code.literal")
        if apilinks.mentioned(code.get_text(), names) == target
        and not code.find_parent(["h1", "h2", "h3", "h4", "pre"])
    ]


def _linked(soup):
    """The targets of the article's links to the reference, in order."""
    return [
        a["title"] for a in soup.select("article a.reference.internal") if a.select("code.apilink")
    ]


@pytest.mark.built
def test_chapter_2_links_its_first_logsumexp_to_the_reference_entry(names):
    soup = _html("chapters/02-stable-softmax")
    mentions = _mentions(soup, "softmax_lib.logsumexp", names)
    first = mentions[0].find_parent("a")
    assert first is not None and first["href"] == "api.html#softmax_lib.logsumexp"
    assert _html("chapters/api").find(id="softmax_lib.logsumexp") is not None
    # The first of chapter 2's many softmax_lib is a link; the others are not.
    package = _mentions(soup, "softmax_lib", names)
    assert len(package) > 5 and package[0].find_parent("a") is not None
    assert all(m.find_parent("a") is None for m in package[1:])


@pytest.mark.built
def test_chapter_6_links_the_librarys_cross_entropy_not_pytorchs(names):
    soup = _html("chapters/06-frameworks")
    mentions = _mentions(soup, "softmax_lib.cross_entropy", names)
    assert "PyTorch" in mentions[0].find_parent("p").get_text()
    assert mentions[0].find_parent("a") is None
    assert _linked(soup).count("softmax_lib.cross_entropy") == 1


@pytest.mark.built
def test_every_chapter_links_each_library_function_once_to_its_entry(names):
    pages = sorted(p.stem for p in (ROOT / "chapters").glob("*.md") if not p.stem.startswith("api"))
    assert len(pages) >= 14
    total = 0
    for page in pages:
        soup = _html(f"chapters/{page}")
        links = soup.select("article a.reference.internal:has(code.apilink)")
        targets = [a["title"] for a in links]
        assert len(targets) == len(set(targets)), page  # one link per object and page
        for link in links:
            href, anchor = link["href"].split("#")
            assert re.fullmatch(r"api(-\w+)?\.html", href), link["href"]
            assert anchor in (link["title"], f"module-{link['title']}")
            assert link["title"] == apilinks.mentioned(link.get_text(), names)
        total += len(links)
    assert total > 50


@pytest.mark.built
def test_every_public_object_has_an_entry(names):
    pages = [_html(f"chapters/{p.stem}") for p in (ROOT / "chapters").glob("api*.md")]
    ids = {tag["id"] for soup in pages for tag in soup.select("[id]")}
    missing = [t for t, kind in names.kinds.items() if t not in ids and f"module-{t}" not in ids]
    assert missing == []


@pytest.mark.built
def test_the_softmax_entry_shows_signature_parameters_policy_and_example():
    entry = _html("chapters/api").find(id="softmax_lib.softmax")
    signature = entry.get_text(" ", strip=True)
    assert re.search(r"softmax\s*\(\s*x\s*,\s*axis\s*=\s*-1\s*,\s*\*\s*,\s*temperature", signature)
    body = entry.find_next_sibling("dd")
    text = body.get_text(" ", strip=True)
    fields = {dt.get_text(strip=True).rstrip(":") for dt in body.select("dl.field-list > dt")}
    assert {"Parameters", "Returns", "Raises"} <= fields
    for parameter in ("x", "axis", "temperature", "where"):
        assert body.find("strong", string=parameter) is not None
    assert "Special values" in text and "NaN" in text
    examples = body.find(class_="rubric", string="Examples")
    assert examples is not None
    assert ">>> " in examples.find_next("pre").get_text()


# ------------------------------------------------------------------------ in a browser


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    if not (HTML / "chapters" / "api.html").exists():
        unavailable("no built reference in _build/html (run make book)")
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.browser
@pytest.mark.parametrize("width", [1200, 390])
def test_following_a_chapter_link_shows_the_entry(browser, server, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{server}/chapters/02-stable-softmax.html", wait_until="networkidle")
        page.locator("article a:has(code.apilink)", has_text="logsumexp").first.click()
        page.wait_for_url(re.compile(r"/chapters/api\.html#softmax_lib\.logsumexp$"))
        entry = page.locator("[id='softmax_lib.logsumexp']")
        entry.wait_for()
        box = entry.bounding_box()
        assert box is not None and 0 <= box["y"] < 900  # scrolled to the entry
        assert "logsumexp(x, axis=-1" in entry.inner_text().replace("\n", "")
        # Nothing on the reference page is wider than the screen.
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"api-logsumexp-{width}.png"))
    finally:
        context.close()


def test_the_student_edition_copies_every_local_extension():
    # Regression: tools/apilinks.py is a local extension; the student edition's sources
    # (tools/course.py BOOK_FILES) must carry it, or the student build cannot load it.
    import yaml

    from tools import course

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    extensions = config["sphinx"]["local_extensions"]
    assert "tools.apilinks" in extensions
    for module in extensions:
        assert module.replace(".", "/") + ".py" in course.BOOK_FILES, module


def test_the_student_edition_copies_every_module_the_extensions_import():
    # Regression: tools/i18n.py imports tools/i18n_words.py (which imports tools/outputs.py
    # and tools/glued.py) in its setup; the student build failed to start without them.
    import ast

    import yaml

    from tools import course

    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    todo = [m.split(".")[1] for m in config["sphinx"]["local_extensions"]]
    found: set[str] = set()
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found.add(name)
        for node in ast.walk(ast.parse((ROOT / "tools" / f"{name}.py").read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "tools":
                todo += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tools."):
                todo.append(node.module.split(".")[1])
    assert {"i18n", "i18n_words", "outputs", "glued"} <= found
    missing = sorted(f"tools/{m}.py" for m in found if f"tools/{m}.py" not in course.BOOK_FILES)
    assert missing == [], f"add to tools/course.py BOOK_FILES: {missing}"


def test_a_bare_name_two_modules_export_is_not_matched(tmp_path, monkeypatch):
    package = tmp_path / "fakelib"
    package.mkdir()
    (package / "__init__.py").write_text("from fakelib import a, b\n__all__ = ['a', 'b']\n")
    for module in ("a", "b"):
        (package / f"{module}.py").write_text(
            f"__all__ = ['shared', 'only_{module}']\n"
            f"def shared(): pass\ndef only_{module}(): pass\n"
        )
    monkeypatch.syspath_prepend(str(tmp_path))
    names = apilinks.library_names("fakelib")
    assert apilinks.mentioned("shared", names) is None  # which one?
    assert apilinks.mentioned("b.shared", names) == "fakelib.b.shared"
    assert apilinks.mentioned("only_a()", names) == "fakelib.a.only_a"


@pytest.mark.browser
@pytest.mark.parametrize("page", sorted(p.stem for p in (ROOT / "chapters").glob("api*.md")))
def test_no_reference_page_scrolls_sideways_on_a_phone(browser, server, page):
    # Regression: the signature of softmax_lib.classifier.SoftmaxRegression, one long word,
    # made the whole page 223 px wider than a 390 px screen.
    context = browser.new_context(viewport={"width": 390, "height": 900})
    try:
        view = context.new_page()
        view.goto(f"{server}/chapters/{page}.html", wait_until="networkidle")
        overflow = view.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0
    finally:
        context.close()
