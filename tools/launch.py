"""Launch buttons for this book: Binder, Thebe and Colab, and the notebook behind each page.

A local Sphinx extension (``_config.yml``: ``sphinx.local_extensions``). It does three things.

1. **Which repository the buttons point at.** Binder, Thebe and Colab fetch the book from a
   public GitHub repository. The first of these wins:

   - ``BOOK_REPOSITORY_URL`` (``https://github.com/OWNER/NAME``), set by you;
   - ``GITHUB_REPOSITORY`` (``OWNER/NAME``), set by GitHub Actions, so a fork's published
     site points at the fork without any edit;
   - ``repository.url`` in ``_config.yml``, if you set one;
   - the ``origin`` remote of the checkout, when it is on GitHub;
   - otherwise :data:`PLACEHOLDER`, and the build says so.

2. **Notebooks per page, generated at build time.** A plain Jupyter front end cannot show
   MyST, so every executed page is rendered by ``tools/notebooks.py`` into notebooks that read
   like the page (glued numbers as text, numbered exercises, links, expanded macros), with the
   outputs of the build. They go to ``_build/notebooks/<edition>/`` for the four editions
   (``teacher``; ``public``, the same without the graded exercises' solutions; ``student``;
   and ``assignment``, the nbgrader source of the numbered chapters), and the site's own
   edition (``public``) goes to ``_build/html/_sources/`` for the download button. The
   notebooks for readers get one setup cell after the title: in Colab it installs
   ``softmax_lib`` from the repository and MyST-NB (for ``glue``); anywhere else it does
   nothing.

3. **The Binder and Colab buttons open those notebooks.** The GitHub workflow publishes the
   public notebooks, with what Binder needs to build the environment, to the
   :data:`NOTEBOOKS_BRANCH` branch (``python tools/notebooks.py branch``); both links point there.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import ClassVar
from urllib.parse import urljoin

if not __package__:  # run as a script (python tools/x.py): make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tools import notebooks

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


class SphinxResolver(notebooks.Resolver):
    """Numbers, links and glue data of one page, from the Sphinx build."""

    _ROLES: ClassVar[dict[str, tuple[str, str]]] = {
        "eq": ("math", "eq"),
        "ref": ("std", "ref"),
        "doc": ("std", "doc"),
        "numref": ("std", "numref"),
        "cite": ("cite", "p"),
        "cite:p": ("cite", "p"),
        "cite:t": ("cite", "t"),
        "cite:ps": ("cite", "ps"),
        "cite:ts": ("cite", "ts"),
    }

    def __init__(self, app, docname: str, glue: dict, site: str):
        self.app, self.docname, self._glue, self.site = app, docname, glue, site

    def glue(self, key):
        """Return the MIME bundle glued under `key` on this page."""
        if key not in self._glue:
            raise notebooks.UnsupportedMyST(f"{self.docname}: no glued value {key!r}")
        return self._glue[key]["data"]

    def number(self, kind, label):
        """Return the number Sphinx gave an exercise, figure or equation, such as ``1.2``."""
        figures = self.app.env.toc_fignumbers.get(self.docname, {})
        if kind == "equation":
            numbers = figures.get("displaymath", {}).get(f"equation-{label}")
        else:
            numbers = figures.get(kind, {}).get(label)
        if not numbers:
            raise notebooks.UnsupportedMyST(f"{self.docname}: no number for {kind} {label!r}")
        return ".".join(map(str, numbers))

    def xref(self, role, target, title=None):
        """Return a reference as Markdown links to the published pages."""
        from docutils import nodes
        from sphinx import addnodes

        domain_name, typ = self._ROLES[role]
        node = addnodes.pending_xref(
            "",
            refdomain=domain_name,
            reftype=typ,
            reftarget=target,
            refexplicit=bool(title),
            refwarn=True,
            refdoc=self.docname,
        )
        contnode = nodes.inline(target, target)
        env = self.app.env
        domain = env.get_domain(domain_name)
        builder = self.app.builder
        result = domain.resolve_xref(env, self.docname, builder, typ, target, node, contnode)
        if result is None:
            raise notebooks.UnsupportedMyST(f"{self.docname}: cannot resolve {{{role}}}`{target}`")
        page = f"{self.site}/{self.docname}.html"

        def markdown(n):
            if isinstance(n, nodes.reference):
                uri = urljoin(page, n.get("refuri") or "#" + n.get("refid", ""))
                return f"[{notebooks.escape(title or n.astext())}]({uri})"
            if isinstance(n, nodes.Text):
                return notebooks.escape(str(n))
            return "".join(markdown(child) for child in n.children)

        return markdown(result)


def _macros(config) -> dict:
    return dict(config.mathjax3_config.get("tex", {}).get("macros", {}))


def _cell_config(config) -> dict:
    """MyST-NB's options for code cells as the book sets them (``nb_output_stderr``, ...)."""
    return {name: getattr(config, f"nb_{name}") for name in notebooks.CELL_CONFIG_DEFAULTS}


