"""Registries of module interfaces that remember who registered what.

Every interface a module adds (API, application, endpoint, dialplan, say language, file
format, chat application, service) lands in a :class:`Registry` keyed by its lower-case
name and carries the name of the module that owns it.  A module may replace its *own*
entry (a reload does), never another module's: :meth:`Registry.add` raises
:class:`NameTaken` naming both modules, and the module's load fails with that reason.
Unloading removes exactly the entries the module owns (:meth:`Registry.remove_owned`).

Reading is plain ``dict`` access (``switch.apis.get(name)``), so the core's hot paths pay
nothing; writes take a lock so two modules loading at once cannot both win a name.
"""

from __future__ import annotations

import threading
from typing import Any, TypeVar

T = TypeVar("T")


class ModuleLoadError(Exception):
    """Raised by a module's load hook to refuse loading, with a reason for the log
    (also importable as ``fsd.module.ModuleLoadError``)."""


class NameTaken(ModuleLoadError):
    """A module tried to register a name another module already owns."""

    def __init__(self, kind: str, name: str, owner: str, intruder: str) -> None:
        super().__init__(f"{kind} '{name}' is already registered by module {owner}; "
                         f"module {intruder} cannot register it")
        self.kind, self.name, self.owner, self.intruder = kind, name, owner, intruder


class Registry(dict[str, T]):
    """``name -> interface``; every interface has a ``module`` attribute (its owner)."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self._lock = threading.Lock()

    def add(self, name: str, item: T, owner: str) -> str:
        """Register ``item`` under ``name`` (lower-cased, returned) for module ``owner``."""
        key = name.strip().lower()
        if not key:
            raise ModuleLoadError(f"module {owner}: a {self.kind} needs a name")
        with self._lock:
            current = dict.get(self, key)
            if current is not None and owner_of(current) != owner:
                raise NameTaken(self.kind, key, owner_of(current), owner)
            self[key] = item
        return key

    def owner(self, name: str) -> str | None:
        item = self.get(name.strip().lower())
        return None if item is None else owner_of(item)

    def remove_owned(self, owner: str, names: list[str] | None = None) -> list[str]:
        """Remove ``owner``'s entries (only those among ``names`` when given); an entry of
        the same name owned by another module stays."""
        removed: list[str] = []
        with self._lock:
            keys = list(self) if names is None else [n.lower() for n in names]
            for key in keys:
                item = dict.get(self, key)
                if item is not None and owner_of(item) == owner:
                    del self[key]
                    removed.append(key)
        return removed


def owner_of(item: Any) -> str:
    return getattr(item, "module", "") or ""
