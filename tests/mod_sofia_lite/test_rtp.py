"""RtpStream against raw UDP sockets acting as the far end, on real switch sessions
(null channels parked), through the one media clock."""

from __future__ import annotations

import contextlib
import importlib.util
import pathlib
import sys

import numpy as np
import pytest
from fsd_modules.mod_sofia_lite.rtp import RtpStream

from fsd.testing import EventLog, originate, running_switch, wait_until

_p = pathlib.Path(__file__).with_name("rtp_helpers.py")
if "sofia_rtp_helpers" not in sys.modules:
    _spec = importlib.util.spec_from_file_location("sofia_rtp_helpers", _p)
    sys.modules["sofia_rtp_helpers"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules["sofia_rtp_helpers"])
H = sys.modules["sofia_rtp_helpers"]

MODULES = ["mod_commands", "mod_dptools", "mod_loopback", "mod_dialplan_xml"]


@pytest.fixture
def sw(tmp_path):
    with running_switch(tmp_path, MODULES) as switch:
        yield switch


@pytest.fixture
def peer():
    p = H.Peer()
    yield p
    p.close()


@contextlib.contextmanager
def rtp_call(sw, negotiated, app: str = "&park()", **kw):
    """A parked null channel with a started RtpStream (closed at the end)."""
    s = parked(sw, app)
    st = RtpStream(s, **kw)
    try:
        st.start(negotiated)
        yield s, st
    finally:
        st.close()


def parked(sw, app: str = "&park()"):
    uuid, out = originate(sw, f"null/rtp {app}")
    assert uuid, out
    s = sw.sessions[uuid]
    assert wait_until(lambda: s.media is not None and s.answered())
    return s


def test_received_tone_reaches_the_port(sw, peer):
    s = parked(sw)
    st = RtpStream(s, bind_ip="127.0.0.1")
    try:
        lo, hi = sw.rtp_port_range
        assert lo <= st.local_port <= hi and st.local_port % 2 == 0
        st.start(H.negotiated_for(peer))
        # What the port reads is what record/echo/bridge see.
        frames = H.spy_reads(s.media)
        peer.send_audio(("127.0.0.1", st.local_port), H.tone(1000, 1.0))
        assert wait_until(lambda: len(frames) >= 40)
        audio = np.concatenate(frames)
        assert abs(H.dominant_freq(audio[800:4000]) - 1000) < 20
        assert st.packets_in >= 40 and st.bad_in == 0
        v = st.variables("192.0.2.1")
        assert v["local_media_port"] == str(st.local_port) and v["advertised_media_ip"] == \
            "192.0.2.1"
        assert v["remote_media_port"] == str(peer.port) and v["read_codec"] == "PCMU"
    finally:
        st.close()


def test_port_playback_is_sent_as_pcmu(sw, peer, tmp_path):
    ref = H.tone(440, 0.6)
    import soundfile as sf
    wav = tmp_path / "t.wav"
    sf.write(str(wav), ref, 8000, subtype="PCM_16")
    with rtp_call(sw, H.negotiated_for(peer)) as (s, st):
        res = s.media.play(str(wav))
        assert res.status == "done"
        assert peer.recv_until(lambda r: len(r) >= 40)
        pk = [r for r in peer.received if r.pt == 0]
        assert all(len(r.payload) == 160 for r in pk)
        assert H.best_corr(peer.audio(0), ref) > 0.95
        # One SSRC; sequence and timestamp advance by one packet each time.
        assert len({r.ssrc for r in pk}) == 1
        for a, b in zip(pk, pk[1:], strict=False):
            assert (b.seq - a.seq) & 0xFFFF == 1
            assert (b.ts - a.ts) & 0xFFFFFFFF == 160
        assert pk[0].marker and not any(r.marker for r in pk[1:])


def test_rfc4733_digits_reach_the_read_app(sw, peer):
    with rtp_call(sw, H.negotiated_for(peer), app="&read(3 3 silence_stream://100 got 8000 #)") as (s, st):
        to = ("127.0.0.1", st.local_port)
        peer.send_audio(to, H.tone(0, 0.1, amp=0))
        for d in "42#":
            peer.send_event(to, d, duration=800)
        assert wait_until(lambda: s.get_variable("got") == "42", 5), s.get_variable("got")
        assert st.dtmf_in == 3


