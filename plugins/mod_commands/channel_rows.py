"""``show channels`` / ``show calls`` rows from the live sessions table."""

from __future__ import annotations

from typing import Any

from fsd_modules.mod_commands.show import html_start, http_format, render, render_html

from fsd.api import Stream

CHANNEL_COLUMNS = [
    "uuid", "direction", "created", "created_epoch", "name", "state", "cid_name", "cid_num",
    "ip_addr", "dest", "application", "application_data", "dialplan", "context", "read_codec",
    "read_rate", "read_bit_rate", "write_codec", "write_rate", "write_bit_rate", "secure",
    "hostname", "presence_id", "presence_data", "accountcode", "callstate", "callee_name",
    "callee_num", "callee_direction", "call_uuid", "sent_callee_name", "sent_callee_num",
    "initial_cid_name", "initial_cid_num", "initial_ip_addr", "initial_dest",
    "initial_dialplan", "initial_context",
]

CALL_COLUMNS = CHANNEL_COLUMNS + ["b_" + c for c in CHANNEL_COLUMNS]


def show_channels(switch: Any, what: str, words: list[str], fmt: str, delim: str,
                  stream: Stream) -> None:
    with switch.sessions_lock:
        sessions = sorted(switch.sessions.values(), key=lambda s: s.created_epoch)
    like = None
    if words and words[0].lower() == "like" and len(words) > 1:
        like = words[1]
    rows = []
    seen: set[str] = set()
    for s in sessions:
        row = s.show_row()
        if like and not any(like in str(v) for v in row.values()):
            continue
        if what == "channels":
            rows.append([row.get(c, "") for c in CHANNEL_COLUMNS])
        else:
            if s.uuid in seen:
                continue
            peer = s.bridged_peer()
            if what == "bridged_calls" and peer is None:
                continue
            if peer is not None and peer.direction == "inbound" and s.direction == "outbound":
                continue  # listed from the inbound side
            seen.add(s.uuid)
            prow = peer.show_row() if peer is not None else {}
            if peer is not None:
                seen.add(peer.uuid)
            rows.append([row.get(c, "") for c in CHANNEL_COLUMNS]
                        + [prow.get(c, "") for c in CHANNEL_COLUMNS])
    count_only = bool(words) and words[0].lower() == "count"
    cols = CHANNEL_COLUMNS if what == "channels" else CALL_COLUMNS
    web, api = http_format(stream)
    if (web or api) and fmt == "csv":
        # refreshable lists are HTML on /api/ too, as in FreeSWITCH
        html_start(stream, api, f"FreeSWITCH {what} {'(count)' if count_only else ''}")
        stream.write(render_html(cols, rows, count_only))
        return
    if count_only:
        stream.write(f"\n{len(rows)} total.\n")
        return
    stream.write(render(cols, rows, fmt, delim))
