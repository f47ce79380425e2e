"""Overload: above the profile's sessions-per-second the excess INVITEs get 503 while every
admitted call is answered, plays, and is hung up by fsd (SIPp waits for fsd's BYE)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from fsd.testing import running_switch, wait_until

from .conftest import MODULES, Rig, start_rig

ROOT_SIPP = Path(__file__).resolve().parents[2] / "bench" / "sipp"


def _received(out: str, status: str) -> int:
    m = re.findall(rf"^\s*{status}\s*<-+\s+(?:E-RTD\d\s+)?(\d+)", out, flags=re.M)
    return int(m[-1]) if m else 0


def _screen(out: str, label: str) -> int:
    m = re.findall(rf"{label}\s*\|\s*\d*\s*\|\s*(\d+)", out)
    return int(m[-1]) if m else 0


@pytest.mark.skipif(shutil.which("sipp") is None, reason="sipp not installed")
def test_excess_gets_503_and_admitted_calls_stay_healthy(tmp_path):
    base = start_rig(tmp_path, params={"sessions-per-second": "4"},
                     switch_settings={"sessions-per-second": "1000"})
    with running_switch(base, MODULES) as sw:
        rig = Rig(sw, base)
        screen = tmp_path / "screen.log"
        calls = 48
        r = rig.sipp(str(ROOT_SIPP / "uac_wait_bye.xml"), "7001", calls=calls, rate=16,
                     timeout=60, check=False,
                     extra=["-l", "100", "-trace_screen", "-screen_file", str(screen)])
        out = screen.read_text()
        ok, failed = _screen(r.stdout, "Successful call"), _screen(r.stdout, "Failed call")
        answered, refused = _received(out, "200"), _received(out, "503")
        assert failed == 0, out[-3000:]
        assert ok == calls
        # every INVITE got exactly one final answer: answered (then fsd's BYE) or 503
        assert answered + refused == calls, out[-3000:]
        assert refused > 0 and answered >= 4
        assert wait_until(lambda: not sw.sessions, 20)
        assert rig.udp(b"OPTIONS sip:a@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:PORT;"
                       b"branch=z9hG4bKov1\r\nFrom: <sip:x@127.0.0.1>;tag=1\r\nTo: <sip:a@127"
                       b".0.0.1>\r\nCall-ID: ov1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
                       )[0].startswith("SIP/2.0 200")