def _unique_assets(context) -> None:
    """Drop repeated scripts and stylesheets from a page: one of each file, one of each body.

    Some extensions' assets reach every page twice (sphinx-thebe's inline configuration, whose
    second ``const THEBE_JS_URL`` is a JavaScript error on every page load, and this
    extension's own files, once with their attributes and once without). The first of each
    is kept.
    """
    for name in ("script_files", "css_files"):
        assets = context.get(name)
        if not assets:
            continue
        seen, unique = set(), []
        for asset in assets:
            filename = str(getattr(asset, "filename", asset) or "")
            # An inline script has no filename (None or "", depending on who added it).
            key = filename or getattr(asset, "attributes", {}).get("body", "")
            if key not in seen:
                seen.add(key)
                unique.append(asset)
        assets[:] = unique  # in place: the list may be shared with the builder


def _last_on_page(app, pagename, templatename, context, doctree):
    _plotly_script(context)
    _mathjax_only_with_math(context)
    _unique_assets(context)


def _cache_path(app) -> Path:
    configured = getattr(app.config, "nb_execution_cache_path", "") or ""
    return Path(configured) if configured else Path(app.outdir).parent / ".jupyter_cache"


def with_cached_outputs(notebook: dict, cache_path: Path) -> dict:
    """Return `notebook` with its outputs, taken from the execution cache if it has none.

    MyST-NB (1.4.0) writes ``_build/jupyter_execute/<page>.ipynb`` without outputs when a
    page's outputs came from the jupyter-cache rather than from executing it (it writes the
    notebook it read, not the merged one), so a rebuild that reuses the cache would render
    notebooks without outputs. Remove this when MyST-NB writes the merged notebook.
    """
    code = [c for c in notebook.get("cells", []) if c.get("cell_type") == "code"]
    if not code or any(c.get("outputs") for c in code) or not cache_path.is_dir():
        return notebook
    import nbformat
    from jupyter_cache import get_cache

    node = nbformat.reads(json.dumps(notebook), as_version=4)
    try:
        _, merged = get_cache(str(cache_path)).merge_match_into_notebook(node)
    except KeyError:  # not in the cache: the page was executed, and had no outputs
        return notebook
    return json.loads(nbformat.writes(merged))


def _page(app, pagename, templatename, context, doctree):
    options = app.config.html_theme_options
    url, branch = options["repository_url"], options["repository_branch"]
    buttons = context.get("header_buttons", [])
    launch = next((b for b in buttons if b.get("label") == "launch-buttons"), None)
    for button in launch["buttons"] if launch else []:
        if button.get("text") == "Colab":
            button["url"] = colab_url(url, pagename)
        if button.get("text") == "Binder":
            hub = options.get("launch_buttons", {}).get("binderhub_url") or "https://mybinder.org"
            button["url"] = binder_url(url, pagename, hub)

    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if not executed.exists():
        return
    import myst_nb

    glue_file = executed.with_suffix(".glue.json")
    glue = json.loads(glue_file.read_text()) if glue_file.exists() else {}
    source = with_cached_outputs(json.loads(executed.read_text()), _cache_path(app))
    for key in ("jupytext", "source_map"):
        source.get("metadata", {}).pop(key, None)
    site = site_url(url)
    resolver = SphinxResolver(app, pagename, glue, site)
    editions = ["teacher", "public", "student"]
    if re.match(r"chapters/\d\d-", pagename):  # the numbered chapters
        editions.append("assignment")
    out = Path(app.outdir).parent / "notebooks"
    for edition in editions:
        opts = notebooks.Options(
            edition=edition,
            macros=_macros(app.config),
            site_url=site,
            site_placeholder=site_is_placeholder(url),
            cell_config=_cell_config(app.config),
        )
        nb = notebooks.render(source, resolver, opts)
        if edition != "assignment":
            nb = colab_notebook(nb, url, branch, myst_nb.__version__)
        text = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
        target = out / edition / f"{pagename}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        if edition == app.config.launch_notebook_edition:
            download = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
            download.parent.mkdir(parents=True, exist_ok=True)
            download.write_text(text)


