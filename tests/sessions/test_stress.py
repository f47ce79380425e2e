"""Stress: 500 calls whose answer, hangups from both sides, uuid_kill, bridge and transfer
race each other from several threads (choices from a fixed seed; the interleaving is the
machine's).  Afterwards every hangup listener ran exactly once, every session entered
CS_HANGUP and CS_DESTROY exactly once, no session thread is left, the table is empty.

No wall-clock bound is asserted: the deadlines only keep a hang from hanging the suite."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from fsd.caller_profile import CallerProfile
from fsd.originate import Target, create_leg
from fsd.session import Session, SessionError
from fsd.states import CS
from fsd.testing import running_switch, wait_until

CALLS = 500
SEED = 20261203
MODULES = ["mod_commands", "mod_dptools", "mod_loopback", "mod_dialplan_xml"]
DIALPLAN = """<include>
<context name="stress">
  <extension name="stress">
    <condition field="destination_number" expression="^stress$">
      <action application="answer"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="again">
    <condition field="destination_number" expression="^again$">
      <action application="set" data="transferred=yes"/>
      <action application="answer"/>
      <action application="park"/>
    </condition>
  </extension>
  <extension name="short">
    <condition field="destination_number" expression="^short$">
      <action application="answer"/>
    </condition>
  </extension>
</context>
</include>
"""


class Ledger:
    """What every session went through, recorded by listeners added at creation."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sessions: list[Session] = []
        self.hangup_calls: Counter[tuple[str, str]] = Counter()
        self.entered: Counter[tuple[str, str]] = Counter()
        self.destroy_events: Counter[str] = Counter()

    def track(self, s: Session) -> None:
        with self.lock:
            self.sessions.append(s)
        s.add_state_listener(self._state)
        s.add_hangup_listener(lambda x: self._hangup(x, "created"))

    def _state(self, s: Session, state: str) -> None:
        with self.lock:
            self.entered[(s.uuid, str(state))] += 1

    def _hangup(self, s: Session, which: str) -> None:
        with self.lock:
            self.hangup_calls[(s.uuid, which)] += 1

    def late_listener(self, s: Session) -> None:
        """Added from a racing thread, maybe while the hangup runs the listeners."""
        s.add_hangup_listener(lambda x: self._hangup(x, "late"))

    def on_destroy_event(self, ev) -> None:
        with self.lock:
            self.destroy_events[ev.get_header("Unique-ID")] += 1


@pytest.fixture
def stress_switch(tmp_path, monkeypatch):
    ledger = Ledger()
    original = Session.create.__func__

    def create(cls, switch, **kwargs):
        s = original(cls, switch, **kwargs)
        ledger.track(s)
        return s

    monkeypatch.setattr(Session, "create", classmethod(create))
    with running_switch(tmp_path, MODULES, extra_files={"conf/dialplan/stress.xml": DIALPLAN},
                        switch_settings={"sessions-per-second": "0", "max-sessions": "100000"}) as sw:
        sw.events.bind("CHANNEL_DESTROY", None, ledger.on_destroy_event)
        yield sw, ledger


def _leg(sw, dial: str, variables: dict[str, str] | None = None) -> Session | None:
    endpoint, _, rest = dial.partition("/")
    try:
        return create_leg(sw, Target(endpoint, rest, variables or {}), {}, None)
    except SessionError:
        return None


