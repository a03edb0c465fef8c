"""The words of a translated page that are not its messages (issue 35): ``tools/i18n.py``'s part 5.

Sphinx's ``Locale`` transform translates a page's messages (paragraphs, headings, captions);
these words reach the page another way, and are translated here in the edition's build:

* **Cell outputs** (``tools/outputs.py``): the interactive figures' HTML
  (:class:`TranslateOutputs`: alt text, bar names, axis label from the page's catalogue, where
  ``make locales`` put them) and the glued Markdown of ``{glue:md}`` (:class:`PasteMarkdown`:
  table cells from ``locales/<language>/glued.tsv`` or the book's catalogues).
* **Words of extensions**: MyST-NB's buttons of hidden cells (:data:`PROMPTS`),
  sphinx-exercise's solution titles (:data:`EXTENSION_WORDS`), sphinx-design's buttons (their
  text is a message: ``tools.locales.button_texts``), and the site's title.
* **Words of the theme and Sphinx** in every page's HTML (:data:`THEME_WORDS`: tooltips,
  navigation labels, the copyright line), rewritten when the build has finished.

English words left untranslated are warnings (errors under ``-W``, as ``tools.locales build``
runs), naming the page and the words.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from docutils import nodes
from myst_nb.ext.glue.directives import PasteMarkdownDirective
from sphinx.transforms import SphinxTransform
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging

from tools import i18n

logger = logging.getLogger(__name__)


class TranslateOutputs(i18n.PageTranslation):
    """Translate the interactive figures' HTML outputs (``tools/outputs.py``).

    Their alt text, bar names, axis label and slider caption are messages of the page's
    catalogue (``tools/locales.py`` reads them from the ``slider_bars`` calls); the library's
    own sentences are ``outputs.FIGURE_UI``. English left untranslated is a warning.
    """

    default_priority = 21  # after Locale (20)

    def translate(self) -> None:
        """Rewrite each interactive figure's HTML with the page's translations."""
        from tools import locales, outputs

        entries = self.entries
        source = Path(self.env.doc2path(self.env.docname))
        texts = {text for text, _ in locales.interactive_texts(source)} if source.exists() else {}
        translated = {t: entries[t][0] for t in texts if t in entries and not entries[t][1]}
        lookup = outputs.Matcher({t: v for t, v in translated.items() if v.strip()})
        for node in self.document.findall(nodes.raw):
            text = node.astext()
            if node.get("format") != "html" or 'class="interactive-figure"' not in text:
                continue
            translated, missing = outputs.translate_figure(text, i18n.language(self.config), lookup)
            node.children = [nodes.Text(translated)]
            for english in missing:
                logger.warning(
                    f"[{i18n.language(self.config)}] interactive figure: no translation of "
                    f"{i18n.short(english)!r} (make locales, then translate it)",
                    location=node, type="i18n", subtype="outputs",
                )  # fmt: skip
        self.seen.update(lookup.used)


class PasteMarkdown(PasteMarkdownDirective):
    """``{glue:md}`` whose glued Markdown is translated first (``outputs.translate_markdown``).

    Its cells are translated by ``glued.tsv`` (the page and the glued key) or by the book's
    catalogues; a cell with English words and neither is a warning.
    """

    def run(self) -> list[nodes.Node]:
        """Paste the glued Markdown, its prose in the edition's language."""
        from myst_nb.ext.glue.utils import RetrievalError, retrieve_glue_data

        from tools import glued, outputs

        env, key = self.state.document.settings.env, self.arguments[0]
        try:
            data = retrieve_glue_data(self.state.document, key).data
        except RetrievalError:
            return super().run()
        english = data.get("text/markdown")
        if not isinstance(english, str):
            return super().run()
        rows = glued.rows().get((glued.page_of(env.docname), key), {})
        folders = [Path(env.srcdir, d) for d in env.config.locale_dirs]
        everywhere = all_messages(folders, i18n.language(env.config))

        def lookup(text: str) -> str | None:
            found = glued.translate_or_none(rows, text) if rows else None
            return found if found is not None else everywhere(text)

        data["text/markdown"], missing = outputs.translate_markdown(english, lookup)
        try:
            result = super().run()
        finally:
            data["text/markdown"] = english
        for text in missing:
            logger.warning(
                f"[{i18n.language(env.config)}] {glued.page_of(env.docname)}: the glued Markdown "
                f"{key!r} has {i18n.short(text)!r}, with no Chinese in locales/"
                f"{i18n.language(env.config)}/glued.tsv (add a row: page, key, English, Chinese)",
                location=(env.docname, self.lineno), type="i18n", subtype="glued",
            )  # fmt: skip
        return result


