"""The core-database writer runs on a thread of its own (issue 14): never on the event
loop, keeps up with bursts from many threads, isolates bad rows, flushes on stop."""

from __future__ import annotations

import asyncio
import sqlite3
import threading

import pytest
from fsd_modules.mod_db.coredb import CoreDb
from fsd_modules.mod_db.coredb_schema import TABLES, event_ops, schema_statements

from fsd.events import Event


@pytest.fixture
def loop():
    lp = asyncio.new_event_loop()
    t = threading.Thread(target=lp.run_forever, name="test-loop", daemon=True)
    t.start()
    yield lp, t
    lp.call_soon_threadsafe(lp.stop)
    t.join(5)
    lp.close()


def ev(name: str, uuid: str = "", /, **headers: str) -> Event:
    e = Event(name)
    if uuid:
        e.add_header("Unique-ID", uuid)
    for k, v in headers.items():
        e.add_header(k.replace("_", "-"), v)
    return e


def call(i: int) -> list[Event]:
    """A bridged call as the core fires it; every third call is still up at the end."""
    a, b = f"a-{i}", f"b-{i}"
    evs = [
        ev("CHANNEL_CREATE", a, Channel_Name=f"sofia/internal/{i}", Channel_State="CS_NEW",
           Call_Direction="inbound", Caller_Caller_ID_Number=str(i)),
        ev("CHANNEL_STATE", a, Channel_State="CS_INIT"),
        ev("CHANNEL_STATE", a, Channel_State="CS_ROUTING"),
        ev("CHANNEL_EXECUTE", a, Application="bridge", Application_Data=f"loopback/{i}"),
        ev("CHANNEL_CREATE", b, Channel_Name=f"loopback/{i}", Call_Direction="outbound"),
        ev("CHANNEL_ANSWER", a, Channel_Read_Codec_Name="PCMU", Channel_Write_Codec_Name="PCMU"),
        ev("CHANNEL_BRIDGE", a, Bridge_A_Unique_ID=a, Bridge_B_Unique_ID=b),
        ev("CHANNEL_CALLSTATE", b, Channel_Call_State="ACTIVE"),
    ]
    if i % 3:
        evs += [ev("CHANNEL_UNBRIDGE", a), ev("CHANNEL_HANGUP_COMPLETE", a),
                ev("CHANNEL_DESTROY", a), ev("CHANNEL_HANGUP_COMPLETE", b),
                ev("CHANNEL_DESTROY", b)]
    else:
        evs += [ev("CHANNEL_STATE", x, Channel_State=f"CS_{k}") for k in range(3) for x in (a, b)]
    return evs


def table_contents(path: str) -> dict[str, list[tuple]]:
    con = sqlite3.connect(path)
    try:
        return {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr)
                for t in TABLES}
    finally:
        con.close()


def reference(path: str, calls: list[list[Event]], hostname: str) -> dict[str, list[tuple]]:
    """What the events imply: their statements run one by one, in each call's order."""
    con = sqlite3.connect(path, isolation_level=None)
    for stmt in schema_statements():
        con.execute(stmt)
    con.execute("BEGIN")
    for evs in calls:
        for e in evs:
            for sql, params in event_ops(e, hostname):
                con.execute(sql, params)
    con.execute("COMMIT")
    con.close()
    return table_contents(path)


def test_events_are_mapped_and_written_off_the_loop(loop, tmp_path):
    lp, loop_thread = loop
    db = CoreDb(hostname="n", path=str(tmp_path / "core.db"), loop=lp)
    db.start()
    seen: list[threading.Thread] = []

    class Probe:  # an event that notes which thread turns it into SQL
        name = "CHANNEL_STATE"
        subclass = None

        def get_header(self, name):
            seen.append(threading.current_thread())
            return "x"

    assert db.ingest(Probe())
    assert db.flush()
    first = db.writer_thread
    db.start()  # already running: still one writer
    assert db.writer_thread is first
    assert seen and set(seen) == {db.writer_thread}
    assert db.writer_thread is not loop_thread and db.writer_thread is not threading.current_thread()
    db.stop()
    assert not db.writer_thread.is_alive()


def test_burst_from_threads_is_written_exactly(loop, tmp_path):
    lp, _ = loop
    calls = [call(i) for i in range(3850)]
    assert sum(map(len, calls)) >= 50_000
    db = CoreDb(hostname="burst", path=str(tmp_path / "core.db"), loop=lp)
    db.start()
    threads = [threading.Thread(target=lambda part: [db.ingest(e) for c in part for e in c],
                                args=(calls[k::4],)) for k in range(4)]
    # Each call's events go through one thread, in order; calls interleave freely.
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert db.flush(120)
    s = db.stats()
    assert (s["dropped"], s["failed"], s["queued"]) == (0, 0, 0)
    want = reference(str(tmp_path / "ref.db"), calls, "burst")
    assert s["written"] == sum(len(event_ops(e, "burst")) for c in calls for e in c)
    assert s["statements"] < s["written"]  # folded
    db.stop()
    got = table_contents(str(tmp_path / "core.db"))
    assert got == want
    assert len(got["channels"]) == 2 * len(range(0, 3850, 3)) and got["calls"]


