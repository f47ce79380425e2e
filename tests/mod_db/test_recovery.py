"""PostgreSQL goes away and comes back: existing handles reconnect on next use."""

from __future__ import annotations

import pytest
from fsd_modules.mod_db.backends import DbError, is_disconnect, retry_is_safe
from fsd_modules.mod_db.handle import DbHandle
from fsd_modules.mod_db.pool import DbManager


@pytest.fixture
def pg_mgr(pg, tmp_path):
    mgr = DbManager(str(tmp_path), max_handles=5, timeout=2)
    yield mgr
    mgr.close()


@pytest.mark.parametrize("form", ["pgsql", "odbc"])
def test_restart_mid_test_next_query_succeeds(pg, pg_mgr, form):
    dsn = "pgsql://" + pg.conninfo() if form == "pgsql" else f"fsd_pg:{pg.user}:{pg.password}"
    h = DbHandle(pg_mgr, dsn)
    idle = DbHandle(pg_mgr, dsn)
    idle.release()  # one connection waits in the pool through the outage
    assert h.query("CREATE TABLE IF NOT EXISTS rec_t (v INTEGER)")
    assert h.query("DELETE FROM rec_t")
    pg.stop()
    pg.start()
    # A read: reconnect and re-run.
    assert h.query_rows("SELECT 41 + 1 AS v") == (True, [{"v": "42"}], None)
    assert h.connected()
    # The pooled idle connection also recovers, this time on a write: the error
    # (57P01 or "connection lost") proves the INSERT never ran, so it is re-run once.
    pg.restart()
    h2 = DbHandle(pg_mgr, dsn)
    assert h2.query("INSERT INTO rec_t VALUES (1)"), h2.last_error()
    assert h2.affected_rows() == 1
    ok, rows, _ = h.query_rows("SELECT count(*) AS n FROM rec_t")
    assert ok and rows == [{"n": "1"}]  # exactly once
    assert pg_mgr.status()[0].reconnects >= 2
    h.release()
    h2.release()
    assert pg_mgr.status()[0].in_use == 0


def test_query_while_down_fails_cleanly_then_recovers(pg, pg_mgr):
    h = DbHandle(pg_mgr, "pgsql://" + pg.conninfo())
    assert h.query("SELECT 1")
    pg.stop()
    try:
        assert h.query("SELECT 1") is False
        assert h.last_error()
        assert h.connected()  # still holds its pooled handle (connected() does not ping)
        ok, rows, err = h.query_rows("SELECT 1")
        assert not ok and err
    finally:
        pg.start()
    assert h.query_rows("SELECT 2 AS two") == (True, [{"two": "2"}], None)
    h.release()
    assert pg_mgr.status()[0].in_use == 0


def test_no_retry_inside_a_transaction(pg, pg_mgr):
    h = DbHandle(pg_mgr, "pgsql://" + pg.conninfo())
    assert h.query("CREATE TABLE IF NOT EXISTS rec_tx (v INTEGER)")
    assert h.query("BEGIN")
    assert h.query("INSERT INTO rec_tx VALUES (1)")
    pg.restart()
    # The transaction died with the old connection: the statement is not replayed on
    # the new connection, the caller sees the error, the handle works again afterwards.
    assert h.query("INSERT INTO rec_tx VALUES (2)") is False
    assert h.last_error()
    assert h.query_rows("SELECT count(*) AS n FROM rec_tx") == (True, [{"n": "0"}], None)
    h.release()


@pytest.mark.parametrize(("state", "msg", "sql", "txn", "safe"), [
    ("57P01", "terminating connection due to administrator command", "INSERT INTO t VALUES (1)", False, True),
    ("08S01", "SQLExecDirectW unable due to the connection lost", "UPDATE t SET a = 1", False, True),
    ("08S01", "server closed the connection unexpectedly", "INSERT INTO t VALUES (1)", False, False),
    ("08S01", "server closed the connection unexpectedly", "SELECT * FROM t", False, True),
    ("08S01", "server closed the connection unexpectedly", "WITH x AS (DELETE FROM t) SELECT 1", False, False),
    ("57P01", "terminating connection", "SELECT 1", True, False),
])
def test_retry_rule(state, msg, sql, txn, safe):
    err = DbError(msg, state)
    assert is_disconnect(err)
    assert retry_is_safe(err, sql, txn) is safe


def test_syntax_error_is_not_a_disconnect():
    assert not is_disconnect(DbError('syntax error at or near "SELEC"', "42601"))
