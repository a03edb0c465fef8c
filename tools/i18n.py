"""The book's other editions (issue 35, the Chinese one): what the Sphinx build adds for them.

A local Sphinx extension (``_config.yml``: ``sphinx.local_extensions``), loaded by every build;
in the English build it only adds the language switch. ``python -m tools.locales build zh_CN``
runs the Chinese build (``language=zh_CN``, the catalogues of ``locales/``, the English build's
execution cache). There it does four things:

1. **Glued values in translated messages.** MyST-NB (1.4.0) resolves a glue role from the
   notebook of the page being parsed, which it keeps on the document while it parses the page
   and removes at the end. Sphinx's ``Locale`` transform then parses each translated message
   as a document of its own, where that notebook is gone: every ``{glue:text}`` of a
   translation would fail ("No key ... found in glue data"). :class:`Parser` (MyST-NB's own,
   registered in its place in translating builds only) keeps the page's notebook renderer
   and lends it to the translated messages of that page, so their glue roles render the same
   values from the same execution. ``tests/book/test_i18n.py`` pins this to MyST-NB 1.4.0 and
   fails when MyST-NB no longer needs it. The same parser reads two kinds of translated
   message as reStructuredText, as Sphinx writes or the page has them: display equations
   (Sphinx wraps a literal node's translation in an RST ``::`` block, which MyST would turn
   into the formula "::") and the messages of ``{eval-rst}`` blocks (``:func:`name```).
   A glued value that is English words ("above", a verdict clause: chosen by a measurement)
   is pasted in the edition's language, from ``locales/<language>/glued.tsv``
   (:func:`translate_glued_words`, ``tools/glued.py``); a word with no row is an error.
2. **Every message translated.** Every message of a page's catalogue must be translated, not
   fuzzy, and still one of the page's messages (as Sphinx's gettext builder and ``make
   locales`` extract them: the MyST source of a paragraph, heading, caption...); a catalogue
   message the page no longer has means the English changed and ``make locales`` was not
   run. Sphinx must have applied each translation (one that does not parse as its English
   did is dropped silently). Each problem is a warning naming the page, its line and the
   message, repeated at the end of every build until fixed (an error under ``-W``). A new
   English message that no catalogue has yet is ``tests/book/test_i18n.py``'s to find (it
   compares the catalogues with fresh templates): the pages' outputs make messages of their
   own here (glued tables, figure captions) that a build cannot tell from new English. The
   library reference's docstrings are not translated (``tools/locales.py``).
3. **The language switch** on every page, to the same page in the other edition (a relative
   link, so it works from ``file://`` and any server), in the article's header, with ``lang``
   and ``hreflang``. ``i18n_editions`` (``_config.yml``) names the editions and their folders
   under the English site; the student edition sets it empty (there is no Chinese one).
4. **Chinese search without jieba.** Sphinx's Chinese search splits words with jieba, which
   the book does not install; without it no Chinese word is indexed. :class:`SearchChinese`
   indexes every Han character and every pair of neighbouring Han characters, and the page's
   search script splits a query the same way, so a Chinese query finds the pages holding all
   its character pairs (a standard way to index CJK text without a dictionary).
5. **Words that are not messages** (``tools/i18n_words.py``): cell outputs (interactive
   figures, glued Markdown: ``tools/outputs.py``), the words of extensions (MyST-NB's buttons
   of hidden cells, solution titles, sphinx-design's buttons, the site's title) and of the
   theme (tooltips, navigation labels). English words left untranslated are warnings.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

from docutils import nodes
from myst_nb.sphinx_ import Parser as MystNbParser
from sphinx.search.zh import SearchChinese as SphinxSearchChinese
from sphinx.transforms import SphinxTransform
from sphinx.util import logging
from sphinx.util.i18n import docname_to_domain
from sphinx.util.nodes import extract_messages

logger = logging.getLogger(__name__)

#: The MyST-NB version :class:`Parser` was written for (tests/book/test_i18n.py checks it).
MYST_NB_VERSION = "1.4.0"
#: How each edition names itself in the switch, and its language tag (BCP 47).
LABELS = {"en": ("English", "en"), "zh_CN": ("中文", "zh-CN")}
TITLES = {"en": "Read this page in English", "zh_CN": "阅读本页的中文版"}
#: The search box's placeholder (Jupyter Book's is English: "Search this book...").
SEARCH_BAR_TEXT = {"zh_CN": "搜索本书……"}
#: The pages' sources (a message from elsewhere is a docstring's: not translated).
PAGE_SUFFIXES = (".md", ".ipynb")
#: At most this many problems are listed per page; the rest are counted.
LISTED = 12


def language(config) -> str:
    """Return the build's language: ``en`` unless ``language`` says otherwise."""
    return config.language or "en"


