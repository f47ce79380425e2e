"""Every example of the user wiki page (shared/reference/lua-api-wiki.txt) runs against a
running daemon.  The scripts are in tests/mod_lua/wiki/, copied from the page and adjusted
only for paths and addresses (each says so in a comment at its top; @TMP@, @WAV@ and
@ESL_PORT@ are filled in here).  Calls are loopback calls; DTMF comes from uuid_recv_dtmf."""

from __future__ import annotations

import email as email_lib
import importlib.util
import os
import re
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from fsd.log import ERR
from fsd.testing import wait_until

HERE = Path(__file__).parent
WIKI = HERE / "wiki"


def _load(name: str, path: Path) -> Any:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


conf = _load("mod_lua_conformance_conftest", HERE / "conformance" / "conftest.py")

WIKI_DIALPLAN = """<include><context name="w">
<extension name="wiki"><condition field="destination_number" expression="^wiki-(.+)$">
  <action application="lua" data="$1.lua"/>
  <action application="set" data="after_lua=1"/>
  <action application="answer"/>
  <action application="park"/>
</condition></extension>
<extension name="lua-env-hangup-hook-test"><condition field="destination_number" expression="^(1234)$">
  <action application="answer"/>
  <action application="set" data="api_hangup_hook=lua hook-test.lua"/>
  <action application="set" data="my_custom_var=foobar"/>
  <action application="sleep" data="10000"/>
  <action application="hangup"/>
</condition></extension>
<extension name="hello"><condition field="destination_number" expression="^hello$">
  <action application="set" data="foo=${lua(hello.lua)}"/>
  <action application="answer"/>
  <action application="park"/>
</condition></extension>
</context></include>
"""

LUA_CONF = """<configuration name="lua.conf" description="LUA Configuration">
  <settings>
    <param name="xml-handler-script" value="dialplan_params.lua"/>
    <param name="xml-handler-bindings" value="directory"/>
  </settings>
  <hooks><hook event="CHANNEL_ANSWER" script="event_getheader_hook.lua"/></hooks>
</configuration>
"""

VM_MENU = """<macro name="voicemail_menu">
          <input pattern="(.*)">
            <match>
              <action function="play-file" data="voicemail/vm-menu.wav"/>
            </match>
          </input>
        </macro>
        """


def _en_xml() -> str:
    repo = Path(__file__).resolve().parents[2] / "conf" / "lang" / "en" / "en.xml"
    return repo.read_text().replace("<macros>", "<macros>\n        " + VM_MENU, 1)


@pytest.fixture(scope="module")
def wd(tmp_path_factory):
    """The running daemon with the wiki scripts installed; ``wd.run(script)`` starts a
    loopback call whose B leg runs it; ``wd.g(name)`` reads a global."""
    from fsd.testing import running_switch

    root = tmp_path_factory.mktemp("wiki")
    smtp = conf.email_helpers.SmtpServer()
    rc = root / "msmtprc"
    rc.write_text("defaults\nauth off\ntls off\nlogfile -\n"
                  f"account default\nhost 127.0.0.1\nport {smtp.port}\ntimeout 5\n")
    os.chmod(rc, 0o600)
    tmp = root / "tmp"
    tmp.mkdir()
    wav = conf.write_wav(root / "prompt.wav", 0.5)
    conf.write_wav(tmp / "foo.wav", 1.0, freq=500)
    conf.write_wav(tmp / "bar.wav", 0.5, freq=2000)
    (tmp / "message.wav").write_bytes(b"RIFF-not-really-audio" * 20)
    files = {"conf/dialplan/c.xml": conf.EXTRA_DIALPLAN, "conf/dialplan/w.xml": WIKI_DIALPLAN,
             "conf/autoload/lua.conf.xml": LUA_CONF, "conf/lang/en/en.xml": _en_xml()}
    with running_switch(root / "fsd", conf.base.DAEMON_MODULES + ["mod_say_en", "mod_event_socket"],
                        extra_files=files,
                        switch_settings={"mailer-app": "msmtp", "mailer-app-args": f"-C {rc} -t"}) as sw:
        esl_port = sw.globals.get("esl_bound_port") or "8021"
        for f in WIKI.glob("*.lua"):
            text = (f.read_text().replace("@TMP@", str(tmp)).replace("@WAV@", wav)
                    .replace("@ESL_PORT@", esl_port))
            (Path(sw.dirs.scripts) / f.name).write_text(text)
        prefix = os.path.join(sw.dirs.sounds, "en", "us", "callie")
        conf.write_wav(os.path.join(prefix, "voicemail", "vm-menu.wav"), 2.0) if os.makedirs(
            os.path.join(prefix, "voicemail"), exist_ok=True) is None else None

        class W:
            pass

        w = W()
        w.sw, w.tmp, w.wav, w.smtp = sw, tmp, wav, smtp

        def run(script: str, a_app: str = "park()") -> tuple[str, str]:
            sub = sw.events.subscribe(name="wiki-call")
            sub.bind("CHANNEL_CREATE")
            legs: dict[str, str] = {}
            tag = f"/wiki-{script}-"
            try:
                threading.Thread(target=sw.api_execute, daemon=True,
                                 args=(f"originate {{originate_timeout=20}}loopback/wiki-{script}/w &{a_app}",)).start()
                deadline = time.monotonic() + 5
                while len(legs) < 2 and time.monotonic() < deadline:
                    ev = sub.get(timeout=0.1)
                    if ev is not None and tag in (ev.get_header("Channel-Name") or ""):
                        legs[ev.get_header("Call-Direction")] = ev.get_header("Unique-ID")
            finally:
                sub.close()
            assert len(legs) == 2, legs
            return legs["outbound"], legs["inbound"]

        def g(name: str, timeout: float = 5.0) -> str | None:
            wait_until(lambda: sw.globals.get(name) is not None, timeout)
            return sw.globals.get(name)

        w.run, w.g = run, g
        yield w
        sw.api_execute("hupall")
        wait_until(lambda: not sw.sessions, 5)
    smtp.close()


