"""The registry of Lua binding classes and ``freeswitch.*`` functions.

Adding a class (Session, Dbh, IVRMenu…) is: describe it with a
:class:`~fsd_modules.mod_lua.bindings.spec.ClassSpec` and call :func:`register_class` at import
time of its module, then list that module in ``_BUILTIN`` (or import it before the first
script runs).  The bootstrap is generated from this registry on first use;
``runtime.reset_bootstrap()`` regenerates it after a late registration.

``adopters`` turn core objects into binding objects when the entry points hand them to a
script (``env`` -> Event that the script does not own, ``session`` -> Session…).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from .spec import ClassSpec, Method, ModuleFunc

_CLASSES: dict[str, ClassSpec] = {}
_FUNCS: dict[str, ModuleFunc] = {}
_CONSTS: dict[str, int | str] = {}
#: class name -> callable(ctx, core_object) -> binding object
adopters: dict[str, Callable[[Any, Any], Any]] = {}

# Modules defining the built-in bindings, imported on first use of the registry.
_BUILTIN = ("funcs", "event", "consumer", "api", "stream", "json", "dtmf", "session", "dbh",
            "ivrmenu", "calls", "esl")
_loaded = False


def register_class(spec: ClassSpec, adopt: Callable[[Any, Any], Any] | None = None) -> None:
    _CLASSES[spec.name] = spec
    if adopt is not None:
        adopters[spec.name] = adopt


def register_function(method: Method) -> None:
    _FUNCS[method.name] = ModuleFunc(method)


def register_constant(name: str, value: int | str) -> None:
    _CONSTS[name] = value


def _load_builtins() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        for mod in _BUILTIN:
            importlib.import_module(f"{__name__}.{mod}")


def registry() -> tuple[list[ClassSpec], list[ModuleFunc], dict[str, int | str]]:
    """Every registered class, function and constant."""
    _load_builtins()
    return list(_CLASSES.values()), list(_FUNCS.values()), dict(_CONSTS)


def adopt(ctx: Any, cls: str, obj: Any) -> tuple[str, Any]:
    """``(cls, binding object)`` for a core object handed to a script."""
    _load_builtins()
    fn = adopters.get(cls)
    return cls, (fn(ctx, obj) if fn is not None else obj)