def test_retransmitted_and_stray_event_packets_count_once(sw, peer):
    import struct
    log = EventLog(sw)
    with rtp_call(sw, H.negotiated_for(peer)) as (s, st):
        to = ("127.0.0.1", st.local_port)
        end = struct.pack("!BBH", 5, 0x80 | 10, 1600)
        for _ in range(5):  # end packet repeated, then again later (reordered)
            peer.send(to, 101, end, ts=7000)
        peer.send(to, 101, struct.pack("!BBH", 5, 10, 800), ts=7000)
        peer.send(to, 101, b"\x01", ts=9000)  # short payload: ignored
        peer.send(to, 101, struct.pack("!BBH", 99, 0x80, 800), ts=9100)  # unknown event
        assert wait_until(lambda: st.packets_in >= 8)
        # park takes digits off the queue, firing DTMF events (as FreeSWITCH's park does).
        ev = log.wait("DTMF", s.uuid)
        assert wait_until(lambda: st.dtmf_in == 1)
        assert [(e.get_header("DTMF-Digit"), e.get_header("DTMF-Duration"),
                 e.get_header("DTMF-Source")) for e in ev] == [("5", "1600", "RTP")]


def test_event_without_end_packets_is_reported_after_a_second(sw, peer):
    import struct
    log = EventLog(sw)
    with rtp_call(sw, H.negotiated_for(peer)) as (s, st):
        peer.send(("127.0.0.1", st.local_port), 101, struct.pack("!BBH", 9, 10, 480), ts=1)
        ev = log.wait("DTMF", s.uuid)
        assert ev[0].get_header("DTMF-Digit") == "9"


def test_send_dtmf_packets(sw, peer):
    with rtp_call(sw, H.negotiated_for(peer)) as (s, st):
        assert peer.recv_until(lambda r: len(r) >= 3)
        assert st.send_dtmf("1#", 100)
        assert peer.recv_until(lambda r: sum(1 for x in r if x.pt == 101) >= 14)
        assert wait_until(lambda: not st.dtmf_busy)
        peer.recv_until(lambda r: False, 0.1)
        pk = [r for r in peer.received if r.pt in (0, 101)]
        # seq continuous across audio and events; one SSRC.
        for a, b in zip(pk, pk[1:], strict=False):
            assert (b.seq - a.seq) & 0xFFFF == 1
        assert len({r.ssrc for r in pk}) == 1
        ev = [r for r in pk if r.pt == 101]
        by_ts: dict[int, list] = {}
        for r in ev:
            by_ts.setdefault(r.ts, []).append(r)
        assert len(by_ts) == 2
        for (_ts, group), digit in zip(sorted(by_ts.items(), key=lambda kv: kv[1][0].seq),
                                      (1, 11), strict=True):
            codes = {g.payload[0] for g in group}
            assert codes == {digit}
            assert group[0].marker and not any(g.marker for g in group[1:])
            durs = [int.from_bytes(g.payload[2:4], "big") for g in group]
            ends = [bool(g.payload[1] & 0x80) for g in group]
            vols = {g.payload[1] & 0x3F for g in group}
            assert vols == {13}
            assert ends == [False] * (len(group) - 3) + [True] * 3
            assert durs[:-3] == list(range(160, 800, 160)) and durs[-3:] == [800] * 3
        # Audio is suppressed during the event and resumes with the marker bit;
        # the event timestamp is the audio clock at its start.
        first_ev = ev[0]
        after = [r for r in pk if r.pt == 0 and r.seq > by_ts[first_ev.ts][-1].seq]
        assert after and after[0].marker
        before = [r for r in pk if r.pt == 0 and r.seq < first_ev.seq]
        assert first_ev.ts == (before[-1].ts + 160) & 0xFFFFFFFF


