"""RTP end to end: SIPp calls a running daemon; the RTP is checked on the far side.

* fsd answers, plays a file, hangs up: the RTP it sends (to a raw UDP socket the SIPp
  offer names as its media address) decodes to the file.
* A Lua IVR collects RFC 2833 digits that SIPp plays from its own pcaps
  (``play_pcap_audio`` of ``dtmf_2833_*.pcap``) and branches on them, reading ``sip_*``.
* SIPp plays its ``g711a.pcap`` (PCMA, 30 ms packets) into an extension that records: the
  recording matches the pcap's audio.
"""

from __future__ import annotations

import importlib.util
import pathlib
import shutil
import sys

import numpy as np
import pytest
import soundfile as sf

from fsd.testing import running_switch, wait_until

_p = pathlib.Path(__file__).with_name("rtp_helpers.py")
if "sofia_rtp_helpers" not in sys.modules:
    _spec = importlib.util.spec_from_file_location("sofia_rtp_helpers", _p)
    sys.modules["sofia_rtp_helpers"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules["sofia_rtp_helpers"])
H = sys.modules["sofia_rtp_helpers"]

pytestmark = pytest.mark.skipif(shutil.which("sipp") is None or H.sipp_pcap("g711a.pcap") is None,
                                reason="sipp (Debian sip-tester) is not installed")

DIALPLAN = """<include>
  <context name="rtp_test">
    <extension name="play_file">
      <condition field="destination_number" expression="^7101$">
        <action application="answer"/>
        <action application="sleep" data="200"/>
        <action application="playback" data="$${base_dir}/snd/ref.wav"/>
        <action application="sleep" data="200"/>
        <action application="hangup"/>
      </condition>
    </extension>
    <extension name="ivr">
      <condition field="destination_number" expression="^7102$">
        <action application="lua" data="rtp_ivr.lua"/>
      </condition>
    </extension>
    <extension name="record">
      <condition field="destination_number" expression="^7103$">
        <action application="answer"/>
        <action application="record" data="$${base_dir}/rec.wav 4"/>
        <action application="hangup"/>
      </condition>
    </extension>
    <extension name="park">
      <condition field="destination_number" expression="^7104$">
        <action application="answer"/>
        <action application="park"/>
      </condition>
    </extension>
    <extension name="send_dtmf">
      <condition field="destination_number" expression="^7105$">
        <action application="answer"/>
        <action application="sleep" data="300"/>
        <action application="send_dtmf" data="12#@120"/>
        <action application="sleep" data="1200"/>
        <action application="hangup"/>
      </condition>
    </extension>
    <extension name="bridge">
      <condition field="destination_number" expression="^7106$">
        <action application="bridge" data="BRIDGE_TARGET"/>
      </condition>
    </extension>
  </context>
</include>
"""

IVR = """
session:answer()
local digits = session:getDigits(3, "#", 8000, 3000)
session:setVariable("ivr_digits", digits)
if digits == "19*" then
  session:setVariable("ivr_branch", "sales:" .. session:getVariable("sip_from_user"))
else
  session:setVariable("ivr_branch", "other")
end
session:hangup()
"""

