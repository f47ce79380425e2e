"""docs/commands.md names every API and application the bundled modules register."""

from __future__ import annotations

import os
import re

DOC = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "commands.md")


def test_every_registered_name_is_documented(daemon):
    text = open(DOC, encoding="utf-8").read()
    listed = set(re.findall(r"^\| `([^`]+)` \|", text, flags=re.M))
    mine = ("mod_commands", "mod_dptools", "mod_hash", "mod_db")
    names = {n for n, a in daemon.sw.apis.items() if a.module in mine}
    names |= {n for n, a in daemon.sw.applications.items() if a.module in mine}
    missing = sorted(names - listed)
    assert not missing, f"not in docs/commands.md (run tools/commands_coverage.py): {missing}"