def test_send_dtmf_without_telephone_event_is_refused(sw, peer):
    s = parked(sw)
    st = RtpStream(s)
    try:
        assert not st.send_dtmf("1")  # not started
        st.start(H.negotiated_for(peer, pts="0"))
        assert not st.send_dtmf("1")
    finally:
        st.close()


def test_symmetric_rtp_answers_where_packets_come_from(sw, peer):
    decoy = H.Peer()  # the address the SDP names; nobody sends from it
    with rtp_call(sw, H.negotiated_for(decoy), auto_adjust_threshold=10) as (s, st):
        assert decoy.recv_until(lambda r: len(r) >= 2)
        peer.send_audio(("127.0.0.1", st.local_port), H.tone(300, 0.3))
        assert peer.recv_until(lambda r: any(x.pt == 0 for x in r))
        assert st.remote == ("127.0.0.1", peer.port) and st.adjusted
        assert s.get_variable("rtp_auto_adjust_audio") == "true"
        assert s.get_variable("remote_audio_port") == str(peer.port)
        assert s.get_variable("remote_audio_port_reported") == str(decoy.port)
        decoy.close()


def test_auto_adjust_off_keeps_the_sdp_address(sw, peer):
    decoy = H.Peer()
    with rtp_call(sw, H.negotiated_for(decoy), auto_adjust=False) as (s, st):
        peer.send_audio(("127.0.0.1", st.local_port), H.tone(300, 0.4))
        assert st.remote == ("127.0.0.1", decoy.port) and not st.adjusted
        assert not [r for r in peer.drain() if r.pt == 0]
        decoy.close()


def test_media_timeout_hangs_up_with_media_timeout(sw, peer):
    s = parked(sw)
    st = RtpStream(s, timeout_sec=0.3)
    st.start(H.negotiated_for(peer))
    assert wait_until(lambda: s.hangup_cause == "MEDIA_TIMEOUT", 5)
    assert wait_until(lambda: st.closed, 5)  # the port closed: the stream followed


def test_media_timeout_callback_and_cn_keeps_the_call_alive(sw, peer):
    fired = []
    with rtp_call(sw, H.negotiated_for(peer), timeout_sec=0.4, on_timeout=fired.append) as (s, st):
        to = ("127.0.0.1", st.local_port)
        for _ in range(40):  # 0.8 s of comfort noise only
            peer.send(to, 13, b"\x40")
            peer.recv_until(lambda r: False, 0.02)
        assert wait_until(lambda: st.cn_in >= 40, 2)  # the last one is read on a tick
        assert not fired
        assert wait_until(lambda: fired == [st], 5)
        assert s.hangup_cause is None


def test_no_timeout_while_the_remote_is_recvonly(sw, peer):
    fired = []
    with rtp_call(sw, H.negotiated_for(peer, direction="recvonly"), timeout_sec=0.2, on_timeout=fired.append) as (s, st):
        assert peer.recv_until(lambda r: len(r) >= 25)  # 0.5 s: we send, it does not
        assert not fired


def test_hold_and_resume_keep_ssrc_seq_and_clock(sw, peer):
    with rtp_call(sw, H.negotiated_for(peer)) as (s, st):
        assert peer.recv_until(lambda r: len(r) >= 5)
        st.update(H.negotiated_for(peer, direction="sendonly"))  # remote holds us
        peer.drain()
        n_before = len(peer.received)
        last = peer.received[-1]
        peer.recv_until(lambda r: False, 0.3)
        # Nothing sent while held but the one packet already queued with the kernel.
        assert len(peer.received) - n_before <= 1
        last = peer.received[-1]
        st.update(H.negotiated_for(peer, direction="sendrecv"))
        assert peer.recv_until(lambda r: r[-1].seq != last.seq and len(r) > n_before + 3)
        resumed = [r for r in peer.received if r.seq > last.seq or r.seq < 100][0]
        assert resumed.marker and resumed.ssrc == last.ssrc
        assert (resumed.seq - peer.received[n_before - 1].seq) & 0xFFFF <= 2
        # The timestamp measured the time on hold (~15 frames), not just one packet.
        assert (resumed.ts - last.ts) & 0xFFFFFFFF >= 160 * 10


