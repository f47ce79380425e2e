"""The event bus: bindings, subscribers, matching, dropping, closing (§6, §13.8)."""

from __future__ import annotations

import threading
import time

import pytest

from fsd.events import Event, EventBus
from fsd.events.bus import Binding, matches
from fsd.log import ERR, logger


@pytest.fixture
def bus():
    b = EventBus()
    b.start()
    yield b
    b.stop()


@pytest.fixture
def logs():
    lines = []
    sid = logger.add_sink(lambda rec: lines.append(rec), ERR)
    yield lines
    logger.remove_sink(sid)


def wait_for(cond, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.002)
    return cond()


def custom(sub: str | None = None, **headers: str) -> Event:
    e = Event("CUSTOM", sub, standard_headers=False)
    for k, v in headers.items():
        e.add_header(k, v)
    return e


def test_callback_binding_gets_a_copy_in_the_dispatch_thread(bus):
    got = []
    bus.bind("CUSTOM", None, lambda ev: got.append((ev, threading.current_thread().name)))
    e = Event("CUSTOM", "app::thing")
    e.add_header("A", "1")
    assert bus.fire(e)
    assert wait_for(lambda: got)
    ev, thread_name = got[0]
    assert thread_name == "fsd-event-dispatch"
    assert ev is not e
    assert ev.headers[0] == ["Event-Subclass", "app::thing"]
    assert ev.get_header("A") == "1"


def test_bind_unknown_name_raises(bus):
    with pytest.raises(ValueError):
        bus.bind("NOPE", None, lambda ev: None)


def test_binding_by_type_subclass_and_all(bus):
    seen = {"answer": [], "sub": [], "all": []}
    bus.bind("CHANNEL_ANSWER", None, lambda ev: seen["answer"].append(ev.name))
    bus.bind("CUSTOM", "my::sub", lambda ev: seen["sub"].append(ev.subclass))
    bus.bind("ALL", None, lambda ev: seen["all"].append(ev.name))
    bus.fire(Event("CHANNEL_ANSWER"))
    bus.fire(Event("CUSTOM", "my::sub"))
    bus.fire(Event("CUSTOM", "other::sub"))
    bus.fire(Event("HEARTBEAT"))
    assert wait_for(lambda: len(seen["all"]) == 4)
    assert seen["answer"] == ["CHANNEL_ANSWER"]
    assert seen["sub"] == ["my::sub"]
    assert seen["all"] == ["CHANNEL_ANSWER", "CUSTOM", "CUSTOM", "HEARTBEAT"]


@pytest.mark.parametrize(
    ("bind_type", "bind_sub", "event", "expected"),
    [
        ("CUSTOM", None, lambda: custom(), True),
        ("CUSTOM", None, lambda: custom("a::b"), True),
        ("CUSTOM", "a::b", lambda: custom("a::b"), True),
        ("CUSTOM", "a::b", lambda: custom("a::c"), False),
        ("CUSTOM", "a::b", lambda: custom("A::B"), False),  # exact, case-sensitive
        ("CUSTOM", "a::b", lambda: custom(), False),
        ("API", None, lambda: custom(), False),
        ("ALL", None, lambda: custom("x::y"), True),
        ("ALL", "x::y", lambda: custom("x::y"), True),
        ("ALL", "x::y", lambda: custom("x::z"), False),
        ("ALL", "x::y", lambda: custom(), False),
        ("CUSTOM", "file:mod.c", lambda: custom("s::t", file="mod.c"), True),
        ("CUSTOM", "FILE:mod.c", lambda: custom("s::t", file="mod.c"), True),
        ("CUSTOM", "file:mod.c", lambda: custom("s::t", file="other.c"), False),
        ("CUSTOM", "file:mod.c", lambda: custom("s::t"), False),
        ("CUSTOM", "file:mod.c", lambda: custom(None, file="mod.c"), False),  # needs a subclass
        ("ALL", "file:mod.c", lambda: custom("s::t"), True),  # no header: ALL stays matched
        ("CUSTOM", "func:go", lambda: custom("s::t", function="go"), True),
        ("CUSTOM", "func:go", lambda: custom("s::t", function="stop"), False),
    ],
)
def test_matching_rules(bind_type, bind_sub, event, expected):
    from fsd.events import event_id

    node = Binding(event_id(bind_type), bind_sub, None, "", False)
    assert matches(event(), node) is expected


