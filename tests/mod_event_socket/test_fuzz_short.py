"""The short CI version of bench/esl_fuzz.py: a real daemon in its own process takes a few
thousand mutated commands, random bytes and floods; no traceback reaches its log and
`api status` from a monitor connection keeps answering throughout."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def load_fuzz():
    spec = importlib.util.spec_from_file_location("esl_fuzz", ROOT / "bench" / "esl_fuzz.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_short_fuzz_run_leaves_no_traceback(tmp_path):
    fuzz = load_fuzz()
    result = fuzz.run_fuzz(tmp_path, connections=240, seed=7)
    assert result["inputs"] > 1000
    assert result["failures"] == []
    assert result["latencies"], "the monitor never got an answer"
    if result["tracebacks"]:
        log = result["log"]
        i = log.find("Traceback (most recent call last)")
        raise AssertionError(f"{result['tracebacks']} tracebacks in the log:\n{log[max(0, i - 600): i + 1500]}")