@pytest.fixture(autouse=True)
def _clean(wd):
    for k, _ in wd.sw.globals.items():
        if k.startswith("wiki_"):
            wd.sw.globals.delete(k)
    yield
    if wd.sw.sessions:
        wd.sw.api_execute("hupall")
        wait_until(lambda: not wd.sw.sessions, 5)


@pytest.fixture
def logs():
    from fsd.log import logger

    records: list[Any] = []
    sid = logger.add_sink(records.append)
    yield records
    logger.remove_sink(sid)


def _dtmf(wd, uuid: str, digits: str) -> None:
    assert wd.sw.api_execute(f"uuid_recv_dtmf {uuid} {digits}") == "+OK Success\n"


def _errors(logs) -> list[str]:
    return [r.text for r in logs if r.level <= ERR]


def test_every_script_names_its_adjustments():
    """Each wiki script starts with a comment naming the page section and its adjustments."""
    for f in sorted(WIKI.glob("*.lua")):
        head = f.read_text().split("\n", 2)
        assert head[0].startswith("-- Wiki "), f.name
        assert "Adjustment" in "\n".join(head[:3]), f.name


def _sub(wd, name, subclass=None):
    s = wd.sw.events.subscribe(name="wiki-test")
    s.bind(name, subclass)
    return s