def test_subscriber_bind_rules(bus):
    sub = bus.subscribe(name="t")
    assert sub.bind("channel_answer") is True
    assert sub.bind("SWITCH_EVENT_HEARTBEAT") is True
    assert sub.bind("nonsense") is False
    assert sub.bind("CUSTOM", "only::this") is True
    assert sub.bindings == [("CHANNEL_ANSWER", None), ("HEARTBEAT", None), ("CUSTOM", "only::this")]
    bus.fire(Event("CHANNEL_ANSWER"))
    bus.fire(Event("CUSTOM", "not::this"))
    bus.fire(Event("CUSTOM", "only::this"))
    bus.fire(Event("API"))
    bus.fire(Event("HEARTBEAT"))
    names = []
    for _ in range(3):
        ev = sub.get(timeout=5)
        assert ev is not None
        names.append(ev.subclass or ev.name)
    assert names == ["CHANNEL_ANSWER", "only::this", "HEARTBEAT"]
    assert sub.get(timeout=0.05) is None
    sub.close()


def test_subscriber_all_and_own_copies(bus):
    a = bus.subscribe(name="a")
    b = bus.subscribe(name="b")
    a.bind("all")
    b.bind("ALL")
    e = Event("CUSTOM", "s::t")
    e.add_header("A", "1")
    bus.fire(e)
    ea, eb = a.get(timeout=5), b.get(timeout=5)
    assert ea is not eb
    assert ea.headers[0] == ["Event-Subclass", "s::t"]
    ea.set_header("A", "changed")
    ea.headers.append(["X", "y"])
    assert eb.get_header("A") == "1"
    assert eb.get_header("X") is None
    assert e.get_header("A") == "1"


def test_changes_after_fire_are_not_seen(bus):
    sub = bus.subscribe()
    sub.bind("ALL")
    gate = threading.Event()
    bus.bind("API", None, lambda ev: gate.wait(5))  # hold the dispatch thread
    bus.fire(Event("API"))
    e = Event("CUSTOM")
    e.add_header("A", "before")
    bus.fire(e)
    e.set_header("A", "after")
    e.add_header("B", "new")
    gate.set()
    first = sub.get(timeout=5)
    second = sub.get(timeout=5)
    assert first.name == "API"
    assert second.get_header("A") == "before"
    assert second.get_header("B") is None


def test_one_delivery_per_event_unless_duplicates_asked(bus):
    once = bus.subscribe(name="once")
    twice = bus.subscribe(name="twice", duplicates=True)
    for s in (once, twice):
        s.bind("CUSTOM")
        s.bind("ALL")
    bus.fire(Event("CUSTOM"))
    assert wait_for(lambda: twice.qsize() == 2)
    assert once.qsize() == 1


def test_filter_hook(bus):
    sub = bus.subscribe()
    sub.bind("ALL")
    sub.filter = lambda ev: ev.get_header("keep") == "yes"
    bus.fire(custom(None, keep="no"))
    bus.fire(custom(None, keep="yes"))
    ev = sub.get(timeout=5)
    assert ev.get_header("keep") == "yes"
    assert sub.get(timeout=0.05) is None


def test_full_queue_drops_counts_and_logs_once(bus, logs):
    sub = bus.subscribe(queue_len=5, name="small")
    sub.bind("ALL")
    for _ in range(20):
        assert bus.fire(Event("CUSTOM", standard_headers=False))
    assert wait_for(lambda: sub.dropped == 15)
    assert sub.qsize() == 5
    drops = [r for r in logs if r.text.startswith("Cannot queue any more events.....")]
    assert len(drops) == 1
    stats = bus.stats()
    assert stats["subscribers"]["small"] == {"queued": 5, "delivered": 5, "dropped": 15}
    assert stats["fired"] == 20
    assert stats["delivered"] >= 5


def test_reader_that_never_reads_does_not_hold_back_firing(bus):
    stuck = bus.subscribe(queue_len=100, name="stuck")
    stuck.bind("ALL")
    live = bus.subscribe(queue_len=20000, name="live")
    live.bind("ALL")
    results = [bus.fire(Event("CUSTOM", standard_headers=False)) for _ in range(10000)]
    assert all(results)
    # everything reaches the subscriber that reads; the other one just drops
    got = 0
    while got < 10000 and live.get(timeout=10) is not None:
        got += 1
    assert got == 10000
    assert stuck.qsize() == 100
    assert stuck.dropped == 9900


def test_blocked_callback_does_not_block_fire(bus):
    release = threading.Event()
    entered = threading.Event()

    def blocker(ev: Event) -> None:
        entered.set()
        release.wait(30)

    bus.bind("CUSTOM", None, blocker)
    bus.fire(Event("CUSTOM", standard_headers=False))
    assert entered.wait(5)
    # the dispatch thread is stuck in the callback; firing still returns at once
    assert all(bus.fire(Event("CUSTOM", standard_headers=False)) for _ in range(10000))
    assert bus.stats()["queued"] >= 9999
    release.set()
    assert wait_for(lambda: bus.stats()["queued"] == 0)


