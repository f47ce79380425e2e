"""One open database connection per object: SQLite through the stdlib, ODBC through pyodbc.

Both backends give the pool and :class:`~fsd_modules.mod_db.handle.DbHandle` the same small
surface: ``execute(sql, on_row)`` (rows arrive as ``(columns, values)``; ``on_row``
returning True stops the iteration), ``close()``, ``load_extension(name)``.  Driver errors
are raised as :class:`DbError` carrying the driver's message.

The ODBC backend reconnects by itself when the server went away (the rule is in
:meth:`OdbcBackend.execute` and docs/db.md).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from fsd.log import DEBUG, ERR, WARNING, log

from .dsn import SQLITE, Dsn

try:  # pyodbc needs unixODBC's libodbc.so.2; SQLite works without it.
    import pyodbc

    # Our pool owns connection reuse; the driver manager's own pooling would hide
    # dead connections from us.
    pyodbc.pooling = False
except ImportError:  # pragma: no cover - exercised only on a machine without unixODBC
    pyodbc = None

RowCallback = Callable[[Sequence[str], Sequence[Any]], bool]

_DML = {"insert", "update", "delete", "merge", "replace", "upsert", "with"}
_READ_ONLY = {"select", "values", "show", "pragma", "explain", "table"}
_WRITE_WORDS = re.compile(r"\b(insert|update|delete|merge|create|drop|alter|truncate)\b", re.I)
_FIRST_WORD = re.compile(r"\s*(?:--[^\n]*\n\s*|/\*.*?\*/\s*)*([A-Za-z]+)", re.S)


class DbError(Exception):
    """A driver error; ``str()`` is the driver's message."""

    def __init__(self, message: str, sqlstate: str = "") -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def first_word(sql: str) -> str:
    """The statement's first keyword, lower-case ('' when none)."""
    m = _FIRST_WORD.match(sql)
    return m.group(1).lower() if m else ""


def is_read_only(sql: str) -> bool:
    """True when re-running ``sql`` cannot change data (SELECT/VALUES/SHOW/…, and WITH
    queries that hold no data-changing keyword)."""
    word = first_word(sql)
    if word in _READ_ONLY:
        return not (word == "explain" and "analyze" in sql.lower())
    if word == "with":
        return not _WRITE_WORDS.search(sql)
    return False


def to_text(value: Any) -> str | None:
    """A column value as the string a script sees (None stays None for SQL NULL)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "replace")
    return str(value)


def split_sqlite(sql: str) -> list[str]:
    """Split a script into statements the way sqlite3_exec walks it (``;`` inside strings,
    comments and trigger bodies does not split)."""
    if ";" not in sql.rstrip().rstrip(";"):
        return [sql]
    out: list[str] = []
    buf = ""
    for piece in sql.split(";"):
        buf += piece + ";"
        if sqlite3.complete_statement(buf):
            if buf.strip(" \t\r\n;"):
                out.append(buf)
            buf = ""
    if buf.strip(" \t\r\n;"):
        out.append(buf)
    return out


class SqliteBackend:
    """A stdlib sqlite3 connection, used on whichever thread holds the handle."""

    kind = SQLITE

    def __init__(self, dsn: Dsn, busy_timeout: float = 5.0) -> None:
        self.dsn = dsn
        try:
            self.conn = sqlite3.connect(
                dsn.path, timeout=busy_timeout, isolation_level=None,
                check_same_thread=False, uri=dsn.memory,
            )
        except sqlite3.Error as e:
            raise DbError(f"cannot open SQLite database {dsn.path}: {e}") from None
        self.in_transaction = False

    def execute(self, sql: str, on_row: RowCallback | None = None) -> int | None:
        """Run every statement of ``sql``; return the change count of the last
        data-changing statement (None when there was none)."""
        changes: int | None = None
        cur = self.conn.cursor()
        try:
            for stmt in split_sqlite(sql):
                cur.execute(stmt)
                if cur.rowcount >= 0:
                    changes = cur.rowcount
                if on_row is not None and cur.description:
                    cols = [d[0] for d in cur.description]
                    for row in cur:
                        if on_row(cols, row):
                            return changes
        except sqlite3.Error as e:
            raise DbError(str(e)) from None
        finally:
            cur.close()
        return changes

    def load_extension(self, name: str) -> int:
        """sqlite3_load_extension's result: 0 (SQLITE_OK) on success, 1 on failure.

        Only through ``sqlite3.Connection.enable_load_extension``/``load_extension``: a
        Python whose sqlite3 module was built without loadable-extension support (CPython
        without ``--enable-loadable-sqlite-extensions``, e.g. a pyenv build) cannot load
        extensions, and the call is refused with 1 and a log line saying why.  (Reaching
        the C handle another way would mean reading CPython's private object layout and
        guessing which libsqlite3 the module linked: memory corruption when wrong.)"""
        if not extensions_supported():
            log(ERR, f"LOAD EXTENSION ERR [{NO_EXTENSIONS}]")
            return 1
        try:
            self.conn.enable_load_extension(True)
            self.conn.load_extension(name)
            return 0
        except sqlite3.Error as e:
            log(ERR, f"LOAD EXTENSION ERR [{e}]")
            return 1
        finally:
            try:
                self.conn.enable_load_extension(False)
            except sqlite3.Error:
                pass

    def ping(self) -> bool:
        return True

    def close(self) -> None:
        try:
            self.conn.close()
        except sqlite3.Error:
            pass


NO_EXTENSIONS = (
    "SQLite extensions cannot be loaded: this Python's sqlite3 module was built without "
    "loadable extension support (sqlite3.Connection has no enable_load_extension)"
)


def extensions_supported() -> bool:
    """True when this Python's sqlite3 module can load SQLite extensions."""
    return hasattr(sqlite3.Connection, "enable_load_extension")


