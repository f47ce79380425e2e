"""Bad settings and edge cases of the bounded module hooks and of the shutdown timeout
(fsd/hook_timeout.py, fsd/shutdown_guard.py); the daemon-level behaviour is in
test_module_hooks_bounded.py and tests/mod_lua/test_stop_stuck_script.py."""

from __future__ import annotations

import threading

import pytest

from fsd.hook_timeout import DEFAULT_TIMEOUT, HookTimeout, call_bounded, hook_timeout
from fsd.shutdown_guard import shutdown_timeout


@pytest.mark.parametrize("raw,expected", [
    (None, DEFAULT_TIMEOUT), ("", DEFAULT_TIMEOUT), ("5", 5.0), ("0.5", 0.5), ("0", 0.0),
    ("²", DEFAULT_TIMEOUT), ("٣", DEFAULT_TIMEOUT), ("-1", DEFAULT_TIMEOUT),
    ("1e3", DEFAULT_TIMEOUT), ("soon", DEFAULT_TIMEOUT),
])
def test_module_load_timeout_setting(raw, expected):
    settings = {} if raw is None else {"module-load-timeout": raw}
    assert hook_timeout(settings) == expected


@pytest.mark.parametrize("raw,expected", [
    ("7", 7.0), ("0", 20.0), ("x", 20.0), ("²", 20.0), ("", 20.0),
])
def test_shutdown_timeout_setting(raw, expected):
    assert shutdown_timeout({"shutdown-timeout": raw}) == expected
    assert shutdown_timeout(None) == 20.0


def test_call_bounded_returns_and_reraises_base_exceptions():
    assert call_bounded("mod_x", "fsd_module_load", lambda: 42, 5) == 42
    with pytest.raises(SystemExit):
        call_bounded("mod_x", "fsd_module_load", lambda: exit(3), 5)
    with pytest.raises(KeyboardInterrupt):
        def interrupt():
            raise KeyboardInterrupt
        call_bounded("mod_x", "fsd_module_load", interrupt, 5)


def test_a_late_return_after_the_timeout_runs_the_cleanup():
    release, cleaned = threading.Event(), threading.Event()
    with pytest.raises(HookTimeout, match="mod_slow did not return from fsd_module_load"):
        call_bounded("mod_slow", "fsd_module_load", lambda: release.wait(30), 0.2,
                     on_late_return=cleaned.set)
    assert not cleaned.is_set()
    release.set()
    assert cleaned.wait(10)
