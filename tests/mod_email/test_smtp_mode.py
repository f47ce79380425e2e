"""SMTP mode against a real SMTP server (aiosmtpd), and the spool: refusals, a server
that is down or silent, retries with back-off, restarts."""

from __future__ import annotations

import email
import os
import socket
import threading
import time

SHORT = (0.2, 0.3)


def _smtp(make_mailer, server, **kw):
    kw.setdefault("retry_schedule", SHORT)
    return make_mailer(mode="smtp", host="127.0.0.1", port=server.port, helo="pbx.test", **kw)


def test_plain_mail_over_smtp(make_mailer, smtp_server, tmp_path):
    m = _smtp(make_mailer, smtp_server)
    res = m.send_ex(
        "alice@example.org", "pbx@example.org", "Subject: hi\nX-Thing: 1", "Hello\n.\nsecond"
    )
    assert res.status == "sent"
    (mail,) = smtp_server.wait_for(1)
    assert mail.mail_from == "pbx@example.org"
    assert mail.rcpt_tos == ["alice@example.org"]
    assert b"\r\n" in mail.data or b"\n" in mail.data
    msg = email.message_from_bytes(mail.data)
    assert msg["Subject"] == "hi"
    assert msg["X-Thing"] == "1"
    # headers a sendmail program would add are added in SMTP mode
    assert msg["From"] == "pbx@example.org"
    assert msg["To"] == "alice@example.org"
    assert msg["Date"] and msg["Message-ID"]
    # a lone "." line survives (dot-stuffing done by smtplib)
    assert msg.get_payload().replace("\r\n", "\n").rstrip("\n") == "Hello\n.\nsecond"
    assert os.listdir(tmp_path / "temp") == []


def test_smtp_attachment_and_multiple_recipients(make_mailer, smtp_server, tmp_path):
    f = tmp_path / "greeting.wav"
    f.write_bytes(bytes(range(256)) * 40)
    m = _smtp(make_mailer, smtp_server)
    assert m.send("a@example.org,b@example.org", "", "Subject: att", "see attached", str(f))
    (mail,) = smtp_server.wait_for(1)
    assert mail.rcpt_tos == ["a@example.org", "b@example.org"]
    assert mail.mail_from == "freeswitch"
    att = email.message_from_bytes(mail.data).get_payload()[1]
    assert att.get_payload(decode=True) == f.read_bytes()


def test_default_from_setting(make_mailer, smtp_server):
    m = _smtp(make_mailer, smtp_server, default_from="pbx@example.org")
    assert m.send("a@example.org")
    assert smtp_server.wait_for(1)[0].mail_from == "pbx@example.org"


def test_refused_then_accepted_is_retried_and_delivered_once(
    make_mailer, smtp_server, logs, wait_until
):
    smtp_server.refuse = "rcpt"
    m = _smtp(make_mailer, smtp_server)
    res = m.send_ex("a@example.org", "pbx@example.org", "Subject: retry me", "body")
    assert res.status == "queued" and res.spool_id
    assert "550" in res.reason
    assert any("queued as " + res.spool_id in line for line in logs)
    assert os.path.exists(m.spool.message_path(res.spool_id))
    # still refused: attempts grow, nothing delivered
    assert wait_until(lambda: (e := m.spool.get(res.spool_id)) is not None and e.attempts >= 2)
    assert smtp_server.mails == []
    smtp_server.refuse = ""
    assert wait_until(lambda: len(m.spool) == 0)
    mails = smtp_server.wait_for(1)
    time.sleep(0.5)  # no duplicate shows up later
    assert len(smtp_server.mails) == 1
    assert email.message_from_bytes(mails[0].data)["Subject"] == "retry me"
    assert not os.path.exists(m.spool.message_path(res.spool_id))
    assert any("delivered after" in line for line in logs)


def test_data_refusal_is_spooled(make_mailer, smtp_server, wait_until):
    smtp_server.refuse = "data"
    m = _smtp(make_mailer, smtp_server)
    res = m.send_ex("a@example.org", "", "", "x")
    assert res.status == "queued" and "554" in res.reason
    smtp_server.refuse = ""
    assert wait_until(lambda: len(m.spool) == 0)
    assert len(smtp_server.wait_for(1)) == 1


