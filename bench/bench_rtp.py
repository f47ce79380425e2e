"""RTP streams through the media clock: what fsd sends, how regularly, at what CPU.

For each level N: N null channels are parked on a real switch, each with an RtpStream
(PCMU, 20 ms) whose port echoes what it receives.  A separate process plays the far ends:
N UDP sockets that each send a 20 ms PCMU packet every 20 ms (paced to absolute deadlines)
and time-stamp every packet fsd sends back.  Printed per level:

* packet interval of what fsd sends, p50 / p99 / max (ms, over all streams), and the share
  of intervals over 30 ms;
* packets fsd sent vs expected, packets it received, jitter-buffer underruns;
* the clock's tick lateness p99, wall time per tick (work) and the clock thread's CPU per
  tick (tkcpu: work well above it means the tick waited for the GIL or a core), the
  poller's epoll calls per tick;
* CPU of the fsd process per stream (% of one core), process CPU / wall / N.

Run: ``python bench/bench_rtp.py [--secs 4] [--levels 10,50,100,200]``
"""

from __future__ import annotations

import argparse
import json
import os
import select
import socket
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))


def peer_main(ports: list[int], secs: float) -> None:
    """The far ends (child process): send paced PCMU, time what comes back."""
    socks = []
    for _ in ports:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.setblocking(False)
        socks.append(s)
    by_fd = {s.fileno(): i for i, s in enumerate(socks)}
    arrivals: list[list[float]] = [[] for _ in ports]
    payload = bytes([0xFF]) * 160
    ep = select.epoll()
    for s in socks:
        ep.register(s.fileno(), select.EPOLLIN)
    print(json.dumps({"peer_ports": [s.getsockname()[1] for s in socks]}), flush=True)
    sys.stdin.readline()  # the parent has started the streams
    start = time.monotonic()
    nxt = start
    seq = ts = 0
    while True:
        now = time.monotonic()
        if now >= nxt:
            hdr = struct.pack("!BBHII", 0x80, 0, seq & 0xFFFF, ts & 0xFFFFFFFF, 0x5EED)
            for s, p in zip(socks, ports, strict=True):
                s.sendto(hdr + payload, ("127.0.0.1", p))
            seq += 1
            ts += 160
            nxt += 0.02
            if now - start > secs:
                break
        for fd, _ in ep.poll(max(0.0, min(nxt - time.monotonic(), 0.005))):
            i = by_fd[fd]
            t = time.monotonic()
            while True:
                try:
                    socks[i].recv(2048)
                except BlockingIOError:
                    break
                arrivals[i].append(t)
    iv = np.concatenate([np.diff(np.array(a[5:])) for a in arrivals if len(a) > 6]) * 1000
    print(json.dumps({
        "received": sum(len(a) for a in arrivals),
        "iv_p50": float(np.percentile(iv, 50)) if len(iv) else 0.0,
        "iv_p99": float(np.percentile(iv, 99)) if len(iv) else 0.0,
        "iv_max": float(iv.max()) if len(iv) else 0.0,
        "iv_over30": float((iv > 30).mean()) if len(iv) else 0.0,
        "sent": seq * len(ports),
    }), flush=True)


def level(sw, n: int, secs: float) -> dict:
    from fsd_modules.mod_sofia_lite.rtp import RtpStream
    from fsd_modules.mod_sofia_lite.rtp_io import poller_for
    from fsd_modules.mod_sofia_lite.sdp import negotiate, parse_sdp

    from fsd.media.clock import get_clock
    from fsd.testing import wait_until

    sessions = []
    for _ in range(n):
        out = sw.api_execute("originate null/bench &park()")
        if not out.startswith("+OK"):
            raise SystemExit(f"originate failed: {out.strip()}")
        sessions.append(sw.sessions[out.split()[1]])
    wait_until(lambda: all(s.answered() and s.media is not None for s in sessions), 30)
    streams = [RtpStream(s) for s in sessions]
    child = subprocess.Popen(
        [sys.executable, __file__, "--peer", str(secs), *[str(st.local_port) for st in streams]],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    peer_ports = json.loads(child.stdout.readline())["peer_ports"]
    for st, pp, s in zip(streams, peer_ports, sessions, strict=True):
        sdp = (f"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
               f"m=audio {pp} RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n")
        st.start(negotiate(parse_sdp(sdp), ["PCMU"]))
        s.media.start_echo()
    clock = get_clock(20)
    poller = poller_for(clock)
    time.sleep(0.3)
    clock.reset_stats()
    polls0, ticks0 = poller.polls, clock.ticks
    c0, w0 = os.times(), time.monotonic()
    child.stdin.write("go\n")
    child.stdin.flush()
    res = json.loads(child.stdout.readline())
    c1, w1 = os.times(), time.monotonic()
    child.wait()
    cs = clock.stats()
    ticks = max(1, clock.ticks - ticks0)
    cpu = (c1.user + c1.system - c0.user - c0.system) / (w1 - w0)
    got = sum(st.packets_in for st in streams)
    under = sum(st.stats()["jb_underruns"] for st in streams)
    for st in streams:
        st.close()
    for s in sessions:
        s.hangup()
    wait_until(lambda: not sw.sessions, 30)
    return {"n": n, **res, "fsd_received": got, "underruns": under,
            "late_p99": cs["late_p99_ms"], "work_ms": cs["work_mean_ms"],
            "tick_cpu_ms": cs.get("cpu_mean_ms", 0.0),
            "polls_per_tick": (poller.polls - polls0) / ticks,
            "cpu_per_stream": 100 * cpu / n}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--secs", type=float, default=4.0)
    ap.add_argument("--levels", default="10,50,100,200")
    ap.add_argument("--peer", type=float, default=None)
    ap.add_argument("ports", nargs="*", type=int)
    a = ap.parse_args()
    if a.peer is not None:
        peer_main(a.ports, a.peer)
        return
    from fsd.testing import running_switch

    print(f"RTP streams (PCMU 20 ms, echo), {a.secs:.0f} s per level, "
          f"{os.cpu_count()} cores")
    print(f"{'N':>5} {'iv p50':>7} {'iv p99':>7} {'iv max':>7} {'>30ms':>6} {'rx/tx':>9} "
          f"{'rx':>7} {'undr':>5} {'late99':>7} {'work':>6} {'tkcpu':>6} {'poll/t':>6} "
          f"{'cpu/st':>7}")
    with tempfile.TemporaryDirectory() as base, running_switch(
            base, ["mod_commands", "mod_dptools", "mod_loopback"],
            switch_settings={"sessions-per-second": "5000", "max-sessions": "5000"}) as sw:
        from fsd.gctune import tune_for_daemon

        tune_for_daemon()  # what `fsd -nc` does once started (GC, GIL switch interval)
        for n in [int(x) for x in a.levels.split(",")]:
            r = level(sw, n, a.secs)
            print(f"{n:>5} {r['iv_p50']:>7.2f} {r['iv_p99']:>7.2f} {r['iv_max']:>7.1f} "
                  f"{100 * r['iv_over30']:>5.2f}% {r['received'] / max(1, r['sent']):>9.3f} "
                  f"{r['fsd_received']:>7} {r['underruns']:>5} {r['late_p99']:>7.2f} "
                  f"{r['work_ms']:>6.2f} {r['tick_cpu_ms']:>6.2f} {r['polls_per_tick']:>6.2f} "
                  f"{r['cpu_per_stream']:>6.2f}%", flush=True)


if __name__ == "__main__":
    main()
