"""SIP at scale, driven by SIPp (its own process) against a switch in this process.

    python bench/bench_sip.py --cps 150 --seconds 60 [--runs 3] [--profile-sps N]
    python bench/bench_sip.py --rtp 500 --seconds 60

``--cps N``: SIPp offers N calls/s for S seconds (``bench/sipp/uac_wait_bye.xml``); each
call runs a Lua script (answer, sleep 1 s, hang up) and SIPp waits for fsd's BYE.  Printed:
achieved CPS, failed share, 503s (refused by a session-rate limit), calls left afterwards,
CPU of fsd and of SIPp, core-database writes/failures/drops.

``--rtp N``: N concurrent calls (``bench/sipp/uac_rtp.xml``): SIPp sends a PCMU stream
(``rtp_stream``) to fsd; fsd plays a tone to half the calls and echoes the other half.  The
SDP of each call names a port of a receiver process this script runs (fsd sends there, SIPp
sends from its own port; auto-adjust is off so fsd does not latch onto SIPp's port), so
every packet fsd sends is time-stamped outside fsd and SIPp.  Printed: per-stream packet
interval p99 (median and worst stream, and pooled), sequence gaps, dropped calls, CPU per
call, memory per established call (RSS delta / calls), and where the jitter is: the
interval between the starts of the per-tick bursts (the tick's own timing) and how far a
stream's offset in its burst moves (the send loop's).  First, the same receiver measures
the machine floor: a bare sender process (no calls, no GIL to share) pacing N sockets.
``--send kernel|thread`` picks who sends (switch.conf ``rtp-kernel-timing``); ``--busy N``
runs N threads computing in fsd's process meanwhile (a busy script).

The switch runs as ``fsd -nc`` would run it: the daemon's runtime tuning
(``fsd.gctune.tune_for_daemon``) and its media clock at realtime priority, FreeSWITCH's
default too (``--priority normal`` is ``fsd -np``; the figure says which it got).

Every run first samples the machine for 2 s without fsd or SIPp (``machine busy``: what
the other processes use, the "idle baseline") and prints the load average, since figures
on a shared 2-core machine depend on it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import wave
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fsd_modules.mod_sofia_lite.rtp_io import send_modes  # noqa: E402

from fsd.gctune import tune_for_daemon  # noqa: E402
from fsd.media.clock import get_clock, set_priority  # noqa: E402
from fsd.testing import prepare_base, running_switch  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SIPP = ROOT / "bench" / "sipp"
MODULES = ["mod_commands", "mod_db", "mod_dptools", "mod_loopback", "mod_dialplan_xml",
           "mod_lua", "mod_sofia_lite"]
DIALPLAN = """<include><context name="bench">
  <extension name="lua"><condition field="destination_number" expression="^7004$">
    <action application="lua" data="bench_sip.lua"/>
  </condition></extension>
  <extension name="tone"><condition field="destination_number" expression="^7100$">
    <action application="set" data="disable_rtp_auto_adjust=true"/>
    <action application="answer"/>
    <action application="playback" data="tone_stream://%(1000,0,440);loops=-1"/>
  </condition></extension>
  <extension name="echo"><condition field="destination_number" expression="^7101$">
    <action application="set" data="disable_rtp_auto_adjust=true"/>
    <action application="answer"/>
    <action application="echo"/>
  </condition></extension>
