"""The scripting and event paths of issue 13, measured as a FreeSWITCH user meets them: a
daemon started as its own process (``fsd -nc`` on a temporary base, free ports) and driven
from outside over a real event socket.  Every row prints its figure, the issue's target and
the ratio to a baseline measured in the same run:

* ESL rows: a raw TCP echo server in this process, one round trip of the same size;
* Lua rows: a bare lupa runtime calling a Python function in a loop (the floor of any Lua ->
  Python binding call); the Lua rows themselves run *inside* the daemon (``luarun``
  scripts that time themselves with ``os.clock`` and report through a global variable).

    python bench/bench_paths.py [--reps 5] [--only esl,lua,events,calls]

Figures are medians over ``--reps`` repetitions (each repetition is itself a median or a
rate over many operations).  The machine is shared: the load average is printed too.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from fsd.testing import prepare_base
from fsd.testing_process import free_port, set_esl_port

MODULES = ["mod_commands", "mod_event_socket", "mod_lua", "mod_dptools", "mod_loopback",
           "mod_dialplan_xml"]
DIALPLAN = """<include><context name="bench">
  <extension name="park"><condition field="destination_number" expression="^park$">
    <action application="answer"/><action application="park"/>
  </condition></extension>
</context></include>"""

# Lua scripts that time a loop themselves and leave the figure (µs per op) in a global.
LOOP = """local n = tonumber(argv[1])
local api = freeswitch.API()
local t0 = os.clock()
for i = 1, n do
  {body}
end
local dt = os.clock() - t0
local t1 = os.clock()
for i = 1, n do end
local empty = os.clock() - t1
freeswitch.setGlobalVariable("bench_{name}", string.format("%.4f", (dt - empty) / n * 1e6))
"""
LUA_ROWS = {
    "event_new": ('local e = freeswitch.Event("custom", "x::y"); e:addHeader("k", "v")',
                  "from Lua: freeswitch.Event(\"custom\",\"x::y\") + addHeader", 5.0),
    "getvar": ('local v = freeswitch.getGlobalVariable("x")',
               "from Lua: freeswitch.getGlobalVariable(\"x\")", 0.6),
    "api_eval": ('local v = api:executeString("eval x")',
                 "from Lua: api:executeString(\"eval x\")", 15.0),
}
FIRE = """local n = tonumber(argv[1])
local t0 = os.clock()
for i = 1, n do
  local e = freeswitch.Event("custom", "bench::ev")
  e:addHeader("Seq", tostring(i))
  if i == n then e:addHeader("Last", "yes") end
  e:fire()
