"""mod_db: pooled database handles (``freeswitch.Dbh``) and the core database.

Thin wiring only; the logic lives in dsn.py, backends.py, pool.py, handle.py, coredb.py.
Other modules reach the pools through :func:`get_manager` (mod_lua builds
``freeswitch.Dbh`` as ``DbHandle(get_manager(), dsn, user, pass, owner=<script>)`` and
calls ``get_manager().release_owner(<script>)`` when the script ends).
"""

from __future__ import annotations

import os
from typing import Any

import fsd
from fsd.log import ERR, INFO, log

from .coredb import CoreDb
from .coredb_schema import WANTED
from .dsn import DsnError, parse_dsn
from .handle import DbHandle
from .pool import DEFAULT_MAX_HANDLES, DEFAULT_TIMEOUT, DbManager

__all__ = ["CoreDb", "DbHandle", "DbManager", "get_manager", "get_coredb"]

_manager: DbManager | None = None
_coredb: CoreDb | None = None


def get_manager() -> DbManager | None:
    """The running switch's pool manager (None before mod_db is loaded)."""
    return _manager


def get_coredb() -> CoreDb | None:
    """The running switch's core database (None before mod_db's runtime hook ran)."""
    return _coredb


def _true(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in ("true", "yes", "on", "1", "enabled", "active", "allow")


def _int_setting(settings: dict, name: str, default: int, low: int, high: int) -> int:
    raw = settings.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(str(raw).strip())
    except ValueError:
        value = low - 1
    if low <= value <= high:
        return value
    log(ERR, f"{name} must be between {low} and {high}")
    return default


def read_pool_sizes(cfg: Any) -> dict[str, tuple[int | None, float | None]]:
    """``<pools><pool dsn="…" max-handles="N" timeout="S"/></pools>`` from db.conf.xml."""
    sizes: dict[str, tuple[int | None, float | None]] = {}
    if cfg is None:
        return sizes
    for pool in cfg.iter("pool"):
        dsn = (pool.get("dsn") or "").strip()
        if not dsn:
            log(ERR, "db.conf.xml: <pool> without a dsn attribute ignored")
            continue
        try:
            size = int(pool.get("max-handles")) if pool.get("max-handles") else None
            timeout = float(pool.get("timeout")) if pool.get("timeout") else None
        except ValueError:
            log(ERR, f"db.conf.xml: bad max-handles/timeout for pool {dsn!r}; ignored")
            continue
        if size is not None and size < 1:
            log(ERR, f"db.conf.xml: max-handles must be at least 1 for pool {dsn!r}")
            size = None
        sizes[dsn] = (size, timeout)
    return sizes


def db_cache_api(args: str, session: Any, stream: Any) -> bool:
    """``db_cache status``: each pool's size, open, in-use, waiting and error counts."""
    if (args or "").strip().lower() != "status":
        stream.write("-ERR Usage: db_cache status\n")
        return True
    if _manager is None:
        stream.write("-ERR mod_db is not loaded\n")
        return True
    stream.write(_manager.format_status())
    if _coredb is not None:
        s = _coredb.stats()
        target = _coredb.dsn.describe() if _coredb.dsn else f"sqlite://{_coredb.path}"
        stream.write(f"core db {target}: queued {s['queued']} written {s['written']} "
                     f"failed {s['failed']} dropped {s['dropped']} batches {s['batches']}\n")
    return True


@fsd.hookimpl
def fsd_module_load(module: Any) -> None:
    global _manager
    sw = module.switch
    settings = sw.settings or {}
    cfg = sw.config.get_configuration("db.conf") if getattr(sw, "config", None) else None
    _manager = DbManager(
        sw.dirs.db,
        max_handles=_int_setting(settings, "max-db-handles", DEFAULT_MAX_HANDLES, 5, 5000),
        timeout=float(_int_setting(settings, "db-handle-timeout", int(DEFAULT_TIMEOUT), 1, 5000)),
        pool_sizes=read_pool_sizes(cfg),
        auto_clear_sql=_true(settings.get("auto-clear-sql"), True),
        auto_create_schemas=_true(settings.get("auto-create-schemas"), True),
    )
    module.state["manager"] = _manager
    module.add_api("db_cache", "Manage db cache", "db_cache status", db_cache_api)
    from .kvdb import declare as declare_kvdb  # the key-value db API/app, db limit backend

    declare_kvdb(module, _manager, cfg)
    core = _make_coredb(sw)
    if core is not None:
        # Bound now so events of modules loaded after us are queued; the writer starts
        # in the runtime hook and drains what waited.
        for name in sorted(WANTED):
            module.bind_event(name, None, core.ingest)
        module.state["coredb"] = core


def _make_coredb(sw: Any) -> CoreDb | None:
    settings = sw.settings or {}
    dsn_text = (settings.get("core-db-dsn") or "").strip()
    host = getattr(sw, "switchname", "") or getattr(sw, "hostname", "") or "fsd"
    try:
        if dsn_text:
            return CoreDb(hostname=host, dsn=parse_dsn(dsn_text, sw.dirs.db), loop=sw.loop)
        name = (settings.get("core-db-name") or "").strip() or "core"
        path = name if os.path.isabs(name) else os.path.join(sw.dirs.db, name + ".db")
        return CoreDb(hostname=host, path=path, loop=sw.loop)
    except (DsnError, ValueError) as e:
        log(ERR, f"core database not started: {e}")
        return None


@fsd.hookimpl
def fsd_module_runtime(module: Any) -> None:
    """Start the core database writer (from a worker thread: start() waits for the
    writer, which on SQLite needs this very loop to run)."""
    core = module.state.get("coredb")
    if core is not None:
        module.spawn_thread(_start_coredb, core, name="mod_db-coredb-start")


def _start_coredb(core: CoreDb) -> None:
    global _coredb
    try:
        core.start()
    except Exception as e:  # noqa: BLE001 - the switch runs on without a core db
        log(ERR, f"core database not started: {e}")
        return
    _coredb = core
    log(INFO, f"core database started ({core.dsn.describe() if core.dsn else core.path})")


@fsd.hookimpl
def fsd_module_shutdown(module: Any) -> None:
    global _manager, _coredb
    from .kvdb import undeclare as undeclare_kvdb

    undeclare_kvdb(module)
    core = module.state.pop("coredb", None)
    if core is not None and core is _coredb:
        core.stop()
    mgr = module.state.pop("manager", None)
    if mgr is not None:
        mgr.close()
    _coredb = None
    _manager = None


@fsd.hookimpl
def fsd_metrics(switch: Any) -> list[Any]:
    from .metrics import families

    return families(_manager) if _manager is not None else []
