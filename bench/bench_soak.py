"""Leak check (issue 19): N rounds of M concurrent IVR calls with an ESL consumer attached;
RSS, threads and open fds of the daemon are sampled after each round and printed with the
growth per call.

Each call is a loopback pair: the caller leg runs ``caller.lua`` (waits, sends DTMF
``1234#``, waits for the IVR to hang up) and the dialplan runs ``ivr.lua`` on the other
leg (answer, prompt tone, ``getDigits``, ``playAndGetDigits``-style retry, a CUSTOM
event with the digits, a variable, hang up).  A real ESL client subscribed to every event
reads all the while; at the end the CUSTOM ``soak::digits`` events it received are
compared with the calls made (lost events are printed).

    python bench/bench_soak.py [--rounds 10] [--calls 200]

Runs an in-process switch on a temporary base (ephemeral ports only).  ``run_soak`` is
also used by tests/mod_lua/test_soak.py with a short variant."""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from dataclasses import dataclass, field

import psutil

from fsd.testing import running_switch, wait_until

IVR = """
session:answer()
session:streamFile("tone_stream://%(100,0,440)")
local digits = session:getDigits(5, "#", 5000)
if digits == "" then digits = session:getDigits(5, "#", 2000) end
session:setVariable("soak_digits", digits)
local e = freeswitch.Event("CUSTOM", "soak::digits")
e:addHeader("digits", digits)
e:addHeader("call", session:getVariable("soak_call") or "")
e:fire()
session:streamFile("tone_stream://%(50,0,600)")
session:hangup()
"""

CALLER = """
session:sleep(300)
session:execute("send_dtmf", "1234#")
local n = 0
while session:ready() and n < 300 do session:sleep(100) n = n + 1 end
"""

DIALPLAN = """<include><context name="soak">
  <extension name="ivr"><condition field="destination_number" expression="^ivr$">
    <action application="lua" data="ivr.lua"/>
  </condition></extension>
</context></include>"""

MODULES = ["mod_commands", "mod_event_socket", "mod_dptools", "mod_loopback",
           "mod_dialplan_xml", "mod_lua"]


@dataclass
class Round:
    calls: int
    seconds: float
    rss_mb: float
    threads: int
    fds: int


@dataclass
class SoakResult:
    baseline: Round
    rounds: list[Round] = field(default_factory=list)
    calls: int = 0
    events_received: int = 0
    digits_ok: int = 0
    failed_originates: int = 0


class EslConsumer:
    """A real ESL client (fsd.esl, the ESL.py API) subscribed to every event, counting the
    CUSTOM soak::digits ones."""

    def __init__(self, port: int) -> None:
        from fsd.esl import ESLconnection

        self.conn = ESLconnection("127.0.0.1", str(port), "ClueCon")
        assert self.conn.connected(), "ESL consumer could not connect"
        self.conn.events("plain", "ALL")
        self.digits = 0
        self.digits_ok = 0  # events whose digits are the 1234 the caller sent
        self.total = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, name="soak-esl-consumer", daemon=True)
        self._t.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            ev = self.conn.recvEventTimed(200)
            if ev is None:
                continue
            self.total += 1
            if ev.getHeader("Event-Subclass") == "soak::digits":
                self.digits += 1
                if ev.getHeader("digits") == "1234":
                    self.digits_ok += 1

    def drain(self, digits: int, timeout: float = 60.0) -> None:
        """Wait until ``digits`` soak::digits events arrived and the stream went quiet, so
        that a sample does not count events still queued for this consumer."""
        wait_until(lambda: self.digits >= digits, timeout)
        end = time.monotonic() + timeout
        last = -1
        while self.total != last and time.monotonic() < end:
            last = self.total
            time.sleep(0.3)

    def close(self) -> None:
        self._stop.set()
        self._t.join(5)
        self.conn.disconnect()


def _sample(calls: int, seconds: float) -> Round:
    p = psutil.Process()
    return Round(calls, seconds, p.memory_info().rss / 2**20, threading.active_count(),
                 len(os.listdir("/proc/self/fd")))


def _one_round(sw, n: int, first_call: int) -> tuple[int, float]:
    failed = [0]

    def call(i: int) -> None:
        out = sw.api_execute(f"originate {{soak_call={i},originate_timeout=20}}"
                             f"loopback/ivr/soak &lua(caller.lua)")
        if not out.startswith("+OK"):
            failed[0] += 1

    t0 = time.monotonic()
    ts = [threading.Thread(target=call, args=(first_call + i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    wait_until(lambda: not sw.sessions, 120)
    return failed[0], time.monotonic() - t0


def run_soak(rounds: int, calls: int, base: str | None = None, report=print) -> SoakResult:
    from fsd.log import logger

    level = logger.level  # the core log level is process-wide: give it back afterwards
    try:
        return _run_soak(rounds, calls, base, report)
    finally:
        logger.level = level


def _run_soak(rounds: int, calls: int, base: str | None, report) -> SoakResult:
    with tempfile.TemporaryDirectory() as tmp:
        files = {"scripts/ivr.lua": IVR, "scripts/caller.lua": CALLER,
                 "conf/dialplan/soak.xml": DIALPLAN}
        settings = {"max-sessions": "10000", "sessions-per-second": "10000", "loglevel": "err"}
        with running_switch(base or tmp, MODULES, extra_files=files,
                            switch_settings=settings) as sw:
            from fsd_modules.mod_event_socket import bound_address

            sw.api_execute("fsctl loglevel err")
            consumer = EslConsumer(bound_address(sw)[1])
            try:
                # settle what the first calls create once (thread pools, caches)
                warm = min(10, calls)
                warm_failed, _ = _one_round(sw, warm, 0)
                consumer.drain(warm - warm_failed)
                res = SoakResult(_sample(0, 0.0))
                b = res.baseline
                report(f"baseline: RSS {b.rss_mb:.1f} MB, threads {b.threads}, fds {b.fds}")
                made = 0
                for r in range(1, rounds + 1):
                    failed, secs = _one_round(sw, calls, 1000 * r)
                    res.failed_originates += failed
                    made += calls
                    consumer.drain(warm - warm_failed + made - res.failed_originates)
                    s = _sample(made, secs)
                    res.rounds.append(s)
                    first = res.rounds[0]
                    per_call = ((s.rss_mb - first.rss_mb) * 1024 / (made - first.calls)
                                if made > first.calls else 0.0)
                    report(f"round {r:2d}: {calls} calls in {secs:5.1f} s  RSS {s.rss_mb:7.1f} MB "
                           f"({s.rss_mb - b.rss_mb:+6.1f})  threads {s.threads} "
                           f"({s.threads - b.threads:+d})  fds {s.fds} ({s.fds - b.fds:+d})  "
                           f"growth since round 1: {per_call:+.2f} KB/call  failed {failed}")
                res.calls = made
                res.events_received = consumer.digits - (warm - warm_failed)
                res.digits_ok = consumer.digits_ok - (warm - warm_failed)
            finally:
                consumer.close()
            sw.api_execute("hupall")
    lost = res.calls - res.failed_originates - res.events_received
    report(f"{res.calls} calls, {res.failed_originates} failed originates, "
           f"{res.events_received} soak::digits events received by the ESL consumer "
           f"({lost} lost), {res.digits_ok} with the digits sent")
    return res


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--calls", type=int, default=200)
    a = ap.parse_args()
    run_soak(a.rounds, a.calls)
