"""``freeswitch.email`` from Python goes out through mod_email to a real SMTP server
(aiosmtpd, from tests/mod_email's helpers)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from fsd.testing import running_switch

HERE = Path(__file__).resolve().parent


def _smtp_helpers():
    spec = importlib.util.spec_from_file_location("mod_email_conftest_for_python",
                                                  HERE.parent / "mod_email" / "conftest.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def smtp():
    srv = _smtp_helpers().SmtpServer()
    yield srv
    srv.close()


def test_email_from_python_reaches_the_smtp_server(tmp_path, smtp):
    conf = f"""<configuration name="email.conf" description="Mail">
  <settings>
    <param name="mode" value="smtp"/>
    <param name="host" value="127.0.0.1"/>
    <param name="port" value="{smtp.port}"/>
    <param name="timeout" value="5"/>
  </settings>
</configuration>"""
    script = """from freeswitch import email
def fsapi(session, stream, env, args):
    stream.write(str(email("callee@example.org", "pbx@example.org",
                           "Subject: from python", "hello from a python script")))
    stream.write(" " + str(email("", "pbx@example.org")))
"""
    with running_switch(tmp_path, ["mod_commands", "mod_email", "mod_python"],
                        extra_files={"conf/autoload/email.conf.xml": conf,
                                     "scripts/mailer_test.py": script}) as sw:
        assert sw.api_execute("python", "mailer_test") == "True False"
        mails = smtp.wait_for(1)
        assert len(mails) == 1
        assert mails[0].rcpt_tos == ["callee@example.org"]
        text = mails[0].data.decode()
        assert "Subject: from python" in text and "hello from a python script" in text
