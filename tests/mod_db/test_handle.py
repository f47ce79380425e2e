"""Every §9 statement about a Dbh, on each backend where it applies (core SQLite through
the stdlib, SQLite through its ODBC driver, PostgreSQL through psqlODBC)."""

from __future__ import annotations

import gc

import pytest
from fsd_modules.mod_db import backends
from fsd_modules.mod_db.handle import DbHandle, callback_stops
from fsd_modules.mod_db.pool import DbManager


def make_table(h: DbHandle, table: str) -> None:
    assert h.query(f"CREATE TABLE {table} (id INTEGER, name VARCHAR(64), note VARCHAR(64))")
    assert h.query(f"INSERT INTO {table} (id, name, note) VALUES (1, 'one', NULL)")
    assert h.query(f"INSERT INTO {table} (id, name, note) VALUES (2, 'two', 'x')")
    assert h.query(f"INSERT INTO {table} (id, name, note) VALUES (3, 'three', NULL)")


@pytest.fixture
def h(backend):
    handle = DbHandle(backend.manager, backend.dsn)
    assert handle.connected(), handle.last_error()
    make_table(handle, backend.table)
    yield handle
    if handle.connected():
        handle.query(f"DROP TABLE {backend.table}")
        handle.release()


# -- construction and connected() ------------------------------------------------------

def test_failed_connection_logs_and_object_exists(tmp_path, logs):
    mgr = DbManager(str(tmp_path), max_handles=5, timeout=1)
    h = DbHandle(mgr, "odbc://no_such_dsn_anywhere")
    assert h.connected() is False
    assert logs.has("Connection failed.  DBH NOT Connected.")
    assert "no_such_dsn_anywhere" in logs.errors()[0] or "not found" in logs.errors()[0]
    # Every method still answers as a not-connected handle.
    assert h.query("SELECT 1") is False and logs.has("DBH NOT Connected.")
    assert h.query_rows("SELECT 1") == (False, [], "DBH NOT Connected.")
    assert h.affected_rows() == 0
    assert h.release() is False
    assert h.test_reactive("SELECT 1", None, "SELECT 1") is False
    assert h.load_extension("x") == 0
    assert mgr.status()[0].in_use == 0 and mgr.status()[0].errors == 1
    mgr.close()


def test_connected_means_a_handle_was_obtained(backend):
    h = DbHandle(backend.manager, backend.dsn)
    assert h.connected() is True
    h.release()
    assert h.connected() is False


def test_user_and_pass_are_joined_into_the_dsn(pg, tmp_path):
    mgr = DbManager(str(tmp_path), max_handles=5, timeout=2)
    h = DbHandle(mgr, "fsd_pg", pg.user, pg.password)  # becomes fsd_pg:fsd:fsd-secret (ODBC)
    assert h.connected(), h.last_error()
    assert mgr.status()[0].kind == "odbc"
    ok, rows, err = h.query_rows("SELECT current_user AS u")
    assert ok and rows == [{"u": pg.user}] and err is None
    h.release()
    mgr.close()


# -- query ---------------------------------------------------------------------------

def test_query_with_callback_gets_string_values_and_null_as_empty(backend, h):
    rows = []
    assert h.query(f"SELECT id, name, note FROM {backend.table} ORDER BY id", rows.append)
    assert rows == [{"id": "1", "name": "one", "note": ""},
                    {"id": "2", "name": "two", "note": "x"},
                    {"id": "3", "name": "three", "note": ""}]


@pytest.mark.parametrize("stop_value", [1, -1, 2.5, "1", " 7 ", "0x10", "1e3"])
def test_callback_number_or_numeric_string_stops(backend, h, stop_value):
    seen = []

    def cb(row):
        seen.append(row["id"])
        return stop_value

    # A stopped iteration still makes query return true.
    assert h.query(f"SELECT id FROM {backend.table} ORDER BY id", cb) is True
    assert seen == ["1"]


@pytest.mark.parametrize("go_value", [None, True, False, 0, 0.0, 0.5, "0", "", "abc", {}, []])
def test_callback_bool_nil_zero_continue(backend, h, go_value):
    seen = []

    def cb(row):
        seen.append(row["id"])
        return go_value

    assert h.query(f"SELECT id FROM {backend.table} ORDER BY id", cb) is True
    assert seen == ["1", "2", "3"]