</context></include>"""
LUA = """
session:answer()
session:sleep(1000)
session:hangup()
"""
HZ = os.sysconf("SC_CLK_TCK")
# Linux's SO_TIMESTAMPNS (struct timespec per datagram); Python does not name it.
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- machine and process figures ------------------------------------------------------------
def cpu_times() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


def machine_busy(secs: float) -> float:
    """Share of all cores busy over ``secs`` (in cores, e.g. 1.4 of 2)."""
    b0, t0 = cpu_times()
    time.sleep(secs)
    b1, t1 = cpu_times()
    return (b1 - b0) / max(1, t1 - t0) * (os.cpu_count() or 1)


def proc_cpu(pid: int) -> float:
    """User+system CPU seconds of a process (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / HZ
    except OSError:
        return 0.0


def rss_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def conditions() -> str:
    busy = machine_busy(2.0)
    la = os.getloadavg()
    return (f"machine: {os.cpu_count()} cores, load average {la[0]:.2f} {la[1]:.2f} {la[2]:.2f}; "
            f"idle baseline (others, before start) {busy:.2f} cores busy")


def udp_drops(port: int) -> int:
    """Datagrams the kernel dropped on the socket bound to ``port`` (/proc/net/udp)."""
    total = 0
    for path in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    if int(parts[1].rsplit(":", 1)[1], 16) == port:
                        total += int(parts[-1])
        except OSError:
            pass
    return total


def sipp_screen_count(text: str, label: str) -> int:
    m = re.findall(rf"{label}\s*\|\s*\d*\s*\|\s*(\d+)", text)
    return int(m[-1]) if m else 0


def sipp_msg_count(text: str, status: str) -> int:
    """Count of a received response from SIPp's final scenario screen (``503 <---- N``)."""
    m = re.findall(rf"^\s*{status}\s*<-+\s+(?:E-RTD\d\s+)?(\d+)", text, flags=re.M)
    return int(m[-1]) if m else 0


def prepare(base: Path, settings: dict[str, str], profile: dict[str, str]) -> None:
    prepare_base(base, MODULES, {"conf/dialplan/bench.xml": DIALPLAN,
                                 "scripts/bench_sip.lua": LUA}, switch_settings=settings)
    conf = base / "conf" / "autoload" / "sofia.conf.xml"
    text = conf.read_text().replace('name="context" value="default"', 'name="context" value="bench"')
    extra = "".join(f'\n        <param name="{k}" value="{v}"/>' for k, v in profile.items())
    text = re.sub(r'(<profile name="internal">.*?<settings>)', lambda m: m.group(1) + extra,
                  text, count=1, flags=re.S)
    conf.write_text(text)


def core_db_stats(sw) -> dict[str, int]:
    from fsd.services import DATABASE

    db = sw.services.get(DATABASE)
    core = db.coredb if db is not None else None
    return core.stats() if core is not None else {}


# -- calls per second ----------------------------------------------------------------------
def run_cps(sw, base: Path, cps: int, seconds: int) -> dict[str, float]:
    port = sw.globals.get("sofia_internal_port")
    calls = cps * seconds
    args = ["sipp", f"127.0.0.1:{port}", "-sf", str(SIPP / "uac_wait_bye.xml"), "-s", "7004",
            "-i", "127.0.0.1", "-p", str(free_port()), "-mp", str(free_port()),
            "-m", str(calls), "-r", str(cps), "-l", str(cps * 4), "-nostdin",
            "-timeout", f"{seconds + 90}s", "-bind_local", "-max_recv_loops", "10000",
            "-trace_screen", "-screen_file", str(base / "cps_screen.log"),
            "-trace_err", "-error_file", str(base / "cps_errors.log")]
    db0 = core_db_stats(sw)
    drops0 = udp_drops(int(port))
    c0, w0, m0 = os.times(), time.monotonic(), cpu_times()
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         cwd=base)
    sipp_cpu = 0.0
    peak = 0
    while p.poll() is None:
        sipp_cpu = max(sipp_cpu, proc_cpu(p.pid))
        peak = max(peak, len(sw.sessions))
        time.sleep(0.2)
    out, err = p.communicate()
    elapsed = time.monotonic() - w0
    c1, m1 = os.times(), cpu_times()
    ok = sipp_screen_count(out, "Successful call")
    failed = sipp_screen_count(out, "Failed call")
    screen = base / "cps_screen.log"
    refused = sipp_msg_count(screen.read_text() if screen.exists() else "", "503")
    deadline = time.monotonic() + 30
    while sw.sessions and time.monotonic() < deadline:
        time.sleep(0.05)
    db1 = core_db_stats(sw)
    drops = udp_drops(int(port)) - drops0
    errs = base / "cps_errors.log"
    reasons: dict[str, int] = {}
    if errs.exists():  # why SIPp failed calls: one line per failure, timestamps dropped
        for line in errs.read_text(errors="replace").splitlines():
            if re.search(r"[Aa]bort|[Tt]imeout|unexpected", line):
                key = re.sub(r"^[\d\-: .]+\t?", "", line)
                key = re.sub(r"\d+", "N", key)[:100]
                reasons[key] = reasons.get(key, 0) + 1
        errs.unlink()
    fsd_cpu = c1.user + c1.system - c0.user - c0.system
    machine = (m1[0] - m0[0]) / max(1, m1[1] - m0[1]) * (os.cpu_count() or 1) * elapsed
    if p.returncode not in (0, 1) and ok == 0:
        print(err[-2000:], file=sys.stderr)
    return {"offered": calls, "ok": ok - refused, "refused": refused, "failed": failed,
            "elapsed": elapsed, "cps": (ok - refused) / seconds,
            "failed_share": failed / max(1, ok + failed), "left": len(sw.sessions),
            "peak": peak, "fsd_cpu": fsd_cpu / elapsed, "sipp_cpu": sipp_cpu / elapsed,
            "others_cpu": max(0.0, machine - fsd_cpu - sipp_cpu) / elapsed,
            "drops": drops, "reasons": sorted(reasons.items(), key=lambda kv: -kv[1])[:3],
            "db_written": db1.get("written", 0) - db0.get("written", 0),
            "db_failed": db1.get("failed", 0) - db0.get("failed", 0),
            "db_dropped": db1.get("dropped", 0) - db0.get("dropped", 0),
            "db_queued": db1.get("queued", 0)}


