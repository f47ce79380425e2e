"""COVERAGE.md must name, for every `- [ ]` checkbox and every table row of §1–§12 of the
behaviour reference, at least one test that exists.  The reference lives in the shared
folder beside the repository (`<repo>/../shared/reference/…`; CI lays a copy of shared/
beside the clone)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent  # tests/mod_lua
REPO = HERE.parents[2]
SPEC = REPO.parent / "shared" / "reference" / "freeswitch-behaviour.md"
COVERAGE = HERE / "COVERAGE.md"
_SEP = re.compile(r"(?<!\\)\|")


def _spec_text() -> str:
    if not SPEC.exists():
        pytest.skip(f"behaviour reference not found at {SPEC} (shared/ is not beside the repository)")
    return SPEC.read_text(encoding="utf-8")


def spec_items(text: str) -> list[tuple[str, str, str]]:
    """(section, "checkbox"|"table row", statement) for §1–§12, in document order; the first
    row of each table is its header and is skipped."""
    items: list[tuple[str, str, str]] = []
    sec: str | None = None
    in_table = False
    for ln in text.split("\n"):
        m = re.match(r"^#{2,3} (\d+(?:\.\d+)?)\.? ", ln)
        if m:
            sec, in_table = m.group(1), False
            continue
        if sec is None or int(sec.split(".")[0]) > 12:
            continue
        if ln.startswith("- [ ]"):
            items.append((sec, "checkbox", ln[6:].strip()))
            in_table = False
        elif ln.startswith("|"):
            if not in_table:
                in_table = True  # the header row
            elif not re.match(r"^\|[-| ]+\|$", ln):
                items.append((sec, "table row", ln.strip("|").split("|")[0].strip()))
        else:
            in_table = False
    return items


def coverage_rows() -> list[tuple[str, str, str, list[str]]]:
    rows = []
    for ln in COVERAGE.read_text(encoding="utf-8").split("\n"):
        if not ln.startswith("| ") or ln.startswith("| § ") or ln.startswith("|---"):
            continue
        cells = [c.strip().replace("\\|", "|") for c in _SEP.split(ln.strip().strip("|"))]
        assert len(cells) == 4, f"malformed COVERAGE.md row: {ln}"
        sec, kind, statement, tests = cells
        rows.append((sec, kind, statement, [t.strip() for t in tests.split(",") if t.strip()]))
    return rows


def _test_exists(ref: str) -> bool:
    path, _, name = ref.partition("::")
    f = TESTS / path
    return bool(name) and f.exists() and re.search(rf"^def {re.escape(name)}\(", f.read_text(), re.M) is not None


def test_every_checkbox_and_table_row_of_s1_to_s12_is_covered():
    """Each §1–§12 checkbox (and table row) has a COVERAGE.md entry whose statement is the
    start of the reference's text, naming at least one existing test."""
    items = spec_items(_spec_text())
    rows = coverage_rows()
    assert sum(1 for _, k, _ in items if k == "checkbox") >= 80  # the parser found the checklist
    missing = []
    used: set[int] = set()
    for sec, kind, statement in items:
        found = None
        for i, (rsec, rkind, rstmt, tests) in enumerate(rows):
            if i in used or rsec != sec or rkind != kind:
                continue
            if len(rstmt) >= min(30, len(statement)) and statement.startswith(rstmt) and tests:
                found = i
                break
        if found is None:
            missing.append(f"§{sec} {kind}: {statement[:70]}")
        else:
            used.add(found)
    assert not missing, "not in COVERAGE.md:\n" + "\n".join(missing)


def test_every_test_named_in_coverage_exists():
    bad = [t for _, _, _, tests in coverage_rows() for t in tests if not _test_exists(t)]
    assert not bad, f"COVERAGE.md names tests that do not exist: {bad}"


def test_every_conformance_test_is_mapped():
    """The reverse direction: no conformance test is left out of the map."""
    named = {t for _, _, _, tests in coverage_rows() for t in tests}
    for f in sorted(HERE.glob("test_s*.py")):
        for name in re.findall(r"^def (test_\w+)\(", f.read_text(), re.M):
            assert f"conformance/{f.name}::{name}" in named, f"{f.name}::{name} is not in COVERAGE.md"
