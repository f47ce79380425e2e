"""A throw-away PostgreSQL server for tests: initdb + pg_ctl in a temporary directory.

Reusable from any test folder (stdlib only)::

    import importlib.util, pathlib
    spec = importlib.util.spec_from_file_location(
        "pg_server", pathlib.Path(__file__).parents[1] / "mod_db" / "pg_server.py")
    pg_server = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = pg_server; spec.loader.exec_module(pg_server)
    srv = pg_server.start_pg_server()      # ... srv.odbc_dsn(), srv.conninfo(); srv.destroy()

PostgreSQL refuses to run as root, so when the tests run as root every server command
runs as the ``postgres`` system user (created by the Debian package) through ``runuser``.
The server listens on 127.0.0.1 on a free ephemeral port and on a Unix socket inside its
own directory, never on the machine's default 5432.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass

PG_USER = "fsd"
PG_PASSWORD = "fsd-secret"
PG_DB = "fsd"


def _pg_bindir() -> str:
    """The newest /usr/lib/postgresql/<ver>/bin (Debian puts initdb/pg_ctl there)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if found:
        return os.path.dirname(found[-1])
    path = shutil.which("pg_ctl")
    if not path:
        raise RuntimeError("PostgreSQL server binaries not found (apt-get install postgresql)")
    return os.path.dirname(os.path.realpath(path))


def free_port() -> int:
    """An ephemeral TCP port that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PgServer:
    """A running (or stopped) private PostgreSQL cluster."""

    root: str
    port: int
    bindir: str
    user: str = PG_USER
    password: str = PG_PASSWORD
    dbname: str = PG_DB

    @property
    def datadir(self) -> str:
        return os.path.join(self.root, "data")

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        cmd = list(args)
        if os.geteuid() == 0:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, check=check, timeout=60)

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self._run(
            os.path.join(self.bindir, "pg_ctl"), "-D", self.datadir, "-w", "-t", "30",
            "-l", os.path.join(self.root, "server.log"),
            "-o", f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast`` disconnects clients, as an outage would)."""
        self._run(os.path.join(self.bindir, "pg_ctl"), "-D", self.datadir, "-w", "-m", mode,
                  "stop", check=False)

    def restart(self) -> None:
        self.stop()
        self.start()

    def psql(self, sql: str) -> str:
        """Run SQL as the superuser over the private Unix socket; return stdout."""
        r = self._run(os.path.join(self.bindir, "psql"), "-h", self.root, "-p", str(self.port),
                      "-U", "postgres", "-d", self.dbname, "-v", "ON_ERROR_STOP=1", "-Atc", sql)
        return r.stdout

    def conninfo(self) -> str:
        """libpq keyword/value form (what FreeSWITCH's ``pgsql://`` DSNs carry)."""
        return (f"host=127.0.0.1 port={self.port} dbname={self.dbname} "
                f"user={self.user} password={self.password}")

    def url(self) -> str:
        """libpq URI form: ``postgresql://user:pass@127.0.0.1:port/db``."""
        return f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}/{self.dbname}"

    def odbc_connstr(self, password: str | None = None) -> str:
        """A DSN-less ODBC connection string through the psqlODBC Unicode driver."""
        pw = self.password if password is None else password
        return (f"Driver={{PostgreSQL Unicode}};Server=127.0.0.1;Port={self.port};"
                f"Database={self.dbname};Uid={self.user};Pwd={pw};")

    def odbc_ini_entry(self, name: str) -> str:
        """An odbc.ini section naming this server (for ``odbc://name:user:pass`` DSNs)."""
        return (f"[{name}]\nDriver=PostgreSQL Unicode\nServername=127.0.0.1\n"
                f"Port={self.port}\nDatabase={self.dbname}\n")

    def destroy(self) -> None:
        """Stop the server and remove its directory."""
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


def start_pg_server(parent: str | None = None) -> PgServer:
    """initdb a fresh cluster in a new temp dir, start it on a free port, create the role
    ``fsd`` (password auth over TCP) and database ``fsd``; return the running server."""
    bindir = _pg_bindir()
    root = tempfile.mkdtemp(prefix="fsd-pg-", dir=parent)
    os.chmod(root, 0o755)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    srv = PgServer(root=root, port=free_port(), bindir=bindir)
    srv._run(os.path.join(bindir, "initdb"), "-D", srv.datadir, "-U", "postgres",
             "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
             "--locale=C", "--no-sync")
    for attempt in range(3):
        try:
            srv.start()
            break
        except subprocess.CalledProcessError:
            # Another process took the port between probing and binding: try a new one.
            if attempt == 2:
                raise
            srv.port = free_port()
            time.sleep(0.1)
    srv._run(os.path.join(bindir, "psql"), "-h", root, "-p", str(srv.port), "-U", "postgres",
             "-d", "postgres", "-v", "ON_ERROR_STOP=1",
             "-c", f"CREATE ROLE {PG_USER} LOGIN PASSWORD '{PG_PASSWORD}'",
             "-c", f"CREATE DATABASE {PG_DB} OWNER {PG_USER}")
    return srv
