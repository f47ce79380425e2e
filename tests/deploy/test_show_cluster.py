"""``show channels cluster`` / ``show calls cluster`` read the core database, so they list
rows other nodes wrote there (here: rows put in by hand, as another node would), and they
answer ``-ERR`` when there is no core database or it fails."""

from __future__ import annotations

import sqlite3

from fsd.services import DATABASE
from fsd.testing import running_switch, wait_until

ROW = ("INSERT INTO channels (uuid, direction, created, created_epoch, name, state, callstate, "
       "dest, call_uuid, hostname) VALUES (?,?,?,?,?,?,?,?,?,?)")


def test_cluster_lists_come_from_the_core_database(tmp_path):
    with running_switch(tmp_path, ["mod_commands", "mod_db"]) as sw:
        assert wait_until(lambda: sw.services.get(DATABASE).coredb is not None, 10)
        core = sw.services.get(DATABASE).coredb
        with sqlite3.connect(core.path) as db:
            db.execute(ROW, ("a-1", "inbound", "", 1, "sofia/internal/1001@x", "CS_EXECUTE",
                             "ACTIVE", "9000", "a-1", "node2"))
            db.execute(ROW, ("b-1", "outbound", "", 2, "sofia/internal/1002@y", "CS_EXCHANGE_MEDIA",
                             "ACTIVE", "1002", "a-1", "node2"))
            db.execute(ROW, ("c-1", "inbound", "", 3, "sofia/internal/1003@z", "CS_PARK",
                             "ACTIVE", "9000", None, "node3"))
        assert "\n0 total." in sw.api_execute("show channels count")  # this node: none
        assert "\n3 total." in sw.api_execute("show channels cluster count")
        text = sw.api_execute("show channels cluster")
        assert text.splitlines()[0].startswith("uuid,direction,created")
        assert ",node2," in text and ",node3," in text
        calls = sw.api_execute("show calls cluster as json")
        assert '"row_count":2' in calls  # a-1 with b-1 bridged to it, and c-1 alone
        assert '"b_uuid":"b-1"' in calls and '"uuid":"c-1"' in calls
        like = sw.api_execute("show calls cluster like 1003")
        assert "c-1" in like and "a-1" not in like and "\n1 total." in like
        assert "1001" not in sw.api_execute("show channels cluster like 1003")

        with sqlite3.connect(core.path) as db:  # a broken database: an error, not a crash
            db.execute("DROP TABLE channels")
        assert sw.api_execute("show channels cluster").startswith("-ERR core database")


def test_without_a_core_database_the_cluster_lists_refuse(tmp_path):
    with running_switch(tmp_path, ["mod_commands"]) as sw:
        assert sw.api_execute("show channels cluster").startswith("-ERR no core database")
        assert sw.api_execute("show calls cluster count").startswith("-ERR no core database")