def test_callback_error_is_logged_and_stops(backend, h, logs):
    seen = []

    def cb(row):
        seen.append(row["id"])
        raise RuntimeError("boom in callback")

    assert h.query(f"SELECT id FROM {backend.table} ORDER BY id", cb) is True
    assert seen == ["1"]
    assert any("boom in callback" in e for e in logs.errors())
    # Not a driver error: last_error stays empty, the handle still works.
    assert h.last_error() is None
    assert h.query(f"SELECT id FROM {backend.table}")
    assert backend.manager.status()[0].in_use == 1


def test_callback_must_be_a_function(h):
    with pytest.raises(TypeError):
        h.query("SELECT 1", "not a function")


def test_empty_sql(h, logs):
    assert h.query("") is False
    assert logs.has("Missing SQL query.")
    assert h.query(None, lambda r: 0) is False


def test_query_clears_last_error_first(backend, h):
    assert h.query("SELEC broken") is False
    assert h.last_error()
    assert h.query(f"SELECT id FROM {backend.table}") is True
    assert h.last_error() is None


# -- last_error / clear_error ----------------------------------------------------------

def test_failed_query_without_callback_sets_last_error(backend, h):
    assert h.query("SELEC 1 FROM nowhere") is False
    err = h.last_error()
    assert isinstance(err, str) and err
    assert "syntax" in err.lower() or "selec" in err.lower()
    h.clear_error()
    assert h.last_error() is None


def test_failed_query_with_callback_last_error_per_backend(backend, h):
    assert h.query("SELECT * FROM no_such_table_xyz", lambda r: 0) is False
    if backend.core_sqlite:
        assert h.last_error() is None  # core SQLite does not fill it
    else:
        assert "no_such_table_xyz" in (h.last_error() or "")


# -- query_rows --------------------------------------------------------------------------

def test_query_rows_three_values_null_columns_absent(backend, h):
    ok, rows, err = h.query_rows(f"SELECT id, name, note FROM {backend.table} ORDER BY id")
    assert ok is True and err is None
    assert rows == [{"id": "1", "name": "one"},
                    {"id": "2", "name": "two", "note": "x"},
                    {"id": "3", "name": "three"}]


def test_query_rows_empty_result(backend, h):
    assert h.query_rows(f"SELECT id FROM {backend.table} WHERE id > 99") == (True, [], None)


def test_query_rows_errors(backend, h):
    assert h.query_rows("") == (False, [], "Missing SQL query.")
    ok, rows, err = h.query_rows("SELECT * FROM missing_table_q")
    assert ok is False and rows == [] and "missing_table_q" in err


# -- affected_rows -------------------------------------------------------------------------

def test_affected_rows(backend, h):
    assert h.query(f"UPDATE {backend.table} SET note = 'y' WHERE id >= 2")
    assert h.affected_rows() == 2
    assert h.query(f"SELECT * FROM {backend.table}", lambda r: 0)
    assert h.query(f"SELECT * FROM {backend.table}")
    assert h.affected_rows() == 2  # a SELECT does not reset it
    assert h.query(f"DELETE FROM {backend.table} WHERE id = 1")
    assert h.affected_rows() == 1
    assert h.query(f"DELETE FROM {backend.table} WHERE id = 99")
    assert h.affected_rows() == 0


def test_affected_rows_not_connected_logs(backend, logs):
    h = DbHandle(backend.manager, backend.dsn)
    h.release()
    assert h.affected_rows() == 0 and logs.has("DBH NOT Connected.")


# -- test_reactive ---------------------------------------------------------------------------

def test_test_reactive_missing_parameters(h, logs):
    assert h.test_reactive("SELECT 1", None, None) is False
    assert logs.has("Missing parameters.")
    assert h.test_reactive("", "DROP TABLE x", "CREATE TABLE x (a INTEGER)") is False


def test_test_reactive_test_succeeds(backend, h):
    assert h.test_reactive(f"SELECT id FROM {backend.table}", f"DROP TABLE {backend.table}",
                           "CREATE TABLE never_made (a INTEGER)") is True
    assert h.query(f"SELECT id FROM {backend.table}")  # not dropped


