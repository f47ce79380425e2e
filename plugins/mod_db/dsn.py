"""DSN strings, parsed exactly the way FreeSWITCH picks a database backend (spec §9).

Order of the rules (FreeSWITCH's ``_switch_cache_db_get_db_handle_dsn_ex``):

1. ``sqlite://name``: core SQLite.  ``sqlite://memory://name`` is an in-memory database
   shared by every handle of that DSN.  A relative name becomes ``<db_dir>/name.db``; an
   absolute path is used as it is.
2. ``odbc://dsn[:user[:pass]]``, or **any other string with a ``:`` after its 2nd character
   and no ``://``**: ODBC.  So ``core:my_db`` is the ODBC data source ``core`` with user
   ``my_db``.  An ODBC connection string (it holds ``=``, e.g. ``Driver={X};Database=y``)
   is passed to the driver manager whole, not split on ``:``.
3. ``pgsql://<libpq conninfo>``, ``postgresql://…`` and ``postgres://…`` URIs: PostgreSQL,
   through the psqlODBC driver with a DSN-less connection string (see docs/db.md for why).
4. Any other ``prefix://``: refused with a clear error (FreeSWITCH would look for a module
   that registered that prefix; fsd has none beyond the ones above).
5. A plain name with no colon: core SQLite, ``<db_dir>/name.db``.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

SQLITE = "sqlite"
ODBC = "odbc"
PGSQL = "pgsql"

# The psqlODBC driver name registered by Debian's odbc-postgresql in odbcinst.ini.
PG_ODBC_DRIVER = os.environ.get("FSD_PG_ODBC_DRIVER", "PostgreSQL Unicode")


class DsnError(ValueError):
    """A DSN that names no usable database; the message says what is wrong."""


@dataclass(frozen=True)
class Dsn:
    """A parsed DSN.  ``key`` is the pool key (the DSN string as given)."""

    kind: str
    key: str
    path: str = ""  # SQLite: file path, or a "file:…?mode=memory" URI
    memory: bool = False
    odbc: str = ""  # ODBC: data-source name or connection string
    user: str = ""
    password: str = ""

    def odbc_connect_string(self) -> str:
        """What pyodbc.connect() gets for ODBC and PostgreSQL DSNs."""
        if "=" in self.odbc:
            conn = self.odbc if self.odbc.rstrip().endswith(";") else self.odbc + ";"
        else:
            conn = f"DSN={_odbc_quote(self.odbc)};"
        if self.user:
            conn += f"UID={_odbc_quote(self.user)};"
        if self.password:
            conn += f"PWD={_odbc_quote(self.password)};"
        return conn

    def describe(self) -> str:
        """The DSN with any password hidden, for logs and ``db_cache status``."""
        if self.kind == SQLITE:
            return self.key if self.memory else f"sqlite://{self.path}"
        text = self.key
        if self.password:
            text = text.replace(self.password, "****")
        return re.sub(r"(?i)(pwd|password)=[^;\s]*", r"\1=****", text)


def join_dsn(dsn: str, user: str | None = None, password: str | None = None) -> str:
    """``Dbh(dsn, user, pass)``: with a non-empty user or pass the DSN becomes
    ``dsn:user:pass`` (an empty part and its colon are left out, as FreeSWITCH does)."""
    user = user or ""
    password = password or ""
    if not user and not password:
        return dsn
    return dsn + (":" + user if user else "") + (":" + password if password else "")


def parse_dsn(dsn: str, db_dir: str) -> Dsn:
    """Parse ``dsn`` per the rules in the module docstring; raise :class:`DsnError`."""
    if not isinstance(dsn, str) or not dsn.strip():
        raise DsnError("empty DSN")
    dsn = dsn.strip()
    lower = dsn.lower()
    if lower.startswith("sqlite://"):
        return _sqlite(dsn, dsn[9:], db_dir)
    colon_slashes = "://" in dsn
    if lower.startswith("odbc://") or (":" in dsn[2:] and not colon_slashes):
        body = dsn[7:] if lower.startswith("odbc://") else dsn
        return _odbc(dsn, body)
    if lower.startswith("pgsql://"):
        return _pgsql(dsn, dsn[8:])
    if lower.startswith(("postgresql://", "postgres://")):
        return _pgsql(dsn, dsn)
    if colon_slashes:
        prefix = dsn.split("://", 1)[0]
        raise DsnError(f"unknown DSN type {prefix!r}:// in {dsn!r} "
                       "(use sqlite://, odbc://, pgsql:// or postgresql://)")
    return _sqlite(dsn, dsn, db_dir)


def _sqlite(key: str, name: str, db_dir: str) -> Dsn:
    if name.lower().startswith("memory://"):
        mem = name[9:]
        if not mem:
            raise DsnError(f"missing database name in {key!r}")
        # A named shared-cache memory database: all handles of the DSN see the same data.
        return Dsn(SQLITE, key, path=f"file:fsd-{mem}?mode=memory&cache=shared", memory=True)
    if not name:
        raise DsnError(f"missing database name in {key!r}")
    if "\x00" in name:
        raise DsnError(f"NUL byte in DSN {key!r}")
    path = name if os.path.isabs(name) else os.path.join(db_dir, name + ".db")
    return Dsn(SQLITE, key, path=path)


def _odbc(key: str, body: str) -> Dsn:
    if "=" in body:
        # A full ODBC connection string: its ':' belong to values, not to user/pass.
        return Dsn(ODBC, key, odbc=body)
    name, _, rest = body.partition(":")
    user, _, password = rest.partition(":")
    if not name:
        raise DsnError(f"missing ODBC data source name in {key!r}")
    return Dsn(ODBC, key, odbc=name, user=user, password=password)


# libpq keyword -> psqlODBC keyword.  Anything else goes through psqlODBC's pqopt.
_PG_KEYS = {
    "host": "Server", "hostaddr": "Server", "port": "Port", "dbname": "Database",
    "user": "Uid", "password": "Pwd", "sslmode": "SSLmode",
}


def _pgsql(key: str, conninfo: str) -> Dsn:
    """Translate a libpq connection string (keyword/value or URI) into a DSN-less ODBC
    connection string for psqlODBC."""
    conninfo = conninfo.strip()
    if not conninfo:
        raise DsnError(f"empty PostgreSQL connection string in {key!r}")
    params = _parse_pg_uri(key, conninfo) if "://" in conninfo else _parse_pg_kv(key, conninfo)
    if "dbname" not in params and "user" in params:
        params["dbname"] = params["user"]  # libpq's default
    odbc = f"Driver={{{PG_ODBC_DRIVER}}};"
    extra = []
    for k, v in params.items():
        if k in _PG_KEYS:
            odbc += f"{_PG_KEYS[k]}={_odbc_quote(v)};"
        else:
            extra.append(f"{k}={v}")
    if "host" not in params and "hostaddr" not in params:
        odbc += "Server=localhost;"
    if extra:
        odbc += "pqopt={" + " ".join(extra) + "};"
    return Dsn(PGSQL, key, odbc=odbc)


def _parse_pg_kv(key: str, text: str) -> dict[str, str]:
    try:
        parts = shlex.split(text)
    except ValueError as e:
        raise DsnError(f"malformed PostgreSQL connection string in {key!r}: {e}") from None
    out: dict[str, str] = {}
    for part in parts:
        k, eq, v = part.partition("=")
        if not eq or not k:
            raise DsnError(f"malformed PostgreSQL connection string in {key!r}: "
                           f"expected keyword=value, got {part!r}")
        out[k.strip().lower()] = v
    return out


def _parse_pg_uri(key: str, text: str) -> dict[str, str]:
    u = urlsplit(text)
    if u.scheme.lower() not in ("postgresql", "postgres"):
        raise DsnError(f"malformed PostgreSQL URI in {key!r}")
    out: dict[str, str] = {}
    try:
        if u.hostname:
            out["host"] = u.hostname
        if u.port:
            out["port"] = str(u.port)
    except ValueError as e:
        raise DsnError(f"malformed PostgreSQL URI in {key!r}: {e}") from None
    if u.username:
        out["user"] = unquote(u.username)
    if u.password:
        out["password"] = unquote(u.password)
    if u.path.strip("/"):
        out["dbname"] = unquote(u.path.strip("/"))
    for k, v in parse_qsl(u.query):
        out[k.lower()] = v
    return out


def _odbc_quote(value: str) -> str:
    """Brace-quote an ODBC attribute value when it holds ; { } or spaces."""
    if any(c in value for c in ";{} ="):
        return "{" + value.replace("}", "}}") + "}"
    return value
