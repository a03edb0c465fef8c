"""The promises of the build, checked in its configuration files."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


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


def _make(*args, cwd=ROOT):
    """Run make and return its standard output (the Makefile's behaviour, not its text)."""
    result = subprocess.run(
        ["make", "--no-print-directory", *args], cwd=cwd, capture_output=True, text=True
    )
    return result


def test_book_build_is_strict_and_fails_on_a_failing_pipeline(tmp_path):
    dry_run = _make("-n", "book").stdout
    assert "jupyter-book build . -W -n --keep-going" in dry_run
    # Every recipe runs with pipefail: a pipeline whose first command fails, fails.
    probe = tmp_path / "probe.mk"
    probe.write_text("probe:\n\tfalse | true\n")
    assert _make("-f", "Makefile", "-f", str(probe), "probe").returncode != 0


def test_cache_key_changes_with_the_library_and_the_pins(tmp_path):
    for name in (
        "Makefile",
        "requirements.txt",
        "requirements-dev.txt",
        "constraints.txt",
        "pyproject.toml",
    ):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "softmax_lib", tmp_path / "softmax_lib")

    def key():
        return _make("-s", "print-CACHE_KEY", cwd=tmp_path).stdout.strip()

    first = key()
    assert len(first) == 16
    with open(tmp_path / "softmax_lib" / "core.py", "a") as f:
        f.write("\n# a change to the library\n")
    second = key()
    with open(tmp_path / "constraints.txt", "a") as f:
        f.write("\n# a change to the pins\n")
    third = key()
    assert len({first, second, third}) == 3


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


def test_ci_builds_the_pdf_and_checks_binder():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make pdf" in ci and "make binder-check" in ci
    assert "--builder pdflatex" in _make("-n", "pdf").stdout
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["latex"] == {**config["latex"], "latex_engine": "xelatex"}
    assert config["latex"]["use_jupyterbook_latex"] is False  # no 1.4 GB font package
    # The workflow installs the same TeX packages as make pdf would.
    packages = _make("-s", "print-TEX_PACKAGES").stdout
    workflow = (ROOT / ".github" / "workflows" / "book.yml").read_text()
    assert "texlive-xetex" in packages.split()
    for package in packages.split():
        assert package in workflow, package


def test_workflow_publishes_the_notebooks_colab_opens():
    from tools import launch

    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "book.yml").read_text())
    job = workflow["jobs"]["notebooks"]
    assert job["permissions"] == {"contents": "write"} and job["needs"] == "build"
    push = job["steps"][-1]["run"]
    assert f"git init -q -b {launch.NOTEBOOKS_BRANCH}" in push
    assert push.rstrip().endswith(f" {launch.NOTEBOOKS_BRANCH}")
    steps = workflow["jobs"]["build"]["steps"]
    collect = " ".join(s.get("run", "") for s in steps)
    assert "tools/publish.py branch _build/notebooks-branch" in collect
    upload = next(s for s in steps if s.get("with", {}).get("name") == "notebooks")
    assert upload["with"]["path"] == "_build/notebooks-branch"


def test_notebooks_branch_carries_what_binder_needs(tmp_path):
    from tools import publish

    built = tmp_path / "built"
    (built / "chapters").mkdir(parents=True)
    (built / "chapters" / "01-softmax.ipynb").write_text("{}")
    publish.write_branch(tmp_path / "branch", built, commit="abc123")
    branch = tmp_path / "branch"
    assert (branch / "chapters" / "01-softmax.ipynb").exists()
    for name in (
        "binder/requirements.txt",
        "binder/runtime.txt",
        "binder/postBuild",
        "requirements.txt",
        "constraints.txt",
        "pyproject.toml",
        "softmax_lib/__init__.py",
    ):
        assert (branch / name).exists(), name
    assert os.access(branch / "binder" / "postBuild", os.X_OK)
    assert "abc123" in (branch / "README.md").read_text()
    # binder/requirements.txt names its files relative to binder/: all of them are there.
    for line in (branch / "binder" / "requirements.txt").read_text().splitlines():
        if line.startswith(("-r ", "-c ")):
            assert (branch / "binder" / line.split()[1]).resolve().exists(), line


def test_launch_repository_resolution(monkeypatch, tmp_path):
    from tools import launch

    for name in ("BOOK_REPOSITORY_URL", "GITHUB_REPOSITORY", "GITHUB_SERVER_URL"):
        monkeypatch.delenv(name, raising=False)
    # No git repository at all: the placeholder, and the build says so.
    assert launch.repository_url("", cwd=tmp_path) == (launch.PLACEHOLDER, "placeholder")
    assert launch.repository_url("https://github.com/a/b/", cwd=tmp_path)[0] == (
        "https://github.com/a/b"
    )
    monkeypatch.setenv("GITHUB_REPOSITORY", "fork/book")
    assert launch.repository_url("https://github.com/a/b") == (
        "https://github.com/fork/book",
        "GITHUB_REPOSITORY",
    )
    monkeypatch.setenv("BOOK_REPOSITORY_URL", "https://github.com/me/mine")
    assert launch.repository_url("")[0] == "https://github.com/me/mine"
    for remote in (
        "git@github.com:o/n.git",
        "https://github.com/o/n.git",
        "https://github.com/o/n",
    ):
        match = launch._GITHUB.match(remote)
        assert (match["owner"], match["name"]) == ("o", "n")
    assert launch.colab_url("https://github.com/o/n", "chapters/01-softmax") == (
        "https://colab.research.google.com/github/o/n/blob/notebooks/chapters/01-softmax.ipynb"
    )


def test_rendered_notebook_keeps_outputs_when_the_page_came_from_the_cache(tmp_path):
    """Regression: a rebuild that reused the execution cache rendered notebooks without outputs."""
    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    from tools import pages

    def notebook(outputs):
        cell = nbformat.v4.new_code_cell(
            "1 + 1", outputs=outputs, execution_count=1 if outputs else None
        )
        return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# T"), cell])

    result = [nbformat.v4.new_output("execute_result", {"text/plain": "2"}, execution_count=1)]
    cache = tmp_path / "cache"
    get_cache(str(cache)).cache_notebook_bundle(
        CacheBundleIn(notebook(result), str(tmp_path / "page.md")), check_validity=False
    )
    as_written = json.loads(nbformat.writes(notebook([])))  # what MyST-NB writes on a cache hit
    restored = pages.with_cached_outputs(as_written, cache)
    assert "".join(restored["cells"][1]["outputs"][0]["data"]["text/plain"]) == "2"
    assert "".join(restored["cells"][0]["source"]) == "# T"
    # Not in the cache, or no cache at all: the notebook is left as it is.
    other = json.loads(
        nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("2")]))
    )
    assert pages.with_cached_outputs(other, cache) == other
    assert pages.with_cached_outputs(as_written, tmp_path / "none") == as_written


def test_binder_env_from_a_relative_directory_uses_its_own_pip(tmp_path, monkeypatch):
    # make binder-env passes _build/binder: with that PATH entry relative, the install's
    # `pip`, run from the branch's root, was the interpreter's own and installed there.
    from tools import binder

    monkeypatch.chdir(tmp_path)
    env = binder.environment(Path("relative"))
    first = Path(env["PATH"].split(os.pathsep)[0])
    assert first == tmp_path / "relative" / "venv" / "bin"
    assert Path(env["VIRTUAL_ENV"]).is_absolute() and Path(env["HOME"]).is_absolute()
