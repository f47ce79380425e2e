"""Calls through the API as a user drives them: originate, dialplan, hooks, causes."""

from __future__ import annotations

import time

from fsd.testing import originate, other_leg, wait_until


def test_captures_into_actions(sw):
    a, out = originate(sw, "loopback/cap12-34/t &park()")
    assert a, out
    b = other_leg(sw, a)
    assert wait_until(lambda: sw.api_execute(f"uuid_getvar {b} second") == "34")
    assert sw.api_execute(f"uuid_getvar {b} first") == "12"
    assert sw.api_execute(f"uuid_kill {a}") == "+OK\n"


def test_anti_actions_and_time_conditions(sw):
    a, out = originate(sw, "loopback/anti/t &park()")
    assert a, out
    b = other_leg(sw, a)
    assert wait_until(lambda: sw.api_execute(f"uuid_getvar {b} branch") == "anti")
    a2, out = originate(sw, "loopback/timed/t &park()")
    assert a2, out
    b2 = other_leg(sw, a2)
    assert wait_until(lambda: sw.api_execute(f"uuid_getvar {b2} tod") == "not1999")
    sw.api_execute("hupall")


def test_transfer_reenters_routing(sw, events):
    a, out = originate(sw, "loopback/xfer/t &park()")
    assert a, out
    b = other_leg(sw, a)
    assert wait_until(lambda: sw.api_execute(f"uuid_getvar {b} second") == "8")
    assert sw.api_execute(f"uuid_getvar {b} before_transfer") == "1"
    assert sw.api_execute(f"uuid_getvar {b} never_reached") == "_undef_"
    assert sw.api_execute(f"uuid_getvar {b} destination_number") == "cap7-8"
    # uuid_transfer from the API too
    assert sw.api_execute(f"uuid_transfer {b} anti XML t") == "+OK\n"
    assert wait_until(lambda: sw.api_execute(f"uuid_getvar {b} branch") == "anti")
    sw.api_execute(f"uuid_kill {a}")


def test_unknown_application_hangs_up_destination_out_of_order(sw, events):
    a, out = originate(sw, "loopback/badapp/t &park()")
    assert a, out
    hang = events.wait("CHANNEL_HANGUP_COMPLETE", a)
    assert hang[0].get_header("Hangup-Cause") == "DESTINATION_OUT_OF_ORDER"
    assert hang[0].get_header("variable_hangup_cause_q850") == "27"


def test_api_hangup_hook_gets_env(sw):
    a, out = originate(sw, "loopback/hook/t &park()")
    assert a, out
    sw.api_execute(f"uuid_kill {a} USER_BUSY")
    assert wait_until(lambda: sw.globals.get("hook_saw") == "custom42/USER_BUSY")


def test_api_hook_env_contents(sw, events):
    a, out = originate(sw, "{api_hangup_hook='echo x',my_var=abc}null/env &park()")
    assert a, out
    sw.api_execute(f"uuid_kill {a}")
    data = events.wait("CHANNEL_DATA", a)
    env = data[0]
    assert env.get_header("my_var") == "abc"
    assert env.get_header("variable_my_var") == "abc"
    assert env.get_header("hangup_cause") == "NORMAL_CLEARING"
    assert env.get_header("Channel-Name") == "null/env"
    assert env.get_header("Event-Name") is None  # no standard headers in env
    assert env.get_header("API-Command") == "echo"


def test_failed_originate_causes(sw):
    assert sw.api_execute("originate error/user_busy &park()") == "-ERR USER_BUSY\n"
    assert sw.api_execute("originate error/17 &park()") == "-ERR USER_BUSY\n"
    assert sw.api_execute("originate loopback/busy/t &park()") == "-ERR USER_BUSY\n"
    t0 = time.time()
    assert sw.api_execute("originate {originate_timeout=1}loopback/ring/t &park()") == "-ERR NO_ANSWER\n"
    assert time.time() - t0 < 4
    assert sw.api_execute("originate null/cause-CALL_REJECTED &park()") == "-ERR CALL_REJECTED\n"
    assert sw.api_execute("originate nosuchtech/x &park()") == "-ERR CHAN_NOT_IMPLEMENTED\n"


