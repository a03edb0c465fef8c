"""Accessibility fixes to the HTML the theme and the extensions write, made at build time.

A local Sphinx extension (``_config.yml``: ``sphinx.local_extensions``). When the HTML build
has finished it rewrites every page of ``_build/html`` with the small, exact substitutions of
:data:`FIXES`; ``tests/book/test_accessibility.py`` (axe-core in Chromium) checks the result.
Each fix names where the markup comes from and the WCAG rule it breaks; remove a fix when its
source is fixed. A defect a substitution should have removed but did not (the markup changed) is
reported as a warning (an error under ``-W``): look at the new markup.

Colours are fixed in ``_static/softmax-book.css`` (block "Accessibility: colour contrast").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Fix:
    """Replace `pattern` by `replacement`; `left` matches what would be left unfixed."""

    name: str
    pattern: re.Pattern
    replacement: str
    left: re.Pattern


FIXES = [
    # pydata-sphinx-theme 0.17.1, components/search-button-field.html: the search button shows
    # "Search Ctrl+K" but is named "Search" by its aria-label (WCAG 2.5.3 Label in Name, axe
    # label-content-name-mismatch). Without the aria-label the name is the visible text; where
    # the text is hidden (narrow screens) the button's title, "Search", names it.
    Fix(
        "search button named by its visible text",
        re.compile(r'(<button class="btn search-button-field [^>]*?) aria-label="[^"]*"'),
        r"\1",
        re.compile(r"<button(?=[^>]*search-button-field)[^>]* aria-label="),
    ),
    # pydata-sphinx-theme 0.17.1, components/theme-switcher.html: the colour-mode button is
    # named "Color mode" by its aria-label while its visible content is the icon of the current
    # mode, titled "Light", "Dark" or "System Settings" (label-content-name-mismatch). The
    # icons' titles become "Color mode: light" and so on and the aria-label goes: the name
    # says both what the button is for and which mode is on, and it is what the icon shows.
    Fix(
        "colour-mode button named by its icon",
        re.compile(r'(<button class="[^"]*theme-switch-button[^"]*")\s+aria-label="[^"]*"'),
        r"\1",
        re.compile(r"<button(?=[^>]*theme-switch-button)[^>]* aria-label="),
    ),
    # (The icons' titles are the theme's translations; "colour-mode icon titles" is per language,
    # made by colour_mode_titles below.)
    # MyST-NB 1.x (hide-input, hide-output, hide-cell): each <summary> shows "Show code cell
    # source" but is named "Toggle hidden content" (label-content-name-mismatch). Without the
    # aria-label it is named by the text it shows ("Show ..." or "Hide ...", as it is open).
    Fix(
        "code-cell toggles named by their visible text",
        re.compile(r'<summary aria-label="Toggle hidden content">'),
        "<summary>",
        re.compile(r"<summary aria-label="),
    ),
    # docutils' HTML5 writer (sphinxcontrib-bibtex's list): <div role="list"> holds entries
    # with role "doc-biblioentry", which is not a list item (axe aria-required-children; the
    # role is deprecated in DPUB-ARIA 1.1 for this reason, w3c/dpub-aria#22). They become
    # list items, as DPUB-ARIA 1.1 advises.
    Fix(
        "bibliography entries are list items",
        re.compile(r'(<div class="citation" id="[^"]*") role="doc-biblioentry"'),
        r'\1 role="listitem"',
        re.compile(r'role="doc-biblioentry"'),
    ),
]


# The colour-mode icons' titles begin with what the button is for, in the page's language
# (<html lang>, set by the build's `language`: the Chinese edition is zh-CN, tools/i18n.py).
COLOUR_MODE = {"en": "Color mode: ", "zh-CN": "颜色模式："}  # noqa: RUF001 (Chinese colon)
_LANG = re.compile(r"<html[^>]*\slang=\"([^\"]+)\"")


def colour_mode_titles(prefix: str) -> Fix:
    """Return the fix of the colour-mode icons' titles for one language's `prefix`."""
    escaped = re.escape(prefix)
    return Fix(
        "colour-mode icon titles",
        re.compile(rf'(data-mode="(?:light|dark|auto)"\s+title=")(?!{escaped})([^"]*)"'),
        rf'\g<1>{prefix}\g<2>"',
        re.compile(rf'class="theme-switch [^>]* title="(?!{escaped})'),
    )


def page_fixes(html: str) -> list[Fix]:
    """Return the fixes of one page: :data:`FIXES` and those of the page's language."""
    found = _LANG.search(html)
    prefix = COLOUR_MODE.get(found.group(1) if found else "en", COLOUR_MODE["en"])
    return [*FIXES, colour_mode_titles(prefix)]


def fix_page(html: str) -> tuple[str, list[str]]:
    """Apply the page's fixes (:func:`page_fixes`); return it with the names of those left undone.

    Applying them again changes nothing, so every build can rewrite every page.
    """
    fixes = page_fixes(html)
    for fix in fixes:
        html = fix.pattern.sub(fix.replacement, html)
    return html, [fix.name for fix in fixes if fix.left.search(html)]


def _rewrite(app, exception):
    if exception or app.builder.format != "html":
        return
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    for path in sorted(Path(app.outdir).rglob("*.html")):
        html = path.read_text(encoding="utf-8")
        fixed, missed = fix_page(html)
        if fixed != html:
            path.write_text(fixed, encoding="utf-8")
        for name in missed:
            logger.warning(f"accessibility fix {name!r} no longer matches {path.name}")


def setup(app):
    """Register the extension with Sphinx."""
    app.connect("build-finished", _rewrite)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
