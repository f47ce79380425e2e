"""What a script reaches of the switch, behind one small object (any language).

The script objects never touch the core directly: API calls, global variables, the event
bus, the scripts directory all come from a :class:`ScriptHost`.  A language module builds
one from the running switch (:meth:`ScriptHost.from_switch`); tests build one from real
parts (a real EventBus, GlobalVariables and an API table) without a daemon.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fsd.events import Event

ApiExecute = Callable[[str, str, Any], str]


class ScriptHost:
    """The switch as scripts see it.

    ``api_execute(cmd, args, session) -> str`` runs an API command (whole output, with
    FreeSWITCH's ``INVALID COMMAND!`` for unknown ones); ``globals`` has ``get/set``;
    ``events`` is the EventBus; ``running()`` tells whether the core is up."""

    def __init__(
        self,
        *,
        api_execute: ApiExecute,
        globals: Any,
        events: Any,
        scripts_dir: str,
        running: Callable[[], bool] | None = None,
        switch: Any = None,
    ) -> None:
        self.api_execute = api_execute
        self.globals = globals
        self.events = events
        self.scripts_dir = scripts_dir
        self._running = running
        self.switch = switch

    @classmethod
    def from_switch(cls, switch: Any, **kw: Any) -> Any:
        """A host over the running switch (core contract: ``api_execute``, ``globals``,
        ``events``, ``dirs.scripts``, ``running``)."""

        def api_execute(cmd: str, args: str = "", session: Any = None) -> str:
            return switch.api_execute(cmd, args or "", session)

        return cls(api_execute=api_execute, globals=switch.globals, events=switch.events,
                   scripts_dir=switch.dirs.scripts,
                   running=lambda: bool(getattr(switch, "running", True)), switch=switch, **kw)

    def running(self) -> bool:
        return True if self._running is None else bool(self._running())

    def fire(self, event: Event) -> bool:
        """Hand an event to the bus (never blocks)."""
        return bool(self.events.fire(event))
