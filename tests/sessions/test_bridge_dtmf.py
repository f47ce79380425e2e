"""DTMF crosses a bridge, as in FreeSWITCH: a digit arriving on one leg is sent out of the
other; bridge_filter_dtmf on the leg it arrived on keeps it there.

The call: X (loopback, cap1-2) bridges to Y (loopback, cap3-4); their loopback partners X'
and Y' are parked.  A digit sent out of X' arrives on X, crosses to Y, and is sent out of Y,
so it arrives on Y' — and the other way round."""

from __future__ import annotations

from fsd.testing import originate, other_leg, wait_until


def bridged_call(sw, events, xvars: str = ""):
    x, out = originate(sw, f"{{{xvars}}}loopback/cap1-2/t &bridge(loopback/cap3-4/t)" if xvars
                       else "loopback/cap1-2/t &bridge(loopback/cap3-4/t)")
    assert x, out
    br = events.wait("CHANNEL_BRIDGE", x)
    y = br[0].get_header("Bridge-B-Unique-ID")
    return x, other_leg(sw, x), y, other_leg(sw, y)


def digits_on(events, uuid: str) -> str:
    return "".join(e.get_header("DTMF-Digit") for e in events.of("DTMF", uuid))


def test_digits_cross_the_bridge_both_ways(sw, events):
    x, x2, y, y2 = bridged_call(sw, events)
    try:
        assert sw.api_execute(f"uuid_send_dtmf {x2} 5#").startswith("+OK")
        assert wait_until(lambda: digits_on(events, y2) == "5#"), digits_on(events, y2)
        assert sw.api_execute(f"uuid_send_dtmf {y2} 9").startswith("+OK")
        assert wait_until(lambda: digits_on(events, x2) == "9"), digits_on(events, x2)
    finally:
        sw.api_execute(f"uuid_kill {x}")


def test_bridge_filter_dtmf_keeps_digits_on_their_leg(sw, events):
    x, x2, y, y2 = bridged_call(sw, events, "bridge_filter_dtmf=true")
    try:
        sw.api_execute(f"uuid_send_dtmf {x2} 4")
        # the digit reached X (so it could have crossed) ...
        assert wait_until(lambda: digits_on(events, x) == "4")
        # ... and the other direction still crosses, which proves the bridge is serving
        sw.api_execute(f"uuid_send_dtmf {y2} 8")
        assert wait_until(lambda: digits_on(events, x2) == "8")
        assert digits_on(events, y2) == ""
    finally:
        sw.api_execute(f"uuid_kill {x}")
