"""Link the first mention of each library function on a page to its entry in the reference.

The chapters name ``softmax_lib``'s functions in inline code, as in ```logsumexp``` or
```information.entropy(p)```. This Sphinx extension turns the *first* such mention of each
library object on a page into a link to that object's entry in the API reference (the
``chapters/api*`` pages, built by autodoc); later mentions of the same object stay plain
text. The chapters' sources are not touched.

What counts as a mention (:func:`mentioned`): an inline literal (a ``literal`` node) whose
text, once a trailing call ``(...)`` is set aside, is

- ``softmax_lib``, ``softmax_lib.M`` or ``sl.M`` for a public module ``M`` (no leading
  underscore): a link to the module;
- ``softmax_lib.X``, ``softmax_lib.M.X``, ``sl.X``, ``sl.M.X`` or ``M.X``, where ``X`` is a
  function or class that ``M`` (or the package) lists in ``__all__`` (``sl`` is the book's
  alias, ``import softmax_lib as sl``);
- a bare ``X`` exported by the package or by a public module, if the name means one object
  only, and if the sentence around it names no other library (:data:`FOREIGN`): in "PyTorch's
  ```cross_entropy```", "```F.cross_entropy``` is ```log_softmax``` followed by
  ```nll_loss```" or "SciPy's ```softmax```, ```log_softmax``` and ```logsumexp```" the
  names are the other library's. The rule errs towards no link: in "the ```softmax```
  docstring has the table, and PyTorch makes the same choice" ours is not linked either.
  Names of :mod:`softmax_lib.symbolic` are not matched bare: ``logits``, ``gradient`` or
  ``jacobian`` in a chapter usually mean something else.

A trailing call must be one balanced group closing the literal: ```softmax(z / T)``` is a
mention of ``softmax``; ```log(softmax(z))``` and ```my_softmax(z)``` are not. Literals
inside titles, captions of the table of contents, existing links, code blocks and object
signatures are never linked. Pages matching ``apilinks_exclude`` (the reference pages) are
left alone.

The links are made before Sphinx resolves references (a post-transform of priority 5, the
resolver's is 10), as ``pending_xref`` nodes of the Python domain: a mention of something
the reference does not document is a warning, so ``-W`` fails the build. The HTML builder
resolves each page on its own; the LaTeX builder resolves the whole book at once, so the
page of each literal is found from the ``start_of_file`` nodes that separate the pages.
"""

from __future__ import annotations

import fnmatch
import importlib
import inspect
import pkgutil
import re
from dataclasses import dataclass, field

from docutils import nodes
from sphinx import addnodes
from sphinx.transforms.post_transforms import SphinxPostTransform

PACKAGE = "softmax_lib"
ALIAS = "sl"
NOT_BARE = ("symbolic",)  # modules whose names are too generic to match without a prefix
# Literals under these nodes stay as they are.
SKIP_INSIDE = (
    nodes.title,
    nodes.subtitle,
    nodes.reference,
    nodes.literal_block,
    nodes.raw,
    addnodes.pending_xref,
    addnodes.desc_signature,
    addnodes.toctree,
    addnodes.compact_paragraph,
)
# A sentence that names one of these is about that library's functions of the same names.
# (NumPy is not one: it has no functions of these names, and "with NumPy alone" is common.)
FOREIGN = re.compile(
    r"PyTorch|TensorFlow|Keras|JAX|SciPy|scikit-learn|optax|\b(torch|F|nn|tf|jax|jnp|scipy)\."
)
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)")
_CALL = re.compile(r"^(?P<name>[A-Za-z_][\w.]*)(?P<call>\(.*\))?$", re.S)


@dataclass
class Names:
    """What a literal may name: the documented target of each spelling, and the kind."""

    targets: dict[str, str] = field(default_factory=dict)  # spelling -> documented name
    kinds: dict[str, str] = field(default_factory=dict)  # documented name -> py role

    def add(self, spelling: str, target: str, kind: str) -> None:
        """Record that `spelling` names `target`, an object of the Python role `kind`."""
        self.targets[spelling] = target
        self.kinds[target] = kind


def library_names(package: str = PACKAGE) -> Names:
    """Read the public API of `package`: its ``__all__`` and its public modules' ``__all__``.

    An object exported at the top level is documented there (``softmax_lib.softmax``, not
    ``softmax_lib.core.softmax``); every other one in its module.
    """
    top = importlib.import_module(package)
    modules = {
        info.name: importlib.import_module(f"{package}.{info.name}")
        for info in pkgutil.iter_modules(top.__path__)
        if not info.name.startswith("_")
    }

    def exported(module):
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if inspect.isfunction(obj) or inspect.isclass(obj):
                yield name, obj

    home: dict[int, str] = {id(obj): f"{package}.{name}" for name, obj in exported(top)}
    for mod_name, module in modules.items():
        for name, obj in exported(module):
            home.setdefault(id(obj), f"{package}.{mod_name}.{name}")

    found = Names()
    found.add(package, package, "mod")
    bare: dict[str, set[str]] = {}
    for name, obj in exported(top):
        target = home[id(obj)]
        for spelling in (f"{package}.{name}", f"{ALIAS}.{name}"):
            found.add(spelling, target, "obj")
        bare.setdefault(name, set()).add(target)
    for mod_name, module in modules.items():
        for spelling in (f"{package}.{mod_name}", f"{ALIAS}.{mod_name}"):
            found.add(spelling, f"{package}.{mod_name}", "mod")
        for name, obj in exported(module):
            target = home[id(obj)]
            for prefix in (f"{package}.{mod_name}", f"{ALIAS}.{mod_name}", mod_name):
                found.add(f"{prefix}.{name}", target, "obj")
            if mod_name not in NOT_BARE:
                bare.setdefault(name, set()).add(target)
    for name, targets in bare.items():
        if len(targets) == 1:  # ambiguous bare names are not matched
            found.add(name, targets.pop(), "obj")
    return found


