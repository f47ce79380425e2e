"""Folding a batch (coredb_coalesce) leaves exactly the table contents that running its
statements one by one leaves: random event sequences and hand-made edge cases."""

from __future__ import annotations

import random
import sqlite3

import pytest
from fsd_modules.mod_db.coredb_coalesce import coalesce
from fsd_modules.mod_db.coredb_schema import (
    CH_INSERT,
    TABLES,
    event_ops,
    registration_add_ops,
    registration_del_ops,
    schema_statements,
)

from fsd.events import Event


def fresh_db() -> sqlite3.Connection:
    con = sqlite3.connect(":memory:", isolation_level=None)
    for stmt in schema_statements():
        con.execute(stmt)
    return con


def contents(con: sqlite3.Connection) -> dict[str, list[tuple]]:
    """Every table's rows, all columns, duplicates kept (sorted; None sorts first)."""
    def key(row: tuple) -> tuple:
        return tuple((v is not None, str(type(v)), v if v is not None else 0) for v in row)
    return {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=key) for t in TABLES}


def one_by_one(con: sqlite3.Connection, ops: list) -> None:
    for sql, params in ops:
        con.execute(sql, params)


def folded(con: sqlite3.Connection, ops: list) -> int:
    groups = coalesce(ops)
    con.execute("BEGIN")
    for sql, rows in groups:
        con.executemany(sql, rows)
    con.execute("COMMIT")
    return sum(len(r) for _, r in groups)


def ev(name: str, uuid: str = "", /, **headers: str) -> Event:
    e = Event(name)
    if uuid:
        e.add_header("Unique-ID", uuid)
    for k, v in headers.items():
        e.add_header(k.replace("_", "-"), v)
    return e


def random_event(rng: random.Random, uuids: list[str]) -> Event:
    u = rng.choice(uuids)
    v = str(rng.randrange(4))
    kind = rng.randrange(14)
    if kind == 0:
        return ev("CHANNEL_CREATE", u, Channel_Name=f"sofia/{u}", Channel_State="CS_INIT",
                  Caller_Caller_ID_Number=v, Call_Direction=rng.choice(["inbound", "outbound"]))
    if kind == 1:
        return ev("CHANNEL_STATE", u, Channel_State=f"CS_{v}")
    if kind == 2:
        return ev("CHANNEL_CALLSTATE", u, Channel_Call_State=f"ST{v}")
    if kind in (3, 4, 5):
        name = ("CHANNEL_ANSWER", "CHANNEL_PROGRESS_MEDIA", "CODEC")[kind - 3]
        return ev(name, u, Channel_Read_Codec_Name=f"C{v}", Channel_Read_Codec_Rate="8000",
                  Channel_Write_Codec_Name=f"W{v}", Channel_Write_Codec_Rate="16000")
    if kind == 6:
        return ev("CHANNEL_EXECUTE", u, Application=f"app{v}", Application_Data=v)
    if kind == 7:
        b = rng.choice(uuids)
        return ev("CHANNEL_BRIDGE", u, Bridge_A_Unique_ID=u, Bridge_B_Unique_ID=b,
                  Other_Leg_Caller_ID_Number=v)
    if kind == 8:
        return ev("CHANNEL_BRIDGE", u, Other_Leg_Unique_ID=rng.choice(uuids))
    if kind == 9:
        return ev(rng.choice(["CHANNEL_UNBRIDGE", "CHANNEL_HANGUP_COMPLETE"]), u)
    if kind == 10:
        return ev("CHANNEL_DESTROY", u)
    if kind == 11:
        return ev(rng.choice(["MODULE_LOAD", "MODULE_UNLOAD"]), type="api", name=f"api{v}")
    if kind == 12:
        e = Event("CUSTOM", "sofia::register")
        for k, x in (("from-user", v), ("from-host", "d"), ("call-id", f"c{v}"),
                     ("expires", "2000000000"), ("contact", f"sip:{v}@h")):
            e.add_header(k, x)
        return e
    return ev("CHANNEL_STATE", "", Channel_State="CS_ORPHAN")  # no Unique-ID: uuid ''


@pytest.mark.parametrize("seed", range(60))
def test_random_batches_fold_to_identical_tables(seed: int) -> None:
    rng = random.Random(seed)
    uuids = [f"u{i}" for i in range(rng.randrange(1, 7))]
    ref, new = fresh_db(), fresh_db()
    # Rows from earlier batches: updates of this batch must land on them.
    warmup = [op for _ in range(rng.randrange(0, 20))
              for op in event_ops(random_event(rng, uuids), "h")]
    one_by_one(ref, warmup)
    one_by_one(new, warmup)
    for _ in range(3):  # several batches in a row, each folded on its own
        ops = [op for _ in range(rng.randrange(1, 80))
               for op in event_ops(random_event(rng, uuids), "h")]
        one_by_one(ref, ops)
        folded(new, ops)
        assert contents(new) == contents(ref), seed


