# The IVR of tests/mod_python/test_twin_ivr.py, in Python (its twin is twin_ivr.lua).
from freeswitch import Dbh, Event


def twin_hook(session, what):
    e = Event("CUSTOM", "twin::hook")
    e.addHeader("What", what)
    e.addHeader("Call", session.get_uuid())
    e.fire()


def twin_cb(session, what, obj):
    if what == "dtmf":
        session.setVariable("twin_cb_digit", obj.digit)
        return "break"


def handler(session, args):
    session.answer()
    session.setHangupHook(twin_hook)
    session.setInputCallback(twin_cb)
    session.setVariable("twin_playing", "1")
    session.streamFile("tone_stream://%(10000,0,440);loops=20")
    session.unsetInputCallback()
    cb = session.getVariable("twin_cb_digit") or ""
    session.setVariable("twin_wait_digits", "1")
    digits = session.getDigits(5, "#", 5000)

    dbh = Dbh("sqlite://twin_py")
    dbh.query("create table if not exists presses (cb text, digits text)")
    dbh.query(f"insert into presses values ('{cb}', '{digits}')")
    rows = []
    dbh.query("select count(*) as n from presses", lambda row: rows.append(row["n"]))
    dbh.release()

    e = Event("CUSTOM", "twin::result")
    e.addHeader("Call", session.get_uuid())
    e.addHeader("CB-Digit", cb)
    e.addHeader("Digits", digits)
    e.addHeader("Rows", str(rows[-1]))
    e.fire()
    session.hangup()