def _balanced(call: str) -> bool:
    """Return True if `call` is one parenthesised group: ``(a, (b))`` yes, ``(a)(b)`` no."""
    depth = 0
    for i, char in enumerate(call):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and i < len(call) - 1:
            return False
    return depth == 0


def mentioned(text: str, names: Names) -> str | None:
    """Return the documented name the inline code `text` mentions, or None."""
    found = _CALL.match(text.strip())
    if not found or (found["call"] and not _balanced(found["call"])):
        return None
    return names.targets.get(found["name"])


def sentence_of(literal: nodes.literal) -> str:
    """Return the sentence of the paragraph (or table cell, ...) that holds `literal`."""
    block = literal.parent
    while isinstance(block, nodes.Inline):
        block = block.parent
    if block is None:
        return literal.astext()
    before, after, found = [], [], False
    for node in block.findall(nodes.Text):
        if node.parent is literal:
            found = True
            continue
        (after if found else before).append(node.astext())
    start = "".join(before)
    ends = list(_SENTENCE_END.finditer(start))
    start = start[ends[-1].end() :] if ends else start
    end = "".join(after)
    stop = _SENTENCE_END.search(end)
    return start + literal.astext() + (end[: stop.start() + 1] if stop else end)


def _foreign(literal: nodes.literal, target: str) -> bool:
    """Return True for a bare name in a sentence about another library."""
    text = literal.astext().strip()
    bare = not text.startswith((f"{PACKAGE}", f"{ALIAS}.")) and "." not in text.split("(")[0]
    return bare and FOREIGN.search(sentence_of(literal)) is not None


def _skipped(node: nodes.Node) -> bool:
    parent = node.parent
    while parent is not None:
        if isinstance(parent, SKIP_INSIDE):
            return True
        parent = parent.parent
    return False


def _pages(tree: nodes.Node, docname: str):
    """Yield (docname, literal) for each literal under `tree`, in document order.

    ``start_of_file`` nodes (the LaTeX builder's inlined pages) switch the page.
    """
    for child in tree.children:
        if isinstance(child, addnodes.start_of_file):
            yield from _pages(child, child["docname"])
        elif isinstance(child, nodes.literal):
            yield docname, child
        elif isinstance(child, nodes.Element):
            yield from _pages(child, docname)


def link_first_mentions(
    tree: nodes.Node, docname: str, names: Names, exclude: list[str] = ()
) -> list[tuple[str, str]]:
    """Wrap the first literal naming each library object, per page, in a pending_xref.

    Returns the (page, documented name) pairs linked, in order.
    """
    seen: set[tuple[str, str]] = set()
    linked = []
    for page, literal in list(_pages(tree, docname)):
        if any(fnmatch.fnmatch(page, pattern) for pattern in exclude):
            continue
        target = mentioned(literal.astext(), names)
        if target is None or (page, target) in seen or _skipped(literal):
            continue
        if _foreign(literal, target):
            continue
        seen.add((page, target))
        xref = addnodes.pending_xref(
            "",
            refdomain="py",
            reftype=names.kinds[target],
            reftarget=target,
            refexplicit=True,
            refwarn=True,
            refdoc=page,
        )
        xref["py:module"] = None
        xref["py:class"] = None
        literal.replace_self(xref)
        xref += literal
        literal["classes"].append("apilink")
        linked.append((page, target))
    return linked


class LinkLibraryMentions(SphinxPostTransform):
    """Before references are resolved, make each page's first mentions links."""

    default_priority = 5  # sphinx.transforms.post_transforms.ReferencesResolver: 10

    def run(self, **kwargs) -> None:
        """Link the first mentions on this page (on every page, for the LaTeX book)."""
        names = _names(self.app)
        link_first_mentions(self.document, self.env.docname, names, self.config.apilinks_exclude)


def _names(app) -> Names:
    if not hasattr(app, "_apilinks_names"):
        app._apilinks_names = library_names()
    return app._apilinks_names


def resolve_alias(app, env, node, contnode):
    """Resolve a reference to another public name of a documented object.

    The reference documents each object once, under the name readers import it by:
    ``softmax_lib.softmax``, not ``softmax_lib.core.softmax``. A docstring that writes
    :func:`softmax_lib.losses.cross_entropy`, or :func:`softmax` inside ``softmax_lib.core``,
    reaches the same entry. Anything else stays unresolved (a warning under ``-n``).
    """
    if node.get("refdomain") != "py":
        return None
    target, module = node.get("reftarget", ""), node.get("py:module")
    names = _names(app)
    for spelling in ([f"{module}.{target}"] if module else []) + [target]:
        documented = names.targets.get(spelling)
        if spelling.startswith(f"{PACKAGE}.") and documented and documented != spelling:
            domain = env.get_domain("py")
            return domain.resolve_xref(
                env, node["refdoc"], app.builder, node["reftype"], documented, node, contnode
            )
    return None


def setup(app):
    """Register the post-transform, the alias resolver and ``apilinks_exclude``."""
    app.add_config_value("apilinks_exclude", ["chapters/api*"], "env")
    app.add_post_transform(LinkLibraryMentions)
    app.connect("missing-reference", resolve_alias)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
