"""Core-database writer throughput (issue 14): rows/s of mod_db's SQLite writer for a
realistic channel-event mix while the asyncio loop is busy, against raw sqlite3.

    python bench/bench_coredb.py [--calls 3000] [--threads 4] [--profile]

1. One real call is made on an in-process switch (loopback leg pair into a dialplan that
   answers, sleeps 50 ms and hangs up) and every event the core database keeps is captured
   (≈15 per channel, ≈60 headers each, as the core fires them).
2. Those events are replayed for ``--calls`` calls (fresh UUIDs) into a ``CoreDb`` from
   ``--threads`` threads, while an event loop runs a busy callback (1 ms of work, then yield,
   over and over) and counts its own iterations; the run ends when ``flush()`` returns.
3. Baseline, same run: the same SQL rows (``event_ops`` of the same events, grouped into
   runs of one statement) written by raw ``sqlite3`` ``executemany`` in one transaction per
   500 events, on the calling thread, into a fresh file with the same schema and pragmas.

Printed: events and rows, writer rows/s (rows = SQL statements the events imply), baseline
rows/s, the ratio, loop iterations during the write (the loop's responsiveness), dropped
and failed counts, and the load average (the machine is shared).  ``--profile`` adds a
cProfile of the writer thread (top functions by cumulative time).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fsd_modules.mod_db.coredb import CoreDb  # noqa: E402
from fsd_modules.mod_db.coredb_schema import (  # noqa: E402
    WANTED,
    event_ops,
    schema_statements,
)

from fsd.testing import EventLog, originate, running_switch, wait_until  # noqa: E402

DIALPLAN = """<include><context name="default">
  <extension name="bench_coredb"><condition field="destination_number" expression="^7004$">
    <action application="answer"/><action application="sleep" data="50"/>
    <action application="hangup"/>
  </condition></extension></context></include>"""


def capture_call(tmp: str) -> list:
    """The core-db events of one real call (both loopback legs), in firing order."""
    modules = ["mod_commands", "mod_dptools", "mod_loopback", "mod_dialplan_xml"]
    with running_switch(os.path.join(tmp, "capture"), modules=modules,
                        extra_files={"conf/dialplan/bench_coredb.xml": DIALPLAN}) as sw:
        log = EventLog(sw)
        uuid, reply = originate(sw, "loopback/7004 &park")
        assert uuid, reply
        assert wait_until(lambda: len(log.of("CHANNEL_DESTROY")) >= 2, 10), "call did not end"
        with log.lock:
            events = [e for e in log.events if e.name in WANTED and e.name != "CUSTOM"]
    return events


def replicate(templates: list, calls: int) -> list[list]:
    """``calls`` copies of the captured call, each with its own UUIDs (every header whose
    value is one of the call's UUIDs gets the copy's)."""
    uuids = sorted({e.get_header("Unique-ID") for e in templates} - {None})
    out = []
    for i in range(calls):
        new = {u: f"{i:08d}{u[8:]}" for u in uuids}
        evs = []
        for t in templates:
            e = t.copy()
            for name, value in list(e):
                if value.__class__ is str and value in new:
                    e.set_header(name, new[value])
            evs.append(e)
        out.append(evs)
    return out


class BusyLoop:
    """An event loop thread that keeps itself busy: a callback burns ~1 ms of CPU and
    reschedules itself; ``ticks`` counts how often it got to run."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.ticks = 0
        self.busy = False
        self.thread = threading.Thread(target=self.loop.run_forever, name="bench-loop",
                                       daemon=True)
        self.thread.start()

    def _work(self) -> None:
        if not self.busy:
            return
        end = time.perf_counter() + 0.001
        x = 0
        while time.perf_counter() < end:
            x += 1
        self.ticks += 1
        self.loop.call_soon(self._work)

    def start_work(self) -> None:
        self.busy = True
        self.loop.call_soon_threadsafe(self._work)

    def stop_work(self) -> None:
        self.busy = False

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


class ProfiledCoreDb(CoreDb):
    """CoreDb whose writer thread runs under cProfile."""

    def __init__(self, **kw) -> None:
        import cProfile

        super().__init__(**kw)
        self.profile = cProfile.Profile()

    def _run(self, writer) -> None:
        self.profile.enable()
        try:
            super()._run(writer)
        finally:
            self.profile.disable()

    def report(self) -> None:
        import pstats

        st = pstats.Stats(self.profile)
        st.sort_stats("tottime").print_stats(14)
        st.sort_stats("cumulative").print_stats(16)


