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
  by autodoc, and the reference stays English), so their messages are left out.

Usage: ``python -m tools.locales [language ...]`` (default: ``zh_CN``) updates the
catalogues; ``python -m tools.locales check [file.po ...]`` lists every message that is
untranslated, fuzzy, or whose translation lost or changed a role, math, code, a link target
or added a number the English does not have.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
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
    return out


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
            catalog.update(kept, update_header_comment=False)
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


def main(argv: list[str]) -> int:
    """Update the catalogues, or check them (`check`): see the module docstring."""
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
    typed = [n for n in dst["numbers"] if n not in src["numbers"]]
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


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