def all_messages(folders: Path | list[Path], language: str):
    """Return a lookup (``tools.outputs.Matcher``) of every translated message of `language`.

    `folders` are locale folders (``locales``), each with ``<language>/LC_MESSAGES``.
    """
    from tools import outputs

    entries = {}
    for directory in [folders] if isinstance(folders, Path) else folders:
        for path in sorted(Path(directory, language, "LC_MESSAGES").rglob("*.po")):
            for msgid, (msgstr, fuzzy) in i18n.read_catalogue(path).items():
                if msgstr and not fuzzy:
                    entries[msgid] = msgstr
    return outputs.Matcher(entries, patterns=False)


#: MyST-NB's buttons of hidden cells ("Show code cell source"), by edition.
PROMPTS = {
    "zh_CN": {
        "Show code cell source": "显示单元格代码",
        "Hide code cell source": "隐藏单元格代码",
        "Show code cell content": "显示单元格内容",
        "Hide code cell content": "隐藏单元格内容",
        "Show code cell output": "显示单元格输出",
        "Hide code cell output": "隐藏单元格输出",
        "Show code cell outputs": "显示单元格输出",
        "Hide code cell outputs": "隐藏单元格输出",
    }
}


#: Words other extensions put on the pages that their own catalogues do not translate.
EXTENSION_WORDS = {"zh_CN": {"Solution": "解答"}}  # sphinx-exercise 1.x: "Solution to" only


class TranslateButtons(i18n.PageTranslation):
    """Translate the text of sphinx-design's buttons (``tools.locales.button_texts``)."""

    default_priority = 21

    def translate(self) -> None:
        """Give each button whose text the page's catalogue translates its translation."""
        for node in self.document.findall(nodes.Element):
            if "sd-btn" not in node.get("classes", []):
                continue
            texts = list(node.findall(nodes.Text))
            english = " ".join(node.astext().split())
            if len(texts) == 1 and (msgstr := self.translation(english)) is not None:
                texts[0].parent.replace(texts[0], nodes.Text(msgstr))


class TranslateSolutionTitles(SphinxTransform):
    """Translate the title of solutions ("Solution"), before sphinx-exercise resolves it."""

    default_priority = 21

    def apply(self, **kwargs: Any) -> None:
        """Give each solution the edition's word for its title."""
        from sphinx_exercise.nodes import solution_node

        if not i18n.translating(self.app) or i18n.is_message(self.document):
            return
        words = EXTENSION_WORDS.get(i18n.language(self.config), {})
        for node in self.document.findall(solution_node):
            english = node.get("title", "")
            if english not in words:
                continue
            node["title"] = words[english]
            for text in list(node.children[0].findall(nodes.Text)) if node.children else []:
                if text.astext() == english:
                    text.parent.replace(text, nodes.Text(words[english]))