def translating(app) -> bool:
    """Whether this build translates the book (its language is not English).

    The gettext builder, which extracts the English messages, never does.
    """
    builder = getattr(app, "builder", None)
    return language(app.config) != "en" and not (builder and builder.name == "gettext")


# ------------------------------------------------------------------ 1. glue in translations

_RENDERERS: dict[str, Any] = {}  # docname -> MyST-NB's renderer of that page, while it is read


class _KeepRenderer(dict):
    """A document's attributes that keep the notebook renderer MyST-NB removes after parsing."""

    renderer = None

    def pop(self, key, *default):
        value = super().pop(key, *default)
        if key == "nb_renderer":
            self.renderer = value
        return value


class Parser(MystNbParser):
    """MyST-NB's parser, whose glue roles also work in the translated messages of a page."""

    def parse(self, inputstring: str, document: nodes.document) -> None:
        """Parse a page, or a translated message of the page being read (see the module)."""
        env = getattr(document.settings, "env", None) or self.env
        if document.current_source.endswith("<translated>"):
            if inputstring.startswith("::\n\n") or _in_rst_block(document.current_source):
                # Sphinx hands a literal block's or a display equation's translation over as
                # an RST literal block ("::" and the text, indented); a message of an
                # {eval-rst} block is reStructuredText too. MyST would misread both.
                rst = self._app.registry.create_source_parser(self._app, "restructuredtext")
                rst.parse(inputstring, document)
                return
            renderer = _RENDERERS.get(env.docname)
            if renderer is not None:
                document.attributes["nb_renderer"] = renderer
            try:
                super().parse(inputstring, document)
            finally:
                document.attributes.pop("nb_renderer", None)
            translate_glued_words(inputstring, document, env.docname)
            return
        kept = _KeepRenderer(document.attributes)
        document.attributes = kept
        try:
            super().parse(inputstring, document)
        finally:
            document.attributes = dict(kept)
        if kept.renderer is not None:
            _RENDERERS[env.docname] = kept.renderer


@functools.cache
def _rst_lines(path: str, mtime: float) -> frozenset[int]:
    """Return the lines of a page (numbered from 1) inside its ``{eval-rst}`` blocks."""
    from tools import myst

    text = Path(path).read_text(encoding="utf-8")
    blocks = myst.directives(text, "eval-rst")
    return frozenset(line for b in blocks for line in range(b.start + 1, b.end + 1))


def _in_rst_block(current_source: str) -> bool:
    """Whether a translated message (``page.md:LINE:<translated>``) is from an eval-rst block.

    Sphinx parses every translated message with the page's parser (MyST here); the messages
    of an ``{eval-rst}`` block are reStructuredText (``:func:`x```), and must be parsed as such.
    """
    path, line, _ = current_source.rsplit(":", 2)
    if not (line.isdigit() and path.endswith(".md") and Path(path).exists()):
        return False
    return int(line) in _rst_lines(path, Path(path).stat().st_mtime)


def _forget_renderer(app, doctree):
    """Let a page's notebook go once the page is read (its translations applied)."""
    _RENDERERS.pop(app.env.docname, None)


# ------------------------------------------------------------------ 1b. glued words in Chinese

_GLUE_TEXT = re.compile(r"\{glue:text\}`([^`]+)`")


