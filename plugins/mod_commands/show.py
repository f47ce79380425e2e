"""``show …`` output in FreeSWITCH's three shapes: CSV with a count line, ``as json``,
``as delim <sep>`` (what ESL clients and dashboards parse)."""

from __future__ import annotations

import json
from collections.abc import Sequence


def render(columns: Sequence[str], rows: Sequence[Sequence[str]], fmt: str = "csv",
           delim: str = ",") -> str:
    """Render rows.  ``fmt`` is ``csv`` (default), ``json`` or ``delim``."""
    if fmt == "json":
        out = {"row_count": len(rows)}
        if rows:
            out["rows"] = [dict(zip(columns, (str(v) for v in r), strict=False)) for r in rows]
        return json.dumps(out, separators=(",", ":")) + "\n"
    sep = delim if fmt == "delim" else ","
    if not rows:
        return "\n0 total.\n"
    lines = [sep.join(columns)]
    lines += [sep.join("" if v is None else str(v) for v in r) for r in rows]
    return "\n".join(lines) + f"\n\n{len(rows)} total.\n"


def parse_format(words: list[str]) -> tuple[list[str], str, str]:
    """Strip a trailing ``as json`` / ``as delim X`` / ``as xml`` from the words."""
    low = [w.lower() for w in words]
    if "as" in low:
        i = low.index("as")
        kind = low[i + 1] if i + 1 < len(low) else ""
        rest = words[:i]
        if kind == "json":
            return rest, "json", ","
        if kind == "delim":
            return rest, "delim", words[i + 2] if i + 2 < len(words) else ","
        return rest, "csv", ","
    return words, "csv", ","
