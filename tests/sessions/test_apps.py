"""Dialplan applications and call-control APIs not covered elsewhere, driven through a call."""

from __future__ import annotations

from fsd.testing import EventLog, originate, other_leg, running_switch, wait_until

from .conftest import CALL_MODULES

APPS = r"""<include><context name="apps">
  <extension name="vars">
    <condition field="destination_number" expression="^vars$">
      <action application="multiset" data="m1=one m2='two words'"/>
      <action application="multiset" data="^^:c1=x:c2=y"/>
      <action application="export" data="exp_both=1"/>
      <action application="export" data="nolocal:exp_remote=2"/>
      <action application="set_global" data="app_global=g1"/>
      <action application="set" data="gone=1"/>
      <action application="unset" data="gone"/>
      <action application="log" data="INFO logged by the dialplan"/>
      <action application="event" data="Event-Subclass=apps::test,Event-Name=CUSTOM,My-Header=hello"/>
      <action application="answer"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="early">
    <condition field="destination_number" expression="^early$">
      <action application="respond" data="183 Session Progress"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="bridgeearly">
    <condition field="destination_number" expression="^bridgeearly$">
      <action application="bridge" data="loopback/early/apps"/>
    </condition>
  </extension>
  <extension name="sched">
    <condition field="destination_number" expression="^sched$">
      <action application="answer"/>
      <action application="sched_transfer" data="+0.3 vars XML apps"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="schedhup">
    <condition field="destination_number" expression="^schedhup$">
      <action application="answer"/>
      <action application="sched_hangup" data="+0.2 CALL_REJECTED"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="inline">
    <condition field="destination_number" expression="^inline$">
      <action application="set" data="early_var=seen" inline="true"/>
    </condition>
    <condition field="${early_var}" expression="^seen$">
      <action application="answer"/>
      <action application="park"/>
    </condition>
  </extension>
</context></include>"""


def test_variable_apps_log_and_event(tmp_path):
    with running_switch(tmp_path, CALL_MODULES, extra_files={"conf/dialplan/apps.xml": APPS}) as sw:
        ev = EventLog(sw)
        a, out = originate(sw, "loopback/vars/apps &park()")
        assert a, out
        b = other_leg(sw, a)
        custom = ev.wait("CUSTOM")
        assert custom[0].get_header("Event-Subclass") == "apps::test"
        assert custom[0].get_header("My-Header") == "hello"
        assert custom[0].get_header("Unique-ID") == b
        get = lambda v: sw.api_execute(f"uuid_getvar {b} {v}")  # noqa: E731
        assert get("m1") == "one" and get("m2") == "two words"
        assert get("c1") == "x" and get("c2") == "y"
        assert get("exp_both") == "1"
        assert get("exp_remote") == "_undef_"
        assert "exp_both" in get("export_vars") and "nolocal:exp_remote" in get("export_vars")
        assert get("gone") == "_undef_"
        assert sw.globals.get("app_global") == "g1"
        log = (tmp_path / "log" / "fsd.log").read_text()
        assert "logged by the dialplan" in log
        sw.api_execute("hupall")


def test_respond_sched_transfer_sched_hangup_inline(tmp_path):
    with running_switch(tmp_path, CALL_MODULES, extra_files={"conf/dialplan/apps.xml": APPS}) as sw:
        ev = EventLog(sw)
        a, out = originate(sw, "loopback/sched/apps &park()")
        assert a, out
        b = other_leg(sw, a)
        assert wait_until(lambda: sw.api_execute(f"uuid_getvar {b} m1") == "one", 5)
        a2, out = originate(sw, "loopback/schedhup/apps &park()")
        assert a2, out
        hang = ev.wait("CHANNEL_HANGUP", a2)
        assert hang[0].get_header("Hangup-Cause") == "CALL_REJECTED"
        a3, out = originate(sw, "loopback/inline/apps &park()")
        assert a3, out
        b3 = other_leg(sw, a3)
        assert sw.api_execute(f"uuid_getvar {b3} early_var") == "seen"
        sw.api_execute("hupall")


def test_early_media_from_respond(tmp_path):
    with running_switch(tmp_path, CALL_MODULES, extra_files={"conf/dialplan/apps.xml": APPS}) as sw:
        ev = EventLog(sw)
        # Early media is enough for bridge (not for originate, which waits for answer).
        a, out = originate(sw, "null/caller &bridge(loopback/early/apps)")
        assert a, out
        pm = ev.wait("CHANNEL_PROGRESS_MEDIA")
        assert any(e.get_header("Answer-State") == "early" for e in pm)
        assert ev.wait("CHANNEL_BRIDGE", a)
        sw.api_execute("hupall")
        # B only has early media: the caller gets early media too, never an answer.
        out = sw.api_execute("originate {originate_timeout=2}loopback/bridgeearly/apps &park()")
        assert out == "-ERR NO_ANSWER\n"
        early = [e for e in ev.of("CHANNEL_PROGRESS_MEDIA")
                 if e.get_header("Channel-Name") == "loopback/bridgeearly-a"]
        assert early
        assert not [e for e in ev.of("CHANNEL_ANSWER")
                    if e.get_header("Channel-Name", "").startswith("loopback/bridgeearly")]


def test_uuid_controls_on_a_parked_call(tmp_path):
    with running_switch(tmp_path, CALL_MODULES, extra_files={"conf/dialplan/apps.xml": APPS}) as sw:
        ev = EventLog(sw)
        assert (sw.api_execute("originate {null_enable_auto_answer=false,originate_timeout=1}null/ring &park()")
                == "-ERR NO_ANSWER\n")
        b, out = originate(sw, "null/target &park()")
        assert b, out
        ev.wait("CHANNEL_PARK", b)
        assert sw.api_execute(f"uuid_broadcast {b} set::broadcast_var=1") == "+OK Message sent successfully\n"
        assert wait_until(lambda: sw.api_execute(f"uuid_getvar {b} broadcast_var") == "1")
        assert sw.api_execute(f"uuid_break {b}") == "+OK\n"
        assert sw.api_execute(f"uuid_park {b}") == "+OK\n"
        assert sw.api_execute(f"uuid_answer {b}") == "+OK\n"
        assert sw.api_execute(f"uuid_pre_answer {b}") == "+OK\n"
        assert sw.api_execute(f"uuid_setvar {b} team red") == "+OK\n"
        c, out = originate(sw, "null/other &park()")
        assert c, out
        assert sw.api_execute("hupall NORMAL_CLEARING team red") == \
            "+OK hangup all channels matching [team]=[red] with cause: NORMAL_CLEARING\n"
        assert wait_until(lambda: sw.api_execute(f"uuid_exists {b}") == "false")
        assert sw.api_execute(f"uuid_exists {c}") == "true"
        d = sw.api_execute("show channels as delim |")
        assert d.splitlines()[0].startswith("uuid|direction|created")
        sw.api_execute("hupall")
