"""The key-value ``db`` API/application, the ``group`` API and the ``db`` limit backend
(FreeSWITCH's mod_db.c, which fsd folds into its own mod_db).

The data live in tables ``db_data``, ``limit_data`` and ``group_data`` of the database
named by db.conf.xml ``<settings><param name="odbc-dsn" …/>`` or, without it, the SQLite
database ``call_limit`` in the db directory, as FreeSWITCH.  Texts follow mod_db.c: the API
answers ``+OK``, the value, ``true``/``false`` or ``!err!``.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

from fsd import limit
from fsd.log import DEBUG, ERR, WARNING, log

from .handle import DbHandle

DB_USAGE = "[insert|delete]/<realm>/<key>/<val>"
DEFAULT_DSN = "call_limit"

_SCHEMA = (
    ("select * from limit_data", "CREATE TABLE limit_data (hostname VARCHAR(255), "
     "realm VARCHAR(255), id VARCHAR(255), uuid VARCHAR(255))"),
    ("select * from db_data", "CREATE TABLE db_data (hostname VARCHAR(255), realm VARCHAR(255), "
     "data_key VARCHAR(255), data VARCHAR(255))"),
    ("select * from group_data", "CREATE TABLE group_data (hostname VARCHAR(255), "
     "groupname VARCHAR(255), url VARCHAR(255))"),
)
_INDEXES = (
    "create index ld_hostname on limit_data (hostname)",
    "create index ld_uuid on limit_data (uuid)",
    "create index ld_realm on limit_data (realm)",
    "create index ld_id on limit_data (id)",
    "create index dd_realm on db_data (realm)",
    "create unique index dd_data_key_realm on db_data (data_key,realm)",
    "create index gd_groupname on group_data (groupname)",
    "create index gd_url on group_data (url)",
)


def q(text: str | None) -> str:
    """switch_mprintf's %q: the text inside single quotes with quotes doubled."""
    return (text or "").replace("'", "''")


class KvDb:
    """SQL over one DSN through mod_db's pools; every call leases a handle briefly."""

    def __init__(self, manager: Any, dsn: str, hostname: str | None = None) -> None:
        self.manager = manager
        self.dsn = dsn
        self.hostname = hostname or socket.gethostname()
        self.lock = threading.Lock()  # the limit check-then-insert is one step

    def execute(self, sql: str) -> bool:
        with DbHandle(self.manager, self.dsn) as h:
            if not h.connected():
                log(ERR, "Error Opening DB\n")
                return False
            ok = h.query(sql)
            if not ok:
                log(ERR, f"SQL ERR: [{sql}] {h.last_error() or ''}\n")
            return ok

    def rows(self, sql: str) -> list[list[str]]:
        out: list[list[str]] = []
        with DbHandle(self.manager, self.dsn) as h:
            if not h.connected():
                log(ERR, "Error Opening DB\n")
                return out
            ok = h.query(sql, lambda row: out.append(list(row.values())))
            if not ok and h.last_error():
                log(ERR, f"SQL ERR: [{sql}] {h.last_error()}\n")
        return out

    def first(self, sql: str) -> str:
        r = self.rows(sql)
        return r[0][0] if r and r[0] else ""

    def setup(self) -> bool:
        with DbHandle(self.manager, self.dsn) as h:
            if not h.connected():
                return False
            for test, create in _SCHEMA:
                h.test_reactive(test, None, create)
            for sql in _INDEXES:
                h.query(sql)  # already there after the first start: the error is expected
        self.execute(f"delete from limit_data where hostname='{q(self.hostname)}'")
        return True

    # -- db API / app ----------------------------------------------------------------------
    def _put(self, realm: str, key: str, value: str) -> None:
        self.execute(f"delete from db_data where realm='{q(realm)}' and data_key='{q(key)}'")
        self.execute("insert into db_data (hostname, realm, data_key, data) values("
                     f"'{q(self.hostname)}','{q(realm)}','{q(key)}','{q(value)}')")

    def api(self, args: str, session: Any, stream: Any) -> None:
        argv = (args or "").split("/", 3) if (args or "").strip() else []
        n = len(argv)
        op = argv[0].lower() if argv else ""
        if op == "insert" and n >= 4:
            self._put(argv[1], argv[2], argv[3])
            stream.write("+OK")
        elif op == "delete" and n >= 2:
            key = argv[2] if n > 2 else ""
            self.execute(f"delete from db_data where realm='{q(argv[1])}' and data_key='{q(key)}'")
            stream.write("+OK")
        elif op in ("select", "exists") and n >= 3:
            value = self.first(f"select data from db_data where realm='{q(argv[1])}' "
                               f"and data_key='{q(argv[2])}'")
            stream.write(value if op == "select" else ("true" if value else "false"))
        elif op == "count" and n < 3:
            sql = (f"select count(data_key) from db_data where realm='{q(argv[1])}'" if n == 2
                   else "select count(distinct realm) from db_data")
            stream.write(self.first(sql))
        elif op == "list" and n < 3:
            sql = (f"select distinct data_key from db_data where realm='{q(argv[1])}'" if n == 2
                   else "select distinct realm from db_data")
            stream.write(",".join(r[0] for r in self.rows(sql) if r))
        else:
            stream.write("!err!")

    def app(self, session: Any, data: str) -> None:
        argv = (data or "").split("/", 3) if (data or "").strip() else []
        op = argv[0].lower() if argv else ""
        if len(argv) < 3:
            session.log(WARNING, f"USAGE: db {DB_USAGE}\n")
        elif op == "insert" and len(argv) == 4:
            self._put(argv[1], argv[2], argv[3])
        elif op == "delete":
            self.execute(f"delete from db_data where realm='{q(argv[1])}' and data_key='{q(argv[2])}'")
        else:
            session.log(WARNING, f"USAGE: db {DB_USAGE}\n")

    # -- group API -------------------------------------------------------------------------
    def group_api(self, args: str, session: Any, stream: Any) -> None:
        """``group insert:<group>:<url>``, ``group delete:<group>:<url|*>``,
        ``group call:<group>[:order|multi]``."""
        argv = (args or "").split(":", 3) if (args or "").strip() else []
        op = argv[0].lower() if argv else ""
        n = len(argv)
        if op == "insert" and n >= 3:
            self.execute("insert into group_data (hostname, groupname, url) values("
                         f"'{q(self.hostname)}','{q(argv[1])}','{q(argv[2])}')")
            stream.write("+OK\n")
        elif op == "delete" and n >= 3:
            if argv[2] == "*":
                self.execute(f"delete from group_data where groupname='{q(argv[1])}'")
            else:
                self.execute(f"delete from group_data where groupname='{q(argv[1])}' "
                             f"and url='{q(argv[2])}'")
            stream.write("+OK\n")
        elif op == "call" and n >= 2:
            how = argv[2].lower() if n > 2 else "multi"
            urls = [r[0] for r in self.rows(f"select url from group_data where groupname="
                                            f"'{q(argv[1])}'") if r]
            stream.write(("|" if how == "order" else ",").join(urls))
        else:
            stream.write("!err!\n")