# Plotly.js's "basic" partial bundle (bar, scatter and pie traces, every component: sliders
# included), vendored in _static/plotly/ (VENDOR.txt: version, source, checksum). It is the
# version the installed plotly package expects (tests/book/test_plotly_bundle.py checks both).
PLOTLY_JS = "plotly/plotly-basic.min.js"


def _plotly_script(context) -> None:
    """Load Plotly on the pages that hold an interactive figure, from the site itself.

    The figures (softmax_lib.interactive) draw themselves as soon as ``Plotly`` is there. The
    script loads ``async``: it never holds up the page's text (issue 31: the full plotly.min.js,
    1.5 MB compressed, loaded synchronously before the text), and only on those pages.
    """
    # Jupyter Book adds every .js file under _static/ to every page, as a blocking script.
    scripts = context.get("script_files")
    if scripts:
        scripts[:] = [s for s in scripts if PLOTLY_JS not in str(getattr(s, "filename", s))]
    body = context.get("body", "")
    if 'class="interactive-figure"' in body:
        src = context["pathto"](f"_static/{PLOTLY_JS}", 1)
        context["body"] = f'<script async src="{src}"></script>\n{body}'


_MATH_MARKERS = ('class="math', "\\(", "\\[", "$$")


def _mathjax_only_with_math(context) -> None:
    """Load MathJax only on pages that have math (issue 31: the front page had none).

    MyST-NB asks Sphinx to put MathJax (its script, 264 kB compressed, then its fonts) on every
    page; a page whose body has no math node and no TeX delimiter does not need it.
    """
    body = context.get("body", "")
    if any(marker in body for marker in _MATH_MARKERS):
        return
    scripts = context.get("script_files")
    if not scripts:
        return
    scripts[:] = [
        s
        for s in scripts
        if "mathjax" not in str(getattr(s, "filename", s) or "").lower()
        and "window.MathJax" not in getattr(s, "attributes", {}).get("body", "")
    ]


_FONTAWESOME_STUB = """\
// pydata-sphinx-theme 0.17.1 loads Font Awesome's JavaScript (1.5 MB, 543 kB compressed)
// on every page, only to redraw as SVG the icons that its CSS already draws with Font Awesome's
// web fonts ("so that users can add custom icons": this book adds none). tools/launch.py
// serves this note in its place (issue 31: a phone's first visit). Remove it when the theme
// loads the script only where a custom icon needs it.
"""


def _no_fontawesome_js(app, exception):
    """Replace the theme's fontawesome.js in the built site by a note (see its text)."""
    if exception or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / "scripts" / "fontawesome.js"
    if target.exists():
        target.write_text(_FONTAWESOME_STUB)


def _favicon_ico(app, exception):
    """Write /favicon.ico, drawn like ``_static/favicon.svg``.

    Browsers ask for /favicon.ico on a page without an icon link, such as Jupyter Book's
    redirect page (index.html); without the file, every visit to the site's root logs a 404.
    """
    target = Path(app.outdir) / "favicon.ico"
    if exception or app.builder.format != "html" or target.exists():
        return
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, 63, 63), radius=12, fill="#1f4e79")
    # The SVG's curve: a cubic Bezier from (8, 50) to (40, 14), then a line to (56, 14).
    points = []
    for i in range(21):
        t = i / 20
        x = (1 - t) ** 3 * 8 + 3 * (1 - t) ** 2 * t * 24 + 3 * (1 - t) * t**2 * 24 + t**3 * 40
        y = (1 - t) ** 3 * 50 + 3 * (1 - t) ** 2 * t * 50 + 3 * (1 - t) * t**2 * 14 + t**3 * 14
        points.append((x, y))
    draw.line([*points, (56, 14)], fill="white", width=6, joint="curve")
    image.save(target, sizes=[(16, 16), (32, 32), (48, 48)])


def setup(app):
    """Register the extension with Sphinx."""
    # The student edition turns this off: the repository holds the solutions.
    app.add_config_value("launch_repository_button", True, "html")
    # The edition of the notebook the download button offers (the student edition: student).
    app.add_config_value("launch_notebook_edition", "public", "html")
    app.connect("config-inited", _configure)
    # Local fixes for the theme pair (sidebar buttons, wide equations), in _static/.
    app.add_css_file("softmax-book.css")
    app.add_js_file("softmax-book.js", defer="defer")
    # After sphinx-book-theme's launch and download buttons (priority 501).
    app.connect("html-page-context", _page, priority=600)
    # After every other extension has added its scripts to the page.
    app.connect("html-page-context", _last_on_page, priority=1000)
    app.connect("build-finished", _favicon_ico)
    app.connect("build-finished", _no_fontawesome_js)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