def translate_glued_words(inputstring: str, document, docname: str) -> None:
    """Replace the English words pasted by the ``{glue:text}`` roles of a translated message.

    MyST-NB pastes a ``{glue:text}`` value as an inline node (class ``pasted-text``) that does
    not name its key; the message's roles and its pasted nodes are in the same order. Each
    value is replaced by its Chinese from ``locales/<language>/glued.tsv`` (tools/glued.py);
    a word value with no row is a warning (an error under ``-W``, as ``tools.locales build``
    runs) naming the page, the key and the value, and stays English.
    """
    from tools import glued

    # as MyST-NB reads a role: "key", "key:.2f", "page::key:s"
    keys = [role.rsplit(":", 1)[0].split("::")[-1] for role in _GLUE_TEXT.findall(inputstring)]
    pasted = [n for n in document.findall(nodes.inline) if "pasted-text" in n["classes"]]
    if len(keys) != len(pasted):
        return  # a role failed (MyST-NB warned) or is not a paste: nothing to pair
    page = glued.page_of(docname)
    for key, node in zip(keys, pasted, strict=True):
        value = node.astext()
        try:
            chinese = glued.translate(page, key, value)
        except glued.MissingTranslation as exc:
            logger.warning(str(exc), location=node, type="i18n", subtype="glued")
            continue
        if chinese != value:
            node.replace(node.children[0], nodes.Text(chinese))
            node.rawsource = chinese


# ------------------------------------------------------------------ 2. every message translated

_CATALOGUES: dict[Path, tuple[float, dict[str, tuple[str, bool]]]] = {}


def catalogue_path(srcdir, config, docname: str) -> Path | None:
    """Return the ``.po`` file of a page, in the first of ``locale_dirs`` that has it."""
    domain = docname_to_domain(docname, config.gettext_compact)
    for directory in config.locale_dirs:
        path = Path(srcdir, directory, language(config), "LC_MESSAGES", f"{domain}.po")
        if path.exists():
            return path
    return None


def read_catalogue(path: Path) -> dict[str, tuple[str, bool]]:
    """Return ``{msgid: (msgstr, fuzzy)}`` of a ``.po`` file (read once per change)."""
    mtime = path.stat().st_mtime
    if path in _CATALOGUES and _CATALOGUES[path][0] == mtime:
        return _CATALOGUES[path][1]
    from babel.messages.pofile import read_po

    with path.open("rb") as f:
        catalog = read_po(f)
    entries = {m.id: (m.string or "", m.fuzzy) for m in catalog if m.id}
    _CATALOGUES[path] = (mtime, entries)
    return entries


def _page_message(node: nodes.Node) -> bool:
    """Whether a message comes from a page's MyST source (not a docstring: see tools.locales)."""
    return (node.source or "").endswith(PAGE_SUFFIXES)


def is_message(document) -> bool:
    """Whether `document` is a translated message Sphinx parses, not a page."""
    return str(document.get("source", "")).endswith("<translated>")


def short(msg: str) -> str:
    """Return a message cut to 90 characters, for a warning."""
    return msg if len(msg) <= 90 else msg[:87] + "..."


class CheckMessages(SphinxTransform):
    """Before Sphinx translates a page: its messages, and which of them have a translation."""

    default_priority = 19  # Sphinx's Locale transform is 20

    def apply(self, **kwargs: Any) -> None:
        """Record the page's messages, and the nodes whose translation Sphinx must apply."""
        if not translating(self.app) or is_message(self.document):
            return
        docname = self.env.docname
        path = catalogue_path(self.env.srcdir, self.config, docname)
        entries = read_catalogue(path) if path else {}
        seen, expected = set(), []
        for node, msg in extract_messages(self.document):
            if not _page_message(node):
                continue
            seen.add(msg)
            msgstr, fuzzy = entries.get(msg, ("", False))
            if msgstr.strip() and not fuzzy and msgstr != msg and not isinstance(node, nodes.image):
                expected.append(node)
        _PENDING[id(self.document)] = expected
        state = translation_state(self.env)
        state["seen"][docname] = seen
        state["not_applied"][docname] = []
        state["catalogue"][docname] = str(path) if path else None


_PENDING: dict[int, list[nodes.Node]] = {}