def test_sequential_and_simultaneous_targets(sw):
    a, out = originate(sw, "error/user_busy|null/second &park()")
    assert a, out
    assert sw.api_execute(f"uuid_getvar {a} channel_name") == "null/second"
    a2, out = originate(sw, "error/user_busy,null/sim &park()")
    assert a2, out
    sw.api_execute("hupall")


def test_malformed_dial_strings(sw):
    assert sw.api_execute("originate {unterminated=1 &park()").startswith(("-ERR", "-USAGE"))
    assert sw.api_execute("originate noslash &park()").startswith("-ERR")
    assert sw.api_execute("originate null/x").startswith("-USAGE")
    assert sw.api_execute("originate null/x &no_such_app()").startswith("-ERR Invalid Application")
    assert sw.api_execute("originate {a}null/x &park()").startswith("-ERR")


def test_unknown_uuids(sw):
    fake = "00000000-0000-0000-0000-000000000000"
    for cmd in ("uuid_kill", "uuid_getvar", "uuid_transfer", "uuid_break", "uuid_park",
                "uuid_answer", "uuid_dump"):
        args = f"{fake} x" if cmd in ("uuid_getvar", "uuid_transfer") else fake
        assert sw.api_execute(f"{cmd} {args}") == "-ERR No such channel!\n", cmd
    assert sw.api_execute(f"uuid_exists {fake}") == "false"
    assert sw.api_execute("uuid_kill").startswith("-USAGE")


def test_extension_end_hangs_up_normal_clearing(sw, events):
    a, out = originate(sw, "loopback/end/t &park()")
    assert a, out
    hang = events.wait("CHANNEL_HANGUP_COMPLETE", a)
    assert hang[0].get_header("Hangup-Cause") == "NORMAL_CLEARING"


def test_no_route_and_bad_regex(sw, events):
    assert sw.api_execute("originate loopback/nothing-matches/t &park()") == "-ERR NO_ROUTE_DESTINATION\n"
    assert sw.api_execute("originate loopback/unclosed/t &park()") == "-ERR NO_ROUTE_DESTINATION\n"
    assert sw.api_execute("originate loopback/x/nosuchcontext &park()") == "-ERR NO_ROUTE_DESTINATION\n"


def test_bridge_and_continue_on_fail(sw, events):
    a, out = originate(sw, "loopback/bridgefail/t &park()")
    assert a, out
    b = other_leg(sw, a)
    assert wait_until(lambda: sw.api_execute(f"uuid_getvar {b} after_fail") == "USER_BUSY")
    assert sw.api_execute(f"uuid_getvar {b} bridge_hangup_cause") == "USER_BUSY"
    sw.api_execute(f"uuid_kill {a}")
    a, out = originate(sw, "loopback/bridgenull/t &park()")
    assert a, out
    b = other_leg(sw, a)
    br = events.wait("CHANNEL_BRIDGE", b)
    inner = br[0].get_header("Bridge-B-Unique-ID")
    assert sw.api_execute(f"uuid_exists {inner}") == "true"
    sw.api_execute(f"uuid_kill {inner}")
    hang = events.wait("CHANNEL_HANGUP_COMPLETE", b)
    assert hang[0].get_header("Hangup-Cause") == "NORMAL_CLEARING"
    assert events.wait("CHANNEL_UNBRIDGE", b)


def test_event_sequence_for_a_call(sw, events):
    a, out = originate(sw, "null/seq &park()")
    assert a, out
    events.wait("CHANNEL_PARK", a)
    sw.api_execute(f"uuid_kill {a}")
    events.wait("CHANNEL_DESTROY", a)
    names = [e.name for e in events.events if e.get_header("Unique-ID") == a]
    order = ["CHANNEL_CREATE", "CHANNEL_OUTGOING", "CHANNEL_ANSWER", "CHANNEL_ORIGINATE",
             "CHANNEL_EXECUTE", "CHANNEL_PARK",
             "CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE", "CHANNEL_DESTROY"]
    positions = [names.index(n) for n in order]
    assert positions == sorted(positions), names
    ans = events.of("CHANNEL_ANSWER", a)[0]
    assert ans.get_header("Answer-State") == "answered"
    assert ans.get_header("Caller-Destination-Number") == "seq"
    assert ans.get_header("Call-Direction") == "outbound"
    assert ans.get_header("variable_channel_name") == "null/seq"


