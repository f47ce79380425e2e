"""Fuzz the SIP parser and transaction layer with mutations of real INVITE/REGISTER/BYE/ACK.

Two parts, both bounded in count and time, both counting *escapes* (an exception other
than the parser's ``ParseError`` leaving ``parse()`` or the UA core's ``on_message``):

* in-process (``--messages``, default 1 000 000): each mutated message goes through
  ``message.parse`` and, when it parses, through a real ``Stack.on_message`` (validation,
  transaction matching and creation, the INVITE/REGISTER/BYE/ACK/CANCEL handling, the
  responses it builds) on a private event loop.  The call admission that would run on a
  worker is not run (counted as ``admissions``); every 20 000 messages the transaction
  and call tables are emptied the way their timers would empty them, and the process RSS
  is sampled: growth after the first chunk is reported (``memory growth``).
* over UDP (``--udp N``): a real daemon (mod_sofia_lite on a free loopback port) gets N
  mutated datagrams, with an OPTIONS every 100 that must be answered with 200.

    python bench/sip_fuzz.py [--messages 1000000] [--udp 20000] [--seed 1] [--max-seconds 1800]

The same generator is used by ``tests/mod_sofia_lite/test_fuzz_short.py``.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SDP = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       "m=audio 40000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n"
       "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\n")


def _msg(first: str, headers: list[str], body: str = "") -> bytes:
    hs = headers + (["Content-Type: application/sdp"] if body else [])
    hs.append(f"Content-Length: {len(body.encode())}")
    return ("\r\n".join([first, *hs]) + "\r\n\r\n" + body).encode()


def seeds() -> list[bytes]:
    """Real-shaped messages, as SIPp and phones send them."""
    via = "Via: SIP/2.0/UDP 127.0.0.1:5099;branch=z9hG4bK-{b};rport"
    common = ['From: "Alice" <sip:1000@127.0.0.1:5099>;tag=abc123',
              "To: <sip:7001@127.0.0.1>", "Call-ID: fuzz-{b}@127.0.0.1",
              "Max-Forwards: 70", "User-Agent: fuzz/1.0"]
    out = [
        _msg("INVITE sip:7001@127.0.0.1 SIP/2.0",
             [via.format(b="inv"), *[c.format(b="inv") for c in common], "CSeq: 1 INVITE",
              "Contact: <sip:1000@127.0.0.1:5099;transport=udp>",
              "Allow: INVITE, ACK, BYE, CANCEL, OPTIONS", "Supported: timer, replaces",
              "Session-Expires: 1800;refresher=uac", "X-Test: 1"], SDP),
        _msg("REGISTER sip:127.0.0.1 SIP/2.0",
             [via.format(b="reg"), "From: <sip:1000@127.0.0.1>;tag=r1",
              "To: <sip:1000@127.0.0.1>", "Call-ID: reg-1@127.0.0.1", "CSeq: 7 REGISTER",
              "Contact: <sip:1000@127.0.0.1:5099>;expires=3600", "Max-Forwards: 70",
              'Authorization: Digest username="1000", realm="127.0.0.1", nonce="abc", '
              'uri="sip:127.0.0.1", response="0123456789abcdef0123456789abcdef", '
              "algorithm=MD5, qop=auth, nc=00000001, cnonce=\"xyz\"", "Expires: 3600"]),
        _msg("BYE sip:7001@127.0.0.1:5080 SIP/2.0",
             [via.format(b="bye"), *[c.format(b="inv") for c in common[:1]],
              "To: <sip:7001@127.0.0.1>;tag=srv1", "Call-ID: fuzz-inv@127.0.0.1",
              "CSeq: 2 BYE", "Max-Forwards: 70", 'Reason: Q.850;cause=16;text="x"']),
        _msg("ACK sip:7001@127.0.0.1:5080 SIP/2.0",
             [via.format(b="inv"), *[c.format(b="inv") for c in common[:1]],
              "To: <sip:7001@127.0.0.1>;tag=srv1", "Call-ID: fuzz-inv@127.0.0.1",
              "CSeq: 1 ACK", "Max-Forwards: 70"]),
        _msg("CANCEL sip:7001@127.0.0.1 SIP/2.0",
             [via.format(b="inv"), *[c.format(b="inv") for c in common[:3]],
              "CSeq: 1 CANCEL", "Max-Forwards: 70"]),
        _msg("SIP/2.0 200 OK",
             [via.format(b="out"), "From: <sip:a@127.0.0.1>;tag=x", "To: <sip:b@127.0.0.1>;tag=y",
              "Call-ID: out-1", "CSeq: 1 INVITE", "Contact: <sip:b@127.0.0.1:5099>"], SDP),
    ]
    return out


_TOKENS = [b"\r\n", b"\n", b"\r", b":", b";", b",", b"<", b">", b"\"", b"\\", b"%", b"=",
           b"SIP/2.0", b"z9hG4bK", b"tag=", b"branch=", b"Content-Length: ", b"99999999999",
           b"-1", b"0", b"4294967296", b" ", b"\t", b"\x00", b"\xff\xfe", "é".encode(),
           b"INVITE", b"ACK", b"BYE", b"CANCEL", b"REGISTER", b"OPTIONS", b"sip:", b"sips:",
           b"tel:", b"[::1]", b"@", b"Via: ", b"CSeq: ", b"Call-ID: ", b"To: ", b"From: ",
           b"Contact: *", b"Expires: 0", b"Require: 100rel", b"Max-Forwards: 0",
           b"m=audio 0 RTP/AVP\r\n", b"a=rtpmap:", b"c=IN IP6 ::1\r\n"]


class Mutator:
    """Seeded structure-aware mutations: byte flips and splices, header line edits
    (drop, duplicate, swap, empty value, folded), number extremes, truncation, junk."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)
        self.seeds = seeds()

    def one(self) -> bytes:
        r = self.r
        data = bytearray(r.choice(self.seeds))
        for _ in range(r.choice((1, 1, 1, 2, 2, 3, 5, 8))):
            data = self._mutate(data)
        return bytes(data[:8000])

    def _mutate(self, d: bytearray) -> bytearray:
        r = self.r
        op = r.randrange(12)
        n = len(d)
        if n == 0:
            return bytearray(r.choice(self.seeds))
        if op == 0:  # flip bits
            for _ in range(r.randint(1, 4)):
                i = r.randrange(n)
                d[i] ^= 1 << r.randrange(8)
        elif op == 1:  # insert a token
            i = r.randrange(n + 1)
            d[i:i] = r.choice(_TOKENS)
        elif op == 2:  # delete a span
            i = r.randrange(n)
            del d[i:i + r.randint(1, 40)]
        elif op == 3:  # truncate
            d = d[:r.randrange(n)]
        elif op in (4, 5, 6, 7):  # line-level edits
            lines = bytes(d).split(b"\r\n")
            i = r.randrange(len(lines))
            if op == 4:
                del lines[i]
            elif op == 5:
                lines.insert(i, lines[r.randrange(len(lines))])
            elif op == 6:
                j = r.randrange(len(lines))
                lines[i], lines[j] = lines[j], lines[i]
            else:
                k = lines[i].find(b":")
                lines[i] = (lines[i][:k + 1] + r.choice([b"", b" ", b" \r\n\tfolded", b" " +
                            r.choice(_TOKENS), b" " + bytes(r.randrange(256) for _ in range(
                                r.randint(1, 20)))])) if k >= 0 else lines[i] + b" x"
            d = bytearray(b"\r\n".join(lines))
        elif op == 8:  # replace a number with an extreme one
            digits = [i for i in range(n) if 48 <= d[i] <= 57]
            if digits:
                i = r.choice(digits)
                d[i:i + 1] = r.choice([b"99999999999999999999", b"-5", b"0", b"65536", b"1e9"])
        elif op == 9:  # splice two seeds
            other = r.choice(self.seeds)
            d = d[:r.randrange(n)] + other[r.randrange(len(other)):]
        elif op == 10:  # repeat a span (long headers, many Vias)
            i = r.randrange(n)
            span = d[i:i + r.randint(1, 60)]
            d[i:i] = span * r.randint(2, 60)
        else:  # random bytes
            i = r.randrange(n + 1)
            d[i:i] = bytes(r.randrange(256) for _ in range(r.randint(1, 16)))
        return d


