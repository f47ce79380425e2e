"""Pools of open database connections, one pool per DSN.

A caller gets a :class:`Lease` (an open connection it alone uses) with
:meth:`DbManager.acquire`; at most ``max_handles`` connections of a DSN exist at once.
When all are leased the caller waits up to ``timeout`` seconds and then gets a
:class:`PoolTimeout`.  A lease goes back on ``release()`` — which
:class:`~fsd_modules.mod_db.handle.DbHandle` calls on ``release()``, on garbage collection
(weakref finalizer) and, through :meth:`DbManager.release_owner`, when a script ends.

Bounds (issue 19): an idle connection is closed after ``idle_timeout`` seconds (a reaper
thread; FreeSWITCH reaps its handle cache after 30 s), and at most ``max_dsns`` pools exist
at once — a new DSN beyond that retires the least recently used pool with nothing leased
or waiting, or is refused when every pool is busy.  A wait for a free handle can be given
a ``cancel`` event (a script's kill flag) and then stops within 0.1 s of it being set.
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
DEFAULT_IDLE_TIMEOUT = 30.0  # seconds an unused pooled connection stays open (SQL_CACHE_TIMEOUT)
DEFAULT_MAX_DSNS = 100  # distinct DSNs with a pool at once
_CANCEL_SLICE = 0.1  # a cancellable wait checks its cancel event this often


class PoolTimeout(DbError):
    """No handle of the DSN became free within the timeout."""


class PoolClosed(DbError):
    """The pool was shut down."""


class PoolCancelled(DbError):
    """The wait for a free handle was cancelled (the waiting script was killed)."""


class TooManyDsns(DbError):
    """A new DSN would exceed ``max_dsns`` and every existing pool is in use."""


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
        # Idle connections with the monotonic time each was returned (newest last).
        self._idle: list[tuple[SqliteBackend | OdbcBackend, float]] = []
        self.last_used = time.monotonic()
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
    def acquire(self, timeout: float | None = None, owner: Any = None,
                cancel: threading.Event | None = None) -> Lease:
        """Lease a connection, opening one if the pool is below its size, else waiting
        (until the timeout, or until ``cancel`` is set)."""
        wait = self.timeout if timeout is None else float(timeout)
        deadline = time.monotonic() + wait
        with self._cond:
            self.last_used = time.monotonic()
            while True:
                if self._closed:
                    raise PoolClosed(f"database pool for {self.dsn.describe()} is shut down")
                if cancel is not None and cancel.is_set():
                    raise PoolCancelled(
                        f"wait for a database handle for {self.dsn.describe()} cancelled")
                if self._idle:
                    reused, _ = self._idle.pop()
                    self._in_use += 1
                    self.acquired += 1
                    break
                if self._open < self.max_handles:
                    self._open += 1  # reserve the slot, connect outside the lock
                    reused = None
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self.timeouts += 1
                    raise PoolTimeout(
                        f"timed out after {wait:g} s waiting for a free database handle "
                        f"for {self.dsn.describe()} (all {self.max_handles} in use)")
                self._waiting += 1
                try:
                    self._cond.wait(remaining if cancel is None else min(remaining, _CANCEL_SLICE))
                finally:
                    self._waiting -= 1
        if reused is not None:
            # Tracked outside the pool's lock: the manager's lock is taken before a
            # pool's (retire), never after.
            return self.manager._track(Lease(reused, self, owner))
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
            self.last_used = time.monotonic()
            if keep and not self._closed:
                self._idle.append((backend, self.last_used))
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

    def reap(self, older_than: float) -> int:
        """Close idle connections returned before monotonic time ``older_than``; how many."""
        with self._cond:
            old = [b for b, since in self._idle if since < older_than]
            if not old:
                return 0
            self._idle = [(b, since) for b, since in self._idle if since >= older_than]
            self._open -= len(old)
        for b in old:
            b.close()
        return len(old)

    def retire(self) -> bool:
        """Close this pool if nothing is leased or waited for (True), else leave it."""
        with self._cond:
            if self._closed or self._in_use or self._waiting or self._anchor is not None:
                return False
        self.close()
        return True

    def close(self) -> None:
        """Close idle connections; leased ones close when they come back."""
        with self._cond:
            self._closed = True
            idle, self._idle = [b for b, _ in self._idle], []
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
                 busy_timeout: float = 5.0, idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
                 max_dsns: int = DEFAULT_MAX_DSNS) -> None:
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
        self.idle_timeout = float(idle_timeout)  # <= 0: idle connections stay open
        self.max_dsns = max(1, int(max_dsns))
        self.retired = 0  # pools closed to make room for a new DSN
        self._stop = threading.Event()
        self._reaper: threading.Thread | None = None

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
                self._make_room()
                pool = DsnPool(parsed, size or self.max_handles,
                               self.timeout if timeout is None else timeout, self)
                self._pools[dsn] = pool
                self._start_reaper()
            return pool

    def _make_room(self) -> None:
        """(Lock held.) Retire least recently used idle pools until a new one fits."""
        if len(self._pools) < self.max_dsns:
            return
        for key, pool in sorted(self._pools.items(), key=lambda kv: kv[1].last_used):
            if pool.retire():
                del self._pools[key]
                self.retired += 1
                if len(self._pools) < self.max_dsns:
                    return
        raise TooManyDsns(f"too many distinct database DSNs in use (db-max-dsns is "
                          f"{self.max_dsns} and every pool has a handle leased)")

    def _start_reaper(self) -> None:
        """(Lock held.) One thread closes idle connections past ``idle_timeout``."""
        if self._reaper is not None or self.idle_timeout <= 0:
            return
        self._reaper = threading.Thread(target=self._reap_loop, name="mod_db-pool-reaper",
                                        daemon=True)
        self._reaper.start()

    def _reap_loop(self) -> None:
        every = max(0.05, min(self.idle_timeout / 2, 5.0))
        while not self._stop.wait(every):
            self.reap()

    def reap(self) -> int:
        """Close every idle connection unused for ``idle_timeout`` seconds, and drop pools
        left with no connection; how many connections were closed."""
        cutoff = time.monotonic() - self.idle_timeout
        with self._lock:
            pools = list(self._pools.items())
        closed = 0
        for key, pool in pools:
            closed += pool.reap(cutoff)
            if pool.last_used < cutoff and pool.status().open == 0:
                with self._lock:
                    if self._pools.get(key) is pool and pool.retire():
                        del self._pools[key]
        if closed:
            log(DEBUG, f"closed {closed} idle database handle(s)")
        return closed

    def acquire(self, dsn: str, timeout: float | None = None, owner: Any = None,
                cancel: threading.Event | None = None) -> Lease:
        """Lease a connection for ``dsn``; raises DsnError, DbError, PoolTimeout,
        PoolCancelled (``cancel`` was set while waiting) or TooManyDsns."""
        for _ in range(3):
            pool = self.pool_for(dsn)
            try:
                return pool.acquire(timeout, owner, cancel)
            except PoolClosed:
                # Retired for another DSN between pool_for and acquire: take a fresh one.
                if self._closed:
                    raise
        return self.pool_for(dsn).acquire(timeout, owner, cancel)

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
                 f"wait timeout {self.timeout:g} s, idle timeout {self.idle_timeout:g} s, "
                 f"max dsns {self.max_dsns}, retired {self.retired}"]
        for s in rows:
            lines.append(
                f"{s.dsn} [{s.kind}] size {s.size} open {s.open} in-use {s.in_use} "
                f"idle {s.idle} waiting {s.waiting} errors {s.errors} timeouts {s.timeouts} "
                f"reconnects {s.reconnects} acquired {s.acquired}")
        return "\n".join(lines) + "\n"

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            self._closed = True
            pools = list(self._pools.values())
        for p in pools:
            try:
                p.close()
            except Exception as e:  # noqa: BLE001 - shutting down: log and go on
                log(ERR, f"error closing database pool {p.dsn.describe()}: {e}")
