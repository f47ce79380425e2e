"""An HTTP request → the API's parameter event (``env`` in a Lua page).

Header names follow FreeSWITCH's mod_xml_rpc: ``HTTP-URI``, ``HTTP-QUERY``, ``HTTP-HOST``,
``HTTP-PORT``, ``HTTP-USER-AGENT``, ``HTTP-REFERER``, ``HTTP-FROM``, ``HTTP-REQUESTLINE``,
``HTTP-USER``, ``HTTP-Path-Info``, ``HTTP-API`` (on ``/api/``), ``Content-Type`` (on
``/webapi/`` and ``/txtapi/``), ``FreeSWITCH-User``/``FreeSWITCH-Domain``, and one header per
query or form field.  fsd adds ``HTTP-METHOD``, ``HTTP-REMOTE-HOST``, ``HTTP-REMOTE-PORT``
and every other request header as ``HTTP-<NAME>`` (never ``Authorization``).  Event header
lookups ignore case, so ``env:getHeader("http-uri")`` works.
"""

from __future__ import annotations

import email.parser
import email.policy
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, unquote_to_bytes

from fsd.events import Event

#: request headers already carried under FreeSWITCH's own names, or never exposed
_SKIP = frozenset({"host", "user-agent", "referer", "from", "authorization"})


@dataclass
class Caller:
    """Who the request authenticated as (all empty without auth)."""

    user: str = ""          # HTTP-USER
    fs_user: str = ""       # FreeSWITCH-User
    fs_domain: str = ""     # FreeSWITCH-Domain


def query_fields(text: str) -> list[tuple[str, str]]:
    """FreeSWITCH's key/value parsing: pairs split on ``&``, ``+`` is a space, then
    %-decoding; a piece without ``=`` is not a field (``lua/api.lua`` in the query)."""
    out = []
    for piece in text.split("&"):
        piece = unquote(piece.replace("+", " "), errors="replace")
        name, sep, val = piece.partition("=")
        if sep and name:
            out.append((name, val))
    return out


def multipart_fields(content_type: str, body: bytes) -> list[tuple[str, str]]:
    """Fields of a multipart/form-data body; a file field's value is its file name (the
    whole body stays readable through ``stream:read()``)."""
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1", "replace") + b"\r\n\r\n" + body)
    out = []
    if not msg.is_multipart():
        return out
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        filename = part.get_filename()
        if filename is not None:
            out.append((str(name), filename))
            continue
        payload = part.get_payload(decode=True) or b""
        charset = part.get_content_charset() or "utf-8"
        out.append((str(name), payload.decode(charset, "replace")))
    return out


def build_event(*, kind: str, path_info: str, method: str, raw_query: str, host: str,
                headers: Any, remote: tuple[str, int], body: bytes, content_type: str,
                request_line: str, uri: str, caller: Caller) -> Event:
    """The API event for one request, headers in FreeSWITCH's order."""
    ev = Event("API", calling_file="mod_xml_rpc.c", calling_func="handler_hook")
    if kind == "webapi":
        ev.add_header("Content-Type", "text/html")
    elif kind == "txtapi":
        ev.add_header("Content-Type", "text/plain")
    elif kind == "xmlapi":
        ev.add_header("Content-Type", "text/xml")
    elif kind == "api":
        ev.add_header("HTTP-API", "api")
    if caller.fs_user:
        ev.add_header("FreeSWITCH-User", caller.fs_user)
    if caller.fs_domain:
        ev.add_header("FreeSWITCH-Domain", caller.fs_domain)
    if path_info:
        ev.add_header("HTTP-Path-Info", path_info)
    hostname, _, port = host.rpartition(":") if host.count(":") == 1 else (host, "", "")
    if hostname:
        ev.add_header("HTTP-HOST", hostname)
    for name, hdr in (("HTTP-FROM", "From"), ("HTTP-USER-AGENT", "User-Agent"),
                      ("HTTP-REFERER", "Referer")):
        val = headers.get(hdr)
        if val:
            ev.add_header(name, val)
    ev.add_header("HTTP-REQUESTLINE", request_line)
    if caller.user:
        ev.add_header("HTTP-USER", caller.user)
    ev.add_header("HTTP-PORT", port or "80")
    # fsd's additions
    ev.add_header("HTTP-METHOD", method)
    ev.add_header("HTTP-REMOTE-HOST", remote[0])
    ev.add_header("HTTP-REMOTE-PORT", str(remote[1]))
    for name, val in headers.items():
        if name.lower() not in _SKIP and val:
            ev.add_header("HTTP-" + name.upper(), val)
    # the query, then the form: FreeSWITCH parses a POST's urlencoded body instead of the
    # query string; fsd keeps both, and reads multipart bodies too
    query_text = raw_query
    fields = query_fields(raw_query) if raw_query else []
    ctype = content_type.lower()
    if method == "POST" and body:
        if ctype.startswith("application/x-www-form-urlencoded"):
            query_text = body.decode("utf-8", "replace")
            fields += query_fields(query_text)
        elif ctype.startswith("multipart/form-data"):
            fields += multipart_fields(content_type, body)
    if query_text:
        ev.add_header("HTTP-QUERY", query_text)
    for name, val in fields:
        ev.add_header(name, val)
    ev.add_header("HTTP-URI", uri)
    return ev


def api_argument(raw_query: str) -> str:
    """The command's argument: the query string, %-decoded (``+`` stays ``+``)."""
    return unquote_to_bytes(raw_query).decode("utf-8", "replace") if raw_query else ""