def cps_main(a: argparse.Namespace) -> None:
    print(conditions(), flush=True)
    base = Path(tempfile.mkdtemp(prefix="bench_sip_"))
    profile = {"sessions-per-second": str(a.profile_sps)} if a.profile_sps else {}
    try:
        prepare(base, {"sessions-per-second": str(a.switch_sps), "max-sessions": "5000",
                       "loglevel": "warning"}, profile)
        with running_switch(base, MODULES) as sw:
            tune_for_daemon()  # what `fsd -nc` does once started (GC, GIL switch interval)
            set_priority(a.priority)  # fsd -nc's default is realtime (FreeSWITCH's too)
            for i in range(a.runs):
                f = run_cps(sw, base, a.cps, a.seconds)
                print(f"run {i + 1}: offered {a.cps}/s x {a.seconds}s = {f['offered']}: answered "
                      f"{f['ok']} -> {f['cps']:.1f} calls/s (SIPp done after {f['elapsed']:.0f}s), "
                      f"refused 503 {f['refused']}, failed "
                      f"{f['failed']} ({100 * f['failed_share']:.3f}%), left {f['left']}, peak "
                      f"{f['peak']} calls; CPU fsd {f['fsd_cpu']:.2f} SIPp {f['sipp_cpu']:.2f} "
                      f"others {f['others_cpu']:.2f} cores; core db written {f['db_written']} "
                      f"failed {f['db_failed']} dropped {f['db_dropped']} still queued "
                      f"{f['db_queued']}; SIP socket drops "
                      f"{f['drops']}", flush=True)
                for reason, count in f["reasons"]:
                    print(f"    SIPp failure x{count}: {reason}")
    finally:
        shutil.rmtree(base, ignore_errors=True)


