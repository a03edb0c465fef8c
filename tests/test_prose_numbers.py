"""Numbers in the book's prose must be glued from code, never typed by hand."""

from pathlib import Path

import pytest
from prose import scan, scan_file

ROOT = Path(__file__).resolve().parents[1]
PAGES = [*sorted((ROOT / "chapters").glob("*.md")), ROOT / "intro.md"]


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_no_number_is_typed_into_the_prose(path):
    findings = scan_file(path)
    report = "\n".join(f"{path.name}:{f.line}: {f.numeral!r} in {f.text[:80]!r}" for f in findings)
    assert not findings, "glue these numbers from a code cell instead:\n" + report


# The scanner itself must be able to fail: it flags what it should and nothing else.


@pytest.mark.parametrize(
    ("prose", "flagged"),
    [
        ("The top class gets probability 0.659.", ["0.659"]),
        ("About 42 classes.", ["42"]),
        ("An error of 12% here.", ["12%"]),
        ("It overflows past 709.78 or 1e-3 or 1,000.", ["709.78", "1e-3", "1,000"]),
        ("Shift by -100 changes nothing.", ["-100"]),
        ("# Section with 3.14 in the title", ["3.14"]),
        ("| table | 0.25 |\n|---|---|\n| row | 17 |", ["0.25", "17"]),
        ("```{exercise}\n:label: ex-1\n\nFind the value 0.9.\n```", ["0.9"]),
        ("```{note}\nA note with 250 in it.\n```", ["250"]),
    ],
)
def test_scanner_flags_hand_typed_numbers(prose, flagged):
    assert [f.numeral for f in scan(prose)] == flagged


@pytest.mark.parametrize(
    "prose",
    [
        "Probability {glue:text}`p_first:.3f` for the top class.",
        "Inline math $e^{-745.13}$ and code `softmax([1000.0, 0.0])` are not prose.",
        "Two classes, base 2, and 10 examples.",
        "As shown by {cite}`blanchard2021accurately` (2021).",
        "float16, float32 and float64 and log1p are names, not numbers.",
        "```{code-cell} ipython3\nx = 0.659\n```",
        "$$\nx = 3.5\n$$ (eq-x)",
        "---\njupytext:\n  format_version: 0.13\n---\n\nText.",
        "```{exercise}\n:label: ex-0.5\n\nNo numbers.\n```",
    ],
)
def test_scanner_ignores_what_is_not_hand_typed_prose(prose):
    assert scan(prose) == []


def test_line_numbers_point_at_the_source():
    text = "Intro.\n\n```{exercise}\n:label: ex-a\n\nLine with 77.\n```\n"
    assert [(f.line, f.numeral) for f in scan(text)] == [(6, "77")]
