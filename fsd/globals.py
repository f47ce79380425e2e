"""Global variables (``$${name}``, ``global_getvar``, ``freeswitch.getGlobalVariable``)."""

from __future__ import annotations

import threading
from collections.abc import Iterator


class GlobalVariables:
    """A thread-safe mapping of the switch's global variables."""

    def __init__(self, initial: dict[str, str] | None = None) -> None:
        self._lock = threading.Lock()
        self._vars: dict[str, str] = dict(initial or {})

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._vars.get(name, default)

    def set(self, name: str, value: str | None) -> None:
        """Set a variable; ``None`` deletes it (as FreeSWITCH's setGlobalVariable(nil))."""
        with self._lock:
            if value is None:
                self._vars.pop(name, None)
            else:
                self._vars[name] = str(value)

    def delete(self, name: str) -> None:
        with self._lock:
            self._vars.pop(name, None)

    def update(self, values: dict[str, str]) -> None:
        with self._lock:
            self._vars.update(values)

    def items(self) -> list[tuple[str, str]]:
        with self._lock:
            return sorted(self._vars.items())

    def __contains__(self, name: object) -> bool:
        return name in self._vars

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._vars))

    def __len__(self) -> int:
        return len(self._vars)
