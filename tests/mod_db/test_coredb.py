"""The core database: events become rows; batches; a slow database never blocks ingest()."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time

import pytest
from fsd_modules.mod_db.coredb import CoreDb
from fsd_modules.mod_db.dsn import parse_dsn

from fsd.events import Event


@pytest.fixture(scope="module")
def loop():
    lp = asyncio.new_event_loop()
    t = threading.Thread(target=lp.run_forever, daemon=True)
    t.start()
    yield lp
    lp.call_soon_threadsafe(lp.stop)
    t.join(5)


def ev(name, uuid="", subclass=None, /, **headers):
    e = Event(name, subclass) if subclass else Event(name)
    if uuid:
        e.add_header("Unique-ID", uuid)
    for k, v in headers.items():
        e.add_header(k.replace("_", "-"), v)
    return e


def call_events(a, b):
    return [
        ev("CHANNEL_CREATE", a, Channel_Name="loopback/a", Call_Direction="inbound",
           Caller_Caller_ID_Number="1000", Caller_Destination_Number="2000",
           Channel_State="CS_INIT", Caller_Context="default"),
        ev("CHANNEL_CREATE", b, Channel_Name="loopback/b", Call_Direction="outbound"),
        ev("CHANNEL_CALLSTATE", a, Channel_Call_State="RINGING"),
        ev("CHANNEL_ANSWER", a, Channel_Read_Codec_Name="PCMU", Channel_Read_Codec_Rate="8000",
           Channel_Write_Codec_Name="PCMU", Channel_Write_Codec_Rate="8000"),
        ev("CHANNEL_EXECUTE", a, Application="bridge", Application_Data="loopback/b"),
        ev("CHANNEL_BRIDGE", a, Bridge_A_Unique_ID=a, Bridge_B_Unique_ID=b),
    ]


def check_call_lifecycle(db, hostname):
    a, b = "uuid-a-" + hostname, "uuid-b-" + hostname
    for e in call_events(a, b):
        assert db.ingest(e)
    assert db.flush()
    chans = {r["uuid"]: r for r in db.query("SELECT * FROM channels WHERE hostname = ?", [hostname])}
    assert set(chans) == {a, b}
    ca = chans[a]
    assert (ca["name"], ca["direction"], ca["cid_num"], ca["dest"], ca["context"]) == (
        "loopback/a", "inbound", "1000", "2000", "default")
    assert (ca["callstate"], ca["read_codec"], ca["application"]) == ("ACTIVE", "PCMU", "bridge")
    assert chans[b]["call_uuid"] == a
    calls = db.query("SELECT caller_uuid, callee_uuid FROM calls WHERE hostname = ?", [hostname])
    assert calls == [{"caller_uuid": a, "callee_uuid": b}]
    db.ingest(ev("CHANNEL_UNBRIDGE", a))
    db.ingest(ev("CHANNEL_HANGUP_COMPLETE", b))
    db.ingest(ev("CHANNEL_DESTROY", a))
    assert db.flush()
    assert db.query("SELECT * FROM calls WHERE hostname = ?", [hostname]) == []
    assert [r["uuid"] for r in db.query("SELECT uuid FROM channels WHERE hostname = ?", [hostname])] == [b]
    db.ingest(ev("CHANNEL_DESTROY", b))
    assert db.flush()
    assert db.query("SELECT * FROM channels WHERE hostname = ?", [hostname]) == []


def check_interfaces_and_registrations(db, hostname):
    db.ingest(ev("MODULE_LOAD", type="api", name="db_cache", description="Manage db cache",
                 syntax="db_cache status", key="mod_db", filename="plugins/mod_db"))
    db.add_registration("1000", "example.com", "call-1", "sip:1000@10.0.0.5:5062", 2_000_000_000,
                        "10.0.0.5", "5062", "udp")
    db.add_registration("1001", "example.com", "call-2", "sip:1001@10.0.0.6", 100, "10.0.0.6", "5060")
    db.ingest(ev("CUSTOM", "", "sofia::register", username="1002", realm="example.com",
                 call_id="c3", contact="sip:1002@h", expires="2000000000", network_ip="1.2.3.4",
                 network_port="5060"))
    assert db.flush()
    rows = db.query("SELECT type, name, ikey FROM interfaces WHERE hostname = ?", [hostname])
    assert rows == [{"type": "api", "name": "db_cache", "ikey": "mod_db"}]
    users = sorted(r["reg_user"] for r in db.query(
        "SELECT reg_user FROM registrations WHERE hostname = ?", [hostname]))
    assert users == ["1000", "1001", "1002"]
    db.expire_registrations(now=1000)
    db.del_registration("1002", "example.com")
    db.ingest(ev("MODULE_UNLOAD", type="api", name="db_cache"))
    assert db.flush()
    assert [r["reg_user"] for r in db.query(
        "SELECT reg_user FROM registrations WHERE hostname = ?", [hostname])] == ["1000"]
    assert db.query("SELECT * FROM interfaces WHERE hostname = ?", [hostname]) == []


def test_sqlite_core_db(loop, tmp_path):
    db = CoreDb(hostname="node1", path=str(tmp_path / "core.db"), loop=loop)
    db.start()
    check_call_lifecycle(db, "node1")
    check_interfaces_and_registrations(db, "node1")
    assert db.stats()["failed"] == 0
    db.stop()


def test_ignored_events_and_bad_input(loop, tmp_path, logs):
    db = CoreDb(hostname="n", path=str(tmp_path / "core.db"), loop=loop)
    db.start()
    assert db.ingest(ev("HEARTBEAT")) is False
    assert db.ingest(ev("CUSTOM", "", "other::thing")) is False

    class Broken:
        name = "CHANNEL_CREATE"
        subclass = None

        def get_header(self, name):
            raise ValueError("broken event")

    assert db.ingest(Broken())
    assert db.ingest(ev("CHANNEL_CREATE", "after-broken"))
    assert db.flush()
    assert db.stats()["failed"] == 1 and logs.has("broken event")
    assert [r["uuid"] for r in db.query("SELECT uuid FROM channels")] == ["after-broken"]
    db.stop()


def test_stale_rows_of_this_node_cleared_on_start(loop, tmp_path):
    path = str(tmp_path / "core.db")
    db = CoreDb(hostname="n1", path=path, loop=loop)
    db.start()
    db.ingest(ev("CHANNEL_CREATE", "stale"))
    db.stop()  # stop writes what was queued
    con = sqlite3.connect(path)
    con.execute("INSERT INTO channels (uuid, hostname) VALUES ('other-node', 'n2')")
    con.commit()
    con.close()
    db = CoreDb(hostname="n1", path=path, loop=loop)
    db.start()
    assert [r["uuid"] for r in db.query("SELECT uuid FROM channels")] == ["other-node"]
    db.stop()


def test_batching_500_rows(loop, tmp_path):
    db = CoreDb(hostname="n", path=str(tmp_path / "core.db"), loop=loop, flush_interval=5)
    db.start()
    for i in range(1200):
        db.ingest(ev("MODULE_LOAD", type="api", name=f"api{i}"))
    # 500 waiting events wake the writer long before the 5 s interval.
    deadline = time.monotonic() + 3
    while db.stats()["written"] < 1000 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert db.stats()["written"] >= 1000
    assert db.flush()
    assert db.query("SELECT count(*) AS n FROM interfaces") == [{"n": 1200}]
    db.stop()


def test_locked_sqlite_never_blocks_ingest(loop, tmp_path):
    path = str(tmp_path / "core.db")
    db = CoreDb(hostname="n", path=path, loop=loop)
    db.start()
    locker = sqlite3.connect(path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")  # the writer now waits on the lock
    try:
        worst = 0.0
        t_all = time.perf_counter()
        for i in range(5000):
            e = ev("CHANNEL_CREATE", f"u{i}")
            t0 = time.perf_counter()
            assert db.ingest(e)
            worst = max(worst, time.perf_counter() - t0)
        elapsed = time.perf_counter() - t_all
        time.sleep(0.2)
        # Nothing could be written while locked, yet every ingest returned at once.
        assert db.stats()["written"] == 0
        assert worst < 0.05, worst
        assert elapsed < 5
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert db.flush(20)
    assert db.query("SELECT count(*) AS n FROM channels") == [{"n": 5000}]
    db.stop()


def test_queue_limit_counts_drops(loop, tmp_path, logs):
    db = CoreDb(hostname="n", path=str(tmp_path / "core.db"), loop=loop, max_queue=10,
                flush_interval=10, batch_rows=1000)
    results = [db.ingest(ev("CHANNEL_CREATE", f"u{i}")) for i in range(15)]
    assert results.count(False) == 5 and db.stats()["dropped"] == 5
    assert logs.has("queue full")
    db.start()
    assert db.flush()
    assert db.query("SELECT count(*) AS n FROM channels") == [{"n": 10}]
    db.stop()


# -- PostgreSQL (core-db-dsn) ---------------------------------------------------------------

def test_pg_core_db(pg, tmp_path):
    db = CoreDb(hostname="pgnode", dsn=parse_dsn("pgsql://" + pg.conninfo(), str(tmp_path)))
    db.start()
    check_call_lifecycle(db, "pgnode")
    check_interfaces_and_registrations(db, "pgnode")
    db.stop()


def test_pg_shared_between_nodes(pg, tmp_path):
    dsn = parse_dsn(pg.url(), str(tmp_path))
    a = CoreDb(hostname="shared-a", dsn=dsn)
    b = CoreDb(hostname="shared-b", dsn=dsn)
    a.start()
    b.start()
    a.ingest(ev("CHANNEL_CREATE", "on-a"))
    b.ingest(ev("CHANNEL_CREATE", "on-b"))
    assert a.flush() and b.flush()
    rows = a.query("SELECT uuid, hostname FROM channels WHERE hostname LIKE 'shared-%' ORDER BY uuid")
    assert rows == [{"uuid": "on-a", "hostname": "shared-a"}, {"uuid": "on-b", "hostname": "shared-b"}]
    a.stop()
    b.stop()


def test_pg_slow_database_never_blocks_ingest(pg, tmp_path):
    """While a flag row exists, every row written to channels costs the server 100 ms
    (a pg_sleep trigger): 2000 rows would take 200 s of database time."""
    db = CoreDb(hostname="slow", dsn=parse_dsn("pgsql://" + pg.conninfo(), str(tmp_path)))
    db.start()
    pg.psql("CREATE TABLE IF NOT EXISTS fsd_slow_flag (on_ INTEGER); "
            "INSERT INTO fsd_slow_flag VALUES (1); GRANT SELECT ON fsd_slow_flag TO fsd; "
            "CREATE OR REPLACE FUNCTION fsd_slow() RETURNS trigger AS $$ "
            "BEGIN IF NEW.hostname = 'slow' AND EXISTS (SELECT 1 FROM fsd_slow_flag) THEN "
            "PERFORM pg_sleep(0.1); END IF; RETURN NEW; END $$ LANGUAGE plpgsql; "
            "DROP TRIGGER IF EXISTS fsd_slow_t ON channels; "
            "CREATE TRIGGER fsd_slow_t BEFORE INSERT ON channels FOR EACH ROW "
            "EXECUTE FUNCTION fsd_slow();")
    try:
        worst = 0.0
        t_all = time.perf_counter()
        for i in range(2000):
            e = ev("CHANNEL_CREATE", f"slow-{i}")
            t0 = time.perf_counter()
            assert db.ingest(e)
            worst = max(worst, time.perf_counter() - t0)
        elapsed = time.perf_counter() - t_all
        time.sleep(0.3)
        written_while_slow = db.stats()["written"]
        # The database is still on its first batch; ingest() did not wait for it.
        assert written_while_slow == 0
        assert elapsed < 5 and worst < 0.05, (elapsed, worst)
    finally:
        pg.psql("DELETE FROM fsd_slow_flag")  # needs no lock the writer holds
    assert db.flush(60)
    assert db.query("SELECT count(*) AS n FROM channels WHERE hostname = 'slow'") == [{"n": 2000}]
    assert db.stats()["failed"] == 0
    pg.psql("DROP TRIGGER IF EXISTS fsd_slow_t ON channels")
    db.stop()


def test_pg_core_db_survives_restart(pg, tmp_path):
    db = CoreDb(hostname="restart", dsn=parse_dsn("pgsql://" + pg.conninfo(), str(tmp_path)))
    db.start()
    db.ingest(ev("CHANNEL_CREATE", "before"))
    assert db.flush()
    pg.restart()
    db.ingest(ev("CHANNEL_CREATE", "after"))
    assert db.flush()
    assert db.stats()["failed"] == 0
    rows = db.query("SELECT uuid FROM channels WHERE hostname = 'restart' ORDER BY uuid")
    assert rows == [{"uuid": "after"}, {"uuid": "before"}]
    db.stop()


def test_unreachable_core_db_dsn_fails_start(tmp_path):
    db = CoreDb(hostname="x", dsn=parse_dsn("odbc://no_such_core_dsn", str(tmp_path)))
    with pytest.raises(Exception) as e:
        db.start()
    assert "core database unavailable" in str(e.value)
