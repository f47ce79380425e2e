"""SIP test rig: a real switch with mod_sofia_lite on a free loopback port, and SIPp.

``sip_rig`` starts the daemon (profile ``internal`` on an ephemeral port, context
``sip_test`` from ``dialplan/sip_test.xml`` below); ``rig.sipp(scenario, service)`` runs a
SIPp scenario from ``scenarios/`` against it and returns the CompletedProcess.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from fsd.testing import EventLog, prepare_base, running_switch

HERE = Path(__file__).parent
SCENARIOS = HERE / "scenarios"
MODULES = ["mod_commands", "mod_db", "mod_dptools", "mod_loopback", "mod_dialplan_xml",
           "mod_lua", "mod_sofia_lite"]

DIALPLAN = """<include>
  <context name="sip_test">
    <extension name="answer_play_hangup">
      <condition field="destination_number" expression="^7001$">
        <action application="answer"/>
        <action application="playback" data="tone_stream://%(300,0,440)"/>
        <action application="hangup"/>
      </condition>
    </extension>
    <extension name="answer_park">
      <condition field="destination_number" expression="^7002$">
        <action application="answer"/>
        <action application="park"/>
      </condition>
    </extension>
    <extension name="ring_only">
      <condition field="destination_number" expression="^7003$">
        <action application="ring_ready"/>
        <action application="sleep" data="20000"/>
      </condition>
    </extension>
    <extension name="lua_sip_vars">
      <condition field="destination_number" expression="^7004$">
        <action application="lua" data="sip_vars.lua"/>
      </condition>
    </extension>
    <extension name="busy">
      <condition field="destination_number" expression="^7005$">
        <action application="respond" data="486 Busy Here"/>
      </condition>
    </extension>
    <extension name="early_then_answer">
      <condition field="destination_number" expression="^7006$">
        <action application="pre_answer"/>
        <action application="sleep" data="200"/>
        <action application="answer"/>
        <action application="park"/>
      </condition>
    </extension>
    <extension name="lua_ivr_digits">
      <condition field="destination_number" expression="^7007$">
        <action application="lua" data="ivr_digits.lua"/>
      </condition>
    </extension>
    <extension name="record">
      <condition field="destination_number" expression="^7008$">
        <action application="answer"/>
        <action application="record" data="$${recordings_dir}/sip_in.wav 10"/>
      </condition>
    </extension>
    <extension name="respond_403">
      <condition field="destination_number" expression="^7010$">
        <action application="respond" data="403 Go Away"/>
      </condition>
    </extension>
    <extension name="custom_reply_headers">
      <condition field="destination_number" expression="^7009$">
        <action application="set" data="sip_ph_X-Early=1"/>
        <action application="pre_answer"/>
        <action application="set" data="sip_rh_X-Final=2"/>
        <action application="answer"/>
        <action application="park"/>
      </condition>
    </extension>
    <extension name="bridge_out">
      <condition field="destination_number" expression="^8(\\d+)$">
        <action application="bridge" data="${bridge_target}"/>
      </condition>
    </extension>
    <extension name="users">
      <condition field="destination_number" expression="^(10[01][0-9])$">
        <action application="bridge" data="user/$1@$${domain}"/>
      </condition>
    </extension>
  </context>
</include>
"""

SIP_VARS_LUA = """
local keys = {"sip_from_user", "sip_to_user", "sip_req_uri", "sip_call_id", "sip_user_agent",
  "sip_contact_uri", "sip_received_ip", "sip_received_port", "sip_via_protocol",
  "sip_h_X-Test-Header", "sofia_profile_name", "rtp_use_codec_name"}
