"""/metrics: the Prometheus text format (parsed with prometheus_client's own parser), fed
by every module through the fsd_metrics hook; counters move with calls and lost events."""

from __future__ import annotations

import socket
import time

from prometheus_client.parser import text_string_to_metric_families

from fsd.events import Event
from fsd.testing import originate, other_leg, running_switch, wait_until

from .conftest import MODULES, Client


def scrape(client: Client) -> dict[str, float]:
    """{'name{label="v",...}': value} of every sample."""
    r = client.get("/metrics")
    assert r.status == 200
    assert r.header("Content-Type").startswith("text/plain; version=0.0.4")
    out = {}
    for fam in text_string_to_metric_families(r.text):
        for s in fam.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
            out[f"{s.name}{{{labels}}}" if labels else s.name] = s.value
    return out


def test_every_module_contributes(client):
    m = scrape(client)
    for name in ("fsd_sessions", "fsd_sessions_created_total", "fsd_calls_per_second",
                 "fsd_accepting_calls", "fsd_events_fired_total", "fsd_esl_listeners",
                 "fsd_esl_events_dropped_total", "fsd_lua_scripts_running",
                 "fsd_lua_script_errors_total", "fsd_http_requests_in_flight"):
        assert name in m, name
    assert m["fsd_accepting_calls"] == 1
    assert 'fsd_channels{endpoint="loopback"}' in m


def test_counters_move_with_a_call(client, sw):
    before = scrape(client)
    a, out = originate(sw, "loopback/answer/web &park()")
    assert a, out
    b = other_leg(sw, a)
    try:
        during = scrape(client)
        assert during["fsd_sessions_created_total"] >= before["fsd_sessions_created_total"] + 2
        assert during['fsd_channels{endpoint="loopback"}'] >= 2
        assert during["fsd_sessions"] >= 2
        # the call's media ports ride the 20 ms clock, whose lateness is a histogram
        assert wait_until(lambda: scrape(client).get(
            'fsd_media_clock_lateness_seconds_count{ptime="20"}', 0) > 0)
        m = scrape(client)
        assert m['fsd_media_clock_lateness_seconds_bucket{le="+Inf",ptime="20"}'] == \
            m['fsd_media_clock_lateness_seconds_count{ptime="20"}']
    finally:
        sw.api_execute(f"uuid_kill {a}")
    assert wait_until(lambda: a not in sw.sessions and b not in sw.sessions)
    after = scrape(client)
    assert after['fsd_channels{endpoint="loopback"}'] == before['fsd_channels{endpoint="loopback"}']


def test_lua_errors_and_http_requests_are_counted(client):
    before = scrape(client)
    client.get("/api/lua?web/error.lua")
    after = scrape(client)
    assert after["fsd_lua_script_errors_total"] == before["fsd_lua_script_errors_total"] + 1
    assert after["fsd_lua_scripts_started_total"] > before["fsd_lua_scripts_started_total"]
    key = 'fsd_http_requests_total{code="200",kind="lua"}'
    assert after[key] == before.get(key, 0) + 1


def test_db_pool_figures(client, sw):
    sw.api_execute("lua", '~local d = freeswitch.Dbh("sqlite://web_metrics") '
                          'd:query("select 1") d:release()')
    m = scrape(client)
    keys = [k for k in m if k.startswith("fsd_db_pool_size{") and "web_metrics" in k]
    assert keys, [k for k in m if k.startswith("fsd_db")]
    dsn = keys[0][len("fsd_db_pool_size"):]
    assert m["fsd_db_pool_acquired_total" + dsn] >= 1
    assert m["fsd_db_pool_in_use" + dsn] == 0
    assert "fsd_db_pool_waiting" + dsn in m and "fsd_db_pool_wait_timeouts_total" + dsn in m


ESL_CONF = """<configuration name="event_socket.conf" description="Socket Client">
  <settings>
    <param name="listen-ip" value="127.0.0.1"/>
    <param name="listen-port" value="0"/>
    <param name="password" value="ClueCon"/>
    <param name="event-queue-size" value="50"/>
    <param name="max-missed-events" value="100000000"/>
  </settings>
</configuration>
"""


