"""mod_python's entry points as FreeSWITCH's mod_python3 has them, on a running switch."""

from __future__ import annotations

import os
import time

from fsd.testing import wait_until


def test_application_handler_gets_session_and_args(daemon):
    name = daemon.script("""
from freeswitch import *
def handler(session, args):
    session.answer()
    session.setVariable("py_args", args)
    session.setVariable("py_seen_uuid", session.getVariable("uuid"))
    setGlobalVariable("app_done_" + session.get_uuid(), "1")
""")
    a, b = daemon.call(f"py-{name}~one")
    assert daemon.wait_global(f"app_done_{b}") == "1"
    assert daemon.var(b, "py_args") == "one"
    assert daemon.var(b, "py_seen_uuid") == b
    # the script ended without hanging up: the dialplan went on
    assert wait_until(lambda: daemon.var(b, "after_python") == "1")
    daemon.sw.api_execute(f"uuid_kill {a}")
    assert daemon.gone(b)


def test_api_fsapi_gets_na_stream_env_and_args(daemon):
    name = daemon.script("""
def fsapi(session, stream, env, args):
    stream.write("session=%s args=%s cmd=%s\\n" % (session, args, env.getHeader("API-Command")))
""")
    assert daemon.sw.api_execute("python", f"{name} a b") == "session=na args=a b cmd=python\n"


def test_module_function_selector_and_dotted_function(daemon):
    name = daemon.script("""
def other(session, stream, env, args):
    stream.write("other:" + args)
def dotted(session, stream, env, args):
    stream.write("dotted:" + args)
""")
    assert daemon.sw.api_execute("python", f"{name}::other x") == "other:x"
    # fsd: mod.func when mod.func is no module
    assert daemon.sw.api_execute("python", f"{name}.dotted y") == "dotted:y"


def test_pyrun_runs_runtime_in_its_own_thread(daemon):
    name = daemon.script("""
import threading
from freeswitch import setGlobalVariable
def runtime(args):
    setGlobalVariable("pyrun_result", args + ":" + threading.current_thread().name)
""")
    assert daemon.sw.api_execute("pyrun", f"{name} hello") == "OK\n"
    assert daemon.wait_global("pyrun_result") == "hello:python-run"
    assert daemon.sw.api_execute("pyrun", "") == "USAGE: python </path/to/script>\n"


def test_startup_script_and_xml_handler_from_python_conf(daemon, logs):
    assert daemon.wait_global("py_startup") == "boot"
    el = daemon.sw.config.lookup("directory", "domain", "name", "a.py.example", {"purpose": "t"})
    assert el is not None and el.get("name") == "a.py.example" and el.get("purpose") == "t"
    assert daemon.sw.config.lookup("directory", "domain", "name", "none.example") is None
    assert daemon.sw.config.lookup("directory", "domain", "name", "broken.py.example") is None
    assert "Error Parsing XML Result!" in logs.text()


def test_changed_script_is_picked_up_without_restart(daemon):
    name = daemon.script("def fsapi(s, stream, env, args):\n    stream.write('v1')\n")
    helper = daemon.script("VALUE = 'h1'\n")
    user = daemon.script(f"import {helper}\n"
                         f"def fsapi(s, stream, env, args):\n    stream.write({helper}.VALUE)\n")
    assert daemon.sw.api_execute("python", name) == "v1"
    assert daemon.sw.api_execute("python", user) == "h1"
    time.sleep(0.01)  # a new mtime even on coarse file systems
    daemon.script("def fsapi(s, stream, env, args):\n    stream.write('v2')\n", name)
    daemon.script("VALUE = 'h2'\n", helper)
    for n in (name, helper):
        p = os.path.join(daemon.sw.dirs.scripts, f"{n}.py")
        st = os.stat(p)
        os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    assert daemon.sw.api_execute("python", name) == "v2"
    # a changed module imported by a script is re-read too
    assert daemon.sw.api_execute("python", user) == "h2"


def test_python_expansion_and_hangup_hook_route_through_the_language(daemon):
    name = daemon.script("""
from freeswitch import setGlobalVariable
def fsapi(session, stream, env, args):
    if args == "hookarg":
        setGlobalVariable("pyhook_seen", "%s|%s|%s" % (
            type(session).__name__, env.getHeader("Hangup-Cause"), args))
    else:
        stream.write("EXP-" + args)
""")
    a, b = daemon.call(f"pyexpand-{name}")
    assert wait_until(lambda: daemon.var(b, "expanded") is not None)
    assert daemon.var(b, "expanded") == "EXP-xyz"
    daemon.sw.api_execute(f"uuid_kill {a}")
    assert daemon.gone(b)
    a, b = daemon.call(f"pyhook-{name}")
    assert wait_until(lambda: daemon.var(b, "answered_by_dialplan") == "1")
    daemon.sw.api_execute(f"uuid_kill {b}")
    assert daemon.wait_global("pyhook_seen") == "Session|NORMAL_CLEARING|hookarg"
    assert daemon.gone(a)


