"""More call-model behaviour: uuid_bridge, user/ endpoint, reporting hook, SHUTDOWN."""

from __future__ import annotations

from fsd.testing import originate, running_switch, wait_until

from .conftest import CALL_MODULES


def test_uuid_bridge_two_parked_legs(sw, events):
    a, out = originate(sw, "null/left &park()")
    assert a, out
    b, out = originate(sw, "null/right &park()")
    assert b, out
    events.wait("CHANNEL_PARK", a)
    events.wait("CHANNEL_PARK", b)
    assert sw.api_execute(f"uuid_bridge {a} {b}") == f"+OK {b}\n"
    br = events.wait("CHANNEL_BRIDGE", a)
    assert br[0].get_header("Bridge-B-Unique-ID") == b
    assert sw.api_execute(f"uuid_getvar {a} bridge_to") == b
    assert "1 total." in sw.api_execute("show calls")
    sw.api_execute(f"uuid_kill {b}")
    assert events.wait("CHANNEL_UNBRIDGE", a)
    # a's own extension (park) is finished, so it ends as its dialplan would.
    done = events.wait("CHANNEL_HANGUP_COMPLETE", a)
    assert done[0].get_header("variable_last_bridge_hangup_cause") == "NORMAL_CLEARING"
    assert sw.api_execute("uuid_bridge nope other").startswith("-ERR Invalid uuid")


def test_api_reporting_hook_and_session_in_hangup_hook(sw):
    # API arguments are not expanded, so ${hangup_cause} waits for the hook's env.
    a, out = originate(sw, "{api_reporting_hook='global_setvar rep=${hangup_cause}'}null/rep &park()")
    assert a, out
    sw.api_execute(f"uuid_kill {a} CALL_REJECTED")
    assert wait_until(lambda: sw.globals.get("rep") == "CALL_REJECTED")


def test_user_endpoint(tmp_path):
    directory = """<include><domain name="test.local">
      <params><param name="dial-string" value="null/${dialed_user}-at-${dialed_domain}"/></params>
      <groups><group name="g"><users>
        <user id="2000"/>
        <user id="2001"><params><param name="dial-string" value="error/user_busy"/></params></user>
        <user id="2002"><params><param name="dial-string" value="${sofia_contact(2002@test.local)}"/></params></user>
      </users></group></groups>
    </domain></include>"""
    with running_switch(tmp_path, CALL_MODULES, extra_files={"conf/directory/test.xml": directory}) as sw:
        a, out = originate(sw, "user/2000@test.local &park()")
        assert a, out
        assert sw.api_execute(f"uuid_getvar {a} channel_name") == "null/2000-at-test.local"
        assert sw.api_execute("originate user/2001@test.local &park()") == "-ERR USER_BUSY\n"
        assert sw.api_execute("originate user/9999@test.local &park()") == "-ERR SUBSCRIBER_ABSENT\n"
        assert sw.api_execute("originate user/2002@test.local &park()") == "-ERR USER_NOT_REGISTERED\n"
        sw.api_execute("hupall")


def test_shutdown_hangs_up_calls_with_system_shutdown(tmp_path):
    got = []
    with running_switch(tmp_path, CALL_MODULES) as sw:
        sw.events.bind("ALL", None, got.append)
        a, out = originate(sw, "null/down &park()")
        assert a, out
    names = [e.name for e in got]
    assert "SHUTDOWN" in names
    hang = [e for e in got if e.name == "CHANNEL_HANGUP" and e.get_header("Unique-ID") == a]
    assert hang and hang[0].get_header("Hangup-Cause") == "SYSTEM_SHUTDOWN"


def test_user_endpoint_through_a_directory_binding(sw):
    from fsd.module import ModuleInterface

    asked = []

    def directory(section, tag, key, value, params):
        asked.append((section, params.get("user"), params.get("domain")))
        if params.get("user") != "7777":
            return None
        return ('<document type="freeswitch/xml"><section name="directory">'
                '<domain name="dyn.local"><user id="7777"><params>'
                '<param name="dial-string" value="null/dynamic-${dialed_user}"/>'
                '</params></user></domain></section></document>')

    mi = ModuleInterface("test-directory", sw)
    mi.bind_xml("directory", directory)
    try:
        a, out = originate(sw, "user/7777@dyn.local &park()")
        assert a, out
        assert sw.api_execute(f"uuid_getvar {a} channel_name") == "null/dynamic-7777"
        assert ("directory", "7777", "dyn.local") in asked
        assert sw.api_execute("originate user/7778@dyn.local &park()") == "-ERR SUBSCRIBER_ABSENT\n"
    finally:
        mi.remove_interfaces()
        sw.api_execute("hupall")
