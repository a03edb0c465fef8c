"""The Chinese edition's message catalogues: extract the book's messages and update them.

``make locales`` runs this. It builds the book's message templates with Sphinx's gettext
builder (no chapter is executed: messages are the MyST source of each paragraph, heading,
caption, admonition and list item, glue roles and math included), then updates
``locales/<language>/LC_MESSAGES/<page>.po`` from them:

* a message already translated keeps its translation;
* a message whose English changed keeps its old translation marked fuzzy (the translation
  check then fails until a translator updates it and removes the flag);
* a message that left the English is dropped;
* the library reference's docstrings are not translated (they are reStructuredText read
  by autodoc, and the reference stays English), so their messages are left out;
* the captions and alt texts of the figures code cells make, and the texts of interactive
  figures (the literal arguments of ``slider_bars`` calls), are read from the pages' code.

Usage: ``python -m tools.locales [language ...]`` (default: ``zh_CN``) updates the
catalogues; ``python -m tools.locales check [file.po ...]`` lists every message that is
untranslated, fuzzy, or whose translation lost or changed a role, math, code, a link target
or added a number the English does not have.

``python -m tools.locales glossary [file.po ...]`` lists every translated message whose
English has a term of ``locales/<language>/glossary.tsv`` and whose translation does not use
its rendering (or an accepted alternative).

``python -m tools.locales build [language]`` (``make book`` runs it after the English build)
builds that edition of the site into ``_build/<language>/html`` and copies it to
``_build/html/<language>/``, from the same sources and the same execution: it reads the
English build's execution cache and executes nothing. Every page with code must be in that
cache as it is now (checked before the build starts), and the cache must be unchanged after
it (else the build executed a page: it fails). ``--locales DIR`` builds from the catalogues
of another folder (``DIR/<language>/LC_MESSAGES``), such as a trial translation.
``tools/i18n.py`` does the rest (glue in
translated messages, the translation check, the language switch, Chinese search).
"""

from __future__ import annotations

import collections
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
LANGUAGES = ("zh_CN",)


def is_docstring(message) -> bool:
    """Whether every place a message comes from is a docstring (autodoc), not a page."""
    return bool(message.locations) and all(
        not str(path).endswith(".md") for path, _ in message.locations
    )


def relative_locations(message) -> list[tuple[str, int]]:
    """Locations relative to the book's root, so catalogues do not name a checkout."""
    out = []
    for path, line in message.locations:
        name = str(path)
        for marker in ("chapters/", "intro.md"):
            if marker in name:
                name = name[name.index(marker) :]
                break
        out.append((name, line))
    return out


