"""softmax_lib.interactive: a slider figure that needs no server and no internet."""

import json
import re

import numpy as np
import pytest

from softmax_lib import softmax
from softmax_lib.interactive import slider_bars


def _figure(**kwargs):
    steps = np.geomspace(0.1, 10, 5)
    z = np.array([2.0, 1.0, 0.1])
    values = np.array([softmax(z, temperature=t) for t in steps])
    options = {"name": "fig-t", "alt": 'bars "quoted" <b>', "step_label": "T = ", "active": 2}
    return steps, values, slider_bars(["a", "b", "c"], steps, values, **{**options, **kwargs})


def test_every_slider_step_carries_its_exact_value_and_its_bars():
    steps, values, figure = _figure()
    bundle = figure._repr_mimebundle_()
    spec = bundle["application/vnd.plotly.v1+json"]
    slider = spec["layout"]["sliders"][0]
    assert slider["active"] == 2
    assert [float(s["value"]) for s in slider["steps"]] == steps.tolist()
    for step, row in zip(slider["steps"], values, strict=True):
        assert step["method"] == "restyle" and step["args"][0]["y"] == [row.tolist()]
    assert spec["data"][0]["y"] == values[2].tolist()  # shown first: the active step


def test_html_loads_nothing_and_says_where_to_move_it_without_plotly():
    _, _, figure = _figure()
    html = figure._repr_mimebundle_()["text/html"]
    assert "<script src" not in html and "cdn" not in html.lower()
    assert 'id="fig-t"' in html and 'id="fig-t-fallback"' in html
    assert 'aria-label="bars &quot;quoted&quot; &lt;b&gt;"' in html
    assert "book's website" in figure._repr_mimebundle_()["text/plain"]
    # The figure's data in the page are the same numbers, to the last digit.
    data = json.loads(re.search(r"Plotly\.newPlot\(\s*\"fig-t\",\s*(\[.*?\]),\s*\{", html).group(1))
    assert data[0]["y"] == list(figure.figure.data[0].y)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"active": 5}, ValueError, "`active` must be a step index in [0, 5); got 5."),
        ({"active": True}, TypeError, "`active` must be an int; got bool."),
    ],
)
def test_bad_options_get_clear_errors(kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)):
        _figure(**kwargs)


def test_bad_values_get_clear_errors():
    with pytest.raises(ValueError, match=re.escape("`values` must have shape")):
        slider_bars(["a", "b"], [1.0, 2.0], np.zeros((2, 3)), name="f", alt="a")
    with pytest.raises(ValueError, match=re.escape("`values` must be finite")):
        slider_bars(["a"], [1.0], [[np.nan]], name="f", alt="a")
    with pytest.raises(ValueError, match=re.escape("`steps` must be a non-empty 1-d array")):
        slider_bars(["a"], [], np.zeros((0, 1)), name="f", alt="a")


def _bars(**kwargs):
    options = {
        "categories": ["a", "b"],
        "steps": [1.0, 2.0],
        "values": [[0.5, 0.5], [0.2, 0.8]],
        "name": "fig-ok",
        "alt": "two bars",
    }
    return slider_bars(**{**options, **kwargs})


# Issue 30: complex steps or values were accepted (a NumPy array was cast to real, with only
# a ComplexWarning) or failed with Python's "float() argument must be ..." naming nothing.
@pytest.mark.parametrize("argument", ["steps", "values"])
@pytest.mark.parametrize("as_array", [False, True], ids=["list", "ndarray"])
def test_issue30_slider_bars_rejects_complex_values(argument, as_array):
    good = {"steps": [1.0, 2.0], "values": [[0.5, 0.5], [0.2, 0.8]]}[argument]
    bad = np.asarray(good) + 1j if as_array else [complex(v) for v in np.ravel(good)]
    if not as_array and argument == "values":
        bad = [bad[:2], bad[2:]]
    message = f"`{argument}` must be real-valued; got dtype complex128."
    with pytest.raises(TypeError, match=re.escape(message)):
        _bars(**{argument: bad})


