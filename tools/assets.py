"""The site's assets: each page loads what it uses, once.

A local Sphinx extension (``_config.yml``: ``sphinx.local_extensions``) that tunes what a page
of the site loads (issue 31: a phone's first visit):

- the book's own stylesheet and script (``_static/softmax-book.css`` and ``.js``: fixes for
  the theme pair, such as the sidebar buttons and wide equations);
- Plotly's script only on the pages with an interactive figure, ``async``;
- MathJax only on the pages with math;
- each script and stylesheet once;
- a short note in place of the theme's fontawesome.js, which the book does not need.

The site's ``/favicon.ico`` is ``_static/favicon.ico``, copied to the site's root by Sphinx
(``html_extra_path`` in ``_config.yml``).
"""

from __future__ import annotations

from pathlib import Path


def _unique_assets(context) -> None:
    """Drop repeated scripts and stylesheets from a page: one of each file, one of each body.

    Some extensions' assets reach every page twice (sphinx-thebe's inline configuration, whose
    second ``const THEBE_JS_URL`` is a JavaScript error on every page load, and this
    extension's own files, once with their attributes and once without). The first of each
    is kept.
    """
    for name in ("script_files", "css_files"):
        assets = context.get(name)
        if not assets:
            continue
        seen, unique = set(), []
        for asset in assets:
            filename = str(getattr(asset, "filename", asset) or "")
            # An inline script has no filename (None or "", depending on who added it).
            key = filename or getattr(asset, "attributes", {}).get("body", "")
            if key not in seen:
                seen.add(key)
                unique.append(asset)
        assets[:] = unique  # in place: the list may be shared with the builder


def _last_on_page(app, pagename, templatename, context, doctree):
    _plotly_script(context)
    _mathjax_only_with_math(context)
    _unique_assets(context)


# Plotly.js's "basic" partial bundle (bar, scatter and pie traces, every component: sliders
# included), vendored in _static/plotly/ (VENDOR.txt: version, source, checksum). It is the
# version the installed plotly package expects (tests/book/test_plotly_bundle.py checks both).
PLOTLY_JS = "plotly/plotly-basic.min.js"


def _plotly_script(context) -> None:
    """Load Plotly on the pages that hold an interactive figure, from the site itself.

    The figures (softmax_lib.interactive) draw themselves as soon as ``Plotly`` is there. The
    script loads ``async``: it never holds up the page's text (issue 31: the full plotly.min.js,
    1.5 MB compressed, loaded synchronously before the text), and only on those pages.
    """
    # Jupyter Book adds every .js file under _static/ to every page, as a blocking script.
    scripts = context.get("script_files")
    if scripts:
        scripts[:] = [s for s in scripts if PLOTLY_JS not in str(getattr(s, "filename", s))]
    body = context.get("body", "")
    if 'class="interactive-figure"' in body:
        src = context["pathto"](f"_static/{PLOTLY_JS}", 1)
        context["body"] = f'<script async src="{src}"></script>\n{body}'


_MATH_MARKERS = ('class="math', "\\(", "\\[", "$$")


def _mathjax_only_with_math(context) -> None:
    """Load MathJax only on pages that have math (issue 31: the front page had none).

    MyST-NB asks Sphinx to put MathJax (its script, 264 kB compressed, then its fonts) on every
    page; a page whose body has no math node and no TeX delimiter does not need it.
    """
    body = context.get("body", "")
    if any(marker in body for marker in _MATH_MARKERS):
        return
    scripts = context.get("script_files")
    if not scripts:
        return
    scripts[:] = [
        s
        for s in scripts
        if "mathjax" not in str(getattr(s, "filename", s) or "").lower()
        and "window.MathJax" not in getattr(s, "attributes", {}).get("body", "")
    ]


_FONTAWESOME_STUB = """\
// pydata-sphinx-theme 0.17.1 loads Font Awesome's JavaScript (1.5 MB, 543 kB compressed)
// on every page, only to redraw as SVG the icons that its CSS already draws with Font Awesome's
// web fonts ("so that users can add custom icons": this book adds none). tools/assets.py
// serves this note in its place (issue 31: a phone's first visit). Remove it when the theme
// loads the script only where a custom icon needs it.
"""


def _no_fontawesome_js(app, exception):
    """Replace the theme's fontawesome.js in the built site by a note (see its text)."""
    if exception or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / "scripts" / "fontawesome.js"
    if target.exists():
        target.write_text(_FONTAWESOME_STUB)


def setup(app):
    """Register the extension with Sphinx."""
    # Local fixes for the theme pair (sidebar buttons, wide equations), in _static/.
    app.add_css_file("softmax-book.css")
    app.add_js_file("softmax-book.js", defer="defer")
    # After every other extension has added its scripts to the page.
    app.connect("html-page-context", _last_on_page, priority=1000)
    app.connect("build-finished", _no_fontawesome_js)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
