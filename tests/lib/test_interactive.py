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
