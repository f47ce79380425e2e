"""Pool behaviour: sizes, waiting, timeouts, concurrency, bad input, no leaks."""

from __future__ import annotations

import threading
import time

import pytest
from fsd_modules.mod_db.dsn import DsnError
from fsd_modules.mod_db.handle import DbHandle
from fsd_modules.mod_db.pool import DbManager, PoolTimeout


def _hammer(backend, threads=50, per_thread=4, hold=0.002):
    """50 threads share one DSN with a pool of 5; record which handle each one holds."""
    mgr = backend.manager
    holders: dict[int, int] = {}
    lock = threading.Lock()
    violations = []
    done = []
    errors = []

    def work(i):
        for _ in range(per_thread):
            h = DbHandle(mgr, backend.dsn, timeout=30)
            if not h.connected():
                errors.append(h.last_error())
                return
            key = id(h._lease.backend)
            with lock:
                if key in holders:
                    violations.append((key, holders[key], i))
                holders[key] = i
            ok, rows, err = h.query_rows("SELECT 1 AS one")
            if not ok or rows != [{"one": "1"}]:
                errors.append(err)
            time.sleep(hold)
            with lock:
                del holders[key]
            h.release()
        done.append(i)

    ts = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    return done, violations, errors


def test_fifty_threads_pool_of_five(backend):
    done, violations, errors = _hammer(backend)
    assert sorted(done) == list(range(50))
    assert violations == [] and errors == []
    s = backend.manager.status()[0]
    assert s.size == 5 and s.open <= 5 and s.in_use == 0 and s.waiting == 0
    assert s.acquired == 200


def test_wait_beyond_timeout_fails_with_timeout_error(backend, logs):
    mgr = DbManager(backend.manager.db_dir, max_handles=5, timeout=0.3)
    held = [DbHandle(mgr, backend.dsn) for _ in range(5)]
    assert all(h.connected() for h in held)
    t0 = time.monotonic()
    late = DbHandle(mgr, backend.dsn)
    waited = time.monotonic() - t0
    assert not late.connected()
    assert "timed out" in late.last_error() and "all 5 in use" in late.last_error()
    assert logs.has("Connection failed.  DBH NOT Connected.")
    assert waited >= 0.25
    with pytest.raises(PoolTimeout):
        mgr.acquire(backend.dsn, timeout=0.05)
    s = mgr.status()[0]
    assert s.timeouts == 2 and s.in_use == 5
    for h in held:
        h.release()
    assert mgr.status()[0].in_use == 0
    mgr.close()


def test_waiter_gets_handle_released_in_time(backend):
    mgr = DbManager(backend.manager.db_dir, max_handles=5, timeout=5)
    held = [DbHandle(mgr, backend.dsn) for _ in range(5)]
    got = []
    t = threading.Thread(target=lambda: got.append(DbHandle(mgr, backend.dsn)))
    t.start()
    deadline = time.monotonic() + 5
    while mgr.status()[0].waiting == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert mgr.status()[0].waiting == 1
    held[0].release()
    t.join(5)
    assert got and got[0].connected()
    ids = {id(h._lease.backend) for h in held[1:]} | {id(got[0]._lease.backend)}
    assert len(ids) == 5  # the waiter got the released connection, not a sixth one
    for h in held[1:] + got:
        h.release()
    mgr.close()


