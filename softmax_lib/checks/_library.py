"""Which library functions a from-scratch implementation calls (it may call NumPy only)."""

from __future__ import annotations

import builtins
import dis
import types
from collections.abc import Callable

# Packages whose functions a from-scratch implementation may not call.
LIBRARIES = ("softmax_lib", "scipy", "torch", "tensorflow", "keras", "jax", "sklearn", "optax")


def library_calls(fn: Callable) -> list[str]:
    """Return the names in `fn` (and the functions it calls) that come from a library.

    A global or closure name counts when it refers to a module, function or object of one
    of :data:`LIBRARIES`; NumPy and the standard library are allowed. Helper functions
    written in the same notebook are followed, so hiding a call in a helper does not help.
    """
    found: list[str] = []
    seen: set[int] = set()

    def origin(obj) -> str:
        if isinstance(obj, types.ModuleType):
            return obj.__name__
        return getattr(obj, "__module__", None) or ""

    def visit(code: types.CodeType, namespace: dict, closure: dict) -> None:
        for instruction in dis.get_instructions(code):
            name = instruction.argval
            if instruction.opname in ("LOAD_GLOBAL", "LOAD_NAME"):
                obj = namespace.get(name, getattr(builtins, name, None))
            elif instruction.opname == "LOAD_DEREF" and name in closure:
                obj = closure[name]
            else:
                continue
            if origin(obj).split(".")[0] in LIBRARIES:
                if name not in found:
                    found.append(name)
            elif isinstance(obj, types.FunctionType):
                follow(obj)
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                visit(const, namespace, closure)

    def follow(function: types.FunctionType) -> None:
        if id(function) in seen:
            return
        seen.add(id(function))
        cells = function.__closure__ or ()
        closure = {}
        for name, cell in zip(function.__code__.co_freevars, cells, strict=True):
            try:
                closure[name] = cell.cell_contents
            except ValueError:  # an empty cell: nothing to look at
                pass
        visit(function.__code__, function.__globals__, closure)

    if not isinstance(fn, types.FunctionType):  # a builtin, a ufunc, a callable object
        return [getattr(fn, "__name__", repr(fn))] if origin(fn).split(".")[0] in LIBRARIES else []
    if origin(fn).split(".")[0] in LIBRARIES:  # a library function handed in directly
        return [fn.__name__]
    follow(fn)
    return found