class CheckApplied(SphinxTransform):
    """After Sphinx translated a page: a translation it could not apply is a problem."""

    default_priority = 24  # after Locale (20), before its totaliser (25)

    def apply(self, **kwargs: Any) -> None:
        """Record each translation that Sphinx did not apply."""
        expected = _PENDING.pop(id(self.document), [])
        if not translating(self.app) or is_message(self.document):
            return
        problems = translation_state(self.env)["not_applied"].setdefault(self.env.docname, [])
        for node in expected:
            if not node.get("translated"):
                problems.append(
                    (
                        node.line or 0,
                        "translation not applied (it must parse as the English does, as one "
                        f"{type(node).__name__}): {short(node.rawsource)!r}",
                    )
                )


class PageTranslation(SphinxTransform):
    """Base of the transforms that translate what Sphinx's Locale transform leaves on a page.

    ``apply`` reads the page's catalogue once and calls :meth:`translate` (only when the build
    translates, and only for pages, not for the messages Sphinx parses); :meth:`translation`
    gives a message's usable translation and counts the message as seen by the page.
    """

    def apply(self, **kwargs: Any) -> None:
        """Translate the page's part that the subclass handles (:meth:`translate`)."""
        if not translating(self.app) or is_message(self.document):
            return
        path = catalogue_path(self.env.srcdir, self.config, self.env.docname)
        self.entries = read_catalogue(path) if path else {}
        self.seen = translation_state(self.env)["seen"].setdefault(self.env.docname, set())
        self.translate()

    def translate(self) -> None:
        """Translate the page's part (``self.entries``: its catalogue); subclasses define it."""
        raise NotImplementedError

    def translation(self, english: str) -> str | None:
        """Return the translation of `english` if the catalogue has one, not fuzzy; else None."""
        self.seen.add(english)
        msgstr, fuzzy = self.entries.get(english, ("", False))
        return msgstr if msgstr.strip() and not fuzzy else None


class TranslateToctrees(PageTranslation):
    """Translate the captions of the table of contents' parts.

    sphinx-external-toc inserts the root page's toctrees (priority 100), after Sphinx's Locale
    transform (20) has run, so their captions ("Foundations", ...) would stay English, though
    the gettext builder extracts them into the root page's catalogue.
    """

    default_priority = 101  # after sphinx_external_toc's InsertToctrees (100)

    def translate(self) -> None:
        """Translate each toctree caption the page's catalogue translates."""
        from sphinx import addnodes

        for node in self.document.findall(addnodes.toctree):
            for msg in node.extract_original_messages():
                if (msgstr := self.translation(msg)) is not None:
                    node.apply_translated_message(msg, msgstr)


class TranslateAltText(PageTranslation):
    """Translate the alt text of the figures that code cells make.

    Sphinx's Locale transform does not extract or translate the alt text of an image that a
    cell's output became (the node has no source line), so ``tools/locales.py`` takes it from
    the cell's options (``mystnb: image: alt``) into the catalogue, and this puts the
    translation on the image. The message counts as seen by the page (the build's check).
    """

    default_priority = 21  # after Locale (20)

    def translate(self) -> None:
        """Give each image whose alt text the catalogue translates its translation."""
        for node in self.document.findall(nodes.image):
            alt = " ".join(str(node.get("alt", "")).split())
            if alt and (msgstr := self.translation(alt)) is not None:
                node["alt"] = msgstr


def translation_state(env) -> dict:
    """Return what the environment keeps for the check: per page, its messages and problems."""
    if getattr(env, "i18n_messages", {}).keys() != {"seen", "not_applied", "catalogue"}:
        env.i18n_messages = {"seen": {}, "not_applied": {}, "catalogue": {}}
    return env.i18n_messages


def _purge(app, env, docname):
    for table in translation_state(env).values():
        table.pop(docname, None)


def _merge(app, env, docnames, other):
    mine, theirs = translation_state(env), translation_state(other)
    for key, table in mine.items():
        for docname in docnames:
            if docname in theirs[key]:
                table[docname] = theirs[key][docname]


