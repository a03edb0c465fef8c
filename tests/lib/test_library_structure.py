"""The library's shape: one home for every error message, no reaching into private names.

These read the source with `ast`, so a refactoring that breaks the rules fails here.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "softmax_lib"
MODULES = sorted(PACKAGE.rglob("*.py"))
MAX_LINES = 460  # about 400; core.py, the longest, is mostly docstrings

# raise statements allowed outside _validation.py, each with the reason.
ALLOWED_RAISES = {
    ("checks/_report.py", "AssertionError"): "CheckReport.require's verdict for a grader, "
    "not an input error",
}


def _relative(path):
    return path.relative_to(PACKAGE).as_posix()


def raises(source, where):
    """(line, exception name) of each raise that is not a bare re-raise or allowed."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Raise) and node.exc is not None:
            call = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            name = getattr(call, "id", getattr(call, "attr", "?"))
            if (where, name) not in ALLOWED_RAISES:
                found.append((node.lineno, name))
    return found


def private_imports(source):
    """(line, name) of each underscore name imported from another module."""
    return [
        (node.lineno, alias.name)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.name.startswith("_")
    ]


@pytest.mark.parametrize("path", MODULES, ids=_relative)
def test_every_error_is_raised_in_the_validation_module(path):
    if "_validation" not in path.relative_to(PACKAGE).parts:
        found = raises(path.read_text(), _relative(path))
        assert found == [], f"{_relative(path)} raises outside _validation: {found}"


@pytest.mark.parametrize("path", MODULES, ids=_relative)
def test_no_private_name_is_imported_from_another_module(path):
    bad = private_imports(path.read_text())
    assert bad == [], f"{_relative(path)} imports private names: {bad}"


@pytest.mark.parametrize("path", MODULES, ids=_relative)
def test_no_module_is_too_long(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{_relative(path)} has {lines} lines"


def test_the_rules_can_fail():
    source = (
        "from __future__ import annotations\n"
        "from softmax_lib.core import _normaliser, softmax\n"
        "try:\n    x = 1\nexcept KeyError:\n    raise\n"
        "raise ValueError('x')\n"
        "raise AssertionError('verdict')\n"
    )
    assert raises(source, "core.py") == [(7, "ValueError"), (8, "AssertionError")]
    assert raises(source, "checks/_report.py") == [(7, "ValueError")]
    assert private_imports(source) == [(2, "_normaliser")]


def test_every_subpackage_is_installed_by_a_regular_install():
    # Regression: pyproject listed only "softmax_lib", so a non-editable install (a wheel)
    # would have left out stability/, checks/ and _validation/.
    import tomllib

    from setuptools import find_packages

    config = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    found = set(find_packages(where=PACKAGE.parent, include=include))
    on_disk = {
        ".".join(path.parent.relative_to(PACKAGE.parent).parts)
        for path in PACKAGE.rglob("__init__.py")
    }
    assert on_disk <= found and len(on_disk) > 1
