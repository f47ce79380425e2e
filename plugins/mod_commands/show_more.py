"""More ``show`` reports (mod_commands.c show_function): registrations (core database),
status, codec, file, timer, interface_types and the ones fsd has nothing to list for
(aliases, complete, chat, management, nat_map), which answer ``0 total.`` as an empty
FreeSWITCH does."""

from __future__ import annotations

from typing import Any

REG_COLS = ["reg_user", "realm", "token", "url", "expires", "network_ip", "network_port",
            "network_proto", "hostname", "metadata"]
EMPTY = ("aliases", "complete", "chat", "management", "nat_map")


def show_more(sw: Any, what: str, words: list[str]) -> tuple[list[str], list[tuple]] | None:
    """(columns, rows) for ``show <what>``; None when ``what`` is not one of these."""
    if what == "registrations":
        rows: list[tuple] = []
        from fsd.services import DATABASE

        db = sw.services.get(DATABASE)  # mod_db's core database, when loaded and started
        core = db.coredb if db is not None else None
        if core is not None:
            host = getattr(sw, "switchname", "") or getattr(sw, "hostname", "")
            for r in core.query(f"SELECT {', '.join(REG_COLS)} FROM registrations WHERE hostname = ?",
                                (host,)):
                rows.append(tuple("" if r.get(c) is None else r.get(c) for c in REG_COLS))
        return REG_COLS, rows
    if what in ("codec", "codecs"):
        from fsd.media.codecs import CODECS

        rows = [("codec", n, "CORE_PCM_MODULE") for n in sorted(CODECS)]
        return ["type", "name", "ikey"], rows
    if what in ("file", "files"):
        from fsd.media import files

        rows = [("file", e, "mod_sndfile") for e in sorted(getattr(files, "FORMATS", {}))]
        for m in sw.modules.loaded.values():
            rows += [("file", e, m.name) for e in m.file_formats]
        return ["type", "name", "ikey"], rows
    if what in ("timer", "timers"):
        return ["type", "name", "ikey"], [("timer", "soft", "CORE_SOFTTIMER_MODULE")]
    if what == "interface_types":
        mods = sw.modules.loaded.values()
        counts = {"api": sum(len(m.apis) for m in mods),
                  "application": sum(len(m.applications) for m in mods),
                  "dialplan": sum(len(m.dialplans) for m in mods),
                  "endpoint": sum(len(m.endpoints) for m in mods),
                  "file": sum(len(m.file_formats) for m in mods),
                  "say": sum(len(m.says) for m in mods)}
        return ["type", "total"], [(k, str(v)) for k, v in counts.items()]
    if what in EMPTY:
        return ["name"], []
    return None