end
freeswitch.setGlobalVariable("bench_fire", string.format("%.1f", n / (os.clock() - t0)))
"""


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


class Esl:
    """A minimal blocking ESL client: send a command, read one whole reply."""

    def __init__(self, port: int, timeout: float = 60.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.frame()  # auth/request
        self.cmd("auth ClueCon")

    def frame(self) -> tuple[bytes, bytes]:
        while b"\n\n" not in self.buf:
            self._more()
        i = self.buf.index(b"\n\n")
        head = bytes(self.buf[:i])
        del self.buf[: i + 2]
        n = 0
        for line in head.split(b"\n"):
            if line.startswith(b"Content-Length: "):
                n = int(line[16:])
        while len(self.buf) < n:
            self._more()
        body = bytes(self.buf[:n])
        del self.buf[:n]
        return head, body

    def _more(self) -> None:
        data = self.sock.recv(1 << 20)
        if not data:
            raise ConnectionError("event socket closed")
        self.buf += data

    def cmd(self, text: str) -> bytes:
        self.sock.sendall(text.encode() + b"\n\n")
        return self.frame()[1]

    def close(self) -> None:
        self.sock.close()


class Daemon:
    """``fsd -nc`` on a temporary base as its own process; ``fsd -stop`` at the end."""

    def __init__(self, base: Path) -> None:
        self.base = base
        extra = {"conf/dialplan/bench.xml": DIALPLAN, "scripts/bench_fire.lua": FIRE}
        for name, (body, _, _) in LUA_ROWS.items():
            extra[f"scripts/bench_{name}.lua"] = LOOP.format(body=body, name=name)
        prepare_base(base, MODULES, extra, switch_settings={
            "loglevel": "err", "max-sessions": "100000", "sessions-per-second": "100000"})
        self.port = free_port()
        set_esl_port(base, self.port)
        self.cmd = [sys.executable, "-m", "fsd.cli"]

    def _run(self, *args: str) -> None:
        # never capture: the daemon inherits the pipes and the call would wait for it
        subprocess.run(self.cmd + list(args) + ["-base", str(self.base)], check=True,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=120)

    def __enter__(self) -> Daemon:
        self._run("-nc")
        return self

    def __exit__(self, *exc: object) -> None:
        subprocess.run(self.cmd + ["-stop", "-base", str(self.base)], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)


# ---------------------------------------------------------------- baselines

def echo_baseline(size: int, rounds: int) -> float:
    """p50 (ms) of a send/recv round trip of ``size`` bytes to a raw TCP echo thread."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)

    def serve() -> None:
        c, _ = srv.accept()
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while data := c.recv(65536):
            c.sendall(data)
        c.close()

    threading.Thread(target=serve, daemon=True).start()
    s = socket.create_connection(srv.getsockname())
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    msg = b"x" * size
    lat = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        s.sendall(msg)
        got = 0
        while got < size:
            got += len(s.recv(65536))
        lat.append(time.perf_counter() - t0)
    s.close()
    srv.close()
    return statistics.median(lat) * 1e3


def lupa_baseline(n: int = 200_000) -> float:
    """µs per call of a Python function from a bare lupa loop (os.clock timed, like ours)."""
    import lupa.lua53 as lua53

    rt = lua53.LuaRuntime(register_eval=False, register_builtins=False)
    rt.globals().f = lambda s: s
    fn = rt.eval("""function(n)
      local t0 = os.clock(); for i = 1, n do local v = f("x") end; local dt = os.clock() - t0
      local t1 = os.clock(); for i = 1, n do end; return (dt - (os.clock() - t1)) / n * 1e6
    end""")
    return fn(n)


# ---------------------------------------------------------------- rows

def api_p50(esl: Esl, command: str, rounds: int) -> float:
    lat = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        esl.cmd(command)
        lat.append(time.perf_counter() - t0)
    return statistics.median(lat) * 1e3


