"""Feedback a student can act on: an nbgrader preprocessor for ``generate_feedback``.

``tools/course.py`` copies this file into the course directory it writes (the name is unlike
nbgrader's own ``feedback/`` folder there, which would shadow a module called ``feedback``),
and the course's
``nbgrader_config.py`` adds :class:`PlainFeedback` to nbgrader's feedback step. On the page a
student receives, each graded test cell then shows what it checked (its title) and, when it
failed, why, in plain sentences: the message of the check that failed, never the hidden
tests' code, a traceback with the teacher's paths, or the expected numbers. The autograded
notebooks that the teacher sees in the formgrader keep everything.

It also gives the feedback page's figures their alt text (:func:`image_alt`, which the book's
notebook renderer uses too): autograding runs the notebook again, and the new outputs carry
none.
"""

from __future__ import annotations

import html
import re

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

# The first line of a graded test cell, as tools/notebooks.py writes it.
HEADER = re.compile(r"^# Autograded: (?P<title>.*) \((?P<points>[\d.]+) points?\)\.$")
# Where NumPy's comparison report begins (assert_allclose, assert_array_equal): the lines
# from here on show the expected array, which the feedback must not.
NUMPY_REPORT = re.compile(
    r"^\s*(Mismatched elements|Max absolute difference|Max relative difference|x:|y:|"
    r"ACTUAL:|DESIRED:|\(shapes|\(mismatch)"
)
NUMPY_HEADER = re.compile(r"^\s*(Not equal to tolerance|Arrays are not)")


def plain_reason(ename: str, evalue: str) -> list[str]:
    """Return why a test failed: plain sentences, one per failed check.

    NumPy's comparison report (with the expected array) and tracebacks are left out.
    """
    if ename == "NotImplementedError":
        return ["Your function is not written yet: it still raises NotImplementedError."]
    if ename != "AssertionError":
        first = evalue.strip().splitlines()[0].strip() if evalue.strip() else ""
        return [f"Your code raised {ename}" + (f": {first}" if first else ".")]
    lines: list[str] = []
    for line in evalue.splitlines():
        if NUMPY_REPORT.match(line):
            break
        if NUMPY_HEADER.match(line) or not line.strip():
            continue
        if line.startswith((" ", "\t")) and lines:  # a wrapped line of the previous sentence
            lines[-1] += " " + line.strip()
        else:
            lines.append(line.strip())
    return lines


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def feedback_text(title: str, outputs: list[dict]) -> str | None:
    """Return the feedback of one graded test cell, or None if it passed."""
    errors = [o for o in outputs if o.get("output_type") == "error"]
    if not errors:
        return None
    error = errors[0]
    reasons = plain_reason(error.get("ename", ""), error.get("evalue", ""))
    lines = [f"Not passed: {title}."]
    lines += [_sentence(reason) for reason in reasons]
    return "\n".join(lines) + "\n"


def image_alt(cell) -> None:
    """Give a figure's image outputs the alt text the book's page gives it.

    The text is in the cell's ``mystnb.image.alt`` metadata. Notebook front ends have no agreed
    place for an image's alt text (nbconvert and JupyterLab ignore it in the output's
    metadata), so the image is also offered as HTML, an ``<img>`` with its ``alt``, which
    JupyterLab, Colab and nbconvert all prefer to the bare PNG.
    """
    alt = cell.get("metadata", {}).get("mystnb", {}).get("image", {}).get("alt")
    if not alt:
        return
    text = html.escape(" ".join(alt.split()))
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        if "image/png" in data and "text/html" not in data:
            png = "".join(data["image/png"]).replace("\n", "")
            data["text/html"] = (
                f'<img src="data:image/png;base64,{png}" alt="{text}" style="max-width: 100%">'
            )


class PlainFeedback(Preprocessor):
    """Show each graded test as its title and, if it failed, the reason; figures get alt text."""

    enabled = Bool(True, help="nbconvert's preprocessors are off unless enabled").tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        """Rewrite one cell of the feedback notebook (test cells only)."""
        image_alt(cell)
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.get("cell_type") != "code" or not meta.get("grade") or meta.get("solution"):
            return cell, resources
        first = cell.source.splitlines()[0] if cell.source else ""
        match = HEADER.match(first)
        title = match["title"] if match else meta.get("grade_id", "a hidden test")
        cell.source = f"{first}\n# The tests are hidden."
        text = feedback_text(title, cell.get("outputs", []))
        cell.outputs = [_display(text or f"Passed: {title}.\n")]
        return cell, resources


def _display(text: str):
    """Return an output showing `text` as wrapped HTML: its first line in bold, then a list."""
    from nbformat.v4 import new_output

    head, *rest = text.strip().splitlines()
    items = "".join(f"<li>{html.escape(line)}</li>" for line in rest)
    page = f"<p><strong>{html.escape(head)}</strong></p>" + (f"<ul>{items}</ul>" if items else "")
    return new_output("display_data", data={"text/html": page, "text/plain": text})