class _Stub:
    pass


def make_stack() -> tuple[Any, asyncio.AbstractEventLoop, dict[str, int]]:
    """A real ``Stack`` on a private loop, whose transport sends nowhere and whose worker
    hand-off only counts (the admission needs a switch; the UDP part covers it)."""
    from fsd_modules.mod_sofia_lite.config import ProfileConfig
    from fsd_modules.mod_sofia_lite.ua import Stack

    loop = asyncio.new_event_loop()
    counts = {"sent": 0, "admissions": 0, "registers": 0}
    sofia = _Stub()
    sofia.switch = _Stub()
    sofia.switch.loop = loop
    sofia.switch.config = None  # no acl.conf: the profile applies no ACL

    def work(_key: str, _fn: Any, *_a: Any) -> None:
        counts["admissions"] += 1

    def register(_stack: Any, tx: Any) -> None:
        counts["registers"] += 1
        tx.reply(401, "Unauthorized", [("WWW-Authenticate", 'Digest realm="x", nonce="y"')])

    sofia.work = work
    sofia.registrar = _Stub()
    sofia.registrar.handle = register
    cfg = ProfileConfig(name="fuzz")
    stack = Stack(sofia, cfg)

    def send(data: bytes, *_a: Any, **_k: Any) -> None:
        counts["sent"] += 1
    stack.transport.send = send  # type: ignore[method-assign]
    return stack, loop, counts


