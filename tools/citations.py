"""One citation style, author-year, in the text and in the list, on the web and in the PDF.

sphinxcontrib-bibtex writes citations in the text as "Vaswani et al., 2017" (the
``author_year`` reference style) but labels the list with pybtex's alpha keys ("VSP+17")
unless told otherwise. This registers a pybtex formatting style, ``authoryear``, whose labels
are the text's: the last names (one, two joined by "and", or the first and "et al."), a comma
and the year. Selected in ``_config.yml`` with ``bibtex_default_style: authoryear``.
"""

from __future__ import annotations

import codecs

import latexcodec  # noqa: F401  (registers the "ulatex" codec)
from pybtex.plugin import register_plugin
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle
from pybtex.style.sorting.author_year_title import SortingStyle


def _plain(latex: str) -> str:
    return codecs.decode(latex, "ulatex").replace("{", "").replace("}", "")


def author_year_label(entry) -> str:
    """'Last, year', 'Last and Other, year' or 'Last et al., year', as in the text."""
    persons = entry.persons.get("author") or entry.persons.get("editor") or []
    names = [_plain(" ".join(p.prelast_names + p.last_names)) for p in persons]
    if not names:
        who = _plain(entry.fields.get("organization", entry.key))
    elif len(names) == 1:
        who = names[0]
    elif len(names) == 2:
        who = f"{names[0]} and {names[1]}"
    else:
        who = f"{names[0]} et al."
    return f"{who}, {entry.fields.get('year', 'n.d.')}"


class AuthorYearLabels(BaseLabelStyle):
    """Labels that read like the citations in the text."""

    def format_labels(self, sorted_entries):
        """Yield one label per entry, in order."""
        for entry in sorted_entries:
            yield author_year_label(entry)


class AuthorYearStyle(UnsrtStyle):
    """pybtex's unsrt entries, sorted by author and year, labelled as in the text."""

    default_label_style = AuthorYearLabels
    default_sorting_style = SortingStyle


register_plugin("pybtex.style.formatting", "authoryear", AuthorYearStyle)


def setup(app):
    """Register the extension with Sphinx (the style is registered on import)."""
    return {"parallel_read_safe": True, "parallel_write_safe": True}
