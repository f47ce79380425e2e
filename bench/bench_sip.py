"""SIP figures, SIPp driven, the switch in this process on a temporary base (profile on a
free loopback port):

1. calls per second into a Lua script (answer, read SIP variables, hang up) and the share
   of failed calls — SIPp offers PCMU and sends no RTP;
2. N concurrent SIP calls, each answered by an extension that plays a 1 kHz tone for
   ``--rtp-secs``: every call's SDP points at one UDP socket of this process, which
   time-stamps fsd's RTP packets; printed: packet-interval p50/p99/max per level, packets
   received vs expected.

    python bench/bench_sip.py [--calls 300] [--rate 50] [--limit 100] [--rtp-levels 10,50]

``--rate`` is SIPp's call rate (calls/s offered); raise it until failed calls appear to find
the ceiling.
"""

from __future__ import annotations

import argparse
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fsd.testing import prepare_base, running_switch

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "tests" / "mod_sofia_lite" / "scenarios" / "uac_answered.xml"
MODULES = ["mod_commands", "mod_db", "mod_dptools", "mod_loopback", "mod_dialplan_xml",
           "mod_lua", "mod_sofia_lite"]
DIALPLAN = """<include><context name="bench">
  <extension name="lua"><condition field="destination_number" expression="^7004$">
    <action application="lua" data="bench_sip.lua"/>
  </condition></extension>
  <extension name="tone"><condition field="destination_number" expression="^7011$">
    <action application="answer"/>
    <action application="playback" data="tone_stream://%(${bench_ms},0,1000)"/>
    <action application="hangup"/>
  </condition></extension>
</context></include>"""
LUA = """
session:answer()
session:setVariable("bench_seen", (session:getVariable("sip_from_user") or "") .. "@" ..
  (session:getVariable("sip_call_id") or ""))
session:hangup()
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _count(text: str, label: str) -> int:
    m = re.findall(rf"{label}\s*\|\s*\d*\s*\|\s*(\d+)", text)
    return int(m[-1]) if m else 0


def _base() -> Path:
    base = Path(tempfile.mkdtemp(prefix="bench_sip_"))
    prepare_base(base, MODULES, {"conf/dialplan/bench.xml": DIALPLAN,
                                 "scripts/bench_sip.lua": LUA},
                 switch_settings={"sessions-per-second": "1000", "loglevel": "warning"})
    conf = base / "conf" / "autoload" / "sofia.conf.xml"
    text = conf.read_text().replace('name="context" value="default"', 'name="context" value="bench"')
    conf.write_text(text)
    return base


def run_rtp(level: int, secs: float) -> dict[str, float]:
    """``level`` calls at once, each receiving ``secs`` of tone; intervals of fsd's packets."""
    base = _base()
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 * 1024 * 1024)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(0.2)
    scen = base / "uac_rtp.xml"
    scen.write_text(SCENARIO.read_text().replace(
        "m=audio [media_port] RTP/AVP 0 101", f"m=audio {rx.getsockname()[1]} RTP/AVP 0 101"))
    arrivals: dict[int, list[float]] = {}
    try:
        with running_switch(base, MODULES) as sw:
            sw.globals.set("bench_ms", str(int(secs * 1000)))
            port = sw.globals.get("sofia_internal_port")
            args = ["sipp", f"127.0.0.1:{port}", "-sf", str(scen), "-s", "7011",
                    "-i", "127.0.0.1", "-p", str(free_port()), "-mp", str(free_port()),
                    "-m", str(level), "-r", str(level), "-l", str(level), "-nostdin",
                    "-timeout", f"{int(secs) + 60}s", "-bind_local"]
            proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            quiet = 0
            while proc.poll() is None or quiet < 5:
                try:
                    data = rx.recv(2048)
                except TimeoutError:
                    quiet += 1
                    continue
                quiet = 0
                if len(data) >= 12:
                    ssrc = int.from_bytes(data[8:12], "big")
                    arrivals.setdefault(ssrc, []).append(time.monotonic())
            out, _ = proc.communicate()
            ok = _count(out, "Successful call")
    finally:
        rx.close()
        shutil.rmtree(base, ignore_errors=True)
    gaps = [b - a for ts in arrivals.values() for a, b in zip(ts, ts[1:], strict=False)]
    import numpy as np

    g = np.array(gaps or [0.0]) * 1000
    expected = level * secs / 0.02
    return {"level": level, "ok": ok, "streams": len(arrivals),
            "received": sum(len(v) for v in arrivals.values()), "expected": expected,
            "p50": float(np.percentile(g, 50)), "p99": float(np.percentile(g, 99)),
            "max": float(g.max()), "over30": float((g > 30).mean() * 100)}


def run(calls: int, rate: int, limit: int) -> dict[str, float]:
    base = _base()
    try:
        with running_switch(base, MODULES) as sw:
            port = sw.globals.get("sofia_internal_port")
            args = ["sipp", f"127.0.0.1:{port}", "-sf", str(SCENARIO), "-s", "7004",
                    "-i", "127.0.0.1", "-p", str(free_port()), "-mp", str(free_port()),
                    "-m", str(calls), "-r", str(rate), "-l", str(limit), "-nostdin",
                    "-timeout", "120s", "-bind_local"]
            t0 = time.monotonic()
            r = subprocess.run(args, capture_output=True, text=True, timeout=300)
            elapsed = time.monotonic() - t0
            ok = _count(r.stdout, "Successful call")
            failed = _count(r.stdout, "Failed call")
            deadline = time.monotonic() + 30
            while sw.sessions and time.monotonic() < deadline:
                time.sleep(0.05)
            left = len(sw.sessions)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return {"calls": calls, "ok": ok, "failed": failed, "elapsed": elapsed,
            "cps": ok / elapsed if elapsed else 0.0,
            "failed_share": failed / max(1, ok + failed), "left": left}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=300)
    ap.add_argument("--rate", type=int, default=50)
    ap.add_argument("--limit", type=int, default=100, help="most calls SIPp keeps open")
    ap.add_argument("--rtp-levels", default="10,50", help="concurrent RTP calls, comma-separated")
    ap.add_argument("--rtp-secs", type=float, default=4.0)
    a = ap.parse_args()
    if shutil.which("sipp") is None:
        sys.exit("sipp (Debian sip-tester) is not installed")
    f = run(a.calls, a.rate, a.limit)
    print(f"SIP calls into a Lua script: {f['ok']}/{f['calls']} completed in {f['elapsed']:.1f}s "
          f"at offered {a.rate}/s -> {f['cps']:.1f} calls/s, failed share "
          f"{100 * f['failed_share']:.2f}%, sessions left {f['left']}")
    for level in [int(x) for x in a.rtp_levels.split(",") if x.strip()]:
        r = run_rtp(level, a.rtp_secs)
        print(f"{level:4d} concurrent SIP calls with RTP: {r['ok']} answered, {r['streams']} streams, "
              f"{r['received']}/{int(r['expected'])} packets; interval p50 {r['p50']:.1f} ms, "
              f"p99 {r['p99']:.1f} ms, max {r['max']:.1f} ms, >30 ms {r['over30']:.2f}%")


if __name__ == "__main__":
    main()
