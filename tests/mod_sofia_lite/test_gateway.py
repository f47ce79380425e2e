"""Two fsd daemons over SIP: A's gateway registers to B's profile through a digest
challenge and carries calls both ways; gateway status, and a gateway that cannot
register."""

from __future__ import annotations

from fsd.testing import originate, running_switch, wait_until

from .conftest import MODULES, Rig, start_rig


def _gw(name, port, password="1234", extra=""):
    return f"""        <gateway name="{name}">
          <param name="username" value="1000"/>
          <param name="password" value="{password}"/>
          <param name="proxy" value="127.0.0.1:{port}"/>
          <param name="realm" value="127.0.0.1"/>
          <param name="expire-seconds" value="60"/>
          <param name="retry-seconds" value="30"/>
          <param name="extension" value="7002"/>
          {extra}
        </gateway>
"""


def test_two_daemons_gateway_registers_and_calls_both_ways(tmp_path):
    # B challenges calls (auth-calls): A answers the 407 with the gateway's credentials.
    base_b = start_rig(tmp_path, {"auth-calls": "true"}, name="b")
    with running_switch(base_b, MODULES) as sw_b:
        b = Rig(sw_b, base_b)
        base_a = start_rig(tmp_path, name="a", gateways=_gw("to_b", b.port, extra='<param name="ping" value="5"/>'))
        with running_switch(base_a, MODULES) as sw_a:
            a = Rig(sw_a, base_a)
            assert wait_until(lambda: "REGED" in sw_a.api_execute("sofia status gateway to_b"), 15)
            st = sw_a.api_execute("sofia status gateway to_b")
            assert "Status  \tUP" in st and "Username\t1000" in st and "Profile \tinternal" in st
            assert "internal::to_b\tgateway" in sw_a.api_execute("sofia status").replace("  ", "")
            b.events.wait("CUSTOM", None, Event_Subclass="sofia::register")
            dom = sw_b.globals.get("domain")
            assert sw_b.api_execute(f"sofia_contact 1000@{dom}").startswith(
                f"sofia/internal/sip:gw+to_b@127.0.0.1:{a.port}")
            # A → B through the gateway; B authenticates 1000, whose user_context is
            # default, where 9196 answers (echo).
            uuid, out = originate(sw_a, "sofia/gateway/to_b/9196 &park()")
            assert uuid, out
            a.events.wait("CHANNEL_ANSWER", uuid)
            b_in = b.events.wait("CHANNEL_ANSWER")[-1]
            assert b_in.get_header("Caller-Destination-Number") == "9196"
            assert b_in.get_header("variable_sip_authorized") == "true"
            sw_a.api_execute(f"uuid_kill {uuid}")
            b.events.wait("CHANNEL_HANGUP_COMPLETE", b_in.get_header("Unique-ID"))
            # B → A through the registration (A maps gw+to_b to the extension 7002).
            uuid, out = originate(sw_b, f"user/1000@{dom} &park()")
            assert uuid, out
            a_in = a.events.wait("CHANNEL_ANSWER", None, Caller_Destination_Number="7002",
                                  Call_Direction="inbound")[-1]
            assert a_in.get_header("variable_sip_gateway") == "to_b"
            sw_b.api_execute(f"uuid_kill {uuid}")
            a.events.wait("CHANNEL_HANGUP_COMPLETE", a_in.get_header("Unique-ID"))
            ev = a.events.wait("CUSTOM", None, Event_Subclass="sofia::gateway_state", State="REGED")[-1]
            assert ev.get_header("Gateway") == "to_b"
            # Re-register on demand.
            before = len(b.events.of("CUSTOM", None, Event_Subclass="sofia::register"))
            assert sw_a.api_execute("sofia profile internal register to_b") == "+OK\n"
            assert wait_until(lambda: len(b.events.of("CUSTOM", None, Event_Subclass="sofia::register"))
                              > before, 15)


def test_gateway_with_wrong_password_fails_and_calls_are_refused(tmp_path):
    base_b = start_rig(tmp_path, name="b")
    with running_switch(base_b, MODULES) as sw_b:
        b = Rig(sw_b, base_b)
        base_a = start_rig(tmp_path, name="a", gateways=_gw("bad", b.port, password="nope"))
        with running_switch(base_a, MODULES) as sw_a:
            assert wait_until(lambda: "FAIL_WAIT" in sw_a.api_execute("sofia status gateway bad"), 15)
            assert "Status  \tDOWN" in sw_a.api_execute("sofia status gateway bad")
            uuid, out = originate(sw_a, "sofia/gateway/bad/7002 &park()")
            assert uuid is None and "GATEWAY_DOWN" in out
            assert "(retry: " in sw_a.api_execute("sofia status")


def test_noreg_gateway_is_up_and_carries_calls(tmp_path):
    base_b = start_rig(tmp_path, name="b")
    with running_switch(base_b, MODULES) as sw_b:
        b = Rig(sw_b, base_b)
        gw = _gw("direct", b.port, extra='<param name="ping" value="5"/>').replace(
            '<param name="password" value="1234"/>', '<param name="register" value="false"/>')
        base_a = start_rig(tmp_path, name="a", gateways=gw)
        with running_switch(base_a, MODULES) as sw_a:
            a = Rig(sw_a, base_a)
            st = sw_a.api_execute("sofia status gateway direct")
            assert "State   \tNOREG" in st and "Status  \tUP" in st
            from lxml import etree

            x = etree.fromstring(sw_a.api_execute("sofia xmlstatus gateway direct").encode("latin-1"))
            assert (x.tag, x.findtext("name"), x.findtext("state")) == ("gateway", "direct", "NOREG")
            x = etree.fromstring(sw_a.api_execute("sofia xmlstatus gateway").encode("latin-1"))
            assert x.tag == "gateways" and x.findtext("gateway/name") == "direct"
            assert sw_a.api_execute("sofia profile internal register direct") == \
                "-ERR NOREG gateway [direct] can't be registered!\n"
            assert sw_a.api_execute("sofia profile internal register nope") == "Invalid gateway!\n"
            uuid, out = originate(sw_a, "sofia/gateway/direct/7002 &park()")
            assert uuid, out
            a.events.wait("CHANNEL_ANSWER", uuid)
            assert b.events.wait("CHANNEL_ANSWER")[-1].get_header("Caller-Destination-Number") == "7002"
            sw_a.api_execute(f"uuid_kill {uuid}")
            b.events.wait("CHANNEL_HANGUP_COMPLETE")
            # The OPTIONS ping (every 5 s) is answered: ping count 1 of min 1 / max 1.
            assert wait_until(lambda: "PingState\t1/1/1" in sw_a.api_execute("sofia status gateway direct"), 15)


def test_gateway_to_nobody_times_out_on_timer_f_and_fails(tmp_path):
    from .conftest import free_port

    base_a = start_rig(tmp_path, {"timer-T1": "50"}, name="a", gateways=_gw("dead", free_port()))
    with running_switch(base_a, MODULES) as sw_a:
        a = Rig(sw_a, base_a)
        ev = a.events.wait("CUSTOM", None, timeout=15, Event_Subclass="sofia::gateway_state",
                           State="FAIL_WAIT")[-1]
        assert ev.get_header("Gateway") == "dead"
        failed = a.events.of("CUSTOM", None, Event_Subclass="sofia::gateway_state", State="FAILED")
        assert failed and failed[-1].get_header("Status") == "408"