class DbLimit:
    """The ``db`` limit backend: one ``limit_data`` row per channel and resource."""

    def __init__(self, switch: Any, kv: KvDb) -> None:
        self.switch = switch
        self.kv = kv

    def _count(self, where: str) -> int:
        try:
            return int(self.kv.first(f"select count(hostname) from limit_data where {where}") or 0)
        except ValueError:
            return 0

    def incr(self, session: Any, realm: str, resource: str, max: int, interval: int) -> bool:
        kv = self.kv
        with kv.lock:
            session.set_variable("limit_realm", realm)
            session.set_variable("limit_id", resource)
            session.set_variable("limit_max", str(max))
            got = self._count(f"realm='{q(realm)}' and id='{q(resource)}'")
            if max < 0:
                session.log(DEBUG, f"Usage for {realm}_{resource} is now {got + 1}\n")
            else:
                session.log(DEBUG, f"Usage for {realm}_{resource} is now {got + 1}/{max}\n")
            if max >= 0 and got + 1 > max:
                return False
            kv.execute("insert into limit_data (hostname, realm, id, uuid) values("
                       f"'{q(kv.hostname)}','{q(realm)}','{q(resource)}','{q(session.uuid)}')")
        got += 1
        session.set_variable("limit_usage", str(got))
        session.set_variable(f"limit_usage_{realm}_{resource}", str(got))
        limit.fire_usage(self.switch, "db", realm, resource, got, 0, max, 0)
        return True

    def release(self, session: Any, realm: str | None, resource: str | None) -> None:
        if realm is None and resource is None:
            self.kv.execute(f"delete from limit_data where uuid='{q(session.uuid)}'")
        else:
            self.kv.execute(f"delete from limit_data where uuid='{q(session.uuid)}' and "
                            f"realm='{q(realm)}' and id = '{q(resource)}'")

    def usage(self, realm: str, resource: str) -> tuple[int, int]:
        return self._count(f"realm='{q(realm)}' and id='{q(resource)}'"), 0

    def reset(self) -> bool:
        return self.kv.execute(f"delete from limit_data where hostname='{q(self.kv.hostname)}'")

    def status(self) -> str:
        n = self._count(f"hostname='{q(self.kv.hostname)}'")
        return f"Tracking {n} resources for hostname {self.kv.hostname}."


def read_dsn(cfg: Any) -> str:
    """db.conf.xml ``<settings><param name="odbc-dsn">``, else ``call_limit``."""
    if cfg is not None:
        for p in cfg.iter("param"):
            if (p.get("name") or "").strip().lower() == "odbc-dsn" and (p.get("value") or "").strip():
                return p.get("value").strip()
    return DEFAULT_DSN


def declare(module: Any, manager: Any, cfg: Any) -> None:
    """Register the db API/app, the group API and the ``db`` limit backend."""
    from fsd.module import APP_ZOMBIE_EXEC

    sw = module.switch
    dsn = read_dsn(cfg)
    kv = KvDb(manager, dsn, getattr(sw, "switchname", None) or None)
    if not kv.setup() and dsn != DEFAULT_DSN:
        log(WARNING, f"db: cannot open {dsn!r}; using {DEFAULT_DSN}\n")
        kv = KvDb(manager, DEFAULT_DSN, kv.hostname)
        kv.setup()
    module.state["kvdb"] = kv
    limit.register(sw, "db", DbLimit(sw, kv), module.name)
    module.add_api("db", "db get/set", "[insert|delete|select|exists|count|list]/<realm>/<key>/<value>",
                   kv.api)
    module.add_application("db", kv.app, "Insert to the db", DB_USAGE, APP_ZOMBIE_EXEC)
    module.add_api("group", "group [insert|delete|call]", "[insert|delete|call]:<group name>:<url>",
                   kv.group_api)


def undeclare(module: Any) -> None:
    limit.unregister(module.switch, "db")
