"""Pools of open database connections, one pool per DSN.

A caller gets a :class:`Lease` (an open connection it alone uses) with
:meth:`DbManager.acquire`; at most ``max_handles`` connections of a DSN exist at once.
When all are leased the caller waits up to ``timeout`` seconds and then gets a
:class:`PoolTimeout`.  A lease goes back on ``release()`` — which
:class:`~fsd_modules.mod_db.handle.DbHandle` calls on ``release()``, on garbage collection
(weakref finalizer) and, through :meth:`DbManager.release_owner`, when a script ends.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from fsd.log import DEBUG, ERR, WARNING, log

from .backends import DbError, OdbcBackend, SqliteBackend, open_backend
from .dsn import Dsn, parse_dsn

DEFAULT_MAX_HANDLES = 50  # FreeSWITCH's runtime default (switch_core.c)
DEFAULT_TIMEOUT = 5.0  # seconds; FreeSWITCH's runtime default db_handle_timeout


class PoolTimeout(DbError):
    """No handle of the DSN became free within the timeout."""


class PoolClosed(DbError):
    """The pool was shut down."""


class Lease:
    """One connection checked out of a :class:`DsnPool`.  ``release()`` is idempotent
    and thread-safe (it may run from a finalizer on any thread)."""

    __slots__ = ("backend", "pool", "owner", "_released", "_lock", "__weakref__")

    def __init__(self, backend: SqliteBackend | OdbcBackend, pool: DsnPool, owner: Any) -> None:
        self.backend = backend
        self.pool = pool
        self.owner = owner
        self._released = False
        self._lock = threading.Lock()

    @property
    def released(self) -> bool:
        return self._released

    def release(self) -> bool:
        """Return the connection to its pool; False when it was already returned."""
        with self._lock:
            if self._released:
                return False
            self._released = True
        self.pool._give_back(self)
        return True


@dataclass
class PoolStatus:
    """One line of ``db_cache status``."""

    dsn: str
    kind: str
    size: int
    open: int
    in_use: int
    idle: int
    waiting: int
    errors: int
    timeouts: int
    reconnects: int
    acquired: int


class DsnPool:
    """The connections of one DSN."""

    def __init__(self, dsn: Dsn, max_handles: int, timeout: float, manager: DbManager) -> None:
        self.dsn = dsn
        self.max_handles = max(1, int(max_handles))
        self.timeout = float(timeout)
        self.manager = manager
        self._cond = threading.Condition()
        self._idle: list[SqliteBackend | OdbcBackend] = []
        self._open = 0
        self._in_use = 0
        self._waiting = 0
        self._closed = False
        self.errors = 0
        self.timeouts = 0
        self.reconnects = 0
        self.acquired = 0
        self._anchor: SqliteBackend | None = None
        if dsn.memory:
            # Keeps a shared in-memory database alive while no handle is open.
            self._anchor = SqliteBackend(dsn)

    # -- checkout / return ------------------------------------------------------------
    def acquire(self, timeout: float | None = None, owner: Any = None) -> Lease:
        """Lease a connection, opening one if the pool is below its size, else waiting."""
        wait = self.timeout if timeout is None else float(timeout)
        deadline = time.monotonic() + wait
        with self._cond:
            while True:
                if self._closed:
                    raise PoolClosed(f"database pool for {self.dsn.describe()} is shut down")
                if self._idle:
                    backend = self._idle.pop()
                    self._in_use += 1
                    self.acquired += 1
                    return self.manager._track(Lease(backend, self, owner))
                if self._open < self.max_handles:
                    self._open += 1  # reserve the slot, connect outside the lock
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self.timeouts += 1
                    raise PoolTimeout(
                        f"timed out after {wait:g} s waiting for a free database handle "
                        f"for {self.dsn.describe()} (all {self.max_handles} in use)")
                self._waiting += 1
                try:
                    self._cond.wait(remaining)
                finally:
                    self._waiting -= 1
        try:
            backend = open_backend(self.dsn, busy_timeout=self.manager.busy_timeout,
                                   on_reconnect=self._count_reconnect)
        except DbError:
            with self._cond:
                self._open -= 1
                self.errors += 1
                self._cond.notify()
            raise
        with self._cond:
            self._in_use += 1
            self.acquired += 1
        log(DEBUG, f"opened database handle {self.dsn.describe()}")
        return self.manager._track(Lease(backend, self, owner))

    def _give_back(self, lease: Lease) -> None:
        self.manager._untrack(lease)
        backend = lease.backend
        keep = _reset(backend)
        with self._cond:
            self._in_use -= 1
            if keep and not self._closed:
                self._idle.append(backend)
            else:
                self._open -= 1
            self._cond.notify()
        if not keep or self._closed:
            backend.close()

    def note_error(self) -> None:
        with self._cond:
            self.errors += 1

    def _count_reconnect(self) -> None:
        with self._cond:
            self.reconnects += 1

    # -- reporting / shutdown ---------------------------------------------------------
    def status(self) -> PoolStatus:
        with self._cond:
            return PoolStatus(self.dsn.describe(), self.dsn.kind, self.max_handles, self._open,
                              self._in_use, len(self._idle), self._waiting, self.errors,
                              self.timeouts, self.reconnects, self.acquired)

    def close(self) -> None:
        """Close idle connections; leased ones close when they come back."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._open -= len(idle)
            self._cond.notify_all()
        for b in idle:
            b.close()
        if self._anchor:
            self._anchor.close()