def test_a_call_folds_to_few_statements() -> None:
    a = "call-a"
    events = [ev("CHANNEL_CREATE", a, Channel_Name="sofia/a", Channel_State="CS_NEW"),
              *[ev("CHANNEL_STATE", a, Channel_State=s) for s in ("CS_INIT", "CS_ROUTING",
                                                                   "CS_EXECUTE")],
              ev("CHANNEL_CALLSTATE", a, Channel_Call_State="RINGING"),
              ev("CHANNEL_EXECUTE", a, Application="lua", Application_Data="x.lua"),
              ev("CHANNEL_ANSWER", a, Channel_Read_Codec_Name="PCMU")]
    ops = [op for e in events for op in event_ops(e, "h")]
    ref, new = fresh_db(), fresh_db()
    one_by_one(ref, ops)
    assert folded(new, ops) == 2  # one DELETE, one INSERT carrying every later update
    assert contents(new) == contents(ref)
    row = new.execute("SELECT state, callstate, application, read_codec FROM channels").fetchone()
    assert row == ("CS_EXECUTE", "ACTIVE", "lua", "PCMU")
    end = [op for e in (ev("CHANNEL_STATE", a, Channel_State="CS_HANGUP"),
                        ev("CHANNEL_HANGUP_COMPLETE", a), ev("CHANNEL_DESTROY", a))
           for op in event_ops(e, "h")]
    one_by_one(ref, end)
    # DELETE channel, and the calls DELETE once (the repeat deletes nothing)
    assert folded(new, end) == 2
    assert contents(new) == contents(ref) and contents(new)["channels"] == []


EDGE_CASES = {
    "insert without delete (duplicate rows)": [
        (CH_INSERT, ("x", "in", "", 0, "n", "S", "DOWN", "", "", "", "", "", "", "", "", "h")),
        ("UPDATE channels SET state = ? WHERE uuid = ?", ("S2", "x")),
        (CH_INSERT, ("x", "in", "", 0, "n2", "S", "DOWN", "", "", "", "", "", "", "", "", "h")),
        ("UPDATE channels SET callstate = ? WHERE uuid = ?", ("ACTIVE", "x")),
    ],
    "unknown statement on channels is a barrier": [
        ("DELETE FROM channels WHERE uuid = ?", ("x",)),
        (CH_INSERT, ("x", "in", "", 0, "n", "S", "DOWN", "", "", "", "", "", "", "", "", "h")),
        ("UPDATE channels SET dest = ? WHERE uuid = ?", ("1234", "x")),
        ("UPDATE channels SET state = ? WHERE uuid = ?", ("S3", "x")),
        ("DELETE FROM channels WHERE name = ?", ("n",)),
        ("UPDATE channels SET state = ? WHERE uuid = ?", ("S4", "x")),
    ],
    "None values are set, not skipped": [
        ("DELETE FROM channels WHERE uuid = ?", ("x",)),
        (CH_INSERT, ("x", "in", "", 0, "n", "S", "DOWN", "", "", "", "", "", "", "", "", "h")),
        ("UPDATE channels SET state = ? WHERE uuid = ?", (None, "x")),
        ("UPDATE channels SET call_uuid = uuid WHERE uuid = ?", ("x",)),
    ],
    "update before create, then destroy and recreate": [
        ("UPDATE channels SET state = ? WHERE uuid = ?", ("early", "x")),
        ("DELETE FROM channels WHERE uuid = ?", ("x",)),
        ("UPDATE channels SET state = ? WHERE uuid = ?", ("lost", "x")),
        (CH_INSERT, ("x", "in", "", 0, "n", "S", "DOWN", "", "", "", "", "", "", "", "", "h")),
        ("UPDATE channels SET application = ?, application_data = ? WHERE uuid = ?",
         ("park", "", "x")),
    ],
    "calls insert between two deletes keeps both": [
        ("DELETE FROM calls WHERE caller_uuid = ? OR callee_uuid = ?", ("x", "x")),
        ("INSERT INTO calls (call_uuid, call_created, call_created_epoch, caller_uuid, "
         "callee_uuid, hostname) VALUES (?,?,?,?,?,?)", ("c", "", 0, "x", "y", "h")),
        ("DELETE FROM calls WHERE caller_uuid = ? OR callee_uuid = ?", ("x", "x")),
    ],
    "registrations keep their order": [
        *registration_add_ops("1000", "d", "t", "u", 5, "ip", "1", "udp", "h"),
        *registration_del_ops("1000", "d", "", "h"),
        *registration_add_ops("1000", "d", "t", "u2", 5, "ip", "1", "udp", "h"),
    ],
}


@pytest.mark.parametrize("case", sorted(EDGE_CASES))
def test_edge_cases_fold_to_identical_tables(case: str) -> None:
    ops = EDGE_CASES[case]
    ref, new = fresh_db(), fresh_db()
    # an existing row for x (two, in fact) so that UPDATEs before a DELETE matter
    seed = [(CH_INSERT, ("x", "old", "", 0, "o", "S0", "DOWN", "", "", "", "", "", "", "",
                         "", "h"))] * 2
    one_by_one(ref, seed)
    one_by_one(new, seed)
    one_by_one(ref, ops)
    folded(new, ops)
    assert contents(new) == contents(ref)


def test_empty_batch() -> None:
    assert coalesce([]) == []
