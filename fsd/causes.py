"""Hangup causes: names, codes, Q.850 values and SIP mappings (behaviour reference §15).

Lookups follow FreeSWITCH: names match case-insensitively, a string starting with a digit
is a number, an unknown name is NORMAL_CLEARING, and an unlisted number prints as UNKNOWN."""

from __future__ import annotations

from fsd.numbers import is_digits

# name, code, Q.850 reported, SIP status sent when refusing with it, SIP statuses mapped to it
CAUSES: list[tuple[str, int, int, int, tuple[int, ...]]] = [
    ('NONE', 0, 0, 480, ()),
    ('UNALLOCATED_NUMBER', 1, 1, 404, (404,)),
    ('NO_ROUTE_TRANSIT_NET', 2, 2, 404, ()),
    ('NO_ROUTE_DESTINATION', 3, 3, 404, (485, 604)),
    ('CHANNEL_UNACCEPTABLE', 6, 6, 480, ()),
    ('CALL_AWARDED_DELIVERED', 7, 7, 480, ()),
    ('NORMAL_CLEARING', 16, 16, 480, (200,)),
    ('USER_BUSY', 17, 17, 486, (486, 600)),
    ('NO_USER_RESPONSE', 18, 18, 408, (480,)),
    ('NO_ANSWER', 19, 19, 480, ()),
    ('SUBSCRIBER_ABSENT', 20, 20, 480, ()),
    ('CALL_REJECTED', 21, 21, 603, (401, 402, 403, 407, 603, 608)),
    ('NUMBER_CHANGED', 22, 22, 410, (410,)),
    ('REDIRECTION_TO_NEW_DESTINATION', 23, 23, 410, ()),
    ('EXCHANGE_ROUTING_ERROR', 25, 25, 483, (482, 483)),
    ('DESTINATION_OUT_OF_ORDER', 27, 27, 502, ()),
    ('INVALID_NUMBER_FORMAT', 28, 28, 484, (484,)),
    ('FACILITY_REJECTED', 29, 29, 501, ()),
    ('RESPONSE_TO_STATUS_ENQUIRY', 30, 30, 480, ()),
    ('NORMAL_UNSPECIFIED', 31, 31, 480, ()),
    ('NORMAL_CIRCUIT_CONGESTION', 34, 34, 503, ()),
    ('NETWORK_OUT_OF_ORDER', 38, 38, 503, (502,)),
    ('NORMAL_TEMPORARY_FAILURE', 41, 41, 503, (400, 481, 500, 503)),
    ('SWITCH_CONGESTION', 42, 42, 503, ()),
    ('ACCESS_INFO_DISCARDED', 43, 43, 480, ()),
    ('REQUESTED_CHAN_UNAVAIL', 44, 44, 503, ()),
    ('PRE_EMPTED', 45, 45, 480, ()),
    ('FACILITY_NOT_SUBSCRIBED', 50, 50, 480, ()),
    ('OUTGOING_CALL_BARRED', 52, 52, 403, ()),
    ('INCOMING_CALL_BARRED', 54, 54, 403, ()),
    ('BEARERCAPABILITY_NOTAUTH', 57, 57, 403, ()),
    ('BEARERCAPABILITY_NOTAVAIL', 58, 58, 503, ()),
    ('SERVICE_UNAVAILABLE', 63, 63, 480, (405,)),
    ('BEARERCAPABILITY_NOTIMPL', 65, 65, 488, ()),
    ('CHAN_NOT_IMPLEMENTED', 66, 66, 480, ()),
    ('FACILITY_NOT_IMPLEMENTED', 69, 69, 501, ()),
    ('SERVICE_NOT_IMPLEMENTED', 79, 79, 501, (406, 415, 501)),
    ('INVALID_CALL_REFERENCE', 81, 81, 480, ()),
    ('INCOMPATIBLE_DESTINATION', 88, 88, 488, (488, 606)),
    ('INVALID_MSG_UNSPECIFIED', 95, 95, 480, ()),
    ('MANDATORY_IE_MISSING', 96, 96, 480, ()),
    ('MESSAGE_TYPE_NONEXIST', 97, 97, 480, ()),
    ('WRONG_MESSAGE', 98, 98, 480, ()),
    ('IE_NONEXIST', 99, 99, 480, ()),
    ('INVALID_IE_CONTENTS', 100, 100, 480, ()),
    ('WRONG_CALL_STATE', 101, 101, 480, ()),
    ('RECOVERY_ON_TIMER_EXPIRE', 102, 102, 504, (408, 504)),
    ('MANDATORY_IE_LENGTH_ERROR', 103, 103, 480, ()),
    ('PROTOCOL_ERROR', 111, 111, 480, ()),
    ('INTERWORKING', 127, 127, 480, (413, 414, 416, 420, 421, 423, 505, 513)),
    ('SUCCESS', 142, 16, 480, ()),
    ('ORIGINATOR_CANCEL', 487, 16, 487, (487,)),
    ('CRASH', 700, 16, 480, ()),
    ('SYSTEM_SHUTDOWN', 701, 16, 480, ()),
    ('LOSE_RACE', 702, 16, 480, ()),
    ('MANAGER_REQUEST', 703, 16, 480, ()),
    ('BLIND_TRANSFER', 800, 16, 480, ()),
    ('ATTENDED_TRANSFER', 801, 16, 480, ()),
    ('ALLOTTED_TIMEOUT', 802, 16, 480, ()),
    ('USER_CHALLENGE', 803, 16, 480, ()),
    ('MEDIA_TIMEOUT', 804, 16, 480, ()),
    ('PICKED_OFF', 805, 16, 480, ()),
    ('USER_NOT_REGISTERED', 806, 16, 480, ()),
    ('PROGRESS_TIMEOUT', 807, 16, 480, ()),
    ('INVALID_GATEWAY', 808, 16, 484, ()),
    ('GATEWAY_DOWN', 809, 16, 503, ()),
    ('INVALID_URL', 810, 16, 484, ()),
    ('INVALID_PROFILE', 811, 16, 502, ()),
    ('NO_PICKUP', 812, 16, 480, ()),
    ('SRTP_READ_ERROR', 813, 16, 480, ()),
    ('BOWOUT', 814, 16, 480, ()),
    ('BUSY_EVERYWHERE', 815, 16, 600, ()),
    ('DECLINE', 816, 16, 603, ()),
    ('DOES_NOT_EXIST_ANYWHERE', 817, 16, 604, ()),
    ('NOT_ACCEPTABLE', 818, 16, 606, ()),
    ('UNWANTED', 819, 16, 607, (607,)),
    ('NO_IDENTITY', 820, 16, 428, (428,)),
    ('BAD_IDENTITY_INFO', 821, 16, 429, (429,)),
    ('UNSUPPORTED_CERTIFICATE', 822, 16, 437, (437,)),
    ('INVALID_IDENTITY', 823, 16, 438, (438,)),
    ('STALE_DATE', 824, 16, 403, ()),
    ('REJECT_ALL', 825, 16, 603, ()),
]