def wait_global(esl: Esl, name: str, timeout: float = 120.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = esl.cmd(f"api global_getvar {name}").decode().strip()
        if v and not v.startswith("-ERR"):
            esl.cmd(f"api global_setvar {name}=")
            return v
        time.sleep(0.05)
    raise TimeoutError(f"the Lua bench script never set {name}")


def lua_row(esl: Esl, name: str, n: int) -> float:
    esl.cmd(f"api luarun bench_{name}.lua {n}")
    return float(wait_global(esl, f"bench_{name}"))


def events_row(port: int, fmt: str, n: int) -> tuple[float, float, int]:
    """Delivered events/s to one listener (luarun send to the last frame read), the
    firing rate the script saw, and how many frames arrived."""
    listener = Esl(port)
    listener.cmd(f"event {fmt} CUSTOM bench::ev")
    control = Esl(port)
    sock = listener.sock
    sock.settimeout(60)
    buf = bytes(listener.buf)
    marker = b"Content-Type: text/event-json" if fmt == "json" else b"Content-Type: text/event-plain"
    last = b'"Last":"yes"' if fmt == "json" else b"Last: yes"
    count = 0
    t0 = time.perf_counter()
    control.cmd(f"api luarun bench_fire.lua {n}")
    tail = b""
    while True:
        data = sock.recv(1 << 20)
        if not data:
            break
        chunk = tail + data
        count += chunk.count(marker) - tail.count(marker)
        if last in chunk:
            break
        tail = chunk[-64:]
    dt = time.perf_counter() - t0
    del buf
    fired = float(wait_global(control, "bench_fire"))
    listener.close()
    control.close()
    return n / dt, fired, count


def originate_pair(esl: Esl, rounds: int) -> tuple[float, float]:
    pair, orig = [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        out = esl.cmd("api originate loopback/park/bench &park()").decode()
        t1 = time.perf_counter()
        if not out.startswith("+OK"):
            raise RuntimeError(f"originate failed: {out.strip()}")
        esl.cmd(f"api uuid_kill {out.split()[1]}")
        t2 = time.perf_counter()
        pair.append(t2 - t0)
        orig.append(t1 - t0)
    return statistics.median(pair) * 1e3, statistics.median(orig) * 1e3


def show(label: str, value: float, unit: str, target: str, base: float, base_label: str) -> None:
    print(f"{label:<62} {value:10.3f} {unit:<5} target {target:<10} "
          f"{value / base:7.1f}x {base_label}", flush=True)


def show_rate(label: str, value: float, target: float, extra: str) -> None:
    ok = "meets" if value >= target else "below"
    print(f"{label:<62} {value:10.0f} ev/s  target >= {target:<7.0f} {ok} {extra}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=400, help="ESL round trips per repetition")
    ap.add_argument("--events", type=int, default=50_000)
    ap.add_argument("--only", default="esl,lua,events,calls")
    args = ap.parse_args()
    only = set(args.only.split(","))
    print(f"load average before: {load()}", flush=True)
    with tempfile.TemporaryDirectory() as d, Daemon(Path(d)) as dm:
        esl = Esl(dm.port)
        esl.cmd("api lua ~stream:write('warm')")  # first state, module import
        echo = statistics.median(echo_baseline(60, args.rounds) for _ in range(args.reps))
        lupa = statistics.median(lupa_baseline() for _ in range(args.reps))
        print(f"baseline: raw TCP echo round trip p50 {echo:.3f} ms; bare lupa -> Python call "
              f"{lupa:.3f} µs", flush=True)
        if "esl" in only:
            for cmd, label, target in [
                ('api lua ~stream:write("x")', 'ESL api lua ~stream:write("x") p50', "< 0.4"),
                ("api eval x", "ESL api eval x p50", "< 0.12"),
            ]:
                v = statistics.median(api_p50(esl, cmd, args.rounds) for _ in range(args.reps))
                show(label, v, "ms", target, echo, "echo")
        if "lua" in only:
            for name, (_, label, target) in LUA_ROWS.items():
                n = 20_000 if name != "getvar" else 200_000
                v = statistics.median(lua_row(esl, name, n) for _ in range(args.reps))
                show(label, v, "µs", f"<= {target}", lupa, "lupa call")
        if "events" in only:
            for fmt, target in [("plain", 60_000), ("json", 50_000)]:
                runs = [events_row(dm.port, fmt, args.events) for _ in range(args.reps)]
                lost = sum(args.events - c for _, _, c in runs)
                show_rate(f"from Lua: events/s delivered to one {fmt} listener",
                          statistics.median(r for r, _, _ in runs), target,
                          f"(fired {statistics.median(f for _, f, _ in runs):.0f}/s in Lua, "
                          f"lost {lost})")
        if "calls" in only:
            res = [originate_pair(esl, 50) for _ in range(args.reps)]
            pair = statistics.median(p for p, _ in res)
            orig = statistics.median(o for _, o in res)
            show("originate loopback/park &park + uuid_kill, p50 of the pair", pair, "ms", "< 3",
                 echo, "echo")
            print(f"{'  (originate alone)':<62} {orig:10.3f} ms", flush=True)
        esl.close()
    print(f"load average after: {load()}", flush=True)


if __name__ == "__main__":
    main()
