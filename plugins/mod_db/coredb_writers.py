"""How one batch reaches the core database: SQLite (stdlib sqlite3) or ODBC (pyodbc).

Both run on CoreDb's writer thread, which owns the connection.  The shared rule
(:meth:`BatchWriter.write`): the batch's statements, folded by coredb_coalesce, go in one
transaction, one ``executemany`` per statement group; a batch that fails is rolled back and
its original statements are replayed one at a time, so a bad row costs only itself.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from fsd.log import ERR, WARNING, log

from .backends import DbError, is_disconnect, pyodbc
from .coredb_coalesce import Group, coalesce
from .coredb_schema import Op, cleanup_ops, schema_statements
from .dsn import Dsn


class _GiveUp(Exception):
    """The batch cannot be written at all (the connection could not be re-opened)."""


class BatchWriter:
    """One connection, used by one thread.  Subclasses supply the driver calls."""

    errors: tuple[type[BaseException], ...] = ()

    def open(self, hostname: str) -> None:
        """Connect, create the schema, delete this node's stale rows."""
        self._connect()
        for stmt in schema_statements():
            self._execute(stmt, ())
        for sql, params in cleanup_ops(hostname):
            self._execute(sql, params)

    def write(self, ops: list[Op]) -> tuple[int, int, int]:
        """Write one batch: (statements written, statements failed, SQL rows run)."""
        if not ops:
            return 0, 0, 0
        groups = coalesce(ops)
        for attempt in (1, 2):
            try:
                self._transaction(groups)
                return len(ops), 0, sum(len(rows) for _, rows in groups)
            except self.errors as e:
                err = self._describe(e)
                self._rollback()
                try:
                    if attempt == 1 and self._recover(err):
                        continue
                except _GiveUp as g:
                    log(ERR, f"core database reconnect failed: {g}; "
                             f"{len(ops)} statement(s) not written")
                    return 0, len(ops), 0
                log(WARNING, f"core database batch failed ({err}); replaying it row by row")
                break
        written = failed = 0
        for sql, params in ops:
            try:
                self._execute(sql, params)
                written += 1
            except self.errors as e:
                failed += 1
                log(ERR, f"core database write failed: {self._describe(e)} [{sql}]")
        return written, failed, len(ops)

    # -- driver calls ---------------------------------------------------------------
    def _connect(self) -> None:
        raise NotImplementedError

    def _transaction(self, groups: list[Group]) -> None:
        raise NotImplementedError

    def _rollback(self) -> None:
        raise NotImplementedError

    def _execute(self, sql: str, params: tuple[Any, ...]) -> None:
        raise NotImplementedError

    def _describe(self, e: BaseException) -> Any:
        return e

    def _recover(self, err: Any) -> bool:
        """After a failed batch: True to run it again (a fresh connection)."""
        return False

    def close(self) -> None:
        raise NotImplementedError


class SqliteWriter(BatchWriter):
    """The default core database: a SQLite file in WAL mode (readers on other
    connections are never blocked by the writer), synchronous=NORMAL (a commit waits for
    the WAL write, not for fsync: a power cut may lose the last batches, never corrupt)."""

    errors = (sqlite3.Error,)

    def __init__(self, path: str) -> None:
        self.path = path
        self.conn: sqlite3.Connection | None = None

    def _connect(self) -> None:
        self.conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")

    def _transaction(self, groups: list[Group]) -> None:
        conn = self.conn
        assert conn is not None
        conn.execute("BEGIN")
        for sql, rows in groups:
            conn.executemany(sql, rows)
        conn.execute("COMMIT")

    def _rollback(self) -> None:
        assert self.conn is not None
        if self.conn.in_transaction:
            try:
                self.conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass

    def _execute(self, sql: str, params: tuple[Any, ...]) -> None:
        assert self.conn is not None
        self.conn.execute(sql, params)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def odbc_connect(dsn: Dsn) -> Any:
    """An autocommit pyodbc connection to ``dsn`` (DbError when it cannot be made)."""
    if pyodbc is None:
        raise DbError("ODBC is not available")
    try:
        return pyodbc.connect(dsn.odbc_connect_string(), autocommit=True, timeout=5)
    except pyodbc.Error as e:
        raise DbError(str(e.args[-1] if e.args else e)) from None


def odbc_error(e: BaseException) -> DbError:
    args = getattr(e, "args", ())
    return DbError(str(args[-1] if args else e), args[0] if len(args) > 1 else "")


class OdbcWriter(BatchWriter):
    """``core-db-dsn``: ODBC or PostgreSQL through pyodbc.  A batch that fails because
    the server went away is replayed once on a new connection (it was not committed)."""

    errors = (pyodbc.Error,) if pyodbc is not None else ()

    def __init__(self, dsn: Dsn) -> None:
        self.dsn = dsn
        self.conn: Any = None

    def _connect(self) -> None:
        self.conn = odbc_connect(self.dsn)

    def _execute(self, sql: str, params: tuple[Any, ...]) -> None:
        cur = self.conn.cursor()
        try:
            cur.execute(sql, params)
        finally:
            cur.close()

    def _transaction(self, groups: list[Group]) -> None:
        self.conn.autocommit = False
        cur = self.conn.cursor()
        for sql, rows in groups:
            cur.executemany(sql, rows)
        self.conn.commit()
        self.conn.autocommit = True

    def _rollback(self) -> None:
        try:
            self.conn.rollback()
            self.conn.autocommit = True
        except Exception:  # noqa: BLE001 - a dead connection cannot roll back
            pass

    def _describe(self, e: BaseException) -> DbError:
        return odbc_error(e)

    def _recover(self, err: Any) -> bool:
        if not is_disconnect(err):
            return False
        log(WARNING, f"core database connection lost ({err}); reconnecting")
        try:
            self._connect()
        except DbError as e:
            raise _GiveUp(str(e)) from None
        return True

    def close(self) -> None:
        try:
            if self.conn is not None:
                self.conn.close()
        except Exception:  # noqa: BLE001
            pass
        self.conn = None