def test_test_reactive_runs_drop_then_reactive(backend, h):
    t = backend.table
    # test fails (no column 'missing'): drop the table, make it anew with the column.
    assert h.test_reactive(f"SELECT missing FROM {t}", f"DROP TABLE {t}",
                           f"CREATE TABLE {t} (id INTEGER, missing VARCHAR(8))") is True
    assert h.query_rows(f"SELECT missing FROM {t}") == (True, [], None)


def test_test_reactive_false_when_reactive_fails(backend, h, logs):
    assert h.test_reactive("SELECT * FROM nope_a", None, "CREATE TABLEX broken") is False
    assert logs.has("Auto Generation failed")


def test_test_reactive_core_settings(backend, tmp_path):
    mgr = DbManager(str(tmp_path), max_handles=5, timeout=2, auto_clear_sql=False)
    h = DbHandle(mgr, backend.dsn)
    # auto-clear-sql off: true without doing anything (the reactive SQL is not run).
    assert h.test_reactive("SELECT * FROM nope_b", None, f"CREATE TABLE {backend.table}_r (a INTEGER)")
    assert h.query(f"SELECT * FROM {backend.table}_r") is False
    h.release()
    mgr.close()
    mgr = DbManager(str(tmp_path), max_handles=5, timeout=2, auto_create_schemas=False)
    h = DbHandle(mgr, backend.dsn)
    # auto-create-schemas off: test_sql's own result.
    assert h.test_reactive("SELECT * FROM nope_c", None, f"CREATE TABLE {backend.table}_r (a INTEGER)") is False
    assert h.query(f"SELECT * FROM {backend.table}_r") is False
    assert h.test_reactive("SELECT 1", None, "SELECT 1") is True
    h.release()
    mgr.close()


# -- release ----------------------------------------------------------------------------------

def test_release_then_second_release(backend, logs):
    h = DbHandle(backend.manager, backend.dsn)
    assert backend.manager.status()[0].in_use == 1
    assert h.release() is True
    assert backend.manager.status()[0].in_use == 0
    assert h.release() is False
    assert logs.has("DBH NOT Connected.")


def test_garbage_collection_returns_the_handle(backend):
    h = DbHandle(backend.manager, backend.dsn)
    assert backend.manager.status()[0].in_use == 1
    del h
    gc.collect()
    s = backend.manager.status()[0]
    assert s.in_use == 0 and s.idle == 1


def test_script_end_returns_handles(backend):
    hs = [DbHandle(backend.manager, backend.dsn, owner="script-1") for _ in range(3)]
    keep = DbHandle(backend.manager, backend.dsn, owner="script-2")
    assert backend.manager.status()[0].in_use == 4
    assert backend.manager.release_owner("script-1") == 3
    assert backend.manager.status()[0].in_use == 1
    assert keep.connected()
    keep.release()
    del hs


def test_open_transaction_is_rolled_back_on_release(backend):
    h = DbHandle(backend.manager, backend.dsn)
    make_table(h, backend.table)
    assert h.query("BEGIN")
    assert h.query(f"DELETE FROM {backend.table}")
    h.release()
    h2 = DbHandle(backend.manager, backend.dsn)
    ok, rows, _ = h2.query_rows(f"SELECT id FROM {backend.table}")
    assert ok and len(rows) == 3
    h2.query(f"DROP TABLE {backend.table}")
    h2.release()


# -- load_extension -------------------------------------------------------------------------

needs_ext = pytest.mark.skipif(
    not backends.extensions_supported(),
    reason="this Python's sqlite3 module was built without loadable extension support",
)


@needs_ext
def test_load_extension_sqlite(tmp_path, sqlite_extension, logs):
    mgr = DbManager(str(tmp_path), max_handles=5, timeout=2)
    h = DbHandle(mgr, "sqlite://ext")
    assert h.load_extension("") == 0 and logs.has("Missing extension name.")
    assert h.load_extension(sqlite_extension) == 0  # SQLITE_OK
    assert h.query_rows("SELECT fsd_answer() AS a") == (True, [{"a": "42"}], None)
    assert h.load_extension(str(tmp_path / "missing.so")) == 1  # SQLITE_ERROR
    assert logs.has("LOAD EXTENSION ERR")
    # Loading is switched off again after each call: SQL cannot load a library itself.
    ok, _, err = h.query_rows(f"SELECT load_extension('{sqlite_extension}')")
    assert not ok and "not authorized" in (err or "")
    h.release()
    assert h.load_extension(sqlite_extension) == 0
    mgr.close()


