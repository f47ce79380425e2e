"""The message layout of §3.1 byte for byte, settings parsing, and the spool's
crash-safety at load."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from fsd_modules.mod_email.message import BOUNDARY, base64_lines, build_message, mime_type_for
from fsd_modules.mod_email.settings import DEFAULT_RETRY, settings_from_config
from fsd_modules.mod_email.spool import Spool, SpoolEntry
from lxml import etree

CONF = Path(__file__).resolve().parents[2] / "conf" / "autoload" / "email.conf.xml"


def test_plain_layout():
    assert build_message("Subject: a\nX-B: c", "hello") == b"Subject: a\nX-B: c\n\nhello"


def test_multipart_layout_with_attachment():
    data = bytes(range(200))
    msg = build_message("Subject: vm", "text", ("/var/vm/msg.wav", data)).decode()
    b64 = base64.b64encode(data).decode()
    expected = (
        "MIME-Version: 1.0\n"
        f'Content-Type: multipart/mixed; boundary="{BOUNDARY}"\n'
        "Subject: vm\n\n"
        f"--{BOUNDARY}\nContent-Type: text/plain\n\ntext"
        f"\n\n--{BOUNDARY}\n"
        'Content-Type: audio/x-wav; name="msg.wav"\n'
        "Content-ID: <ATTACHED@freeswitch.org>\n"
        "Content-Transfer-Encoding: base64\n"
        "Content-Description: Sound attachment.\n"
        'Content-Disposition: attachment; filename="msg.wav"\n\n'
        + "\n".join(b64[i : i + 72] for i in range(0, len(b64), 72))
        + f"\n\n--{BOUNDARY}--\n"
    )
    assert msg == expected


def test_body_with_content_type_switches_to_multipart_case_insensitively():
    msg = build_message("", "CONTENT-TYPE: text/html\n\n<p>x</p>").decode()
    assert msg.startswith("MIME-Version: 1.0\n")
    assert f"--{BOUNDARY}\nCONTENT-TYPE: text/html" in msg
    assert "text/plain" not in msg


def test_base64_lines_are_72():
    text = base64_lines(b"x" * 1000)
    lines = text.split("\n")
    assert all(len(x) == 72 for x in lines[:-1]) and 0 < len(lines[-1]) <= 72
    assert base64.b64decode(text.replace("\n", "")) == b"x" * 1000
    assert base64_lines(b"") == ""


def test_mime_types():
    assert mime_type_for("a.wav") == "audio/x-wav"
    assert mime_type_for("a.WAV") == "audio/x-wav"
    assert mime_type_for("a.mp3") == "audio/mpeg"
    assert mime_type_for("a.ogg") == "audio/ogg"
    assert mime_type_for("a.pdf") == "application/pdf"
    assert mime_type_for("a.unknownext") == "audio/inline"
    assert mime_type_for("noext") == "audio/inline"
    assert mime_type_for("/dir.with.dots/noext") == "audio/inline"


def test_shipped_conf_defaults_to_sendmail_mode():
    conf = etree.parse(str(CONF)).getroot()
    s = settings_from_config({}, conf)
    assert s.mode == "sendmail"
    assert s.mailer_app == "sendmail" and s.mailer_app_args == "-t"
    assert s.smtp_port == 25
    assert s.retry_schedule == DEFAULT_RETRY


def test_switch_settings_and_smtp_conf():
    conf = etree.fromstring(
        '<configuration name="email.conf"><settings>'
        '<param name="mode" value="smtp"/><param name="host" value="mx.example.org"/>'
        '<param name="tls" value="true"/><param name="user" value="u"/>'
        '<param name="password" value="p"/><param name="timeout" value="2.5"/>'
        '<param name="retry-schedule" value="1, 2,3"/><param name="default-from" value="pbx@x.org"/>'
        '<param name="timeout" value="-4"/><param name="bogus" value="1"/>'
        "</settings></configuration>"
    )
    s = settings_from_config({"mailer-app": "/usr/bin/msmtp", "mailer-app-args": ""}, conf)
    assert s.mode == "smtp" and s.host == "mx.example.org" and s.tls and s.smtp_port == 465
    assert (s.user, s.password, s.default_from) == ("u", "p", "pbx@x.org")
    assert s.timeout == 2.5  # the later bad value was refused with a warning
    assert s.retry_schedule == (1.0, 2.0, 3.0)
    assert s.mailer_app == "/usr/bin/msmtp" and s.mailer_app_args == ""


def test_no_conf_at_all():
    s = settings_from_config(None, None)
    assert s.mode == "sendmail" and s.mailer_app == "sendmail" and s.mailer_app_args == "-t"


def test_spool_load_handles_debris(tmp_path, logs):
    d = tmp_path / "spool"
    sp = Spool(str(d), fsync=False)
    src = tmp_path / "m"
    src.write_bytes(b"Subject: x\n\nbody")
    good = SpoolEntry("1-good", "a@x.org", ["b@x.org"], attempts=2, next_try=5.0, last_error="e")
    sp.add(str(src), good)
    # debris a crash could leave
    (d / "2-orphan.eml").write_bytes(b"half")  # message without metadata
    (d / "3-nomsg.json").write_text(
        json.dumps({"id": "3-nomsg", "sender": "a", "recipients": ["b"]})
    )
    (d / "4-bad.json").write_text("{not json")
    (d / "4-bad.eml").write_bytes(b"x")
    (d / "5-x.json.tmp").write_text("partial")
    sp2 = Spool(str(d), fsync=False)
    assert sp2.load() == 1
    (e,) = sp2.entries()
    assert (e.id, e.sender, e.recipients, e.attempts, e.last_error) == (
        "1-good",
        "a@x.org",
        ["b@x.org"],
        2,
        "e",
    )
    assert sorted(sp2.failed()) == ["2-orphan", "3-nomsg", "4-bad"]
    assert not (d / "5-x.json.tmp").exists()
    assert Path(sp2.message_path("1-good")).read_bytes() == b"Subject: x\n\nbody"
    assert oct(os.stat(sp2.message_path("1-good")).st_mode & 0o777) == "0o600"
    assert any("moving it to failed/" in line for line in logs)
