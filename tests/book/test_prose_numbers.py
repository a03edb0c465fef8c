"""Numbers in the book's prose must be glued from code, never typed by hand."""

import re
from pathlib import Path

import pytest
from prose import scan, scan_file

ROOT = Path(__file__).resolve().parents[2]
PAGES = [*sorted((ROOT / "chapters").glob("*.md")), ROOT / "intro.md"]


# Numbers that are the mathematics of a page, not results: each piece of text (an inline
# formula or a sentence) where they may stand, with the reason.
ALLOWED = {
    "04-entropy.md": (
        {
            "(1, 2, \\dots, 6, \\dots, 2, 1)/36",
            "2, \\dots, 12",
            "is less uncertain than the uniform distribution on its eleven values (Gibbs with",
        },
        "two six-sided dice: 36 equally likely pairs, sums from 2 to 12, eleven values",
    ),
    "08-limits.md": (
        {
            "(0.8, 0.6, 0.1)",
            "0.8, 1.4, 1.5",
            "1.8 > 0.8",
            "2.2 > 1.4",
            "1.3 > 1.5",
            "\\tau = (1.4 - 1)/2 = 0.2",
            "(0.6, 0.4, 0)",
            "(3.2, 2.4, 0.4)",
            "5.8 > 5.6",
            "2.2 > 6.0",
            "\\tau = (5.6 - 1)/2 = 2.3",
            "(0.9, 0.1, 0)",
            "13 > 14",
        },
        "exercise ex-limits-4 asks for this computation by hand; its solution asserts each step",
    ),
    "notation.md": ({"2^{-53}"}, "the unit roundoff of float64 is a property of the format"),
}


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_no_number_is_typed_into_the_prose(path):
    allowed, _reason = ALLOWED.get(path.name, (set(), ""))
    findings = [f for f in scan_file(path) if f.text not in allowed]
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
        # Numbers hide in inline math and in words as easily as in digits.
        ("An error of about $10^{-14}$ in the exponent.", ["-14"]),
        ("The naive sigmoid fails at $x = -745.13$.", ["-745.13"]),
        ("Give it a logit of a thousand and sixty digits.", ["thousand", "sixty"]),
        ("Libraries lose hundreds to billions of ULPs.", ["hundreds", "billions"]),
    ],
)
def test_scanner_flags_hand_typed_numbers(prose, flagged):
    assert [f.numeral for f in scan(prose)] == flagged


@pytest.mark.parametrize(
    "prose",
    [
        "Probability {glue:text}`p_first:.3f` for the top class.",
        "Code `softmax([1000.0, 0.0])` is not prose, nor is $p_{k} = 1/C$ small math.",
        "Ten classes, one tenth, the seventh entry: small or not numbers.",
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


def test_every_allowance_is_still_needed():
    # An allowance that no longer matches anything hides nothing, and should go.
    for name, (allowed, reason) in ALLOWED.items():
        assert reason
        texts = {f.text for f in scan_file(ROOT / "chapters" / name)}
        assert allowed <= texts, (name, allowed - texts)


def test_line_numbers_point_at_the_source():
    text = "Intro.\n\n```{exercise}\n:label: ex-a\n\nLine with 77.\n```\n"
    assert [(f.line, f.numeral) for f in scan(text)] == [(6, "77")]


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_no_inline_math_is_broken_by_a_line_that_starts_a_list(path):
    # Regression: "$... q_j\n- \sum_j ...$" renders as a bullet list, cutting the formula in two
    # (found in chapters 4 and 8). A line inside inline math must not start with "- ".
    lines = path.read_text().splitlines()
    inside, in_code, bad = False, False, []
    for number, line in enumerate(lines, 1):
        if in_code:  # code cells and code blocks hold dollars of their own
            in_code = line.strip() != "```"
            continue
        if line.startswith("```"):
            opener = line[3:].strip()
            in_code = opener.startswith("{code-cell}") or bool(opener and opener[0] != "{")
            continue
        if inside and re.match(r"^\s*[-+*] ", line):
            bad.append(number)
        # Count single dollars outside display math to know whether a line ends inside $...$.
        if not line.strip().startswith("$$"):
            inside ^= len(re.findall(r"(?<![\\$])\$(?!\$)", line)) % 2 == 1
    assert bad == [], f"{path.name}: lines {bad} start a list inside inline math"
