"""Accessibility of the built website: axe-core on every page, at a desktop and a phone width.

axe-core (Deque's accessibility engine; ``vendor/axe-core``, a test asset the book never
loads) is injected into each page after it has loaded and MathJax has typeset, so it checks
the page a reader meets, scripts included. A violation of impact *serious* or *critical* of
the WCAG 2.x A/AA rules or of axe's best practices fails the test, and so does a box that
scrolls sideways without being reachable by keyboard. Nothing is excluded from axe, MathJax
included: its equations are focusable (its menu) and its assistive MathML is checked as the
rest. Dark mode is checked for colour contrast on a few pages. Every violation found goes to
``_build/accessibility.json``. The browser tests are marked ``browser``; the tests of
``tools/accessibility.py`` (the build-time fixes) need no browser.
"""

import collections
import json
import re
from pathlib import Path

import pytest
import yaml
from helpers import unavailable

ROOT = Path(__file__).resolve().parents[2]
AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
AXE_VERSION = "4.14.1"

WIDTHS = {"desktop": 1200, "phone": 390}
# Colour contrast is checked at the desktop width only: colours do not depend on the width
# (the book's width rules set none, test_width_rules_set_no_colour; the theme's set one, of
# margin notes, which the book has none of), and the rule is about half of axe's time on a
# page of equations, whose thousands of MathJax elements it measures one by one. Every other
# rule runs at both widths.
PHONE_SKIPS = ("color-contrast",)
FAILING_IMPACTS = {"serious", "critical"}
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def reader_pages():
    """Every page a reader can open: the table of contents, plus the search results page.

    ``index.html`` is left out: it is Jupyter Book's redirect to ``intro.html`` (a meta
    refresh, nothing to read). The search page is in: the theme's search box (Ctrl+K) lands
    readers there. There is no general index (``html_use_index: false``).
    """
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [f"{toc['root']}.html"]
    for part in toc["parts"]:
        pages += [f"{chapter['file']}.html" for chapter in part["chapters"]]
    # The Chinese edition: a chapter (its <html lang>, the switch back to English).
    return [*pages, "search.html?q=softmax", "zh_CN/chapters/01-softmax.html"]


# Parts of the page axe is told to skip, each with its reason. Nothing else is excluded.
EXCLUDE: list[list[str]] = []


def _load(page, url):
    page.goto(url, wait_until="commit")
    _settle(page, url)


def _settle(page, url):
    # "load": the page's scripts have run, the theme's among them (it gives scrolling code
    # blocks their tabindex on load). Not "networkidle": on a busy machine the network can
    # fall idle while the page is still parsing Plotly, before the load event.
    page.wait_for_load_state("load")
    if page.locator("script[src*='/mathjax/']").count():  # pages with math: typeset first
        page.wait_for_function(
            "() => !!(window.MathJax && MathJax.startup && MathJax.startup.promise)"
        )
        page.evaluate("() => MathJax.startup.promise")
    if url.startswith("search.html") or "/search.html" in url:
        page.wait_for_selector("ul.search li", timeout=15000)


def start_axe(page, rules=None, skip=()):
    """Start axe on the loaded page (``rules``: only these rules; ``skip``: all but these).

    :func:`axe_result` waits for its result.
    """
    if not page.evaluate("() => !!window.axe"):
        page.add_script_tag(path=str(AXE))
    assert page.evaluate("() => axe.version") == AXE_VERSION
    options = {"resultTypes": ["violations"]}
    options["runOnly"] = (
        {"type": "rule", "values": rules} if rules else {"type": "tag", "values": TAGS}
    )
    if skip:
        options["rules"] = {rule: {"enabled": False} for rule in skip}
    context = {"exclude": EXCLUDE} if EXCLUDE else {"include": [["html"]]}
    page.evaluate(
        "([c, o]) => { window.axeRun = axe.run(c, o).then(r => r.violations); }",
        [context, options],
    )


def axe_result(page):
    """The violations axe found on the page (once its run, started by start_axe, ends)."""
    return page.evaluate("() => window.axeRun")


def run_axe(page, rules=None):
    """Run axe on the loaded page; return its violations (``rules``: only these rules)."""
    start_axe(page, rules)
    return axe_result(page)


def serious(violations):
    """The (rule, impact, target, summary) of every serious or critical failing node."""
    return [
        (v["id"], node["impact"] or v["impact"], " ".join(map(str, node["target"])), v["help"])
        for v in violations
        for node in v["nodes"]
        if (node["impact"] or v["impact"]) in FAILING_IMPACTS
    ]


