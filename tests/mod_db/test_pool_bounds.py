"""Issue 19's pool findings against a running switch: thousands of distinct released DSNs
leave no more open descriptors than the DSN cap allows, idle connections are closed after
db-idle-timeout, and a Lua script waiting on an exhausted pool is stopped by lua_kill."""

from __future__ import annotations

import os
import threading

from fsd.services import DATABASE
from fsd.testing import running_switch, wait_until

DISTINCT = 10_000
CAP = 20
SLACK = 5

MANY_DSNS = f"""
for i = 1, {DISTINCT} do
  local dbh = freeswitch.Dbh("sqlite://" .. argv[1] .. "/d" .. i .. ".db")
  assert(dbh:connected(), "not connected " .. i)
  dbh:query("select 1")
  dbh:release()
end
stream:write("done {DISTINCT}")
"""

HOLD_AND_WAIT = """
local hold = freeswitch.Dbh("sqlite://waitpool")
freeswitch.setGlobalVariable("pool_holder", hold:connected() and "holding" or "no")
freeswitch.msleep(600000)
"""

WAITER = """
freeswitch.setGlobalVariable("pool_waiter", "waiting")
local dbh = freeswitch.Dbh("sqlite://waitpool")
freeswitch.setGlobalVariable("pool_waiter", "returned")
"""

POOL_CONF = """<configuration name="db.conf" description="pools">
  <pools><pool dsn="sqlite://waitpool" max-handles="1" timeout="600"/></pools>
</configuration>
"""


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _fd_targets() -> list[str]:
    out = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            out.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            pass
    return out


def test_ten_thousand_distinct_dsns_stay_under_the_cap(tmp_path):
    dbdir = tmp_path / "many"
    dbdir.mkdir()
    settings = {"db-max-dsns": str(CAP), "db-idle-timeout": "1"}
    with running_switch(tmp_path, modules=["mod_commands", "mod_db", "mod_lua"],
                        extra_files={"scripts/many.lua": MANY_DSNS},
                        switch_settings=settings) as sw:
        mgr = sw.services.get(DATABASE).manager
        assert mgr.max_dsns == CAP and mgr.idle_timeout == 1
        before = _fds()
        out = sw.api_execute("lua", f"many.lua {dbdir}")
        assert out == f"done {DISTINCT}"
        # At most CAP pools (one idle connection each) are left right after the run ...
        pools = mgr.status()
        assert len(pools) <= CAP and sum(p.open for p in pools) <= CAP
        assert mgr.retired >= DISTINCT - CAP
        # (SLACK: descriptors the daemon itself opens meanwhile, e.g. the lua state's files)
        assert _fds() <= before + CAP + SLACK, _fd_targets()
        # ... and the idle ones are closed by db-idle-timeout.
        assert wait_until(lambda: sum(p.open for p in mgr.status()) == 0, 15)
        assert _fds() <= before + SLACK, _fd_targets()
        assert "max dsns 20" in sw.api_execute("db_cache", "status")


def test_bad_pool_settings_fall_back(tmp_path, logs):
    settings = {"db-max-dsns": "0", "db-idle-timeout": "٣"}
    with running_switch(tmp_path, modules=["mod_db"], switch_settings=settings) as sw:
        mgr = sw.services.get(DATABASE).manager
        assert mgr.max_dsns == 100 and mgr.idle_timeout == 30
        assert logs.has("db-max-dsns must be between") and logs.has("db-idle-timeout must be")


def test_lua_kill_ends_a_wait_on_an_exhausted_pool(tmp_path):
    files = {"scripts/hold.lua": HOLD_AND_WAIT, "scripts/waiter.lua": WAITER,
             "conf/autoload/db.conf.xml": POOL_CONF}
    with running_switch(tmp_path, modules=["mod_commands", "mod_db", "mod_lua"],
                        extra_files=files) as sw:
        sw.api_execute("luarun", "hold.lua")
        assert wait_until(lambda: sw.api_execute("global_getvar", "pool_holder") == "holding", 10)
        waiter = threading.Thread(target=sw.api_execute, args=("lua", "waiter.lua"))
        waiter.start()
        mgr = sw.services.get(DATABASE).manager
        assert wait_until(lambda: any(p.waiting for p in mgr.status()), 10)
        assert sw.api_execute("global_getvar", "pool_waiter") == "waiting"
        assert sw.api_execute("lua_kill", "all").startswith("+OK")
        waiter.join(10)
        assert not waiter.is_alive(), "the wait on the pool ignored lua_kill"
        assert sw.api_execute("global_getvar", "pool_waiter") == "waiting"
        assert wait_until(lambda: "waiter.lua" not in sw.api_execute("lua_list", ""), 10)
        assert wait_until(lambda: all(p.in_use == 0 for p in mgr.status()), 10)


def test_every_pool_busy_refuses_a_new_dsn(tmp_path, logs):
    from fsd_modules.mod_db.handle import DbHandle

    with running_switch(tmp_path, modules=["mod_db"], switch_settings={"db-max-dsns": "2"}) as sw:
        mgr = sw.services.get(DATABASE).manager
        a, b = DbHandle(mgr, "sqlite://a"), DbHandle(mgr, "sqlite://b")
        c = DbHandle(mgr, "sqlite://c")
        assert a.connected() and b.connected() and not c.connected()
        assert "too many distinct database DSNs" in (c.last_error() or "")
        a.release()
        d = DbHandle(mgr, "sqlite://d")
        assert d.connected()
        b.release()
        d.release()
