"""A bounded fuzz job against the event socket of a real daemon (issue 19).

Starts ``fsd -nc`` on a temporary base (its own process, its own ESL port), then for a
fixed number of connections sends mutated ESL commands, random bytes and floods, while a
monitor connection times ``api status`` every 50 ms.  Prints the inputs sent, the status
latency (median, p99, max) and whether the daemon's log holds a traceback.

    python bench/esl_fuzz.py [--connections 2000] [--seed 1]

tests/mod_event_socket/test_fuzz_short.py runs a short version of it in CI.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

PASSWORD = "ClueCon"

SEEDS = [
    "api status", "api version", "api show channels", "api eval ${domain}", "api echo hello",
    "api global_getvar", "api uuid_kill 00000000-0000-0000-0000-000000000000",
    "bgapi version", "bgapi status\nJob-UUID: fuzz-job", "event plain ALL", "event json CUSTOM a::b",
    "event xml HEARTBEAT", "nixevent ALL", "noevents", "filter Event-Name CHANNEL_CREATE",
    "filter Unique-ID /^[0-9a-f]+$/", "filter delete all", "log 7", "log info", "nolog",
    "sendevent CUSTOM\nEvent-Subclass: fuzz::x\nX-A: 1", "sendevent NOTIFY\ncontent-type: text/plain\nContent-Length: 5\n\nhello",
    "myevents 00000000-0000-0000-0000-000000000000", "divert_events on", "linger 5", "nolinger",
    "sendmsg 00000000-0000-0000-0000-000000000000\ncall-command: execute\nexecute-app-name: playback",
    "userauth 1000@localhost:1234", "getvar x", "resume", "api fsctl loglevel 7", "api hupall",
    "api fsctl loglevel \u00b2", "log \u20807", "api hangup \u00b2", "api originate null/1 &park",
]

WEIRD = ["\x00", "\xff", "\u00b2", "\u0660", "%", "${", "$${x}", "\r", "\r\n", "\n\n", " " * 50,
         "Content-Length: -1", "Content-Length: 99999999", "Content-Length: 3", "a" * 3000,
         "/^(a|aa)+$/", "\t", "\\", "'", '"', "\u202e"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mutate(rng: random.Random, text: str) -> bytes:
    """One mutated command packet (bytes, ending in a blank line most of the time)."""
    t = list(text)
    for _ in range(rng.randint(0, 4)):
        op = rng.random()
        pos = rng.randint(0, len(t))
        if op < 0.3:
            t[pos:pos] = rng.choice(WEIRD)
        elif op < 0.5 and t:
            del t[pos:pos + rng.randint(1, 8)]
        elif op < 0.7:
            t[pos:pos] = chr(rng.randint(0, 0x2FF))
        elif op < 0.85:
            t = t + list("\n" + rng.choice(SEEDS).split("\n")[0])
        else:
            t = t[: max(0, len(t) - rng.randint(0, 10))]
    data = "".join(t).encode("utf-8", "surrogatepass")
    end = rng.random()
    if end < 0.85:
        data += b"\n\n"
    elif end < 0.9:
        data += b"\r\n\r\n"
    return data


def one_connection(port: int, rng: random.Random) -> int:
    """A connection that maybe authenticates, sends mutated commands, reads a little."""
    sent = 0
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=2)
    except OSError:
        return 0
    try:
        s.settimeout(0.2)
        kind = rng.random()
        if kind < 0.8:
            s.sendall(f"auth {PASSWORD}\n\n".encode())
        if kind < 0.05:
            s.sendall(os.urandom(rng.randint(1, 20000)))  # random bytes
            sent += 1
        elif kind < 0.08:
            s.sendall(b"api status\n\n" * rng.randint(50, 400))  # a pipelined flood
            sent += 1
        else:
            for _ in range(rng.randint(1, 12)):
                s.sendall(mutate(rng, rng.choice(SEEDS)))
                sent += 1
        # read what comes back for a moment (a subscription would stream for ever)
        until = time.monotonic() + 0.3
        try:
            while time.monotonic() < until and s.recv(65536):
                pass
        except (TimeoutError, OSError):
            pass
    except OSError:
        pass
    finally:
        if rng.random() < 0.3:  # an abrupt reset now and then
            try:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            except OSError:
                pass
        s.close()
    return sent


def read_frame(sock: socket.socket, buf: bytearray) -> bytes:
    while b"\n\n" not in buf:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("closed")
        buf += data
    head, _, rest = bytes(buf).partition(b"\n\n")
    m = re.search(rb"Content-Length: (\d+)", head)
    need = int(m.group(1)) if m else 0
    while len(rest) < need:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("closed")
        rest += data
    buf[:] = rest[need:]
    return rest[:need]


def monitor(port: int, stop: threading.Event, latencies: list[float], failures: list[str]) -> None:
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    buf = bytearray()
    read_frame(s, buf)
    s.sendall(f"auth {PASSWORD}\n\n".encode())
    read_frame(s, buf)
    while not stop.is_set():
        t0 = time.perf_counter()
        try:
            s.sendall(b"api status\n\n")
            body = read_frame(s, buf)
        except OSError as e:
            failures.append(f"status failed: {e}")
            return
        latencies.append(time.perf_counter() - t0)
        if not body.startswith(b"UP "):
            failures.append(f"status said {body[:80]!r}")
        stop.wait(0.05)
    s.close()


def start_daemon(base: Path, port: int) -> None:
    from fsd.testing import prepare_base

    prepare_base(base, ["mod_commands", "mod_event_socket", "mod_lua"])
    esl = base / "conf" / "autoload" / "event_socket.conf.xml"
    esl.write_text(re.sub(r'(name="listen-port"\s+value=")[^"]*(")', rf"\g<1>{port}\2",
                          esl.read_text()))
    # The daemon keeps no pipe of ours open (it would hold capture_output for ever).
    subprocess.run([sys.executable, "-m", "fsd.cli", "-nc", "-base", str(base)], check=True,
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=60)


def stop_daemon(base: Path) -> None:
    subprocess.run([sys.executable, "-m", "fsd.cli", "-stop", "-base", str(base)],
                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=60)


def run_fuzz(base: Path, connections: int, seed: int, workers: int = 4) -> dict:
    """Fuzz a daemon started on ``base``; returns the figures (and stops the daemon)."""
    port = free_port()
    start_daemon(base, port)
    stop = threading.Event()
    latencies: list[float] = []
    failures: list[str] = []
    mon = threading.Thread(target=monitor, args=(port, stop, latencies, failures), daemon=True)
    mon.start()
    sent = [0] * workers

    def worker(i: int) -> None:
        rng = random.Random(seed * 1000 + i)
        for _ in range(connections // workers):
            sent[i] += one_connection(port, rng)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    stop.set()
    mon.join(10)
    stop_daemon(base)
    log_text = (base / "log" / "fsd.log").read_text(errors="replace")
    return {"inputs": sum(sent), "seconds": elapsed, "latencies": latencies,
            "failures": failures, "tracebacks": log_text.count("Traceback (most recent call last)"),
            "log": log_text}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--connections", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        r = run_fuzz(Path(tmp), args.connections, args.seed)
    lat = sorted(r["latencies"]) or [0.0]
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    print(f"ESL fuzz: {args.connections} connections, {r['inputs']} inputs in {r['seconds']:.1f} s")
    print(f"  status while fuzzing: {len(lat)} samples, median {statistics.median(lat) * 1000:.2f} ms, "
          f"p99 {p99 * 1000:.2f} ms, max {lat[-1] * 1000:.2f} ms (target < 100 ms)")
    print(f"  monitor failures: {len(r['failures'])}; tracebacks in the log: {r['tracebacks']}")
    if r["tracebacks"]:
        i = r["log"].find("Traceback (most recent call last)")
        print(r["log"][max(0, i - 800): i + 1500])


if __name__ == "__main__":
    main()