class TranslatePrompts(SphinxPostTransform):
    """Translate the buttons MyST-NB puts on hidden cells (after it made them, at 199)."""

    default_priority = 200
    formats = ("html",)

    def run(self, **kwargs: Any) -> None:
        """Give each hidden cell's button its edition's words."""
        from myst_nb.sphinx_ import HideCodeCellNode

        if not i18n.translating(self.app):
            return
        table = PROMPTS.get(i18n.language(self.config), {})
        for node in self.document.findall(HideCodeCellNode):
            for attribute in ("prompt_show", "prompt_hide"):
                english = node[attribute]
                if english in table:
                    node[attribute] = table[english]
                else:
                    logger.warning(
                        f"[{i18n.language(self.config)}] no translation of MyST-NB's {english!r} "
                        "(tools/i18n.py PROMPTS)",
                        location=node, type="i18n", subtype="prompts",
                    )  # fmt: skip


#: What Sphinx and the theme write into every page that their catalogues do not translate, as
#: exact HTML (an attribute with its value, or text), by edition.
THEME_WORDS = {
    "zh_CN": {
        'title="Link to this heading"': 'title="链接到此标题"',
        'title="Link to this equation"': 'title="链接到此公式"',
        'title="Link to this image"': 'title="链接到此图片"',
        'title="Link to this definition"': 'title="链接到此定义"',
        'title="Link to this table"': 'title="链接到此表格"',
        'title="Link to this code"': 'title="链接到此代码"',
        'aria-label="Main"': 'aria-label="主导航"',
        'aria-label="Page"': 'aria-label="本页导航"',
        'title="Toggle primary sidebar"': 'title="显示或隐藏主侧边栏"',
        'title="Toggle secondary sidebar"': 'title="显示或隐藏次侧边栏"',
        'aria-label="Launch interactive content"': 'aria-label="启动交互式内容"',
        'title="Launch on Binder"': 'title="在 Binder 上启动"',
        'alt="Binder logo"': 'alt="Binder 标志"',
        'title="Launch on Colab"': 'title="在 Colab 上启动"',
        'alt="Colab logo"': 'alt="Colab 标志"',
        'title="Launch Thebe"': 'title="启动 Thebe"',
        'data-bs-title="Color mode"': 'data-bs-title="颜色模式"',
        "© Copyright ": "© 版权所有 ",
    }
}
_LINK_TITLE = re.compile(r'title="Link to this [a-z]+"')


def translate_theme_words(html: str, lang: str) -> tuple[str, list[str]]:
    """Return a page with :data:`THEME_WORDS` of `lang` translated, and English left over."""
    words = THEME_WORDS.get(lang, {})
    for english, translated in words.items():
        html = html.replace(english, translated)
    return html, sorted({*(e for e in words if e in html), *_LINK_TITLE.findall(html)})


def _translate_pages(app, exception) -> None:
    """Rewrite the built pages with the theme's words in the edition's language."""
    if exception or not i18n.translating(app) or app.builder.format != "html":
        return
    lang = i18n.language(app.config)
    for path in sorted(Path(app.outdir).rglob("*.html")):
        html = path.read_text(encoding="utf-8")
        translated, left = translate_theme_words(html, lang)
        if translated != html:
            path.write_text(translated, encoding="utf-8")
        for english in left if lang in THEME_WORDS else []:
            logger.warning(
                f"[{lang}] {path.name}: the theme's {english!r} has no translation "
                "(tools/i18n.py THEME_WORDS)",
                type="i18n", subtype="theme",
            )  # fmt: skip


def translate_title(app, config) -> None:
    """Give the site the book's title in the edition's language (the root page's catalogue)."""
    from tools import locales

    # The root page is the table of contents' (sphinx-external-toc sets root_doc after this).
    path = i18n.catalogue_path(app.srcdir, config, locales.book_pages()[0])
    msgstr, fuzzy = (
        i18n.read_catalogue(path).get(config.html_title, ("", True)) if path else ("", 1)
    )
    if msgstr and not fuzzy:
        config.html_title = msgstr


def setup(app) -> None:
    """Register the transforms and the page rewrite (``tools/i18n.py`` calls this)."""
    app.add_transform(TranslateOutputs)
    app.add_transform(TranslateSolutionTitles)
    app.add_transform(TranslateButtons)
    app.add_post_transform(TranslatePrompts)
    app.connect("build-finished", _translate_pages)
