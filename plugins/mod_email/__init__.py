"""mod_email: the mailer behind ``freeswitch.email`` (FreeSWITCH's switch_simple_email)
and everything else in fsd that sends mail.

Other modules get the running mailer from the switch's service registry, never by importing
this package: ``switch.services.get(fsd.services.MAILER)`` (``None`` when mod_email is not
loaded), then ``.send(to, from_, headers, body, file, convert_cmd, convert_ext)``.  The
mailer belongs to the loaded module (``module.state``), not to a module global.  Settings: switch.conf.xml ``mailer-app`` / ``mailer-app-args`` and
``conf/autoload/email.conf.xml`` (see docs/email.md).
"""

from __future__ import annotations

import os
from typing import Any

import fsd
from fsd.log import INFO, WARNING, log
from fsd.services import MAILER

from .api import EMAIL_SPOOL_SYNTAX, EMAIL_TEST_SYNTAX, email_spool, email_test
from .mailer import Mailer, SendResult
from .settings import MailerSettings, settings_from_config
from .transport import split_words

__all__ = ["Mailer", "MailerSettings", "SendResult"]

def _check_program(settings: MailerSettings) -> None:
    """Warn at load, not at the first voicemail, when the mailer program is missing."""
    import shutil

    if settings.mode != "sendmail":
        return
    try:
        words = split_words(settings.mailer_app, "mailer-app")
    except Exception as e:
        log(WARNING, f"mod_email: {e}")
        return
    if words and shutil.which(words[0]) is None:
        log(
            WARNING,
            f"mod_email: mailer program {words[0]!r} not found; mails will be refused until "
            "it is installed or email.conf selects mode=smtp",
        )


@fsd.hookimpl
def fsd_module_load(module: Any) -> None:
    sw = module.switch
    conf = sw.config.get_configuration("email.conf") if sw.config is not None else None
    settings = settings_from_config(dict(sw.settings or {}), conf)
    spool_dir = os.path.join(sw.dirs.storage, "mail-spool")
    mailer = Mailer(settings, sw.dirs.temp, spool_dir, start=False)
    _check_program(settings)
    module.state["mailer"] = mailer
    module.add_service(MAILER, mailer)
    module.add_api(
        "email_test",
        "Send a test mail and report whether it was delivered",
        EMAIL_TEST_SYNTAX,
        lambda args, session, stream: email_test(mailer, args, stream),
    )
    module.add_api(
        "email_spool",
        "List mails waiting for retry, or retry them now",
        EMAIL_SPOOL_SYNTAX,
        lambda args, session, stream: email_spool(mailer, args, stream),
    )
    where = (
        f"smtp {settings.host}:{settings.smtp_port}"
        if settings.mode == "smtp"
        else f"{settings.mailer_app} {settings.mailer_app_args}"
    )
    log(INFO, f"mod_email: sending via {where}; spool {spool_dir}")


@fsd.hookimpl
def fsd_module_runtime(module: Any) -> None:
    mailer = module.state.get("mailer")
    if mailer is not None:
        mailer.start()  # loads the spool left by the previous run and starts retrying


@fsd.hookimpl
def fsd_module_shutdown(module: Any) -> None:
    mailer = module.state.pop("mailer", None)
    if mailer is not None:
        mailer.stop()  # a reload's new instance starts its retry thread only after this


def _mailer_of(module: Any) -> Mailer | None:
    return module.state.get("mailer") if module is not None else None


@fsd.hookimpl
def fsd_status_lines(module: Any) -> list[str]:
    m = _mailer_of(module)
    if m is None:
        return []
    return [f"mail: {len(m.spool)} queued for retry, {len(m.spool.failed())} given up"]


@fsd.hookimpl
def fsd_metrics(module: Any) -> list[Any]:
    from prometheus_client.core import GaugeMetricFamily

    m = _mailer_of(module)
    if m is None:
        return []
    depth = GaugeMetricFamily("fsd_mail_spool_depth", "Mails in the spool waiting for a retry")
    depth.add_metric([], len(m.spool))
    failed = GaugeMetricFamily("fsd_mail_spool_failed", "Mails the spool gave up on")
    failed.add_metric([], len(m.spool.failed()))
    return [depth, failed]