def test_hangup_hook_as_mod_func(daemon):
    """``api_hangup_hook=python mod.func`` (fsd addition) calls ``func`` of ``mod``."""
    name = daemon.script("""
from freeswitch import setGlobalVariable
def on_hangup(session, stream, env, args):
    setGlobalVariable("modfunc_hook", env.getHeader("Unique-ID") + ":" + args)
""")
    a, b = daemon.call(f"pyhook-{name}.on_hangup")
    assert wait_until(lambda: daemon.var(b, "answered_by_dialplan") == "1")
    daemon.sw.api_execute(f"uuid_kill {b}")
    assert daemon.wait_global("modfunc_hook") == f"{b}:hookarg"
    assert daemon.gone(a)


def test_session_objects_api_event_consumer_from_python(daemon, logs):
    name = daemon.script("""
import freeswitch
def fsapi(session, stream, env, args):
    api = freeswitch.API()
    stream.write(api.execute("global_getvar", "py_probe") + "|")
    stream.write(api.executeString("eval ok") + "|")
    con = freeswitch.EventConsumer("CUSTOM", "py::probe")
    ev = freeswitch.Event("CUSTOM", "py::probe")
    ev.addHeader("X-Py", "1")
    ev.addBody("body!")
    ev.fire()
    got = con.pop(1, 2000)
    stream.write("%s|%s|%s|" % (got.getHeader("X-Py"), got.getBody(), got.getType()))
    e2 = freeswitch.Event(env.serialize("json") and "CUSTOM", "py::x")
    stream.write(str(env.fire()))
    freeswitch.consoleLog("info", "python says hi\\n")
""")
    daemon.sw.globals.set("py_probe", "probe")
    out = daemon.sw.api_execute("python", name)
    assert out == "probe|ok|1|body!|CUSTOM|False", out
    text = logs.text()
    assert "python says hi" in text and "Not My event!" in text


def test_python_list_and_kill_usage(daemon):
    assert daemon.sw.api_execute("python_list").startswith("id,script,uuid,thread,seconds\n")
    assert daemon.sw.api_execute("python_kill", "x").startswith("-ERR Usage: python_kill")
    assert daemon.sw.api_execute("python_kill", "999999").startswith("-ERR no running script")
    assert "python" in daemon.sw.languages and daemon.sw.languages["python"].extensions == (".py",)



def test_session_constructor_originates_and_attaches(daemon):
    name = daemon.script("""
from freeswitch import Session
def fsapi(session, stream, env, args):
    leg = Session("loopback/parked/t")
    stream.write("%s %s|" % (leg.ready(), leg.answered()))
    again = Session(leg.get_uuid())          # an existing channel by UUID
    stream.write(again.getVariable("uuid") == leg.get_uuid() and "same|" or "other|")
    other = Session()
    stream.write("%s|" % other.originate(None, "loopback/parked/t", 10))
    stream.write("%s|" % other.ready())
    empty = Session()
    stream.write("%s %s" % (empty.ready(), empty.get_uuid()))
    # leg and other were originated here: hung up when the script ends
""")
    out = daemon.sw.api_execute("python", name)
    assert out == "True True|same|0|True|False uninitialized", out
    assert wait_until(lambda: not any("parked" in (s.name or "")
                                      for s in list(daemon.sw.sessions.values())), 10)


def test_chat_application_calls_chat(daemon):
    from fsd.events import Event

    name = daemon.script("""
from freeswitch import setGlobalVariable
def chat(message, args):
    setGlobalVariable("py_chat", message.getBody() + "|" + args + "|" + str(message.fire()))
""")
    msg = Event("MESSAGE")
    msg.add_body("hi there")
    daemon.sw.chat_applications["python"].func(msg, f"{name} extra")
    assert daemon.wait_global("py_chat") == "hi there|extra|False"


def test_hangup_hook_sees_a_transfer(daemon):
    name = daemon.script("""
from freeswitch import setGlobalVariable
def hook(session, what, arg):
    setGlobalVariable("py_xfer_hook", what + ":" + arg)
def handler(session, args):
    session.answer()
    session.setHangupHook(hook, "myarg")
    session.transfer("parked", "XML", "t")
""")
    a, b = daemon.call(f"py-{name}")
    assert daemon.wait_global("py_xfer_hook") == "transfer:myarg"
    assert wait_until(lambda: daemon.var(b, "destination_number") == "parked" or
                      b not in daemon.sw.sessions)
    daemon.sw.api_execute(f"uuid_kill {a}")
    assert daemon.gone(b)
