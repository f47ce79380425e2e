"""The core database: channels, calls, interfaces, registrations (see coredb_schema).

``ingest(event)`` only appends to an in-memory queue — it never touches the database and
never waits on it, so a slow or dead database cannot slow call setup.  One writer thread
of its own (never the event loop) drains the queue every ``flush_interval`` (50 ms) or as
soon as ``batch_rows`` (500) events wait: it turns the events into SQL, folds each batch
(coredb_coalesce) and writes it in one transaction through the connection it owns —
SQLite through the stdlib ``sqlite3`` (the default ``<db dir>/core.db``) or a
``core-db-dsn`` through pyodbc (coredb_writers).

A batch that fails is rolled back and replayed one statement at a time, so one bad row
costs only itself; every failed statement is logged and counted (``stats()['failed']``).
When the queue is full (``max_queue``) new events are counted as dropped and logged.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Iterable
from typing import Any

from fsd.log import ERR, log

from .backends import DbError, is_disconnect, pyodbc
from .coredb_schema import (
    WANTED,
    Op,
    event_ops,
    registration_add_ops,
    registration_del_ops,
)
from .coredb_writers import BatchWriter, OdbcWriter, SqliteWriter, odbc_connect, odbc_error
from .dsn import SQLITE, Dsn

_CUSTOM_WANTED = {"sofia::register", "sofia::unregister", "sofia::expire"}
_RAW_SQL = object()  # marks a queued list of ops instead of an event


class CoreDb:
    """The core database writer and reader.

    ``path`` is the SQLite file (default target); ``dsn`` a parsed ODBC/PostgreSQL DSN
    that replaces it.  ``loop`` is accepted for callers of the earlier API and not used:
    nothing of the core database runs on the event loop."""

    def __init__(self, *, hostname: str, path: str | None = None, dsn: Dsn | None = None,
                 loop: asyncio.AbstractEventLoop | None = None, flush_interval: float = 0.05,
                 batch_rows: int = 500, max_queue: int = 200_000) -> None:
        if dsn is None and path is None:
            raise ValueError("CoreDb needs a SQLite path or a DSN")
        if dsn is not None and dsn.kind == SQLITE:
            path, dsn = dsn.path, None
        self.hostname = hostname
        self.path = path
        self.dsn = dsn
        self.loop = loop
        self.flush_interval = flush_interval
        self.batch_rows = batch_rows
        self.max_queue = max_queue
        self._q: deque[Any] = deque()
        self._put_lock = threading.Lock()  # keeps queue order == sequence order for flush()
        self._queued = 0  # sequence number of the last queued item
        self._done = 0  # items written (or failed), in queue order
        self._done_cond = threading.Condition()
        self._kicked = False
        self._stopping = False
        self.written = 0
        self.failed = 0
        self.dropped = 0
        self.batches = 0
        self.statements = 0  # SQL rows actually run (after folding)
        self._last_drop_log = 0.0
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._start_error: str | None = None
        self._reader = threading.local()
        self._odbc_read_lock = threading.Lock()
        self._odbc_read: Any = None

    @property
    def writer_thread(self) -> threading.Thread | None:
        """The thread that maps events to SQL and writes them (None before start)."""
        return self._thread

    # -- lifecycle --------------------------------------------------------------------
    def start(self, timeout: float = 10.0) -> None:
        """Create the schema, clear this node's stale rows, start the writer thread (a
        second start() while it runs does nothing)."""
        old = self._thread
        if old is not None and old.is_alive():
            if not self._stopping:
                return
            old.join(timeout)  # a stop() still draining: one writer at a time
            if old.is_alive():
                raise DbError("the previous core database writer is still writing")
        self._stopping = False
        self._start_error = None
        self._ready.clear()
        writer: BatchWriter = OdbcWriter(self.dsn) if self.dsn is not None else \
            SqliteWriter(self.path or "")
        self._thread = threading.Thread(target=self._run, args=(writer,),
                                        name="coredb-writer", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise DbError("core database writer did not start in time")
        if self._start_error:
            raise DbError(f"core database unavailable: {self._start_error}")

    def stop(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop the writer."""
        self._stopping = True
        self._kick()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log(ERR, f"core database writer still busy after {timeout} s; "
                         f"{len(self._q)} event(s) not written yet")
        if self._odbc_read is not None:
            try:
                self._odbc_read.close()
            except Exception:  # noqa: BLE001
                pass
            self._odbc_read = None

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
        q = self._q
        with self._put_lock:  # uncontended it costs ~0.1 us; never held across I/O
            if len(q) >= self.max_queue:
                self.dropped += 1
                now = time.monotonic()
                if now - self._last_drop_log <= 5:
                    return False
                self._last_drop_log = now
                dropped = self.dropped
            else:
                self._queued += 1
                q.append(item)
                dropped = 0
        if dropped:
            log(ERR, f"core database queue full ({self.max_queue}); "
                     f"{dropped} event(s) dropped so far")
            return False
        if len(q) >= self.batch_rows and not self._kicked:
            self._kicked = True
            self._wake.set()
        return True

    def _kick(self) -> None:
        self._wake.set()

    # -- the writer thread ------------------------------------------------------------
    def _run(self, writer: BatchWriter) -> None:
        try:
            writer.open(self.hostname)
        except Exception as e:  # noqa: BLE001
            self._start_error = str(odbc_error(e)) if self.dsn is not None and \
                pyodbc is not None and isinstance(e, pyodbc.Error) else str(e)
            writer.close()
            self._ready.set()
            return
        self._ready.set()
        try:
            while True:
                self._wake.wait(self.flush_interval)
                self._wake.clear()
                self._kicked = False
                while self._q:
                    self._write_one_batch(writer)
                if self._stopping and not self._q:
                    break
        finally:
            writer.close()

    def _write_one_batch(self, writer: BatchWriter) -> None:
        ops, n = self._take_batch()
        try:
            written, failed, statements = writer.write(ops)
        except Exception as e:  # noqa: BLE001 - a writer bug must not end the thread
            written, failed, statements = 0, len(ops), 0
            log(ERR, f"core database batch of {len(ops)} statement(s) lost: {e!r}")
        self.written += written
        self.failed += failed
        self.statements += statements
        if ops:
            self.batches += 1
        self._mark_done(n)

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
        """Wait until everything queued before this call is written (or failed).  Any
        thread may call it; it blocks the caller (so not the event loop, please)."""
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
        """``written``/``failed`` count the statements the events imply; ``statements``
        the SQL rows actually run after folding (fewer)."""
        return {"queued": len(self._q), "written": self.written, "failed": self.failed,
                "dropped": self.dropped, "batches": self.batches,
                "statements": self.statements}

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
                        self._odbc_read = odbc_connect(self.dsn)
                    cur = self._odbc_read.cursor()
                    cur.execute(sql, params)
                    cols = [d[0] for d in cur.description or ()]
                    return [dict(zip(cols, r, strict=False)) for r in cur.fetchall()]
                except pyodbc.Error as e:
                    err = odbc_error(e)
                    self._odbc_read = None
                    if attempt == 2 or not is_disconnect(err):
                        raise err from None
        return []
