"""Graded exercises in the public book: the exercise, never its reference solution.

A local Sphinx extension (``_config.yml``: ``sphinx.local_extensions``). One exercise per
chapter is graded for credit (``autograde`` cells, see ``tools/course.py``). Its reference
solution is executed with the chapter at every build, so the book still checks that it passes
its hidden tests, but readers of the website and the PDF see the exercise with a note in
place of the solution. The reference solutions reach teachers only: in the nbgrader course
(``make assignments``: ``source/``) and in the book's sources.

The same holds for what the site offers for download: the ``.ipynb`` is the ``public``
edition of ``tools/notebooks.py`` (the student's stub in place of a graded solution), and the
``.md`` source that Sphinx copies to ``_sources/`` is rewritten the same way once the build
has finished. Practice exercises keep their solutions everywhere.
"""

from __future__ import annotations

import sys
from pathlib import Path

from docutils import nodes
from sphinx.transforms import SphinxTransform

if not __package__:  # run as a script (python tools/x.py): make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

NOTE = (
    "This exercise is graded. Its reference solution is not published: it is in the "
    "teacher's material, with the hidden tests. The self-check the exercise names tells you "
    "what fails and why, without giving the answer away."
)
#: The note in each edition's language (``language`` of the build; tools/i18n.py).
NOTES = {
    "en": NOTE,
    "zh_CN": "本练习计分。它的参考解答不公开：参考解答和隐藏测试一起放在教师材料中。"  # noqa: RUF001
    "练习指明的自检会告诉你哪里出错、为什么出错，而不会泄露答案。",  # noqa: RUF001
}


def _is_graded(solution: nodes.Node) -> bool:
    """Whether a solution holds the graded answer cell (``autograde: {answer: ...}``)."""
    for cell in solution.findall(nodes.container):
        grading = (cell.get("cell_metadata") or {}).get("autograde")
        if isinstance(grading, dict) and "answer" in grading:
            return True
    return False


class HideGradedSolutions(SphinxTransform):
    """Replace the solution of every graded exercise by a note."""

    # After sphinx-exercise gathers a gated solution's cells into one node (priority 10).
    default_priority = 11

    def apply(self, **kwargs) -> None:
        """Replace each graded solution node of the document by :data:`NOTE`."""
        from sphinx_exercise.nodes import solution_node

        text = NOTES.get(self.config.language or "en", NOTE)
        for solution in list(self.document.findall(solution_node)):
            if _is_graded(solution):
                note = nodes.note("", nodes.paragraph("", text), classes=["graded-solution"])
                note["ids"] = solution["ids"]  # links to the solution still land here
                # Not replace_self, which would also copy the dropdown's classes.
                solution.parent.replace(solution, note)


def public_source(text: str) -> str:
    """Return a chapter's MyST source with each graded solution replaced by the stub."""
    from tools import course

    return course.strip_solutions(text, graded_only=True)


def _rewrite_sources(app, exception) -> None:
    """Rewrite the ``.md`` sources Sphinx copied (for downloads) as :func:`public_source`."""
    if exception or app.builder.format != "html":
        return
    sources = Path(app.outdir) / "_sources"
    for path in sorted(sources.rglob("*.md")):
        text = path.read_text(encoding="utf-8")
        public = public_source(text)
        if public != text:
            path.write_text(public, encoding="utf-8")


def setup(app):
    """Register the extension with Sphinx."""
    app.add_transform(HideGradedSolutions)
    app.connect("build-finished", _rewrite_sources)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