def expire(stack: Any, loop: asyncio.AbstractEventLoop) -> None:
    """What the timers would do after 32 s: every transaction and call gone."""
    for tx in list(stack.server_tx.values()):
        tx.terminate()
    for ctx in list(stack.client_tx.values()):
        ctx.terminate()
    stack.server_tx.clear()
    stack.client_tx.clear()
    stack.calls.clear()
    stack.merged.clear()
    getattr(stack, "invites", {}).clear()
    loop.run_until_complete(asyncio.sleep(0))
    scheduled = getattr(loop, "_scheduled", None)
    if scheduled is not None:  # cancelled timer handles: drop them as the loop would
        scheduled[:] = [h for h in scheduled if not h.cancelled()]
        import heapq
        heapq.heapify(scheduled)


def rss_kb() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fuzz_in_process(messages: int, seed: int = 1, max_seconds: float = 1800.0,
                    chunk: int = 20000) -> dict[str, Any]:
    """Feed ``messages`` mutations to parse() and Stack.on_message; count escapes."""
    from fsd_modules.mod_sofia_lite.message import ParseError, parse

    stack, loop, counts = make_stack()
    mut = Mutator(seed)
    parsed = rejected = escapes = 0
    examples: list[str] = []
    rss: list[int] = []
    t0 = time.monotonic()
    done = 0
    try:
        while done < messages and time.monotonic() - t0 < max_seconds:
            for _ in range(min(chunk, messages - done)):
                data = mut.one()
                done += 1
                try:
                    msg = parse(data)
                except ParseError:
                    rejected += 1
                    continue
                except Exception as e:  # noqa: BLE001 - this is what we count
                    escapes += 1
                    if len(examples) < 5:
                        examples.append(f"parse: {e!r} on {data[:200]!r}")
                    continue
                parsed += 1
                msg.source = ("127.0.0.1", 5099)
                msg.transport = "udp"
                msg.conn = None
                try:
                    stack.on_message(msg)
                except Exception as e:  # noqa: BLE001
                    escapes += 1
                    if len(examples) < 5:
                        examples.append(f"stack: {e!r} on {data[:200]!r}")
            expire(stack, loop)
            rss.append(rss_kb())
    finally:
        expire(stack, loop)
        loop.close()
    elapsed = time.monotonic() - t0
    return {"messages": done, "parsed": parsed, "rejected": rejected, "escapes": escapes,
            "examples": examples, "elapsed": elapsed, **counts,
            "rss_first_kb": rss[0] if rss else 0, "rss_last_kb": rss[-1] if rss else 0,
            "rss_growth_kb": (rss[-1] - rss[0]) if rss else 0}


