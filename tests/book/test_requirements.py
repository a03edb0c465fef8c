"""The readers' and students' requirements, resolved for every system they may run.

``requirements-student.txt`` is what the README's "Run the chapters on your own computer"
and the students' bundle of ``make assignments`` install: the chapters' packages, JupyterLab
and nbgrader, on Linux, macOS and Windows with Python 3.11 to 3.13. Nobody here has a Mac or
a Windows machine, so uv resolves the file for each of them: ``uv pip compile
--python-platform ... --python-version ...`` applies the target's environment markers and
wheel tags (pip's ``--platform`` does not apply markers), and ``--no-build`` accepts only
wheels, since a student has no compiler. Apple-silicon Macs are resolved for macOS 14, the
oldest macOS PyTorch 2.13 has wheels for (the README says so).

PyTorch's CPU index (the file's ``--extra-index-url``) is out of reach from this project's CI,
which reaches PyPI only: the resolutions use PyPI alone, where Linux's torch is the CUDA
build, so on Linux the test checks that torch is the only package that brings CUDA (the CPU
index replaces it for students), and a separate test resolves Linux with PyTorch's index
where that index answers.

These tests need uv (requirements-dev.txt) and PyPI; under ``CI=true`` either missing is a
failure, elsewhere a loud skip. The twelve resolutions run in parallel, from uv's cache.
"""

import os
import re
import subprocess
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from helpers import unavailable

ROOT = Path(__file__).resolve().parents[2]
STUDENT = ROOT / "requirements-student.txt"
CPU_INDEX = "--extra-index-url https://download.pytorch.org/whl/cpu"
PLATFORMS = {
    "linux": "x86_64-unknown-linux-gnu",
    "macos-arm64": "aarch64-apple-darwin",
    "macos-x86_64": "x86_64-apple-darwin",
    "windows": "x86_64-pc-windows-msvc",
}
PYTHONS = ("3.11", "3.12", "3.13")
TARGETS = [(system, python) for system in PLATFORMS for python in PYTHONS]
# No current wheels for Intel Macs: the file's markers leave these (and TensorFlow) out there.
FRAMEWORKS = ("torch", "jax", "jaxlib", "optax", "numba", "keras", "ml-dtypes")
# What builds the book, never what a reader needs to run it.
BUILD_STACK = ("jupyter-book", "sphinx-", "playwright", "pytest", "hypothesis", "ruff", "uv")
CUDA = re.compile(r"^(nvidia-|cuda-|triton$)")


def uv_binary() -> str:
    try:
        from uv import find_uv_bin
    except ImportError:
        unavailable("uv is not installed (pip install -r requirements-dev.txt)")
    return find_uv_bin()


def reachable(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=10):
            return True
    except OSError:
        return False


def compile_for(uv: str, requirements: Path, system: str, python: str, *extra: str):
    """Resolve `requirements` for one system and Python version; the CompletedProcess."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("UV_")}
    env["MACOSX_DEPLOYMENT_TARGET"] = "14.0"  # read by uv for the macOS targets only
    # --no-python-downloads: the target Python need not be installed, only its version counts.
    command = [uv, "pip", "compile", "--quiet", "--no-config", "--no-build", "--no-header"]
    command += ["--no-python-downloads", "--python-platform", PLATFORMS[system]]
    command += ["--python-version", python, *extra, str(requirements)]
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )


def resolved(output: str) -> dict[str, str]:
    """Package name -> version, from uv's output."""
    found = {}
    for line in output.splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", line)
        if match:
            found[re.sub(r"[-_.]+", "-", match[1]).lower()] = match[2]
    return found