session:answer()
local out = {}
for _, k in ipairs(keys) do out[#out + 1] = k .. "=" .. (session:getVariable(k) or "") end
session:setVariable("lua_seen", table.concat(out, "|"))
session:hangup()
"""

IVR_DIGITS_LUA = """
session:answer()
local d = session:getDigits(1, "", 10000)
session:setVariable("ivr_digit", d)
session:setVariable("ivr_caller", session:getVariable("sip_from_user") or "")
if d == "5" then session:setVariable("ivr_branch", "five") else session:setVariable("ivr_branch", "other") end
session:hangup()
"""


def free_port() -> int:
    """A port free for UDP (and TCP) on loopback, never 5060."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                t.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue


def set_profile_params(base: Path, params: dict[str, str], gateways: str = "") -> None:
    p = base / "conf" / "autoload" / "sofia.conf.xml"
    text = p.read_text()
    for k, v in params.items():
        text = re.sub(rf'^.*<param name="{re.escape(k)}"[^>]*/>.*\n', "", text, flags=re.M)
        text = re.sub(r'(<profile name="internal">.*?<settings>)',
                      lambda m, k=k, v=v: f'{m.group(1)}\n        <param name="{k}" value="{v}"/>',
                      text, count=1, flags=re.S)
    if gateways:
        text = re.sub(r"(<profile name=\"internal\">.*?<gateways>)",
                      lambda m: m.group(1) + "\n" + gateways, text, count=1, flags=re.S)
    p.write_text(text)


class Rig:
    def __init__(self, sw, base: Path) -> None:
        self.sw = sw
        self.base = base
        self.port = int(sw.globals.get("sofia_internal_port"))
        assert self.port != 5060
        self.events = EventLog(sw)

    def sipp(self, scenario: str, service: str = "7001", *, calls: int = 1, timeout: int = 20,
             extra: list[str] | None = None, rate: int | None = None,
             check: bool = True, subs: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        sc = scenario if scenario in ("uac", "uas") else self.scenario(scenario, subs)
        args = ["sipp", f"127.0.0.1:{self.port}", "-s", service, "-i", "127.0.0.1",
                "-p", str(free_port()), "-mp", str(free_port()), "-m", str(calls),
                "-timeout", f"{timeout}s", "-timeout_error", "-nostdin", "-max_recv_loops", "1000",
                "-bind_local"]
        args += ["-sn", sc] if scenario in ("uac", "uas") else ["-sf", sc]
        if rate:
            args += ["-r", str(rate)]
        args += extra or []
        r = subprocess.run(args, capture_output=True, text=True, errors="replace", timeout=timeout + 30,
                           cwd=self.base)
        if check:
            assert r.returncode == 0, f"sipp {scenario} failed ({r.returncode}):\n{r.stdout[-1500:]}\n{r.stderr[-3000:]}"
        return r

    def scenario(self, name: str, subs: dict[str, str] | None = None) -> str:
        """The scenario file, with ``{{key}}`` placeholders filled from ``subs``."""
        if not subs:
            return str(SCENARIOS / name)
        text = (SCENARIOS / name).read_text()
        for k, v in subs.items():
            text = text.replace("{{" + k + "}}", v)
        out = self.base / f"{name[:-4]}-{abs(hash(tuple(sorted(subs.items()))))}.xml"
        out.write_text(text)
        return str(out)

    def sipp_bg(self, scenario: str, service: str = "1000", *, calls: int = 1,
                timeout: int = 30, extra: list[str] | None = None,
                subs: dict[str, str] | None = None) -> tuple[subprocess.Popen, int]:
        """Start SIPp in the background (a UAS, or one that registers first); returns the
        process and its SIP port."""
        port = free_port()
        args = ["sipp", f"127.0.0.1:{self.port}", "-s", service, "-i", "127.0.0.1",
                "-p", str(port), "-mp", str(free_port()), "-m", str(calls),
                "-timeout", f"{timeout}s", "-timeout_error", "-nostdin", "-bind_local",
                "-sf", self.scenario(scenario, subs)] + (extra or [])
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace",
                                cwd=self.base)
        return proc, port

    @staticmethod
    def finish(proc: subprocess.Popen, timeout: float = 40) -> None:
        out, err = proc.communicate(timeout=timeout)
        assert proc.returncode == 0, f"sipp failed ({proc.returncode}):\n{out[-1500:]}\n{err[-3000:]}"

    def udp(self, data: bytes | str, *, want: int = 1, timeout: float = 10.0,
            sock: socket.socket | None = None) -> list[str]:
        """Send one datagram to the profile; return the first ``want`` replies."""
        own = sock is None
        s = sock or socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        if own:
            s.bind(("127.0.0.1", 0))
        try:
            if isinstance(data, str):
                data = data.replace("\n", "\r\n").replace("\r\r\n", "\r\n").encode()
            data = data.replace(b"PORT", str(s.getsockname()[1]).encode())
            s.sendto(data, ("127.0.0.1", self.port))
            return recv_replies(s, want, timeout)
        finally:
            if own:
                s.close()


def recv_replies(s: socket.socket, want: int, timeout: float) -> list[str]:
    import time

    out: list[str] = []
    deadline = time.monotonic() + timeout
    while len(out) < want and time.monotonic() < deadline:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            out.append(s.recv(65536).decode("utf-8", "replace"))
        except TimeoutError:
            break
    return out


def request(method: str, *, call_id: str = "c1", extra: str = "", body: str = "",
            cseq: int = 1, uri: str = "sip:7001@127.0.0.1", omit: tuple[str, ...] = ()) -> bytes:
    """A request from 127.0.0.1:PORT (PORT is filled in by Rig.udp)."""
    hdrs = [("Via", f"SIP/2.0/UDP 127.0.0.1:PORT;branch=z9hG4bK{call_id}{cseq}{method};rport"),
            ("From", f"<sip:1005@127.0.0.1>;tag=f{call_id}"), ("To", "<sip:7001@127.0.0.1>"),
            ("Call-ID", call_id), ("CSeq", f"{cseq} {method}"),
            ("Contact", "<sip:1005@127.0.0.1:PORT>"), ("Max-Forwards", "70")]
    lines = [f"{method} {uri} SIP/2.0"] + [f"{k}: {v}" for k, v in hdrs if k not in omit]
    lines += [ln for ln in extra.split("\n") if ln]
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append(f"Content-Length: {len(body.encode())}")
    return ("\r\n".join(lines) + "\r\n\r\n" + body).encode()


SDP_PCMU = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            "m=audio 40000 RTP/AVP 0\r\n")


def start_rig(tmp_path: Path, params: dict[str, str] | None = None, gateways: str = "",
              extra_files: dict[str, str] | None = None, name: str = "fsd",
              switch_settings: dict[str, str] | None = None):
    base = tmp_path / name
    files = {"conf/dialplan/sip_test.xml": DIALPLAN, "scripts/sip_vars.lua": SIP_VARS_LUA,
             "scripts/ivr_digits.lua": IVR_DIGITS_LUA}
    files.update(extra_files or {})
    prepare_base(base, MODULES, files, switch_settings)
    set_profile_params(base, {"sip-port": "0", "context": "sip_test", **(params or {})}, gateways)
    return base


@pytest.fixture
def sip_rig(tmp_path):
    if shutil.which("sipp") is None:
        pytest.skip("sipp (Debian sip-tester) is not installed")
    base = start_rig(tmp_path)
    with running_switch(base, MODULES) as sw:
        yield Rig(sw, base)
