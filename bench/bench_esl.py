"""Event-socket figures: events/s delivered to 1 and to 10 plain listeners, api round-trip
latency (median, p99), and the same api client with and without a slow (non-reading)
listener attached.  Starts a real daemon on a temporary base with an ephemeral port.

    python bench/bench_esl.py [--events 50000]
"""

from __future__ import annotations

import argparse
import importlib.util
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path

from fsd.events import Event

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("esl_daemon", ROOT / "tests/mod_event_socket/daemon.py")
daemon = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(daemon)


def reader(port: int, n: int, done: list[float], ready: threading.Barrier, slow: bool = False) -> None:
    """Subscribe to CUSTOM bench::ev and count frames until the one with Last: yes."""
    c = daemon.RawClient(port, timeout=60)
    c.auth()
    c.cmd("event plain CUSTOM bench::ev")
    ready.wait()
    if slow:
        time.sleep(3600)  # never reads: the switch must not care
    sock, buf, count = c.sock, bytearray(), 0
    while True:
        data = sock.recv(1 << 20)
        if not data:
            break
        buf += data
        count += buf.count(b"Content-Type: text/event-plain")
        if b"Last: yes" in buf[-4096:]:
            break
        # keep only a tail so counting stays linear
        del buf[:-4096]
    done.append(time.perf_counter())
    c.close()


def deliver(sw, port: int, listeners: int, n: int) -> float:
    ready = threading.Barrier(listeners + 1)
    done: list[float] = []
    ts = [threading.Thread(target=reader, args=(port, n, done, ready), daemon=True)
          for _ in range(listeners)]
    for t in ts:
        t.start()
    ready.wait()
    time.sleep(0.2)
    t0 = time.perf_counter()
    for i in range(n):
        e = Event("CUSTOM", "bench::ev")
        e.add_header("Seq", str(i))
        if i == n - 1:
            e.add_header("Last", "yes")
        sw.events.fire(e)
        if i % 20000 == 19999:
            time.sleep(0.001)
    for t in ts:
        t.join(120)
    return n / (max(done) - t0)


def api_latency(port: int, rounds: int) -> tuple[float, float]:
    c = daemon.RawClient(port)
    c.auth()
    lat = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        c.cmd("api status")
        lat.append((time.perf_counter() - t0) * 1000)
    c.close()
    lat.sort()
    return statistics.median(lat), lat[int(len(lat) * 0.99) - 1]


def status_under_slow_clients(port: int, slow_clients: int = 40, rounds: int = 200) -> tuple[float, float]:
    """`api status` round trip (median, p99 ms) while ``slow_clients`` other connections
    each run `api msleep 3000` (issue 19: no client's slow command delays another's)."""
    slow = [daemon.RawClient(port, timeout=60) for _ in range(slow_clients)]
    for c in slow:
        c.auth()
        c.send("api msleep 3000\n\n")
    time.sleep(0.2)  # the slow commands are running
    med, p99 = api_latency(port, rounds)
    for c in slow:
        c.frame()
        c.close()
    return med, p99


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=50000)
    ap.add_argument("--rounds", type=int, default=2000)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, daemon.esl_daemon(tmp) as (sw, port):
        one = deliver(sw, port, 1, a.events)
        ten = deliver(sw, port, 10, a.events // 5)
        print(f"events/s to 1 plain listener:   {one:10.0f}  (target >= 20000)")
        print(f"events/s to 10 plain listeners: {ten:10.0f}  per listener, "
              f"{ten * 10:.0f} frames/s in all")
        med, p99 = api_latency(port, a.rounds)
        print(f"api round trip (no slow listener):   median {med:.3f} ms  p99 {p99:.3f} ms")
        smed, sp99 = status_under_slow_clients(port)
        print(f"api status while 40 connections run a 3 s command: median {smed:.3f} ms  "
              f"p99 {sp99:.3f} ms  (ratio {smed / med:.2f}x; before per-connection threads "
              f"it waited ~11 s)")
        ready = threading.Barrier(2)
        threading.Thread(target=reader, args=(port, 0, [], ready, True), daemon=True).start()
        ready.wait()
        # the slow listener is subscribed; fill its queue while measuring
        stop = threading.Event()

        def storm() -> None:
            i = 0
            while not stop.is_set():
                e = Event("CUSTOM", "bench::ev")
                e.add_header("Seq", str(i))
                sw.events.fire(e)
                i += 1
                if i % 500 == 0:
                    time.sleep(0.005)

        st = threading.Thread(target=storm, daemon=True)
        st.start()
        time.sleep(1.0)
        med2, p992 = api_latency(port, a.rounds)
        stop.set()
        st.join()
        print(f"api round trip (slow listener + event storm): median {med2:.3f} ms  p99 {p992:.3f} ms"
              f"  (ratio {med2 / med:.2f}x median)")
        from fsd_modules.mod_event_socket import get_server

        for line in get_server(sw).status_lines():
            print(line)


if __name__ == "__main__":
    socket.setdefaulttimeout(None)
    main()