def _call(sw, ledger: Ledger, i: int) -> None:
    """One call: a loopback pair (A, and B routed through the dialplan), a null leg that
    answers only when told, and a bare channel whose thread may or may not be started;
    racing threads act on them in a seeded random order."""
    rng = random.Random(SEED + i)
    dest = rng.choice(["stress", "stress", "short"])
    a = _leg(sw, f"loopback/{dest}/stress")
    n = _leg(sw, "null/n", {"null_enable_auto_answer": "false"})
    legs = [x for x in (a, n) if x is not None]
    b_uuid = a.get_variable("other_loopback_leg_uuid") if a is not None else None
    b = sw.sessions.get(b_uuid) if b_uuid else None
    if b is not None:
        legs.append(b)
    # a channel whose start() races its hangup (as an endpoint that starts it late)
    bare = Session.create(sw, name=f"bare/{i}", direction="outbound",
                          profile=CallerProfile(destination_number="bare", context="stress"))
    legs.append(bare)
    uuids = [x.uuid for x in legs]

    def api(cmd: str) -> None:
        sw.api_execute(cmd)

    actions = []
    for leg in legs:
        actions.append(lambda leg=leg: leg.answer())
        actions.append(lambda leg=leg: ledger.late_listener(leg))
    actions += [
        lambda: a and a.hangup("NORMAL_CLEARING"),
        lambda: b and b.hangup("USER_BUSY"),
        lambda: n and n.hangup("NO_ANSWER"),
        lambda: api(f"uuid_kill {rng.choice(uuids)}"),
        lambda: api(f"uuid_kill {rng.choice(uuids)} CALL_REJECTED"),
        lambda: a and n and a.request_bridge(n),
        lambda: b and n and api(f"uuid_bridge {b.uuid} {n.uuid}"),
        lambda: b and api(f"uuid_transfer {b.uuid} again XML stress"),
        lambda: a and api(f"uuid_transfer {a.uuid} -both again XML stress"),
        lambda: rng.choice(legs).unbridge(),
        lambda: bare.start(),
        lambda: bare.hangup("ORIGINATOR_CANCEL"),
    ]
    chosen = rng.sample(actions, k=rng.randint(3, len(actions)))
    lanes: list[list] = [[] for _ in range(3)]
    for k, act in enumerate(chosen):
        lanes[k % 3].append(act)
    jitter = [rng.random() * 0.002 for _ in chosen]
    go = threading.Barrier(len(lanes))

    def run(lane: list, j: int) -> None:
        go.wait()
        for act in lane:
            time.sleep(jitter[j % len(jitter)])  # spreads the interleavings; never asserted
            try:
                act()
            except Exception as e:  # an action failing is a test failure, reported below
                errors.append(f"call {i}: {type(e).__name__}: {e}")

    errors: list[str] = []
    threads = [threading.Thread(target=run, args=(lane, j)) for j, lane in enumerate(lanes)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for leg in legs:  # whatever survived the race is killed now
        leg.kill("NORMAL_CLEARING")
    assert not errors, errors


def test_500_racing_calls_leave_nothing_behind(stress_switch):
    sw, ledger = stress_switch
    with ThreadPoolExecutor(max_workers=8) as pool:
        for f in [pool.submit(_call, sw, ledger, i) for i in range(CALLS)]:
            f.result()

    deadline = time.monotonic() + 60  # only against a hang: no bound is asserted
    with sw.sessions_changed:
        while sw.sessions and time.monotonic() < deadline:
            sw.sessions_changed.wait(deadline - time.monotonic())
    assert not sw.sessions, f"{len(sw.sessions)} sessions left"
    sessions = list(ledger.sessions)
    assert len(sessions) == 4 * CALLS  # loopback A and B, the null leg, the bare channel
    for s in sessions:
        assert s.destroyed.wait(max(0.0, deadline - time.monotonic())), s.name
        if s.thread is not None:
            s.thread.join(max(0.0, deadline - time.monotonic()))
    assert [s.name for s in sessions if s.thread is not None and s.thread.is_alive()] == []
    assert not [t.name for t in threading.enumerate() if t.name.startswith("session-")]

    for s in sessions:
        assert s.running_state is CS.CS_DESTROY
        assert ledger.entered[(s.uuid, "CS_HANGUP")] == 1, s.name
        assert ledger.entered[(s.uuid, "CS_DESTROY")] == 1, s.name
        assert ledger.hangup_calls[(s.uuid, "created")] == 1, s.name
    late = Counter({k: v for k, v in ledger.hangup_calls.items() if k[1] == "late"})
    assert late and set(late.values()) == {1}
    # CHANNEL_DESTROY comes through the event bus thread: wait for all, then exactly once
    assert wait_until(lambda: len(ledger.destroy_events) >= len(sessions), 30)
    assert {s.uuid for s in sessions} == set(ledger.destroy_events)
    assert set(ledger.destroy_events.values()) == {1}
    # nothing crashed or failed on the way (session threads, listeners, bridges, APIs)
    with open(f"{sw.dirs.log}/fsd.log", encoding="utf-8", errors="replace") as f:
        bad = [line for line in f if "[ERR]" in line or "[CRIT]" in line or "Traceback" in line]
    assert bad == []
    # the races really happened: bridges, transfers and kills all show up
    assert any(s.get_variable("transferred") == "yes" for s in sessions)
    assert any(s.get_variable("last_bridge_to") for s in sessions)
    assert any(s.hangup_cause == "CALL_REJECTED" for s in sessions)
