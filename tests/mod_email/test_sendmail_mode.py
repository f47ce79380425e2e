"""Sendmail mode through a real sendmail-compatible program (msmtp) relaying to a real
SMTP server (aiosmtpd)."""

from __future__ import annotations

import email
import os
import struct
import sys
import wave

import pytest
from fsd_modules.mod_email.message import BOUNDARY


def _mailer(make_mailer, msmtprc, args="-t"):
    return make_mailer(mailer_app="msmtp", mailer_app_args=f"-C {msmtprc} {args}".strip())


def _write_wav(path, seconds=0.3):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        n = int(8000 * seconds)
        w.writeframes(b"".join(struct.pack("<h", (i * 37) % 2000 - 1000) for i in range(n)))
    return path


def test_plain_mail(make_mailer, msmtprc, smtp_server, tmp_path, logs):
    m = _mailer(make_mailer, msmtprc)
    ok = m.send(
        "alice@example.org",
        "pbx@example.org",
        "Subject: hello\nTo: alice@example.org",
        "Hi Alice\n",
    )
    assert ok is True
    (mail,) = smtp_server.wait_for(1)
    assert mail.mail_from == "pbx@example.org"
    assert "alice@example.org" in mail.rcpt_tos
    msg = email.message_from_bytes(mail.data)
    assert msg["Subject"] == "hello"
    assert not msg.is_multipart()
    assert msg.get_payload().strip() == "Hi Alice"
    # the temp file mail.<epoch><4 hex> is gone and nothing was spooled
    assert os.listdir(tmp_path / "temp") == []
    assert len(m.spool) == 0
    assert any("Emailed data to [alice@example.org]" in line for line in logs)


def test_argv_is_freeswitch_order(make_mailer, msmtprc):
    m = _mailer(make_mailer, msmtprc)
    argv = m.transport.argv("me@x.org", ["a@x.org", "b@x.org"])
    assert argv == ["msmtp", "-f", "me@x.org", "-C", msmtprc, "-t", "a@x.org", "b@x.org"]


def test_empty_from_is_freeswitch(make_mailer, msmtprc, smtp_server):
    m = _mailer(make_mailer, msmtprc, args="")
    assert m.send("bob@example.org", "", "", "body only")
    (mail,) = smtp_server.wait_for(1)
    assert mail.mail_from == "freeswitch"
    assert mail.rcpt_tos == ["bob@example.org"]


def test_headers_and_body_optional(make_mailer, msmtprc, smtp_server):
    m = _mailer(make_mailer, msmtprc, args="")
    assert m.send("bob@example.org")
    (mail,) = smtp_server.wait_for(1)
    assert mail.rcpt_tos == ["bob@example.org"]


def test_comma_separated_recipients(make_mailer, msmtprc, smtp_server):
    m = _mailer(make_mailer, msmtprc, args="")
    assert m.send(
        "a@example.org, b@example.org,c@example.org", "pbx@example.org", "Subject: x", "y"
    )
    (mail,) = smtp_server.wait_for(1)
    assert mail.rcpt_tos == ["a@example.org", "b@example.org", "c@example.org"]


def test_custom_headers(make_mailer, msmtprc, smtp_server):
    m = _mailer(make_mailer, msmtprc)
    headers = (
        'From: "Voicemail" <vm@pbx.example.org>\n'
        "To: carol@example.org\n"
        "Subject: Voicemail from 1000 & friends; <urgent>\n"
        "X-Priority: 1\n"
        "X-Folded: first part\n second part"
    )
    assert m.send("carol@example.org", "vm@pbx.example.org", headers, "listen\n")
    (mail,) = smtp_server.wait_for(1)
    msg = email.message_from_bytes(mail.data)
    assert msg["Subject"] == "Voicemail from 1000 & friends; <urgent>"
    assert msg["X-Priority"] == "1"
    assert msg["From"] == '"Voicemail" <vm@pbx.example.org>'
    assert " ".join(msg["X-Folded"].split()) == "first part second part"


