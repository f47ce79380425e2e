"""Under load: a listener that does not read never slows the others; what it misses is
counted and reported; one that keeps missing is disconnected with a reason."""

from __future__ import annotations

import socket
import time

from fsd.events import Event


def fire(sw, n: int, sub: str = "load::test", pad: int = 200) -> None:
    for i in range(n):
        e = Event("CUSTOM", sub)
        e.add_header("Seq", str(i))
        e.add_header("Padding", "x" * pad)
        sw.events.fire(e)
        if i % 5000 == 4999:
            time.sleep(0.01)  # let the bus breathe: its own queue is bounded too


def test_stuck_listener_is_killed_others_keep_up(tmp_path, esl):
    params = {"event-queue-size": "50", "max-missed-events": "100"}
    with esl.esl_daemon(tmp_path, esl_params=params) as (sw, port):
        slow = esl.RawClient(port)
        slow.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.auth()
        assert slow.cmd("event plain CUSTOM load::test").endswith(b"enabled plain\n\n")
        fast = esl.RawClient(port)
        fast.auth()
        fast.cmd("event plain CUSTOM load::test")
        fast.cmd("filter Seq 19999")
        fire(sw, 20000)
        h, body, _ = fast.frame()  # the last event reached the reading client
        assert b"Seq: 19999\n" in body
        slow.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        data = slow.read_until_closed(timeout=10)
        assert data.rstrip().endswith(b"in all).")
        assert b"Content-Type: text/disconnect-notice\n" in data
        assert b"Disconnected, too many lost events (101 in a row" in data
        fast.close()


def test_lost_events_are_reported_to_the_listener(tmp_path, esl):
    params = {"event-queue-size": "50", "max-missed-events": "100000000"}
    with esl.esl_daemon(tmp_path, esl_params=params) as (sw, port):
        c = esl.RawClient(port)
        c.auth()
        c.cmd("event plain CUSTOM load::test")
        # ~50 MB of frames: more than the kernel buffers and the transport's 1 MB hold
        fire(sw, 20000, pad=2500)
        time.sleep(0.3)
        frames = []
        c.sock.settimeout(1.0)
        try:
            while True:
                frames.append(c.frame())
        except TimeoutError:
            pass
        c.sock.settimeout(5.0)
        fire(sw, 1, "load::test")  # Seq 0 again: the marker after the storm
        frames.append(c.frame())
        lost = 0
        for h, body, raw in frames:
            if "Lost-Events" in h:
                lost = int(h["Lost-Events"])
                assert raw.startswith(b"Content-Length: %d\nContent-Type: text/event-plain\n"
                                      b"Lost-Events: %d\n\n" % (len(body), lost))
        assert lost > 0
        assert len(frames) - 1 + lost == 20000
        c.close()