def _reset(backend: SqliteBackend | OdbcBackend) -> bool:
    """Roll back a transaction a user left open, so the next user starts clean.  Returns
    False when the connection is unusable and must be closed instead of pooled."""
    try:
        if isinstance(backend, SqliteBackend):
            if backend.conn.in_transaction:
                backend.conn.rollback()
        elif backend.in_transaction:
            # Autocommit connection: the driver's rollback() is a no-op, the SQL is not.
            backend.conn.execute("ROLLBACK")
            backend.in_transaction = False
        return True
    except Exception as e:  # noqa: BLE001 - any failure means: do not reuse it
        log(WARNING, f"discarding database handle that failed to reset: {e}")
        return False


class DbManager:
    """All pools, keyed by DSN string.

    ``max_handles``/``timeout`` come from switch.conf.xml ``max-db-handles`` and
    ``db-handle-timeout``; ``pool_sizes`` maps a DSN to its own ``(max_handles,
    timeout)`` from db.conf.xml.  ``auto_clear_sql`` and ``auto_create_schemas`` are the
    core settings ``test_reactive`` obeys."""

    def __init__(self, db_dir: str, max_handles: int = DEFAULT_MAX_HANDLES,
                 timeout: float = DEFAULT_TIMEOUT,
                 pool_sizes: dict[str, tuple[int | None, float | None]] | None = None,
                 auto_clear_sql: bool = True, auto_create_schemas: bool = True,
                 busy_timeout: float = 5.0) -> None:
        self.db_dir = db_dir
        self.max_handles = max_handles
        self.timeout = timeout
        self.pool_sizes = dict(pool_sizes or {})
        self.auto_clear_sql = auto_clear_sql
        self.auto_create_schemas = auto_create_schemas
        self.busy_timeout = busy_timeout
        self._pools: dict[str, DsnPool] = {}
        self._lock = threading.Lock()
        self._owners: dict[Any, set[Lease]] = {}
        self._closed = False

    def pool_for(self, dsn: str) -> DsnPool:
        """The pool of ``dsn`` (created on first use; raises DsnError when malformed)."""
        with self._lock:
            pool = self._pools.get(dsn)
            if pool is not None:
                return pool
            if self._closed:
                raise PoolClosed("database pools are shut down")
        parsed = parse_dsn(dsn, self.db_dir)
        size, timeout = self.pool_sizes.get(dsn, (None, None))
        with self._lock:
            pool = self._pools.get(dsn)
            if pool is None:
                pool = DsnPool(parsed, size or self.max_handles,
                               self.timeout if timeout is None else timeout, self)
                self._pools[dsn] = pool
            return pool

    def acquire(self, dsn: str, timeout: float | None = None, owner: Any = None) -> Lease:
        """Lease a connection for ``dsn``; raises DsnError, DbError or PoolTimeout."""
        return self.pool_for(dsn).acquire(timeout, owner)

    def _track(self, lease: Lease) -> Lease:
        if lease.owner is not None:
            with self._lock:
                self._owners.setdefault(lease.owner, set()).add(lease)
        return lease

    def _untrack(self, lease: Lease) -> None:
        if lease.owner is not None:
            with self._lock:
                leases = self._owners.get(lease.owner)
                if leases is not None:
                    leases.discard(lease)
                    if not leases:
                        del self._owners[lease.owner]

    def release_owner(self, owner: Any) -> int:
        """Return every lease taken for ``owner`` (e.g. a script that ended); how many."""
        with self._lock:
            leases = list(self._owners.pop(owner, ()))
        n = 0
        for lease in leases:
            if lease.release():
                n += 1
        if n:
            log(DEBUG, f"returned {n} database handle(s) left open by {owner!r}")
        return n

    def status(self) -> list[PoolStatus]:
        with self._lock:
            pools = list(self._pools.values())
        return [p.status() for p in pools]

    def format_status(self) -> str:
        """The ``db_cache status`` text."""
        rows = self.status()
        lines = [f"{len(rows)} database pool(s); default size {self.max_handles}, "
                 f"wait timeout {self.timeout:g} s"]
        for s in rows:
            lines.append(
                f"{s.dsn} [{s.kind}] size {s.size} open {s.open} in-use {s.in_use} "
                f"idle {s.idle} waiting {s.waiting} errors {s.errors} timeouts {s.timeouts} "
                f"reconnects {s.reconnects} acquired {s.acquired}")
        return "\n".join(lines) + "\n"

    def close(self) -> None:
        with self._lock:
            self._closed = True
            pools = list(self._pools.values())
        for p in pools:
            try:
                p.close()
            except Exception as e:  # noqa: BLE001 - shutting down: log and go on
                log(ERR, f"error closing database pool {p.dsn.describe()}: {e}")