def summary(where, found):
    counts = collections.Counter(rule for rule, *_ in found)
    lines = [f"{len(found)} serious or critical accessibility violations on {where}:"]
    lines += [f"  {rule}: {n}" for rule, n in counts.most_common()]
    lines += [f"  - {rule} [{impact}] {target}  ({text})" for rule, impact, target, text in found]
    return "\n".join(lines)


REPORT = ROOT / "_build" / "accessibility.json"


@pytest.fixture(scope="module")
def report():
    """Every serious or critical violation found, written to _build/accessibility.json."""
    found = {}
    yield found
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(found, indent=1) + "\n")


@pytest.fixture(scope="module")
def tabs(browser):
    """One browser tab per width (a first visit: light mode, nothing stored), reused by pages."""
    contexts = {
        name: browser.new_context(viewport={"width": width, "height": 900})
        for name, width in WIDTHS.items()
    }
    yield {name: context.new_page() for name, context in contexts.items()}
    for context in contexts.values():
        context.close()


@pytest.mark.browser
@pytest.mark.parametrize("path", reader_pages())
def test_no_serious_accessibility_violation(tabs, server, report, path):
    # Both widths at once, each in its own tab (Chromium runs them in separate processes):
    # the suite's time is mostly axe's, and this halves it on a machine with two cores.
    url = f"{server}/{path}"
    for page in tabs.values():
        page.goto(url, wait_until="commit")
    for width, page in tabs.items():
        _settle(page, url)
        start_axe(page, skip=PHONE_SKIPS if width == "phone" else ())
    failures = []
    for width, page in tabs.items():
        found = serious(axe_result(page)) + unreachable_scrollers(page)
        report[f"{path} @ {width}"] = found
        if found:
            failures.append(summary(f"{path} at {WIDTHS[width]} px", found))
    assert not failures, "\n".join(failures)


