"""The skip-or-fail rule of tests/helpers.py for a missing framework (an oracle's)."""

import math

import pytest
from helpers import cell_names, framework

MISSING = "softmax_lib_tests_no_such_framework"


def test_an_installed_framework_is_returned():
    assert framework("math") is math
    assert framework("os.path").join("a", "b") == "a/b"  # a submodule, imported


def test_a_missing_framework_skips_the_whole_module_outside_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=f"SKIPPED, NOT PASSED: {MISSING} is not inst"):
        framework(MISSING)
    with pytest.raises(pytest.skip.Exception) as skipped:
        framework(f"{MISSING}.numpy")  # the package above the submodule is missing
    assert skipped.value.allow_module_level


def test_a_missing_framework_fails_under_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=f"cannot run in CI: {MISSING} is not inst"):
        framework(MISSING)


def test_a_framework_that_is_installed_but_broken_is_an_error(monkeypatch, tmp_path):
    monkeypatch.delenv("CI", raising=False)
    (tmp_path / "broken_framework.py").write_text(f"import {MISSING}\n")
    monkeypatch.syspath_prepend(tmp_path)
    with pytest.raises(ModuleNotFoundError, match=MISSING):
        framework("broken_framework")
    (tmp_path / "raising_framework.py").write_text("raise ImportError('a broken build')\n")
    with pytest.raises(ImportError, match="a broken build"):
        framework("raising_framework")


def test_cell_names_reads_a_cell_that_defines_a_class():
    # A class has no argument list: cell_names raised AttributeError on the first chapter
    # cell that defined one (chapter 9's SlowMemory).
    source = "class Box(dict):\n    def load(self, name):\n        return self[name] + offset\n"
    defined, used = cell_names(source)
    assert {"Box", "load", "self", "name"} <= defined
    assert "offset" in used
