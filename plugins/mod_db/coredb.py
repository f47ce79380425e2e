"""The core database: channels, calls, interfaces, registrations (see coredb_schema).

``ingest(event)`` only appends to an in-memory queue — it never touches the database and
never waits on it, so a slow or dead database cannot slow call setup.  A batch writer
drains the queue every ``flush_interval`` (50 ms) or as soon as ``batch_rows`` (500)
events wait, writing each batch in one transaction:

* the default, SQLite ``<db dir>/core.db``, through aiosqlite, driven from the event loop;
* a ``core-db-dsn`` (ODBC or PostgreSQL), through pyodbc on a worker thread, since pyodbc
  calls block.

A batch that fails is rolled back and replayed one statement at a time, so one bad row
costs only itself; every failed statement is logged and counted (``stats()['failed']``).
When the queue is full (``max_queue``) new events are counted as dropped and logged.
"""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Iterable
from typing import Any

from fsd.log import ERR, WARNING, log

from .backends import DbError, is_disconnect, pyodbc
from .coredb_schema import (
    WANTED,
    Op,
    cleanup_ops,
    event_ops,
    registration_add_ops,
    registration_del_ops,
    schema_statements,
)
from .dsn import SQLITE, Dsn

_CUSTOM_WANTED = {"sofia::register", "sofia::unregister", "sofia::expire"}
_RAW_SQL = object()  # marks a queued list of ops instead of an event


