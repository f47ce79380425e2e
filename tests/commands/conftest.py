"""One running daemon (every bundled module) for the API/application tests, with a test
dialplan in context ``t`` (destination ``run-<app>`` runs ``<app> ${cmd_data}``…)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from fsd.testing import ALL_MODULES, running_switch, wait_until

DIALPLAN = """<include><context name="t">
<extension name="limit_exceeded"><condition field="destination_number" expression="^limit_exceeded$">
  <action application="set" data="hit_limit_exceeded=1"/>
  <action application="hangup" data="USER_BUSY"/>
</condition></extension>
<extension name="limited"><condition field="destination_number" expression="^limited-(\\w+)$">
  <action application="limit" data="hash $1 calls 2"/>
  <action application="answer"/>
  <action application="park"/>
</condition></extension>
<extension name="limited_db"><condition field="destination_number" expression="^dblimited-(\\w+)$">
  <action application="limit" data="db $1 calls 1 !CALL_REJECTED"/>
  <action application="answer"/>
  <action application="park"/>
</condition></extension>
<extension name="limited_ex"><condition field="destination_number" expression="^limex-(\\w+)$">
  <action application="answer"/>
  <action application="limit_execute" data="hash $1 ex 1 set limex_ran=yes"/>
  <action application="set" data="after_limex=${limit_usage_$1_ex}"/>
  <action application="park"/>
</condition></extension>
@@APPS@@
<extension name="ringer"><condition field="destination_number" expression="^ringer$">
  <action application="answer"/>
  <action application="bridge" data="{originate_timeout=30}loopback/ringing/t"/>
  <action application="set" data="ringer_after=1"/>
  <action application="park"/>
</condition></extension>
<extension name="ringing"><condition field="destination_number" expression="^ringing$">
  <action application="ring_ready"/>
  <action application="park"/>
</condition></extension>
<extension name="answerer"><condition field="destination_number" expression="^answerer$">
  <action application="answer"/>
  <action application="park"/>
</condition></extension>
<extension name="sub_ext"><condition field="destination_number" expression="^sub_ext$">
  <action application="set" data="sub_ext_ran=${destination_number}"/>
</condition></extension>
<extension name="park"><condition field="destination_number" expression="^park$">
  <action application="answer"/>
  <action application="park"/>
</condition></extension>
</context></include>
"""


#: applications the tests run through ``Daemon.app`` (one extension each: ``app-<name>-<n>``)
APPS = ["hash", "db", "limit", "limit_execute", "limit_hash", "push", "unshift", "multiunset",
        "bridge_export", "set_profile_var", "strftime", "set_user", "capture", "system",
        "verbose_events", "session_loglevel", "deflect", "redirect", "send_display",
        "set_audio_level", "sched_broadcast", "sched_cancel", "sched_hangup", "transfer_vars",
        "mkdir", "rename", "bgsystem", "set_zombie_exec", "queue_dtmf", "stop", "multiset", "export",
        "sleep", "playback", "endless_playback", "ivr", "bind_meta_app", "wait_for_silence",
        "detect_silence", "detect_audio", "tone_detect", "stop_tone_detect", "displace_session",
        "stop_displace_session", "eavesdrop", "intercept", "three_way", "att_xfer", "chat", "loop_playback", "bind_digit_action", "unbind_meta_app", "check_acl",
        "set_name", "hold", "unhold", "send_info", "set_media_stats", "block_dtmf", "execute_extension",
        "enable_heartbeat"]  # noqa: E501


def _app_extensions(apps: list[str]) -> str:
    return "".join(
        f'<extension name="app_{a}"><condition field="destination_number" '
        f'expression="^app-{a}-(\\d+)$">\n'
        f'  <action application="answer"/>\n'
        f'  <action application="{a}" data="${{app_data_$1}}"/>\n'
        f'  <action application="set" data="app_done=1"/>\n'
        f'  <action application="park"/>\n</condition></extension>\n' for a in apps)


class Daemon:
    def __init__(self, sw: Any) -> None:
        import itertools

        self.sw = sw
        self._n = itertools.count(1)

    def api(self, text: str) -> str:
        cmd, _, args = text.partition(" ")
        return self.sw.api_execute(cmd, args)

    def call(self, dest: str, vars: str = "") -> tuple[str | None, str | None, str]:
        """Originate ``loopback/<dest>/t``; (A uuid, B uuid, reply)."""
        out = self.api(f"originate {{{vars}}}loopback/{dest}/t &park()" if vars
                       else f"originate loopback/{dest}/t &park()")
        m = re.match(r"^\+OK ([0-9a-f-]{36})\n$", out)
        if not m:
            return None, None, out
        a = m.group(1)
        return a, self.api(f"uuid_getvar {a} other_loopback_leg_uuid"), out

    def app(self, name: str, data: str, wait: bool = True) -> tuple[str | None, str | None]:
        """Run application ``name`` with ``data`` on the B leg of a new loopback call
        (answered first); waits until the dialplan went past it.  (A, B) uuids."""
        n = next(self._n)
        self.sw.globals.set(f"app_data_{n}", data)
        a, b, out = self.call(f"app-{name}-{n}")
        assert a, out
        if wait:
            assert self.wait_var(b, "app_done", "1") == "1"
        return a, b

    def var(self, uuid: str | None, name: str) -> str:
        return self.api(f"uuid_getvar {uuid} {name}")

    def wait_var(self, uuid: str | None, name: str, value: str | None = None,
                 timeout: float = 15) -> str:
        def ok() -> bool:
            v = self.var(uuid, name)
            return v != "_undef_" and not v.startswith("-ERR") and (value is None or v == value)
        wait_until(ok, timeout)
        return self.var(uuid, name)

    def kill(self, *uuids: str | None) -> None:
        for u in uuids:
            if u:
                self.api(f"uuid_kill {u}")

    def gone(self, uuid: str | None, timeout: float = 15) -> bool:
        return wait_until(lambda: (uuid or "") not in self.sw.sessions, timeout)


IVR_CONF = """<configuration name="ivr.conf" description="IVR menus"><menus>
<menu name="test_menu" greet-long="silence_stream://200" greet-short="silence_stream://100"
      invalid-sound="silence_stream://50" exit-sound="silence_stream://50" timeout="5000"
      max-failures="3" max-timeouts="3" digit-len="1">
  <entry action="menu-exec-app" digits="1" param="set ivr_pressed=one"/>
  <entry action="menu-sub" digits="3" param="sub_menu"/>
  <entry action="menu-exit" digits="2"/>
</menu>
<menu name="sub_menu" greet-long="silence_stream://100" timeout="5000">
  <entry action="menu-exec-app" digits="4" param="set ivr_sub=four"/>
  <entry action="menu-back" digits="5"/>
</menu>
</menus></configuration>
"""


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    base = tmp_path_factory.mktemp("fsd")
    with running_switch(base, ALL_MODULES, extra_files={"conf/dialplan/t.xml": DIALPLAN.replace("@@APPS@@", _app_extensions(APPS)),
                                              "conf/autoload/ivr.conf.xml": IVR_CONF},
                        switch_settings={"sessions-per-second": "1000"}) as sw:
        yield Daemon(sw)
        sw.api_execute("hupall")
        wait_until(lambda: not sw.sessions, 5)