def _only_pages(locations) -> bool:
    """Whether a catalogue message comes from pages only (not also from a docstring)."""
    return bool(locations) and all(str(path).endswith(PAGE_SUFFIXES) for path, _ in locations)


def page_problems(docname: str, catalogue: Path | None, seen: set[str]) -> list[tuple[int, str]]:
    """Return what is wrong with the translation of one page, as ``(line, text)``.

    Every message of its catalogue must be translated and not fuzzy; a message of the
    catalogue that the page no longer has (only pages' messages: the docstrings' ones depend on
    napoleon's language) means the English changed and ``make locales`` was not run.
    """
    if catalogue is None:
        return (
            [(0, "no catalogue for this page: run make locales, then translate it")] if seen else []
        )
    from babel.messages.pofile import read_po

    with catalogue.open("rb") as f:
        catalog = read_po(f)
    found = []
    for message in catalog:
        if not message.id:
            continue
        lines = [line for path, line in message.locations if str(path).endswith(PAGE_SUFFIXES)]
        line = (lines[0] if lines else 0) or 0
        if message.id not in seen and _only_pages(message.locations):
            why = "stale: the English no longer has this message (run make locales, translate)"
        elif message.fuzzy:
            why = "fuzzy: the English changed (update the translation, remove the fuzzy flag)"
        elif not (message.string or "").strip():
            why = "untranslated"
        else:
            continue
        found.append((line, f"{why}: {short(message.id)!r}"))
    return found


def report(env) -> list[tuple[str, int, str]]:
    """Every translation problem of the build, as ``(docname, line, text)``."""
    state = translation_state(env)
    found = []
    for docname in sorted(state["seen"]):
        if docname not in env.found_docs:
            continue
        path = state["catalogue"].get(docname)
        problems = page_problems(docname, Path(path) if path else None, state["seen"][docname])
        problems += state["not_applied"].get(docname, [])
        for line, text in sorted(problems)[:LISTED]:
            found.append((docname, line, text))
        if len(problems) > LISTED:
            found.append((docname, 0, f"and {len(problems) - LISTED} more on this page"))
    return found


def _report(app, exception):
    # At every build's end, not only when pages were read: an incremental build that reads
    # nothing still fails while a problem remains.
    if exception or not translating(app):
        return
    found = report(app.env)
    for docname, line, text in found:
        logger.warning(
            f"[{language(app.config)}] {text}",
            location=(docname, line or None),
            type="i18n",
            subtype="translation",
        )
    if found:
        pages = len({docname for docname, _, _ in found})
        logger.warning(
            f"[{language(app.config)}] the translation is incomplete or stale on {pages} "
            "page(s): see the warnings above (python -m tools.locales check lists every "
            "untranslated or fuzzy message; make locales updates the catalogues)",
            type="i18n",
            subtype="translation",
        )


# ------------------------------------------------------------------ 3. the language switch


def switch_links(pagename: str, current: str, editions: dict[str, str]) -> list[dict[str, str]]:
    """Links from `pagename` in edition `current` to the same page in the other editions.

    `editions` maps each language to its folder under the English site (``""`` for English).
    The links are relative, so they work from ``file://`` and from any server.
    """
    if current not in editions or len(editions) < 2:
        return []
    depth = pagename.count("/") + len([p for p in editions[current].split("/") if p])
    up = "../" * depth
    links = []
    for lang, folder in editions.items():
        if lang == current:
            continue
        folder = "/".join(p for p in folder.split("/") if p)
        label, tag = LABELS[lang]
        links.append(
            {
                "href": f"{up}{folder + '/' if folder else ''}{pagename}.html",
                "label": label,
                "lang": tag,
                "title": TITLES[lang],
            }
        )
    return links


def _page_context(app, pagename, templatename, context, doctree):
    links = switch_links(pagename, language(app.config), app.config.i18n_editions)
    context["language_switch"] = links
    for link in links:
        context["metatags"] = context.get("metatags", "") + (
            f'\n<link rel="alternate" hreflang="{link["lang"]}" href="{link["href"]}" />'
        )