def test_reinvite_to_a_new_address(sw, peer):
    other = H.Peer()
    with rtp_call(sw, H.negotiated_for(peer)) as (s, st):
        assert peer.recv_until(lambda r: len(r) >= 3)
        st.update(H.negotiated_for(other))
        assert other.recv_until(lambda r: len(r) >= 3)
        assert other.received[0].ssrc == peer.received[0].ssrc
        other.close()


def test_ptime_30_and_pcma(sw, peer, tmp_path):
    with rtp_call(sw, H.negotiated_for(peer, pts="8 101", ptime=30)) as (s, st):
        assert peer.recv_until(lambda r: len(r) >= 6)
        pk = peer.received
        assert {r.pt for r in pk} == {8} and {len(r.payload) for r in pk} == {240}
        for a, b in zip(pk, pk[1:], strict=False):
            assert (b.ts - a.ts) & 0xFFFFFFFF == 240 and (b.seq - a.seq) & 0xFFFF == 1


def test_garbage_datagrams_are_counted_and_ignored(sw, peer):
    with rtp_call(sw, H.negotiated_for(peer)) as (s, st):
        to = ("127.0.0.1", st.local_port)
        for junk in (b"", b"x", b"\x00" * 40, b"\x80\xc8" + b"\x00" * 30,  # RTCP SR
                     b"\x90\x00" + b"\x00" * 10,  # extension flag, truncated
                     b"\xa0\x00" + b"\x00" * 10 + b"\x00"):  # padding 0
            peer.sock.sendto(junk, to)
        peer.send(to, 96, b"\x00" * 160)  # a payload type nobody negotiated
        assert wait_until(lambda: st.bad_in >= 5 and st.unknown_in == 1)
        peer.send_audio(to, H.tone(500, 0.2))
        assert wait_until(lambda: st.packets_in >= 10)
        assert s.hangup_cause is None


def test_bridge_and_playback_keep_one_sequence(sw, peer, tmp_path):
    import soundfile as sf
    wav = tmp_path / "b.wav"
    sf.write(str(wav), H.tone(700, 0.2), 8000, subtype="PCM_16")
    s = parked(sw)
    other = parked(sw)
    st = RtpStream(s)
    try:
        st.start(H.negotiated_for(peer))
        s.media.play(str(wav))
        from fsd.media.port import bridge, unbridge
        # The other leg "speaks" a 1200 Hz tone: its read side is what s sends when bridged.
        talk = H.tone(1200, 5.0)
        pos = [0]

        def speak():
            pos[0] += 160
            return talk[pos[0] - 160:pos[0]]

        other.media.set_pull_source(speak)
        bridge(s.media, other.media)
        peer.send_audio(("127.0.0.1", st.local_port), H.tone(1200, 0.6))
        unbridge(s.media)
        s.media.play(str(wav))
        peer.recv_until(lambda r: False, 0.1)
        pk = [r for r in peer.received if r.pt == 0]
        assert len({r.ssrc for r in pk}) == 1
        for a, b in zip(pk, pk[1:], strict=False):
            assert (b.seq - a.seq) & 0xFFFF == 1 and (b.ts - a.ts) & 0xFFFFFFFF == 160
        # The bridged peer echoed our tone back: 1200 Hz arrived while bridged.
        assert H.best_corr(peer.audio(0), H.tone(1200, 0.2)) > 0.8
    finally:
        st.close()


def test_port_range_exhausted_and_released(sw):
    from fsd_modules.mod_sofia_lite.rtp_io import RtpError
    s = parked(sw)
    a = RtpStream(s, port_range=(40000, 40003))
    b = RtpStream(s, port_range=(40000, 40003))
    assert {a.local_port, b.local_port} == {40000, 40002}
    with pytest.raises(RtpError, match="no free RTP port"):
        RtpStream(s, port_range=(40000, 40003))
    a.close()
    # The port comes back once no packet queued with the kernel can name the socket
    # (at once when the clock thread sends; within two ticks with io_uring).
    streams = []

    def reopened() -> bool:
        with contextlib.suppress(RtpError):
            streams.append(RtpStream(s, port_range=(40000, 40003)))
        return bool(streams)

    assert wait_until(reopened, timeout=2)
    c = streams[0]
    assert c.local_port == a.local_port
    b.close()
    c.close()
    with pytest.raises(RtpError, match="empty"):
        RtpStream(s, port_range=(40001, 40001))