def parents(output: str) -> dict[str, set[str]]:
    """Package name -> the packages that require it, from uv's ``# via`` annotations."""
    via, current, listing = {}, None, False
    for line in output.splitlines():
        if re.match(r"^[A-Za-z0-9]", line):
            current = re.sub(r"[-_.]+", "-", line.split("==")[0].split(" ")[0]).lower()
            via[current], listing = set(), False
        elif current and (match := re.match(r"^\s+# via(?: (.+))?$", line)):
            listing = match[1] is None
            if match[1]:
                via[current].add(match[1].strip())
        elif current and listing and (match := re.match(r"^\s+#\s+(\S+)", line)):
            via[current].add(match[1])
    return {name: {re.sub(r"[-_.]+", "-", p).lower() for p in ps} for name, ps in via.items()}


def without_pytorch_index(tmp_path: Path) -> Path:
    """The student file for PyPI alone, the library by its absolute path."""
    text = STUDENT.read_text(encoding="utf-8")
    assert CPU_INDEX in text.splitlines()
    text = text.replace(CPU_INDEX, "").replace("\n-e .\n", f"\n-e {ROOT}\n")
    copy = tmp_path / "requirements-student.txt"
    copy.write_text(text, encoding="utf-8")
    return copy


@pytest.fixture(scope="module")
def resolutions(tmp_path_factory):
    """The twelve resolutions (system, python) -> CompletedProcess, six at a time.

    Each is mostly waiting on PyPI (uv revalidates its cached index pages); six at once took
    15 s here, twelve at once longer (they revalidate the same pages).
    """
    uv = uv_binary()
    if not reachable("https://pypi.org/simple/uv/"):
        unavailable("no network connection to PyPI (https://pypi.org)")
    requirements = without_pytorch_index(tmp_path_factory.mktemp("requirements"))
    with ThreadPoolExecutor(max_workers=6) as pool:
        runs = pool.map(lambda t: compile_for(uv, requirements, *t), TARGETS)
        return dict(zip(TARGETS, runs, strict=True))


@pytest.mark.parametrize(("system", "python"), TARGETS, ids=[f"{s}-py{p}" for s, p in TARGETS])
def test_student_requirements_resolve_on_every_system(resolutions, system, python):
    result = resolutions[system, python]
    assert result.returncode == 0, (
        f"requirements-student.txt does not resolve for {system}, Python {python}:\n"
        f"{result.stderr[-3000:]}"
    )
    packages, book = resolved(result.stdout), book_pins()
    intel_mac = system == "macos-x86_64"
    for name in ("numpy", "scipy", "sympy", "mpmath", "matplotlib", "plotly", "jupyterlab"):
        assert packages.get(name) == book[name], (name, packages.get(name))
    assert packages.get("nbgrader") == book["nbgrader"]
    assert f"-e {ROOT}" in result.stdout.splitlines()  # softmax_lib
    for name in FRAMEWORKS:
        assert packages.get(name) == (None if intel_mac else book[name]), name
    tensorflow = {name: packages.get(name) for name in ("tensorflow", "tensorflow-cpu")}
    if intel_mac:
        assert tensorflow == {"tensorflow": None, "tensorflow-cpu": None}
    elif system == "macos-arm64":  # tensorflow-cpu has no macOS wheels
        assert tensorflow == {"tensorflow": book["tensorflow-cpu"], "tensorflow-cpu": None}
    else:
        assert tensorflow == {"tensorflow": None, "tensorflow-cpu": book["tensorflow-cpu"]}
    assert not [name for name in packages if name.startswith(BUILD_STACK)]
    cuda = sorted(name for name in packages if CUDA.match(name))
    if system == "linux":
        # PyPI's Linux torch is the CUDA build; the file takes torch from PyTorch's CPU index
        # instead. Nothing else may bring CUDA (tensorflow[and-cuda], jax[cuda], ...).
        via = parents(result.stdout)
        assert "torch" in packages
        for name in cuda:
            assert via[name] and via[name] <= {"torch", *cuda}, (name, via[name])
    else:
        assert not cuda, f"{system}: CUDA packages {cuda}"


