"""The session lifecycle: the state enum, the one locked transition, hangup listeners run
exactly once, teardown exactly once, bounded queues."""

from __future__ import annotations

import threading

from fsd.caller_profile import CallerProfile
from fsd.events import Event
from fsd.session import Session
from fsd.session_queues import MAX_DTMF, MAX_PRIVATE_EVENTS
from fsd.states import CS, STATE_NUM, ChannelState
from fsd.testing import originate, wait_until


def _bare(sw, name: str = "test/bare") -> Session:
    """A session with no endpoint and no thread yet (as an endpoint creates one)."""
    return Session.create(sw, name=name, direction="inbound",
                          profile=CallerProfile(destination_number="cap1-2", context="t"))


def test_channel_state_enum_is_freeswitch_compatible():
    assert [s.value for s in ChannelState][:3] == ["CS_NEW", "CS_INIT", "CS_ROUTING"]
    assert CS.CS_EXCHANGE_MEDIA.number == 5
    assert CS.CS_HANGUP.number == 10 and CS.CS_DESTROY.number == 12 and CS.CS_NONE.number == 13
    assert CS.CS_PARK == "CS_PARK" and f"{CS.CS_PARK}" == "CS_PARK" and str(CS.CS_PARK) == "CS_PARK"
    assert STATE_NUM[CS.CS_PARK] == 6 and CS("CS_PARK") is CS.CS_PARK


def test_event_headers_and_show_channels_print_plain_names(sw, events):
    uuid, _ = originate(sw, "null/x &park")
    ev = events.wait("CHANNEL_STATE", uuid, Channel_State="CS_PARK")[0]
    assert ev.get_header("Channel-State-Number") == "6"
    assert ",CS_PARK," in sw.api_execute("show channels")
    sw.api_execute(f"uuid_kill {uuid}")
    events.wait("CHANNEL_DESTROY", uuid)


def test_transition_refusals_and_teardown_once(sw, events):
    s = _bare(sw)
    assert s.state is CS.CS_NEW and s.running_state is CS.CS_NEW
    assert s.set_state("CS_PARK") and s.state is CS.CS_PARK and s.running_state is CS.CS_NEW
    assert s.hangup("USER_BUSY")
    assert not s.hangup("NORMAL_CLEARING")  # the first hangup wins
    # teardown ran in this thread (no session thread was ever started), once
    assert s.running_state is CS.CS_DESTROY and s.destroyed.is_set()
    assert not s.set_state(CS.CS_PARK) and not s.enter_state(CS.CS_EXECUTE)
    assert not s._set_state(CS.CS_HANGUP)  # no step back, no second teardown
    s.start()  # too late: starts no thread, tears down nothing twice
    assert s.thread is None
    events.wait("CHANNEL_DESTROY", s.uuid)
    states = [e.get_header("Channel-State") for e in events.of("CHANNEL_STATE", s.uuid)]
    assert states == ["CS_HANGUP", "CS_REPORTING", "CS_DESTROY"]
    assert len(events.of("CHANNEL_HANGUP_COMPLETE", s.uuid)) == 1
    assert s.uuid not in sw.sessions


def test_transfer_pending_wins_over_state_requests(sw, events):
    uuid, _ = originate(sw, "null/x &park")
    events.wait("CHANNEL_STATE", uuid, Channel_State="CS_PARK")
    s = sw.sessions[uuid]
    with s.cond:  # atomically: the request cannot slip between transfer and refusal
        assert s.transfer("cap3-4", "XML", "t")
        assert s.state is CS.CS_ROUTING and s.transferring
        assert not s.set_state(CS.CS_EXECUTE)
        assert s.state is CS.CS_ROUTING
    assert wait_until(lambda: s.get_variable("first") == "3")
    sw.api_execute(f"uuid_kill {uuid}")
    events.wait("CHANNEL_DESTROY", uuid)