def _esl_subscriber(port: int) -> socket.socket:
    """An ESL client that subscribes and then never reads."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    buf = b""
    for cmd in (None, b"auth ClueCon\n\n", b"event plain CUSTOM web::load\n\n"):
        if cmd:
            s.sendall(cmd)
        while b"\n\n" not in buf:
            buf += s.recv(4096)
        head, _, buf = buf.partition(b"\n\n")
        if b"Content-Length:" in head:  # skip a body
            n = int(head.split(b"Content-Length:")[1].split()[0])
            while len(buf) < n:
                buf += s.recv(4096)
            buf = buf[n:]
    return s


def test_dropped_events_are_counted(tmp_path):
    mods = MODULES + ["mod_email"]
    with running_switch(tmp_path, mods,
                        extra_files={"conf/autoload/event_socket.conf.xml": ESL_CONF}) as sw:
        from fsd_modules.mod_event_socket import bound_address as esl_address
        from fsd_modules.mod_xml_rpc import bound_address

        c = Client(*bound_address(sw))
        m0 = scrape(c)
        assert m0["fsd_esl_events_dropped_total"] == 0
        assert m0["fsd_mail_spool_depth"] == 0  # mod_email's contribution
        slow = _esl_subscriber(esl_address(sw)[1])
        try:
            assert wait_until(lambda: scrape(c)["fsd_esl_listeners"] == 1)
            for i in range(20000):
                e = Event("CUSTOM", "web::load")
                e.add_header("Padding", "x" * 2500)
                sw.events.fire(e)
                if i % 5000 == 4999:
                    time.sleep(0.01)  # the bus's own queue is bounded too
            assert wait_until(lambda: scrape(c)["fsd_esl_events_dropped_total"] > 0, 10)
            lost = scrape(c)["fsd_esl_events_dropped_total"]
        finally:
            slow.close()
        # the count survives the connection that lost them (a counter never goes back)
        assert wait_until(lambda: scrape(c)["fsd_esl_listeners"] == 0, 10)
        assert scrape(c)["fsd_esl_events_dropped_total"] >= lost
        assert scrape(c)["fsd_esl_connections_total"] >= 1


def test_registry_is_per_switch(client):
    from prometheus_client import REGISTRY

    names = {m.name for m in REGISTRY.collect()}
    assert "fsd_sessions" not in names  # nothing of fsd on the process-wide registry


class _BrokenMetrics:
    """A module whose fsd_metrics hook raises."""

    import fsd as _fsd

    @staticmethod
    @_fsd.hookimpl
    def fsd_metrics(switch):
        raise RuntimeError("metrics hook broken on purpose")


def test_a_failing_module_hook_leaves_the_others(client, sw):
    sw.modules.pm.register(_BrokenMetrics, name="broken_metrics_test")
    try:
        m = scrape(client)
        assert "fsd_sessions" in m and "fsd_esl_listeners" in m
    finally:
        sw.modules.pm.unregister(name="broken_metrics_test")


def test_config_names():
    from fsd_modules.mod_xml_rpc.config import HttpSettings
    from lxml import etree

    cfg = etree.fromstring(
        '<configuration name="xml_rpc.conf"><settings>'
        '<param name="http-port" value="0"/><param name="listen-ip" value="::1"/>'
        '<param name="realm" value="r"/><param name="user" value="u"/>'
        '<param name="pass" value="p"/><param name="auth-users" value="false"/>'
        '<param name="default-domain" value="d"/><param name="max-body-size" value="10"/>'
        '<param name="auth-realm" value=""/></settings></configuration>')
    s = HttpSettings.from_xml(cfg)
    assert (s.port, s.listen_ip, s.realm, s.user, s.password) == (0, "::1", "r", "u", "p")
    assert s.auth_users is False and s.default_domain == "d" and s.max_body_size == 10
    # FreeSWITCH keeps user and pass only with a realm: without one nothing asks for auth
    bare = etree.fromstring('<configuration><settings><param name="auth-user" value="u"/>'
                            '<param name="auth-pass" value="p"/></settings></configuration>')
    s = HttpSettings.from_xml(bare)
    assert not s.auth_required and s.user == "" and s.port == 8080
