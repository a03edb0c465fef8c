"""Interactive figures for the book's pages: a bar chart with a slider, drawn by Plotly.

The values are computed in Python (by the caller, with `softmax_lib`) for every position of the
slider, so the figure needs no server: moving the slider only swaps precomputed bars. The
figure object shows itself three ways, whichever the viewer understands:

* ``text/html``: a ``<div>`` and a script that draws it with a ``Plotly`` already loaded by the
  page (the book's website serves ``plotly.min.js`` itself, so nothing is fetched from the
  internet); where ``Plotly`` is missing, a sentence says where the figure can be moved;
* ``application/vnd.plotly.v1+json``: the figure for JupyterLab's Plotly renderer;
* ``text/plain``: that sentence again.

Plotly is imported only when a figure is made (``pip install plotly``).
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from softmax_lib._validation import (
    as_real_float_array,
    check_html_id,
    check_interval_or_none,
    check_json_dict_or_none,
    check_slider_values,
    check_str,
    check_str_sequence,
)

__all__ = ["InteractiveFigure", "slider_bars"]

_FALLBACK = (
    "Interactive figure: move its slider on the book's website, or run this cell in JupyterLab."
)


# Plotly's options for every figure (issue 31): no toolbar (its buttons zoom, pan, select and
# offer an upload to an outside service), no zoom by wheel or double click, no tips about them.
CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "displayModeBar": False,
    "scrollZoom": False,
    "doubleClick": False,
    "showTips": False,
}

# Draws the figure once ``Plotly`` is there: the book's website loads Plotly asynchronously, so
# that the text shows first, and the figure's script may run before or after it arrives. A
# focusable element with role ``slider`` moves the Plotly slider from the keyboard (arrows,
# Home, End, Page Up/Down), as the mouse or a finger moves it.
_SCRIPT = """(function () {
  var id = %(id)s, drawn = false;
  function keyboard(gd) {
    var knob = document.getElementById(id + "-slider");
    var slider = gd.layout.sliders[0], n = slider.steps.length, prefix = %(prefix)s;
    function show(k) {
      knob.setAttribute("aria-valuenow", k);
      knob.setAttribute("aria-valuetext", prefix + slider.steps[k].label);
    }
    function go(k) {
      var step = gd.layout.sliders[0].steps[k];
      Plotly[step.method].apply(null, [gd].concat(step.args));
      Plotly.relayout(gd, {"sliders[0].active": k});
      show(k);
    }
    knob.addEventListener("keydown", function (e) {
      var k = gd.layout.sliders[0].active, page = Math.max(1, Math.round(n / 10));
      var to = {ArrowRight: k + 1, ArrowUp: k + 1, ArrowLeft: k - 1, ArrowDown: k - 1,
                PageUp: k + page, PageDown: k - page, Home: 0, End: n - 1}[e.key];
      if (to === undefined) return;
      e.preventDefault();
      to = Math.max(0, Math.min(n - 1, to));
      if (to !== k) go(to);
    });
    gd.on("plotly_sliderchange", function (e) { show(e.slider.active); });
    knob.hidden = false;
    show(slider.active);
  }
  function draw() {
    var gd = document.getElementById(id);
    if (drawn || !gd || !window.Plotly) return;
    drawn = true;
    var fallback = document.getElementById(id + "-fallback");
    if (fallback) fallback.remove();
    Plotly.newPlot(
      %(id)s,
      %(data)s,
      %(layout)s,
      %(config)s
    ).then(keyboard);
  }
  draw();
  if (!drawn) {
    document.addEventListener("load", draw, true);  /* a script loaded: Plotly? */
    window.addEventListener("load", draw);
  }
})();"""


class InteractiveFigure:
    """A Plotly figure with the three representations described in the module docstring."""

    def __init__(self, figure, alt: str, name: str, step_label: str = "") -> None:
        self.figure = figure
        self.alt = alt
        self.name = name
        self.step_label = step_label

    def _repr_mimebundle_(self, include=None, exclude=None):
        from plotly.io.json import to_json_plotly

        spec = self.figure.to_plotly_json()
        name = self.name
        fallback_id = f"{name}-fallback"
        caption = self.step_label.strip(" =:") or "step"
        script = _SCRIPT % {
            "id": json.dumps(name),
            "prefix": json.dumps(self.step_label).replace("<", "\\u003c"),
            "data": to_json_plotly(spec["data"]),
            "layout": to_json_plotly(spec["layout"]),
            "config": json.dumps(CONFIG),
        }
        page = (
            f'<div class="interactive-figure" role="figure" aria-label="{html.escape(self.alt)}">'
            f'<p id="{fallback_id}">{html.escape(_FALLBACK)}</p>'
            f'<div class="interactive-figure-plot" style="height:{spec["layout"]["height"]}px">'
            f'<div id="{name}" class="plotly-graph-div" style="height:100%; width:100%;"></div>'
            f"</div>"
            f'<div id="{name}-slider" class="interactive-figure-keys" role="slider" tabindex="0" '
            f'aria-controls="{name}" aria-label="{html.escape(f"Slider: {caption}")}" '
            f'aria-valuemin="0" aria-valuemax="{len(spec["layout"]["sliders"][0]["steps"]) - 1}" '
            f"hidden>{html.escape(f'{caption}: arrow keys move the slider')}</div>"
            f"<script>{script}</script></div>"
        )
        return {
            "text/html": page,
            "application/vnd.plotly.v1+json": {**spec, "config": CONFIG},
            "text/plain": _FALLBACK,
        }


def slider_bars(
    categories: Sequence[str],
    steps: ArrayLike,
    values: ArrayLike,
    *,
    name: str,
    alt: str,
    step_label: str = "",
    y_label: str = "",
    y_range: tuple[float, float] | None = None,
    active: int = 0,
    meta: dict | None = None,
) -> InteractiveFigure:
    """Return bars of ``values[k]`` over `categories`, with a slider choosing the step ``k``.

    Parameters
    ----------
    categories : sequence of str
        The labels of the bars (length ``C``).
    steps : array_like, shape (K,)
        The value of the slider at each step (a temperature, a logit, ...), shown as its label.
    values : array_like, shape (K, C)
        The height of every bar at every step, computed beforehand.
    name : str
        The HTML id of the figure (unique on its page), such as ``"slider-temperature"``: a
        letter, then letters, digits, ``-`` or ``_``. The browser tests find it by this id.
    alt : str
        What the figure shows, for readers who cannot see it (``aria-label``).
    step_label : str
        The slider's caption, such as ``"T = "``.
    y_label : str
        The label of the vertical axis.
    y_range : (float, float), optional
        Fixed limits of the vertical axis, so that bars can be compared across steps.
    active : int
        The step shown first.
    meta : dict, optional
        Parameters of the figure that its labels do not show (stored as Plotly's
        ``layout.meta``, where tests and scripts can read them).

    Returns
    -------
    InteractiveFigure
        Displayed as an interactive chart on the website and in JupyterLab.

    Raises
    ------
    TypeError
        If `steps` or `values` are not real numbers (complex values included), `categories`
        is not a sequence of str, `name`, `alt`, `step_label` or `y_label` is not a str,
        `y_range` is not a pair of real numbers, `meta` is not a dict of JSON values, or
        `active` is not an int.
    ValueError
        If the shapes do not match, a value is not finite, `name` is not an HTML id,
        `y_range` is not finite and increasing, or `active` is not a step index.

    Notes
    -----
    Plotly writes `name` unescaped into the page's HTML and into a script, so it must be an
    HTML id made of ASCII letters, digits, ``-`` and ``_``, starting with a letter (since
    issue 30; before, a name such as ``'"<script>'`` was written into the page as it was).
    Complex `steps` or `values` were silently cast to real (NumPy arrays) or failed with a
    message naming no argument (lists); they are now rejected.
    """
    import plotly.graph_objects as go
    from plotly.io.json import to_json_plotly

    check_str_sequence(categories, "categories")
    check_html_id(name, "name")
    for text, text_name in ((alt, "alt"), (step_label, "step_label"), (y_label, "y_label")):
        check_str(text, text_name)
    check_interval_or_none(y_range, "y_range")
    check_json_dict_or_none(meta, "meta", to_json_plotly)
    steps_arr = as_real_float_array(steps, "steps").astype(np.float64)
    heights = as_real_float_array(values, "values").astype(np.float64)
    check_slider_values(heights, len(categories), steps_arr, active)
    labels = [f"{s:.3g}" for s in steps_arr]
    figure = go.Figure(
        go.Bar(x=list(categories), y=heights[active].tolist(), marker_color="#1f77b4"),
        layout={
            # No zoom, pan or selection: a swipe that starts on the chart scrolls the page.
            "dragmode": False,
            "xaxis": {"fixedrange": True},
            "yaxis": {
                "title": {"text": y_label},
                "range": None if y_range is None else [float(v) for v in y_range],
                "fixedrange": True,
            },
            "margin": {"l": 60, "r": 20, "t": 20, "b": 40},
            "height": 360,
            "meta": meta or {},
            "sliders": [
                {
                    "active": active,
                    "currentvalue": {"prefix": step_label},
                    "pad": {"t": 40},
                    "steps": [
                        {
                            "label": label,
                            "value": repr(float(step)),  # the exact step, for tests
                            "method": "restyle",
                            "args": [{"y": [row.tolist()]}],
                        }
                        for label, step, row in zip(labels, steps_arr, heights, strict=True)
                    ],
                }
            ],
        },
    )
    return InteractiveFigure(figure, alt, name, step_label)
