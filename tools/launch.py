"""Launch buttons for this book: Binder, Thebe and Colab, and the addresses they open.

A local Sphinx extension (``_config.yml``: ``sphinx.local_extensions``). It does two things.

1. **Which repository the buttons point at.** Binder, Thebe and Colab fetch the book from a
   public GitHub repository. The first of these wins:

   - ``BOOK_REPOSITORY_URL`` (``https://github.com/OWNER/NAME``), set by you;
   - ``GITHUB_REPOSITORY`` (``OWNER/NAME``), set by GitHub Actions, so a fork's published
     site points at the fork without any edit;
   - ``repository.url`` in ``_config.yml``, if you set one;
   - the ``origin`` remote of the checkout, when it is on GitHub;
   - otherwise :data:`PLACEHOLDER`, and the build says so.

2. **The Binder and Colab buttons open the page's notebook.** ``tools/pages.py`` renders a
   notebook of every executed page at build time (with the Colab setup cell of
   :func:`colab_notebook`); the GitHub workflow publishes the public notebooks, with what
   Binder needs to build the environment, to the :data:`NOTEBOOKS_BRANCH` branch
   (``python tools/publish.py branch``); both links point there.

The site's address (:func:`site_url`), which the rendered notebooks and the PDF link to, is
decided here too.
"""

from __future__ import annotations

import copy
import os
import re
import subprocess
from pathlib import Path

NOTEBOOKS_BRANCH = "notebooks"
PLACEHOLDER = "https://github.com/your-account/softmax-computed"
COLAB = "https://colab.research.google.com"
SETUP_MARKER = "softmax-computed: colab-setup"
_GITHUB = re.compile(
    r"^(?:https://github\.com/|git@github\.com:|ssh://git@github\.com/)"
    r"(?P<owner>[\w.-]+)/(?P<name>[\w.-]+?)(?:\.git)?/?$"
)