# SQLSTATEs meaning the connection is gone.
_DISCONNECT_STATES = {"08S01", "08003", "08006", "08000", "08007", "57P01", "57P02", "57P03"}
_DISCONNECT_TEXT = re.compile(
    r"connection (?:has been |was )?lost|no connection to the server|server closed the "
    r"connection|could not (?:send|receive) data|terminating connection|connection not open|"
    r"closed connection",
    re.I,
)
# Errors that prove the statement never ran: the server had already ended the session
# (57P01 is sent to idle sessions on shutdown and rolls back a running one), or the
# driver refused to send it because it knew the link was down.
_NOT_SENT = re.compile(r"unable due to the connection lost|no connection to the server|"
                       r"connection (?:does not exist|not open)|could not send data|"
                       r"closed connection", re.I)


def _odbc_error(e: Exception) -> DbError:
    args = getattr(e, "args", ())
    state = args[0] if len(args) > 1 and isinstance(args[0], str) else ""
    msg = args[1] if len(args) > 1 else (args[0] if args else repr(e))
    return DbError(str(msg).strip(), state)


def is_disconnect(err: DbError) -> bool:
    """True when ``err`` says the server connection is gone."""
    return err.sqlstate in _DISCONNECT_STATES or bool(_DISCONNECT_TEXT.search(str(err)))


def retry_is_safe(err: DbError, sql: str, in_transaction: bool) -> bool:
    """May ``sql`` be run again on a new connection after ``err``?

    Never inside an explicit transaction (its earlier statements died with the old
    connection).  Otherwise yes when the statement is read-only, or when the error proves
    the statement never reached a live server (57P01, or the driver refused to send)."""
    if in_transaction:
        return False
    if is_read_only(sql):
        return True
    return err.sqlstate == "57P01" or bool(_NOT_SENT.search(str(err)))


class OdbcBackend:
    """A pyodbc connection (unixODBC), autocommit like FreeSWITCH's ODBC handles."""

    def __init__(self, dsn: Dsn, login_timeout: int = 5,
                 on_reconnect: Callable[[], None] | None = None) -> None:
        if pyodbc is None:
            raise DbError("ODBC is not available (install unixodbc and pyodbc)")
        self.dsn = dsn
        self.kind = dsn.kind
        self.login_timeout = login_timeout
        self.on_reconnect = on_reconnect
        self.in_transaction = False
        self.conn = self._connect()

    def _connect(self) -> Any:
        try:
            return pyodbc.connect(self.dsn.odbc_connect_string(), autocommit=True,
                                  timeout=self.login_timeout)
        except pyodbc.Error as e:
            raise _odbc_error(e) from None

    def _track_transaction(self, sql: str) -> None:
        word = first_word(sql)
        if word in ("begin", "start"):
            self.in_transaction = True
        elif word in ("commit", "rollback", "end"):
            self.in_transaction = False

    def execute(self, sql: str, on_row: RowCallback | None = None) -> int | None:
        """Run ``sql``.  When the server went away, reconnect once; run the statement
        again only when :func:`retry_is_safe` says so, else raise the original error
        (the handle is connected again for the next statement)."""
        try:
            return self._execute(sql, on_row)
        except DbError as err:
            if not is_disconnect(err):
                raise
            was_in_txn = self.in_transaction
            log(WARNING, f"database connection lost ({err}); reconnecting to "
                         f"{self.dsn.describe()}")
            self.reconnect()
            if not retry_is_safe(err, sql, was_in_txn):
                raise
            log(DEBUG, "statement re-run on the new connection")
            return self._execute(sql, on_row)

    def _execute(self, sql: str, on_row: RowCallback | None) -> int | None:
        changes: int | None = None
        try:
            cur = self.conn.cursor()
        except pyodbc.Error as e:
            raise _odbc_error(e) from None
        try:
            cur.execute(sql)
            self._track_transaction(sql)
            while True:
                if cur.description is None:
                    if cur.rowcount >= 0 and first_word(sql) in _DML:
                        changes = cur.rowcount
                elif on_row is not None:
                    cols = [d[0] for d in cur.description]
                    for row in cur:
                        if on_row(cols, row):
                            return changes
                if not cur.nextset():
                    break
        except pyodbc.Error as e:
            raise _odbc_error(e) from None
        finally:
            try:
                cur.close()
            except pyodbc.Error:
                pass
        return changes

    def reconnect(self) -> None:
        """Drop the dead connection and open a new one (raises DbError if that fails)."""
        try:
            self.conn.close()
        except Exception:  # noqa: BLE001 - a dead connection may fail to close any way
            pass
        self.in_transaction = False
        self.conn = self._connect()
        if self.on_reconnect:
            self.on_reconnect()

    def load_extension(self, name: str) -> int:
        log(ERR, f"load extension not supported by type {self.kind}")
        return 0

    def close(self) -> None:
        try:
            self.conn.close()
        except Exception:  # noqa: BLE001
            pass


def open_backend(dsn: Dsn, busy_timeout: float = 5.0,
                 on_reconnect: Callable[[], None] | None = None) -> SqliteBackend | OdbcBackend:
    """Open a new connection for ``dsn`` (raises DbError with the driver's reason)."""
    if dsn.kind == SQLITE:
        return SqliteBackend(dsn, busy_timeout)
    return OdbcBackend(dsn, login_timeout=max(1, int(busy_timeout)), on_reconnect=on_reconnect)
