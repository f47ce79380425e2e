"""ivr.py: the demo IVR of the default dialplan (extension 5001), the Python twin of
ivr.lua (extension 5000). Answers, plays a prompt, collects up to 4 digits (end with #),
looks the entry up in a small SQLite table, announces the result with an event, and hangs
up. Works without sound files: the prompts are generated tones. See docs/python.md."""

from freeswitch import Dbh, Event, consoleLog

PROMPT = "tone_stream://%(400,200,440);%(400,0,480)"
OK_TONE = "tone_stream://%(200,0,660)"


def on_hangup(session, what):
    consoleLog("info", f"ivr.py: caller left ({what})\n")


def handler(session, args):
    session.setHangupHook(on_hangup)
    session.answer()
    session.sleep(200)

    dbh = Dbh("sqlite://ivr_demo")
    dbh.test_reactive("select count(*) from ivr_options",
                      "drop table if exists ivr_options",
                      "create table ivr_options (digits text primary key, label text)")
    dbh.query("insert or ignore into ivr_options values ('1', 'sales'), ('2', 'support'), "
              "('1234', 'operator')")

    session.streamFile(PROMPT)
    digits = session.getDigits(4, "#", 5000, 3000)

    quoted = digits.replace("'", "''")
    ok, rows, _err = dbh.query_rows(f"select label from ivr_options where digits = '{quoted}'")
    label = rows[0]["label"] if ok and rows else "unknown"
    dbh.release()

    session.setVariable("ivr_choice", label)
    if label != "unknown":
        session.streamFile(OK_TONE)

    ev = Event("CUSTOM", "ivr::choice")
    ev.addHeader("IVR-Digits", digits)
    ev.addHeader("IVR-Choice", label)
    ev.addHeader("Unique-ID", session.get_uuid())
    ev.fire()

    consoleLog("notice", f"ivr.py: {session.get_uuid()} chose [{digits}] -> {label}\n")
    session.hangup()
