"""Three fsd nodes behind Kamailio, sharing one PostgreSQL core database (issue 16).

Real everything: a private PostgreSQL server, Kamailio 5.6 with deploy/kamailio/kamailio.cfg,
three ``fsd -nf`` daemons with deploy/node/conf, SIPp phones; started and torn down by
deploy/launch_cluster.py (what docs/deploy.md describes).  The tests run in file order on
one cluster: phones register through Kamailio, 300 calls spread over the nodes, a node
calls a phone through Kamailio, a phone registered to one node is reached from another
(``user/<id>`` through the shared registrations), node 1 crashes with calls in flight and
comes back.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
SC = HERE / "scenarios"
SOFIA_SC = ROOT / "tests" / "mod_sofia_lite" / "scenarios"

_spec = importlib.util.spec_from_file_location("launch_cluster", ROOT / "deploy" / "launch_cluster.py")
launch_cluster = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = launch_cluster
_spec.loader.exec_module(launch_cluster)

pytestmark = pytest.mark.skipif(
    not (shutil.which("kamailio") and shutil.which("sipp") and shutil.which("kamcmd")),
    reason="kamailio and sipp are installed by .ci/setup.d/deploy.sh")


def wait_for(predicate, timeout: float = 60, what: str = "condition",  # noqa: ANN001, ANN201
             sipp: subprocess.Popen | None = None):
    """Poll until ``predicate()`` is truthy; its value.  Fails with ``what`` at the deadline,
    or at once when the SIPp run the condition depends on has ended."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if sipp is not None and sipp.poll() is not None:
            out, err = sipp.communicate()
            pytest.fail(f"sipp ended ({sipp.returncode}) before {what} (last: {value!r}):\n"
                        f"{out[-2000:]}\n{err[-2000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what} (last: {value!r})")
        time.sleep(0.1)


def finish(proc: subprocess.Popen, timeout: float = 120) -> str:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, f"sipp failed ({proc.returncode}):\n{out[-2000:]}\n{err[-2000:]}"
    return out


def log_lines(path: Path) -> list[tuple[str, str, str]]:
    """(OK|LOST, call-id, node port) from a scenario's <log> lines."""
    if not path.exists():
        return []
    return [tuple(m.groups()) for m in re.finditer(r"^(OK|LOST) (\S+) (\d+)$", path.read_text(), re.M)]


@pytest.fixture(scope="module")
def cluster():
    # Kamailio: probe every second, give up on a silent node after 2 s (production: 5 s, 4 s)
    c = launch_cluster.Cluster(nodes=3, ping_interval=1, fr_timer=2000, kamailio_pgsql=True).start()
    try:
        yield c
    finally:
        c.stop()


def channel_count(c, node) -> int:  # noqa: ANN001
    text = c.esl(node, "show channels count")
    m = re.search(r"(\d+) total", text)
    assert m, text
    return int(m.group(1))


def db_counts(c) -> dict[str, int]:  # noqa: ANN001
    return {h: int(n) for h, n in c.sql("SELECT hostname, count(*) FROM channels GROUP BY hostname")}


def port_names(c) -> dict[str, str]:  # noqa: ANN001
    return {str(n.sip_port): n.name for n in c.members}


def test_every_node_answers_kamailio_options_probes(cluster) -> None:
    flags = cluster.dispatcher_flags()
    assert sorted(flags) == sorted(f"sip:{n.address}" for n in cluster.members)
    assert all(f.startswith("A") for f in flags.values()), flags
    for n in cluster.members:
        assert launch_cluster.sip_options(n.sip_port) == 200


def test_node2_calls_a_phone_registered_through_kamailio(cluster) -> None:
    phone_port = launch_cluster.free_port()
    phone = cluster.sipp(SC / "phone.xml", "1001", port=phone_port, timeout=60)
    finish(cluster.sipp(SC / "register.xml", "1001", subs={"phone_port": str(phone_port)}))
    assert "AoR: 1001" in cluster.kamcmd("ul.dump")
    # Kamailio's usrloc is written through to the shared PostgreSQL (-A WITH_PGSQL)
    assert cluster.sql("SELECT username, contact FROM location") == [
        ["1001", f"sip:1001@127.0.0.1:{phone_port}"]]
    node2 = cluster.members[1]
    # through the dialplan's to_phone extension: bridge sofia/gateway/kamailio/1001
    reply = cluster.esl(node2, "originate loopback/1001/cluster &park()")
    assert reply.startswith("+OK"), reply
    wait_for(lambda: ["node2"] == sorted({h for h, d in cluster.sql(
        "SELECT hostname, dest FROM channels WHERE name LIKE 'sofia/internal/1001%'")}),
        what="node 2's SIP leg to 1001 in the shared database")
    assert cluster.esl(node2, "hupall").startswith("+OK")
    finish(phone)  # the phone's scenario checked INVITE and BYE came through Kamailio


