"""The stream an API command writes its HTTP reply into.

The command runs in a worker thread (it may block: ``originate``, a Lua page calling
``freeswitch.API``…); every ``write`` hands bytes to the event loop, which sends them to the
client as they come (FreeSWITCH writes straight to the socket too).  What is not yet sent
is bounded: a writer that gets ahead of a slow client waits.  When the client goes away,
writes are dropped and the command runs to its end, as in FreeSWITCH.
"""

from __future__ import annotations

import asyncio
import html
import re
import threading
from typing import Any

from fsd.api import Stream

#: bytes a command may write ahead of the client before its writes wait
MAX_PENDING = 1 << 20


class HttpStream(Stream):
    def __init__(self, loop: asyncio.AbstractEventLoop, param_event: Any, body: bytes,
                 sniff_headers: bool) -> None:
        super().__init__(param_event, reader=body)
        self._loop = loop
        self._cond = threading.Condition()
        self._chunks: list[bytes] = []
        self._pending = 0
        self._signalled = False
        self._ready = asyncio.Event()
        self._done = False
        self.gone = False
        #: /api/ only: does the command write its own header block?  Decided by its first
        #: write, as FreeSWITCH's http_stream_write does (None until then).
        self.sniff = sniff_headers
        self.own_headers: bool | None = None if sniff_headers else False

    # -- the command's side (a worker thread) -------------------------------------------
    def write(self, text: Any) -> None:
        if text is None:
            return
        data = text if isinstance(text, bytes) else str(text).encode("utf-8", "surrogateescape")
        self._push(data)

    def raw_write(self, data: bytes | str, length: int | None = None) -> None:
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        if length is not None:
            data = data[: max(0, int(length))]
        self._push(data)

    def get_data(self) -> str:
        """Nothing is kept: the reply went to the client (FreeSWITCH's HTTP stream has no
        buffer either)."""
        return ""

    def _push(self, data: bytes) -> None:
        if not data:
            return
        with self._cond:
            if self.gone:
                return
            if self.own_headers is None:
                self.own_headers = starts_header_block(data)
                if self.param_event is not None:
                    # the flag FreeSWITCH leaves in the event once the header is decided
                    self.param_event.add_header(
                        "Content-Type", _sniffed_type(data) if self.own_headers else "text/plain")
            while self._pending >= MAX_PENDING and not self.gone:
                self._cond.wait(1.0)
            if self.gone:
                return
            self._chunks.append(data)
            self._pending += len(data)
            refresh = self._refresh_tag()
            if refresh:
                self._chunks.append(refresh)
                self._pending += len(refresh)
            signal = not self._signalled
            self._signalled = True
        if signal:
            self._wake()

    def _refresh_tag(self) -> bytes:
        """``&refresh=N`` in the request and a command that allows it (``status``, ``show``
        set HTTP-REFRESH): once, a meta refresh reloading the same URL every N seconds,
        in an HTML reply.  FreeSWITCH's test for HTML is inverted, so it only ever does this
        by accident; fsd does what it meant."""
        ev = self.param_event
        if ev is None or ev.get_header("HTTP-REFRESH") is None:
            return b""
        ev.del_header("HTTP-REFRESH")
        ctype = (ev.get_header("Content-Type") or "").lower()
        try:
            seconds = int(ev.get_header("refresh") or "0")
        except ValueError:
            return b""
        uri, query = ev.get_header("HTTP-URI") or "", ev.get_header("HTTP-QUERY") or ""
        if seconds <= 0 or not ctype.startswith("text/html") or not uri or not query:
            return b""
        url = html.escape(f"{uri}?{query}", quote=True)
        return f'<META HTTP-EQUIV=REFRESH CONTENT="{seconds}; URL={url}">\n'.encode()

    def finish(self) -> None:
        """The command returned."""
        with self._cond:
            self._done = True
            signal = not self._signalled
            self._signalled = True
        if signal:
            self._wake()

    def _wake(self) -> None:
        try:
            self._loop.call_soon_threadsafe(self._ready.set)
        except RuntimeError:  # the loop is closed: nobody is listening any more
            self.abandon()

    # -- the loop's side ----------------------------------------------------------------
    async def next_chunk(self) -> tuple[bytes, bool]:
        """Everything written since the last call, and whether the command has returned."""
        await self._ready.wait()
        with self._cond:
            data = b"".join(self._chunks)
            self._chunks.clear()
            self._pending = 0
            self._signalled = False
            self._ready.clear()
            done = self._done
            self._cond.notify_all()
        return data, done

    def abandon(self) -> None:
        """The client is gone: drop what is queued and every later write."""
        with self._cond:
            self.gone = True
            self._chunks.clear()
            self._pending = 0
            self._cond.notify_all()


_HEADER_LINE = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+:")


def starts_header_block(data: bytes) -> bool:
    """FreeSWITCH takes a first write that mentions Content-Type as the command's own
    header block; fsd also asks that it start with a header line, so that text which merely
    mentions the words is not sent as headers."""
    return b"content-type" in data.lower() and bool(_HEADER_LINE.match(data.lstrip()))


def _sniffed_type(data: bytes) -> str:
    for line in data.decode("latin-1").splitlines():
        name, sep, value = line.partition(":")
        if sep and name.strip().lower() == "content-type":
            return value.strip()
    return "text/plain"
