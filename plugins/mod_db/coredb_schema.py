"""The core database's tables and how each event becomes SQL.

Column sets are a simplified subset of FreeSWITCH's (``switch_core_sqldb.c``); the column
names that exist are FreeSWITCH's, so queries written against FreeSWITCH's tables for
these columns work unchanged.  The SQL is plain enough for SQLite and PostgreSQL, and all
parameters use ``?`` (sqlite3 and pyodbc both take that style).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

Op = tuple[str, tuple[Any, ...]]

TABLES = {
    "channels": (
        "uuid VARCHAR(256), direction VARCHAR(32), created VARCHAR(128), "
        "created_epoch INTEGER, name VARCHAR(1024), state VARCHAR(64), "
        "cid_name VARCHAR(1024), cid_num VARCHAR(256), ip_addr VARCHAR(256), "
        "dest VARCHAR(1024), application VARCHAR(128), application_data VARCHAR(4096), "
        "dialplan VARCHAR(128), context VARCHAR(128), read_codec VARCHAR(128), "
        "read_rate VARCHAR(32), write_codec VARCHAR(128), write_rate VARCHAR(32), "
        "callstate VARCHAR(64), callee_name VARCHAR(1024), callee_num VARCHAR(256), "
        "call_uuid VARCHAR(256), presence_id VARCHAR(4096), accountcode VARCHAR(256), "
        "hostname VARCHAR(256)"
    ),
    "calls": (
        "call_uuid VARCHAR(255), call_created VARCHAR(128), call_created_epoch INTEGER, "
        "caller_uuid VARCHAR(256), callee_uuid VARCHAR(256), hostname VARCHAR(256)"
    ),
    "interfaces": (
        "type VARCHAR(128), name VARCHAR(1024), description VARCHAR(4096), "
        "syntax VARCHAR(4096), ikey VARCHAR(1024), filename VARCHAR(4096), "
        "hostname VARCHAR(256)"
    ),
    "registrations": (
        "reg_user VARCHAR(256), realm VARCHAR(256), token VARCHAR(256), url TEXT, "
        "expires INTEGER, network_ip VARCHAR(256), network_port VARCHAR(256), "
        "network_proto VARCHAR(256), hostname VARCHAR(256), metadata VARCHAR(256)"
    ),
}

INDEXES = [
    "CREATE INDEX IF NOT EXISTS channels_uuid ON channels (uuid)",
    "CREATE INDEX IF NOT EXISTS channels_hostname ON channels (hostname)",
    "CREATE INDEX IF NOT EXISTS calls_caller ON calls (caller_uuid)",
    "CREATE INDEX IF NOT EXISTS calls_callee ON calls (callee_uuid)",
    "CREATE INDEX IF NOT EXISTS regs_user ON registrations (reg_user, realm, hostname)",
]


def schema_statements() -> list[str]:
    """CREATE statements (idempotent on SQLite and PostgreSQL ≥ 9.5)."""
    out = [f"CREATE TABLE IF NOT EXISTS {t} ({cols})" for t, cols in TABLES.items()]
    return out + INDEXES


def cleanup_ops(hostname: str) -> list[Op]:
    """Rows a previous run of this node left behind (other nodes' rows stay)."""
    return [(f"DELETE FROM {t} WHERE hostname = ?", (hostname,))
            for t in ("channels", "calls", "interfaces")]


# The statements on `channels` that event_ops makes; coredb_coalesce folds runs of them
# per channel (it needs to know which columns each one sets; the last parameter of every
# UPDATE is the uuid).
CH_DELETE = "DELETE FROM channels WHERE uuid = ?"
CH_INSERT_COLS = ("uuid", "direction", "created", "created_epoch", "name", "state",
                  "callstate", "dialplan", "context", "cid_name", "cid_num", "ip_addr", "dest",
                  "presence_id", "accountcode", "hostname")
CH_INSERT = (f"INSERT INTO channels ({', '.join(CH_INSERT_COLS)}) "
             f"VALUES ({','.join('?' * len(CH_INSERT_COLS))})")
CH_SET_STATE = "UPDATE channels SET state = ? WHERE uuid = ?"
CH_SET_CALLSTATE = "UPDATE channels SET callstate = ? WHERE uuid = ?"
CH_SET_CODECS = ("UPDATE channels SET read_codec = ?, read_rate = ?, write_codec = ?, "
                 "write_rate = ? WHERE uuid = ?")
CH_SET_APP = "UPDATE channels SET application = ?, application_data = ? WHERE uuid = ?"
CH_SET_CALLEE = ("UPDATE channels SET call_uuid = ?, callee_name = ?, callee_num = ? "
                 "WHERE uuid = ?")
CH_SET_CALL_UUID = "UPDATE channels SET call_uuid = ? WHERE uuid = ?"
#: ``call_uuid = uuid``: the value is the row's own uuid, i.e. the WHERE parameter.
CH_CALL_UUID_SELF = "UPDATE channels SET call_uuid = uuid WHERE uuid = ?"
CH_UPDATES: dict[str, tuple[str, ...]] = {
    CH_SET_STATE: ("state",),
    CH_SET_CALLSTATE: ("callstate",),
    CH_SET_CODECS: ("read_codec", "read_rate", "write_codec", "write_rate"),
    CH_SET_APP: ("application", "application_data"),
    CH_SET_CALLEE: ("call_uuid", "callee_name", "callee_num"),
    CH_SET_CALL_UUID: ("call_uuid",),
}
CALLS_DELETE = "DELETE FROM calls WHERE caller_uuid = ? OR callee_uuid = ?"
#: The channels columns in table order (coalesced statements list theirs in this order).
CHANNEL_COLUMNS = tuple(c.split()[0] for c in TABLES["channels"].split(", "))


def _epoch(ev: Any, h: Callable[[str], str | None] | None = None) -> int:
    ts = (h or ev.get_header)("Event-Date-Timestamp") or "0"
    try:
        return int(ts) // 1_000_000
    except ValueError:
        return 0


def event_ops(ev: Any, hostname: str) -> list[Op]:
    """The SQL one event turns into ([] for events the core database ignores)."""
    name = ev.name
    h = ev.get_header  # a scan per header, but the ones read come first: ~7 us/event
    uuid = h("Unique-ID") or ""
    if name == "CHANNEL_CREATE":
        return [
            (CH_DELETE, (uuid,)),
            (CH_INSERT,
             (uuid, h("Call-Direction") or "", h("Event-Date-Local") or "", _epoch(ev, h),
              h("Channel-Name") or "", h("Channel-State") or "",
              h("Channel-Call-State") or "DOWN", h("Caller-Dialplan") or "",
              h("Caller-Context") or "", h("Caller-Caller-ID-Name") or "",
              h("Caller-Caller-ID-Number") or "", h("Caller-Network-Addr") or "",
              h("Caller-Destination-Number") or "", h("Channel-Presence-ID") or "",
              h("variable_accountcode") or "", hostname)),
        ]
    if name == "CHANNEL_STATE":
        return [(CH_SET_STATE, (h("Channel-State") or "", uuid))]
    if name == "CHANNEL_CALLSTATE":
        return [(CH_SET_CALLSTATE, (h("Channel-Call-State") or "", uuid))]
    if name in ("CHANNEL_ANSWER", "CHANNEL_PROGRESS_MEDIA", "CODEC"):
        ops: list[Op] = [
            (CH_SET_CODECS,
             (h("Channel-Read-Codec-Name") or "", h("Channel-Read-Codec-Rate") or "",
              h("Channel-Write-Codec-Name") or "", h("Channel-Write-Codec-Rate") or "", uuid)),
        ]
        if name == "CHANNEL_ANSWER":
            ops.append((CH_SET_CALLSTATE, ("ACTIVE", uuid)))
        return ops
    if name == "CHANNEL_EXECUTE":
        return [(CH_SET_APP,
                 (h("Application") or "", h("Application-Data") or "", uuid))]
    if name == "CHANNEL_BRIDGE":
        a = h("Bridge-A-Unique-ID") or uuid
        b = h("Bridge-B-Unique-ID") or h("Other-Leg-Unique-ID") or ""
        call = h("Channel-Call-UUID") or a
        return [
            (CH_SET_CALLEE, (call, h("Other-Leg-Caller-ID-Name") or "",
                             h("Other-Leg-Caller-ID-Number") or "", a)),
            (CH_SET_CALL_UUID, (call, b)),
            ("INSERT INTO calls (call_uuid, call_created, call_created_epoch, caller_uuid, "
             "callee_uuid, hostname) VALUES (?,?,?,?,?,?)",
             (call, h("Event-Date-Local") or "", _epoch(ev, h), a, b, hostname)),
        ]
    if name in ("CHANNEL_UNBRIDGE", "CHANNEL_HANGUP_COMPLETE"):
        return [
            (CALLS_DELETE, (uuid, uuid)),
            (CH_CALL_UUID_SELF, (uuid,)),
        ]
    if name == "CHANNEL_DESTROY":
        return [
            (CH_DELETE, (uuid,)),
            (CALLS_DELETE, (uuid, uuid)),
        ]
    if name == "MODULE_LOAD":
        return [("INSERT INTO interfaces (type, name, description, syntax, ikey, filename, "
                 "hostname) VALUES (?,?,?,?,?,?,?)",
                 (h("type") or "", h("name") or "", h("description") or "",
                  h("syntax") or "", h("key") or "", h("filename") or "", hostname))]
    if name == "MODULE_UNLOAD":
        return [("DELETE FROM interfaces WHERE hostname = ? AND type = ? AND name = ?",
                 (hostname, h("type") or "", h("name") or ""))]
    if name == "CUSTOM":
        sub = (ev.subclass or "").lower()
        if sub == "sofia::register":
            # FreeSWITCH keys the core row by the binding (AOR user, stored host), not by
            # the digest username/realm.
            return registration_add_ops(
                h("from-user") or h("username") or "", h("from-host") or h("realm") or "",
                h("call-id") or "", _reg_url(h("profile-name"), h("contact") or ""),
                _reg_expires(ev, _int(h("expires")), h),
                h("network-ip") or "", h("network-port") or "", h("network-proto") or "udp",
                hostname, h("user-agent") or "")
        if sub in ("sofia::unregister", "sofia::expire"):
            return registration_del_ops(h("from-user") or h("user") or h("username") or "",
                                        h("from-host") or h("host") or h("realm") or "",
                                        h("call-id") or "", hostname)
    return []


def _reg_url(profile: str | None, contact: str) -> str:
    """FreeSWITCH's registrations.url: ``sofia/<profile>/<URI inside the contact's <>>``."""
    if not profile or contact.startswith("sofia/"):
        return contact
    lt, gt = contact.find("<"), contact.rfind(">")
    uri = contact[lt + 1:gt] if 0 <= lt < gt else contact
    return f"sofia/{profile}/{uri}"


def _reg_expires(ev: Any, expires: int, h: Callable[[str], str | None] | None = None) -> int:
    """An epoch, as FreeSWITCH stores it (registration time + granted + 60); an event
    carrying the granted seconds (sofia::register does) is converted."""
    if 0 < expires < 1_000_000_000:
        return (_epoch(ev, h) or int(time.time())) + expires + 60
    return expires


def _int(text: str | None) -> int:
    try:
        return int(text or 0)
    except ValueError:
        return 0


def registration_add_ops(user: str, realm: str, token: str, url: str, expires: int,
                         network_ip: str, network_port: str, network_proto: str,
                         hostname: str, metadata: str = "") -> list[Op]:
    """FreeSWITCH's switch_core_add_registration: one row per (user, realm, token)."""
    return [
        ("DELETE FROM registrations WHERE reg_user = ? AND realm = ? AND token = ? "
         "AND hostname = ?", (user, realm, token, hostname)),
        ("INSERT INTO registrations (reg_user, realm, token, url, expires, network_ip, "
         "network_port, network_proto, hostname, metadata) VALUES (?,?,?,?,?,?,?,?,?,?)",
         (user, realm, token, url, expires, network_ip, network_port, network_proto,
          hostname, metadata)),
    ]


def registration_del_ops(user: str, realm: str, token: str, hostname: str) -> list[Op]:
    """One registration (``token`` given) or every registration of the user."""
    if token:
        return [("DELETE FROM registrations WHERE reg_user = ? AND realm = ? AND token = ? "
                 "AND hostname = ?", (user, realm, token, hostname))]
    return [("DELETE FROM registrations WHERE reg_user = ? AND realm = ? AND hostname = ?",
             (user, realm, hostname))]


WANTED = frozenset({
    "CHANNEL_CREATE", "CHANNEL_STATE", "CHANNEL_CALLSTATE", "CHANNEL_ANSWER",
    "CHANNEL_PROGRESS_MEDIA", "CODEC", "CHANNEL_EXECUTE", "CHANNEL_BRIDGE",
    "CHANNEL_UNBRIDGE", "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY", "MODULE_LOAD",
    "MODULE_UNLOAD", "CUSTOM",
})
