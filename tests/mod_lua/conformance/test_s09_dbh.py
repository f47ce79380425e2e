"""Behaviour reference §9 — `freeswitch.Dbh` over every backend mod_db offers: core SQLite
(`sqlite://`), SQLite through unixODBC (`odbc://Driver={SQLite3};…`) and a real PostgreSQL
server (`pgsql://`, tests/mod_db/pg_server.py), through the running daemon."""

from __future__ import annotations

import importlib.util
import os
import pathlib
import sys
import uuid

import pytest

from fsd.testing import wait_until

_PG = pathlib.Path(__file__).resolve().parents[2] / "mod_db" / "pg_server.py"


@pytest.fixture(scope="session")
def pg():
    spec = importlib.util.spec_from_file_location("mod_lua_pg_server", _PG)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    srv = mod.start_pg_server()
    yield srv
    srv.destroy()


@pytest.fixture(params=["sqlite", "odbc_sqlite", "pgsql"])
def backend(request, daemon, tmp_path):
    """(kind, dsn, table) — a fresh table name on that backend."""
    table = f"c9_{uuid.uuid4().hex[:8]}"
    if request.param == "sqlite":
        return "sqlite", "sqlite://c9_core", table
    if request.param == "odbc_sqlite":
        return "odbc", f"odbc://Driver={{SQLite3}};Database={tmp_path / 'c9.db'}", table
    srv = request.getfixturevalue("pg")
    return "pgsql", f"pgsql://{srv.conninfo()}", table


def _q(s: str) -> str:
    return "[==[" + s + "]==]"


def test_9_constructor_user_pass_joined(daemon, lua):
    """§9 Dbh(dsn [, user [, pass]]): a non-empty user or pass makes the DSN dsn:user:pass."""
    lua('freeswitch.Dbh("c9joined", "u9", "p9")')
    assert "c9joined:u9:****" in daemon.sw.api_execute("db_cache", "status")


def test_9_dsn_forms(daemon, lua, tmp_path):
    """§9 DSN forms: sqlite://name → <db_dir>/name.db; a plain name → core SQLite too;
    odbc://…; `core:my_db` is ODBC (data source core, user my_db); pgsql:// → PostgreSQL."""
    out = lua('local a = freeswitch.Dbh("sqlite://c9_form") a:query("create table if not exists t(x)") '
              'local b = freeswitch.Dbh("c9plain") b:query("create table if not exists t(x)") '
              'local c = freeswitch.Dbh("core:my_db") stream:write(tostring(a:connected()) .. tostring(b:connected()) .. tostring(c:connected()))')
    assert out == "truetruefalse"
    assert os.path.exists(os.path.join(daemon.sw.dirs.db, "c9_form.db"))
    assert os.path.exists(os.path.join(daemon.sw.dirs.db, "c9plain.db"))
    status = daemon.sw.api_execute("db_cache", "status")
    assert any(line.startswith("core:my_db") and "[odbc]" in line for line in status.splitlines())


def test_9_failed_connection_logs_object_exists(lua, logs):
    """§9 A failed connection logs "Connection failed.  DBH NOT Connected." and the object
    still exists."""
    out = lua('local d = freeswitch.Dbh("odbc://c9_no_such_dsn") stream:write(type(d) .. tostring(d:connected()))')
    assert out == "tablefalse"
    assert any("Connection failed.  DBH NOT Connected." in r.text for r in logs)


def test_9_connected_boolean(lua, backend):
    """§9 connected() → boolean: a pooled handle was obtained."""
    kind, dsn, _ = backend
    assert lua(f'local d = freeswitch.Dbh({_q(dsn)}) stream:write(type(d:connected()) .. tostring(d:connected()))') == "booleantrue"


def test_9_test_reactive(lua, backend, logs):
    """§9 test_reactive(test [, drop [, reactive]]): missing parameters → false with
    "Missing parameters."; a failing test runs drop then reactive; true if either worked."""
    kind, dsn, t = backend
    out = lua(f'local d = freeswitch.Dbh({_q(dsn)}) local m = d:test_reactive("select 1") '
              f'local r = d:test_reactive("select * from {t}", "drop table {t}", "create table {t} (id integer, name varchar(20))") '
              f'local again = d:test_reactive("select * from {t}", "drop table {t}", "create table {t} (id integer)") '
              f'd:query("insert into {t} values (1, \'x\')") '
              f'stream:write(tostring(m) .. tostring(r) .. tostring(again))')
    assert out == "falsetruetrue"
    assert any("Missing parameters." in r.text for r in logs)


