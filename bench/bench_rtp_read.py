"""How to read N RTP sockets once per 20 ms tick: the choice behind rtp_io.RtpPoller.

Each round, every one of N sockets gets one 172-byte datagram (one RTP packet), then the
time to read them all is measured three ways:

* ``epoll``: one ``epoll.poll(0)`` lists the ready sockets, one ``recvfrom`` each, one
  more ``poll(0)`` that finds nothing (what RtpPoller does);
* ``eagain``: ``recvfrom`` on every socket until BlockingIOError (no poll; an exception
  per socket per tick);
* ``asyncio``: one datagram endpoint per socket on an event loop; the round ends when the
  loop has delivered all N callbacks (what "one asyncio endpoint per stream" costs).

Printed: µs per socket per tick (median of the rounds). Run:
``python bench/bench_rtp_read.py [--n 200] [--rounds 200]``
"""

from __future__ import annotations

import argparse
import asyncio
import select
import socket
import statistics
import time


def make(n: int) -> tuple[list[socket.socket], socket.socket]:
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.setblocking(False)
        socks.append(s)
    tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    return socks, tx


def fill(tx: socket.socket, addrs: list[tuple[str, int]]) -> None:
    pkt = b"\x80\x00" + b"\x00" * 170
    for a in addrs:
        tx.sendto(pkt, a)


def bench_epoll(n: int, rounds: int) -> float:
    socks, tx = make(n)
    addrs = [s.getsockname() for s in socks]
    ep = select.epoll()
    by_fd = {s.fileno(): s for s in socks}
    for s in socks:
        ep.register(s.fileno(), select.EPOLLIN)
    times = []
    for _ in range(rounds):
        fill(tx, addrs)
        time.sleep(0.002)
        t0 = time.perf_counter()
        got = 0
        while True:
            ready = ep.poll(0)
            if not ready:
                break
            for fd, _ in ready:
                by_fd[fd].recvfrom(2048)
                got += 1
        times.append(time.perf_counter() - t0)
        assert got == n, got
    return statistics.median(times) / n * 1e6


def bench_eagain(n: int, rounds: int) -> float:
    socks, tx = make(n)
    addrs = [s.getsockname() for s in socks]
    times = []
    for _ in range(rounds):
        fill(tx, addrs)
        time.sleep(0.002)
        t0 = time.perf_counter()
        got = 0
        for s in socks:
            while True:
                try:
                    s.recvfrom(2048)
                    got += 1
                except BlockingIOError:
                    break
        times.append(time.perf_counter() - t0)
        assert got == n, got
    return statistics.median(times) / n * 1e6


def bench_asyncio(n: int, rounds: int) -> float:
    async def run() -> float:
        loop = asyncio.get_running_loop()
        state = {"got": 0, "done": None}

        class P(asyncio.DatagramProtocol):
            def datagram_received(self, data, addr):  # noqa: ARG002
                state["got"] += 1
                if state["got"] == n and state["done"] is not None:
                    state["done"].set_result(None)

        addrs = []
        for _ in range(n):
            tr, _p = await loop.create_datagram_endpoint(P, local_addr=("127.0.0.1", 0))
            addrs.append(tr.get_extra_info("sockname"))
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        times = []
        for _ in range(rounds):
            state["got"] = 0
            state["done"] = loop.create_future()
            fill(tx, addrs)
            time.sleep(0.002)  # same as the others: every datagram is queued before t0
            t0 = time.perf_counter()
            await state["done"]
            times.append(time.perf_counter() - t0)
        return statistics.median(times) / n * 1e6

    return asyncio.run(run())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=200)
    a = ap.parse_args()
    print(f"reading {a.n} sockets x 1 datagram per round, {a.rounds} rounds "
          f"(µs per socket per tick, median)")
    for name, fn in (("epoll", bench_epoll), ("eagain", bench_eagain),
                     ("asyncio", bench_asyncio)):
        print(f"  {name:8} {fn(a.n, a.rounds):6.2f}")


if __name__ == "__main__":
    main()
