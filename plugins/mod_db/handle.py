"""``DbHandle``: FreeSWITCH's ``freeswitch.Dbh`` semantics (spec §9) for Python callers.

mod_lua's ``freeswitch.Dbh`` wraps this class one to one: every method has the Lua name,
arguments and results (``query_rows`` returns the three values as a tuple).  A handle is
used by one thread at a time, like a Lua state.
"""

from __future__ import annotations

import math
import threading
import traceback
import weakref
from collections.abc import Callable
from typing import Any

from fsd.log import ERR, log

from .backends import DbError, to_text
from .dsn import SQLITE, DsnError, join_dsn
from .pool import DbManager, Lease

NOT_CONNECTED = "DBH NOT Connected."
MISSING_SQL = "Missing SQL query."
QUERY_FAILED = "Failed to execute sql query"


def callback_stops(value: Any) -> bool:
    """Does a row callback's return value stop the iteration?

    As FreeSWITCH: the value goes through ``lua_tonumber`` and is truncated to an int, so
    a number or numeric string whose integer part is non-zero stops; booleans, None,
    0 and non-numeric values go on."""
    if value is None or isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        number: float = value
    elif isinstance(value, (str, bytes)):
        text = value.decode(errors="replace") if isinstance(value, bytes) else value
        parsed = _lua_number(text)
        if parsed is None:
            return False
        number = parsed
    else:
        return False
    if math.isnan(number) or math.isinf(number):
        return True
    return int(number) != 0


def _lua_number(text: str) -> float | None:
    t = text.strip()
    if not t:
        return None
    try:
        return float(t)
    except ValueError:
        pass
    sign = -1 if t.startswith("-") else 1
    body = t.lstrip("+-")
    if body.lower().startswith("0x"):
        try:
            return sign * float(int(body[2:], 16))
        except ValueError:
            return None
    return None