def test_9_query_callback_rows_null_and_stop(lua, backend, logs):
    """§9 query(sql [, fn]): empty sql → false "Missing SQL query."; fn gets
    {column = "string"} per row with NULL as ""; a non-zero number (or numeric string)
    stops; booleans/nil/0 continue; a Lua error in fn is logged and stops; the third
    argument must be a function."""
    kind, dsn, t = backend
    out = lua(f'local d = freeswitch.Dbh({_q(dsn)}) d:query("create table {t} (id integer, name varchar(20))") '
              f'for i = 1, 4 do d:query("insert into {t} values (" .. i .. ", " .. (i == 2 and "NULL" or "\'n" .. i .. "\'") .. ")") end '
              f'local rows = {{}} local ok = d:query("select id, name from {t} order by id", function(r) '
              f'rows[#rows+1] = r.id .. "=" .. r.name .. ":" .. type(r.id) end) '
              f'local n = 0 local ok2 = d:query("select id from {t} order by id", function(r) n = n + 1 if n == 2 then return 1 end return false end) '
              f'local m = 0 d:query("select id from {t}", function(r) m = m + 1 return "0" end) '
              f'local e = 0 d:query("select id from {t}", function(r) e = e + 1 error("row cb failed") end) '
              f'local empty = d:query("") '
              f'local okt, te = pcall(function() d:query("select 1", 5) end) '
              f'stream:write(table.concat(rows, ",") .. "|" .. tostring(ok) .. "|" .. n .. tostring(ok2) .. "|" .. m .. "|" .. e .. "|" '
              f'.. tostring(empty) .. "|" .. tostring(okt))')
    parts = out.split("|")
    assert parts[0] == "1=n1:string,2=:string,3=n3:string,4=n4:string"
    assert parts[1] == "true"
    assert parts[2].startswith("2") and (kind != "sqlite" or parts[2] == "2true")
    assert parts[3] == "4" and parts[4] == "1" and parts[5] == "false" and parts[6] == "false"
    assert any("Missing SQL query." in r.text for r in logs)
    assert any("row cb failed" in r.text for r in logs)


def test_9_query_rows_three_values(lua, backend):
    """§9 query_rows(sql) → ok, rows (NULL columns absent), err (nil, or a message)."""
    kind, dsn, t = backend
    out = lua(f'local d = freeswitch.Dbh({_q(dsn)}) d:query("create table {t} (id integer, name varchar(20))") '
              f'd:query("insert into {t} values (1, NULL)") d:query("insert into {t} values (2, \'b\')") '
              f'local ok, rows, err = d:query_rows("select id, name from {t} order by id") '
              f'local bok, brows, berr = d:query_rows("select * from no_such_table_c9") '
              f'local eok, _, eerr = d:query_rows("") '
              f'stream:write(tostring(ok) .. #rows .. tostring(rows[1].name) .. rows[2].name .. tostring(err) .. "|" '
              f'.. tostring(bok) .. #brows .. type(berr) .. "|" .. tostring(eok) .. eerr)')
    assert out == "true2nilbnil|false0string|falseMissing SQL query."


def test_9_affected_rows(lua, backend):
    """§9 affected_rows(): from the last INSERT/UPDATE/DELETE; a SELECT does not reset it."""
    kind, dsn, t = backend
    out = lua(f'local d = freeswitch.Dbh({_q(dsn)}) d:query("create table {t} (id integer)") '
              f'for i = 1, 3 do d:query("insert into {t} values (" .. i .. ")") end d:query("update {t} set id = id + 10") '
              f'local a = d:affected_rows() d:query("select * from {t}") stream:write(tostring(a) .. "|" .. tostring(d:affected_rows()))')
    assert out == "3|3"


def test_9_last_error_and_clear(lua, backend):
    """§9 last_error(): set by a failed query without callback (all backends); with a
    callback only on ODBC/driver backends, not core SQLite; clear_error() resets."""
    kind, dsn, t = backend
    out = lua(f'local d = freeswitch.Dbh({_q(dsn)}) local n0 = tostring(d:last_error()) d:query("select * from no_table_c9x") '
              f'local e1 = d:last_error() d:clear_error() local e2 = tostring(d:last_error()) '
              f'd:query("select * from no_table_c9x", function() end) local e3 = tostring(d:last_error()) '
              f'stream:write(n0 .. "|" .. type(e1) .. "|" .. e2 .. "|" .. e3)')
    n0, e1, e2, e3 = out.split("|", 3)
    assert n0 == "nil" and e1 == "string" and e2 == "nil"
    assert (e3 == "nil") if kind == "sqlite" else (e3 != "nil")


def test_9_release(lua, backend, logs):
    """§9 release() → true when a handle went back to the pool; again → false with
    "DBH NOT Connected."."""
    kind, dsn, t = backend
    assert lua(f'local d = freeswitch.Dbh({_q(dsn)}) stream:write(tostring(d:release()) .. tostring(d:release()) .. tostring(d:connected()))') == "truefalsefalse"
    assert any("DBH NOT Connected." in r.text for r in logs)


def test_9_released_at_script_end(daemon, lua, backend):
    """§9 (and §2) every handle a script holds goes back to the pool when it ends."""
    kind, dsn, t = backend
    lua(f'local d = freeswitch.Dbh({_q(dsn)}) d:query("select 1")')
    key = dsn if kind != "pgsql" else "pgsql://"

    def in_use() -> int:
        for line in daemon.sw.api_execute("db_cache", "status").splitlines():
            if line.startswith(key[:30]) and " in-use " in line:
                return int(line.split(" in-use ")[1].split()[0])
        return 0

    assert wait_until(lambda: in_use() == 0, 2)


def test_9_load_extension(lua, logs):
    """§9 load_extension(name) → a number: SQLite's load result (1 = SQLITE_ERROR for a
    missing library); 0 for the wrapper's own errors (no name, not connected)."""
    out = lua('local d = freeswitch.Dbh("sqlite://c9_ext") d:query("select 1") '
              'local r = d:load_extension("/nonexistent/ext.so") local e = d:load_extension("") d:release() '
              'local nc = d:load_extension("x") stream:write(math.type(r) .. r .. "|" .. e .. "|" .. nc)')
    assert out == "integer1|0|0"
    assert any("Missing extension name." in r.text for r in logs)