class CoreDb:
    """The core database writer and reader.

    ``path`` is the SQLite file (default target); ``dsn`` a parsed ODBC/PostgreSQL DSN
    that replaces it.  ``loop`` is the running asyncio loop (needed for SQLite only)."""

    def __init__(self, *, hostname: str, path: str | None = None, dsn: Dsn | None = None,
                 loop: asyncio.AbstractEventLoop | None = None, flush_interval: float = 0.05,
                 batch_rows: int = 500, max_queue: int = 200_000) -> None:
        if dsn is None and path is None:
            raise ValueError("CoreDb needs a SQLite path or a DSN")
        if dsn is not None and dsn.kind == SQLITE:
            path, dsn = dsn.path, None
        if dsn is None and loop is None:
            raise ValueError("the SQLite core database is written from an event loop")
        self.hostname = hostname
        self.path = path
        self.dsn = dsn
        self.loop = loop
        self.flush_interval = flush_interval
        self.batch_rows = batch_rows
        self.max_queue = max_queue
        self._q: deque[Any] = deque()
        self._seq = itertools.count(1)
        self._queued = 0  # sequence number of the last queued item
        self._done = 0  # sequence number of the last item written (or failed)
        self._done_cond = threading.Condition()
        self._kicked = False
        self._stopping = False
        self.written = 0
        self.failed = 0
        self.dropped = 0
        self.batches = 0
        self._last_drop_log = 0.0
        self._wake_async: asyncio.Event | None = None
        self._wake_thread = threading.Event()
        self._task: Any = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._start_error: str | None = None
        self._reader = threading.local()
        self._odbc_read_lock = threading.Lock()
        self._odbc_read: Any = None

    # -- lifecycle --------------------------------------------------------------------
    def start(self, timeout: float = 10.0) -> None:
        """Create the schema, clear this node's stale rows, start the writer."""
        if self.dsn is None:
            assert self.loop is not None
            self._task = asyncio.run_coroutine_threadsafe(self._run_sqlite(), self.loop)
        else:
            self._thread = threading.Thread(target=self._run_odbc, name="coredb-writer",
                                            daemon=True)
            self._thread.start()
        if not self._ready.wait(timeout):
            raise DbError("core database writer did not start in time")
        if self._start_error:
            raise DbError(f"core database unavailable: {self._start_error}")

    def stop(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop the writer."""
        self._stopping = True
        self._kick()
        if self._task is not None:
            try:
                self._task.result(timeout)
            except Exception as e:  # noqa: BLE001
                log(ERR, f"core database writer ended with an error: {e}")
        if self._thread is not None:
            self._thread.join(timeout)
        if self._odbc_read is not None:
            try:
                self._odbc_read.close()
            except Exception:  # noqa: BLE001
                pass

    # -- the hot path -----------------------------------------------------------------
    def ingest(self, event: Any) -> bool:
        """Queue an event for the core database; never blocks.  False when the event is
        not one the core database keeps, or the queue is full (counted as dropped)."""
        name = event.name
        if name not in WANTED:
            return False
        if name == "CUSTOM" and (event.subclass or "").lower() not in _CUSTOM_WANTED:
            return False
        return self._put(event)

    def add_registration(self, user: str, realm: str, token: str, url: str, expires: int,
                         network_ip: str, network_port: str, network_proto: str = "udp",
                         metadata: str = "") -> bool:
        """Queue a registration row (what a SIP registrar calls on REGISTER)."""
        return self._put((_RAW_SQL, registration_add_ops(
            user, realm, token, url, expires, network_ip, network_port, network_proto,
            self.hostname, metadata)))

    def del_registration(self, user: str, realm: str, token: str = "") -> bool:
        return self._put((_RAW_SQL, registration_del_ops(user, realm, token, self.hostname)))

    def expire_registrations(self, now: int | None = None) -> bool:
        now = int(time.time()) if now is None else now
        return self._put((_RAW_SQL, [("DELETE FROM registrations WHERE expires > 0 AND "
                                      "expires <= ? AND hostname = ?", (now, self.hostname))]))

    def _put(self, item: Any) -> bool:
        if len(self._q) >= self.max_queue:
            self.dropped += 1
            now = time.monotonic()
            if now - self._last_drop_log > 5:
                self._last_drop_log = now
                log(ERR, f"core database queue full ({self.max_queue}); "
                         f"{self.dropped} event(s) dropped so far")
            return False
        # deque.append is atomic; the sequence number lets flush() wait for this item.
        self._queued = next(self._seq)
        self._q.append(item)
        if len(self._q) >= self.batch_rows and not self._kicked:
            self._kicked = True
            self._kick()
        return True

    def _kick(self) -> None:
        if self.dsn is None:
            if self.loop is not None and self._wake_async is not None:
                try:
                    self.loop.call_soon_threadsafe(self._wake_async.set)
                except RuntimeError:  # loop closed
                    pass
        else:
            self._wake_thread.set()

    # -- batching ---------------------------------------------------------------------
    def _take_batch(self) -> tuple[list[Op], int]:
        """Pop up to batch_rows items; return their SQL and the count taken."""
        ops: list[Op] = []
        n = 0
        q = self._q
        while q and n < self.batch_rows:
            item = q.popleft()
            n += 1
            if isinstance(item, tuple) and item and item[0] is _RAW_SQL:
                ops.extend(item[1])
            else:
                try:
                    ops.extend(event_ops(item, self.hostname))
                except Exception as e:  # noqa: BLE001 - a malformed event costs itself only
                    self.failed += 1
                    log(ERR, f"core database: cannot map event {getattr(item, 'name', '?')}: {e}")
        return ops, n

    def _mark_done(self, n: int) -> None:
        with self._done_cond:
            self._done += n
            self._done_cond.notify_all()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued before this call is written (or failed).  Call it
        from any thread but the event loop's."""
        target = self._queued
        self._kick()
        deadline = time.monotonic() + timeout
        with self._done_cond:
            while self._done < target:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._done_cond.wait(remaining)
        return True

    def stats(self) -> dict[str, int]:
        return {"queued": len(self._q), "written": self.written, "failed": self.failed,
                "dropped": self.dropped, "batches": self.batches}

    # -- SQLite writer (event loop + aiosqlite) ---------------------------------------
    async def _run_sqlite(self) -> None:
        import aiosqlite

        self._wake_async = asyncio.Event()
        try:
            db = await aiosqlite.connect(self.path, isolation_level=None, timeout=30)
            await db.execute("PRAGMA journal_mode=WAL")
            await db.execute("PRAGMA synchronous=NORMAL")
            for stmt in schema_statements():
                await db.execute(stmt)
            for sql, params in cleanup_ops(self.hostname):
                await db.execute(sql, params)
        except Exception as e:  # noqa: BLE001
            self._start_error = str(e)
            self._ready.set()
            return
        self._ready.set()
        try:
            while True:
                try:
                    await asyncio.wait_for(self._wake_async.wait(), self.flush_interval)
                except TimeoutError:
                    pass
                self._wake_async.clear()
                self._kicked = False
                while self._q:
                    ops, n = self._take_batch()
                    await self._write_sqlite(db, ops)
                    self._mark_done(n)
                if self._stopping and not self._q:
                    break
        finally:
            await db.close()

    async def _write_sqlite(self, db: Any, ops: list[Op]) -> None:
        if not ops:
            return
        try:
            await db.execute("BEGIN")
            for sql, rows in _group(ops):
                await db.executemany(sql, rows)
            await db.execute("COMMIT")
            self.written += len(ops)
            self.batches += 1
            return
        except sqlite3.Error as e:
            log(WARNING, f"core database batch failed ({e}); replaying it row by row")
            try:
                await db.execute("ROLLBACK")
            except sqlite3.Error:
                pass
        for sql, params in ops:
            try:
                await db.execute(sql, params)
                self.written += 1
            except sqlite3.Error as e:
                self.failed += 1
                log(ERR, f"core database write failed: {e} [{sql}]")
        self.batches += 1

    # -- ODBC writer (worker thread + pyodbc) -----------------------------------------
    def _odbc_connect(self) -> Any:
        if pyodbc is None:
            raise DbError("ODBC is not available")
        assert self.dsn is not None
        try:
            return pyodbc.connect(self.dsn.odbc_connect_string(), autocommit=True, timeout=5)
        except pyodbc.Error as e:
            raise DbError(str(e.args[-1] if e.args else e)) from None

    def _run_odbc(self) -> None:
        try:
            conn = self._odbc_connect()
            cur = conn.cursor()
            for stmt in schema_statements():
                cur.execute(stmt)
            for sql, params in cleanup_ops(self.hostname):
                cur.execute(sql, params)
            cur.close()
        except Exception as e:  # noqa: BLE001
            self._start_error = str(e)
            self._ready.set()
            return
        self._ready.set()
        while True:
            self._wake_thread.wait(self.flush_interval)
            self._wake_thread.clear()
            self._kicked = False
            while self._q:
                ops, n = self._take_batch()
                conn = self._write_odbc(conn, ops)
                self._mark_done(n)
            if self._stopping and not self._q:
                break
        try:
            conn.close()
        except Exception:  # noqa: BLE001
            pass

    def _write_odbc(self, conn: Any, ops: list[Op]) -> Any:
        """Write one batch in a transaction; reconnect once if the server went away (the
        batch was not committed, so replaying it is safe).  Returns the connection."""
        if not ops:
            return conn
        for attempt in (1, 2):
            try:
                conn.autocommit = False
                cur = conn.cursor()
                for sql, rows in _group(ops):
                    cur.executemany(sql, rows)
                conn.commit()
                conn.autocommit = True
                self.written += len(ops)
                self.batches += 1
                return conn
            except pyodbc.Error as e:
                err = DbError(str(e.args[-1] if e.args else e),
                              e.args[0] if len(e.args) > 1 else "")
                try:
                    conn.rollback()
                    conn.autocommit = True
                except pyodbc.Error:
                    pass
                if is_disconnect(err) and attempt == 1:
                    log(WARNING, f"core database connection lost ({err}); reconnecting")
                    try:
                        conn = self._odbc_connect()
                        continue
                    except DbError as e2:
                        log(ERR, f"core database reconnect failed: {e2}; "
                                 f"{len(ops)} statement(s) not written")
                        self.failed += len(ops)
                        return conn
                log(WARNING, f"core database batch failed ({err}); replaying it row by row")
                break
        for sql, params in ops:
            try:
                conn.cursor().execute(sql, params)
                self.written += 1
            except pyodbc.Error as e:
                self.failed += 1
                log(ERR, f"core database write failed: {e} [{sql}]")
        self.batches += 1
        return conn

    # -- reading ----------------------------------------------------------------------
    def query(self, sql: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
        """Run a read query on the core database from the calling thread (``show
        channels`` and friends).  Rows as dicts.  Raises DbError."""
        params = tuple(params)
        if self.dsn is None:
            conn = getattr(self._reader, "conn", None)
            if conn is None:
                conn = sqlite3.connect(self.path, timeout=10, isolation_level=None,
                                       check_same_thread=False)
                self._reader.conn = conn
            try:
                cur = conn.execute(sql, params)
                cols = [d[0] for d in cur.description or ()]
                return [dict(zip(cols, r, strict=False)) for r in cur.fetchall()]
            except sqlite3.Error as e:
                raise DbError(str(e)) from None
        with self._odbc_read_lock:
            for attempt in (1, 2):
                try:
                    if self._odbc_read is None:
                        self._odbc_read = self._odbc_connect()
                    cur = self._odbc_read.cursor()
                    cur.execute(sql, params)
                    cols = [d[0] for d in cur.description or ()]
                    return [dict(zip(cols, r, strict=False)) for r in cur.fetchall()]
                except pyodbc.Error as e:
                    err = DbError(str(e.args[-1] if e.args else e),
                                  e.args[0] if len(e.args) > 1 else "")
                    self._odbc_read = None
                    if attempt == 2 or not is_disconnect(err):
                        raise err from None
        return []


def _group(ops: list[Op]) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """Runs of the same statement become one executemany (order is kept)."""
    out: list[tuple[str, list[tuple[Any, ...]]]] = []
    for sql, params in ops:
        if out and out[-1][0] == sql:
            out[-1][1].append(params)
        else:
            out.append((sql, [params]))
    return out
