"""Publish the rendered notebooks: the notebooks branch that Binder and Colab open.

The launch buttons (``tools/launch.py``) point Binder and Colab at the notebooks branch. The
GitHub workflow assembles it from a build with ``python tools/publish.py branch DIR COMMIT``
(the public notebooks that ``tools/pages.py`` renders, plus what Binder needs to build the
book's environment) and pushes it.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# What Binder needs beside the notebooks to build the book's environment (repo2docker reads
# binder/, whose requirements name ../requirements.txt, ../constraints.txt and -e .).
BRANCH_FILES = [
    "binder/requirements.txt",
    "binder/runtime.txt",
    "binder/postBuild",
    "requirements.txt",
    "constraints.txt",
    "pyproject.toml",
]

BRANCH_README = """# Softmax, computed: the chapters as notebooks

Generated from `{commit}` of the book's main branch; do not edit here. `chapters/` holds every
page of the book as a Jupyter notebook that reads like the website (glued numbers, numbered
exercises, collapsed solutions of the practice exercises, links to the published pages), with
the outputs of the build. A graded exercise has its function to complete, not its solution.
Binder and Colab open these; `binder/` describes the environment they run in.
"""


def write_branch(out: Path, built: Path | None = None, commit: str = "") -> None:
    """Assemble the notebooks branch in `out`: the public notebooks plus what Binder needs."""
    out = Path(out)
    built = Path(built) if built else ROOT / "_build" / "notebooks" / "public"
    if not list(built.glob("chapters/*.ipynb")):
        raise FileNotFoundError(f"no rendered notebooks in {built}: run make book first")
    if out.exists():
        shutil.rmtree(out)
    write_environment(out, commit)
    add_notebooks(out, built)


def write_environment(out: Path, commit: str = "") -> None:
    """Write the branch without its notebooks: what Binder installs from (files, library)."""
    out = Path(out)
    for name in BRANCH_FILES:
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, out / name)
    shutil.copytree(
        ROOT / "softmax_lib", out / "softmax_lib", ignore=shutil.ignore_patterns("__pycache__")
    )
    (out / "README.md").write_text(BRANCH_README.format(commit=commit or "a local build"))


def add_notebooks(out: Path, built: Path | None = None) -> None:
    """Put the rendered notebooks (``chapters/``, ``intro.ipynb``) into the branch in `out`."""
    built = Path(built) if built else ROOT / "_build" / "notebooks" / "public"
    if not list(built.glob("chapters/*.ipynb")):
        raise FileNotFoundError(f"no rendered notebooks in {built}: run make book first")
    shutil.copytree(built, out, dirs_exist_ok=True)


if __name__ == "__main__":
    if len(sys.argv) in (3, 4) and sys.argv[1] == "branch":
        write_branch(sys.argv[2], commit=sys.argv[3] if len(sys.argv) == 4 else "")
        print(f"notebooks branch assembled in {sys.argv[2]}")
    else:
        print("usage: python tools/publish.py branch OUT_DIR [COMMIT]")
        sys.exit(2)
