"""Binder, checked the way repo2docker reads it.

repo2docker (the builder behind mybinder.org) looks for its configuration in ``binder/``
when that directory exists, and ignores the repository root. For a ``runtime.txt`` naming
Python 3 and a ``requirements.txt`` it creates a Python environment and runs, from the
repository root,

    pip install --no-cache-dir -r binder/requirements.txt

then ``binder/postBuild``. The test below does the same (``tools/binder.py``) in a clean
virtual environment built from a copy of the repository (so nothing from the development
``.venv`` can leak in), then imports what every chapter imports and executes the frameworks
chapter from there, with the kernel that environment provides.

It installs the whole pinned stack (about 3 GB) and takes a few minutes, so it is marked
``binder`` and run by ``make binder-check`` (part of ``.ci/run``), not by the quick suite.
The installation needs only the sources: CI makes it first (``make binder-env``, beside the
book's own environment), and the test uses it when it was made from the sources as they are.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import unavailable

from tools import binder as binder_env
from tools import publish

ROOT = Path(__file__).resolve().parents[2]
BINDER = ROOT / "binder"
SHOTS = ROOT / "_build" / "screenshots"
PREBUILT = ROOT / "_build" / "binder"  # make binder-env
CHAPTER = "06-frameworks.md"  # imports NumPy, SciPy, SymPy, PyTorch, TensorFlow, JAX, optax


def imported_modules():
    """Top-level modules imported by the code cells of any chapter (import X / from X ...)."""
    import jupytext

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
            "sklearn": "scikit_learn",
        }.get(module, module.lower())
        if module in sys.stdlib_module_names:
            continue
        assert provided in pins or provided == "-e .", f"chapters import {module}: not pinned"


@pytest.fixture(scope="module")
def binder(tmp_path_factory):
    """The notebooks branch, installed the way repo2docker installs it, in a clean venv.

    Binder launches the rendered notebooks from the notebooks branch (tools/launch.py), which
    ``python tools/publish.py branch`` assembles from the build: that tree is what is
    installed here, with repo2docker's own command (``tools/binder.py``), so the test covers
    what Binder builds. The installation ``make binder-env`` made ahead of the build (CI
    starts it first) is used when it was made from the sources as they are now.
    """
    built = ROOT / "_build" / "notebooks" / "public"
    if not list(built.glob("chapters/*.ipynb")):
        unavailable("no rendered notebooks in _build/notebooks (run make book)")
    base = PREBUILT
    if not binder_env.installed(base):
        base = tmp_path_factory.mktemp("binder")
        binder_env.install(base)
    repo = base / "repo"
    publish.add_notebooks(repo, built)
    env = binder_env.environment(base)
    return {"repo": repo, "bin": base / "venv" / "bin", "env": env, "home": base / "home"}


@pytest.mark.binder
def test_a_chapter_runs_in_a_fresh_binder_environment(binder, tmp_path):
    repo, bin_dir, env = binder["repo"], binder["bin"], binder["env"]

    # postBuild made JupyterLab open MyST Markdown as a notebook (for the .md sources).
    settings = list(binder["home"].rglob("*.json"))
    viewers = {}
    for path in settings:
        viewers.update(
            json.loads(path.read_text())
            .get("@jupyterlab/docmanager-extension:plugin", {})
            .get("defaultViewers", {})
        )
    assert viewers.get("markdown") == "Jupytext Notebook", settings

    # softmax_lib comes from the branch (editable install), and every chapter import works.
    modules = imported_modules()
    probe = (
        "import importlib, softmax_lib\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(softmax_lib.__file__)\n"
    )
    out = run([str(bin_dir / "python"), "-c", probe], cwd=repo / "chapters", env=env)
    assert Path(out.stdout.strip()).is_relative_to(repo)

    # Execute the rendered chapter with that environment's own kernel, as a Binder reader
    # would (Run All Cells): the code cells of the notebook Binder opens.
    notebook = tmp_path / "chapter.ipynb"
    run(
        [
            "jupyter",
            "nbconvert",
            "--to",
            "notebook",
            "--execute",
            "--ExecutePreprocessor.timeout=600",
            "--output",
            str(notebook),
            f"{Path(CHAPTER).stem}.ipynb",
        ],
        cwd=repo / "chapters",
        env=env,
    )
    cells = json.loads(notebook.read_text())["cells"]
    outputs = [o for c in cells if c["cell_type"] == "code" for o in c.get("outputs", [])]
    assert outputs and not [o for o in outputs if o.get("output_type") == "error"]


# --------------------------------------------------------------------------- JupyterLab

# What JupyterLab shows instead of rendering: MyST roles and directives, the book's macros.
RAW = re.compile(
    r"\{(?:glue|eq|cite|doc|ref|numref|exercise|solution|tab)[\w:-]*\}|^\s*(?:```|:::)\{"
    r"|\\(?:softmax|lse|hardmax)\b",
    re.M,
)


@pytest.fixture(scope="module")
def lab(binder, tmp_path_factory):
    """JupyterLab from the Binder environment, on 127.0.0.1, serving the notebooks branch.

    Beside the branch's chapters (what Binder opens) it serves the chapter notebook the
    website's download button offers, and the student edition's. The only settings changed
    from Binder's are display ones: every cell is rendered at once (no lazy windowing, so
    the whole notebook can be read), and no news or update check (both would ask the internet).
    """
    import urllib.request

    repo, env = binder["repo"], dict(binder["env"])
    site = ROOT / "_build" / "html" / "_sources" / "chapters" / "01-softmax.ipynb"
    student = ROOT / "_build" / "notebooks" / "student" / "chapters" / "01-softmax.ipynb"
    for source, folder in ((site, "download"), (student, "student")):
        (repo / folder).mkdir(exist_ok=True)
        shutil.copy2(source, repo / folder / source.name)
    settings = tmp_path_factory.mktemp("lab-settings")
    for plugin, value in {
        "notebook-extension/tracker": {"windowingMode": "none"},
        # No news and no update check: both ask the internet.
        "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    }.items():
        path = settings / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    env["JUPYTERLAB_SETTINGS_DIR"] = str(settings)
    token = "softmax-computed-test"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [
            str(binder["bin"] / "jupyter"),
            "lab",
            "--no-browser",
            "--allow-root",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            f"--ServerApp.token={token}",
            f"--ServerApp.root_dir={repo}",
            "--LabApp.news_url=None",
        ],
        cwd=repo,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not start within a minute")
        yield base, token
    finally:
        server.terminate()
        server.wait(timeout=30)


def open_in_lab(browser, lab, path, shot):
    """Open a notebook as Binder's urlpath does; return (page, its notebook, text, errors).

    ``reset`` starts from an empty workspace, so the notebook is the only one open.
    """
    base, token = lab
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/lab/tree/{path}?reset&token={token}")
    page.wait_for_selector(".jp-Notebook .jp-MarkdownOutput", timeout=120_000)
    notebook = page.locator(".jp-NotebookPanel:visible .jp-Notebook")
    assert notebook.count() == 1
    # Wait for MathJax to typeset everything: the count of typeset nodes stops growing.
    seen = -1
    for _ in range(60):
        page.wait_for_timeout(500)
        count = notebook.locator("mjx-container").count()
        if count == seen and count > 0:
            break
        seen = count
    text = "\n".join(notebook.locator(".jp-MarkdownOutput").all_inner_texts())
    heading = notebook.locator("h3", has_text="Exercise 1.5").first
    heading.evaluate("e => e.scrollIntoView()")
    page.wait_for_timeout(500)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / shot))
    return page, notebook, text, errors


def check_reads_like_the_book(notebook, text, errors):
    from softmax_lib import logsumexp, softmax

    assert errors == []
    assert RAW.findall(text) == []
    assert notebook.locator("mjx-merror").count() == 0, "a MathJax error"
    assert notebook.locator("mjx-container").count() > 50
    # Glued numbers, as a fresh softmax_lib computation gives them.
    z = np.array([2.0, 1.0, 0.1])
    p = softmax(z)
    for expected in (f"{p[0]:.3f}", f"{p[-1]:.3f}", f"{float(logsumexp(z)):.4f}"):
        assert expected in text
    # JupyterLab adds an anchor link (a pilcrow) to every heading.
    exercises = [h.strip(" ¶") for h in notebook.locator("h3").all_inner_texts()]
    assert [e for e in exercises if e.startswith("Exercise")] == [
        f"Exercise 1.{k}" for k in range(1, 6)
    ]
    # Equation numbers and links to the published page.
    assert "(1.1)" in text
    assert notebook.locator(
        ".jp-MarkdownOutput a[href*='chapters/01-softmax.html#equation-']"
    ).count()


@pytest.mark.binder
@pytest.mark.parametrize(
    ("path", "shot"),
    [
        ("chapters/01-softmax.ipynb", "jupyterlab-binder.png"),
        ("download/01-softmax.ipynb", "jupyterlab-download.png"),
    ],
)
def test_jupyterlab_shows_the_chapter_as_the_book_does(binder, lab, browser, path, shot):
    page, notebook, text, errors = open_in_lab(browser, lab, path, shot)
    check_reads_like_the_book(notebook, text, errors)
    # Public edition: every practice solution is there, in a collapsed section; the graded
    # exercise (Exercise 1.5) has its function to complete instead (issue 29).
    assert notebook.locator("h4", has_text="Solution to Exercise").count() == 4
    assert notebook.locator(".jp-showHiddenCellsButton").count() == 4
    assert notebook.get_by_text("Its solution is not published").count() >= 1
    assert not notebook.get_by_text("T_star = brentq").first.is_visible()
    notebook.locator(".jp-showHiddenCellsButton").first.click()
    assert notebook.get_by_text("T_star = brentq").first.is_visible()
    page.close()


@pytest.mark.binder
def test_jupyterlab_shows_the_student_notebook_without_solutions(binder, lab, browser):
    page, notebook, text, errors = open_in_lab(
        browser, lab, "student/01-softmax.ipynb", "jupyterlab-student.png"
    )
    check_reads_like_the_book(notebook, text, errors)
    assert "Solution" not in text and notebook.locator(".jp-showHiddenCellsButton").count() == 0
    assert notebook.get_by_text("brentq").count() == 0
    code = "\n".join(notebook.locator(".jp-InputArea-editor").all_inner_texts())
    assert "raise NotImplementedError()" in code and "# Your answer to Exercise 1.1" in code
    page.close()
