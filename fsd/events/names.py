"""The event-type table (§17) and name <-> id lookup.

The index of a name is its numeric id, exactly as FreeSWITCH numbers its event types, so
ids can be compared with what other FreeSWITCH tools print.
"""

from __future__ import annotations

EVENT_NAMES: tuple[str, ...] = (
    "CUSTOM", "CLONE", "CHANNEL_CREATE", "CHANNEL_DESTROY", "CHANNEL_STATE",
    "CHANNEL_CALLSTATE", "CHANNEL_ANSWER", "CHANNEL_HANGUP", "CHANNEL_HANGUP_COMPLETE",
    "CHANNEL_EXECUTE", "CHANNEL_EXECUTE_COMPLETE", "CHANNEL_HOLD", "CHANNEL_UNHOLD",
    "CHANNEL_BRIDGE", "CHANNEL_UNBRIDGE", "CHANNEL_PROGRESS", "CHANNEL_PROGRESS_MEDIA",
    "CHANNEL_OUTGOING", "CHANNEL_PARK", "CHANNEL_UNPARK", "CHANNEL_APPLICATION",
    "CHANNEL_ORIGINATE", "CHANNEL_UUID", "API", "LOG", "INBOUND_CHAN", "OUTBOUND_CHAN",
    "STARTUP", "SHUTDOWN", "PUBLISH", "UNPUBLISH", "TALK", "NOTALK", "SESSION_CRASH",
    "MODULE_LOAD", "MODULE_UNLOAD", "DTMF", "MESSAGE", "PRESENCE_IN", "NOTIFY_IN",
    "PRESENCE_OUT", "PRESENCE_PROBE", "MESSAGE_WAITING", "MESSAGE_QUERY", "ROSTER", "CODEC",
    "BACKGROUND_JOB", "DETECTED_SPEECH", "DETECTED_TONE", "PRIVATE_COMMAND", "HEARTBEAT",
    "TRAP", "ADD_SCHEDULE", "DEL_SCHEDULE", "EXE_SCHEDULE", "RE_SCHEDULE", "RELOADXML",
    "NOTIFY", "PHONE_FEATURE", "PHONE_FEATURE_SUBSCRIBE", "SEND_MESSAGE", "RECV_MESSAGE",
    "REQUEST_PARAMS", "CHANNEL_DATA", "GENERAL", "COMMAND", "SESSION_HEARTBEAT",
    "CLIENT_DISCONNECTED", "SERVER_DISCONNECTED", "SEND_INFO", "RECV_INFO",
    "RECV_RTCP_MESSAGE", "SEND_RTCP_MESSAGE", "CALL_SECURE", "NAT", "RECORD_START",
    "RECORD_STOP", "PLAYBACK_START", "PLAYBACK_STOP", "CALL_UPDATE", "FAILURE", "SOCKET_DATA",
    "MEDIA_BUG_START", "MEDIA_BUG_STOP", "CONFERENCE_DATA_QUERY", "CONFERENCE_DATA",
    "CALL_SETUP_REQ", "CALL_SETUP_RESULT", "CALL_DETAIL", "DEVICE_STATE", "TEXT",
    "SHUTDOWN_REQUESTED", "CERT_RELOAD", "ALL",
)  # fmt: skip

_BY_NAME: dict[str, int] = {n: i for i, n in enumerate(EVENT_NAMES)}

CUSTOM = _BY_NAME["CUSTOM"]
CLONE = _BY_NAME["CLONE"]
MESSAGE = _BY_NAME["MESSAGE"]
REQUEST_PARAMS = _BY_NAME["REQUEST_PARAMS"]
CHANNEL_DATA = _BY_NAME["CHANNEL_DATA"]
ALL = _BY_NAME["ALL"]

#: Types whose header names stay unique: adding an existing name replaces it (EVT).
UNIQUE_HEADER_TYPES = frozenset({MESSAGE, CHANNEL_DATA, REQUEST_PARAMS})

# FreeSWITCH skips the first 13 characters of a long name (the length of "SWITCH_EVENT_")
# without checking what they are; we accept the same inputs.
_PREFIX_LEN = len("SWITCH_EVENT_")


def event_id(name: str | None) -> int | None:
    """Id of an event-type name, case-insensitive, ``SWITCH_EVENT_`` prefix allowed.

    Returns None for an unknown name: the caller decides (a Lua ``Event`` falls back to
    MESSAGE, a bind fails)."""
    if not name:
        return None
    up = name.upper()
    found = _BY_NAME.get(up)
    if found is None and len(up) > _PREFIX_LEN:
        found = _BY_NAME.get(up[_PREFIX_LEN:])
    return found


def event_name(eid: int) -> str:
    """Name of an event-type id; raises ValueError for an id outside the table."""
    if isinstance(eid, int) and 0 <= eid < len(EVENT_NAMES):
        return EVENT_NAMES[eid]
    raise ValueError(f"unknown event id {eid!r}")
