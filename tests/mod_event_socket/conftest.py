"""Fixtures: one real daemon per module (fast), a raw byte-level client."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_HERE = Path(__file__).parent


def _load(name: str):
    key = f"_esl_tests_{name}"
    if key in sys.modules:
        return sys.modules[key]
    spec = importlib.util.spec_from_file_location(key, _HERE / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[key] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="session")
def esl():
    """The helper module tests/mod_event_socket/daemon.py."""
    return _load("daemon")


@pytest.fixture(scope="module")
def daemon(esl, tmp_path_factory):
    """(switch, port) of a daemon shared by the tests of one file."""
    base = tmp_path_factory.mktemp("esl")
    with esl.esl_daemon(base) as (sw, port):
        yield sw, port


@pytest.fixture
def port(daemon):
    return daemon[1]


@pytest.fixture
def client(esl, port):
    """An authenticated raw client."""
    c = esl.RawClient(port)
    assert c.auth() == esl.reply("+OK accepted")
    yield c
    c.close()
