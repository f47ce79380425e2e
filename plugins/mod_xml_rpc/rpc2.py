"""``/RPC2``: FreeSWITCH's XML-RPC methods ``freeswitch.api`` / ``freeswitch_api``
(``(command, argument) -> output``), as ``xmlrpc.client.ServerProxy`` and other XML-RPC
clients call them.

Replies as FreeSWITCH's: the command's output; ``ERROR!`` when the command failed or is
unknown; ``UNAUTHORIZED!`` for a directory user the command is not allowed to.  A malformed
call or another method is an XML-RPC fault.  The request is parsed by the standard
library's expat-based reader (which refuses entity expansion bombs), within the server's
body-size limit.  ``freeswitch.management`` (SNMP-style OIDs) is not offered.
"""

from __future__ import annotations

import xmlrpc.client
from typing import Any

from fsd.api import Stream

API_METHODS = ("freeswitch.api", "freeswitch_api")


def parse_call(body: bytes) -> tuple[str, tuple[Any, ...]] | str:
    """(method, params), or the text of a fault."""
    try:
        params, method = xmlrpc.client.loads(body)
    except Exception as e:  # expat errors, bad values, bombs: all a fault
        return f"invalid XML-RPC request: {type(e).__name__}"
    return method or "", params


def fault(code: int, text: str) -> bytes:
    return xmlrpc.client.dumps(xmlrpc.client.Fault(code, text), methodresponse=True,
                               allow_none=False).encode("utf-8")


def reply(value: str) -> bytes:
    return xmlrpc.client.dumps((value,), methodresponse=True).encode("utf-8")


def run_api(switch: Any, command: str, argument: str) -> str:
    """Runs in a worker thread: the whole output, or FreeSWITCH's ``ERROR!``."""
    stream = Stream()
    out, ok = switch.api.execute(command, argument, stream=stream)
    return out if ok else "ERROR!"
