"""Fixtures for mod_db: real drivers only.

* unixODBC reads a private odbcinst.ini/odbc.ini (ODBCSYSINI/ODBCINI, set before any
  ODBC call) registering the SQLite ODBC driver and psqlODBC.
* A private PostgreSQL server (pg_server.py) is started once per session.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import pathlib
import subprocess
import sys
import tempfile

import pytest

from fsd.log import ERR, logger

_HERE = pathlib.Path(__file__).parent
_spec = importlib.util.spec_from_file_location("mod_db_pg_server", _HERE / "pg_server.py")
pg_server = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = pg_server  # dataclasses look their module up there
_spec.loader.exec_module(pg_server)

_ODBC_DIR = tempfile.mkdtemp(prefix="fsd-odbc-")
SQLITE_ODBC_DB = os.path.join(_ODBC_DIR, "odbc-sqlite.db")


def _driver(pattern: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/*/odbc/{pattern}") + glob.glob(f"/usr/lib/odbc/{pattern}"))
    if not found:
        raise RuntimeError(f"ODBC driver {pattern} not installed (see .ci/setup.d/db.sh)")
    return found[0]


with open(os.path.join(_ODBC_DIR, "odbcinst.ini"), "w") as f:
    f.write(f"[SQLite3]\nDriver={_driver('libsqlite3odbc.so')}\n\n"
            f"[PostgreSQL Unicode]\nDriver={_driver('psqlodbcw.so')}\n")
os.environ["ODBCSYSINI"] = _ODBC_DIR
os.environ["ODBCINI"] = os.path.join(_ODBC_DIR, "odbc.ini")


def write_odbc_ini(extra: str = "") -> None:
    with open(os.environ["ODBCINI"], "w") as f:
        f.write(f"[fsd_sqlite]\nDriver=SQLite3\nDatabase={SQLITE_ODBC_DB}\nTimeout=5000\n\n")
        f.write(extra)


write_odbc_ini()


@pytest.fixture(scope="session")
def pg():
    srv = pg_server.start_pg_server()
    write_odbc_ini(srv.odbc_ini_entry("fsd_pg"))
    yield srv
    srv.destroy()


class LogCapture:
    def __init__(self) -> None:
        self.lines: list[tuple[int, str]] = []

    def __call__(self, record) -> None:
        self.lines.append((record.level, record.text))

    def errors(self) -> list[str]:
        return [t for lvl, t in self.lines if lvl <= ERR]

    def has(self, text: str) -> bool:
        return any(text in t for _, t in self.lines)


@pytest.fixture
def logs():
    cap = LogCapture()
    sid = logger.add_sink(cap)
    yield cap
    logger.remove_sink(sid)


@pytest.fixture(scope="session")
def sqlite_extension(tmp_path_factory) -> str:
    """A tiny SQLite extension (adds SQL function fsd_answer() = 42), built with gcc."""
    d = tmp_path_factory.mktemp("ext")
    src = d / "fsdext.c"
    src.write_text(
        "#include <sqlite3ext.h>\nSQLITE_EXTENSION_INIT1\n"
        "static void answer(sqlite3_context *c, int n, sqlite3_value **v)"
        "{ sqlite3_result_int(c, 42); }\n"
        "int sqlite3_fsdext_init(sqlite3 *db, char **err, const sqlite3_api_routines *api)"
        "{ SQLITE_EXTENSION_INIT2(api);\n"
        "  return sqlite3_create_function(db, \"fsd_answer\", 0, SQLITE_UTF8, 0, answer, 0, 0); }\n"
    )
    out = d / "fsdext.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(out), str(src)], check=True)
    return str(out)


class Backend:
    """One database under test: a manager, a DSN string and a fresh table name."""

    def __init__(self, name: str, manager, dsn: str) -> None:
        self.name = name
        self.manager = manager
        self.dsn = dsn
        self.core_sqlite = name == "sqlite"
        Backend.counter += 1
        self.table = f"t_{name}_{Backend.counter}"

    counter = 0


BACKENDS = ["sqlite", "sqlite_odbc", "pgsql"]


@pytest.fixture(params=BACKENDS)
def backend(request, tmp_path):
    from fsd_modules.mod_db.pool import DbManager

    mgr = DbManager(str(tmp_path), max_handles=5, timeout=2)
    if request.param == "sqlite":
        dsn = "sqlite://handles"
    elif request.param == "sqlite_odbc":
        dsn = "odbc://fsd_sqlite"
    else:
        srv = request.getfixturevalue("pg")
        dsn = "pgsql://" + srv.conninfo()
    b = Backend(request.param, mgr, dsn)
    yield b
    mgr.close()