def test_bus_queue_full_and_not_running_drop():
    b = EventBus(queue_len=3)
    assert b.fire(Event("CUSTOM")) is False  # not started
    assert b.stats()["dropped"] == 1
    b.start()
    gate = threading.Event()
    entered = threading.Event()
    b.bind("API", None, lambda ev: (entered.set(), gate.wait(5)))
    b.fire(Event("API"))
    assert entered.wait(5)
    assert [b.fire(Event("CUSTOM")) for _ in range(5)] == [True, True, True, False, False]
    assert b.stats()["dropped"] == 3
    gate.set()
    b.stop()
    assert b.fire(Event("CUSTOM")) is False


def test_stop_delivers_what_was_queued():
    b = EventBus()
    sub = b.subscribe()
    sub.bind("ALL")
    b.start()
    for _ in range(50):
        b.fire(Event("CUSTOM", standard_headers=False))
    b.stop()
    assert sub.qsize() == 50


def test_callback_exception_is_logged_and_delivery_goes_on(bus, logs):
    got = []

    def broken(ev: Event) -> None:
        raise RuntimeError("boom")

    bus.bind("CUSTOM", None, broken, owner="mod_test")
    bus.bind("CUSTOM", None, got.append)
    bus.fire(Event("CUSTOM"))
    bus.fire(Event("CUSTOM"))
    assert wait_for(lambda: len(got) == 2)
    errs = [r for r in logs if "boom" in r.text]
    assert len(errs) == 2
    assert "Traceback" in errs[0].text and "mod_test" in errs[0].text


def test_unbind_and_unbind_owner(bus):
    got = []
    b1 = bus.bind("CUSTOM", None, lambda ev: got.append(1), owner="m1")
    bus.bind("CUSTOM", None, lambda ev: got.append(2), owner="m2")
    bus.bind("API", None, lambda ev: got.append(3), owner="m2")
    assert bus.unbind(b1) is True
    assert bus.unbind(b1) is False
    assert bus.unbind_owner("m2") == 2
    sub = bus.subscribe()
    sub.bind("ALL")
    bus.fire(Event("CUSTOM"))
    bus.fire(Event("API"))
    assert sub.get(timeout=5) and sub.get(timeout=5)
    assert got == []


def test_subscriber_unbind(bus):
    sub = bus.subscribe()
    sub.bind("CUSTOM", "a::b")
    sub.bind("CUSTOM", "c::d")
    sub.bind("API")
    assert sub.unbind("CUSTOM", "a::b") is True
    assert sub.bindings == [("CUSTOM", "c::d"), ("API", None)]
    assert sub.unbind("CUSTOM") is True
    assert sub.unbind("CUSTOM") is False
    assert sub.unbind("nonsense") is False
    bus.fire(Event("CUSTOM", "c::d"))
    bus.fire(Event("API"))
    assert sub.get(timeout=5).name == "API"
    assert sub.get(timeout=0.05) is None


def test_close_wakes_waiters_and_ends_the_subscriber(bus):
    sub = bus.subscribe(name="closing")
    sub.bind("ALL")
    results = []
    waiters = [threading.Thread(target=lambda: results.append(sub.get())) for _ in range(3)]
    for t in waiters:
        t.start()
    time.sleep(0.05)
    sub.close()
    for t in waiters:
        t.join(5)
        assert not t.is_alive()
    assert results == [None, None, None]
    assert sub.bind("ALL") is False
    bus.fire(Event("CUSTOM"))
    time.sleep(0.05)
    assert sub.get(timeout=0.01) is None
    assert sub.get_nowait() is None
    assert "closing" not in bus.stats()["subscribers"]


def test_close_drains_queue(bus):
    sub = bus.subscribe()
    sub.bind("ALL")
    bus.fire(Event("CUSTOM"))
    assert wait_for(lambda: sub.qsize() == 1)
    sub.close()
    assert sub.qsize() == 0
    assert sub.get() is None


def test_get_timeout_and_nowait(bus):
    sub = bus.subscribe()
    sub.bind("ALL")
    assert sub.get_nowait() is None
    assert sub.get(timeout=0.02) is None
    assert sub.get(timeout=0) is None
    bus.fire(Event("CUSTOM"))
    assert sub.get(timeout=5) is not None


def test_events_fired_from_a_callback_are_delivered(bus):
    sub = bus.subscribe()
    sub.bind("API")
    bus.bind("CUSTOM", None, lambda ev: bus.fire(Event("API")))
    bus.fire(Event("CUSTOM"))
    assert sub.get(timeout=5).name == "API"


def test_stats_names_unnamed_and_same_named_subscribers_apart(bus):
    a, b = bus.subscribe(), bus.subscribe()
    c, d = bus.subscribe(name="esl"), bus.subscribe(name="esl")
    assert a.name != b.name
    names = set(bus.stats()["subscribers"])
    assert {a.name, b.name, "esl", "esl#2"} <= names
    for s in (a, b, c, d):
        s.close()
    assert bus.stats()["subscribers"] == {}
