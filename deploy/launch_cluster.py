#!/usr/bin/env python3
"""Start PostgreSQL, Kamailio and N fsd nodes on loopback ports of this machine; tear
them down.  The tests (tests/deploy/test_cluster.py) and the bench (bench/bench_cluster.py)
use it, and docs/deploy.md describes exactly what it does:

1. a private PostgreSQL server (tests/mod_db/pg_server.py: initdb, role and database fsd);
2. per node ``<root>/nodeN``: fsd's default conf, overlaid with deploy/node/conf/ and a
   ``conf/node.xml`` naming the node, its SIP/ESL ports, RTP range, Kamailio and the DSN;
   then ``fsd -nf -base <root>/nodeN`` (foreground, so the launcher owns the process);
3. ``<root>/kamailio/dispatcher.list`` (set 1: every node) and Kamailio in the foreground
   with deploy/kamailio/kamailio.cfg and ``-A`` defines for its address, list, control
   socket, ping interval and transaction timer.

    python deploy/launch_cluster.py --nodes 3 --root /tmp/fsd-cluster   # Ctrl-C stops all
"""

from __future__ import annotations

import argparse
import atexit
import ctypes
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KAMAILIO_CFG = ROOT / "deploy" / "kamailio" / "kamailio.cfg"
NODE_CONF = ROOT / "deploy" / "node" / "conf"
KAMAILIO_SQL = Path("/usr/share/kamailio/postgres")

NODE_XML = """<include>
  <X-PRE-PROCESS cmd="set" data="node_name={name}"/>
  <X-PRE-PROCESS cmd="set" data="sip_port={sip_port}"/>
  <X-PRE-PROCESS cmd="set" data="esl_port={esl_port}"/>
  <X-PRE-PROCESS cmd="set" data="rtp_start_port={rtp_start}"/>
  <X-PRE-PROCESS cmd="set" data="rtp_end_port={rtp_end}"/>
  <X-PRE-PROCESS cmd="set" data="kamailio={kamailio}"/>
  <X-PRE-PROCESS cmd="set" data="proxy_acl={proxy_acl}"/>
  <X-PRE-PROCESS cmd="set" data="core_db_dsn={dsn}"/>
</include>
"""


def node_xml(node: Node, kamailio: str, dsn: str, proxy_acl: str = "127.0.0.1/32") -> str:
    """A node's conf/node.xml: what differs from one node to the next."""
    return NODE_XML.format(name=node.name, sip_port=node.sip_port, esl_port=node.esl_port,
                           rtp_start=node.rtp_start, rtp_end=node.rtp_start + 998,
                           kamailio=kamailio, proxy_acl=proxy_acl, dsn=dsn)


def dispatcher_list(nodes: list[Node]) -> str:
    """Kamailio's dispatcher.list: set 1 holds every node."""
    return "".join(f"1 sip:{n.address}\n" for n in nodes)


def kamailio_command(cfg: Path, kdir: Path, listen: str, ping_interval: int,
                     fr_timer: int) -> list[str]:
    """Kamailio in the foreground with its run files (pid, control socket, dispatcher
    list) in ``kdir``."""
    return ["kamailio", "-DD", "-E", "-f", str(cfg), "-Y", str(kdir),
            "-P", str(kdir / "kamailio.pid"), "-w", str(kdir),
            "-A", f"LISTEN=udp:{listen}",
            "-A", f'DS_LIST="{kdir / "dispatcher.list"}"',
            "-A", f'CTL_SOCKET="unix:{kdir / "kamailio_ctl"}"',
            "-A", f"DS_PING_INTERVAL={ping_interval}", "-A", f"FR_TIMER={fr_timer}"]


