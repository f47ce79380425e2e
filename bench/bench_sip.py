"""SIP figures: SIPp calls per second into a Lua script (answer, read SIP variables, hang
up), and the share of failed calls.  The switch runs in this process on a temporary base
(profile on a free loopback port); SIPp is the caller, offering PCMU with no RTP.

    python bench/bench_sip.py [--calls 300] [--rate 50] [--limit 100]

``--rate`` is SIPp's call rate (calls/s offered); raise it until failed calls appear to find
the ceiling.  Concurrent RTP calls and their packet-interval p99 are printed by
``bench/bench_rtp.py``.
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


def run(calls: int, rate: int, limit: int) -> dict[str, float]:
    base = Path(tempfile.mkdtemp(prefix="bench_sip_"))
    try:
        prepare_base(base, MODULES, {"conf/dialplan/bench.xml": DIALPLAN,
                                     "scripts/bench_sip.lua": LUA},
                     switch_settings={"sessions-per-second": "1000", "loglevel": "warning"})
        conf = base / "conf" / "autoload" / "sofia.conf.xml"
        text = conf.read_text().replace('name="context" value="default"', 'name="context" value="bench"')
        conf.write_text(text)
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
    a = ap.parse_args()
    if shutil.which("sipp") is None:
        sys.exit("sipp (Debian sip-tester) is not installed")
    f = run(a.calls, a.rate, a.limit)
    print(f"SIP calls into a Lua script: {f['ok']}/{f['calls']} completed in {f['elapsed']:.1f}s "
          f"at offered {a.rate}/s -> {f['cps']:.1f} calls/s, failed share "
          f"{100 * f['failed_share']:.2f}%, sessions left {f['left']}")


if __name__ == "__main__":
    main()
