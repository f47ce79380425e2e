"""§9 DSN forms and the Dbh(dsn, user, pass) joining rule."""

import pytest
from fsd_modules.mod_db.dsn import ODBC, PGSQL, SQLITE, DsnError, join_dsn, parse_dsn


def test_sqlite_prefix_relative_name_goes_to_db_dir():
    d = parse_dsn("sqlite://mydb", "/var/db")
    assert (d.kind, d.path, d.memory) == (SQLITE, "/var/db/mydb.db", False)


def test_sqlite_prefix_absolute_path_kept():
    assert parse_dsn("sqlite:///tmp/x.sqlite", "/var/db").path == "/tmp/x.sqlite"


def test_sqlite_memory():
    d = parse_dsn("sqlite://memory://cache", "/var/db")
    assert d.kind == SQLITE and d.memory and "mode=memory" in d.path and "cache" in d.path


def test_plain_name_is_sqlite():
    d = parse_dsn("core", "/var/db")
    assert (d.kind, d.path) == (SQLITE, "/var/db/core.db")


def test_odbc_prefix_with_user_and_pass():
    d = parse_dsn("odbc://mydsn:bob:secret", "/db")
    assert (d.kind, d.odbc, d.user, d.password) == (ODBC, "mydsn", "bob", "secret")
    assert d.odbc_connect_string() == "DSN=mydsn;UID=bob;PWD=secret;"


def test_odbc_prefix_dsn_only():
    d = parse_dsn("odbc://mydsn", "/db")
    assert (d.odbc, d.user, d.password) == ("mydsn", "", "")


def test_core_colon_is_odbc_not_sqlite():
    # The wiki says core: means sqlite; the source says ODBC DSN "core", user "my_db".
    d = parse_dsn("core:my_db", "/db")
    assert (d.kind, d.odbc, d.user) == (ODBC, "core", "my_db")


def test_colon_in_first_two_chars_is_not_odbc():
    # FreeSWITCH looks for ':' from the 3rd character on.
    d = parse_dsn("a:b", "/db")
    assert d.kind == SQLITE and d.path == "/db/a:b.db"


def test_odbc_connection_string_not_split_on_colon():
    d = parse_dsn("odbc://Driver={SQLite3};Database=/tmp/a:b.db", "/db")
    assert d.kind == ODBC and d.user == "" and d.odbc == "Driver={SQLite3};Database=/tmp/a:b.db"
    assert d.odbc_connect_string().endswith("Database=/tmp/a:b.db;")


def test_pgsql_keyword_value():
    d = parse_dsn("pgsql://host=127.0.0.1 port=5433 dbname=fs user=u password='p w'", "/db")
    assert d.kind == PGSQL
    s = d.odbc_connect_string()
    assert "Server=127.0.0.1;" in s and "Port=5433;" in s and "Database=fs;" in s
    assert "Uid=u;" in s and "Pwd={p w};" in s and s.startswith("Driver={PostgreSQL")


def test_pgsql_extra_options_go_to_pqopt():
    s = parse_dsn("pgsql://host=h dbname=d application_name=fsd", "/db").odbc_connect_string()
    assert "pqopt={application_name=fsd}" in s


@pytest.mark.parametrize("prefix", ["postgresql://", "postgres://", "pgsql://postgresql://"])
def test_postgresql_uri(prefix):
    d = parse_dsn(prefix + "u:p%40ss@db.example:6000/calls?sslmode=require", "/db")
    s = d.odbc_connect_string()
    assert d.kind == PGSQL
    for part in ("Server=db.example;", "Port=6000;", "Database=calls;", "Uid=u;",
                 "Pwd=p@ss;", "SSLmode=require;"):
        assert part in s


def test_describe_hides_passwords():
    assert "secret" not in parse_dsn("odbc://d:u:secret", "/db").describe()
    assert "secret" not in parse_dsn("pgsql://host=h password=secret", "/db").describe()


@pytest.mark.parametrize("bad", ["", "   ", "sqlite://", "sqlite://memory://", "odbc://",
                                 "odbc://:user:pass", "mysql://host/db", "pgsql://",
                                 "pgsql://host", "pgsql://host='unterminated",
                                 "postgresql://h:notaport/db"])
def test_malformed_dsn_is_a_clear_error(bad):
    with pytest.raises(DsnError) as e:
        parse_dsn(bad, "/db")
    assert str(e.value)


@pytest.mark.parametrize(("args", "joined"), [
    (("d", None, None), "d"),
    (("d", "", ""), "d"),
    (("d", "u", None), "d:u"),
    (("d", "u", "p"), "d:u:p"),
    (("d", "", "p"), "d:p"),  # FreeSWITCH drops the empty user and its colon
])
def test_join_rule(args, joined):
    assert join_dsn(*args) == joined