def test_wav_attachment_round_trip(make_mailer, msmtprc, smtp_server, tmp_path):
    wav = _write_wav(tmp_path / "msg_0001.wav")
    m = _mailer(make_mailer, msmtprc)
    assert m.send(
        "dave@example.org",
        "vm@example.org",
        "Subject: vm\nTo: dave@example.org",
        "New message",
        str(wav),
    )
    (mail,) = smtp_server.wait_for(1)
    text = mail.data.decode()
    assert f'boundary="{BOUNDARY}"' in text
    msg = email.message_from_bytes(mail.data)
    assert msg.is_multipart()
    parts = msg.get_payload()
    assert parts[0].get_content_type() == "text/plain"
    assert parts[0].get_payload().strip() == "New message"
    att = parts[1]
    assert att.get_content_type() == "audio/x-wav"
    assert att.get_filename() == "msg_0001.wav"
    assert att["Content-ID"] == "<ATTACHED@freeswitch.org>"
    assert att.get_payload(decode=True) == wav.read_bytes()
    # base64 in 72-character lines
    b64_lines = [ln for ln in att.get_payload().splitlines() if ln]
    assert all(len(ln) == 72 for ln in b64_lines[:-1]) and len(b64_lines[-1]) <= 72
    assert wav.exists()  # the caller's file is never deleted


def test_convert_cmd_produces_attachment(make_mailer, msmtprc, smtp_server, tmp_path):
    wav = _write_wav(tmp_path / "msg_0002.wav")
    conv = tmp_path / "conv.py"
    # a real converter: reads <in>, writes <out> (reversed bytes with a marker), no shell
    conv.write_text(
        "import sys\n"
        "src, dst = sys.argv[1], sys.argv[2]\n"
        "open(dst, 'wb').write(b'CONVERTED' + open(src, 'rb').read()[::-1])\n"
    )
    m = _mailer(make_mailer, msmtprc)
    cmd = f"{sys.executable} {conv}"
    assert m.send(
        "erin@example.org", "vm@example.org", "Subject: c", "see file", str(wav), cmd, "mp3"
    )
    (mail,) = smtp_server.wait_for(1)
    att = email.message_from_bytes(mail.data).get_payload()[1]
    assert att.get_filename() == "msg_0002.mp3"
    assert att.get_content_type() == "audio/mpeg"
    assert att.get_payload(decode=True) == b"CONVERTED" + wav.read_bytes()[::-1]
    assert not (tmp_path / "msg_0002.mp3").exists()  # converted file removed afterwards
    assert wav.exists()


def test_convert_cmd_with_quoted_words_and_cp(make_mailer, msmtprc, smtp_server, tmp_path):
    d = tmp_path / "dir with space"
    d.mkdir()
    wav = _write_wav(d / "a.wav")
    m = _mailer(make_mailer, msmtprc)
    assert m.send("f@example.org", "", "Subject: c", "", str(wav), "cp --", "raw")
    att = email.message_from_bytes(smtp_server.wait_for(1)[0].data).get_payload()[1]
    assert att.get_filename() == "a.raw"
    assert att.get_content_type() == "audio/inline"  # unknown extension
    assert att.get_payload(decode=True) == wav.read_bytes()
    assert not (d / "a.raw").exists()


def test_body_with_content_type_is_multipart(make_mailer, msmtprc, smtp_server):
    m = _mailer(make_mailer, msmtprc)
    body = "Content-Type: text/html\n\n<b>hi</b>"
    assert m.send("g@example.org", "x@example.org", "Subject: html", body)
    msg = email.message_from_bytes(smtp_server.wait_for(1)[0].data)
    assert msg.is_multipart()
    assert msg.get_payload()[0].get_content_type() == "text/html"


@pytest.mark.parametrize("args", ["", "-t"])
def test_msmtp_with_and_without_t(make_mailer, msmtprc, smtp_server, args):
    m = _mailer(make_mailer, msmtprc, args=args)
    assert m.send("h@example.org", "x@example.org", "To: h@example.org\nSubject: t", "b")
    (mail,) = smtp_server.wait_for(1)
    assert set(mail.rcpt_tos) == {"h@example.org"}