def _child_setup(parent_death_signal: int, cpu: int | None = None) -> None:
    """In a daemon just forked (preexec_fn): die with the launcher (PR_SET_PDEATHSIG), so
    an interrupted test or bench leaves no daemons behind; optionally pin to one core."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, parent_death_signal)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})


def _load_pg_server():  # noqa: ANN202 - a module loaded by path
    """tests/mod_db/pg_server.py, the throw-away PostgreSQL server the db tests use."""
    name = "cluster_pg_server"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "tests" / "mod_db" / "pg_server.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod


def free_port() -> int:
    """A loopback port free for both UDP and TCP a moment ago (never 5060)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
                t.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue


def sip_options(port: int, timeout: float = 0.5) -> int | None:
    """Send one OPTIONS to 127.0.0.1:port; the reply's status code, or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        me = s.getsockname()[1]
        msg = (f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\n"
               f"Via: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bK{time.monotonic_ns()};rport\r\n"
               f"From: <sip:probe@127.0.0.1>;tag=p{me}\r\nTo: <sip:127.0.0.1:{port}>\r\n"
               f"Call-ID: probe-{me}-{time.monotonic_ns()}\r\nCSeq: 1 OPTIONS\r\n"
               "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n")
        s.sendto(msg.encode(), ("127.0.0.1", port))
        s.settimeout(timeout)
        try:
            data = s.recv(65536).decode("utf-8", "replace")
        except (TimeoutError, ConnectionRefusedError):
            return None
        parts = data.split(" ", 2)
        return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


@dataclass
class Node:
    """One fsd daemon: its base directory, ports and process."""

    name: str
    base: Path
    sip_port: int
    esl_port: int
    rtp_start: int
    proc: subprocess.Popen | None = None
    cpu: int | None = None  # pinned to this core when set

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.sip_port}"


@dataclass
class Cluster:
    """PostgreSQL + Kamailio + ``nodes`` fsd daemons under ``root`` (a temp dir if None)."""

    nodes: int = 3
    root: Path | None = None
    ping_interval: int = 1  # Kamailio OPTIONS probing, seconds
    fr_timer: int = 1000  # Kamailio: ms before a silent node is failed over
    pin: bool = False  # one core per node (round robin), Kamailio and PostgreSQL unpinned
    kamailio_pgsql: bool = False  # Kamailio's usrloc written through to the same PostgreSQL
    pg: object = None
    kamailio_port: int = 0
    kamailio: subprocess.Popen | None = None
    members: list[Node] = field(default_factory=list)
    _own_root: bool = False

    # -- lifecycle --------------------------------------------------------------------
    def start(self) -> Cluster:
        if self.root is None:
            self.root = Path(tempfile.mkdtemp(prefix="fsd-cluster-"))
            self._own_root = True
        self.root.mkdir(parents=True, exist_ok=True)
        atexit.register(self.stop)  # PostgreSQL is a daemon of its own (pg_ctl)
        try:
            self.pg = _load_pg_server().start_pg_server()
            self.kamailio_port = free_port()
            for i in range(1, self.nodes + 1):
                self.members.append(self._prepare_node(i))
            for node in self.members:
                self.start_node(node)
            self._start_kamailio()
            for node in self.members:
                self.wait_dispatcher(node, "A")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        atexit.unregister(self.stop)
        if self.kamailio is not None:
            _terminate(self.kamailio)
            try:  # workers the main process did not take with it
                os.killpg(self.kamailio.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.kamailio = None
        for node in self.members:
            self.stop_node(node)
        if self.pg is not None:
            self.pg.destroy()
            self.pg = None
        if self._own_root and self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- nodes ------------------------------------------------------------------------
    def dsn(self) -> str:
        return "pgsql://" + self.pg.conninfo()

    def _prepare_node(self, i: int) -> Node:
        from fsd.dirs import embedded_conf_dir

        base = self.root / f"node{i}"
        node = Node(f"node{i}", base, free_port(), free_port(), 20000 + 1000 * i)
        if self.pin and hasattr(os, "sched_getaffinity"):
            cpus = sorted(os.sched_getaffinity(0))
            node.cpu = cpus[(i - 1) % len(cpus)]
        conf = base / "conf"
        if not conf.exists():
            shutil.copytree(embedded_conf_dir(), conf)
        shutil.copytree(NODE_CONF, conf, dirs_exist_ok=True)
        (conf / "node.xml").write_text(node_xml(node, f"127.0.0.1:{self.kamailio_port}",
                                                 self.dsn()))
        return node

    def start_node(self, node: Node, timeout: float = 60) -> None:
        """Start the node's daemon and wait until its SIP profile answers OPTIONS."""
        log = open(node.base / "fsd.out", "ab")  # noqa: SIM115 - handed to the process
        cmd = [shutil.which("fsd") or "fsd", "-nf", "-base", str(node.base)]
        cpu = node.cpu
        node.proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            preexec_fn=lambda: _child_setup(signal.SIGKILL, cpu))
        log.close()
        deadline = time.monotonic() + timeout
        while sip_options(node.sip_port) != 200:
            if node.proc.poll() is not None or time.monotonic() > deadline:
                tail = (node.base / "fsd.out").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{node.name} did not start:\n{tail}")

    def stop_node(self, node: Node, sig: int = signal.SIGTERM) -> None:
        """Stop a node; SIGKILL is a crash (calls in flight are lost, rows stay in the db)."""
        if node.proc is None:
            return
        if sig == signal.SIGKILL:
            node.proc.kill()
            node.proc.wait(10)
        else:
            _terminate(node.proc)
        node.proc = None

    def esl(self, node: Node, command: str, timeout: float = 30) -> str:
        """One ``api`` command over the node's event socket; the reply body."""
        from fsd.esl.client import ESLconnection

        con = ESLconnection("127.0.0.1", str(node.esl_port), "ClueCon")
        try:
            if not con.connected():
                raise RuntimeError(f"cannot connect to {node.name}'s event socket")
            ev = con.api(command)
            return (ev.getBody() or "") if ev is not None else ""
        finally:
            con.disconnect()

    # -- Kamailio ---------------------------------------------------------------------
    def _start_kamailio(self, timeout: float = 30) -> None:
        kdir = self.root / "kamailio"
        kdir.mkdir(exist_ok=True)
        ds_list = kdir / "dispatcher.list"
        ds_list.write_text(dispatcher_list(self.members))
        self.ctl = f"unix:{kdir / 'kamailio_ctl'}"
        cmd = kamailio_command(KAMAILIO_CFG, kdir, f"127.0.0.1:{self.kamailio_port}",
                               self.ping_interval, self.fr_timer)
        if self.kamailio_pgsql:
            # Kamailio's own tables (version, location) next to fsd's, from the SQL files
            # Debian's kamailio package ships for kamdbctl.
            for name in ("standard-create.sql", "usrloc-create.sql"):
                sql = (KAMAILIO_SQL / name).read_text()
                self.pg.psql(f"SET ROLE {self.pg.user};\n{sql}")
            url = (f"postgres://{self.pg.user}:{self.pg.password}@127.0.0.1:{self.pg.port}/"
                   f"{self.pg.dbname}")
            cmd += ["-A", "WITH_PGSQL", "-A", f'PGSQL_URL="{url}"']
        log = open(kdir / "kamailio.log", "ab")  # noqa: SIM115
        # its own process group (its workers are killed with it); SIGTERM when the launcher
        # dies lets the main process stop its workers itself
        self.kamailio = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True,
                                         preexec_fn=lambda: _child_setup(signal.SIGTERM))
        log.close()
        deadline = time.monotonic() + timeout
        while sip_options(self.kamailio_port) != 200:
            if self.kamailio.poll() is not None or time.monotonic() > deadline:
                tail = (kdir / "kamailio.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"kamailio did not start:\n{tail}")

    def kamcmd(self, *args: str) -> str:
        done = subprocess.run(["kamcmd", "-s", self.ctl, *args], capture_output=True,
                              text=True, timeout=30)
        if done.returncode != 0:
            raise RuntimeError(f"kamcmd {' '.join(args)}: {done.stderr or done.stdout}")
        return done.stdout

    def dispatcher_flags(self) -> dict[str, str]:
        """``sip:127.0.0.1:port`` → Kamailio's flags for it (AP active, IP inactive)."""
        out: dict[str, str] = {}
        uri = None
        for line in self.kamcmd("dispatcher.list").splitlines():
            line = line.strip()
            if line.startswith("URI:"):
                uri = line.split(":", 1)[1].strip()
            elif line.startswith("FLAGS:") and uri:
                out[uri] = line.split(":", 1)[1].strip()
        return out

    def wait_dispatcher(self, node: Node, state: str, timeout: float = 30) -> None:
        """Wait until Kamailio's flags for the node start with ``state`` (A or I)."""
        deadline = time.monotonic() + timeout
        flags = ""
        while time.monotonic() < deadline:
            flags = self.dispatcher_flags().get(f"sip:{node.address}", "")
            if flags.startswith(state):
                return
            time.sleep(0.1)
        raise TimeoutError(f"kamailio did not mark {node.name} {state} (flags {flags!r})")

    # -- SIPp phones --------------------------------------------------------------------
    def sipp(self, scenario: Path, service: str, *, calls: int = 1, rate: float | None = None,
             subs: dict[str, str] | None = None, log_file: Path | None = None,
             timeout: int = 120, extra: list[str] | None = None,
             port: int | None = None, target: int | None = None) -> subprocess.Popen:
        """Start SIPp against Kamailio (or the SIP port ``target``) with a scenario file whose
        ``{{key}}`` placeholders are filled from ``subs`` (``kport`` and ``via_port`` default
        to Kamailio's port); ``<log>`` lines go to ``log_file``.  Returns the process."""
        subs = {"kport": str(self.kamailio_port), "via_port": str(self.kamailio_port),
                **(subs or {})}
        text = scenario.read_text()
        for k, v in subs.items():
            text = text.replace("{{" + k + "}}", v)
        sdir = self.root / "sipp"
        sdir.mkdir(exist_ok=True)
        self._sipp_n = getattr(self, "_sipp_n", 0) + 1
        sf = sdir / f"{scenario.stem}-{self._sipp_n}.xml"
        sf.write_text(text)
        args = ["sipp", f"127.0.0.1:{target or self.kamailio_port}", "-s", service, "-i", "127.0.0.1",
                "-p", str(port or free_port()), "-mp", str(free_port()), "-m", str(calls),
                "-sf", str(sf), "-timeout", f"{timeout}s", "-timeout_error", "-nostdin",
                "-bind_local", "-max_recv_loops", "1000", "-l", str(max(calls, 1))]
        if rate:
            args += ["-r", str(rate)]
        if log_file is not None:
            args += ["-trace_logs", "-log_file", str(log_file)]
        args += extra or []
        return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace",
                                cwd=sdir)

    # -- the shared database ----------------------------------------------------------
    def sql(self, query: str) -> list[list[str]]:
        """Rows of a query on the shared core database (psql, as the superuser)."""
        out = self.pg.psql(query)
        return [line.split("|") for line in out.splitlines() if line]


def _terminate(proc: subprocess.Popen, timeout: float = 20) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nodes", type=int, default=3)
    ap.add_argument("--root", type=Path, default=None)
    ap.add_argument("--pin", action="store_true", help="pin each node to one core")
    args = ap.parse_args(argv)
    cluster = Cluster(nodes=args.nodes, root=args.root, pin=args.pin).start()
    print(f"kamailio udp:127.0.0.1:{cluster.kamailio_port}  postgres {cluster.pg.conninfo()}")
    for n in cluster.members:
        print(f"{n.name}: sip {n.address} esl 127.0.0.1:{n.esl_port} base {n.base}")
    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)  # (a blocked mask would pass on to the daemons)
    try:
        while True:
            signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
