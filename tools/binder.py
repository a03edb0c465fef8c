"""Binder's environment, installed the way repo2docker installs it.

For a ``binder/`` directory with a ``runtime.txt`` naming Python 3 and a ``requirements.txt``,
repo2docker (the builder behind mybinder.org) creates a Python environment and runs, from the
repository's root,

    pip install --no-cache-dir -r binder/requirements.txt

then ``binder/postBuild``. :func:`install` does the same in a clean virtual environment, from
the notebooks branch without its notebooks (``tools/publish.py``: what the install reads; the
notebooks are added afterwards, and pip never looks at them: ``pyproject.toml`` names its one
package). ``tests/book/test_binder.py`` runs a chapter and JupyterLab there.

It takes minutes and needs only the sources, so CI starts it first, beside the book's own
environment (``make binder-env``, into ``_build/binder``); the test reuses that installation
when its fingerprint, a hash of every file the install read, still matches the sources, and
installs afresh otherwise.

    python -m tools.binder install DIR
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tools import publish

ROOT = Path(__file__).resolve().parents[1]
INSTALLED = "installed"  # in DIR: the fingerprint, written when the install has succeeded


def fingerprint() -> str:
    """Hash what the install reads: the branch's files and the library's sources."""
    digest = hashlib.sha256()
    files = [ROOT / name for name in publish.BRANCH_FILES]
    files += sorted(
        p for p in (ROOT / "softmax_lib").rglob("*") if p.is_file() and "__pycache__" not in p.parts
    )
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def environment(base: Path) -> dict:
    """Return the variables of a command run in the installed environment."""
    # Absolute: the commands run from the branch's root, where a relative PATH entry would
    # miss the venv's pip and fall through to the interpreter's own (which then installs).
    base = Path(base).resolve()
    bin_dir = base / "venv" / "bin"
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(base / "home"),
        "VIRTUAL_ENV": str(base / "venv"),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        # Offline machines (CI) have no route to download.pytorch.org: fail each lookup at
        # once instead of retrying it five times. On Binder the index answers.
        "PIP_RETRIES": "0",
        "PIP_TIMEOUT": "10",
    }
    env.pop("PYTHONPATH", None)
    return env


def run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run a command; raise with the end of its output if it fails."""
    result = subprocess.run(args, capture_output=True, text=True, check=False, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{args} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result


def install(base: Path) -> None:
    """Install Binder's environment in `base`: ``repo`` (the branch), ``venv``, ``home``."""
    base = Path(base).resolve()
    if base.exists():
        shutil.rmtree(base)
    repo, home = base / "repo", base / "home"
    home.mkdir(parents=True)
    publish.write_environment(repo)
    run([sys.executable, "-m", "venv", str(base / "venv")])
    env = environment(base)
    # repo2docker's assemble step, verbatim, from the repository root.
    run(["pip", "install", "--no-cache-dir", "-r", "binder/requirements.txt"], cwd=repo, env=env)
    run([str(repo / "binder" / "postBuild")], cwd=repo, env=env)
    (base / INSTALLED).write_text(fingerprint())


def installed(base: Path) -> bool:
    """Whether `base` holds a finished install of the sources as they are now."""
    stamp = Path(base) / INSTALLED
    return stamp.exists() and stamp.read_text() == fingerprint()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "install":
        install(Path(sys.argv[2]))
        print(f"Binder's environment installed in {sys.argv[2]}")
    else:
        print("usage: python -m tools.binder install DIR")
        sys.exit(2)