def test_server_down_then_back(make_mailer, smtp_server, wait_until):
    smtp_server.stop()
    m = _smtp(make_mailer, smtp_server)
    assert m.send("a@example.org", "", "Subject: while down", "x") is True  # queued
    assert len(m.spool) == 1
    e = m.spool.entries()[0]
    assert "cannot deliver" in e.last_error
    smtp_server.start()
    assert wait_until(lambda: len(m.spool) == 0)
    (mail,) = smtp_server.wait_for(1)
    assert email.message_from_bytes(mail.data)["Subject"] == "while down"


def test_spool_survives_restart(make_mailer, smtp_server, wait_until, tmp_path):
    smtp_server.stop()
    m1 = _smtp(make_mailer, smtp_server, retry_schedule=(3600.0,))
    for i in range(3):
        assert m1.send(f"u{i}@example.org", "", f"Subject: n{i}", "x")
    assert len(m1.spool) == 3
    m1.stop()
    smtp_server.start()
    # a new mailer on the same spool directory (a restart) delivers them
    m2 = _smtp(make_mailer, smtp_server, retry_schedule=(3600.0,), start=False)
    m2.start()
    assert len(m2.spool) == 3
    m2.retry_now()
    assert wait_until(lambda: len(m2.spool) == 0)
    subjects = sorted(email.message_from_bytes(x.data)["Subject"] for x in smtp_server.wait_for(3))
    assert subjects == ["n0", "n1", "n2"]


