"""The event-type table and name lookup (§17)."""

from __future__ import annotations

import pytest

from fsd.events import EVENT_NAMES, event_id, event_name


def test_table_ids_match_freeswitch():
    assert len(EVENT_NAMES) == 94
    assert event_id("CUSTOM") == 0
    assert event_id("CLONE") == 1
    assert event_id("CHANNEL_ANSWER") == 6
    assert event_id("API") == 23
    assert event_id("MESSAGE") == 37
    assert event_id("BACKGROUND_JOB") == 46
    assert event_id("REQUEST_PARAMS") == 62
    assert event_id("CHANNEL_DATA") == 63
    assert event_id("TEXT") == 90
    assert event_id("CERT_RELOAD") == 92
    assert event_id("ALL") == 93
    for i, name in enumerate(EVENT_NAMES):
        assert event_id(name) == i
        assert event_name(i) == name


def test_lookup_is_case_insensitive_and_takes_prefix():
    assert event_id("channel_create") == 2
    assert event_id("Channel_Create") == 2
    assert event_id("SWITCH_EVENT_CHANNEL_CREATE") == 2
    assert event_id("switch_event_heartbeat") == 50
    assert event_id("all") == 93


def test_unknown_names_give_none():
    for bad in ("nonsense", "", None, "CHANNEL CREATE", "SWITCH_EVENT_", "CUSTOMX"):
        assert event_id(bad) is None


def test_event_name_rejects_bad_ids():
    for bad in (-1, 94, 1000):
        with pytest.raises(ValueError):
            event_name(bad)