def run_writer(path: str, per_call: list[list], threads: int, busy: BusyLoop,
               profile: bool) -> dict:
    db = (ProfiledCoreDb if profile else CoreDb)(hostname="bench", path=path, loop=busy.loop)
    db.start()
    events = sum(len(c) for c in per_call)
    chunks = [per_call[i::threads] for i in range(threads)]

    def feed(chunk: list[list]) -> None:
        for call in chunk:
            for e in call:
                db.ingest(e)

    busy.start_work()
    t0 = time.perf_counter()
    ticks0 = busy.ticks
    workers = [threading.Thread(target=feed, args=(c,)) for c in chunks]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    t_ingest = time.perf_counter() - t0
    ok = db.flush(600)
    elapsed = time.perf_counter() - t0
    ticks = busy.ticks - ticks0
    busy.stop_work()
    s = db.stats()
    db.stop()
    if profile:
        db.report()
    return {"events": events, "elapsed": elapsed, "ingest": t_ingest, "flushed": ok,
            "ticks": ticks, **s}


def run_raw(path: str, per_call: list[list], batch: int = 500) -> dict:
    """The same rows through raw sqlite3: one transaction per ``batch`` events, runs of
    one statement as one executemany (what the writer does, minus queue and threads)."""
    ops_batches = []
    events = [e for call in per_call for e in call]
    for i in range(0, len(events), batch):
        ops = [op for e in events[i:i + batch] for op in event_ops(e, "bench")]
        groups: list[tuple[str, list]] = []
        for sql, params in ops:
            if groups and groups[-1][0] == sql:
                groups[-1][1].append(params)
            else:
                groups.append((sql, [params]))
        ops_batches.append(groups)
    rows = sum(len(p) for g in ops_batches for _, p in g)
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=NORMAL")
    for stmt in schema_statements():
        con.execute(stmt)
    t0 = time.perf_counter()
    for groups in ops_batches:
        con.execute("BEGIN")
        for sql, params in groups:
            con.executemany(sql, params)
        con.execute("COMMIT")
    elapsed = time.perf_counter() - t0
    con.close()
    return {"rows": rows, "elapsed": elapsed}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=3000, help="calls (2 channels each)")
    ap.add_argument("--threads", type=int, default=4, help="ingesting threads")
    ap.add_argument("--profile", action="store_true")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="fsd-bench-coredb-")
    print(f"load average before: {load()}")
    templates = capture_call(tmp)
    per_call = replicate(templates, args.calls)
    events = sum(len(c) for c in per_call)
    rows = sum(len(event_ops(e, "bench")) for c in per_call for e in c)
    print(f"{args.calls} calls x {len(templates)} events (captured from a real call, "
          f"{sum(len(list(e)) for e in templates) // len(templates)} headers each on average)"
          f" = {events} events, {rows} SQL rows")
    busy = BusyLoop()
    try:
        w = run_writer(os.path.join(tmp, "core.db"), per_call, args.threads, busy, args.profile)
    finally:
        busy.close()
    raw = run_raw(os.path.join(tmp, "raw.db"), per_call)
    w_rate = rows / w["elapsed"]
    raw_rate = raw["rows"] / raw["elapsed"]
    print(f"writer:   {w['events']} events from {args.threads} threads in {w['elapsed']:.2f} s "
          f"(ingest {w['ingest']:.2f} s) -> {w_rate:,.0f} rows/s, {w['events'] / w['elapsed']:,.0f} "
          f"events/s; written {w['written']} failed {w['failed']} dropped {w['dropped']} "
          f"batches {w['batches']} flushed {w['flushed']}")
    if "statements" in w:
        print(f"          folded into {w['statements']} SQL rows "
              f"({w['statements'] / max(rows, 1):.0%} of the statements the events imply)")
    print(f"          busy loop ran {w['ticks']} 1-ms callbacks meanwhile "
          f"({w['ticks'] / w['elapsed']:.0f}/s)")
    print(f"raw sqlite3 executemany: {raw['rows']} rows in {raw['elapsed']:.2f} s -> "
          f"{raw_rate:,.0f} rows/s")
    print(f"writer / raw = {w_rate / raw_rate:.2f}")
    print(f"at 150 calls/s a SIP call fires ~{len(templates) // 2} events per channel: "
          f"the writer keeps up with ~{w['events'] / w['elapsed'] / len(templates):,.0f} calls/s "
          f"of this mix")
    print(f"load average after: {load()}")


if __name__ == "__main__":
    main()