def test_max_sessions_and_sps(sw):
    sw.api_execute("fsctl max_sessions 1")
    a, out = originate(sw, "null/one &park()")
    assert a, out
    assert sw.api_execute("originate null/two &park()") == "-ERR DESTINATION_OUT_OF_ORDER\n"
    sw.api_execute("hupall")
    assert wait_until(lambda: not sw.sessions)
    sw.api_execute("fsctl max_sessions 1000")
    sw.api_execute("fsctl sps 2")
    time.sleep(1.1)
    results = [sw.api_execute("originate null/s &park()") for _ in range(4)]
    assert sum(r.startswith("+OK") for r in results) == 2
    assert results[-1] == "-ERR DESTINATION_OUT_OF_ORDER\n"
    sw.api_execute("hupall")


def test_variables_lookup_order_and_setvar(sw):
    a, out = originate(sw, "{origination_caller_id_number=5551234}null/vars &park()")
    assert a, out
    assert sw.api_execute(f"uuid_getvar {a} caller_id_number") == "5551234"
    assert sw.api_execute(f"uuid_getvar {a} destination_number") == "vars"
    assert sw.api_execute(f"uuid_getvar {a} default_password") == "1234"  # global fallback
    assert sw.api_execute(f"uuid_setvar {a} foo bar") == "+OK\n"
    assert sw.api_execute(f"uuid_getvar {a} foo") == "bar"
    assert sw.api_execute(f"uuid_setvar_multi {a} x=1;y=2") == "+OK\n"
    assert sw.api_execute(f"uuid_getvar {a} y") == "2"
    assert sw.api_execute(f"eval uuid:{a} ${{x}}-${{y}}-${{destination_number}}") == "1-2-vars"
    dump = sw.api_execute(f"uuid_dump {a}")
    assert "variable_foo: bar" in dump
    assert sw.api_execute(f"uuid_exists {a}") == "true"
    sw.api_execute(f"uuid_kill {a}")


def test_show_calls_and_counts(sw):
    a, out = originate(sw, "loopback/cap1-2/t &park()")
    assert a, out
    assert wait_until(lambda: "2 total." in sw.api_execute("show channels"))
    assert sw.api_execute("show channels count") == "\n2 total.\n"
    import json

    j = json.loads(sw.api_execute("show channels as json"))
    assert j["row_count"] == 2 and {r["name"] for r in j["rows"]} == {"loopback/cap1-2-a", "loopback/cap1-2-b"}
    assert sw.api_execute("status").splitlines()[3].startswith("2 session(s)")
    sw.api_execute("hupall")
    assert wait_until(lambda: sw.api_execute("show channels") == "\n0 total.\n")


def test_dtmf_via_uuid_recv_dtmf_and_send(sw, events):
    a, out = originate(sw, "loopback/cap5-6/t &park()")
    assert a, out
    b = other_leg(sw, a)
    assert sw.api_execute(f"uuid_recv_dtmf {b} 12#") == "+OK Success\n"
    dt = events.wait("DTMF", b)
    assert [e.get_header("DTMF-Digit") for e in events.of("DTMF", b)] == ["1", "2", "#"]
    assert dt[0].get_header("DTMF-Duration")
    # sending DTMF out of the a-leg arrives at the b-leg
    sw.api_execute(f"uuid_send_dtmf {a} 9")
    assert wait_until(lambda: any(e.get_header("DTMF-Digit") == "9" for e in events.of("DTMF", b)))
    sw.api_execute(f"uuid_kill {a}")


def test_execute_on_answer_and_api_expansion(sw):
    a, out = originate(sw, "{execute_on_answer='set answered_flag=yes'}null/eoa &park()")
    assert a, out
    assert wait_until(lambda: sw.api_execute(f"uuid_getvar {a} answered_flag") == "yes")
    sw.api_execute(f"uuid_setvar {a} greet ${{echo(hello)}}")
    assert sw.api_execute(f"eval uuid:{a} ${{echo(from ${{destination_number}})}}") == "from eoa"
    sw.api_execute(f"uuid_kill {a}")


def test_sched_api_and_sched_hangup(sw, events):
    a, out = originate(sw, "null/sched &park()")
    assert a, out
    assert sw.api_execute(f"sched_api +0.2 none uuid_kill {a} ALLOTTED_TIMEOUT").startswith("+OK Added:")
    hang = events.wait("CHANNEL_HANGUP", a)
    assert hang[0].get_header("Hangup-Cause") == "ALLOTTED_TIMEOUT"