# -- concurrent RTP calls --------------------------------------------------------------------
def receiver_main(n: int, secs: float) -> None:
    """Child process: N UDP sockets fsd sends to; per-stream arrival times and sequence."""
    import select

    import numpy as np

    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 18)
        # Kernel arrival times: what fsd's sending looks like on the wire, not how late
        # this (Python, possibly descheduled) receiver got round to reading.
        s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        s.bind(("127.0.0.1", 0))
        s.setblocking(False)
        socks.append(s)
    print(json.dumps([s.getsockname()[1] for s in socks]), flush=True)
    ep = select.epoll()
    for s in socks:
        ep.register(s.fileno(), select.EPOLLIN)
    fd_ix = {s.fileno(): i for i, s in enumerate(socks)}
    times: list[list[float]] = [[] for _ in socks]
    seqs: list[list[int]] = [[] for _ in socks]
    window = (0.0, 0.0)
    ancsize = socket.CMSG_SPACE(16)
    # SO_TIMESTAMPNS stamps are CLOCK_REALTIME; the window is in monotonic time.
    offset = time.monotonic() - time.time()

    def wall_to_mono(anc: list) -> float:
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                sec, nsec = struct.unpack("qq", data[:16])
                return sec + nsec / 1e9 + offset
        return time.monotonic()

    end = time.monotonic() + secs + 600
    while time.monotonic() < end:
        for fd, _ in ep.poll(0.5):
            i = fd_ix[fd]
            while True:
                try:
                    d, anc, _fl, _ad = socks[i].recvmsg(2048, ancsize)
                except BlockingIOError:
                    break
                t = wall_to_mono(anc)
                if len(d) >= 12:
                    times[i].append(t)
                    seqs[i].append(struct.unpack_from("!H", d, 2)[0])
        if sys.stdin in select.select([sys.stdin], [], [], 0)[0]:
            line = sys.stdin.readline()
            if not line:
                break
            window = tuple(json.loads(line))
            break
    lo, hi = window
    p99s, pooled, gaps, silent = [], [], 0, 0
    for t, q in zip(times, seqs, strict=True):
        ta = np.array(t)
        keep = (ta >= lo) & (ta <= hi)
        if keep.sum() < 3:
            silent += 1
            continue
        iv = np.diff(ta[keep]) * 1000
        p99s.append(float(np.percentile(iv, 99)))
        pooled.append(iv)
        qa = np.array(q)[keep].astype(np.int64)
        d = (np.diff(qa) % 65536)
        gaps += int((d != 1).sum())
    allv = np.concatenate(pooled) if pooled else np.zeros(1)
    burst = burst_figures(times, lo, hi)
    print(json.dumps({**burst,
        "streams": len(p99s), "silent": silent, "gaps": gaps,
        "packets": int(sum(len(t) for t in times)),
        "p99_median": float(np.median(p99s)) if p99s else 0.0,
        "p99_worst": float(max(p99s)) if p99s else 0.0,
        "p99_pooled": float(np.percentile(allv, 99)), "p50_pooled": float(np.percentile(allv, 50)),
        "max": float(allv.max()), "over30": float((allv > 30).mean())}), flush=True)


def burst_figures(times: list[list[float]], lo: float, hi: float) -> dict[str, float]:
    """Where the jitter comes from: fsd sends every stream's packet in one burst per tick,
    so arrivals fall into bursts (split where nothing arrived for 5 ms).  The interval
    between burst starts carries the tick's own timing (wake-up, timer); a stream's offset
    into its burst, tick to tick, carries the send loop's (a stall half-way moves every
    later stream).  p99s in ms."""
    import numpy as np

    t_all, sid = [], []
    for i, t in enumerate(times):
        ta = np.asarray(t)
        ta = ta[(ta >= lo) & (ta <= hi)]
        t_all.append(ta)
        sid.append(np.full(len(ta), i))
    if not t_all or not sum(len(t) for t in t_all):
        return {}
    t = np.concatenate(t_all)
    ids = np.concatenate(sid)
    order = np.argsort(t)
    t, ids = t[order], ids[order]
    starts = np.concatenate(([0], np.nonzero(np.diff(t) > 0.005)[0] + 1))
    burst_no = np.cumsum(np.isin(np.arange(len(t)), starts)) - 1
    first = t[starts]
    last = np.append(t[starts[1:] - 1], t[-1])
    offset = t - first[burst_no]
    jit = []
    for i in np.unique(ids):
        o = offset[ids == i]
        if len(o) > 2:
            jit.append(np.abs(np.diff(o)))
    oj = np.concatenate(jit) if jit else np.zeros(1)
    return {"burst_start_p99": float(np.percentile(np.diff(first) * 1000, 99)),
            "burst_len_p50": float(np.percentile((last - first) * 1000, 50)),
            "burst_len_p99": float(np.percentile((last - first) * 1000, 99)),
            "offset_jitter_p99": float(np.percentile(oj * 1000, 99))}


def write_inf(path: Path, ports: list[int]) -> None:
    half = len(ports) // 2
    lines = ["SEQUENTIAL"] + [f"{'7100' if i < half else '7101'};{p}" for i, p in enumerate(ports)]
    path.write_text("\n".join(lines) + "\n")


