"""``show channels cluster`` / ``show calls cluster``: the same lists, answered from the core
database instead of this node's memory.  When every node of a cluster writes to one
``core-db-dsn`` (PostgreSQL), the rows are every node's, each with its node's name in the
``hostname`` column (the node's ``switchname``).  An fsd addition: FreeSWITCH's ``show``
reads its own core database too, but has no word for "all nodes" (docs/deploy.md).

Calls are FreeSWITCH's ``basic_calls`` view: a channel that is its own call (``call_uuid``
unset or equal to its uuid), with the channel bridged to it as the ``b_`` columns.
"""

from __future__ import annotations

from typing import Any

from fsd_modules.mod_commands.channel_rows import CHANNEL_COLUMNS
from fsd_modules.mod_commands.show import render

from fsd.api import Stream

# The channels table's columns (mod_db's coredb_schema); others are shown empty.
_DB_COLUMNS = (
    "uuid", "direction", "created", "created_epoch", "name", "state", "cid_name", "cid_num",
    "ip_addr", "dest", "application", "application_data", "dialplan", "context",
    "read_codec", "read_rate", "write_codec", "write_rate", "callstate", "callee_name",
    "callee_num", "call_uuid", "presence_id", "accountcode", "hostname",
)


def _select(alias: str, prefix: str) -> str:
    return ", ".join(f"{alias}.{c} AS {prefix}{c}" for c in _DB_COLUMNS)


CHANNELS_SQL = f"SELECT {_select('a', '')} FROM channels a ORDER BY a.hostname, a.created_epoch"
CALLS_SQL = (f"SELECT {_select('a', '')}, {_select('b', 'b_')} FROM channels a "
             "LEFT JOIN channels b ON b.call_uuid = a.uuid AND b.uuid <> a.uuid "
             "WHERE a.call_uuid IS NULL OR a.call_uuid = '' OR a.call_uuid = a.uuid "
             "ORDER BY a.hostname, a.created_epoch")


def _value(row: dict[str, Any], name: str) -> str:
    v = row.get(name)
    return "" if v is None else str(v)


def show_cluster(switch: Any, what: str, words: list[str], fmt: str, delim: str,
                 stream: Stream) -> None:
    """``words`` follow ``cluster``: nothing, ``count`` or ``like <text>``."""
    from fsd.services import DATABASE

    db = switch.services.get(DATABASE) if getattr(switch, "services", None) else None
    core = getattr(db, "coredb", None)
    if core is None:
        stream.write("-ERR no core database (mod_db not loaded or core-db-dsn unreachable)\n")
        return
    try:
        rows = core.query(CHANNELS_SQL if what == "channels" else CALLS_SQL)
    except Exception as e:  # noqa: BLE001 - DbError, or a driver's own error
        stream.write(f"-ERR core database: {e}\n")
        return
    cols = CHANNEL_COLUMNS if what == "channels" else (
        CHANNEL_COLUMNS + ["b_" + c for c in CHANNEL_COLUMNS])
    out = [[_value(r, c) for c in cols] for r in rows]
    count_only = bool(words) and words[0].lower() == "count"
    if words and words[0].lower() == "like" and len(words) > 1:
        out = [r for r in out if any(words[1] in v for v in r)]
    if count_only:
        stream.write(f"\n{len(out)} total.\n")
        return
    stream.write(render(cols, out, fmt, delim))