@pytest.mark.timeout(420)  # a loaded 2-core machine; alone it takes ~10 s
def test_300_calls_spread_over_three_nodes(cluster) -> None:
    log = cluster.root / "spread.log"
    calls = cluster.sipp(SC / "call_hold.xml", "9000", calls=300, rate=60, log_file=log,
                         subs={"hold_ms": "180000"}, timeout=240)
    try:
        per_node = wait_for(lambda: (lambda c: c if sum(c.values()) == 300 else None)(
            {n.name: channel_count(cluster, n) for n in cluster.members}),
            timeout=240, what="300 channels up over the three nodes' ESL", sipp=calls)
        assert all(v >= 30 for v in per_node.values()), per_node  # Call-ID hash: ~100 each
        wait_for(lambda: db_counts(cluster) == per_node, what=f"PostgreSQL rows {per_node}")
        for n in cluster.members:  # any node answers for the whole cluster
            assert "\n300 total." in cluster.esl(n, "show channels cluster count")
        listing = cluster.esl(cluster.members[2], "show calls cluster as json")
        assert '"row_count":300' in listing
        assert all(f'"hostname":"{name}"' in listing for name in per_node)
    finally:
        for n in cluster.members:
            cluster.esl(n, "hupall")
    finish(calls, timeout=240)
    answered = Counter(port_names(cluster)[p] for ok, _cid, p in log_lines(log) if ok == "OK")
    assert answered == Counter(per_node)
    wait_for(lambda: not db_counts(cluster), what="every channel row gone")


def test_shared_registration_reaches_a_phone_from_another_node(cluster) -> None:
    node1, node3 = cluster.members[0], cluster.members[2]
    phone_port = launch_cluster.free_port()
    phone = cluster.sipp(SC / "phone.xml", "1005", port=phone_port, timeout=60,
                         subs={"via_port": str(node3.sip_port)})
    contact = f"<sip:1005@127.0.0.1:{phone_port}>"
    finish(cluster.sipp(SOFIA_SC / "register.xml", "1005", target=node1.sip_port,
                        subs={"contact": contact, "exp": "300", "user": "1005", "pw": "1234",
                              "want": "200"}))
    wait_for(lambda: cluster.sql("SELECT hostname FROM registrations WHERE reg_user = '1005'")
             == [["node1"]], what="node 1's registration in PostgreSQL")
    assert cluster.esl(node3, "sofia_contact 1005") == f"sofia/internal/sip:1005@127.0.0.1:{phone_port}"
    reply = cluster.esl(node3, "originate user/1005 &park()")
    assert reply.startswith("+OK"), reply
    assert cluster.esl(node3, "hupall").startswith("+OK")
    finish(phone)


@pytest.mark.timeout(300)
def test_node1_crash_then_failover_then_return(cluster) -> None:
    node1, node2, node3 = cluster.members
    names = port_names(cluster)
    held_log = cluster.root / "held.log"
    held = cluster.sipp(SC / "call_hold.xml", "9000", calls=60, rate=60, log_file=held_log,
                        subs={"hold_ms": "10000"}, timeout=120)
    per_node = wait_for(lambda: (lambda c: c if sum(c.values()) == 60 else None)(
        {n.name: channel_count(cluster, n) for n in cluster.members}),
        what="60 calls in flight", sipp=held)
    assert per_node["node1"] > 0, per_node
    wait_for(lambda: db_counts(cluster) == per_node, what=f"PostgreSQL rows {per_node}")
    cluster.stop_node(node1, signal.SIGKILL)
    for n in (node2, node3):  # their calls end normally (BYE through Kamailio)
        cluster.esl(n, "hupall")

    cluster.wait_dispatcher(node1, "I")
    after_log = cluster.root / "after.log"
    finish(cluster.sipp(SC / "call_short.xml", "9000", calls=30, rate=30, log_file=after_log))
    after = Counter(names[p] for _ok, _cid, p in log_lines(after_log))
    assert sum(after.values()) == 30 and set(after) <= {"node2", "node3"}, after

    finish(held, timeout=120)
    lines = log_lines(held_log)
    lost = Counter(names[p] for ok, _cid, p in lines if ok == "LOST")
    ok = Counter(names[p] for k, _cid, p in lines if k == "OK")
    assert lost == Counter({"node1": per_node["node1"]}), (lost, per_node)
    assert ok == Counter({k: v for k, v in per_node.items() if k != "node1"}), (ok, per_node)
    # the crashed node's rows stay in the shared database until it starts again
    assert db_counts(cluster) == {"node1": per_node["node1"]}

    cluster.start_node(node1)
    wait_for(lambda: "node1" not in db_counts(cluster), what="node 1 clearing its stale rows")
    cluster.wait_dispatcher(node1, "A")
    back_log = cluster.root / "back.log"
    finish(cluster.sipp(SC / "call_short.xml", "9000", calls=30, rate=30, log_file=back_log))
    back = Counter(names[p] for _ok, _cid, p in log_lines(back_log))
    assert sum(back.values()) == 30 and back["node1"] > 0, back


@pytest.mark.timeout(300)
def test_calls_to_a_silent_node_fail_over_to_the_others(cluster) -> None:
    """A node that stops answering (SIGSTOP: the process is there, the socket is silent):
    the calls Kamailio hashed to it before its probes noticed time out (FR_TIMER) and are
    relayed to the next node by the failure route; none fails."""
    node3 = cluster.members[2]
    names = port_names(cluster)
    cluster.wait_dispatcher(node3, "A")
    node3.proc.send_signal(signal.SIGSTOP)
    try:
        log = cluster.root / "silent.log"
        finish(cluster.sipp(SC / "call_short.xml", "9000", calls=30, rate=100, log_file=log))
        lines = log_lines(log)
        got = Counter(names[p] for _ok, _cid, p in lines)
        assert sum(got.values()) == 30 and set(got) <= {"node1", "node2"}, got
        kam_log = (cluster.root / "kamailio" / "kamailio.log").read_text(errors="replace")
        moved = set(re.findall(r"fsd node failover: call (\S+) to", kam_log))
        assert moved and moved <= {cid for _ok, cid, _p in lines}, moved  # hashed to node 3 first
        cluster.wait_dispatcher(node3, "I")
    finally:
        node3.proc.send_signal(signal.SIGCONT)
    cluster.wait_dispatcher(node3, "A")
