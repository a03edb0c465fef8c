"""The promises of the build, checked in its configuration files."""

import re
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")
ROOT = Path(__file__).resolve().parents[1]


def test_requirements_are_pinned_exactly():
    for name in ("requirements.txt", "requirements-dev.txt"):
        for line in (ROOT / name).read_text().splitlines():
            line = line.split("#")[0].strip()
            if line and line != "-e .":
                assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[\w.+]+", line), f"{name}: {line}"
    reqs = (ROOT / "requirements.txt").read_text()
    assert re.search(r"^torch==2\.13\.0$", reqs, re.M), "torch must stay pinned to the CPU wheel"
    assert re.search(r"^jupyter-book==1\.0\.4\.post1$", reqs, re.M)
    assert re.search(r"^-e \.$", reqs, re.M), "softmax_lib must be installed for every chapter"


def test_execution_is_strict_and_math_is_local():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["execute"]["execute_notebooks"] == "cache"
    assert config["execute"]["raise_on_error"] is True
    assert config["execute"]["allow_errors"] is False
    assert "sphinx-mathjax-offline" in config["sphinx"]["extra_extensions"]
    assert {".*", "_build", ".venv"} <= set(config["exclude_patterns"])


def test_book_build_is_strict_and_the_cache_is_keyed_on_library_and_pins():
    makefile = (ROOT / "Makefile").read_text()
    assert "pipefail" in makefile
    assert "jupyter-book build . -W -n --keep-going" in makefile
    key_line = next(line for line in makefile.splitlines() if line.startswith("CACHE_KEY"))
    assert "softmax_lib" in key_line and "$(REQS)" in key_line
    assert re.search(r"^REQS :=.*requirements\.txt.*constraints\.txt", makefile, re.M)


def test_ci_runs_both_readme_commands_from_clean():
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    for command in ("make test", "make book"):
        assert command in ci and command in readme
    assert "rm -rf _build" in ci


def test_github_workflow_runs_ci_and_publishes_the_site():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "book.yml").read_text())
    build = workflow["jobs"]["build"]
    assert build["container"].startswith("python:3.11-")  # Debian, the README's Python
    commands = " ".join(step.get("run", "") for step in build["steps"])
    assert "bash .ci/run" in commands and "chromium" in commands
    uploads = [s for s in build["steps"] if "upload-pages-artifact" in s.get("uses", "")]
    assert uploads and uploads[0]["with"]["path"] == "_build/html"
    assert "deploy-pages" in workflow["jobs"]["deploy"]["steps"][0]["uses"]


def test_binder_reads_the_pinned_requirements_and_python_version():
    # repo2docker installs requirements.txt (which installs softmax_lib with -e . and
    # jupytext, so the .md chapters open as notebooks) on the Python of runtime.txt.
    assert (ROOT / "runtime.txt").read_text().strip() == "python-3.11"
    requirements = (ROOT / "requirements.txt").read_text().splitlines()
    assert "-e ." in requirements
    assert any(line.startswith("jupytext==") for line in requirements)
