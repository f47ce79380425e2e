"""mod_db benchmark: query throughput through the pool against the raw driver (same run,
same SQL), for SQLite and PostgreSQL over ODBC; and core-database write batching.

    python bench/bench_db.py [--n 5000]

Starts its own PostgreSQL server (tests/mod_db/pg_server.py); prints figures and ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pyodbc  # noqa: E402
from fsd_modules.mod_db.coredb import CoreDb  # noqa: E402
from fsd_modules.mod_db.dsn import parse_dsn  # noqa: E402
from fsd_modules.mod_db.handle import DbHandle  # noqa: E402
from fsd_modules.mod_db.pool import DbManager  # noqa: E402

from fsd.events import Event  # noqa: E402

_spec = importlib.util.spec_from_file_location("pg_server", ROOT / "tests/mod_db/pg_server.py")
pg_server = importlib.util.module_from_spec(_spec)
sys.modules["pg_server"] = pg_server
_spec.loader.exec_module(pg_server)

SQL = "SELECT id, name FROM bench_t WHERE id = 7"


def rate(n: int, fn) -> float:
    t0 = time.perf_counter()
    fn(n)
    return n / (time.perf_counter() - t0)


def report(label: str, raw: float, raw_dicts: float, pooled: float, reused: float) -> None:
    print(f"{label}\n  raw driver fetchall      {raw:>9.0f} q/s\n"
          f"  raw driver + row dicts   {raw_dicts:>9.0f} q/s  (same result shape as Dbh)\n"
          f"  pool, one handle         {reused:>9.0f} q/s  ratio {reused / raw:.2f} vs raw, "
          f"{reused / raw_dicts:.2f} vs raw+dicts\n"
          f"  pool, handle per query   {pooled:>9.0f} q/s  ratio {pooled / raw:.2f} vs raw, "
          f"{pooled / raw_dicts:.2f} vs raw+dicts")


def setup_table(h: DbHandle) -> None:
    h.query("DROP TABLE IF EXISTS bench_t")
    h.query("CREATE TABLE bench_t (id INTEGER, name VARCHAR(32))")
    h.query("INSERT INTO bench_t VALUES " + ", ".join(f"({i}, 'n{i}')" for i in range(100)))


def bench_queries(label: str, mgr: DbManager, dsn: str, raw_query, raw_dicts, n: int) -> None:
    h = DbHandle(mgr, dsn)
    setup_table(h)

    def pooled(k: int) -> None:
        for _ in range(k):
            d = DbHandle(mgr, dsn)
            d.query_rows(SQL)
            d.release()

    def reused(k: int) -> None:
        for _ in range(k):
            h.query_rows(SQL)

    raw_query(n // 10)  # warm-up
    pooled(n // 10)
    # Interleaved rounds, best of three each: server caches and CPU clocks warm up
    # during the run, and no variant should profit from running last.
    r_raw = r_dicts = r_pool = r_reuse = 0.0
    for _ in range(3):
        r_raw = max(r_raw, rate(n, raw_query))
        r_dicts = max(r_dicts, rate(n, raw_dicts))
        r_pool = max(r_pool, rate(n, pooled))
        r_reuse = max(r_reuse, rate(n, reused))
    report(label, r_raw, r_dicts, r_pool, r_reuse)
    h.release()


def bench_coredb(label: str, make_db, n: int) -> None:
    db = make_db()
    db.start()
    events = []
    for i in range(n):
        e = Event("CHANNEL_CREATE")
        e.add_header("Unique-ID", f"bench-{label}-{i}")
        e.add_header("Channel-Name", f"loopback/{i}")
        events.append(e)
    t0 = time.perf_counter()
    for e in events:
        db.ingest(e)
    t_ingest = time.perf_counter() - t0
    db.flush(300)
    t_all = time.perf_counter() - t0
    s = db.stats()
    print(f"core db {label:<15} {n} events: ingest {n / t_ingest:>9.0f} ev/s "
          f"({t_ingest / n * 1e6:.1f} us each) | written {n / t_all:>8.0f} ev/s in "
          f"{s['batches']} batches, failed {s['failed']}")
    db.stop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=5000)
    args = ap.parse_args()
    n = args.n
    tmp = tempfile.mkdtemp(prefix="fsd-bench-db-")
    mgr = DbManager(tmp, max_handles=5, timeout=5)

    # SQLite: raw stdlib connection vs the pool.
    raw = sqlite3.connect(os.path.join(tmp, "bench.db"), isolation_level=None)

    def raw_sqlite(k: int) -> None:
        for _ in range(k):
            raw.execute(SQL).fetchall()

    def raw_sqlite_dicts(k: int) -> None:
        for _ in range(k):
            cur = raw.execute(SQL)
            cols = [d[0] for d in cur.description]
            [{c: str(v) for c, v in zip(cols, r, strict=False) if v is not None}
             for r in cur.fetchall()]

    bench_queries("sqlite (stdlib)", mgr, "sqlite://bench", raw_sqlite, raw_sqlite_dicts, n)

    srv = pg_server.start_pg_server()
    try:
        conn = pyodbc.connect(srv.odbc_connstr(), autocommit=True)

        def raw_odbc(k: int) -> None:
            cur = conn.cursor()
            for _ in range(k):
                cur.execute(SQL).fetchall()

        def raw_odbc_dicts(k: int) -> None:
            cur = conn.cursor()
            for _ in range(k):
                cur.execute(SQL)
                cols = [d[0] for d in cur.description]
                [{c: str(v) for c, v in zip(cols, r, strict=False) if v is not None}
                 for r in cur.fetchall()]

        bench_queries("postgresql (pyodbc + psqlODBC)", mgr, "pgsql://" + srv.conninfo(),
                      raw_odbc, raw_odbc_dicts, n)
        try:
            import psycopg

            pc = psycopg.connect(srv.conninfo(), autocommit=True)

            def raw_psycopg(k: int) -> None:
                cur = pc.cursor()
                for _ in range(k):
                    cur.execute(SQL).fetchall()

            raw_psycopg(n // 10)
            r_pg = max(rate(n, raw_psycopg) for _ in range(3))
            r_odbc = max(rate(n, raw_odbc) for _ in range(3))
            print(f"{'postgresql raw drivers':<24} psycopg {r_pg:>9.0f} q/s | "
                  f"pyodbc+psqlODBC {r_odbc:>9.0f} q/s (odbc/psycopg {r_odbc / r_pg:.2f})")
            pc.close()
        except ImportError:
            print("psycopg not installed: native-driver comparison skipped")

        # Core database batching.
        loop = asyncio.new_event_loop()
        threading.Thread(target=loop.run_forever, daemon=True).start()
        bench_coredb("sqlite", lambda: CoreDb(hostname="bench", path=os.path.join(tmp, "core.db"),
                                              loop=loop), n * 4)
        bench_coredb("pg over odbc", lambda: CoreDb(
            hostname="bench", dsn=parse_dsn("pgsql://" + srv.conninfo(), tmp)), n * 2)
        # Baseline: one autocommit INSERT per event, on the caller's thread (what a
        # write-through core db would cost every call-setup event).
        rc = sqlite3.connect(os.path.join(tmp, "raw-core.db"), isolation_level=None)
        rc.execute("CREATE TABLE channels (uuid TEXT, name TEXT)")
        t0 = time.perf_counter()
        for i in range(2000):
            rc.execute("INSERT INTO channels VALUES (?, ?)", (f"u{i}", f"loopback/{i}"))
        t = time.perf_counter() - t0
        print(f"baseline: sqlite autocommit insert per event on the caller thread "
              f"{2000 / t:>8.0f} ev/s ({t / 2000 * 1e6:.0f} us each)")
        loop.call_soon_threadsafe(loop.stop)
    finally:
        mgr.close()
        srv.destroy()


if __name__ == "__main__":
    main()