# Issue 30: `name` went unescaped into the page: into an id attribute and, through Plotly,
# into a script, so a name such as '"<script>' wrote markup into the page.
@pytest.mark.parametrize(
    "name", ['"<script>alert(1)</script>', "fig t", "x\"onload='1'", "", "1fig", "fig.t"]
)
def test_issue30_slider_bars_name_must_be_an_html_id(name):
    message = (
        f"`name` must be an HTML id: a letter, then letters, digits, '-' or '_'; got {name!r}."
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        _bars(name=name)


def test_names_that_are_html_ids_appear_in_the_page_as_they_are():
    for name in ["f", "slider-temperature", "fig_2-b"]:
        page = _bars(name=name)._repr_mimebundle_()["text/html"]
        assert f'id="{name}"' in page and f'id="{name}-fallback"' in page


# Issue 30 (bad-input sweep): these arguments failed with messages naming no parameter
# (len() of None, AttributeError 'replace' for alt, Plotly's 'prefix'/'text'/'range'
# properties, or a JSON error only when the figure was displayed).
@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"categories": None}, TypeError, "`categories` must be a sequence of str; got None."),
        ({"categories": "ab"}, TypeError, "`categories` must be a sequence of str; got 'ab'."),
        (
            {"categories": ["a", 2]},
            TypeError,
            "`categories` must be a sequence of str; got 2 in it.",
        ),
        ({"name": None}, TypeError, "`name` must be a str (an HTML id); got None."),
        ({"alt": None}, TypeError, "`alt` must be a str; got None."),
        ({"step_label": 1j}, TypeError, "`step_label` must be a str; got 1j."),
        ({"y_label": ["p"]}, TypeError, "`y_label` must be a str; got ['p']."),
        ({"y_range": 1.0}, TypeError, "`y_range` must be a pair of real numbers or None; got 1.0."),
        ({"y_range": (0, "1")}, TypeError, "`y_range` must be a pair of real numbers or None"),
        ({"y_range": (1, 0)}, ValueError, "`y_range` must be two finite numbers (low, high)"),
        ({"y_range": (0, np.nan)}, ValueError, "`y_range` must be two finite numbers (low, high)"),
        ({"y_range": [1.0]}, ValueError, "`y_range` must be two finite numbers (low, high)"),
        ({"meta": "p"}, TypeError, "`meta` must be a dict or None; got 'p'."),
        ({"meta": {"p": 1j}}, TypeError, "`meta` must hold JSON values"),
        ({"steps": None}, TypeError, "`steps` must be a real-valued numeric array; got dtype"),
        ({"values": "ab"}, TypeError, "`values` must be a real-valued numeric array; got dtype"),
    ],
)
def test_issue30_slider_bars_bad_arguments_name_their_parameter(kwargs, error, message):
    with pytest.raises(error, match=re.escape(message)):
        _bars(**kwargs)


# Issue 30 (bad-input sweep): a NumPy array as `y_range` raised "The truth value of an array
# with more than one element is ambiguous"; arrays of categories and a meta dict still work.
def test_issue30_y_range_may_be_an_array():
    figure = _bars(categories=np.array(["a", "b"]), y_range=np.array([0, 1]), meta={"p": [1]})
    assert figure.figure.layout.yaxis.range == (0.0, 1.0)
    assert figure.figure.layout.meta == {"p": [1]}


# Issue 31: on a phone a swipe that started on a figure zoomed it instead of scrolling the
# page, Plotly's toolbar offered an upload to an outside service, the slider needed a mouse
# or a finger, and the figure's script needed Plotly loaded before it (blocking the page).
def test_issue31_no_zoom_no_toolbar_a_keyboard_slider_and_plotly_awaited():
    _, _, figure = _figure(step_label="</script> = ")
    bundle = figure._repr_mimebundle_()
    spec = bundle["application/vnd.plotly.v1+json"]
    layout = spec["layout"]
    assert layout["dragmode"] is False
    assert layout["xaxis"]["fixedrange"] is True and layout["yaxis"]["fixedrange"] is True
    for config in (
        spec["config"],
        json.loads(re.search(r"\n\s*(\{\"displaylogo.*?\})\n", bundle["text/html"]).group(1)),
    ):
        assert config["displayModeBar"] is False and config["scrollZoom"] is False
        assert config["doubleClick"] is False and config["showTips"] is False
    html = bundle["text/html"]
    assert 'role="slider"' in html and 'aria-controls="fig-t"' in html
    assert html.count("</script>") == 1  # the step label cannot close the script
    # Drawn now if Plotly is there, else when a script (Plotly, loaded async) finishes loading.
    assert "window.Plotly" in html and 'addEventListener("load", draw, true)' in html