def fuzz_udp(port: int, datagrams: int, seed: int = 2, options_every: int = 100,
             max_seconds: float = 600.0) -> dict[str, Any]:
    """Send mutated datagrams to a running daemon; after every ``options_every`` an OPTIONS
    must get its 200.  The probe is also the pacing: the next burst goes only once the
    daemon answered, so the kernel's socket buffer (which drops a burst's overflow, probe
    included) is not what is measured.  A probe lost that way is sent again (up to 5
    tries, 2 s each); ``options_first_try`` says how many needed no retry."""
    import socket

    mut = Mutator(seed)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    me = s.getsockname()[1]
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    pport = probe.getsockname()[1]
    answered = asked = sent = first = 0
    t0 = time.monotonic()

    def ask() -> None:
        nonlocal answered, asked, first
        asked += 1
        for attempt in range(5):
            if _options_ok(probe, pport, port, asked, timeout=2.0):
                answered += 1
                first += attempt == 0
                return
    try:
        for i in range(datagrams):
            if time.monotonic() - t0 > max_seconds:
                break
            data = mut.one().replace(b"5099", str(me).encode())
            s.sendto(data, ("127.0.0.1", port))
            sent += 1
            if i % options_every == options_every - 1:
                _drain(s)
                ask()
    finally:
        ask()
        s.close()
        probe.close()
    return {"sent": sent, "options_asked": asked, "options_answered": answered,
            "options_first_try": first, "elapsed": time.monotonic() - t0}


def _drain(s: Any) -> None:
    s.setblocking(False)
    try:
        while True:
            s.recv(65536)
    except (BlockingIOError, ConnectionRefusedError):
        pass
    finally:
        s.setblocking(True)


def _options_ok(probe: Any, pport: int, port: int, n: int, timeout: float = 10.0) -> int:
    req = (f"OPTIONS sip:ping@127.0.0.1:{port} SIP/2.0\r\n"
           f"Via: SIP/2.0/UDP 127.0.0.1:{pport};branch=z9hG4bKprobe{n};rport\r\n"
           f"From: <sip:probe@127.0.0.1>;tag=p{n}\r\nTo: <sip:ping@127.0.0.1>\r\n"
           f"Call-ID: probe-{n}\r\nCSeq: {n} OPTIONS\r\nMax-Forwards: 70\r\n"
           "Content-Length: 0\r\n\r\n").encode()
    probe.sendto(req, ("127.0.0.1", port))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        probe.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data = probe.recv(65536)
        except TimeoutError:
            break
        if data.startswith(b"SIP/2.0 200") and f"probe-{n}".encode() in data:
            return 1
    return 0


def main() -> None:
    import argparse
    import tempfile

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--udp", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-seconds", type=float, default=1800)
    a = ap.parse_args()
    import logging
    logging.disable(logging.WARNING)
    if a.messages:
        r = fuzz_in_process(a.messages, a.seed, a.max_seconds)
        print(f"in-process: {r['messages']} messages in {r['elapsed']:.0f}s "
              f"({r['messages'] / max(1e-9, r['elapsed']):.0f}/s): parsed {r['parsed']}, "
              f"rejected by the parser {r['rejected']}, escapes {r['escapes']}; responses "
              f"{r['sent']}, admissions {r['admissions']}, registers {r['registers']}; RSS "
              f"{r['rss_first_kb']} -> {r['rss_last_kb']} KB (growth {r['rss_growth_kb']} KB)",
              flush=True)
        for e in r["examples"]:
            print("  escape:", e)
    if a.udp:
        from fsd.testing import prepare_base, running_switch

        modules = ["mod_commands", "mod_dptools", "mod_dialplan_xml", "mod_sofia_lite"]
        with tempfile.TemporaryDirectory() as base:
            prepare_base(Path(base), modules, {}, {"loglevel": "err"})
            conf = Path(base) / "conf" / "autoload" / "sofia.conf.xml"
            conf.write_text(conf.read_text().replace('name="sip-port" value="5060"',
                                                     'name="sip-port" value="0"'))
            with running_switch(base, modules) as sw:
                port = int(sw.globals.get("sofia_internal_port"))
                sofia = sw.modules.loaded["mod_sofia_lite"].state["sofia"]
                st = next(iter(sofia.stacks.values())).transport.stats
                r = fuzz_udp(port, a.udp, a.seed + 1)
                print(f"over UDP: {r['sent']} datagrams in {r['elapsed']:.0f}s (the daemon "
                      f"read {st.received - r['options_asked']}, the rest the kernel dropped "
                      f"from full socket buffers; bad {st.bad}), OPTIONS "
                      f"answered {r['options_answered']}/{r['options_asked']} ({r['options_first_try']} at "
                      f"the first try), sessions left "
                      f"{len(sw.sessions)}", flush=True)


if __name__ == "__main__":
    main()
