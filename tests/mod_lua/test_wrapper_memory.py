"""Issue 19: memory that Lua's wrappers hold on the Python side, against a running switch.

* A script firing 100 000 events leaves RSS near its baseline (before: +180 MB after the
  run, +360 MB at its peak for 200 000): the bindings step Lua's collector for the Python
  objects its wrappers keep alive.
* Event bodies held from Lua count against the script's max-memory: 75 bodies of 20 MB
  kept under a 64 MB cap end the script with "not enough memory" instead of taking 1.6 GB,
  while the same bodies dropped after each use run to the end under the same cap.
"""

from __future__ import annotations

import threading

from fsd.testing import running_switch

EVENTS = 100_000

FIRE = """
local n = tonumber(argv[1])
for i = 1, n do
  local e = freeswitch.Event("CUSTOM", "soak::fire")
  e:addHeader("n", tostring(i))
  e:addHeader("payload", "some header text that makes each event a little larger")
  e:fire()
end
stream:write("fired " .. n)
"""

KEEP_BODIES = """
local body = string.rep("x", 20 * 1024 * 1024)
local keep = {}
for i = 1, 75 do
  local e = freeswitch.Event("CUSTOM", "big::body")
  e:addBody(body)
  keep[i] = e
  freeswitch.setGlobalVariable("bodies_kept", tostring(i))
end
stream:write("kept all")
"""

DROP_BODIES = """
local body = string.rep("x", 20 * 1024 * 1024)
for i = 1, 75 do
  local e = freeswitch.Event("CUSTOM", "big::body")
  e:addBody(body)
  e = nil
end
stream:write("dropped all")
"""

LUA_CONF = """<configuration name="lua.conf" description="LUA Configuration">
  <settings><param name="max-memory" value="64m"/><param name="cpu-limit" value="0"/></settings>
</configuration>
"""

FILES = {"scripts/fire.lua": FIRE, "scripts/keep.lua": KEEP_BODIES,
         "scripts/drop.lua": DROP_BODIES, "conf/autoload/lua.conf.xml": LUA_CONF}


def _rss_mb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) // 1024
    raise AssertionError("no VmRSS")


class PeakRss:
    """Samples this process's RSS every 20 ms while in the with-block."""

    def __enter__(self) -> PeakRss:
        self.peak = _rss_mb()
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, _rss_mb())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()


def test_many_events_from_one_script_leave_rss_near_baseline(tmp_path):
    with running_switch(tmp_path, modules=["mod_commands", "mod_lua"], extra_files=FILES) as sw:
        assert sw.api_execute("lua", "fire.lua 20000") == "fired 20000"  # warm up
        base = _rss_mb()
        with PeakRss() as rss:
            assert sw.api_execute("lua", f"fire.lua {EVENTS}") == f"fired {EVENTS}"
        after = _rss_mb()
        assert rss.peak - base < 64, (base, rss.peak, after)
        assert after - base < 32, (base, rss.peak, after)


def test_event_bodies_held_from_lua_count_against_max_memory(tmp_path, logs):
    with running_switch(tmp_path, modules=["mod_commands", "mod_lua"], extra_files=FILES) as sw:
        base = _rss_mb()
        with PeakRss() as rss:
            out = sw.api_execute("lua", "keep.lua")
        assert out != "kept all"
        kept = int(sw.api_execute("global_getvar", "bodies_kept") or "0")
        assert 0 <= kept < 4, kept
        assert any("not enough memory" in r.text for r in logs), [r.text for r in logs][-5:]
        assert rss.peak - base < 400, (base, rss.peak)
        # the same bodies, each dropped after use, run to the end under the same cap
        assert sw.api_execute("lua", "drop.lua") == "dropped all"
        assert sw.api_execute("status").startswith("UP")
