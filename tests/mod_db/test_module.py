"""mod_db loaded into a real switch: settings, db.conf.xml pools, db_cache status, core db."""

from __future__ import annotations

import time

from fsd.events import Event
from fsd.services import DATABASE
from fsd.testing import running_switch

DB_CONF = """<configuration name="db.conf" description="pools">
  <pools>
    <pool dsn="sqlite://small" max-handles="2" timeout="0.2"/>
    <pool dsn="" max-handles="3"/>
    <pool dsn="sqlite://bad" max-handles="many"/>
  </pools>
</configuration>
"""


def test_module_wiring(tmp_path, logs):
    from fsd_modules.mod_db.handle import DbHandle

    with running_switch(tmp_path, modules=["mod_db"],
                        extra_files={"conf/autoload/db.conf.xml": DB_CONF},
                        switch_settings={"max-db-handles": "7", "db-handle-timeout": "3"}) as sw:
        db = sw.services.get(DATABASE)
        mgr = db.manager
        assert mgr is not None and mgr.max_handles == 7 and mgr.timeout == 3
        assert mgr.pool_sizes == {"sqlite://small": (2, 0.2)}
        assert logs.has("without a dsn attribute") and logs.has("bad max-handles")
        h = DbHandle(mgr, "sqlite://small")
        assert h.connected()
        out = sw.api_execute("db_cache", "status")
        assert "size 2" in out and "in-use 1" in out and "small.db" in out
        assert sw.api_execute("db_cache", "").startswith("-ERR Usage")
        h.release()
        assert (tmp_path / "db" / "small.db").exists() or any(tmp_path.rglob("small.db"))
        # The core database follows channel events fired on the bus.
        deadline = time.monotonic() + 5
        while db.coredb is None and time.monotonic() < deadline:
            time.sleep(0.02)
        core = db.coredb
        assert core is not None
        assert "core db sqlite://" in sw.api_execute("db_cache", "status")
        e = Event("CHANNEL_CREATE")
        e.add_header("Unique-ID", "wired-1")
        e.add_header("Channel-Name", "loopback/wired")
        sw.events.fire(e)
        deadline = time.monotonic() + 5
        rows = []
        while not rows and time.monotonic() < deadline:
            core.flush()
            rows = core.query("SELECT name FROM channels WHERE uuid = 'wired-1'")
            time.sleep(0.02)
        assert rows == [{"name": "loopback/wired"}]
    assert sw.services.get(DATABASE) is None


def test_bad_switch_settings_fall_back_to_defaults(tmp_path, logs):
    with running_switch(tmp_path, modules=["mod_db"],
                        switch_settings={"max-db-handles": "2", "db-handle-timeout": "x"}) as sw:
        mgr = sw.services.get(DATABASE).manager
        assert mgr.max_handles == 50 and mgr.timeout == 5
        assert logs.has("max-db-handles must be between 5 and 5000")
        assert logs.has("db-handle-timeout must be between 1 and 5000")