def write_wav(path: Path, secs: float = 2.0) -> None:
    import numpy as np

    n = int(8000 * secs)
    pcm = (np.sin(2 * np.pi * 440 * np.arange(n) / 8000) * 8000).astype("<i2")
    # G.711 mu-law encode (for SIPp, which sends the file's bytes as PT 0 payload).
    x = np.clip(pcm.astype(np.int32), -32635, 32635)
    sign = np.where(x < 0, 0x80, 0)
    x = np.abs(x) + 0x84
    exp = np.floor(np.log2(x)).astype(np.int32) - 7
    mant = (x >> (exp + 3)) & 0x0F
    ulaw = (~(sign | (exp << 4) | mant)) & 0xFF
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(1)
        w.setframerate(8000)
        w.writeframes(ulaw.astype(np.uint8).tobytes())
    # WAV header format 1 (PCM) with 8-bit is what SIPp skips; it sends the data as is.


def machine_floor(n: int, seconds: float) -> dict[str, float]:
    """The same measurement with the simplest sender there is and nothing else running:
    a separate process (no GIL to share, no calls, no SIP) sending one packet to each of N
    sockets every 20 ms from absolute deadlines, at realtime priority when it may.  Its
    interval p99 is what this machine's timers and loopback allow any sender."""
    rx = subprocess.Popen([sys.executable, __file__, "--receiver", str(n), str(seconds)],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    ports = json.loads(rx.stdout.readline())
    tx = subprocess.Popen([sys.executable, __file__, "--floor-sender", json.dumps(ports),
                           str(seconds)], stdout=subprocess.PIPE, text=True)
    window = json.loads(tx.stdout.readline())
    tx.wait()
    rx.stdin.write(json.dumps(window) + "\n")
    rx.stdin.flush()
    res = json.loads(rx.stdout.readline())
    rx.wait()
    return res


def floor_sender_main(ports: list[int], seconds: float) -> None:
    """Child process of machine_floor."""
    try:
        os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(1))
    except (OSError, AttributeError):
        pass
    socks = []
    for _ in ports:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.setblocking(False)
        socks.append(s)
    addrs = [("127.0.0.1", p) for p in ports]
    pkt = struct.pack("!BBHII", 0x80, 0, 0, 0, 1) + b"\xff" * 160
    start = time.monotonic() + 1.0  # one second to settle, then the window
    deadline, seq = time.perf_counter(), 0
    end = start + seconds
    while time.monotonic() < end:
        deadline += 0.02
        now = time.perf_counter()
        if deadline > now:
            time.sleep(deadline - now)
        head = pkt[:2] + struct.pack("!H", seq & 0xFFFF) + pkt[4:]
        for s, a in zip(socks, addrs, strict=True):
            s.sendto(head, a)
        seq += 1
    print(json.dumps([start, end]), flush=True)


def busy_threads(count: int) -> threading.Event:
    """``count`` threads in the switch's process running pure Python until the returned
    event is set: what a script computing in a loop does to everything that needs the
    GIL (the clock thread's sends among them)."""
    stop = threading.Event()

    def spin() -> None:
        x = 0
        while not stop.is_set():
            for _ in range(1000):
                x += 1

    for i in range(count):
        threading.Thread(target=spin, name=f"bench-busy-{i}", daemon=True).start()
    return stop