class _SilentServer:
    """Accepts TCP connections and never says a word (a hung SMTP server)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns: list[socket.socket] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        self.sock.settimeout(0.1)
        while not self.stop.is_set():
            try:
                c, _ = self.sock.accept()
                self.conns.append(c)
            except OSError:
                pass

    def close(self) -> None:
        self.stop.set()
        self.thread.join(2)
        for c in self.conns:
            c.close()
        self.sock.close()


def test_caller_never_waits_longer_than_timeout(make_mailer):
    silent = _SilentServer()
    try:
        m = make_mailer(
            mode="smtp", host="127.0.0.1", port=silent.port, timeout=0.5, retry_schedule=(3600.0,)
        )
        t0 = time.monotonic()
        res = m.send_ex("a@example.org", "", "Subject: hung", "x")
        took = time.monotonic() - t0
        assert res.status == "queued"
        assert took < 2.0  # bounded by the 0.5 s timeout, not by the server
        assert len(m.spool) == 1
    finally:
        silent.close()


def test_timed_out_attempt_that_succeeds_late_is_not_resent(make_mailer, smtp_server, wait_until):
    """A slow server: each SMTP step answers within the timeout but the whole delivery
    takes longer.  The caller gets 'queued' after the timeout; the attempt still
    finishes, and its spool entry is removed instead of being sent a second time."""
    smtp_server.delay = 0.4
    m = _smtp(make_mailer, smtp_server, timeout=0.6, retry_schedule=(0.05,))
    t0 = time.monotonic()
    res = m.send_ex("a@example.org", "", "Subject: slow", "x")
    assert time.monotonic() - t0 < 1.5
    assert res.status == "queued"
    assert wait_until(lambda: len(m.spool) == 0)
    smtp_server.wait_for(1)
    time.sleep(1.0)  # the retry thread must not have sent it again meanwhile
    assert len(smtp_server.mails) == 1
    assert m.stats["retried_ok"] == 1


def test_sendmail_program_failing_is_spooled_then_delivered(
    make_mailer, msmtprc, smtp_server, wait_until
):
    smtp_server.stop()  # msmtp fails (exit status 69) while the relay is down
    m = make_mailer(mailer_app="msmtp", mailer_app_args=f"-C {msmtprc}", retry_schedule=SHORT)
    res = m.send_ex("a@example.org", "pbx@example.org", "Subject: via msmtp", "x")
    assert res.status == "queued"
    assert "msmtp exited with status" in res.reason
    smtp_server.start()
    assert wait_until(lambda: len(m.spool) == 0)
    (mail,) = smtp_server.wait_for(1)
    assert mail.mail_from == "pbx@example.org"
    assert email.message_from_bytes(mail.data)["Subject"] == "via msmtp"


def test_max_age_moves_to_failed(make_mailer, smtp_server, wait_until, logs):
    smtp_server.refuse = "rcpt"
    m = _smtp(make_mailer, smtp_server, max_age=0.5, retry_schedule=(0.1,))
    res = m.send_ex("a@example.org")
    assert res.status == "queued"
    assert wait_until(lambda: len(m.spool) == 0)
    assert m.spool.failed() == [res.spool_id]
    assert any("giving up on " + res.spool_id in line for line in logs)
    assert os.path.exists(os.path.join(m.spool.failed_dir, res.spool_id + ".eml"))


def test_starttls_and_auth(make_mailer, smtp_server, tls_cert):
    import ssl

    cert, key = tls_cert
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    smtp_server.stop()
    smtp_server.tls_context = ctx
    smtp_server.users = {"pbx": "s3cret"}
    smtp_server.start()
    m = _smtp(make_mailer, smtp_server, starttls=True, ca_file=cert, user="pbx", password="s3cret")
    res = m.send_ex("a@example.org", "pbx@example.org", "Subject: secure", "x")
    assert res.status == "sent", res.reason
    assert email.message_from_bytes(smtp_server.wait_for(1)[0].data)["Subject"] == "secure"


def test_wrong_password_is_spooled_with_reason(make_mailer, smtp_server, tls_cert):
    import ssl

    cert, key = tls_cert
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    smtp_server.stop()
    smtp_server.tls_context = ctx
    smtp_server.users = {"pbx": "s3cret"}
    smtp_server.start()
    m = _smtp(
        make_mailer,
        smtp_server,
        starttls=True,
        ca_file=cert,
        user="pbx",
        password="wrong",
        retry_schedule=(3600.0,),
    )
    res = m.send_ex("a@example.org")
    assert res.status == "queued"
    assert "535" in res.reason


def test_untrusted_certificate_is_not_accepted(make_mailer, smtp_server, tls_cert):
    import ssl

    cert, key = tls_cert
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    smtp_server.stop()
    smtp_server.tls_context = ctx
    smtp_server.start()
    m = _smtp(make_mailer, smtp_server, starttls=True, retry_schedule=(3600.0,))  # no ca-file
    res = m.send_ex("a@example.org")
    assert res.status == "queued"
    assert "CERTIFICATE_VERIFY_FAILED" in res.reason or "certificate" in res.reason.lower()
    assert smtp_server.mails == []


def test_send_after_stop_is_spooled_for_the_next_start(make_mailer, smtp_server, wait_until):
    m = _smtp(make_mailer, smtp_server)
    m.stop()
    res = m.send_ex("late@example.org", "", "Subject: after stop", "x")
    assert res.status == "queued"
    m2 = _smtp(make_mailer, smtp_server, retry_schedule=(0.05,))
    assert wait_until(lambda: len(m2.spool) == 0)
    assert smtp_server.wait_for(1)[0].rcpt_tos == ["late@example.org"]


def test_partly_refused_recipients_keep_only_the_refused_ones(make_mailer, smtp_server, wait_until):
    smtp_server.refuse_rcpts = {"full@example.org"}
    m = _smtp(make_mailer, smtp_server)
    res = m.send_ex("ok@example.org,full@example.org", "", "Subject: split", "x")
    assert res.status == "queued"
    assert "full@example.org (550" in res.reason
    assert smtp_server.wait_for(1)[0].rcpt_tos == ["ok@example.org"]
    assert m.spool.get(res.spool_id).recipients == ["full@example.org"]
    smtp_server.refuse_rcpts = set()
    assert wait_until(lambda: len(m.spool) == 0)
    mails = smtp_server.wait_for(2)
    assert [x.rcpt_tos for x in mails] == [["ok@example.org"], ["full@example.org"]]
