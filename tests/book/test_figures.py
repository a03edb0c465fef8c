"""The interactive figures on a phone and from the keyboard, in Debian's Chromium.

Runs against ``_build/html`` like test_site.py (its server and page fixtures). Marked
``browser``. Issue 31: a vertical swipe that started on a figure zoomed the chart instead of
scrolling the page (bars vanished, "double-click to zoom back out"), Plotly's toolbar offered
an upload to an outside service, and the slider could not be moved from the keyboard.
"""

import numpy as np
import pytest
import test_site
from test_site import SHOTS, SLIDERS, _expected, _figure_state

# The built site on 127.0.0.1 is conftest.py's server; a page opened in Chromium is test_site's.
visit = test_site.visit

pytestmark = pytest.mark.browser


def _drawn(page, name):
    page.wait_for_function("name => !!document.getElementById(name)?._fullLayout", arg=name)


def _axes(page, name):
    return page.evaluate(
        """name => { const l = document.getElementById(name)._fullLayout;
            return {x: l.xaxis.range.slice(), y: l.yaxis.range.slice(),
                    bars: document.querySelectorAll(`#${name} .bars .point path`).length}; }""",
        name,
    )


@pytest.mark.parametrize("width", [390])
def test_issue31_a_swipe_that_starts_on_a_figure_scrolls_the_page_and_zooms_nothing(
    browser, server, width
):
    context = browser.new_context(
        viewport={"width": width, "height": 844}, is_mobile=True, has_touch=True
    )
    try:
        page = context.new_page()
        page.goto(f"{server}/chapters/01-softmax.html", wait_until="networkidle")
        name = "slider-temperature"
        _drawn(page, name)
        before = _axes(page, name)
        plot = page.locator(f"#{name} .nsewdrag").first
        plot.scroll_into_view_if_needed()
        box = plot.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.8
        scrolled = page.evaluate("() => window.scrollY")
        cdp = context.new_cdp_session(page)

        def touch(kind, y_now):
            points = [] if kind == "touchEnd" else [{"x": x, "y": y_now, "id": 1}]
            cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

        touch("touchStart", y)
        for k in range(1, 11):  # a swipe upwards, 200 px
            touch("touchMove", y - 20 * k)
        touch("touchEnd", y - 200)
        page.wait_for_timeout(500)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"swipe-on-figure-{width}.png"))
        assert page.evaluate("() => window.scrollY") > scrolled + 100, "the page did not scroll"
        after = _axes(page, name)
        assert after == before, "the swipe zoomed or panned the chart"
        assert after["bars"] == 3
        # No toolbar (its buttons zoom, pan and offer an upload to an outside service).
        assert page.locator(f"#{name} .modebar").count() == 0
    finally:
        context.close()


@pytest.mark.parametrize(("page", "name"), list(SLIDERS), ids=lambda x: x)
def test_issue31_sliders_move_from_the_keyboard(visit, page, name):
    kind = SLIDERS[page, name]
    v = visit(page)
    _drawn(v.page, name)
    slider = v.page.locator(f"[role=slider][aria-controls={name}]")
    assert slider.count() == 1, "no keyboard slider for the figure"
    slider.focus()
    start = _figure_state(v, name)
    assert slider.get_attribute("aria-valuenow") == str(start["active"])
    v.page.keyboard.press("End")
    end = _figure_state(v, name)
    assert end["active"] == start["n"] - 1
    np.testing.assert_allclose(end["y"], _expected(kind, end), rtol=1e-15)
    v.page.keyboard.press("Home")
    v.page.keyboard.press("ArrowRight")
    v.page.keyboard.press("ArrowRight")
    two = _figure_state(v, name)
    assert two["active"] == 2
    np.testing.assert_allclose(two["y"], _expected(kind, two), rtol=1e-15)
    assert slider.get_attribute("aria-valuenow") == "2"
    label = v.page.evaluate(
        "name => document.getElementById(name).layout.sliders[0].steps[2].label", name
    )
    assert label in slider.get_attribute("aria-valuetext")
    v.page.keyboard.press("ArrowLeft")
    assert _figure_state(v, name)["active"] == 1
    assert v.console_errors == []