def test_concurrency_with_timeouts_counts_return_to_zero(backend):
    """Threads that wait too long fail cleanly; none leaks a handle."""
    mgr = DbManager(backend.manager.db_dir, max_handles=5, timeout=0.05)
    results = []

    def work():
        h = DbHandle(mgr, backend.dsn)
        if h.connected():
            time.sleep(0.2)
            results.append("ok")
            h.release()
        else:
            results.append(h.last_error())

    ts = [threading.Thread(target=work) for _ in range(20)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(10)
    assert results.count("ok") >= 5
    assert all(r == "ok" or "timed out" in r for r in results)
    s = mgr.status()[0]
    assert s.in_use == 0 and s.waiting == 0 and s.timeouts == 20 - results.count("ok")
    mgr.close()


def test_per_dsn_pool_size(tmp_path):
    mgr = DbManager(str(tmp_path), max_handles=5, timeout=0.1,
                    pool_sizes={"sqlite://small": (1, 0.05)})
    a = DbHandle(mgr, "sqlite://small")
    b = DbHandle(mgr, "sqlite://small")
    assert a.connected() and not b.connected()
    others = [DbHandle(mgr, "sqlite://big") for _ in range(5)]
    assert all(h.connected() for h in others)
    sizes = {s.dsn: s.size for s in mgr.status()}
    assert sizes[f"sqlite://{tmp_path}/small.db"] == 1 and sizes[f"sqlite://{tmp_path}/big.db"] == 5
    a.release()
    for h in others:
        h.release()
    mgr.close()


def test_status_text(backend):
    h = DbHandle(backend.manager, backend.dsn)
    h.query("SELEC nonsense")
    text = backend.manager.format_status()
    assert "1 database pool(s)" in text
    assert "size 5" in text and "in-use 1" in text and "waiting 0" in text and "errors 1" in text
    h.release()
    assert "in-use 0" in backend.manager.format_status()


# -- bad input --------------------------------------------------------------------------

@pytest.mark.parametrize("dsn", ["mysql://h/db", "sqlite://", "pgsql://host='x", "odbc://"])
def test_malformed_dsn(tmp_path, logs, dsn):
    mgr = DbManager(str(tmp_path), max_handles=5, timeout=1)
    h = DbHandle(mgr, dsn)
    assert not h.connected()
    assert h.last_error().startswith("bad DSN:")
    assert logs.has("Connection failed.  DBH NOT Connected.")
    with pytest.raises(DsnError):
        mgr.acquire(dsn)
    assert mgr.status() == []
    mgr.close()


def test_unknown_odbc_data_source(tmp_path):
    mgr = DbManager(str(tmp_path), max_handles=5, timeout=1)
    h = DbHandle(mgr, "nosuchdsn:user:pass")
    assert not h.connected()
    assert "IM002" in h.last_error() or "not found" in h.last_error()
    s = mgr.status()[0]
    assert s.open == 0 and s.in_use == 0 and s.errors == 1
    mgr.close()


def test_wrong_credentials(pg, tmp_path):
    mgr = DbManager(str(tmp_path), max_handles=5, timeout=1)
    t0 = time.monotonic()
    h = DbHandle(mgr, "odbc://fsd_pg", pg.user, "wrong-password")
    assert time.monotonic() - t0 < 10
    assert not h.connected()
    assert "password authentication failed" in h.last_error()
    h2 = DbHandle(mgr, f"pgsql://host=127.0.0.1 port={pg.port} dbname=fsd user=fsd password=nope")
    assert not h2.connected() and "password authentication failed" in h2.last_error()
    assert all(s.open == 0 and s.in_use == 0 for s in mgr.status())
    mgr.close()


def test_server_not_listening(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mgr = DbManager(str(tmp_path), max_handles=5, timeout=1)
    h = DbHandle(mgr, f"postgresql://fsd:x@127.0.0.1:{port}/fsd?connect_timeout=2")
    assert not h.connected() and h.last_error()
    assert mgr.status()[0].open == 0
    mgr.close()


def test_closed_manager_refuses(tmp_path):
    mgr = DbManager(str(tmp_path), max_handles=5, timeout=1)
    h = DbHandle(mgr, "sqlite://c")
    mgr.close()
    assert not DbHandle(mgr, "sqlite://c").connected()
    assert not DbHandle(mgr, "sqlite://other").connected()
    assert h.release() is True  # a handle out at shutdown still returns (and closes)
    assert mgr.status()[0].open == 0
