"""Logging with FreeSWITCH's levels, sinks for console/file/ESL, and the channel UUID.

``log(level, text, uuid=...)`` is the one call everything uses.  Lines go to every sink
whose level admits them; a sink is any callable taking a :class:`LogRecord`.  The console
sink colours lines on a terminal; the file sink writes ``<log dir>/fsd.log``; the event
socket attaches its own sinks for ``log <level>``.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from fsd.numbers import to_int

CONSOLE, ALERT, CRIT, ERR, WARNING, NOTICE, INFO, DEBUG = range(8)

LEVEL_NAMES = ["CONSOLE", "ALERT", "CRIT", "ERR", "WARNING", "NOTICE", "INFO", "DEBUG"]
_NAME_TO_LEVEL = {n.lower(): i for i, n in enumerate(LEVEL_NAMES)}
# Only these eight names: FreeSWITCH does not know "error" or "warn" (scripts that use
# them silently log at debug, and so do we).

_COLOURS = {
    CONSOLE: "\033[0m",
    ALERT: "\033[31m",
    CRIT: "\033[31m",
    ERR: "\033[31m",
    WARNING: "\033[35m",
    NOTICE: "\033[36m",
    INFO: "\033[32m",
    DEBUG: "\033[33m",
}


def level_from_str(text: str | int | None, default: int | None = None) -> int | None:
    """Parse a level name (case-insensitive) or number; ``default`` when unknown."""
    if text is None:
        return default
    if isinstance(text, int):
        return max(0, min(text, DEBUG))
    t = str(text).strip().lower()
    n = to_int(t)
    if n is not None:
        return max(0, min(n, DEBUG))
    return _NAME_TO_LEVEL.get(t, default)


def level_name(level: int) -> str:
    """Upper-case name of a level (``ERR``), clamped to the table."""
    return LEVEL_NAMES[max(0, min(level, DEBUG))]


@dataclass
class LogRecord:
    """One log line as every sink receives it."""

    level: int
    text: str
    uuid: str = ""
    file: str = ""
    func: str = ""
    line: int = 0
    timestamp: float = field(default_factory=time.time)
    clean: bool = False  # consoleCleanLog: no prefix

    def format(self) -> str:
        """The console/file form: ``2024-03-05 14:07:09.123456 [ERR] file:line uuid text``."""
        if self.clean:
            return self.text
        t = time.localtime(self.timestamp)
        usec = int((self.timestamp % 1) * 1_000_000)
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", t) + f".{usec:06d}"
        where = f"{self.file}:{self.line} " if self.file else ""
        who = f"{self.uuid} " if self.uuid else ""
        text = self.text if self.text.endswith("\n") else self.text + "\n"
        return f"{who}{stamp} [{level_name(self.level)}] {where}{text}"


Sink = Callable[[LogRecord], None]


class Logger:
    """The process-wide log router.  Thread-safe; sinks must not block for long."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sinks: dict[int, tuple[int, Sink]] = {}
        self._next = 1
        self.level = DEBUG  # the core's max level (fsctl loglevel)

    def add_sink(self, sink: Sink, level: int = DEBUG) -> int:
        """Attach a sink that receives lines at ``level`` or more severe; returns an id."""
        with self._lock:
            sid = self._next
            self._next += 1
            self._sinks[sid] = (level, sink)
            return sid

    def sink(self, sid: int) -> Sink | None:
        """The sink registered under ``sid`` (or None)."""
        entry = self._sinks.get(sid)
        return entry[1] if entry else None

    def set_sink_level(self, sid: int, level: int) -> None:
        with self._lock:
            if sid in self._sinks:
                self._sinks[sid] = (level, self._sinks[sid][1])

    def remove_sink(self, sid: int) -> None:
        with self._lock:
            self._sinks.pop(sid, None)

    def emit(self, record: LogRecord) -> None:
        if record.level > self.level:
            return
        with self._lock:
            sinks = list(self._sinks.values())
        for lvl, sink in sinks:
            if record.level <= lvl:
                try:
                    sink(record)
                except Exception:  # a broken sink never breaks the caller
                    pass


logger = Logger()


def log(
    level: int,
    text: str,
    *,
    uuid: str = "",
    file: str = "",
    func: str = "",
    line: int = 0,
    clean: bool = False,
) -> None:
    """Log ``text`` at ``level``.  When ``file`` is empty, the caller's file and line are
    taken so that every line says where it came from."""
    if level > logger.level:
        return
    if not file:
        frame = sys._getframe(1)
        file = os.path.basename(frame.f_code.co_filename)
        func = func or frame.f_code.co_name
        line = line or frame.f_lineno
    logger.emit(LogRecord(level, text, uuid, file, func, line, clean=clean))


class ConsoleSink:
    """Writes to a stream; colours by level when ``colour`` is true (a terminal)."""

    def __init__(self, stream=None, colour: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.colour = self.stream.isatty() if colour is None else colour
        self._lock = threading.Lock()

    def __call__(self, record: LogRecord) -> None:
        text = record.format()
        if self.colour:
            text = f"{_COLOURS.get(record.level, '')}{text.rstrip(chr(10))}\033[0m\n"
        with self._lock:
            self.stream.write(text)
            self.stream.flush()


class FileSink:
    """Appends to a log file, line-buffered."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fh = open(path, "a", buffering=1, encoding="utf-8", errors="replace")
        self._lock = threading.Lock()

    def __call__(self, record: LogRecord) -> None:
        with self._lock:
            self._fh.write(record.format())

    def close(self) -> None:
        with self._lock:
            self._fh.close()