def run_rtp(sw, base: Path, n: int, seconds: int, busy: int = 0) -> dict[str, float]:
    port = sw.globals.get("sofia_internal_port")
    rx = subprocess.Popen([sys.executable, __file__, "--receiver", str(n), str(seconds)],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    ports = json.loads(rx.stdout.readline())
    inf = base / "rtp_calls.csv"
    write_inf(inf, ports)
    wav = base / "tone_pcmu.wav"
    write_wav(wav)
    hold_ms = seconds * 1000 + 4000 + n * 1000 // 50  # all calls up before the window closes
    scen = (SIPP / "uac_rtp.xml").read_text().replace("{{wav}}", str(wav)).replace(
        "{{hold_ms}}", str(hold_ms))
    (base / "uac_rtp.xml").write_text(scen)
    rate = 50
    args = ["sipp", f"127.0.0.1:{port}", "-sf", str(base / "uac_rtp.xml"), "-inf", str(inf),
            "-i", "127.0.0.1", "-p", str(free_port()), "-mp", str(free_port()),
            "-m", str(n), "-r", str(rate), "-l", str(n), "-nostdin",
            "-timeout", f"{hold_ms // 1000 + 120}s", "-bind_local", "-max_recv_loops", "10000"]
    rss0 = rss_kb()
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=base)
    deadline = time.monotonic() + n / rate + 60
    while len(sw.sessions) < n and time.monotonic() < deadline and p.poll() is None:
        time.sleep(0.1)
    established = len(sw.sessions)
    if p.poll() is not None and established < n:
        print(f"SIPp exited early ({p.returncode}): {p.stderr.read()[-1500:]}", file=sys.stderr)
    if os.environ.get("BENCH_DEBUG"):
        for s in list(sw.sessions.values())[:2]:
            print({k: s.get_variable(k) for k in ("remote_media_ip", "remote_media_port",
                   "local_media_port", "rtp_use_codec_name", "destination_number")})
    time.sleep(2.0)  # streams settle
    rss1 = rss_kb()
    stop_busy = busy_threads(busy)
    clock = get_clock(20)
    clock.reset_stats()
    s0, c0, w0 = proc_cpu(p.pid), os.times(), time.monotonic()
    r0, m0 = proc_cpu(rx.pid), cpu_times()
    time.sleep(seconds)
    s1, c1, w1 = proc_cpu(p.pid), os.times(), time.monotonic()
    r1, m1 = proc_cpu(rx.pid), cpu_times()
    stop_busy.set()
    cst = clock.stats()
    still = len(sw.sessions)
    rx.stdin.write(json.dumps([w0, w1]) + "\n")
    rx.stdin.flush()
    res = json.loads(rx.stdout.readline())
    if os.environ.get("BENCH_DEBUG"):
        print(res, w0, w1)
    rx.wait()
    out, err = p.communicate(timeout=hold_ms / 1000 + 180)
    failed = sipp_screen_count(out, "Failed call")
    deadline = time.monotonic() + 30
    while sw.sessions and time.monotonic() < deadline:
        time.sleep(0.05)
    if failed and p.returncode not in (0, 1):
        print(err[-2000:], file=sys.stderr)
    fsd = (c1.user + c1.system - c0.user - c0.system) / (w1 - w0)
    machine = (m1[0] - m0[0]) / max(1, m1[1] - m0[1]) * (os.cpu_count() or 1)
    rx_cpu, sipp_cpu = (r1 - r0) / (w1 - w0), (s1 - s0) / (w1 - w0)
    return {"n": n, "established": established, "still": still, "failed": failed,
            "left": len(sw.sessions), **res, "fsd_cpu": fsd, "sipp_cpu": sipp_cpu,
            "rx_cpu": rx_cpu, "others_cpu": max(0.0, machine - fsd - sipp_cpu - rx_cpu),
            "cpu_per_call": 100 * fsd / max(1, established),
            "kb_per_call": (rss1 - rss0) / max(1, established),
            "clock_late_p99": cst.get("late_p99_ms", 0.0), "clock_work": cst.get("work_mean_ms", 0.0),
            "clock_cpu": cst.get("cpu_mean_ms", 0.0),
            "clock_overruns": cst.get("overruns", 0), "clock_priority": cst.get("priority"),
            "send_mode": ",".join(m for _pt, m, _n in send_modes()) or "-"}


