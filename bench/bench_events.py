"""Event system figures: fire+deliver throughput and serialisation speed.

Run: python bench/bench_events.py
Prints events/s fired and delivered to 1 and to 10 subscribers (pre-built events, and
events built while firing), and serialisations/s for plain, json and xml.  The baseline
line is a bare deque hand-off between two threads measured in the same run, so the
ratio says what the bus costs on top of moving an object between threads.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import deque

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from fsd.events import Event, EventBus, set_identity  # noqa: E402

N = int(os.environ.get("BENCH_EVENTS", "100000"))


def make_event(i: int = 0) -> Event:
    e = Event("CHANNEL_ANSWER")
    e.add_header("Unique-ID", "0d6e5f0a-1b2c-4d3e-8f9a-0b1c2d3e4f5a")
    e.add_header("Channel-Name", "sofia/internal/1000@192.0.2.10")
    e.add_header("Caller-Caller-ID-Number", "1000")
    e.add_header("variable_sip_from_user", "1000")
    return e


def baseline_handoff(n: int) -> float:
    """Two threads, one deque, an Event flag: the floor for any thread hand-off."""
    q: deque = deque()
    wake = threading.Event()
    done = threading.Event()
    obj = object()

    def consumer() -> None:
        got = 0
        while got < n:
            try:
                q.popleft()
                got += 1
            except IndexError:
                wake.clear()
                if not q:
                    wake.wait()
        done.set()

    t = threading.Thread(target=consumer)
    t.start()
    t0 = time.perf_counter()
    for _ in range(n):
        q.append(obj)
        if not wake.is_set():
            wake.set()
    done.wait()
    dt = time.perf_counter() - t0
    t.join()
    return n / dt


def bus_throughput(n: int, subscribers: int, prebuilt: bool) -> tuple[float, int]:
    bus = EventBus(queue_len=n + 10)
    bus.start()
    subs = []
    for i in range(subscribers):
        s = bus.subscribe(queue_len=n + 10, name=f"bench{i}")
        s.bind("ALL")
        subs.append(s)
    events = [make_event() for _ in range(min(n, 1000))] if prebuilt else []
    counts = [0] * subscribers

    def reader(k: int) -> None:
        s = subs[k]
        got = 0
        while got < n:
            if s.get(timeout=10) is None:
                break
            got += 1
        counts[k] = got

    threads = [threading.Thread(target=reader, args=(k,)) for k in range(subscribers)]
    for t in threads:
        t.start()
    t0 = time.perf_counter()
    if prebuilt:
        m = len(events)
        for i in range(n):
            bus.fire(events[i % m])
    else:
        for i in range(n):
            bus.fire(make_event(i))
    for t in threads:
        t.join()
    dt = time.perf_counter() - t0
    dropped = sum(s.dropped for s in subs)
    bus.stop()
    return n / dt, dropped


def copy_rates(n: int = 50000) -> tuple[float, float]:
    """copy() (copy-on-write, what each subscriber gets) vs a full structural copy."""
    e = Event("CUSTOM", "bench::copy")
    for i in range(10):
        e.add_header(f"variable_v{i}", f"value {i}")
    t0 = time.perf_counter()
    for _ in range(n):
        e.copy()
    cow = n / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    for _ in range(n):
        c = e.copy()
        c.headers  # noqa: B018 - touching .headers makes the copy private (full copy)
    full = n / (time.perf_counter() - t0)
    return cow, full


def serialise_rate(fmt: str, seconds: float = 1.0) -> float:
    e = make_event()
    e.add_body("some body text\nwith two lines\n")
    n = 0
    t0 = time.perf_counter()
    while True:
        for _ in range(200):
            e.serialize(fmt)
        n += 200
        dt = time.perf_counter() - t0
        if dt >= seconds:
            return n / dt


def main() -> None:
    set_identity(core_uuid="6a2b8f0e-3c1d-4e55-9a7b-0c1d2e3f4a5b", hostname="bench")
    print(f"events per run: {N}, cpus: {os.cpu_count()}, python {sys.version.split()[0]}")
    base = baseline_handoff(N)
    print(f"baseline deque hand-off between 2 threads: {base:,.0f} objects/s")
    t0 = time.perf_counter()
    for _ in range(20000):
        make_event()
    create = 20000 / (time.perf_counter() - t0)
    print(f"create event (13 standard + 4 headers):     {create:,.0f} events/s")
    for subs in (1, 10):
        for prebuilt in (True, False):
            rate, dropped = bus_throughput(N, subs, prebuilt)
            kind = "pre-built" if prebuilt else "built+fired"
            print(
                f"fire+deliver to {subs:2d} subscriber(s), {kind:11s}: {rate:,.0f} events/s"
                f" (x{rate / base:.2f} of baseline, {rate * subs:,.0f} deliveries/s,"
                f" dropped {dropped})"
            )
    cow, full = copy_rates()
    print(f"copy(): copy-on-write {cow:,.0f} /s, made private {full:,.0f} /s (x{cow / full:.1f})")
    for fmt in ("plain", "json", "xml"):
        print(f"serialize {fmt:5s}: {serialise_rate(fmt):,.0f} /s")


if __name__ == "__main__":
    main()