def test_a_session_without_media_is_refused():
    from fsd_modules.mod_sofia_lite.rtp_io import RtpError

    class Bare:
        uuid = "x"
        media = None

    with pytest.raises(RtpError, match="no media port"):
        RtpStream(Bare())


def test_closed_stream_cannot_start(sw, peer):
    from fsd_modules.mod_sofia_lite.rtp_io import RtpError
    s = parked(sw)
    st = RtpStream(s)
    st.close()
    st.close()  # twice is fine
    with pytest.raises(RtpError, match="closed"):
        st.start(H.negotiated_for(peer))
    st.update(H.negotiated_for(peer))  # ignored


@pytest.mark.skipif(H.sipp_pcap("dtmf_2833_1.pcap") is None, reason="sip-tester not installed")
def test_sipp_rfc2833_pcaps_reach_the_read_app(sw, peer):
    with rtp_call(sw, H.negotiated_for(peer), app="&read(4 4 silence_stream://100 got 10000 #)") as (s, st):
        to = ("127.0.0.1", st.local_port)
        for name in ("1", "9", "star", "pound"):
            H.replay(peer.sock, to, H.read_pcap_rtp(H.sipp_pcap(f"dtmf_2833_{name}.pcap")))
        assert wait_until(lambda: s.get_variable("got") == "19*", 5), s.get_variable("got")
        assert st.dtmf_in == 4


@pytest.mark.skipif(H.sipp_pcap("g711a.pcap") is None, reason="sip-tester not installed")
def test_sipp_g711a_pcap_reaches_the_port(sw, peer):
    from fsd_modules.mod_sofia_lite.rtp_packet import parse_rtp

    from fsd.media.codecs import alaw_decode
    pk = H.read_pcap_rtp(H.sipp_pcap("g711a.pcap"))
    ref = np.concatenate([alaw_decode(parse_rtp(d).payload) for _, d in pk[:100]])
    with rtp_call(sw, H.negotiated_for(peer, pts="8 101")) as (s, st):
        frames = H.spy_reads(s.media)
        H.replay(peer.sock, ("127.0.0.1", st.local_port), pk[:100])
        assert wait_until(lambda: len(frames) >= 95, 5)
        got = np.concatenate(frames)
        assert H.best_corr(got, ref[1600:9600]) > 0.99
        assert st.lost_in == 0 and st.unknown_in == 0


def test_a_16khz_port_is_resampled_both_ways(sw, peer):
    uuid, out = originate(sw, "{fsd_media_rate=16000}null/wide &park()")
    assert uuid, out
    s = sw.sessions[uuid]
    assert wait_until(lambda: s.media is not None and s.answered())
    assert s.media.rate == 16000
    st = RtpStream(s)
    try:
        st.start(H.negotiated_for(peer))
        frames = H.spy_reads(s.media)
        peer.send_audio(("127.0.0.1", st.local_port), H.tone(1000, 0.8))
        assert wait_until(lambda: len(frames) >= 30)
        heard = np.concatenate(frames)
        assert len(frames[0]) == 320 and abs(H.dominant_freq(heard[1600:], 16000) - 1000) < 20
        peer.drain()
        peer.received.clear()
        s.media.play_samples(H.tone(2500, 0.5, rate=16000))
        assert peer.recv_until(lambda r: len(r) >= 20)
        sent = peer.audio(0)
        assert {len(r.payload) for r in peer.received if r.pt == 0} == {160}
        assert abs(H.dominant_freq(sent[800:3200]) - 2500) < 30
    finally:
        st.close()


def test_stale_packets_before_start_are_dropped(sw, peer):
    s = parked(sw)
    st = RtpStream(s)
    try:
        for _ in range(30):
            peer.send(("127.0.0.1", st.local_port), 0, b"\xff" * 160)
        st.start(H.negotiated_for(peer))
        assert peer.recv_until(lambda r: len(r) >= 5)
        assert st.packets_in == 0
    finally:
        st.close()


