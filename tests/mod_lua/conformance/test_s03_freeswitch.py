"""Behaviour reference §3 — `freeswitch.*` module functions (table rows) and §3.1
`freeswitch.email`, through the running daemon (mail via msmtp to a real SMTP server)."""

from __future__ import annotations

import email
import os
import time

from fsd.log import DEBUG, ERR, INFO, NOTICE, WARNING
from fsd.testing import wait_until


def _recs(logs, text):
    return [r for r in logs if text in r.text]


def test_3_consoleLog_levels_verbatim(lua, logs):
    """§3 consoleLog(level, msg): msg verbatim, no newline added; level names any case
    (console…debug, 0–7), numeric strings clamped (>64 → 63, <0 → 0); unknown names and nil
    fall back to debug."""
    lua('freeswitch.consoleLog("INFO", "c3-info") freeswitch.consoleLog("Warning", "c3-warn\\n") '
        'freeswitch.consoleLog("error", "c3-unknown") freeswitch.consoleLog(nil, "c3-nil") '
        'freeswitch.consoleLog("5", "c3-five") freeswitch.consoleLog("-3", "c3-neg") '
        'freeswitch.consoleLog("notice", "c3-notice")')
    assert _recs(logs, "c3-info")[0].level == INFO and _recs(logs, "c3-info")[0].text == "c3-info"
    assert _recs(logs, "c3-warn")[0].level == WARNING and _recs(logs, "c3-warn")[0].text == "c3-warn\n"
    assert _recs(logs, "c3-unknown")[0].level == DEBUG
    assert _recs(logs, "c3-nil")[0].level == DEBUG
    assert _recs(logs, "c3-five")[0].level == 5 == NOTICE
    assert _recs(logs, "c3-neg")[0].level == 0
    assert _recs(logs, "c3-notice")[0].level == NOTICE


def test_3_consoleLog2_explicit_location(lua, logs):
    """§3 consoleLog2(level, file, func, line, msg) logs with that source location."""
    lua('freeswitch.consoleLog2("err", "my.lua", "myfunc", 77, "c3-log2")')
    r = _recs(logs, "c3-log2")[0]
    assert (r.level, r.file, r.func, r.line) == (ERR, "my.lua", "myfunc", 77)


def test_3_consoleCleanLog_debug_without_prefix(lua, logs):
    """§3 consoleCleanLog(msg) logs without the prefix (a clean record), at debug."""
    lua('freeswitch.consoleCleanLog("c3-clean")')
    r = _recs(logs, "c3-clean")[0]
    assert r.level == DEBUG and r.clean is True


def test_3_old_aliases(lua, logs):
    """§3 console_log, console_log2, console_clean_log are aliases of the three above."""
    lua('freeswitch.console_log("info", "c3-a1") freeswitch.console_log2("info", "f", "g", 1, "c3-a2") '
        'freeswitch.console_clean_log("c3-a3")')
    assert _recs(logs, "c3-a1") and _recs(logs, "c3-a2") and _recs(logs, "c3-a3")[0].clean


def test_3_getGlobalVariable(daemon, lua):
    """§3 getGlobalVariable(name) → the core global or nil."""
    daemon.sw.api_execute("global_setvar", "c3_gv=hello")
    assert lua('stream:write(freeswitch.getGlobalVariable("c3_gv") .. "|" .. '
               'tostring(freeswitch.getGlobalVariable("c3_missing")))') == "hello|nil"


def test_3_setGlobalVariable_nil_deletes(daemon, lua):
    """§3 setGlobalVariable(name, value); a nil value deletes the variable."""
    lua('freeswitch.setGlobalVariable("c3_sv", "v1")')
    assert daemon.sw.api_execute("global_getvar", "c3_sv") == "v1"
    lua('freeswitch.setGlobalVariable("c3_sv", nil)')
    assert daemon.sw.globals.get("c3_sv") is None


def test_3_running_boolean(lua):
    """§3 running() → boolean, whether the core is running."""
    assert lua('stream:write(type(freeswitch.running()) .. tostring(freeswitch.running()))') == "booleantrue"


def test_3_msleep_blocks_without_media(lua):
    """§3 msleep(ms) blocks the calling thread for ms milliseconds."""
    t0 = time.monotonic()
    lua('freeswitch.msleep(300)')
    assert time.monotonic() - t0 >= 0.29


def test_3_bridge_not_ready_and_bridged(daemon, call, logs):
    """§3 bridge(sessA, sessB): both must be ready, else "Channels not ready"; then it
    blocks in a two-way bridge until it ends."""
    name = daemon.script('local a = freeswitch.Session() local b = freeswitch.Session() '
                         'freeswitch.bridge(a, b) R("done", 1)')
    daemon.sw.api_execute("lua", f"{name}.lua")
    assert daemon.result(name, "done") == "1"
    assert _recs(logs, "Channels not ready")
    name, a, b = call('local leg = freeswitch.Session("loopback/answer/c") R("leg", leg:get_uuid()) '
                      'freeswitch.bridge(session, leg) R("after", "1")')
    leg = daemon.result(name, "leg")
    assert wait_until(lambda: daemon.session(b) is not None and daemon.session(b).bridged())
    assert daemon.sw.globals.get(f"{name}_after") is None  # still inside the bridge
    daemon.sw.api_execute(f"uuid_kill {leg}")
    assert daemon.result(name, "after") == "1"


