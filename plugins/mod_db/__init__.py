"""mod_db: pooled database handles (``freeswitch.Dbh``) and the core database.

Thin wiring only; the logic lives in dsn.py, backends.py, pool.py, handle.py, coredb.py.
Other modules reach the pools through the switch's service registry, never by importing
this package: ``switch.services.get(fsd.services.DATABASE)`` is the loaded module's
:class:`DbService` (mod_lua builds ``freeswitch.Dbh`` as ``db.connect(dsn, user, pass,
owner=<script>)`` and calls ``db.release_owner(<script>)`` when the script ends).  Nothing
is kept in module globals: each loaded instance owns its pools in ``module.state``.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import fsd
from fsd.log import ERR, INFO, log
from fsd.numbers import to_int
from fsd.services import DATABASE
from fsd.truth import is_true

from .coredb import CoreDb
from .coredb_schema import WANTED
from .dsn import DsnError, parse_dsn
from .handle import DbHandle
from .pool import (
    DEFAULT_IDLE_TIMEOUT,
    DEFAULT_MAX_DSNS,
    DEFAULT_MAX_HANDLES,
    DEFAULT_TIMEOUT,
    DbManager,
)

__all__ = ["CoreDb", "DbHandle", "DbManager", "DbService"]


class DbService:
    """What mod_db offers as the ``DATABASE`` service (:class:`fsd.services.DatabaseService`):
    handles from its pools, and (for introspection and tests) the pool ``manager`` and the
    ``coredb`` once its writer started."""

    def __init__(self, manager: DbManager) -> None:
        self.manager = manager
        self.coredb: CoreDb | None = None

    def connect(self, dsn: str, user: str | None = None, password: str | None = None, *,
                owner: Any = None, cancel: threading.Event | None = None) -> DbHandle:
        return DbHandle(self.manager, dsn or "", user or None, password or None, owner=owner,
                        cancel=cancel)

    def release_owner(self, owner: Any) -> None:
        self.manager.release_owner(owner)


def _int_setting(settings: dict, name: str, default: int, low: int, high: int) -> int:
    raw = settings.get(name)
    if raw in (None, ""):
        return default
    value = to_int(str(raw), low - 1)  # ASCII digits only: "٣" is not 3 here
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


def db_cache_api(service: DbService, args: str, stream: Any) -> bool:
    """``db_cache status``: each pool's size, open, in-use, waiting and error counts."""
    if (args or "").strip().lower() != "status":
        stream.write("-ERR Usage: db_cache status\n")
        return True
    stream.write(service.manager.format_status())
    core = service.coredb
    if core is not None:
        s = core.stats()
        target = core.dsn.describe() if core.dsn else f"sqlite://{core.path}"
        stream.write(f"core db {target}: queued {s['queued']} written {s['written']} "
                     f"failed {s['failed']} dropped {s['dropped']} batches {s['batches']} "
                     f"statements {s['statements']}\n")
    return True


@fsd.hookimpl
def fsd_module_load(module: Any) -> None:
    sw = module.switch
    settings = sw.settings or {}
    cfg = sw.config.get_configuration("db.conf") if getattr(sw, "config", None) else None
    manager = DbManager(
        sw.dirs.db,
        max_handles=_int_setting(settings, "max-db-handles", DEFAULT_MAX_HANDLES, 5, 5000),
        timeout=float(_int_setting(settings, "db-handle-timeout", int(DEFAULT_TIMEOUT), 1, 5000)),
        pool_sizes=read_pool_sizes(cfg),
        auto_clear_sql=is_true(settings.get("auto-clear-sql"), True),
        auto_create_schemas=is_true(settings.get("auto-create-schemas"), True),
        idle_timeout=float(_int_setting(settings, "db-idle-timeout", int(DEFAULT_IDLE_TIMEOUT),
                                        0, 86400)),
        max_dsns=_int_setting(settings, "db-max-dsns", DEFAULT_MAX_DSNS, 1, 100000),
    )
    service = DbService(manager)
    module.state["manager"] = manager
    module.state["service"] = service
    module.add_service(DATABASE, service)
    module.add_api("db_cache", "Manage db cache", "db_cache status",
                   lambda args, session, stream: db_cache_api(service, args, stream))
    from .kvdb import declare as declare_kvdb  # the key-value db API/app, db limit backend

    declare_kvdb(module, manager, cfg)
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
    """Start the core database writer (from a worker thread: start() waits until the
    writer thread has opened the database, which may take seconds on a remote DSN)."""
    core = module.state.get("coredb")
    if core is not None:
        module.spawn_thread(_start_coredb, core, module.state["service"], name="mod_db-coredb-start")


def _start_coredb(core: CoreDb, service: DbService) -> None:
    try:
        core.start()
    except Exception as e:  # noqa: BLE001 - the switch runs on without a core db
        log(ERR, f"core database not started: {e}")
        return
    service.coredb = core
    log(INFO, f"core database started ({core.dsn.describe() if core.dsn else core.path})")


@fsd.hookimpl
def fsd_module_shutdown(module: Any) -> None:
    from .kvdb import undeclare as undeclare_kvdb

    undeclare_kvdb(module)
    service = module.state.pop("service", None)
    core = module.state.pop("coredb", None)
    if core is not None and service is not None and service.coredb is core:
        core.stop()
        service.coredb = None
    mgr = module.state.pop("manager", None)
    if mgr is not None:
        mgr.close()


@fsd.hookimpl
def fsd_metrics(module: Any) -> list[Any]:
    from .metrics import families

    manager = module.state.get("manager") if module is not None else None
    return families(manager) if manager is not None else []