def test_stream_options_from_channel_variables(sw):
    from fsd_modules.mod_sofia_lite.rtp import stream_options
    s = parked(sw)
    assert stream_options(s, 30, None) == {"timeout_sec": 30.0, "hold_timeout_sec": None,
                                           "auto_adjust": True}
    s.set_variable("rtp_timeout_sec", "5")
    s.set_variable("rtp_hold_timeout_sec", "50")
    assert stream_options(s, 30)["timeout_sec"] == 5.0
    s.set_variable("media_timeout", "2500")
    s.set_variable("media_hold_timeout", "bogus")
    s.set_variable("disable_rtp_auto_adjust", "true")
    s.set_variable("rtp_auto_adjust_threshold", "3")
    o = stream_options(s, 30, 300)
    assert o == {"timeout_sec": 2.5, "hold_timeout_sec": 50.0, "auto_adjust": False,
                 "auto_adjust_threshold": 3}
    st = RtpStream(s, **o)
    assert st.timeout_sec == 2.5 and not st.auto_adjust and st.auto_adjust_threshold == 3
    st.close()


def test_a_packet_flood_is_bounded_and_the_call_goes_on(sw, peer):
    with rtp_call(sw, H.negotiated_for(peer)) as (s, st):
        to = ("127.0.0.1", st.local_port)
        for i in range(3000):  # a burst far faster than real time, random timestamps
            peer.send(to, 0, b"\x7f" * 160, ts=(i * 7919) & 0xFFFFFFFF)
        assert wait_until(lambda: st.packets_in >= 200, 5)
        assert len(st._jb._packets) <= 4 * st._jb.max_frames
        peer.ssrc ^= 0xFFFF  # a new source, as after a transfer upstream
        peer.ts += 10 ** 6
        frames = H.spy_reads(s.media)
        peer.send_audio(to, H.tone(700, 0.6))
        assert wait_until(lambda: len(frames) >= 20)
        assert any(abs(H.dominant_freq(f) - 700) < 60 for f in frames[-10:] if f.any())
        assert s.hangup_cause is None


def test_a_stream_never_started_is_closed_with_its_call(sw):
    s = parked(sw)
    st = RtpStream(s)
    port = st.local_port
    s.hangup()
    assert wait_until(lambda: st.closed)
    from fsd_modules.mod_sofia_lite.rtp_io import _used
    assert wait_until(lambda: (st.local_ip, port) not in _used, timeout=2)
    assert st.sock.fileno() == -1


@pytest.mark.parametrize("setting, mode", [("false", "thread"), ("true", "kernel")])
def test_switch_conf_rtp_kernel_timing_decides_who_sends(tmp_path, peer, monkeypatch,
                                                         setting, mode):
    """switch.conf rtp-kernel-timing: packets queued with the kernel (io_uring) or sent
    by the media clock thread; either way the far end gets an unbroken stream, and
    `status` says which."""
    from fsd_modules.mod_sofia_lite import rtp_io, uring
    monkeypatch.setattr(rtp_io, "_kernel_timing", True)  # restored after the test
    ring = uring.open_ring(8)
    if ring is None:
        mode = "thread"  # this kernel refuses io_uring: the fallback is what runs
    else:
        ring.close()
    with running_switch(tmp_path, [*MODULES, "mod_sofia_lite"],
                        switch_settings={"rtp-kernel-timing": setting}) as sw:
        assert rtp_io.kernel_timing() is (setting == "true")
        with rtp_call(sw, H.negotiated_for(peer)) as (_s, st):
            assert peer.recv_until(lambda r: len(r) >= 20)
            assert st._poller.send_mode == mode
            seqs = [r.seq for r in peer.received[-15:]]
            assert all((b - a) & 0xFFFF == 1 for a, b in zip(seqs, seqs[1:], strict=False))
            how = "queued with the kernel" if mode == "kernel" else "sent by the media clock"
            assert how in sw.api_execute("status")
