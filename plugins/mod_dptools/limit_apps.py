"""``limit``, ``limit_execute`` and the deprecated ``limit_hash``/``limit_hash_execute``
applications (mod_dptools.c) over the core limit subsystem (fsd.limit)."""

from __future__ import annotations

from typing import Any

from fsd import causes, limit
from fsd.log import ERR, INFO, WARNING, log
from fsd.numbers import leading_int
from fsd.truth import is_true

LIMIT_USAGE = "<backend> <realm> <id> [<max>[/interval]] [number [dialplan [context]]]"
LIMIT_HASH_USAGE = "<realm> <id> [<max>[/interval]] [number [dialplan [context]]]"
EXECUTE_USAGE = "<backend> <realm> <id> <max>[/interval] <application> [application arguments]"
HASH_EXECUTE_USAGE = "<realm> <id> <max>[/interval] <application> [application arguments]"
_COMPAT = "switch_limit_backwards_compat_flag"


def _max_interval(text: str) -> tuple[int, int]:
    """``<max>[/interval]``; a leading '-' means no maximum (a counter only)."""
    if text.startswith("-"):
        return -1, 0
    head, _, tail = text.partition("/")
    return max(leading_int(head, 0), 0), leading_int(tail, 0)



def limit_app(session: Any, data: str) -> None:
    sw = session.switch
    argv = (data or "").split()
    if not argv:
        session.log(ERR, f"USAGE: limit {LIMIT_USAGE}\n")
        return
    if is_true(session.get_variable(_COMPAT)) and limit.get(sw, argv[0]) is None:
        log(WARNING, f"Unknown backend '{argv[0]}'.  To maintain backwards compatability, "
                     "falling back on db backend and shifting argumens.\n")
        argv = ["db", *argv]
    argv = argv[:7]
    if len(argv) < 3:
        session.log(ERR, f"USAGE: limit {LIMIT_USAGE}\n")
        return
    backend, realm, rid = argv[0], argv[1], argv[2]
    mx, interval = _max_interval(argv[3]) if len(argv) > 3 else (-1, 0)
    xfer = argv[4] if len(argv) > 4 else limit.DEFAULT_XFER_EXTEN
    if not limit.incr(sw, backend, session, realm, rid, mx, interval):
        if xfer.startswith("!"):
            session.hangup(causes.str2cause(xfer[1:]))
        else:
            session.transfer(xfer, argv[5] if len(argv) > 5 else None,
                             argv[6] if len(argv) > 6 else None)


def limit_hash_app(session: Any, data: str) -> None:
    if is_true(session.get_variable(_COMPAT)):
        log(WARNING, "Using deprecated 'limit_hash' api: Please use 'limit hash'.\n")
        limit_app(session, f"hash {data}")
    else:
        log(ERR, "'limit_hash' (deprecated) is only available after loading mod_limit.\n")


def limit_execute(session: Any, data: str) -> None:
    sw = session.switch
    text = (data or "").strip()
    argv = text.split(None, 5)
    if is_true(session.get_variable(_COMPAT)) and len(argv) == 5:
        log(WARNING, "Using deprecated limit api: Please specify backend.  Defaulting to "
                     "'db' backend.\n")
        argv = f"db {text}".split(None, 5)
    if len(argv) < 5:
        session.log(ERR, f"USAGE: limit_execute {EXECUTE_USAGE}\n")
        return
    backend, realm, rid = argv[0], argv[1], argv[2]
    mx, interval = _max_interval(argv[3])
    app, app_arg = argv[4], (argv[5] if len(argv) > 5 else "")
    if limit.incr(sw, backend, session, realm, rid, mx, interval):
        session.execute(app, app_arg)
        if session.up() and not session.transferring:
            session.log(INFO, "immediately releasing\n")
            limit.release(sw, backend, session, realm, rid)


def limit_hash_execute(session: Any, data: str) -> None:
    if is_true(session.get_variable(_COMPAT)):
        log(WARNING, "Using deprecated 'limit_hash_execute' api: Please use 'limit_execute hash'.\n")
        limit_execute(session, f"hash {data}")
    else:
        log(ERR, "'limit_hash_execute' (deprecated) is only available after loading mod_limit.\n")


def declare(module: Any) -> None:
    from fsd.module import APP_SUPPORT_NOMEDIA

    add = module.add_application
    add("limit", limit_app, "Limit", LIMIT_USAGE, APP_SUPPORT_NOMEDIA)
    add("limit_hash", limit_hash_app, "Limit", LIMIT_HASH_USAGE, APP_SUPPORT_NOMEDIA)
    add("limit_execute", limit_execute, "Limit", EXECUTE_USAGE, APP_SUPPORT_NOMEDIA)
    add("limit_hash_execute", limit_hash_execute, "Limit", HASH_EXECUTE_USAGE, APP_SUPPORT_NOMEDIA)
