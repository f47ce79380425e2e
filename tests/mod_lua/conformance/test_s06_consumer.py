"""Behaviour reference §6 — `freeswitch.EventConsumer`, through the running daemon."""

from __future__ import annotations

import time

from fsd.testing import wait_until


def test_6_constructor_binds_immediately(lua):
    """§6 EventConsumer([event_name [, subclass [, queue_len]]]): a given name is bound at
    once."""
    out = lua('local c = freeswitch.EventConsumer("CUSTOM", "c6::a") freeswitch.Event("CUSTOM", "c6::a"):fire() '
              'local e = c:pop(1, 2000) local d = freeswitch.EventConsumer() freeswitch.Event("CUSTOM", "c6::a"):fire() '
              'stream:write(tostring(e and e:getHeader("Event-Subclass")) .. "|" .. tostring(d:pop(1, 200)))')
    assert out == "c6::a|nil"


def test_6_bind_returns_1_or_0_all(lua, logs):
    """§6 bind(name [, subclass]) → 1, or 0 for an unknown name (warning); names any case;
    "all" binds every event."""
    out = lua('local c = freeswitch.EventConsumer() local a = c:bind("heartbeat") local b = c:bind("no_such_event") '
              'local d = freeswitch.EventConsumer() d:bind("all") freeswitch.Event("CUSTOM", "c6::all"):fire() '
              'local e = d:pop(1, 2000) stream:write(a .. b .. "|" .. tostring(e ~= nil))')
    assert out == "10|true"
    assert any("no_such_event" in r.text.lower() for r in logs)


def test_6_subclass_matching(lua):
    """§6 With a subclass only that subclass matches (or file:/func: on the event's
    file/function headers); without one, events with or without subclass match."""
    out = lua('local s = freeswitch.EventConsumer("CUSTOM", "c6::one") local any = freeswitch.EventConsumer("CUSTOM") '
              'freeswitch.Event("CUSTOM", "c6::two"):fire() freeswitch.Event("CUSTOM", "c6::one"):fire() '
              'local e = freeswitch.Event("CUSTOM", "c6::fn") e:addHeader("function", "myfunc") e:fire() '
              'local f = freeswitch.EventConsumer("CUSTOM", "func:myfunc") e:fire() '
              'local got = {} while true do local x = s:pop(1, 300) if not x then break end got[#got+1] = x:getHeader("Event-Subclass") end '
              'local n = 0 while any:pop(1, 300) do n = n + 1 end '
              'local fx = f:pop(1, 1000) '
              'stream:write(table.concat(got, ",") .. "|" .. n .. "|" .. tostring(fx and fx:getHeader("function")))')
    assert out == "c6::one|4|myfunc"


def test_6_pop_block_and_timeouts(lua):
    """§6 pop(): block=0 non-blocking; block with timeout waits up to timeout ms."""
    t0 = time.monotonic()
    out = lua('local c = freeswitch.EventConsumer("CUSTOM", "c6::never") local a = c:pop() '
              'local T = function() return tonumber(freeswitch.API():getTime()) end local t0 = T() '
              'local b = c:pop(1, 300) stream:write(tostring(a) .. tostring(b) .. "|" .. (T() - t0))')
    val, ms = out.split("|")
    assert val == "nilnil" and 250 <= int(ms) < 1500
    assert time.monotonic() - t0 < 3


def test_6_pop_block_forever_until_event(daemon, lua):
    """§6 block≠0 with timeout≤0 waits forever (until an event arrives)."""
    name = daemon.script('local c = freeswitch.EventConsumer("CUSTOM", "c6::late") R("waiting", 1) '
                         'local e = c:pop(1, 0) R("got", e:getHeader("v"))')
    daemon.sw.api_execute("luarun", f"{name}.lua")
    daemon.result(name, "waiting")
    time.sleep(0.5)
    assert daemon.sw.globals.get(f"{name}_got") is None
    lua('local e = freeswitch.Event("CUSTOM", "c6::late") e:addHeader("v", "ok") e:fire()')
    assert daemon.result(name, "got") == "ok"


def test_6_popped_events_are_owned(lua):
    """§6 Popped events are copies owned by the script: fire() works."""
    out = lua('local c = freeswitch.EventConsumer("CUSTOM", "c6::own") freeswitch.Event("CUSTOM", "c6::own"):fire() '
              'local e = c:pop(1, 2000) stream:write(e.mine .. tostring(e:fire()))')
    assert out == "1true"


def test_6_async_delivery_own_events_received(daemon, lua):
    """§6 Delivery is asynchronous; the script's own fired events are received; so are
    events fired elsewhere in the switch."""
    name = daemon.script('local c = freeswitch.EventConsumer("CHANNEL_ANSWER") R("ready", 1) '
                         'local e = c:pop(1, 5000) R("uuid", e and e:getHeader("Unique-ID"))')
    daemon.sw.api_execute("luarun", f"{name}.lua")
    daemon.result(name, "ready")
    a, b = daemon.call("parked")
    assert daemon.result(name, "uuid") in (a, b)


def test_6_full_queue_drops_with_log(lua, logs):
    """§6 A full queue drops events with "Cannot queue any more events.....": "."""
    out = lua('local c = freeswitch.EventConsumer("CUSTOM", "c6::full", 2) for i = 1, 5 do '
              'freeswitch.Event("CUSTOM", "c6::full"):fire() end freeswitch.msleep(300) local n = 0 '
              'while c:pop() do n = n + 1 end stream:write(n)')
    assert out == "2"
    assert wait_until(lambda: any("Cannot queue any more events....." in r.text for r in logs), 2)


def test_6_cleanup_unbinds_and_wakes(daemon, lua):
    """§6 cleanup() unbinds, drains, wakes blocked pops; afterwards bind → 0 and pop → nil;
    it also runs when the object is collected (script end)."""
    out = lua('local c = freeswitch.EventConsumer("CUSTOM", "c6::clean") freeswitch.Event("CUSTOM", "c6::clean"):fire() '
              'freeswitch.msleep(100) c:cleanup() stream:write(c:bind("CUSTOM") .. tostring(c:pop()) .. tostring(c:pop(1, 100)))')
    assert out == "0nilnil"


def test_6_copies_move_subclass_first(lua):
    """§6 Copies move Event-Subclass to the first header position (§13.3)."""
    out = lua('local c = freeswitch.EventConsumer("CUSTOM", "c6::first") local e = freeswitch.Event("CUSTOM", "c6::first") '
              'local local_first = e:serialize():match("^[^:]+") e:fire() local p = c:pop(1, 2000) '
              'stream:write(local_first .. "|" .. p:serialize():match("^[^:]+"))')
    assert out == "Event-Name|Event-Subclass"
