"""The Plotly bundle the site serves (_static/plotly/): the right version, every trace it needs.

Issue 31: the site served the full plotly.min.js (4.8 MB). It now serves plotly.js's "basic"
partial bundle, vendored; these checks fail when the pinned Python plotly moves to another
plotly.js, or when a figure uses a trace type the bundle lacks.
"""

import hashlib
import re
from pathlib import Path

import numpy as np

from softmax_lib.interactive import slider_bars

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "_static" / "plotly" / "plotly-basic.min.js"
# The trace types compiled into plotly.js's basic bundle (lib/index-basic.js).
BASIC_TRACES = {"bar", "scatter", "pie"}


def test_the_bundle_is_the_plotly_js_that_python_plotly_expects():
    import plotly.offline

    head = BUNDLE.read_text()[:300]
    version = re.search(r"plotly\.js \(basic - minified\) v(\S+)", head).group(1)
    assert version == plotly.offline.get_plotlyjs_version()
    vendor = (BUNDLE.parent / "VENDOR.txt").read_text()
    assert f"plotly.js-basic-dist-min@{version}" in vendor
    assert hashlib.sha256(BUNDLE.read_bytes()).hexdigest() in vendor
    assert "MIT" in (BUNDLE.parent / "LICENSE.txt").read_text()


def test_the_figures_use_only_traces_of_the_bundle():
    figure = slider_bars(["a", "b"], [1.0, 2.0], np.eye(2), name="f", alt="two bars")
    spec = figure._repr_mimebundle_()["application/vnd.plotly.v1+json"]
    assert {trace["type"] for trace in spec["data"]} <= BASIC_TRACES
    # Every plotting call of the library and the chapters goes through slider_bars.
    sources = [*ROOT.glob("chapters/*.md"), ROOT / "intro.md", *ROOT.glob("softmax_lib/*.py")]
    for path in sources:
        text = path.read_text()
        assert "plotly.express" not in text, path
        assert set(re.findall(r"\bgo\.(\w+)\(", text)) <= {"Figure", "Bar"}, path
