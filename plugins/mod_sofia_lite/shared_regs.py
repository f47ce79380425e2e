"""Registrations other fsd nodes took, read from the shared core database.

With one ``core-db-dsn`` for every node (docs/deploy.md), a phone that registered to node
A is in the ``registrations`` table with A's name; ``sofia_contact`` (and so
``user/<id>``) on node B finds it here when B holds no binding of its own, as FreeSWITCH
finds them in a shared sofia database.  Difference: FreeSWITCH routes such a call through
the registering node (``fs_path``); fsd dials the registered contact directly, which is
right when the nodes reach the phones directly (the same LAN, or phones behind Kamailio).
"""

from __future__ import annotations

import time
from typing import Any

from fsd.log import WARNING, log

SQL = ("SELECT url FROM registrations WHERE reg_user = ? AND realm = ? AND hostname <> ? "
       "AND (expires = 0 OR expires > ?) ORDER BY expires DESC")


def other_nodes_contacts(switch: Any, user: str, domain: str) -> list[str]:
    """The contact URIs (inside <>) other nodes registered for user@domain; [] when there
    is no core database or it fails (logged)."""
    from fsd.services import DATABASE

    services = getattr(switch, "services", None)
    db = services.get(DATABASE) if services is not None else None
    core = getattr(db, "coredb", None)
    if core is None or not user:
        return []
    try:
        rows = core.query(SQL, (user, domain, core.hostname, int(time.time())))
    except Exception as e:  # noqa: BLE001 - the lookup fails soft: user not registered
        log(WARNING, f"sofia_contact: cannot read shared registrations: {e}")
        return []
    out: list[str] = []
    for r in rows:
        url = str(r.get("url") or "")
        if url.startswith("sofia/"):
            url = url.split("/", 2)[2] if url.count("/") >= 2 else ""
        if url and url not in out:
            out.append(url)
    return out
