"""The foreground console: log output level, the interactive API prompt, shutdown requests.

``-c`` runs :func:`run_console` on the main thread: each line typed is an API command
(``version``, ``status``…); ``/exit``, ``/quit``, ``/bye`` or end of input stop the switch.
History is kept in ``<base>/.fsd_history`` when a terminal is attached (prompt-toolkit);
without a terminal lines are read plainly so that the console can be scripted.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import TYPE_CHECKING

from fsd.log import DEBUG, ConsoleSink, logger

if TYPE_CHECKING:  # pragma: no cover
    from fsd.switch import Switch

_console_sink: int | None = None
_console_level = DEBUG
_shutdown_requested = threading.Event()
EXIT_WORDS = {"/exit", "/quit", "/bye", "...", "exit", "quit", "bye"}


def attach_console_log(level: int, colour: bool | None = None, stream=None) -> None:
    """Send log lines at ``level`` or more severe to the console."""
    global _console_sink, _console_level
    _console_level = level
    _console_sink = logger.add_sink(ConsoleSink(stream or sys.stdout, colour), level)


def set_colour(enabled: bool) -> None:
    """``colorize-console``: colour only when enabled and the console is a terminal."""
    if _console_sink is None:
        return
    sink = logger.sink(_console_sink)
    if sink is not None:
        sink.colour = bool(enabled) and sink.stream.isatty()


def console_level(level: int | None = None) -> int:
    """Get or set the console's log level (``console loglevel``)."""
    global _console_level
    if level is not None:
        _console_level = level
        if _console_sink is not None:
            logger.set_sink_level(_console_sink, level)
    return _console_level


def request_shutdown(switch: Switch | None = None) -> None:
    """Ask the process's main thread to stop the switch (``fsctl shutdown``, signals)."""
    _shutdown_requested.set()


def shutdown_requested() -> threading.Event:
    return _shutdown_requested


def run_console(switch: Switch) -> None:
    """Read API commands until ``/exit`` or end of input, printing each result."""
    prompt = f"freeswitch@{switch.switchname}> "
    read_line = _terminal_reader(switch, prompt) if sys.stdin.isatty() else None
    while not _shutdown_requested.is_set():
        try:
            if read_line:
                line = read_line()
            else:
                line = sys.stdin.readline()
                if not line:
                    break
        except (EOFError, KeyboardInterrupt):
            break
        line = line.strip()
        if not line:
            continue
        if line.lower() in EXIT_WORDS:
            break
        if line.startswith("/"):
            line = line[1:]
        out = switch.api.execute_line(line)
        sys.stdout.write(out if out.endswith("\n") else out + "\n")
        sys.stdout.flush()
    _shutdown_requested.set()


def _terminal_reader(switch: Switch, prompt: str):
    try:
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import FileHistory
    except ImportError:  # pragma: no cover - dependency is declared
        return lambda: input(prompt)
    hist = os.path.join(switch.dirs.base, ".fsd_history")
    session: PromptSession = PromptSession(history=FileHistory(hist))
    return lambda: session.prompt(prompt)
