"""The notebook behind each page: every executed page rendered for download, Binder and Colab.

A local Sphinx extension (``_config.yml``: ``sphinx.local_extensions``). A plain Jupyter
front end cannot show MyST, so every executed page is rendered by ``tools/notebooks.py`` into
notebooks that read like the page (glued numbers as text, numbered exercises, links, expanded
macros), with the outputs of the build. They go to ``_build/notebooks/<edition>/`` for the
four editions (``teacher``; ``public``, the same without the graded exercises' solutions;
``student``; and ``assignment``, the nbgrader source of the numbered chapters), and the site's
own edition (``public``; ``launch_notebook_edition``) goes to ``_build/html/_sources/`` for
the download button. The notebooks for readers get one setup cell after the title
(:func:`tools.launch.colab_notebook`): in Colab it installs ``softmax_lib`` from the
repository and MyST-NB (for ``glue``); anywhere else it does nothing.

The Binder and Colab buttons (``tools/launch.py``) open the public notebooks on the notebooks
branch, which ``python tools/publish.py branch`` assembles.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import ClassVar
from urllib.parse import urljoin

if not __package__:  # run as a script (python tools/x.py): make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tools import launch, notebooks


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
    if not app.config.pages_render_notebooks:
        return
    options = app.config.html_theme_options
    url, branch = options["repository_url"], options["repository_branch"]
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if not executed.exists():
        return
    import myst_nb

    glue_file = executed.with_suffix(".glue.json")
    glue = json.loads(glue_file.read_text()) if glue_file.exists() else {}
    source = with_cached_outputs(json.loads(executed.read_text()), _cache_path(app))
    for key in ("jupytext", "source_map"):
        source.get("metadata", {}).pop(key, None)
    site = launch.site_url(url)
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
            site_placeholder=launch.site_is_placeholder(url),
            cell_config=_cell_config(app.config),
        )
        nb = notebooks.render(source, resolver, opts)
        if edition != "assignment":
            nb = launch.colab_notebook(nb, url, branch, myst_nb.__version__)
        text = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
        target = out / edition / f"{pagename}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        if edition == app.config.launch_notebook_edition:
            download = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
            download.parent.mkdir(parents=True, exist_ok=True)
            download.write_text(text)


def setup(app):
    """Register the extension with Sphinx."""
    # The edition of the notebook the download button offers (the student edition: student).
    app.add_config_value("launch_notebook_edition", "public", "html")
    # Off in the Chinese edition's build: its notebooks would be the English build's (the
    # notebooks are not translated), which tools/locales.py copies instead.
    app.add_config_value("pages_render_notebooks", True, "html")
    # After sphinx-book-theme's download button (priority 501) and tools.launch's buttons.
    app.connect("html-page-context", _page, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
