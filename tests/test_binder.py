"""Binder, checked the way repo2docker reads it.

repo2docker (the builder behind mybinder.org) looks for its configuration in ``binder/``
when that directory exists, and ignores the repository root. For a ``runtime.txt`` naming
Python 3 and a ``requirements.txt`` it creates a Python environment and runs, from the
repository root,

    pip install --no-cache-dir -r binder/requirements.txt

then ``binder/postBuild``. The test below does the same in a clean virtual environment built
from a copy of the repository (so nothing from the development ``.venv`` can leak in), then
imports what every chapter imports and executes the frameworks chapter from there, with the
kernel that environment provides.

It installs the whole pinned stack (about 3 GB) and takes a few minutes, so it is marked
``binder`` and run by ``make binder-check`` (part of ``.ci/run``), not by the quick suite.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
CHAPTER = "06-frameworks.md"  # imports NumPy, SciPy, SymPy, PyTorch, TensorFlow, JAX, optax

# What a copy of the repository needs for Binder: everything tracked except build output.
IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "_build", "*.egg-info", "__pycache__", ".pytest_cache", ".ruff_cache"
)


def imported_modules():
    """Top-level modules imported by the code cells of any chapter (import X / from X ...)."""
    jupytext = pytest.importorskip("jupytext")
    found = set()
    for path in sorted((ROOT / "chapters").glob("*.md")):
        for cell in jupytext.read(path).cells:
            if cell.cell_type == "code":
                found.update(re.findall(r"^\s*(?:from|import)\s+(\w+)", cell.source, re.M))
    return sorted(found)


def run(args, **kwargs):
    result = subprocess.run(args, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, (
        f"{args} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    )
    return result


def test_binder_directory_is_what_repo2docker_reads():
    # With binder/ present, repo2docker ignores configuration files at the root: none may
    # sit there pretending to configure Binder.
    for name in ("runtime.txt", "postBuild", "environment.yml", "apt.txt", "Pipfile"):
        assert not (ROOT / name).exists(), f"{name} at the root is ignored by repo2docker"
    assert (BINDER / "runtime.txt").read_text().strip() == "python-3.11"
    lines = [
        line.strip()
        for line in (BINDER / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert "-r ../requirements.txt" in lines  # the book's pins, including -e . and jupytext
    assert "-c ../constraints.txt" in lines  # and every transitive version
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in lines
    assert os.access(BINDER / "postBuild", os.X_OK)


def test_every_chapter_import_is_a_pinned_requirement_or_the_standard_library():
    pins = set()
    for name in ("requirements.txt", "constraints.txt"):
        for line in (ROOT / name).read_text().splitlines():
            if "==" in line and not line.startswith("#"):
                pins.add(line.split("==")[0].strip().lower().replace("-", "_"))
    modules = imported_modules()
    assert {"numpy", "softmax_lib", "torch", "tensorflow"} <= set(modules)
    for module in modules:
        provided = {
            "softmax_lib": "-e .",
            "myst_nb": "jupyter_book",  # MyST-NB comes with Jupyter Book
            "IPython": "ipykernel",
            "tensorflow": "tensorflow_cpu",
        }.get(module, module.lower())
        if module in sys.stdlib_module_names:
            continue
        assert provided in pins or provided == "-e .", f"chapters import {module}: not pinned"


@pytest.mark.binder
def test_a_chapter_runs_in_a_fresh_binder_environment(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(ROOT, repo, ignore=IGNORE)
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)])
    bin_dir = venv / "bin"
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path / "home"),
        "VIRTUAL_ENV": str(venv),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        # Offline machines (CI) have no route to download.pytorch.org: fail each lookup at
        # once instead of retrying it five times. On Binder the index answers.
        "PIP_RETRIES": "0",
        "PIP_TIMEOUT": "10",
    }
    env.pop("PYTHONPATH", None)
    (tmp_path / "home").mkdir()

    # repo2docker's assemble step, verbatim, from the repository root.
    run(["pip", "install", "--no-cache-dir", "-r", "binder/requirements.txt"], cwd=repo, env=env)
    run([str(repo / "binder" / "postBuild")], cwd=repo, env=env)

    # postBuild made JupyterLab open MyST Markdown as a notebook.
    settings = list((tmp_path / "home").rglob("*.json"))
    viewers = {}
    for path in settings:
        viewers.update(
            json.loads(path.read_text())
            .get("@jupyterlab/docmanager-extension:plugin", {})
            .get("defaultViewers", {})
        )
    assert viewers.get("markdown") == "Jupytext Notebook", settings

    # softmax_lib comes from the copy (editable install), and every chapter import works.
    modules = imported_modules()
    probe = (
        "import importlib, softmax_lib\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(softmax_lib.__file__)\n"
    )
    out = run([str(bin_dir / "python"), "-c", probe], cwd=repo / "chapters", env=env)
    assert Path(out.stdout.strip()).is_relative_to(repo)

    # Execute one chapter with that environment's own kernel, as a Binder reader would.
    notebook = tmp_path / "chapter.ipynb"
    run(
        ["jupytext", "--to", "ipynb", "--execute", "--output", str(notebook), CHAPTER],
        cwd=repo / "chapters",
        env=env,
    )
    cells = json.loads(notebook.read_text())["cells"]
    outputs = [o for c in cells if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert outputs and not [o for o in outputs if o.get("output_type") == "error"]