_BY_NAME = {c[0]: c for c in CAUSES}
_BY_CODE = {c[1]: c for c in CAUSES}
_SIP_TO_CAUSE = {sip: c[0] for c in CAUSES for sip in c[4]}


def cause_code(name: str) -> int:
    """Numeric code of a cause name (NORMAL_CLEARING's 16 for unknown names)."""
    return _BY_NAME.get(str2cause(name), _BY_NAME["NORMAL_CLEARING"])[1]


def str2cause(text: str | int | None) -> str:
    """Parse a cause as FreeSWITCH's ``switch_channel_str2cause`` does; returns the name."""
    if text is None:
        return "NORMAL_CLEARING"
    if isinstance(text, int):
        return cause2str(text) if text in _BY_CODE else "NORMAL_CLEARING"
    t = str(text).strip()
    if is_digits(t[:1]):
        digits = ""
        for ch in t:
            if not is_digits(ch):
                break
            digits += ch
        code = int(digits)
        return _BY_CODE[code][0] if code in _BY_CODE else "NORMAL_CLEARING"
    return t.upper() if t.upper() in _BY_NAME else "NORMAL_CLEARING"


def is_known(text: str) -> bool:
    """True when ``text`` is a cause name of the table (case-insensitive) or its number."""
    t = str(text).strip()
    if is_digits(t):
        return int(t) in _BY_CODE
    return t.upper() in _BY_NAME


def cause2str(code: int) -> str:
    c = _BY_CODE.get(int(code))
    return c[0] if c else "UNKNOWN"


def q850(name: str) -> int:
    """The ``hangup_cause_q850`` value: the code itself up to 127, else 16."""
    return _BY_NAME.get(str2cause(name), _BY_NAME["NORMAL_CLEARING"])[2]


def cause_to_sip(name: str) -> int:
    return _BY_NAME.get(str2cause(name), _BY_NAME["NORMAL_CLEARING"])[3]


def sip_to_cause(status: int) -> str:
    """SIP final status on an outbound leg → cause (NORMAL_UNSPECIFIED when unlisted)."""
    return _SIP_TO_CAUSE.get(int(status), "NORMAL_UNSPECIFIED")