def templates(out: Path) -> Path:
    """Build the message templates (.pot) of every page into ``out``."""
    command = [
        sys.executable,
        "-m",
        "sphinx",
        "-q",
        "-b",
        "gettext",
        "-D",
        "nb_execution_mode=off",
        "-D",
        "gettext_compact=0",
        "-D",
        "gettext_location=1",
        "-D",
        "gettext_uuid=0",
        str(ROOT),
        str(out),
    ]
    conf = ROOT / "conf.py"
    made = not conf.exists()
    if made:
        subprocess.run(
            [str(Path(sys.executable).parent / "jupyter-book"), "config", "sphinx", str(ROOT)],
            check=True,
            capture_output=True,
        )
    try:
        # warnings are expected: without execution, glued figures have no targets
        subprocess.run(
            command,
            check=True,
            cwd=ROOT,
            capture_output=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    finally:
        if made:
            conf.unlink()
    add_figure_texts(out)
    return out


def figure_texts(page: Path) -> list[tuple[str, int]]:
    """Return the caption and alt text of each figure a page's code cells make, with lines.

    A code cell's figure is captioned and described in its options (``mystnb: figure:
    caption`` and ``mystnb: image: alt``), text the gettext builder sees only when the cell has
    run: without execution (how :func:`templates` extracts, so that messages never depend on
    an execution) these are read from the source. A caption is the message Sphinx extracts
    from the built figure (its MyST source); an alt text is translated by ``tools.i18n``.
    """
    from tools import myst

    texts = []
    for cell in myst.code_cells(page.read_text(encoding="utf-8")):
        options = cell.options.get("mystnb") or {}
        caption = (options.get("figure") or {}).get("caption")
        alt = (options.get("image") or {}).get("alt")
        for text in (caption, alt):
            if isinstance(text, str) and text.strip():
                texts.append((" ".join(text.split()), cell.start + 1))
    return texts


def interactive_texts(page: Path) -> list[tuple[str, int]]:
    """Return the texts of the interactive figures a page's code cells make, with lines.

    The literal arguments of each ``slider_bars`` call that hold English words: its alt text,
    axis label, slider caption and bar names (an f-string as a message with placeholders);
    ``tools/outputs.py`` reads them and ``tools/i18n.py`` puts their translations into the
    figure's HTML.
    """
    from tools import myst, outputs

    texts = []
    for cell in myst.code_cells(page.read_text(encoding="utf-8")):
        texts += outputs.slider_texts(cell.body, cell.body_start + 1)
    return texts


#: sphinx-design's buttons, whose text (the directive's body) is inline text, not a paragraph.
BUTTONS = ("button-ref", "button-link")


def button_texts(page: Path) -> list[tuple[str, int]]:
    """Return the text of each sphinx-design button of a page, with its line.

    The gettext builder does not extract it (it is not a paragraph); ``tools/i18n.py`` puts
    its translation on the button.
    """
    from tools import myst

    found = []
    for button in myst.directives(page.read_text(encoding="utf-8"), *BUTTONS):
        text = " ".join(button.body.split())
        if text:
            found.append((text, button.start + 1))
    return found


def add_figure_texts(pots: Path) -> None:
    """Add each page's figure captions and alt texts (:func:`figure_texts`) to its template."""
    for pot in sorted(pots.rglob("*.pot")):
        page = ROOT / pot.relative_to(pots).with_suffix(".md")
        if not page.exists():
            continue
        texts = figure_texts(page) + interactive_texts(page) + button_texts(page)
        if not texts:
            continue
        with pot.open("rb") as f:
            template = read_po(f)
        for text, line in texts:
            if text not in template:
                template.add(text, locations=[(str(page), line)])
        with pot.open("wb") as f:
            write_po(f, template, width=0, sort_output=False)


def update(language: str, pots: Path) -> dict[str, int]:
    """Update the catalogues of ``language`` from the templates in ``pots``."""
    counts = {"pages": 0, "messages": 0, "untranslated": 0, "fuzzy": 0}
    for pot in sorted(pots.rglob("*.pot")):
        page = pot.relative_to(pots).with_suffix("")
        with pot.open("rb") as f:
            template = read_po(f)
        kept = Catalog(locale=language, project=template.project)
        for message in template:
            if not message.id or is_docstring(message):
                continue
            kept.add(message.id, locations=relative_locations(message))
        if not len(kept):
            continue
        target = LOCALES / language / "LC_MESSAGES" / page.with_suffix(".po")
        if target.exists():
            with target.open("rb") as f:
                catalog = read_po(f, locale=language)
            # The header keeps its date: a run that changes no message changes no file.
            catalog.update(kept, update_header_comment=False, update_creation_date=False)
            catalog.obsolete.clear()
        else:
            catalog = Catalog(locale=language, project="Softmax, computed")
            for message in kept:
                catalog.add(message.id, locations=message.locations)
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as f:
            write_po(f, catalog, width=0, omit_header=False, sort_output=False)
        counts["pages"] += 1
        for message in catalog:
            if not message.id:
                continue
            counts["messages"] += 1
            counts["untranslated"] += not message.string
            counts["fuzzy"] += message.fuzzy
    return counts


def stale(language: str, pots: Path, locales: Path = LOCALES) -> list[tuple[str, str, str]]:
    """Compare the catalogues with fresh templates: ``(page, kind, msgid)`` for each difference.

    `kind` is ``missing`` (a message of the English that the catalogue lacks: the English
    changed or grew, and ``make locales`` was not run), ``obsolete`` (a catalogue message the
    English no longer has) or ``no catalogue`` (a page without one). The library reference's
    docstrings are left out, as :func:`update` leaves them out.
    """
    found = []
    for pot in sorted(pots.rglob("*.pot")):
        page = pot.relative_to(pots).with_suffix("").as_posix()
        with pot.open("rb") as f:
            expected = {m.id for m in read_po(f) if m.id and not is_docstring(m)}
        if not expected:
            continue
        path = locales / language / "LC_MESSAGES" / f"{page}.po"
        if not path.exists():
            found.append((page, "no catalogue", str(path.relative_to(locales.parent))))
            continue
        with path.open("rb") as f:
            have = {m.id for m in read_po(f) if m.id}
        found += [(page, "missing", m) for m in sorted(expected - have)]
        found += [(page, "obsolete", m) for m in sorted(have - expected)]
    return found


def main(argv: list[str]) -> int:
    """Update the catalogues, check them (`check`) or build an edition (`build`)."""
    if argv[:1] == ["build"]:
        args = argv[1:]
        locale_dir = None
        if "--locales" in args:  # another catalogue folder, e.g. a trial translation
            at = args.index("--locales")
            locale_dir = Path(args[at + 1]).resolve()
            del args[at : at + 2]
        return build(args[0] if args else LANGUAGES[0], locale_dir=locale_dir)
    if argv[:1] == ["glossary"]:
        paths = [Path(a) for a in argv[1:]] or sorted(LOCALES.rglob("*.po"))
        bad = check_glossary(paths)
        print(f"{bad} glossary problem(s) in {len(paths)} catalogue(s)")
        return 1 if bad else 0
    if argv[:1] == ["check"]:
        paths = [Path(a) for a in argv[1:]] or sorted(LOCALES.rglob("*.po"))
        bad = check(paths)
        print(f"{bad} problem(s) in {len(paths)} catalogue(s)")
        return 1 if bad else 0
    languages = argv or list(LANGUAGES)
    with tempfile.TemporaryDirectory() as tmp:
        pots = templates(Path(tmp))
        for language in languages:
            counts = update(language, pots)
            print(
                f"{language}: {counts['pages']} pages, {counts['messages']} messages, "
                f"{counts['untranslated']} untranslated, {counts['fuzzy']} fuzzy"
            )
    return 0


# --- the edition's build: the same execution as the English one ---

BUILD = ROOT / "_build"
CACHE = BUILD / ".jupyter_cache"


def book_pages() -> list[str]:
    """Return the pages of the table of contents, as docnames (``chapters/01-softmax``)."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    pages = [toc["root"]]
    for part in toc.get("parts", []):
        pages += [chapter["file"] for chapter in part["chapters"]]
    return pages


def uncached_pages(cache: Path = CACHE) -> list[str]:
    """Return the pages with code that the execution cache does not hold as they are now."""
    from jupyter_cache import get_cache
    from myst_nb.core.read import read_myst_markdown_notebook

    from tools import myst

    if not (cache / "global.db").exists():
        return ["(no execution cache: run the English build first)"]
    jupyter_cache = get_cache(str(cache))
    missing = []
    for page in book_pages():
        path = ROOT / f"{page}.md"
        text = path.read_text(encoding="utf-8")
        if not myst.code_cells(text):
            continue
        try:
            jupyter_cache.match_cache_notebook(read_myst_markdown_notebook(text, path=path))
        except KeyError:
            missing.append(page)
    return missing


def cache_records(cache: Path = CACHE) -> set[tuple]:
    """Return what the execution cache holds: a record per executed page (id, hash, time)."""
    from jupyter_cache import get_cache

    return {
        (r.pk, r.hashkey, r.uri, r.created.isoformat())
        for r in get_cache(str(cache)).list_cache_records()
    }


def build_key() -> str:
    """Return a digest of what the build depends on besides pages and catalogues."""
    import hashlib

    digest = hashlib.sha256()
    tools = sorted([*(ROOT / "tools").rglob("*.py"), *(ROOT / "tools").rglob("*.html")])
    glued = sorted((ROOT / "locales").glob("*/glued.tsv"))  # the computed words' Chinese
    for path in [*tools, *glued, ROOT / "_config.yml", ROOT / "_toc.yml"]:
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def build(language: str, *, locale_dir: Path | None = None) -> int:
    """Build the `language` edition from the English build's execution; see the module."""
    import shutil
    import time

    from jupyter_book.sphinx import build_sphinx

    start = time.perf_counter()
    missing = uncached_pages()
    if missing:
        print(
            f"{language}: the English build's execution cache ({CACHE}) does not hold these "
            f"pages as they are now, and this build executes nothing: {', '.join(missing)}. "
            "Build the English book first (make book)."
        )
        return 1
    before = cache_records()
    out = BUILD / language
    # Sphinx rebuilds the pages whose source, catalogue or configuration changed, not those
    # whose extensions did: a change to tools/ or the configuration starts from clean.
    key = build_key()
    fresh = (out / ".build-key").read_text() != key if (out / ".build-key").exists() else True
    if fresh and out.exists():
        shutil.rmtree(out)
    overrides = {
        # what `jupyter-book build . -n` sets, then the edition's own settings
        "external_toc_path": (ROOT / "_toc.yml").as_posix(),
        "latex_individualpages": False,
        "nitpicky": True,
        "language": language,
        "nb_execution_cache_path": str(CACHE),
        # The pages' notebooks are not translated: the English build's are copied below.
        "pages_render_notebooks": False,
    }
    if locale_dir is not None:
        overrides["locale_dirs"] = [str(locale_dir)]
    result = build_sphinx(
        ROOT,
        out / "html",
        noconfig=True,
        path_config=str(ROOT / "_config.yml"),
        confoverrides=overrides,
        doctreedir=out / ".doctrees",
        warningiserror=True,
        keep_going=True,
        freshenv=fresh,
    )
    executed = cache_records() - before
    if executed:
        print(
            f"{language}: the build executed {len(executed)} page(s) "
            f"({', '.join(sorted(r[2] for r in executed))}): it must read the English "
            "build's execution, never run a page itself"
        )
        return 1
    if isinstance(result, Exception) or result:
        print(f"{language}: the build failed (see the warnings above; BOOK_ZH=no skips it)")
        return 1
    (out / ".build-key").write_text(key)
    # The download button's notebooks: the English build's (tools/pages.py renders them).
    english = BUILD / "html" / "_sources"
    for notebook in sorted(english.rglob("*.ipynb")):
        target = out / "html" / "_sources" / notebook.relative_to(english)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(notebook, target)
    published = BUILD / "html" / language
    if published.exists():
        shutil.rmtree(published)
    shutil.copytree(out / "html", published)
    print(
        f"{language}: built in {time.perf_counter() - start:.0f} s, nothing executed; "
        f"the edition is in {published.relative_to(ROOT)}"
    )
    return 0


# --- the check translators run on their catalogues (tests/book/test_i18n.py runs it on all) ---

ROLE = re.compile(r"\{([a-zA-Z][\w:-]*)\}`([^`]*)`")
MATH = re.compile(r"\$\$.+?\$\$|\$[^$]+\$", re.S)
CODE = re.compile(r"(?<!\})``?[^`]+``?")
LINK = re.compile(r"\]\(([^)\s]+)\)|<(https?://[^>\s]+)>")
NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?")


def _target(role: str, content: str) -> str:
    """Return a role's fixed part: its whole content, or the label of ``title <label>``."""
    if role.startswith("glue") or role in {"eq", "cite", "cite:p", "cite:t", "math"}:
        return content
    found = re.search(r"<([^<>]+)>\s*$", content)
    return found.group(1) if found else content


def markup(text: str) -> dict[str, list[str]]:
    """Return what a translation keeps verbatim: roles' targets, math, code, links."""
    roles = [f"{r}:{_target(r, c)}" for r, c in ROLE.findall(text)]
    rest = ROLE.sub(" ", text)
    maths = MATH.findall(rest)
    rest = MATH.sub(" ", rest)
    codes = CODE.findall(rest)
    rest = CODE.sub(" ", rest)
    links = [a or b for a, b in LINK.findall(rest)]
    rest = LINK.sub(" ", rest)
    return {
        "roles": sorted(roles),
        "math": sorted(maths),
        "code": sorted(codes),
        "links": sorted(links),
        "numbers": NUMBER.findall(rest),
    }


def problems(msgid: str, msgstr: str) -> list[str]:
    """Why a translation is not acceptable (empty when it is)."""
    if not msgstr:
        return ["untranslated"]
    src, dst = markup(msgid), markup(msgstr)
    found = []
    for kind in ("roles", "math", "code", "links"):
        if src[kind] != dst[kind]:
            lost = sorted(set(src[kind]) - set(dst[kind]))
            added = sorted(set(dst[kind]) - set(src[kind]))
            found.append(f"{kind} differ: missing {lost}, added {added}")
    typed = sorted(
        (collections.Counter(dst["numbers"]) - collections.Counter(src["numbers"])).elements()
    )
    if typed:
        found.append(f"numbers the English does not have: {typed}")
    return found


def check(paths: list[Path]) -> int:
    """Print every message of the catalogues at ``paths`` that fails; return their count."""
    bad = 0
    for path in paths:
        with path.open("rb") as f:
            catalog = read_po(f)
        for message in catalog:
            if not message.id:
                continue
            why = problems(message.id, message.string or "")
            if message.fuzzy:
                why.append("fuzzy")
            for reason in why:
                bad += 1
                where = message.locations[0] if message.locations else ("?", 0)
                print(f"{path.name} {where[0]}:{where[1]}: {reason}\n    {message.id[:100]}")
    return bad


# --- the glossary: one rendering per term ---

GLOSSARY = LOCALES / "{language}" / "glossary.tsv"


@dataclass(frozen=True)
class Term:
    """A glossary row: an English term, its Chinese rendering, accepted alternatives, skips."""

    english: str
    chinese: str
    also: tuple[str, ...] = ()
    skip: re.Pattern | None = None

    def pattern(self) -> re.Pattern:
        """Return the term as a whole word (or words) of the English, in any case, or its plural."""
        return re.compile(rf"(?<![\w-]){re.escape(self.english)}(?:e?s)?(?![\w-])", re.I)


def read_glossary(path: Path) -> list[Term]:
    """Read ``glossary.tsv``: columns english, chinese, also, note, skip (by the header).

    `also` holds alternatives separated by ``|``; `skip` a regular expression: a message
    whose English matches it (in any case) is not held to the term (a legitimate exception,
    such as a name).
    """
    rows = [
        line.split("\t")
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    header, rows = rows[0], rows[1:]
    terms = []
    for row in rows:
        cells = dict(zip(header, [c.strip() for c in row], strict=False))
        also = tuple(a.strip() for a in cells.get("also", "").split("|") if a.strip())
        skip = cells.get("skip", "")
        terms.append(
            Term(cells["english"], cells["chinese"], also, re.compile(skip, re.I) if skip else None)
        )
    return terms


def _prose(text: str) -> str:
    """Return a message without its roles, math, code and link targets (terms in prose only)."""
    for pattern in (ROLE, MATH, CODE):
        text = pattern.sub(" ", text)
    return LINK.sub(" ", text)


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


def glossary_problems(msgid: str, msgstr: str, terms: list[Term]) -> list[str]:
    """Return the glossary terms of `msgid` whose rendering `msgstr` does not use."""
    # Untranslated messages are the completeness check's; a display equation (Sphinx keeps
    # its source as is, newlines around it; a paragraph's are joined) is not prose.
    if not msgstr or (msgid.startswith("\n") and msgid.endswith("\n")):
        return []
    english, chinese = _prose(msgid), _squeeze(msgstr)
    found = []
    for term in terms:
        if not term.pattern().search(english):
            continue
        if term.skip is not None and term.skip.search(msgid):
            continue
        renderings = (term.chinese, *term.also)
        if not any(_squeeze(r) in chinese for r in renderings):
            found.append(f"{term.english!r} is rendered {' or '.join(map(repr, renderings))}")
    return found


def check_glossary(paths: list[Path], language: str = LANGUAGES[0]) -> int:
    """Print every translated message that does not use the glossary; return their count."""
    terms = read_glossary(Path(str(GLOSSARY).format(language=language)))
    bad = 0
    for path in paths:
        with path.open("rb") as f:
            catalog = read_po(f)
        for message in catalog:
            if not message.id or message.fuzzy:
                continue
            for reason in glossary_problems(message.id, message.string or "", terms):
                bad += 1
                where = message.locations[0] if message.locations else ("?", 0)
                print(f"{path.name} {where[0]}:{where[1]}: {reason}\n    {message.id[:100]}")
    return bad


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