def test_a_failing_statement_costs_only_itself(loop, tmp_path, logs):
    lp, _ = loop
    path = str(tmp_path / "core.db")
    db = CoreDb(hostname="n", path=path, loop=lp, flush_interval=30, batch_rows=10_000)
    db.start()
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("CREATE TRIGGER no_bad BEFORE INSERT ON channels WHEN NEW.uuid = 'bad' "
                "BEGIN SELECT RAISE(ABORT, 'bad row refused'); END")
    con.close()
    for i in range(300):
        db.ingest(ev("CHANNEL_CREATE", "bad" if i == 150 else f"u{i}", Channel_State="CS_NEW"))
        db.ingest(ev("CHANNEL_STATE", "bad" if i == 150 else f"u{i}", Channel_State="CS_INIT"))
    assert db.flush()  # one batch of 600 events
    s = db.stats()
    assert s["failed"] == 1 and s["written"] == 300 * 3 - 1 and s["batches"] == 1
    assert logs.has("replaying it row by row") and logs.has("bad row refused")
    rows = db.query("SELECT uuid, state FROM channels")
    assert len(rows) == 299 and {r["state"] for r in rows} == {"CS_INIT"}
    assert "bad" not in {r["uuid"] for r in rows}
    db.stop()


def test_stop_writes_what_is_queued(loop, tmp_path):
    lp, _ = loop
    path = str(tmp_path / "core.db")
    db = CoreDb(hostname="n", path=path, loop=lp, flush_interval=60, batch_rows=100_000)
    db.start()
    for i in range(2000):
        db.ingest(ev("CHANNEL_CREATE", f"u{i}"))
    db.stop()  # the 60 s interval has not passed and 2000 < batch_rows: stop flushes
    assert db.stats()["written"] == 4000
    assert table_contents(path)["channels"].__len__() == 2000


def stats_seen_from_loop(lp: asyncio.AbstractEventLoop, db: CoreDb) -> dict[str, int]:
    """The writer's counters as a callback scheduled on the loop now sees them when it
    runs (waits for it, with a deadline)."""
    ran = threading.Event()
    seen: dict[str, int] = {}

    def on_loop() -> None:
        seen.update(db.stats())
        ran.set()
    lp.call_soon_threadsafe(on_loop)
    assert ran.wait(30), "the loop did not run the callback"
    return seen


def test_loop_runs_while_the_writer_is_blocked(loop, tmp_path):
    """A loop callback scheduled while the writer is stuck in a batch (the file is locked
    by another connection) runs before that batch is written."""
    lp, _ = loop
    path = str(tmp_path / "core.db")
    db = CoreDb(hostname="n", path=path, loop=lp, batch_rows=500)
    db.start()
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        for i in range(5000):
            db.ingest(ev("CHANNEL_CREATE", f"u{i}"))
        # the writer took its first batch and waits on the lock
        while db.stats()["queued"] > 4500:
            threading.Event().wait(0.01)
        seen = stats_seen_from_loop(lp, db)
        assert seen["written"] == 0 and seen["queued"] > 0
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert db.flush(60)
    assert db.stats()["written"] == 10_000
    db.stop()


def test_loop_callback_runs_during_a_big_write(loop, tmp_path):
    lp, _ = loop
    db = CoreDb(hostname="n", path=str(tmp_path / "core.db"), loop=lp)
    db.start()
    events = [e for i in range(4000) for e in call(i)]
    for e in events:
        db.ingest(e)
    seen = stats_seen_from_loop(lp, db)
    assert db.flush(120)
    # the callback ran while most of the burst was still waiting to be written
    assert seen["queued"] > 0 and seen["written"] < db.stats()["written"]
    db.stop()


def test_restart_keeps_registrations_and_clears_own_channels(loop, tmp_path):
    lp, _ = loop
    path = str(tmp_path / "core.db")
    db = CoreDb(hostname="n1", path=path, loop=lp)
    db.start()
    db.add_registration("1000", "d", "call-1", "sofia/internal/sip:1000@h", 2_000_000_000,
                        "10.0.0.1", "5060")
    db.ingest(ev("CHANNEL_CREATE", "gone-at-restart"))
    db.stop()
    db = CoreDb(hostname="n1", path=path, loop=lp)
    db.start()
    assert db.query("SELECT uuid FROM channels") == []
    regs = db.query("SELECT reg_user, realm, token, url FROM registrations")
    assert regs == [{"reg_user": "1000", "realm": "d", "token": "call-1",
                     "url": "sofia/internal/sip:1000@h"}]
    db.stop()


def test_reads_from_other_threads_while_writing(loop, tmp_path):
    lp, _ = loop
    db = CoreDb(hostname="n", path=str(tmp_path / "core.db"), loop=lp)
    db.start()
    errors: list[BaseException] = []
    counts: list[list[int]] = [[], [], []]
    done = threading.Event()

    def reader(mine: list[int]) -> None:
        try:
            while not done.is_set():
                mine.append(db.query("SELECT count(*) AS n FROM channels")[0]["n"])
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)
    readers = [threading.Thread(target=reader, args=(c,)) for c in counts]
    for t in readers:
        t.start()
    for i in range(20_000):
        db.ingest(ev("CHANNEL_CREATE", f"r{i}"))
    assert db.flush(60)
    done.set()
    for t in readers:
        t.join()
    assert not errors and all(counts)
    # each reader sees committed transactions only: the count never goes back
    assert all(c == sorted(c) and c[-1] <= 20_000 for c in counts)
    assert db.query("SELECT count(*) AS n FROM channels") == [{"n": 20_000}]
    db.stop()
