"""The PDF as the website shows the book: same chapter numbers, the parts, no hidden cells.

A Sphinx extension for the LaTeX builder (one of `_config.yml`'s local extensions; it acts
only when the builder is LaTeX). Sphinx's LaTeX writer numbers every chapter and drops the
captions of the table of contents, so:

- the chapters of unnumbered parts ("Start here", "For teachers", "Reference") are set
  unnumbered (``secnumdepth`` -1 leaves the chapter counter alone, so the first numbered
  chapter is chapter 1, as on the site, and figures and equations follow its number);
- each part of ``_toc.yml`` opens with a part page and a line in the contents;
- cells the site shows collapsed (``hide-cell``, ``hide-input``: plotting and glue helpers)
  are left out of the PDF, inputs only for ``hide-input``;
- an interactive figure (``softmax_lib.interactive``: a slider), which paper cannot show, is
  replaced by a line giving the address of its page on the website (:func:`slider_lines`);
- the bibliography page keeps only its list (the list brings its own chapter title);
- the instructor's guide's and the notation page's tall tables break across pages
  (longtable), with wrapping columns.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from docutils import nodes
from sphinx import addnodes
from sphinx.transforms.post_transforms import SphinxPostTransform

SECNUMDEPTH = 2  # Sphinx's default for the manual class: chapters, sections, subsections


def part_openings(toc: dict) -> dict[str, str]:
    """Map the first file of each part to the LaTeX that opens the part (numbering included)."""
    openings = {}
    for part in toc.get("parts", []):
        chapters = part.get("chapters", [])
        if not chapters:
            continue
        caption = part.get("caption", "")
        depth = SECNUMDEPTH if part.get("numbered") else -1
        openings[chapters[0]["file"]] = (
            f"\\setcounter{{secnumdepth}}{{{depth}}}\n"
            f"\\part*{{{caption}}}\\addcontentsline{{toc}}{{part}}{{{caption}}}\n"
        )
    return openings


# The text/plain stand-in of an interactive figure (softmax_lib.interactive), which MyST-NB
# writes to LaTeX as a verbatim output block.
INTERACTIVE = re.compile(r"^Interactive figure:")
SLIDER_LINE = "Interactive figure: move its slider on this page of the book's website, "
SLIDER_END = ", or run the chapter's notebook in JupyterLab."
SLIDER_PLACEHOLDER = (
    "Interactive figure: move its slider on this page of the book's website, or run the"
    " chapter's notebook in JupyterLab. (This copy of the book was built without the address"
    " where the website is published.)"
)


def slider_lines(tree: nodes.Node, site: str, placeholder: bool, docname: str = "") -> int:
    """Replace each interactive figure's stand-in by a line with its page's address.

    The page is the chapter holding the figure (the ``start_of_file`` node around it, else
    `docname`), on the site at `site`; when `site` is a placeholder, the line says that the
    address is unknown instead of printing one that leads nowhere. Return the number of
    figures replaced.
    """
    # Top down: the LaTeX builder sets the children of a start_of_file node without their
    # parent pointers, so a node cannot find its chapter by walking up. Later (inner) pages
    # first, so that an outer page never claims an inner page's figure.
    pages = [(start["docname"], start) for start in tree.findall(addnodes.start_of_file)]
    count = 0
    for page, node in [*reversed(pages), (docname, tree)]:
        for block in list(node.findall(nodes.literal_block)):
            if "output" not in block.get("classes", []):
                continue
            if not INTERACTIVE.match(block.astext()):
                continue
            if not page:
                raise ValueError(f"an interactive figure outside any page: {block.astext()!r}")
            block.replace_self(_slider_line(f"{site}/{page}.html", placeholder))
            count += 1
    return count


def _slider_line(url: str, placeholder: bool) -> nodes.paragraph:
    if placeholder:
        line = nodes.paragraph("", "", nodes.emphasis("", SLIDER_PLACEHOLDER))
    else:
        line = nodes.paragraph(
            "",
            "",
            nodes.emphasis("", SLIDER_LINE),
            nodes.reference(url, url, refuri=url),
            nodes.emphasis("", SLIDER_END),
        )
    line["classes"].append("interactive-figure")
    return line


class ShapeThePdf(SphinxPostTransform):
    """Open the parts, drop collapsed cells and the empty bibliography title (LaTeX only).

    The LaTeX builder resolves one tree holding every chapter, each inside a
    ``start_of_file`` node that names it; this runs on that tree.
    """

    default_priority = 200
    builders = ("latex",)

    def run(self, **kwargs):
        """Shape the assembled tree of the whole book."""
        openings = self.config.latex_part_openings
        for start in list(self.document.findall(addnodes.start_of_file)):
            docname = start.get("docname")
            if docname in openings:
                start.insert(0, nodes.raw("", openings[docname], format="latex"))
            if docname in WRAPPED_TABLES:
                for table in start.findall(nodes.table):  # tall tables must break across pages
                    if len(table.astext()) > 3000:
                        # A longtable whose columns wrap, at the widths given for the page
                        # (Sphinx's "colwidths-given", as :widths: would set).
                        table["classes"] += ["longtable", "colwidths-given"]
                        for colspec, width in zip(
                            table.findall(nodes.colspec), WRAPPED_TABLES[docname], strict=False
                        ):
                            colspec["colwidth"] = width
            if docname == "chapters/bibliography":
                for section in list(start.findall(nodes.section)):
                    section.replace_self(
                        [c for c in section.children if not isinstance(c, nodes.title)]
                    )
                    break
        from tools import launch  # the site's address, as the notebooks give it

        repo = self.config.html_theme_options.get("repository_url") or launch.PLACEHOLDER
        site, placeholder = launch.site_url(repo), launch.site_is_placeholder(repo)
        slider_lines(self.document, site, placeholder, self.env.docname)
        for node in list(self.document.findall(nodes.container)):
            classes = node.get("classes", [])
            if "cell" not in classes:
                continue
            if "tag_hide-cell" in classes:
                node.parent.remove(node)
            elif "tag_hide-input" in classes:
                for child in list(node.children):
                    if "cell_input" in child.get("classes", []):
                        node.remove(child)


# Pages whose tall tables break across pages with wrapping columns, and the columns' widths:
# the guide's (chapter, text) and the notation page's three columns, whose chapter titles and
# meanings would otherwise run off the page.
WRAPPED_TABLES = {
    "chapters/instructor-guide": (30, 70),
    "chapters/notation": (22, 33, 45),
}


def _configure(app, config):
    toc_path = Path(app.srcdir) / "_toc.yml"
    toc = yaml.safe_load(toc_path.read_text()) if toc_path.exists() else {}
    config.latex_part_openings = part_openings(toc)


def setup(app):
    """Register the extension with Sphinx."""
    app.add_config_value("latex_part_openings", {}, "env")
    app.connect("config-inited", _configure)
    app.add_post_transform(ShapeThePdf)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