def test_3_constructors_and_constants(lua):
    """§3 Constructors Session, Event, EventConsumer, API, Stream, Dbh, JSON, IVRMenu, DTMF;
    constants S_HUP=1, S_FREE=2, S_RDLOCK=4; hanguphook/dtmf_callback exist."""
    out = lua('local t = {} for _, n in ipairs({"Session","Event","EventConsumer","API","Stream","Dbh",'
              '"JSON","IVRMenu","DTMF"}) do t[#t+1] = type(freeswitch[n]) end '
              'stream:write(table.concat(t, ",") .. "|" .. freeswitch.S_HUP .. freeswitch.S_FREE .. freeswitch.S_RDLOCK'
              ' .. "|" .. type(freeswitch.hanguphook) .. type(freeswitch.dtmf_callback))')
    assert out == ",".join(["table"] * 9) + "|124|functionfunction"


# -- §3.1 freeswitch.email -----------------------------------------------------------------
def test_3_1_email_two_to_seven_args_true_on_success(daemon, lua):
    """§3.1 2 to 7 arguments; returns true on success (a real mail reaches the server)."""
    n = len(daemon.smtp.mails)
    out = lua('stream:write(tostring(freeswitch.email("c31@example.org", "pbx@example.org", '
              '"Subject: c31 hello", "body text")))')
    assert out == "true"
    mail = daemon.smtp.wait_for(n + 1)[n]
    assert mail.rcpt_tos == ["c31@example.org"] and mail.mail_from == "pbx@example.org"
    msg = email.message_from_bytes(mail.data)
    assert msg["Subject"] == "c31 hello" and "body text" in msg.get_payload()
    assert "expected 2..7 args, got 1" in lua('local ok, e = pcall(freeswitch.email, "a@b") stream:write(e)')
    assert "expected 2..7 args, got 8" in lua(
        'local ok, e = pcall(freeswitch.email, "a", "b", "c", "d", "e", "f", "g", "h") stream:write(e)')


def test_3_1_email_only_to_mandatory(daemon, lua, logs):
    """§3.1 An empty `to` gives false with "No to address specified"; an empty `from`
    becomes `freeswitch`; headers and body are optional."""
    assert lua('stream:write(tostring(freeswitch.email("", "x@example.org")))') == "false"
    assert _recs(logs, "No to address specified")
    n = len(daemon.smtp.mails)
    assert lua('stream:write(tostring(freeswitch.email("c31b@example.org", "")))') == "true"
    mail = daemon.smtp.wait_for(n + 1)[n]
    assert mail.mail_from == "freeswitch" and mail.rcpt_tos == ["c31b@example.org"]


def test_3_1_email_conversion_and_attachment(daemon, lua, tmp_path):
    """§3.1 With file, convert_cmd and convert_ext, `<cmd> <file> <file.ext>` runs and the
    converted file is attached and then deleted; attachments are base64 (72-char lines) in a
    multipart with boundary XXXX_boundary_XXXX, MIME type from the extension."""
    src = tmp_path / "message.wav"
    src.write_bytes(b"RIFF" + bytes(range(256)) * 4)
    n = len(daemon.smtp.mails)
    out = lua(f'stream:write(tostring(freeswitch.email("c31c@example.org", "pbx@example.org", '
              f'"Subject: vm", "You have mail", "{src}", "cp", "txt")))')
    assert out == "true"
    mail = daemon.smtp.wait_for(n + 1)[n]
    raw = mail.data.decode()
    assert "XXXX_boundary_XXXX" in raw
    msg = email.message_from_bytes(mail.data)
    parts = [p for p in msg.walk() if p.get_filename()]
    assert [p.get_filename() for p in parts] == ["message.txt"]
    assert parts[0].get_payload(decode=True) == src.read_bytes()
    b64_lines = [ln for ln in parts[0].get_payload().splitlines() if ln]
    assert max(len(ln) for ln in b64_lines) <= 72
    assert not (tmp_path / "message.txt").exists() and src.exists()


def test_3_1_email_temp_file_removed_and_piped_to_mailer(daemon, lua):
    """§3.1 The message goes through a temp file <temp>/mail.<epoch><hex>, piped to
    `<mailer-app> -f <from> <args> <to>` (here msmtp); the temp file is deleted."""
    n = len(daemon.smtp.mails)
    assert lua('stream:write(tostring(freeswitch.email("c31d@example.org", "me@example.org", "", "plain")))') == "true"
    mail = daemon.smtp.wait_for(n + 1)[n]
    assert mail.mail_from == "me@example.org"
    assert not email.message_from_bytes(mail.data).is_multipart()
    leftovers = [f for f in os.listdir(daemon.sw.dirs.temp) if f.startswith("mail.")]
    assert leftovers == []


def test_3_1_email_sending_uses_mailer_app_setting(daemon):
    """§3.1 mailer-app / mailer-app-args come from switch.conf.xml settings (defaults
    sendmail, -t)."""
    from fsd.services import MAILER

    m = daemon.sw.services.get(MAILER)
    assert m.settings.mailer_app == "msmtp" and m.settings.mailer_app_args.endswith("-t")
    from fsd_modules.mod_email.settings import MailerSettings

    assert (MailerSettings().mailer_app, MailerSettings().mailer_app_args) == ("sendmail", "-t")
