"""``show …`` output in FreeSWITCH's three shapes: CSV with a count line, ``as json``,
``as delim <sep>`` (what ESL clients and dashboards parse)."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from typing import Any


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


def http_format(stream: Any) -> tuple[bool, bool]:
    """(html, api) for a command reached over HTTP (FreeSWITCH's set_format): HTML on
    ``/webapi/``; ``api`` on ``/api/``, where a command that formats HTML writes its own
    ``Content-Type: text/html`` header first."""
    ev = getattr(stream, "param_event", None)
    uri = ev.get_header("HTTP-URI") if ev is not None else None
    if not uri:
        return False, False
    return uri.lower().startswith("/webapi/"), ev.get_header("HTTP-API") is not None


def html_start(stream: Any, api: bool, title: str) -> None:
    """The heading FreeSWITCH writes before an HTML reply (and the header on /api/)."""
    ev = stream.param_event
    ev.add_header("HTTP-REFRESH", "true")  # lets &refresh=N work, as in FreeSWITCH
    if api:
        stream.write("Content-Type: text/html\r\n\r\n")
    stream.write(f"<h1>{title}</h1>\n{ev.get_header('Event-Date-Local') or ''}<br>\n")


def render_html(columns: Sequence[str], rows: Sequence[Sequence[str]],
                count_only: bool = False) -> str:
    """``show`` as FreeSWITCH's HTML table (values &-encoded), then the count line."""
    out = ["<table cellpadding=1 cellspacing=4 border=1>\n"]
    if rows and not count_only:
        out.append("\n<tr>" + "".join(f"<td><b>{html.escape(str(c), quote=False)}</b></td>"
                                        for c in columns) + "</tr>\n")
        for i, r in enumerate(rows):
            cells = "".join(f"<td>{html.escape('' if v is None else str(v))}</td>" for v in r)
            out.append(f"<tr bgcolor={'eeeeee' if i % 2 == 0 else 'ffffff'}>{cells}</tr>\n")
    out.append(f"</table><br>\n{len(rows)} total.<br>\n")
    return "".join(out)
