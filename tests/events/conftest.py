"""Shared fixtures for the event-system tests."""

from __future__ import annotations

import pytest

from fsd.events import Event, get_identity, set_identity

SPEC_UUID = "6a2b8f0e-3c1d-4e55-9a7b-0c1d2e3f4a5b"


@pytest.fixture
def spec_identity():
    """The identity used by the worked examples of §13; the old one is put back after."""
    old = get_identity()
    set_identity(
        core_uuid=SPEC_UUID, hostname="pbx1", switchname="pbx1", ipv4="192.0.2.10", ipv6="::1"
    )
    yield
    set_identity(
        core_uuid=old.core_uuid,
        hostname=old.hostname,
        switchname=old.switchname,
        ipv4=old.ipv4,
        ipv6=old.ipv6,
    )


@pytest.fixture
def spec_event(spec_identity) -> Event:
    """The worked example of §13.5: a script-made CUSTOM event, dial::result."""
    e = Event(
        "CUSTOM",
        "dial::result",
        calling_file="/usr/src/freeswitch/src/switch_cpp.cpp",
        calling_func="Event",
        calling_line=315,
    )
    # The clock and the global counter cannot be chosen; overwrite them in place.
    e.set_header("Event-Date-Local", "2024-03-05 14:07:09")
    e.set_header("Event-Date-GMT", "Tue, 05 Mar 2024 14:07:09 GMT")
    e.set_header("Event-Date-Timestamp", "1709647629123456")
    e.set_header("Event-Sequence", "4711")
    assert e.add_header("Call-Disposition", "answered & bridged")
    assert e.add_body("dial_record_id: 1234\ncampaign: 20\n")
    return e