def unreachable_scrollers(page):
    """Boxes of the article that scroll sideways but that the keyboard cannot reach.

    axe's scrollable-region-focusable lets a box pass when it holds something focusable, and
    skips small overflows; a reader on a phone still needs to scroll it. Issue 31: the tables
    softmax-book.css makes scroll were not focusable.
    """
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('article.bd-article *'))
            .filter(box => box.scrollWidth > box.clientWidth
                    && ['auto', 'scroll'].includes(getComputedStyle(box).overflowX)
                    && box.tabIndex < 0 && box.getClientRects().length)
            .map(box => ['scroll-without-keyboard', 'serious',
                         box.tagName.toLowerCase() + (box.id ? '#' + box.id : '')
                         + '.' + Array.from(box.classList).join('.'),
                         'scrolls sideways but cannot be focused'])"""
    )


# Dark mode: the theme's own colours change, so contrast is checked again. The context asks
# for the system's dark scheme, which the book follows on a first visit (default_mode auto).
DARK_PAGES = ["intro.html", "chapters/01-softmax.html"]  # links, exercises, code, a figure


@pytest.fixture(scope="module")
def dark_tab(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900}, color_scheme="dark")
    page = context.new_page()
    yield page
    context.close()


@pytest.mark.browser
@pytest.mark.parametrize("path", DARK_PAGES)
def test_dark_mode_colour_contrast(dark_tab, server, report, path):
    _load(dark_tab, f"{server}/{path}")
    assert dark_tab.evaluate("() => document.documentElement.dataset.theme") == "dark"
    found = serious(run_axe(dark_tab, rules=["color-contrast", "link-in-text-block"]))
    report[f"{path} @ dark"] = found
    assert not found, summary(f"{path} in dark mode", found)


@pytest.mark.browser
def test_the_check_sees_a_serious_violation(dark_tab, server):
    """The harness itself: a link too pale to read, added to a page, is reported and fails."""
    _load(dark_tab, f"{server}/intro.html")
    dark_tab.evaluate(
        """() => { const a = document.createElement('a'); a.href = '#'; a.id = 'pale';
                   a.textContent = 'a pale link'; a.style.color = '#333';
                   document.querySelector('article p').append(a); }"""
    )
    found = serious(run_axe(dark_tab))
    assert ("color-contrast", "#pale") in [(rule, target) for rule, _, target, _ in found]


# ------------------------------------------------ the build-time fixes (tools/accessibility.py)
# Regression tests for issue 31: each markup defect axe found, as the theme and the
# extensions write it, and the fixed markup.


def _fixed(html):
    from tools.accessibility import fix_page

    fixed, left = fix_page(html)
    assert left == []
    assert fix_page(fixed) == (fixed, [])  # a second build changes nothing
    return fixed


def test_issue31_search_button_is_named_by_its_visible_text():
    # pydata-sphinx-theme: shows "Search Ctrl+K", was named "Search" (label-content-name-mismatch)
    html = (
        '<button class="btn search-button-field search-button__button pst-js-only" title="Search"'
        ' aria-label="Search" data-bs-placement="bottom" data-bs-toggle="tooltip">'
    )
    assert _fixed(html) == html.replace(' aria-label="Search"', "")


def test_issue31_colour_mode_button_is_named_by_the_icon_it_shows():
    # pydata-sphinx-theme: named "Color mode", showed an icon titled "Light" (label mismatch)
    html = (
        '<button class="btn btn-sm nav-link pst-navbar-icon theme-switch-button pst-js-only"'
        ' aria-label="Color mode" data-bs-title="Color mode">\n'
        '<i class="theme-switch fa-solid fa-sun fa-lg" data-mode="light" title="Light"></i>\n'
        '<i class="theme-switch fa-solid fa-moon fa-lg" data-mode="dark"  title="Dark"></i>\n'
        '<i class="theme-switch fa-solid fa-circle-half-stroke fa-lg" data-mode="auto"'
        '  title="System Settings"></i>'
    )
    fixed = _fixed(html)
    assert "aria-label" not in fixed
    assert re.findall(r'(?<![\w-])title="([^"]*)"', fixed) == [
        "Color mode: Light",
        "Color mode: Dark",
        "Color mode: System Settings",
    ]


def test_colour_mode_titles_are_in_the_page_language():
    # The Chinese edition (issue 35): the theme translates "Light" and "Dark", not "System
    # Settings"; the titles say "colour mode" in Chinese on its pages.
    html = (
        '<html lang="zh-CN" data-content_root="../">\n'
        '<button class="btn btn-sm nav-link pst-navbar-icon theme-switch-button pst-js-only"'
        ' aria-label="Color mode" data-bs-title="Color mode">\n'
        '<i class="theme-switch fa-solid fa-sun fa-lg" data-mode="light" title="亮色"></i>\n'
        '<i class="theme-switch fa-solid fa-moon fa-lg" data-mode="dark"  title="暗色"></i>\n'
        '<i class="theme-switch fa-solid fa-circle-half-stroke fa-lg" data-mode="auto"'
        '  title="System Settings"></i>'
    )
    fixed = _fixed(html)
    prefix = "颜色模式\N{FULLWIDTH COLON}"
    assert re.findall(r'(?<![\w-])title="([^"]*)"', fixed) == [
        f"{prefix}亮色",
        f"{prefix}暗色",
        f"{prefix}System Settings",
    ]


def test_issue31_code_cell_toggles_are_named_by_their_visible_text():
    # MyST-NB: "Show code cell source" was named "Toggle hidden content" (label mismatch)
    html = '<summary aria-label="Toggle hidden content">\n<p>Show code cell source</p>'
    assert _fixed(html) == "<summary>\n<p>Show code cell source</p>"


def test_issue31_bibliography_entries_are_list_items():
    # docutils: a role="list" whose entries were doc-biblioentry (aria-required-children)
    html = '<div role="list">\n<div class="citation" id="id2" role="doc-biblioentry">'
    assert _fixed(html).endswith('<div class="citation" id="id2" role="listitem">')


def test_a_fix_that_no_longer_matches_is_reported():
    from tools.accessibility import fix_page

    changed_theme = '<button aria-label="Search" class="btn search-button-field">'
    assert fix_page(changed_theme)[1] == ["search button named by its visible text"]


@pytest.mark.built
def test_every_built_page_carries_the_fixes():
    from tools.accessibility import fix_page

    pages = sorted((ROOT / "_build" / "html").rglob("*.html"))
    if not pages:
        unavailable("no built site in _build/html (run make book)")
    for path in pages:
        html = path.read_text(encoding="utf-8")
        assert fix_page(html) == (html, []), path


def test_width_rules_set_no_colour():
    # Why colour contrast is checked at one width only (PHONE_SKIPS): no colour changes with it.
    css = (ROOT / "_static" / "softmax-book.css").read_text()
    blocks = re.findall(r"@media[^{]*\{((?:[^{}]*\{[^{}]*\})*)", css)
    assert blocks, "the book's stylesheet has width rules; this test must find them"
    coloured = [b for b in blocks if re.search(r"(?<![-\w])(colou?r|background(-color)?)\s*:", b)]
    assert coloured == []
    pages = [p for p in (ROOT / "chapters").glob("*.md") if "{margin}" in p.read_text()]
    assert pages == []  # the theme's one width-dependent colour is its margin notes' toggle