def rtp_main(a: argparse.Namespace) -> None:
    print(conditions(), flush=True)
    fl = machine_floor(a.rtp, min(a.seconds, 20))
    print(f"machine floor (a bare sender process, nothing else, {a.rtp} streams): interval "
          f"p99 per stream median {fl['p99_median']:.2f} ms worst {fl['p99_worst']:.2f} ms, "
          f"burst start interval p99 {fl.get('burst_start_p99', 0):.2f} ms, a stream's "
          f"offset moves p99 {fl.get('offset_jitter_p99', 0):.2f} ms", flush=True)
    base = Path(tempfile.mkdtemp(prefix="bench_sip_rtp_"))
    try:
        prepare(base, {"sessions-per-second": "1000", "max-sessions": "5000",
                       "loglevel": "warning",
                       "rtp-kernel-timing": "true" if a.send == "kernel" else "false"}, {})
        with running_switch(base, MODULES) as sw:
            tune_for_daemon()  # what `fsd -nc` does once started (GC, GIL switch interval)
            set_priority(a.priority)  # fsd -nc's default is realtime (FreeSWITCH's too)
            for i in range(a.runs):
                f = run_rtp(sw, base, a.rtp, a.seconds, a.busy)
                print(f"run {i + 1}: {f['established']}/{f['n']} calls established, "
                      f"{f['still']} still up at the end of the {a.seconds}s window, SIPp failed "
                      f"{f['failed']}, left {f['left']}; streams measured {f['streams']} "
                      f"(silent {f['silent']}); interval p99 per stream median "
                      f"{f['p99_median']:.2f} ms worst {f['p99_worst']:.2f} ms, pooled p50 "
                      f"{f['p50_pooled']:.2f} p99 {f['p99_pooled']:.2f} max {f['max']:.1f} ms, "
                      f">30 ms {100 * f['over30']:.3f}%; sequence gaps {f['gaps']}; CPU fsd "
                      f"{f['fsd_cpu']:.2f} cores ({f['cpu_per_call']:.3f}% of a core per call), "
                      f"SIPp {f['sipp_cpu']:.2f} cores, the bench's receiver "
                      f"{f['rx_cpu']:.2f}, others {f['others_cpu']:.2f}; memory {f['kb_per_call']:.0f} KB per "
                      f"established call; media clock: tick work mean {f['clock_work']:.2f} ms "
                      f"(its CPU {f['clock_cpu']:.2f} ms), "
                      f"lateness p99 {f['clock_late_p99']:.2f} ms, overruns {f['clock_overruns']}, "
                      f"priority {f['clock_priority']}; packets sent by: {f['send_mode']}; "
                      f"burst start interval p99 {f.get('burst_start_p99', 0):.2f} ms, burst "
                      f"length p50 {f.get('burst_len_p50', 0):.2f} p99 "
                      f"{f.get('burst_len_p99', 0):.2f} ms, a stream's offset in it moves "
                      f"p99 {f.get('offset_jitter_p99', 0):.2f} ms",
                      flush=True)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cps", type=int, default=0, help="offered calls per second")
    ap.add_argument("--busy", type=int, default=0,
                    help="--rtp: threads running pure Python in fsd's process meanwhile "
                         "(a script computing in a loop)")
    ap.add_argument("--send", choices=("kernel", "thread"), default="kernel",
                    help="RTP packets queued with the kernel for each deadline (io_uring, "
                         "fsd's default where available) or sent by the media clock thread "
                         "(switch.conf rtp-kernel-timing=false)")
    ap.add_argument("--rtp", type=int, default=0, help="concurrent RTP calls")
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--priority", default="realtime", choices=["realtime", "normal"],
                    help="the media clock's priority (fsd -nc: realtime, as FreeSWITCH; "
                         "normal is fsd -np)")
    ap.add_argument("--switch-sps", type=int, default=1000,
                    help="the switch's sessions-per-second (default high: measure fsd)")
    ap.add_argument("--profile-sps", type=int, default=0,
                    help="the profile's sessions-per-second (503 above it)")
    ap.add_argument("--receiver", nargs=2, type=float, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--floor-sender", nargs=2, default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.floor_sender is not None:
        floor_sender_main(json.loads(a.floor_sender[0]), float(a.floor_sender[1]))
        return
    if a.receiver is not None:
        receiver_main(int(a.receiver[0]), a.receiver[1])
        return
    if shutil.which("sipp") is None:
        sys.exit("sipp (Debian sip-tester) is not installed")
    if a.rtp:
        rtp_main(a)
    else:
        cps_main(argparse.Namespace(**{**vars(a), "cps": a.cps or 50}))


if __name__ == "__main__":
    main()
