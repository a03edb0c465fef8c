"""The PDF as the website shows the book: same chapter numbers, the parts, no hidden cells.

A Sphinx extension for the LaTeX builder only (loaded by :mod:`tools.launch`). Sphinx's LaTeX
writer numbers every chapter and drops the captions of the table of contents, so:

- the chapters of unnumbered parts ("Start here", "For teachers", "Reference") are set
  unnumbered (``secnumdepth`` -1 leaves the chapter counter alone, so the first numbered
  chapter is chapter 1, as on the site, and figures and equations follow its number);
- each part of ``_toc.yml`` opens with a part page and a line in the contents;
- cells the site shows collapsed (``hide-cell``, ``hide-input``: plotting and glue helpers)
  are left out of the PDF, inputs only for ``hide-input``;
- the bibliography page keeps only its list (the list brings its own chapter title);
- the instructor's guide's and the notation page's tall tables break across pages
  (longtable), with wrapping columns.
"""

from __future__ import annotations

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