def _next(sub, pred=lambda e: True, timeout=3.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        e = sub.get(timeout=0.1)
        if e is not None and pred(e):
            return e
    return None


def test_event_addbody_custom_event(wd):
    sub = _sub(wd, "CUSTOM", "dial::dial-result")
    try:
        assert wd.sw.api_execute("lua", "event_addbody.lua") == ""
        e = _next(sub)
        assert e is not None and e.body == ("dial_record_id: 1234\ncall_disposition: AA\n"
                                            "campaign_number: 20\ncalled_number: 7777777\n")
    finally:
        sub.close()


def test_event_message_waiting_and_luarun(wd):
    sub = _sub(wd, "MESSAGE_WAITING")
    try:
        wd.sw.api_execute("lua", "event_mwi.lua")
        e = _next(sub)
        assert e.get_header("MWI-Message-Account") == "sip:1000@10.0.1.100"
        assert e.get_header("Sofia-Profile") == "internal"
        assert wd.sw.api_execute("luarun", "event_mwi_luarun.lua") == "+OK\n"
        e = _next(sub)
        assert e.get_header("MWI-Message-Account") == "sip:1002@10.0.1.100"
    finally:
        sub.close()


def test_event_getheader_in_hook_and_params_in_xml_handler(wd):
    a, b = wd.run("session_basics")
    assert wd.g("wiki_hook_cid") not in (None, "nil")
    el = wd.sw.config.lookup("directory", "domain", "name", "example.org",
                             {"variable_sip_req_uri": "sip:1000@example.org"})
    assert el is None  # the example only reads; it sets no XML_STRING
    assert wd.g("wiki_params_uri") == "sip:1000@example.org"
    assert '"variable_sip_req_uri":"sip:1000@example.org"' in wd.g("wiki_params_json")


def test_session_basics(wd, logs):
    a, b = wd.run("session_basics")
    assert wd.g("wiki_basics_state") == "CS_EXECUTE"
    assert wd.g("wiki_basics_uuid") == b
    assert wd.g("wiki_basics_dest") == "wiki-session_basics"
    assert wd.g("wiki_basics_varname") == "varval"
    assert wd.sw.globals.get("wiki_basics_bridged") is None
    assert wait_until(lambda: sum(1 for r in logs if r.text == "lua rocks\n" and r.uuid == b) == 5)


def test_session_execute_playback(wd):
    wd.run("session_execute_playback")
    assert wd.g("wiki_exec_done") == "4000"  # 0.5 s at 8 kHz went out


def test_session_getdigits(wd, logs):
    a, b = wd.run("session_getdigits")
    wd.g("wiki_gd_ready")
    _dtmf(wd, b, "123#")
    assert wd.g("wiki_gd_digits") == "123"
    assert any("Got dtmf: 123" in r.text for r in logs)


def test_session_hangup_user_busy(wd):
    a, b = wd.run("session_hangup_busy")
    assert wait_until(lambda: b not in wd.sw.sessions)
    assert wd.sw.api_execute(f"uuid_getvar {b} hangup_cause").startswith("-ERR")  # gone


def test_originate_cause_and_retry(wd, logs):
    wd.sw.api_execute("lua", "originate_cause.lua")
    assert wd.g("wiki_cause") == "USER_BUSY"
    wd.sw.api_execute("lua", "originate_retry.lua")
    assert wd.g("wiki_retries") == "1"
    assert any("Leg1: USER_BUSY - Try: 1" in r.text for r in logs)


def test_insert_file(wd):
    import soundfile as sf

    wd.run("insert_file")
    assert wd.g("wiki_insert_done") == "1"
    foo, _ = sf.read(wd.tmp / "foo.wav")
    bar, _ = sf.read(wd.tmp / "bar.wav")
    assert len(foo) == 8000 + 4000 + 4000  # 1 s + two 0.5 s inserts
    assert len(bar) == 4000 + len(foo)


def test_originate_new_and_deprecated(wd):
    wd.run("originate_deprecated")
    assert wd.g("wiki_new_ready") == "true"
    assert "Error in Session::originate" in wd.g("wiki_old_err")


def test_play_and_get_digits(wd):
    a, b = wd.run("play_and_get_digits")
    wd.g("wiki_pagd_ready")
    _dtmf(wd, b, "42#")
    assert wd.g("wiki_pagd1") == "42"
    _dtmf(wd, b, "7*#")
    assert wd.g("wiki_pagd3") == "7*"
    _dtmf(wd, b, "3")
    assert wd.g("wiki_pagd2") == "3"
    assert wd.sw.api_execute(f"uuid_getvar {b} digits_received") == "3"


def test_session_read(wd):
    a, b = wd.run("session_read")
    wd.g("wiki_read_ready")
    _dtmf(wd, b, "12345#")
    assert wd.g("wiki_read1") == "12345"
    _dtmf(wd, b, "67890*")
    assert wd.g("wiki_read2") == "67890|*"


def test_ready_loop_ends_on_hangup(wd):
    a, b = wd.run("ready_loop")
    assert wd.g("wiki_loop") == "in"
    wd.sw.api_execute(f"uuid_kill {a}")
    assert wait_until(lambda: wd.sw.globals.get("wiki_loop") == "out")


def test_record_file_stopped_by_callback(wd, logs):
    a, b = wd.run("record_file")
    wd.g("wiki_rec_ready")
    time.sleep(0.3)
    _dtmf(wd, b, "5")
    assert wd.g("wiki_rec_result") == "0"
    assert (wd.tmp / "myfile.wav").exists()
    assert any("printSessionFunctions" in t for t in _errors(logs))


def test_key_press_breaks_phrase(wd, logs):
    a, b = wd.run("key_press_phrase")
    time.sleep(1.3)  # the example sleeps 1 s first
    _dtmf(wd, b, "5")
    assert wd.g("wiki_key") == "5"
    assert wd.g("wiki_key_done") == "1"


def test_auto_hangup_false_dialplan_continues(wd):
    a, b = wd.run("auto_hangup_false")
    assert wait_until(lambda: wd.sw.api_execute(f"uuid_getvar {b} after_lua") == "1")


def test_hangup_hook_errors_logged_script_continues(wd, logs):
    wd.run("hangup_hook")
    assert wd.g("wiki_hook_after") == "still running"
    assert any("myHangupHook: hangup" in r.text for r in logs)
    assert any("db_conn" in t for t in _errors(logs))


def test_hangup_hook_exit_and_destroy_abort(wd, logs):
    wd.run("hangup_hook_exit")
    assert wd.g("wiki_exit_hook") == "hangup"
    wd.run("destroy_error")
    assert wait_until(lambda: any("error message" in t for t in _errors(logs)))
    time.sleep(0.2)
    assert wd.sw.globals.get("wiki_exit_never") is None
    assert wd.sw.globals.get("wiki_destroy_never") is None


def test_input_callback_my_cb(wd, capfd):
    a, b = wd.run("input_callback_cb")
    wd.g("wiki_cb_ready")
    _dtmf(wd, b, "9")
    assert wd.g("wiki_cb_digit") == "9|w00t"


def test_tts_say_stream(wd, logs):
    wd.run("tts_say_stream")
    assert wd.g("wiki_tts_done") == "1"
    assert any("flite" in t for t in _errors(logs))


def test_transfer(wd):
    a, b = wd.run("transfer")
    assert wd.g("wiki_transfer_after") == "false"
    assert wait_until(lambda: wd.sw.api_execute(f"uuid_getvar {b} reached_xfer") == "1")


def test_ivrmenu(wd):
    a, b = wd.run("ivrmenu")
    assert "expected 17..17 args, got 16" in wd.g("wiki_ivr_err")
    wd.g("wiki_ivr_ready")
    time.sleep(0.2)
    _dtmf(wd, b, "7")
    assert wait_until(lambda: wd.sw.api_execute(f"uuid_getvar {b} reached_xfer") == "1")


def test_esl_client(wd, logs, capfd):
    """The page's ESL example connects, logs through the API and prints; then it
    concatenates the ESLevent that con:api() returns, which fails in FreeSWITCH's ESL
    module too (api() returns an event, not a string): logged with the script's line."""
    assert wd.sw.api_execute("lua", "esl_client.lua") == "-ERR Cannot execute script\n"
    assert any("Lua ESL connected" in r.text for r in logs)
    assert "connected!" in capfd.readouterr().out
    assert any("esl_client.lua:15: attempt to concatenate" in t and "ESLevent" in t for t in _errors(logs))


def test_api_objects(wd):
    wd.sw.api_execute("lua", "api_objects.lua")
    t, reply, sofia = wd.g("wiki_api").split("|", 2)
    assert abs(int(t) / 1000 - time.time()) < 5
    assert reply == wd.sw.api_execute("version")
    assert sofia == "INVALID COMMAND!\n"  # no sofia module in this daemon


def test_bridge_two_sessions(wd):
    threading.Thread(target=wd.sw.api_execute, args=("lua", "bridge_two_sessions.lua"), daemon=True).start()
    one, two = wd.g("wiki_bridge_legs").split("|")
    assert wait_until(lambda: wd.sw.sessions.get(one) is not None and wd.sw.sessions[one].bridged())
    wd.sw.api_execute(f"uuid_kill {two}")
    assert wd.g("wiki_bridge_done") == "1"


def test_console_functions(wd, logs):
    wd.sw.api_execute("lua", "console_functions.lua")
    assert any(r.text == "This Rocks!!!\n" and r.clean for r in logs)
    assert sum(1 for r in logs if r.text == "lua rocks\n") == 5


def test_dbh(wd):
    out = wd.sw.api_execute("lua", "dbh.lua")
    assert out == "    1 : foo\n    2 : bar\nAffected rows: 2\n"


def test_email(wd):
    wd.sw.api_execute("lua", "email.lua")
    assert wd.g("wiki_email") == "true"
    mail = wd.smtp.wait_for(1)[0]
    msg = email_lib.message_from_bytes(mail.data)
    assert mail.rcpt_tos == ["receiver@bar.com"] and msg["Subject"] == "Voicemail from 1234"
    assert [p.get_filename() for p in msg.walk() if p.get_filename()] == ["message.mp3"]


def test_fire_custom_and_fsman(wd):
    sub = _sub(wd, "CUSTOM", "my::event")
    sub2 = _sub(wd, "MESSAGE")
    try:
        wd.sw.api_execute("lua", "fire_custom.lua")
        assert _next(sub).get_header("My-Header") == "test"
        m = _next(sub2, lambda e: e.get_header("Wiki-Name") is not None)
        assert m.get_header("Wiki-Name") == "wiki value" and m.body == "Body_Generic"
    finally:
        sub.close()
        sub2.close()


def test_event_consumer_usage(wd):
    threading.Thread(target=wd.sw.api_execute, args=("luarun", "consumer_usage.lua"), daemon=True).start()
    wd.g("wiki_consumer_ready")
    time.sleep(0.2)
    wd.sw.api_execute("lua", '~freeswitch.Event("CUSTOM", "wiki::consumer"):fire()')
    time.sleep(0.7)
    wd.sw.api_execute("lua", '~freeswitch.Event("CUSTOM", "multicast::event"):fire()')
    out = wd.g("wiki_consumer", 5)
    assert out.startswith("nil|wiki::consumer|nil|")


def test_event_consumer_session_loop_and_poll(wd):
    threading.Thread(target=wd.sw.api_execute, args=("lua", "consumer_session_loop.lua"), daemon=True).start()
    leg = wd.g("wiki_loop_leg")
    time.sleep(0.5)
    wd.sw.api_execute(f"uuid_kill {leg}")
    assert int(wd.g("wiki_loop_events")) > 0
    assert wd.g("wiki_poll") == "false"  # nobody answers the ping


def test_global_variable_and_msleep(wd):
    wd.sw.globals.set("varname", "wiki-gv")
    t0 = time.monotonic()
    wd.sw.api_execute("lua", "global_msleep.lua")
    assert time.monotonic() - t0 >= 0.49
    assert wd.g("wiki_gv") == "wiki-gv"


def test_new_session_transfer_and_execute_on_answer(wd):
    wd.sw.api_execute("lua", "new_session_transfer.lua")
    u = wd.g("wiki_ns_uuid")
    assert u
    assert wd.g("wiki_ns_eoa") == "info notice"


def test_hello_api_and_expansion(wd):
    assert wd.sw.api_execute("lua", "hello.lua") == "hello world"
    a, b = wd.run("none", a_app="park()") if False else (None, None)
    out = wd.sw.api_execute("originate loopback/hello/w &park()")
    assert out.startswith("+OK")
    a = out.split()[1]
    b = wd.sw.api_execute(f"uuid_getvar {a} other_loopback_leg_uuid")
    assert wd.sw.api_execute(f"uuid_getvar {b} foo") == "hello world"


def test_web_api_page(wd):
    from fsd.events import Event

    ev = Event("API")
    ev.add_header("command", "global_getvar wiki_web")
    wd.sw.globals.set("wiki_web", "portal-ok")
    out, _ = wd.sw.api.execute("lua", "web_api.lua", param_event=ev)
    assert out.startswith("Content-Type: text/html\n\n<title>FreeSWITCH Command Portal</title>")
    assert "<pre>portal-ok</pre>" in out
    assert "cool: true" in out


def test_call_control(wd):
    threading.Thread(target=wd.sw.api_execute, args=("lua", "call_control.lua"), daemon=True).start()
    legs = wd.g("wiki_cc_legs", 10)
    one, two = legs.split("|")
    assert wait_until(lambda: wd.sw.sessions.get(one) is not None and wd.sw.sessions[one].bridged())
    wd.sw.api_execute(f"uuid_kill {two}")
    assert wd.g("wiki_cc_done") == "1"


def test_hook_test_env(wd, logs):
    out = wd.sw.api_execute("originate loopback/1234/w &park()")
    a = out.split()[1]
    b = wd.sw.api_execute(f"uuid_getvar {a} other_loopback_leg_uuid")
    # the extension answers first; hang up only once it has set the hook and the variable
    assert wait_until(lambda: wd.sw.api_execute(f"uuid_getvar {b} my_custom_var") == "foobar")
    wd.sw.api_execute(f"uuid_kill {a}")
    assert wait_until(lambda: any("my_custom_var is 'foobar'" in r.text for r in logs))
    assert any(f"Inside hangup hook, uuid is: {b}" in r.text for r in logs)
    lines = (wd.tmp / "fax.log").read_text().split("\n")
    assert b in lines and "YOUR COMMAND HERE" in lines


def test_every_wiki_script_is_exercised():
    """No script in tests/mod_lua/wiki/ is left without a test here."""
    src = Path(__file__).read_text()
    for f in WIKI.glob("*.lua"):
        stem = f.stem
        assert re.search(rf'["\']{re.escape(stem)}(\.lua)?["\']', src) or stem in (
            "event_getheader_hook", "dialplan_params", "hook-test"), f.name