INVITE = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="rtp test uac">
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: "Sipp" <sip:1005@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:1005@[local_ip]:[local_port]>
      Max-Forwards: 70
      User-Agent: sipp-rtp
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio MEDIA_PORT RTP/AVP PTS 101
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true" rrs="true"/>
  <send>
    <![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: "Sipp" <sip:1005@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: <sip:1005@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
MIDDLE
ENDING
</scenario>
"""

WAIT_BYE = """  <recv request="BYE"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
    ]]>
  </send>"""

SEND_BYE = """  <send retrans="500">
    <![CDATA[
      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: "Sipp" <sip:1005@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Contact: <sip:1005@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <recv response="200"/>"""


UAS = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="uas playing g711a.pcap, then BYE">
  <recv request="INVITE" crlf="true"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:[local_ip]:[local_port];transport=[transport]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8
      a=rtpmap:8 PCMA/8000
      a=ptime:30
    ]]>
  </send>
  <recv request="ACK" rtd="true" crlf="true"/>
  <nop><action><exec play_pcap_audio="PCAP"/></action></nop>
  <recv request="BYE"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
    ]]>
  </send>
</scenario>
"""


def scenario(tmp_path, name: str, media_port: str = "[media_port]", pts: str = "0",
             middle: str = "", ending: str = WAIT_BYE) -> str:
    text = INVITE.replace("MEDIA_PORT", media_port).replace("PTS", pts)
    path = tmp_path / f"{name}.xml"
    path.write_text(text.replace("MIDDLE", middle).replace("ENDING", ending))
    return str(path)


def play_pcap(path: str, pause_ms: int = 0) -> str:
    out = f'  <nop><action><exec play_pcap_audio="{path}"/></action></nop>\n'
    if pause_ms:
        out += f'  <pause milliseconds="{pause_ms}"/>\n'
    return out


def _conftest():
    """This folder's conftest (the SIP rig): pytest imported it; find it by its file."""
    want = pathlib.Path(__file__).with_name("conftest.py")
    for mod in list(sys.modules.values()):
        f = getattr(mod, "__file__", None)
        if f and pathlib.Path(f) == want:
            return mod
    raise RuntimeError("tests/mod_sofia_lite/conftest.py was not loaded")


def make_rig(tmp_path, bridge_to: str = "error/NO_ROUTE_DESTINATION", **params: str):
    conf = _conftest()
    base = conf.start_rig(tmp_path, params={"context": "rtp_test", **params}, extra_files={
        "conf/dialplan/rtp_test.xml": DIALPLAN.replace("BRIDGE_TARGET", bridge_to),
        "scripts/rtp_ivr.lua": IVR})
    return conf, base


@pytest.fixture
def rig(tmp_path):
    conf, base = make_rig(tmp_path)
    with running_switch(base, conf.MODULES) as sw:
        yield conf.Rig(sw, base)


def test_fsd_plays_a_file_and_the_rtp_decodes_to_it(rig, tmp_path):
    ref = np.concatenate([H.tone(f, 0.25) for f in (400, 900, 1500, 650)])
    (rig.base / "snd").mkdir(exist_ok=True)
    sf.write(str(rig.base / "snd" / "ref.wav"), ref, 8000, subtype="PCM_16")
    peer = H.Peer()
    try:
        rig.sipp(scenario(tmp_path, "play", media_port=str(peer.port)), "7101")
        peer.recv_until(lambda r: False, 0.2)
        pk = [r for r in peer.received if r.pt == 0]
        assert len(pk) >= 50, len(pk)
        assert H.best_corr(peer.audio(0), ref) > 0.95
        assert len({r.ssrc for r in pk}) == 1 and pk[0].marker
        for a, b in zip(pk, pk[1:], strict=False):
            assert (b.seq - a.seq) & 0xFFFF == 1 and (b.ts - a.ts) & 0xFFFFFFFF == 160
        ev = rig.events.wait("CHANNEL_HANGUP_COMPLETE")[-1]
        assert ev.get_header("variable_remote_media_port") == str(peer.port)
    finally:
        peer.close()


def test_lua_ivr_collects_sipp_rfc2833_digits(rig, tmp_path):
    middle = "  <pause milliseconds=\"500\"/>\n" + "".join(
        play_pcap(H.sipp_pcap(f"dtmf_2833_{d}.pcap"), p)
        for d, p in (("1", 400), ("9", 400), ("star", 0)))  # fsd's BYE may come at once
    rig.sipp(scenario(tmp_path, "dtmf", middle=middle), "7102")
    ev = rig.events.wait("CHANNEL_HANGUP_COMPLETE")[-1]
    assert ev.get_header("variable_ivr_digits") == "19*"
    assert ev.get_header("variable_ivr_branch") == "sales:1005"
    assert ev.get_header("variable_dtmf_type") == "rfc2833"


def test_sipp_g711a_pcap_is_recorded(rig, tmp_path):
    from fsd_modules.mod_sofia_lite.rtp_packet import parse_rtp

    from fsd.media.codecs import alaw_decode
    pcap = H.sipp_pcap("g711a.pcap")
    ref = np.concatenate([alaw_decode(parse_rtp(d).payload) for _, d in H.read_pcap_rtp(pcap)])
    middle = play_pcap(pcap, 0)
    rig.sipp(scenario(tmp_path, "rec", pts="8", middle=middle), "7103")
    rec = rig.base / "rec.wav"
    assert wait_until(rec.exists, 5)
    got, rate = sf.read(str(rec), dtype="int16")
    assert rate == 8000
    # The middle of the pcap's audio is in the recording, sample for sample.
    assert H.best_corr(got, ref[8000:24000]) > 0.99


def test_no_rtp_from_the_caller_is_media_timeout(tmp_path):
    conf, base = make_rig(tmp_path, **{"rtp-timeout-sec": "1"})
    with running_switch(base, conf.MODULES) as sw:
        rig = conf.Rig(sw, base)
        peer = H.Peer()  # the caller's media address: it receives but never sends
        try:
            rig.sipp(scenario(tmp_path, "silent", media_port=str(peer.port)), "7104")
            ev = rig.events.wait("CHANNEL_HANGUP_COMPLETE")[-1]
            assert ev.get_header("Hangup-Cause") == "MEDIA_TIMEOUT"
            assert peer.drain() or peer.received  # fsd did send while waiting
        finally:
            peer.close()


def test_send_dtmf_reaches_the_caller_as_rfc2833(rig, tmp_path):
    peer = H.Peer()
    try:
        rig.sipp(scenario(tmp_path, "senddtmf", media_port=str(peer.port)), "7105")
        peer.recv_until(lambda r: False, 0.2)
        ev = [r for r in peer.received if r.pt == 101]
        digits = []
        for r in ev:
            code, flags, dur = r.payload[0], r.payload[1], int.from_bytes(r.payload[2:4], "big")
            if flags & 0x80:
                digits.append(("0123456789*#ABCD"[code], dur, r.ts))
        # Each digit: three end packets with one timestamp and the full duration (120 ms).
        ends: dict[int, list] = {}
        for d, dur, ts in digits:
            ends.setdefault(ts, []).append((d, dur))
        assert [v[0][0] for v in ends.values()] == ["1", "2", "#"]
        assert all(len(v) == 3 and {x[1] for x in v} == {960} for v in ends.values())
        pk = [r for r in peer.received if r.pt in (0, 101)]
        for a, b in zip(pk, pk[1:], strict=False):
            assert (b.seq - a.seq) & 0xFFFF == 1
    finally:
        peer.close()


def test_bridge_to_a_sipp_uas_carries_its_pcap_to_the_caller(tmp_path):
    """UAC (a raw socket for media) -> fsd -> bridge -> SIPp UAS playing g711a.pcap: the
    caller receives the UAS's PCMA audio transcoded to PCMU, with one continuous stream."""
    import subprocess

    from fsd_modules.mod_sofia_lite.rtp_packet import parse_rtp

    from fsd.media.codecs import alaw_decode
    conf = _conftest()
    pcap = H.sipp_pcap("g711a.pcap")
    ref = np.concatenate([alaw_decode(parse_rtp(d).payload) for _, d in H.read_pcap_rtp(pcap)])
    uas_port = conf.free_port()
    uas = tmp_path / "uas.xml"
    uas.write_text(UAS.replace("PCAP", pcap))
    proc = subprocess.Popen(
        ["sipp", "-sf", str(uas), "-i", "127.0.0.1", "-p", str(uas_port),
         "-mp", str(conf.free_port()), "-m", "1", "-timeout", "20s", "-timeout_error",
         "-nostdin", "-bind_local"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, errors="replace", cwd=tmp_path)
    peer = H.Peer()
    _, base = make_rig(tmp_path, bridge_to=f"sofia/internal/uas@127.0.0.1:{uas_port}")
    try:
        with running_switch(base, conf.MODULES) as sw:
            rig = conf.Rig(sw, base)
            rig.sipp(scenario(tmp_path, "bridge", media_port=str(peer.port),
                              middle='  <pause milliseconds="3000"/>\n', ending=SEND_BYE), "7106")
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, out[-1500:] + err[-1500:]
        peer.recv_until(lambda r: False, 0.2)
        pk = [r for r in peer.received if r.pt == 0]
        assert len(pk) > 100
        assert H.best_corr(peer.audio(0), ref[4000:16000]) > 0.9
        assert len({r.ssrc for r in pk}) == 1
        for a, b in zip(pk, pk[1:], strict=False):
            assert (b.seq - a.seq) & 0xFFFF == 1
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        peer.close()


def reinvite(cseq: int, direction: str, media_port: str) -> str:
    return f"""  <send retrans="500">
    <![CDATA[
      INVITE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: "Sipp" <sip:1005@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: {cseq} INVITE
      Contact: <sip:1005@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 {2353687637 + cseq} IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio {media_port} RTP/AVP 0 101
      a=rtpmap:101 telephone-event/8000
      a={direction}
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="200"/>
  <send>
    <![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: "Sipp" <sip:1005@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: {cseq} ACK
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <pause milliseconds="700"/>
"""


def test_reinvite_hold_stops_rtp_and_resume_continues_the_stream(rig, tmp_path):
    peer = H.Peer()
    try:
        mp = str(peer.port)
        middle = ('  <pause milliseconds="600"/>\n' + reinvite(2, "sendonly", mp)
                  + reinvite(3, "sendrecv", mp))
        rig.sipp(scenario(tmp_path, "hold", media_port=mp, middle=middle,
                          ending=SEND_BYE.replace("CSeq: 2 BYE", "CSeq: 4 BYE")), "7104")
        peer.recv_until(lambda r: False, 0.1)
        pk = [r for r in peer.received if r.pt == 0]
        # Packets were read after the call, so the gap shows in the RTP clock: while held
        # nothing was sent but the timestamp kept counting (~700 ms = 5600 samples).
        jumps = [((b.ts - a.ts) & 0xFFFFFFFF, a, b) for a, b in zip(pk, pk[1:], strict=False)]
        jump, before, after = max(jumps, key=lambda g: g[0])
        assert jump >= 8000 * 0.4, jump
        assert sum(1 for j, _, _ in jumps if j != 160) == 1  # one pause, otherwise 20 ms steps
        assert after.marker and after.ssrc == before.ssrc
        assert (after.seq - before.seq) & 0xFFFF == 1
        rig.events.wait("CHANNEL_HOLD")
        rig.events.wait("CHANNEL_UNHOLD")
    finally:
        peer.close()