def _configure(app, config):
    from tools import i18n_words

    if config.i18n_editions:
        config.templates_path.append(str(Path(__file__).parent / "templates"))
        options = config.html_theme_options
        end = options.get("article_header_end", ["article-header-buttons.html"])
        if isinstance(end, str):
            end = [e.strip() for e in end.split(",") if e.strip()]
        if "language-switch.html" not in end:
            options["article_header_end"] = ["language-switch.html", *end]
    if language(config) != "en":
        app.add_source_parser(Parser, override=True)
        app.add_search_language(SearchChinese)
        app.add_directive_to_domain("glue", "md", i18n_words.PasteMarkdown, override=True)
        i18n_words.translate_title(app, config)
        if language(config) in SEARCH_BAR_TEXT and config.html_theme == "sphinx_book_theme":
            config.html_theme_options["search_bar_text"] = SEARCH_BAR_TEXT[language(config)]


# ------------------------------------------------------------------ 4. Chinese search

HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_WORD = re.compile(r"\w+")
_HAN_RUN = re.compile(f"([{HAN}]+)")


def split_han(text: str) -> list[str]:
    """Split text as the search page splits a query: words, and Han runs into pairs.

    A run of one Han character stays one term; a longer run becomes its overlapping pairs
    (交叉熵: 交叉, 叉熵). Everything else is split into words as Sphinx does.
    """
    terms = []
    for word in _WORD.findall(text):
        for piece in _HAN_RUN.split(word):
            if not piece:
                continue
            if _HAN_RUN.fullmatch(piece):
                if len(piece) == 1:
                    terms.append(piece)
                else:
                    terms += [piece[i : i + 2] for i in range(len(piece) - 1)]
            else:
                terms.append(piece)
    return terms


# The same split in the search page (language_data.js); the index holds single Han characters
# too, so that a one-character query (熵) finds its pages.
JS_SPLITTER = """
function splitQuery(query) {
  const han = /^[HAN]+$/u, terms = [];
  for (const word of query.split(/[^\\p{Letter}\\p{Number}_\\p{Emoji_Presentation}]+/gu)) {
    for (const piece of word.split(/([HAN]+)/u)) {
      if (!piece) continue;
      if (!han.test(piece) || piece.length === 1) { terms.push(piece); continue; }
      for (let i = 0; i + 1 < piece.length; i++) terms.push(piece.slice(i, i + 2));
    }
  }
  return terms;
}
""".replace("HAN", HAN.encode("unicode_escape").decode())


class SearchChinese(SphinxSearchChinese):
    """Sphinx's Chinese search language, indexing Han characters and pairs (no jieba)."""

    js_splitter_code = JS_SPLITTER

    def init(self, options: dict[str, str]) -> None:
        """Set up the stemmer; the Latin words seen are a set (Sphinx's list made stem slow)."""
        super().init(options)
        self.latin_terms = set()

    def split(self, input: str) -> list[str]:
        """Return the index terms of a text: its words, Han characters and Han pairs."""
        terms = split_han(input)
        singles = [c for run in _HAN_RUN.findall(input) if len(run) > 1 for c in run]
        self.latin_terms.update(t for t in terms if not _HAN_RUN.fullmatch(t))
        return terms + singles

    def word_filter(self, stemmed_word: str) -> bool:
        """Index words of two characters or more, and single Han characters (熵)."""
        return len(stemmed_word) > 1 or bool(_HAN_RUN.fullmatch(stemmed_word))


def setup(app):
    """Register the extension with Sphinx."""
    app.setup_extension("myst_nb")
    # Each edition's folder under the English site; empty: no switch (the student edition).
    app.add_config_value("i18n_editions", {"en": "", "zh_CN": "zh_CN"}, "html")
    app.connect("config-inited", _configure)
    app.add_transform(CheckMessages)
    app.add_transform(CheckApplied)
    app.add_transform(TranslateToctrees)
    app.add_transform(TranslateAltText)
    from tools import i18n_words

    i18n_words.setup(app)
    app.connect("doctree-read", _forget_renderer)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("build-finished", _report)
    app.connect("html-page-context", _page_context)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