def test_load_extension_refused_without_python_support(tmp_path, sqlite_extension, logs,
                                                       monkeypatch):
    """Where Python's sqlite3 cannot load extensions the call is refused (1, a log line
    saying why) and the connection keeps working; nothing reaches into the C library."""
    monkeypatch.setattr(backends, "extensions_supported", lambda: False)
    mgr = DbManager(str(tmp_path), max_handles=5, timeout=2)
    h = DbHandle(mgr, "sqlite://ext")
    assert h.load_extension(sqlite_extension) == 1
    assert logs.has("LOAD EXTENSION ERR [SQLite extensions cannot be loaded")
    assert logs.has("enable_load_extension")
    ok, _, err = h.query_rows("SELECT fsd_answer() AS a")
    assert not ok and "no such function" in (err or "")
    assert h.query_rows("SELECT 7 AS a") == (True, [{"a": "7"}], None)
    assert h.load_extension("") == 0  # the wrapper's own checks come first, as before
    h.release()
    mgr.close()


def test_mod_db_uses_no_ctypes():
    """The C handle is never read out of CPython's object layout (issue 11)."""
    import pathlib

    src = pathlib.Path(backends.__file__).parent
    for f in src.glob("*.py"):
        assert "ctypes" not in f.read_text(), f


def test_load_extension_not_supported_on_odbc(pg, tmp_path, logs):
    mgr = DbManager(str(tmp_path), max_handles=5, timeout=2)
    h = DbHandle(mgr, "pgsql://" + pg.conninfo())
    assert h.load_extension("/x.so") == 0
    assert logs.has("not supported")
    h.release()
    mgr.close()


# -- SQLite specifics ---------------------------------------------------------------------------

def test_sqlite_file_lands_in_db_dir(tmp_path):
    mgr = DbManager(str(tmp_path), max_handles=5, timeout=2)
    for dsn in ("sqlite://named", "plain"):
        h = DbHandle(mgr, dsn)
        assert h.query("CREATE TABLE a (x INTEGER)")
        h.release()
    assert (tmp_path / "named.db").exists() and (tmp_path / "plain.db").exists()
    mgr.close()


def test_sqlite_memory_shared_between_handles(tmp_path):
    mgr = DbManager(str(tmp_path), max_handles=5, timeout=2)
    a = DbHandle(mgr, "sqlite://memory://shared1")
    b = DbHandle(mgr, "sqlite://memory://shared1")
    assert a.query("CREATE TABLE m (x INTEGER); INSERT INTO m VALUES (5)")
    assert b.query_rows("SELECT x FROM m") == (True, [{"x": "5"}], None)
    a.release()
    b.release()
    assert not list(tmp_path.iterdir())
    mgr.close()


def test_sqlite_multiple_statements_and_semicolons_in_strings(tmp_path):
    mgr = DbManager(str(tmp_path), max_handles=5, timeout=2)
    h = DbHandle(mgr, "sqlite://multi")
    assert h.query("CREATE TABLE s (v TEXT); INSERT INTO s VALUES ('a;b'); INSERT INTO s VALUES ('c');")
    assert h.query_rows("SELECT v FROM s ORDER BY v") == (True, [{"v": "a;b"}, {"v": "c"}], None)
    h.release()
    mgr.close()


def test_pg_types_become_strings(pg, tmp_path):
    mgr = DbManager(str(tmp_path), max_handles=5, timeout=2)
    h = DbHandle(mgr, pg.url())
    ok, rows, err = h.query_rows("SELECT 1.50::numeric AS n, true AS b, 'é'::text AS u, "
                                 "NULL::int AS z, 7::bigint AS i")
    assert ok, err
    assert rows == [{"n": "1.50", "b": "1", "u": "é", "i": "7"}]
    h.release()
    mgr.close()


def test_callback_stops_table():
    assert callback_stops(1) and callback_stops("2") and callback_stops(-0.0 + 3)
    assert not callback_stops(0) and not callback_stops(None) and not callback_stops(True)