def book_pins() -> dict[str, str]:
    """Name -> version of every pin of the book (constraints.txt, requirements*.txt)."""
    pins = {}
    for name in ("constraints.txt", "requirements.txt", "requirements-dev.txt"):
        pins.update(resolved((ROOT / name).read_text(encoding="utf-8")))
    return pins


def student_pins() -> dict[str, str]:
    return resolved(STUDENT.read_text(encoding="utf-8"))


def test_student_requirements_hold_the_books_versions_without_its_build_stack():
    book, student = book_pins(), student_pins()
    # tensorflow on macOS is tensorflow-cpu's version; the rest are the book's pins.
    for name, version in student.items():
        assert version == book.get(name, book.get(f"{name}-cpu")), (name, version)
    for name in ("torch", "tensorflow-cpu", "jax", "numba", "jupyterlab", "nbgrader", "myst-nb"):
        assert name in student, name
    assert not [name for name in student if name.startswith(BUILD_STACK)]
    lines = STUDENT.read_text(encoding="utf-8").splitlines()
    assert CPU_INDEX in lines  # torch without CUDA on Linux
    assert "-e ." in lines  # softmax_lib, from the folder it is installed from
    assert not any(line.startswith(("-c", "-r")) for line in lines)  # Linux-only pins


def test_student_requirements_provide_every_chapter_import():
    from test_binder import imported_modules

    student = set(student_pins())
    provided = {
        "softmax_lib": "-e .",
        "IPython": "ipykernel",
        "tensorflow": "tensorflow-cpu",
        "keras": "tensorflow-cpu",  # Keras 3 comes with TensorFlow
        "sklearn": "scikit-learn",
        "myst_nb": "myst-nb",
    }
    for module in imported_modules():
        if module in sys.stdlib_module_names:
            continue
        package = provided.get(module, module.lower().replace("_", "-"))
        assert package == "-e ." or package in student, f"chapters import {module}"


def test_linux_torch_is_the_cpu_build_from_pytorchs_index(tmp_path):
    uv = uv_binary()
    if not reachable("https://download.pytorch.org/whl/cpu/torch/"):
        # This project's CI reaches PyPI only; GitHub's runners reach this index too.
        pytest.skip("SKIPPED, NOT PASSED: download.pytorch.org is out of reach from here")
    copy = tmp_path / "requirements-student.txt"
    copy.write_text(STUDENT.read_text().replace("\n-e .\n", f"\n-e {ROOT}\n"))
    # pip takes the best version from all indexes; uv's default takes the first index's.
    result = compile_for(uv, copy, "linux", "3.11", "--index-strategy", "unsafe-best-match")
    assert result.returncode == 0, result.stderr[-3000:]
    packages = resolved(result.stdout)
    assert packages["torch"] == f"{book_pins()['torch']}+cpu"
    assert not [name for name in packages if CUDA.match(name)]


def test_student_bundle_installs_the_student_requirements(tmp_path):
    from tools import course

    course._environment(tmp_path)
    assert (tmp_path / "requirements.txt").read_text() == STUDENT.read_text()
    assert not (tmp_path / "constraints.txt").exists()  # Linux's pins would break macOS
    assert (tmp_path / "softmax_lib" / "__init__.py").exists()
    assert (tmp_path / "pyproject.toml").exists()  # for -e .


@pytest.mark.parametrize("readme", ["student", "top-level"])
def test_readmes_give_the_commands_for_each_system(readme):
    from tools import course

    if readme == "student":
        text, file = course.STUDENT_README, "requirements.txt"
    else:
        text, file = (ROOT / "README.md").read_text(), "requirements-student.txt"
    for command in (
        "python3.11 -m venv .venv",
        f".venv/bin/python -m pip install -r {file}",
        "py -3.11 -m venv .venv",
        f".venv\\Scripts\\python -m pip install -r {file}",
        ".venv\\Scripts\\python -m jupyter lab",
        ".venv/bin/python -m jupyter lab",
    ):
        assert command in text, command
    assert "macOS 14" in text and "Intel" in text
