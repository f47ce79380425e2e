"""RtpStream against raw UDP sockets acting as the far end, on real switch sessions
(null channels parked), through the one media clock."""

from __future__ import annotations

import importlib.util
import pathlib
import sys
import threading

import numpy as np
import pytest
from fsd_modules.mod_sofia_lite.rtp import RtpStream

from fsd.testing import originate, running_switch, wait_until

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
        frames: list[np.ndarray] = []
        port = s.media
        got = threading.Event()

        # Record what the port reads: its recorder path is what record/echo/bridge see.
        orig_pull = port._pull

        def spy():
            f = orig_pull()
            if f is not None:
                frames.append(f.copy())
                if len(frames) >= 40:
                    got.set()
            return f

        port.set_pull_source(spy)
        peer.send_audio(("127.0.0.1", st.local_port), H.tone(1000, 1.0))
        assert got.wait(5)
        audio = np.concatenate(frames)
        assert abs(H.dominant_freq(audio[800:4000]) - 1000) < 20
        assert st.packets_in >= 40 and st.bad_in == 0
    finally:
        st.close()


def test_port_playback_is_sent_as_pcmu(sw, peer, tmp_path):
    ref = H.tone(440, 0.6)
    import soundfile as sf
    wav = tmp_path / "t.wav"
    sf.write(str(wav), ref, 8000, subtype="PCM_16")
    s = parked(sw)
    st = RtpStream(s)
    try:
        st.start(H.negotiated_for(peer))
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
    finally:
        st.close()
