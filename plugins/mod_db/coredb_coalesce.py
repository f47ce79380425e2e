"""Fold one batch of core-database statements into fewer, with identical table contents.

A call fires ~15 channel events per leg, most of them one-column UPDATEs of the same
`channels` row (state, callstate, codecs, application).  Within a batch those are folded
per channel: the statements a batch runs become at most one DELETE and one INSERT (a
channel created in this batch, with every later update already in its row) or one UPDATE
of the columns that changed (last value wins) per channel; a channel created and destroyed
in the same batch costs one DELETE.  Repeated ``DELETE FROM calls`` of one channel with no
``INSERT INTO calls`` between them are dropped (the second deletes nothing).

Why the result is the same: rows of `channels` are only ever touched through ``WHERE uuid
= ?`` (or inserted with their uuid), so the statements of different channels commute and
only each channel's own order matters; for one channel, a DELETE discards what came before,
an INSERT after it starts a row whose later UPDATEs can be applied in memory, and UPDATEs
of an existing row compose column by column.  Statements on other tables keep their order
(they do not touch `channels`).  Anything outside that model — an INSERT without the DELETE
before it, an unknown statement naming `channels` — ends the folding window: what was
folded so far is emitted, the statement runs as is, and folding starts again after it.
``tests/mod_db/test_coredb_coalesce.py`` checks the equivalence against the statements run
one by one.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from .coredb_schema import (
    CALLS_DELETE,
    CH_CALL_UUID_SELF,
    CH_DELETE,
    CH_INSERT,
    CH_INSERT_COLS,
    CH_UPDATES,
    CHANNEL_COLUMNS,
    Op,
)

Group = tuple[str, list[tuple[Any, ...]]]
_ORDER = {c: i for i, c in enumerate(CHANNEL_COLUMNS)}
_INSERTS = {CH_INSERT: CH_INSERT_COLS}
_DELETED = object()  # a channel whose row this window deleted (and did not re-insert)


@lru_cache(maxsize=256)
def _insert_sql(cols: tuple[str, ...]) -> str:
    return f"INSERT INTO channels ({', '.join(cols)}) VALUES ({','.join('?' * len(cols))})"


@lru_cache(maxsize=256)
def _update_sql(cols: tuple[str, ...]) -> str:
    return f"UPDATE channels SET {', '.join(c + ' = ?' for c in cols)} WHERE uuid = ?"


class _Window:
    """Folding state between two barriers."""

    def __init__(self) -> None:
        # uuid -> dict of columns to UPDATE on the existing row(s), or
        #         ("row", {column: value}) for a row this window deleted and inserted, or
        #         _DELETED
        self.chan: dict[Any, Any] = {}
        self.other: list[Op] = []
        self.calls_deleted: set[tuple[Any, ...]] = set()

    def take(self, sql: str, params: tuple[Any, ...]) -> bool:
        """Fold a `channels` statement; False when it is not one this model knows."""
        cols = CH_UPDATES.get(sql)
        if cols is not None:
            uuid = params[-1]
            self._update(uuid, dict(zip(cols, params[:-1], strict=True)))
            return True
        if sql == CH_CALL_UUID_SELF:
            self._update(params[0], {"call_uuid": params[0]})
            return True
        if sql == CH_DELETE:
            self.chan[params[0]] = _DELETED
            return True
        cols = _INSERTS.get(sql)
        if cols is not None:
            row = dict(zip(cols, params, strict=True))
            if self.chan.get(row["uuid"]) is not _DELETED:
                return False  # an INSERT onto rows we have not deleted: run it as is
            self.chan[row["uuid"]] = ("row", row)
            return True
        return False

    def _update(self, uuid: Any, values: dict[str, Any]) -> None:
        cur = self.chan.get(uuid)
        if cur is None:
            self.chan[uuid] = values
        elif cur is _DELETED:
            pass  # an UPDATE of a row that no longer exists changes nothing
        elif isinstance(cur, tuple):
            cur[1].update(values)
        else:
            cur.update(values)

    def add_other(self, sql: str, params: tuple[Any, ...]) -> None:
        if sql == CALLS_DELETE:
            if params in self.calls_deleted:
                return
            self.calls_deleted.add(params)
        elif "calls" in sql.lower():
            self.calls_deleted.clear()  # an INSERT (or anything else) on calls: keep all
        self.other.append((sql, params))

    def emit(self) -> list[Group]:
        deletes: list[tuple[Any, ...]] = []
        inserts: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
        updates: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
        for uuid, st in self.chan.items():
            if st is _DELETED:
                deletes.append((uuid,))
            elif isinstance(st, tuple):
                deletes.append((uuid,))
                row = st[1]
                cols = tuple(sorted(row, key=_ORDER.__getitem__))
                inserts.setdefault(cols, []).append(tuple(row[c] for c in cols))
            else:
                cols = tuple(sorted(st, key=_ORDER.__getitem__))
                updates.setdefault(cols, []).append((*(st[c] for c in cols), uuid))
        out: list[Group] = []
        if deletes:
            out.append((CH_DELETE, deletes))
        out.extend((_insert_sql(c), rows) for c, rows in inserts.items())
        out.extend((_update_sql(c), rows) for c, rows in updates.items())
        out.extend(group(self.other))
        return out


def coalesce(ops: list[Op]) -> list[Group]:
    """The statement groups (SQL, parameter rows) that leave the tables as ``ops`` run one
    by one would; each group is one executemany."""
    out: list[Group] = []
    win = _Window()
    for sql, params in ops:
        if win.take(sql, params):
            continue
        if "channels" in sql.lower():
            out.extend(win.emit())  # a barrier: what came before runs first, in full
            out.append((sql, [params]))
            win = _Window()
            continue
        win.add_other(sql, params)
    out.extend(win.emit())
    return out


def group(ops: list[Op]) -> list[Group]:
    """Runs of the same statement become one executemany (order is kept)."""
    out: list[Group] = []
    for sql, params in ops:
        if out and out[-1][0] == sql:
            out[-1][1].append(params)
        else:
            out.append((sql, [params]))
    return out