class DbHandle:
    """A database handle taken from the pool of ``dsn`` (see :mod:`.dsn` for the forms).

    A failed connection logs ``Connection failed.  DBH NOT Connected.`` and leaves an
    object whose ``connected()`` is False.  ``owner`` tags the lease so
    ``DbManager.release_owner(owner)`` can return it when a script ends."""

    def __init__(self, manager: DbManager, dsn: str, user: str | None = None,
                 password: str | None = None, *, owner: Any = None,
                 timeout: float | None = None, cancel: threading.Event | None = None) -> None:
        self._manager = manager
        self._lease: Lease | None = None
        self._finalizer: weakref.finalize | None = None
        self._err: str | None = None
        self._affected = 0
        full = join_dsn(dsn or "", user, password)
        try:
            if not full:
                raise DsnError("empty DSN")
            lease = manager.acquire(full, timeout=timeout, owner=owner, cancel=cancel)
        except DbError as e:
            self._connect_failed(str(e))
        except DsnError as e:
            self._connect_failed(f"bad DSN: {e}")
        else:
            self._lease = lease
            # Collected without release(): the connection still goes back to the pool.
            self._finalizer = weakref.finalize(self, lease.release)
            # (FreeSWITCH logs "Connected."/"released." at DEBUG10, below any level a
            # console shows; they are left out here, being on every script's hot path.)

    def _connect_failed(self, reason: str) -> None:
        log(ERR, f"database connection error: {reason}")
        log(ERR, "Connection failed.  DBH NOT Connected.")
        self._err = reason

    # -- state ------------------------------------------------------------------------
    def connected(self) -> bool:
        """True when a pooled handle was obtained (the server is not pinged)."""
        return self._lease is not None

    def last_error(self) -> str | None:
        return self._err

    def clear_error(self) -> None:
        self._err = None

    def release(self) -> bool:
        """Return the handle to the pool; False (and a log line) when already returned."""
        lease = self._lease
        if lease is None:
            log(ERR, NOT_CONNECTED)
            return False
        self._lease = None
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        lease.release()
        return True

    def __enter__(self) -> DbHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._lease is not None:
            self.release()

    # -- statements -------------------------------------------------------------------
    def _run(self, sql: str, on_row: Callable[..., bool] | None) -> None:
        """Execute on the leased backend; raises DbError.  Tracks affected_rows."""
        assert self._lease is not None
        try:
            changes = self._lease.backend.execute(sql, on_row)
        except DbError:
            self._lease.pool.note_error()
            raise
        if changes is not None:
            self._affected = changes

    def query(self, sql: str, callback: Callable[[dict[str, str]], Any] | None = None) -> bool:
        """Run ``sql``; with ``callback`` call it once per row with ``{column: text}``
        (NULL as ``""``).  See :func:`callback_stops` for what stops the rows."""
        self._err = None
        if callback is not None and not callable(callback):
            raise TypeError("query: the second argument must be a function")
        if not sql:
            log(ERR, MISSING_SQL)
            return False
        if self._lease is None:
            log(ERR, NOT_CONNECTED)
            return False
        if callback is None:
            try:
                self._run(sql, None)
            except DbError as e:
                self._err = str(e) or QUERY_FAILED
                return False
            return True

        def on_row(cols: list[str], values: tuple) -> bool:
            row = {c: ("" if v is None else to_text(v)) for c, v in zip(cols, values, strict=False)}
            try:
                return callback_stops(callback(row))
            except Exception as e:  # noqa: BLE001 - a script error stops the rows only
                log(ERR, f"error in query callback: {e}\n{traceback.format_exc()}")
                return True

        try:
            self._run(sql, on_row)
        except DbError as e:
            # FreeSWITCH's core SQLite path does not fill the error for callback queries;
            # ODBC and loadable drivers do.
            if self._lease.backend.kind != SQLITE:
                self._err = str(e) or QUERY_FAILED
            return False
        return True

    def query_rows(self, sql: str) -> tuple[bool, list[dict[str, str]], str | None]:
        """``(ok, rows, err)``: every row as ``{column: text}`` with NULL columns absent."""
        self._err = None
        rows: list[dict[str, str]] = []
        if not sql:
            log(ERR, MISSING_SQL)
            return False, rows, MISSING_SQL
        if self._lease is None:
            log(ERR, NOT_CONNECTED)
            return False, rows, NOT_CONNECTED

        def on_row(cols: list[str], values: tuple) -> bool:
            rows.append({c: to_text(v) for c, v in zip(cols, values, strict=False) if v is not None})
            return False

        try:
            self._run(sql, on_row)
        except DbError as e:
            self._err = str(e) or QUERY_FAILED
            return False, [], self._err
        return True, rows, None

    def test_reactive(self, test_sql: str | None, drop_sql: str | None = None,
                      reactive_sql: str | None = None) -> bool:
        """Run ``test_sql``; if it fails run ``drop_sql`` (if any) then ``reactive_sql``.
        True when ``test_sql`` or ``reactive_sql`` succeeded."""
        if self._lease is None:
            log(ERR, NOT_CONNECTED)
            return False
        if not test_sql or not reactive_sql:
            log(ERR, "Missing parameters.")
            return False
        if not self._manager.auto_clear_sql:
            return True
        if not self._manager.auto_create_schemas:
            return self._ok(test_sql)
        if self._ok(test_sql):
            return True
        if drop_sql:
            self._ok(drop_sql)
        try:
            self._run(reactive_sql, None)
            return True
        except DbError as e:
            log(ERR, f"SQL ERR [{e}]\n[{reactive_sql}]\nAuto Generation failed")
            return False

    def _ok(self, sql: str) -> bool:
        try:
            self._run(sql, None)
            return True
        except DbError:
            return False

    def affected_rows(self) -> int:
        """Rows changed by the last INSERT/UPDATE/DELETE run through this handle."""
        if self._lease is None:
            log(ERR, NOT_CONNECTED)
            return 0
        return self._affected

    def load_extension(self, name: str) -> int:
        """SQLite extension load: 0 on success (SQLITE_OK), 1 when the load failed;
        0 with an error log when the name is missing or the handle is not connected."""
        if not name:
            log(ERR, "Missing extension name.")
            return 0
        if self._lease is None:
            log(ERR, NOT_CONNECTED)
            return 0
        return self._lease.backend.load_extension(name)