def repository_url(configured: str = "", cwd: Path | None = None) -> tuple[str, str]:
    """Return the book's GitHub repository as ``(url, source)``; see the module docstring."""
    if os.environ.get("BOOK_REPOSITORY_URL"):
        return os.environ["BOOK_REPOSITORY_URL"].rstrip("/"), "BOOK_REPOSITORY_URL"
    if os.environ.get("GITHUB_REPOSITORY"):
        server = os.environ.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
        return f"{server}/{os.environ['GITHUB_REPOSITORY']}", "GITHUB_REPOSITORY"
    if configured:
        return configured.rstrip("/"), "_config.yml"
    try:
        remote = subprocess.run(
            ["git", "remote", "get-url", "origin"],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        remote = ""
    match = _GITHUB.match(remote)
    if match:
        return f"https://github.com/{match['owner']}/{match['name']}", "origin remote"
    return PLACEHOLDER, "placeholder"


def owner_and_name(url: str) -> tuple[str, str]:
    """Split ``https://github.com/OWNER/NAME`` into ``(OWNER, NAME)``."""
    owner, name = url.rstrip("/").split("/")[-2:]
    return owner, name


def colab_url(repo_url: str, pagename: str) -> str:
    """Colab's address for the generated notebook of `pagename` on the notebooks branch."""
    owner, name = owner_and_name(repo_url)
    return f"{COLAB}/github/{owner}/{name}/blob/{NOTEBOOKS_BRANCH}/{pagename}.ipynb"


def binder_url(repo_url: str, pagename: str, binderhub: str = "https://mybinder.org") -> str:
    """Binder's address for the rendered notebook of `pagename` on the notebooks branch."""
    owner, name = owner_and_name(repo_url)
    return (
        f"{binderhub.rstrip('/')}/v2/gh/{owner}/{name}/{NOTEBOOKS_BRANCH}"
        f"?urlpath=lab/tree/{pagename}.ipynb"
    )


def site_url(repo_url: str) -> str:
    """Return the published site: ``BOOK_SITE_URL``, else the repository's GitHub Pages."""
    if os.environ.get("BOOK_SITE_URL"):
        return os.environ["BOOK_SITE_URL"].rstrip("/")
    owner, name = owner_and_name(repo_url)
    return f"https://{owner.lower()}.github.io/{name}"


def setup_cell_source(repo_url: str, branch: str, myst_nb_version: str) -> str:
    """Return the setup cell of every generated notebook: it installs what Colab lacks."""
    return (
        f"# {SETUP_MARKER}\n"
        "# In Google Colab, install the book's library and MyST-NB (for `glue`) first.\n"
        "# Colab brings its own NumPy, SciPy, SymPy, PyTorch, TensorFlow and JAX; the book was\n"
        "# built with the versions listed on its versions page. Elsewhere this cell does nothing.\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        f'    %pip install --quiet "softmax_lib @ git+{repo_url}@{branch}" '
        f'"myst-nb=={myst_nb_version}"\n'
    )


def colab_notebook(executed: dict, repo_url: str, branch: str, myst_nb_version: str) -> dict:
    """Return a copy of an executed notebook with the setup cell after its title cell."""
    nb = copy.deepcopy(executed)
    cell = {
        "cell_type": "code",
        "execution_count": None,
        "id": "colab-setup",
        "metadata": {"tags": ["colab-setup"], "id": "colab-setup"},
        "outputs": [],
        "source": setup_cell_source(repo_url, branch, myst_nb_version),
    }
    cells = nb["cells"]
    first = cells[0] if cells else None
    at = 1 if first and first["cell_type"] == "markdown" else 0
    cells.insert(at, cell)
    nb["nbformat_minor"] = max(nb.get("nbformat_minor", 0), 5)  # cell ids
    nb.setdefault("metadata", {}).setdefault("colab", {}).setdefault("provenance", [])
    return nb


# --------------------------------------------------------------------------- Sphinx hooks


def _configure(app, config):
    # No stored colour mode on a first visit: without a default the theme logs
    # "Got invalid theme mode" on every page. "auto" follows the reader's system setting.
    config.html_context.setdefault("default_mode", "auto")
    options = config.html_theme_options
    url, source = repository_url(options.get("repository_url", ""), cwd=Path(app.srcdir))
    options["repository_url"] = url
    options.setdefault("repository_branch", "main")
    options["use_repository_button"] = config.launch_repository_button
    message = f"launch buttons point at {url} (from {source})"
    if source == "placeholder":
        message += "; set BOOK_REPOSITORY_URL to your GitHub repository to make them work"
    print(f"[launch] {message}")
    site = site_url(url)
    message = f"the rendered notebooks (downloads, Binder, Colab, assignments) link to {site}"
    if site_is_placeholder(url):
        message += (
            ", a placeholder: set BOOK_SITE_URL to the address where your readers find the"
            " book (or BOOK_REPOSITORY_URL, for its GitHub Pages) before you hand them out"
        )
    print(f"[launch] {message}")


def site_is_placeholder(repo_url: str) -> bool:
    """Whether the notebooks' links lead nowhere: no BOOK_SITE_URL and a placeholder repository."""
    return not os.environ.get("BOOK_SITE_URL") and repo_url == PLACEHOLDER


def _buttons(app, pagename, templatename, context, doctree):
    """Point the page's Binder and Colab buttons at its notebook on the notebooks branch."""
    options = app.config.html_theme_options
    url = options["repository_url"]
    buttons = context.get("header_buttons", [])
    launch = next((b for b in buttons if b.get("label") == "launch-buttons"), None)
    for button in launch["buttons"] if launch else []:
        if button.get("text") == "Colab":
            button["url"] = colab_url(url, pagename)
        if button.get("text") == "Binder":
            hub = options.get("launch_buttons", {}).get("binderhub_url") or "https://mybinder.org"
            button["url"] = binder_url(url, pagename, hub)


def setup(app):
    """Register the extension with Sphinx."""
    # The student edition turns this off: the repository holds the solutions.
    app.add_config_value("launch_repository_button", True, "html")
    app.connect("config-inited", _configure)
    # After sphinx-book-theme's launch buttons (priority 501).
    app.connect("html-page-context", _buttons, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
