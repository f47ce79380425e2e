"""Short fuzz runs (the million-message one is ``bench/sip_fuzz.py``): mutations of real
INVITE/REGISTER/BYE/ACK/CANCEL and a 200 fed to the parser and the UA core in-process,
and over UDP to a running daemon that must keep answering OPTIONS."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _fuzz():
    spec = importlib.util.spec_from_file_location("sip_fuzz", ROOT / "bench" / "sip_fuzz.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("sip_fuzz", mod)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("seed", [11, 12])
def test_parser_and_ua_core_take_mutated_messages_without_escapes(seed):
    r = _fuzz().fuzz_in_process(4000, seed=seed, chunk=1000)
    assert r["messages"] == 4000
    assert r["escapes"] == 0, r["examples"]
    # the mutations reach past the parser into the transaction layer
    assert r["parsed"] > 1000 and r["sent"] > 500


def test_mutator_is_deterministic_and_mutates():
    fz = _fuzz()
    a = [fz.Mutator(5).one() for _ in range(1)] + [fz.Mutator(5).one()]
    assert a[0] == a[1]
    m = fz.Mutator(6)
    assert sum(m.one() not in fz.seeds() for _ in range(200)) > 150


def test_superscript_digits_are_not_a_port_or_a_length():
    # str.isdigit() accepts '¹'; int() does not (an escape the fuzzer found)
    from fsd_modules.mod_sofia_lite.message import ParseError, Via, parse

    assert Via.parse("SIP/2.0/UDP 127.0.0.1:509\u00b9;branch=z9hG4bKx").port == 0
    with pytest.raises(ParseError):
        parse("OPTIONS sip:a@b SIP/2.0\r\nContent-Length: \u00b2\r\n\r\n".encode())


def test_daemon_keeps_answering_options_under_fuzzed_datagrams(sip_rig):
    r = _fuzz().fuzz_udp(sip_rig.port, 2000, seed=21, options_every=100)
    assert r["sent"] == 2000
    assert r["options_answered"] == r["options_asked"] == 21
    # and it still takes a real call
    sip_rig.sipp("uac_answered.xml", "7001")
