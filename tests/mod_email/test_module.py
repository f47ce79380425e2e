"""mod_email loaded into a real fsd Switch from a copy of the shipped configuration:
the API commands, the MAILER service, the spool re-read at load, and unload."""

from __future__ import annotations

import email
import re
import shutil
from pathlib import Path

import pytest

from fsd.dirs import Dirs
from fsd.services import MAILER
from fsd.switch import Switch

REPO_CONF = Path(__file__).resolve().parents[2] / "conf"


def _switch(tmp_path, switch_params: dict[str, str], email_params: dict[str, str]) -> Switch:
    conf = tmp_path / "conf"
    shutil.copytree(REPO_CONF, conf)
    sw_conf = conf / "autoload" / "switch.conf.xml"
    text = sw_conf.read_text()
    for name, value in switch_params.items():
        text = re.sub(
            rf'<param name="{name}" value="[^"]*"/>',
            f'<param name="{name}" value="{value}"/>',
            text,
        )
    sw_conf.write_text(text)
    params = "".join(f'<param name="{k}" value="{v}"/>' for k, v in email_params.items())
    (conf / "autoload" / "email.conf.xml").write_text(
        f'<configuration name="email.conf"><settings>{params}</settings></configuration>'
    )
    sw = Switch(Dirs.from_base(str(tmp_path / "base"), conf=str(conf)))
    sw.dirs.create()
    sw.apply_config(sw.load_config())
    return sw


@pytest.fixture
def loaded(tmp_path, smtp_server):
    switches: list[Switch] = []

    def make(switch_params=None, email_params=None) -> Switch:
        sw = _switch(tmp_path, switch_params or {}, email_params or {})
        sw.modules.load("mod_email")
        switches.append(sw)
        return sw

    yield make
    for sw in switches:
        if "mod_email" in sw.modules.loaded:
            sw.modules.unload("mod_email")


def test_email_test_via_smtp(loaded, smtp_server):
    sw = loaded(email_params={"mode": "smtp", "host": "127.0.0.1", "port": str(smtp_server.port)})
    out = sw.api_execute("email_test", "ops@example.org pbx@example.org")
    assert out.startswith("+OK sent to ops@example.org via smtp 127.0.0.1:")
    (mail,) = smtp_server.wait_for(1)
    assert mail.mail_from == "pbx@example.org"
    assert email.message_from_bytes(mail.data)["Subject"].startswith("fsd test mail from ")
    assert sw.services.get(MAILER) is sw.modules.loaded["mod_email"].state["mailer"]


def test_email_test_via_msmtp_from_switch_conf(loaded, smtp_server, msmtprc):
    sw = loaded(switch_params={"mailer-app": "msmtp", "mailer-app-args": f"-C {msmtprc} -t"})
    out = sw.api_execute("email_test", "ops@example.org")
    assert out.startswith("+OK sent to ops@example.org via sendmail program [msmtp -C ")
    assert smtp_server.wait_for(1)[0].mail_from == "freeswitch"
    # the spool lives under <storage>/mail-spool
    assert Path(sw.dirs.storage, "mail-spool").is_dir()


def test_email_test_reports_errors(loaded, smtp_server):
    sw = loaded(switch_params={"mailer-app": "/nonexistent/sendmail"})
    assert sw.api_execute("email_test", "") == "-ERR Usage: email_test <to> [<from>]\n"
    assert sw.api_execute("email_test", "a b c") == "-ERR Usage: email_test <to> [<from>]\n"
    out = sw.api_execute("email_test", "ops@example.org")
    assert out == "-ERR mailer program '/nonexistent/sendmail' not found\n"
    out = sw.api_execute("email_test", "ops@example.org;reboot")
    assert out.startswith("-ERR refusing to address")


def test_queued_mail_listed_and_retried_after_reload(loaded, smtp_server, wait_until):
    smtp_server.stop()
    params = {
        "mode": "smtp",
        "host": "127.0.0.1",
        "port": str(smtp_server.port),
        "retry-schedule": "3600",
        "timeout": "2",
    }
    sw = loaded(email_params=params)
    out = sw.api_execute("email_test", "ops@example.org")
    assert out.startswith("-ERR not delivered via smtp") and "queued as" in out
    listing = sw.api_execute("email_spool")
    assert "queued: 1" in listing and "to=[ops@example.org]" in listing
    # unload (shutdown) and load again: the spool is re-read
    sw.modules.unload("mod_email")
    assert sw.services.get(MAILER) is None
    smtp_server.start()
    sw.modules.load("mod_email")
    assert "queued: 1" in sw.api_execute("email_spool")
    assert sw.api_execute("email_spool", "retry") == "+OK 1 queued mail(s) due now\n"
    assert wait_until(lambda: "queued: 0" in sw.api_execute("email_spool"))
    assert len(smtp_server.wait_for(1)) == 1
    assert sw.api_execute("email_spool", "bogus").startswith("-ERR Usage: email_spool")
    lines = [
        x for batch in sw.modules.broadcast("fsd_status_lines", switch=sw) for x in batch or []
    ]
    assert "mail: 0 queued for retry, 0 given up" in lines


def test_unload_removes_apis(loaded):
    sw = loaded()
    assert "email_test" in sw.apis and "email_spool" in sw.apis
    sw.modules.unload("mod_email")
    assert "email_test" not in sw.apis
    assert sw.services.get(MAILER) is None