def test_hangup_before_thread_start_runs_teardown_once(sw, events):
    """hangup() and start() racing: whoever wins, CS_DESTROY is entered exactly once."""
    for i in range(30):
        s = _bare(sw, f"test/race{i}")
        go = threading.Barrier(2)

        def hang(s=s, go=go):
            go.wait()
            s.hangup("NORMAL_CLEARING")

        t = threading.Thread(target=hang)
        t.start()
        go.wait()
        s.start()
        t.join()
        assert s.destroyed.wait(5)
        if s.thread is not None:
            s.thread.join(5)
            assert not s.thread.is_alive()
    assert wait_until(lambda: not sw.sessions)
    # events arrive through the bus thread: wait for the 30 CHANNEL_DESTROY (fired after
    # the CS_DESTROY state change), then no uuid may have entered CS_DESTROY twice
    assert wait_until(lambda: len(events.of("CHANNEL_DESTROY")) >= 30)
    destroys = [e.get_header("Unique-ID") for e in events.of("CHANNEL_STATE", Channel_State="CS_DESTROY")]
    assert len(destroys) == 30 and len(set(destroys)) == 30


def test_hangup_listener_runs_exactly_once_even_when_added_during_hangup(sw):
    s = _bare(sw)
    calls: list[str] = []
    late_added = threading.Event()

    def first(sess):
        # added while hangup runs the listeners: must run once, not be lost
        sess.add_hangup_listener(lambda _s: calls.append("during"))
        late_added.set()
        calls.append("first")

    s.add_hangup_listener(first)
    s.add_hangup_listener(lambda _s: calls.append("second"))
    removed = []
    s.add_hangup_listener(removed.append)
    s.remove_hangup_listener(removed.append)
    s.hangup()
    assert late_added.is_set()
    s.add_hangup_listener(lambda _s: calls.append("after"))  # already hung up: runs now
    s.hangup()
    assert sorted(calls) == ["after", "during", "first", "second"]
    assert removed == []


def test_hangup_listeners_under_concurrent_adds(sw):
    """Threads add listeners while another hangs up: every one runs exactly once."""
    s = _bare(sw)
    counts: dict[int, int] = {}
    lock = threading.Lock()
    go = threading.Barrier(5)

    def adder(base):
        go.wait()
        for i in range(200):
            def cb(_s, k=base + i):
                with lock:
                    counts[k] = counts.get(k, 0) + 1
            s.add_hangup_listener(cb)

    threads = [threading.Thread(target=adder, args=(n * 1000,)) for n in range(4)]
    for t in threads:
        t.start()
    go.wait()
    s.hangup()
    for t in threads:
        t.join()
    assert len(counts) == 800 and set(counts.values()) == {1}


def test_kill_listeners_run_once(sw):
    s = _bare(sw)
    seen = []
    s.add_kill_listener(seen.append)
    s.kill()
    s.kill()
    s.add_kill_listener(seen.append)  # killed already: runs at once
    assert seen == [s, s]


def test_bounded_queues_count_and_log_drops(sw):
    s = _bare(sw)
    for i in range(MAX_PRIVATE_EVENTS + 10):
        ev = Event("CUSTOM", standard_headers=False)
        ev.add_header("n", str(i))
        s.queue_event(ev)
    s.media = None  # the session's own DTMF queue (a media port would take the digits)
    s.queue_dtmf("1" * (MAX_DTMF + 3))
    assert s.queue_drops == {"events": 10, "dtmf": 3}
    assert sw.session_queue_drops["events"] >= 10
    first = s.pop_event()
    assert first is not None and first.get_header("n") == "0"  # the oldest are kept
    assert "session queue drops: dtmf=3 events=10" in sw.api_execute("status")
    s.hangup()


def test_unbridge_lets_both_sides_go_on(sw, events):
    a, _ = originate(sw, "null/a &park")
    b, _ = originate(sw, "null/b &park")
    events.wait("CHANNEL_STATE", a, Channel_State="CS_PARK")
    events.wait("CHANNEL_STATE", b, Channel_State="CS_PARK")
    sa, sb = sw.sessions[a], sw.sessions[b]
    sa.request_bridge(sb)
    events.wait("CHANNEL_BRIDGE", a)
    assert sa.peer is sb and sb.peer is sa and sa.bridged()
    assert sb.unbridge()
    events.wait("CHANNEL_UNBRIDGE", a)
    assert sa.peer is None and sb.peer is None and not sb.unbridge()
    # B (the side that was pulled in) is parked again; A goes on with its extension
    # (which, after ``&park``, has nothing left: it hangs up as FreeSWITCH's A leg does)
    assert wait_until(lambda: len(events.of("CHANNEL_STATE", b, Channel_State="CS_PARK")) == 2)
    assert sb.up()
    for u in (a, b):
        sw.api_execute(f"uuid_kill {u}")
        events.wait("CHANNEL_DESTROY", u)
