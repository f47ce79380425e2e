"""Event.add_headers (many rows at once, used for channel data) gives exactly what
add_header row by row gives: same headers, same order, same serialisation."""

from __future__ import annotations

import random

import pytest

from fsd.events import Event

NAMES = ["variable_a", "variable_A", "Caller-ANI", "caller-ani", "X[1]", "X", "Core-UUID",
         "event-sequence", "_body", "Other-Type", "Unique-ID", "", "variable_list"]
VALUES = ["", "v", "w x", "ARRAY::p|:q", "ARRAY::", None, 7, "ü"]


def _pair(kind: str, sub: str | None = None) -> tuple[Event, Event]:
    a = Event(kind, sub, calling_file="f.c", calling_func="fn", calling_line=1)
    b = Event(kind, sub, calling_file="f.c", calling_func="fn", calling_line=1)
    b._pend = a._pend  # same stamp (time, sequence) for a byte comparison
    return a, b


def _same(a: Event, b: Event) -> None:
    assert a.headers == b.headers
    assert a.body == b.body
    assert a.serialize("plain") == b.serialize("plain")
    assert a.serialize("json") == b.serialize("json")


@pytest.mark.parametrize("kind,sub", [("CHANNEL_CREATE", None), ("CUSTOM", "x::y"),
                                      ("REQUEST_PARAMS", None), ("CHANNEL_DATA", None)])
def test_random_rows_match_add_header(kind, sub):
    rnd = random.Random(13)
    for _ in range(300):
        rows = [(rnd.choice(NAMES), rnd.choice(VALUES)) for _ in range(rnd.randint(0, 25))]
        one, bulk = _pair(kind, sub)
        for n, v in rows:
            one.add_header(n, v)
        bulk.add_headers(rows)
        _same(one, bulk)


@pytest.mark.parametrize("kind", ["CHANNEL_CREATE", "CUSTOM"])
def test_random_plain_rows_match_add_header(kind):
    """Only plain rows (the fast path): str values, some empty, names in mixed case."""
    rnd = random.Random(7)
    names = ["variable_a", "variable_A", "VARIABLE_A", "Caller-ANI", "b", "B", "c"]
    for _ in range(500):
        rows = [(rnd.choice(names), rnd.choice(["", "", "v", "w"])) for _ in range(rnd.randint(0, 30))]
        one, bulk = _pair(kind, "x::y" if kind == "CUSTOM" else None)
        pre = [(rnd.choice(names), "p") for _ in range(rnd.randint(0, 3))]
        for n, v in pre:
            one.add_header(n, v)
            bulk.add_header(n, v)
        for n, v in rows:
            one.add_header(n, v)
        bulk.add_headers(rows)
        assert bulk._pend is not None  # the standard headers were not built for it
        _same(one, bulk)


def test_rows_after_headers_were_read_and_on_a_shared_twin():
    """Once the standard headers are built (or the list is shared), rows go through
    add_header: still the same result."""
    rows = [("variable_a", "1"), ("variable_a", ""), ("variable_b", "2")]
    one, bulk = _pair("CHANNEL_CREATE")
    one.headers  # noqa: B018 - builds the standard rows
    bulk.headers  # noqa: B018
    for n, v in rows:
        one.add_header(n, v)
    bulk.add_headers(rows)
    _same(one, bulk)
    twin_src = Event("CHANNEL_CREATE")
    twin = twin_src._share()
    twin.add_headers(rows)
    assert twin.get_header("variable_b") == "2" and twin.get_header("variable_a") is None
    assert twin_src.get_header("variable_b") is None


def test_an_empty_value_deletes_every_case_of_the_name():
    e = Event("CHANNEL_CREATE")
    e.add_headers([("variable_Foo", "1"), ("VARIABLE_FOO", "2"), ("variable_bar", "3"),
                   ("variable_foo", "")])
    names = [h[0] for h in e.headers]
    assert "variable_Foo" not in names and "VARIABLE_FOO" not in names
    assert "variable_bar" in names and names[0] == "Event-Name"
