"""/health: 200 while the switch accepts calls, 503 after ``fsctl pause`` and while it
shuts down."""

from __future__ import annotations

import threading

from fsd.testing import originate, running_switch, wait_until

from .conftest import MODULES, Client


def test_ready_then_paused_then_resumed(client, sw):
    r = client.get("/health")
    assert (r.status, r.text) == (200, "ready\n")
    try:
        assert client.get("/txtapi/fsctl?pause").text == "+OK\n"
        r = client.get("/health")
        assert (r.status, r.text) == (503, "paused\n")
        # paused means paused: a new call is refused
        uuid, out = originate(sw, "null/paused &park()")
        assert uuid is None and "DESTINATION_OUT_OF_ORDER" in out, out
    finally:
        assert client.get("/txtapi/fsctl?resume").text == "+OK\n"
    assert client.get("/health").status == 200
    uuid, out = originate(sw, "null/resumed &park()")
    assert uuid, out
    sw.api_execute(f"uuid_kill {uuid}")


def test_paused_one_direction(client):
    try:
        client.get("/txtapi/fsctl?pause%20inbound")
        r = client.get("/health")
        assert (r.status, r.text) == (503, "paused inbound\n")
        client.get("/txtapi/fsctl?resume%20inbound")
        client.get("/txtapi/fsctl?pause%20outbound")
        assert client.get("/health").text == "paused outbound\n"
    finally:
        client.get("/txtapi/fsctl?resume")
    assert client.get("/health").status == 200


def test_health_needs_auth_unless_open(client):
    assert client.get("/health", auth=None).status == 401
    assert client.get("/metrics", auth=None).status == 401


HOLD = """
-- the hangup hook holds the channel (and so the shutdown) until the test releases it
local n = 0
while freeswitch.getGlobalVariable("hold_release") == nil and n < 1000 do
  freeswitch.msleep(10); n = n + 1
end
"""


def test_503_while_shutting_down(tmp_path):
    with running_switch(tmp_path, MODULES, extra_files={"scripts/hold.lua": HOLD}) as sw:
        from fsd_modules.mod_xml_rpc import bound_address

        c = Client(*bound_address(sw))
        assert c.get("/health").status == 200
        uuid, out = originate(sw, "{api_hangup_hook='lua hold.lua'}null/held &park()")
        assert uuid, out
        stopper = threading.Thread(target=sw.shutdown)
        stopper.start()
        try:
            assert wait_until(lambda: c.get("/health").status == 503, 5)
            r = c.get("/health")
            assert (r.status, r.text) == (503, "shutting down\n")
        finally:
            sw.globals.set("hold_release", "1")
            stopper.join(15)
        assert not stopper.is_alive()


def test_unload_over_http_then_load_again(tmp_path):
    """``unload mod_xml_rpc`` asked over HTTP runs in the background (as FreeSWITCH does), the
    listener closes; ``load`` brings it back on a fresh port."""
    from fsd_modules.mod_xml_rpc import bound_address

    with running_switch(tmp_path, MODULES) as sw:
        c = Client(*bound_address(sw))
        r = c.get("/txtapi/unload?mod_xml_rpc")
        assert r.status == 200 and r.text.startswith("+OK Job-UUID: ")
        assert wait_until(lambda: "mod_xml_rpc" not in sw.modules.loaded, 10)
        assert bound_address(sw) is None
        assert sw.api_execute("load mod_xml_rpc").startswith("+OK")
        again = Client(*bound_address(sw))
        assert again.get("/health").status == 200
