"""The ESL client library's classes (``ESLconnection``, ``ESLevent``) as plain Python,
speaking the real protocol over a socket.  mod_lua binds them as ``require("ESL")``;
``fsd_cli`` uses them too (the server side is mod_event_socket).  Method names are those
of FreeSWITCH's libesl bindings.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid as uuidlib
from urllib.parse import unquote

from fsd.events import Event
from fsd.truth import is_true


class ESLevent:
    """An event as the client sees it: ordered headers, a body, a type."""

    def __init__(self, type_or_event: str | Event = "CUSTOM", subclass: str | None = None) -> None:
        if isinstance(type_or_event, Event):
            self.event = type_or_event
        else:
            try:
                self.event = Event(type_or_event, subclass or None)
            except ValueError:
                self.event = Event("CUSTOM", subclass or None)
        self._iter = 0
        self.type = self.event.name

    @classmethod
    def from_headers(cls, headers: list[tuple[str, str]], body: str | None) -> ESLevent:
        ev = Event("CUSTOM", standard_headers=False)
        h = ev.headers
        for n, v in headers:
            h.append([n, v])
        ev.body = body
        from fsd.events import event_id

        name = ev.get_header("Event-Name")
        eid = event_id(name) if name else None
        if eid is not None:
            ev.event_id = eid
        sub = ev.get_header("Event-Subclass")
        if sub:
            ev.subclass = sub
        e = cls(ev)
        e.type = ev.get_header("Content-Type") if name is None else ev.name
        return e

    def serialize(self, fmt: str | None = None) -> str:
        return self.event.serialize(fmt or "plain")

    def getHeader(self, name: str, idx: int = -1) -> str | None:  # noqa: N802 - libesl's name
        if idx >= 0:
            arr = self.event.get_header_array(name)
            return arr[idx] if arr and idx < len(arr) else None
        return self.event.get_header(name)

    def getBody(self) -> str | None:  # noqa: N802
        return self.event.body

    def getType(self) -> str:  # noqa: N802
        return self.type or "invalid"

    def addBody(self, value: str) -> bool:  # noqa: N802
        return self.event.add_body(value)

    def addHeader(self, name: str, value: str) -> bool:  # noqa: N802
        return self.event.add_header(name, value)

    def pushHeader(self, name: str, value: str) -> bool:  # noqa: N802
        return self.event.push_header(name, value)

    def unshiftHeader(self, name: str, value: str) -> bool:  # noqa: N802
        self.event.headers.insert(0, [name, value])
        return True

    def delHeader(self, name: str) -> bool:  # noqa: N802
        return self.event.del_header(name)

    def firstHeader(self) -> str | None:  # noqa: N802
        self._iter = 0
        return self.nextHeader()

    def nextHeader(self) -> str | None:  # noqa: N802
        h = self.event.headers
        if self._iter >= len(h):
            return None
        name = h[self._iter][0]
        self._iter += 1
        return name

    def setPriority(self, priority: str = "NORMAL") -> bool:  # noqa: N802
        return self.event.set_priority(priority)


class ESLconnection:
    """``ESLconnection(host, port, password)`` or ``(host, port, user, password)``;
    ``ESLconnection(fd)`` wraps an accepted outbound socket."""

    def __init__(self, host: str | int, port: str | int | None = None, user_or_password: str = "",
                 password: str | None = None, timeout: float = 5.0) -> None:
        self.sock: socket.socket | None = None
        self._buf = bytearray()
        self._lock = threading.RLock()
        self._queue: list[ESLevent] = []
        self._info: ESLevent | None = None
        self._last: ESLevent | None = None
        self.async_execute = False
        self.event_lock = False
        self.outbound = False
        try:
            if port is None and isinstance(host, int):
                self.sock = socket.socket(fileno=host)
                self.outbound = True
                self._info = self.sendRecv("connect")
                return
            self.sock = socket.create_connection((str(host), int(port or 8021)), timeout=timeout)
            self.sock.settimeout(None)
            first = self._read()
            if first is None or first.getHeader("Content-Type") != "auth/request":
                self.disconnect()
                return
            if password is not None:
                cmd = f"userauth {user_or_password}:{password}"
            else:
                cmd = f"auth {user_or_password}"
            reply = self.sendRecv(cmd)
            if reply is None or not (reply.getHeader("Reply-Text") or "").startswith("+OK"):
                self.disconnect()
        except OSError:
            self.disconnect()

    # ------------------------------------------------------------ wire

    def _recv_until(self, pred, deadline: float | None) -> bool:
        while not pred():
            if self.sock is None:
                return False
            try:
                if deadline is not None:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return False
                    self.sock.settimeout(left)
                else:
                    self.sock.settimeout(None)
                data = self.sock.recv(65536)
            except TimeoutError:
                return False
            except OSError:
                self.disconnect()
                return False
            if not data:
                self.disconnect()
                return False
            self._buf += data
        return True

    def _read(self, timeout: float | None = None) -> ESLevent | None:
        """One server message as an ESLevent (event frames are unwrapped)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self._recv_until(lambda: b"\n\n" in self._buf, deadline):
            return None
        i = self._buf.index(b"\n\n")
        head = bytes(self._buf[:i]).decode("utf-8", "replace")
        headers = []
        for line in head.split("\n"):
            name, _, value = line.partition(": ")
            if name:
                headers.append((name, unquote(value)))
        clen = 0
        for n, v in headers:
            if n.lower() == "content-length":
                clen = int(v or 0)
        if not self._recv_until(lambda: len(self._buf) >= i + 2 + clen, deadline):
            return None
        body = bytes(self._buf[i + 2: i + 2 + clen]).decode("utf-8", "replace")
        del self._buf[: i + 2 + clen]
        ctype = dict(headers).get("Content-Type", "")
        if ctype == "text/event-plain":
            ev = Event.from_plain(body)
            e = ESLevent(ev) if ev is not None else ESLevent.from_headers(headers, body)
        elif ctype == "text/event-json":
            ev = Event.from_json(body)
            e = ESLevent(ev) if ev is not None else ESLevent.from_headers(headers, body)
        elif ctype == "text/event-xml":
            e = ESLevent.from_headers(headers, body)
            e.event.body = body
        else:
            e = ESLevent.from_headers(headers, body if clen else None)
        if ctype.startswith("text/event-"):
            e.type = e.event.name
        return e

    def _send(self, cmd: str) -> bool:
        if self.sock is None:
            return False
        try:
            self.sock.sendall(cmd.encode("utf-8") + b"\n\n")
            return True
        except OSError:
            self.disconnect()
            return False

    # ------------------------------------------------------------ libesl API

    def connected(self) -> int:
        return 1 if self.sock is not None else 0

    def socketDescriptor(self) -> int:  # noqa: N802
        return self.sock.fileno() if self.sock is not None else -1

    def getInfo(self) -> ESLevent | None:  # noqa: N802
        return self._info

    def send(self, cmd: str) -> int:
        return 1 if self._send(cmd) else 0

    def sendRecv(self, cmd: str) -> ESLevent | None:  # noqa: N802
        """Send a command and return its reply; events arriving first are kept for
        recvEvent."""
        with self._lock:
            if not self._send(cmd):
                return None
            while True:
                e = self._read()
                if e is None:
                    return None
                ctype = e.getHeader("Content-Type") or ""
                if ctype in ("command/reply", "api/response") or (
                        cmd.startswith("connect") and e.getHeader("Event-Name") == "CHANNEL_DATA"):
                    self._last = e
                    return e
                if ctype == "text/disconnect-notice" and (e.getHeader("Content-Disposition") != "linger"):
                    self._queue.append(e)
                    self.disconnect()
                    return None
                self._queue.append(e)

    def api(self, cmd: str, arg: str | None = None) -> ESLevent | None:
        return self.sendRecv(f"api {cmd} {arg}" if arg else f"api {cmd}")

    def bgapi(self, cmd: str, arg: str | None = None, job_uuid: str | None = None) -> ESLevent | None:
        line = f"bgapi {cmd} {arg}" if arg else f"bgapi {cmd}"
        if job_uuid:
            line += f"\nJob-UUID: {job_uuid}"
        return self.sendRecv(line)

    def sendEvent(self, ev: ESLevent) -> ESLevent | None:  # noqa: N802
        head = f"sendevent {ev.event.name}\n" + ev.serialize("plain")
        return self.sendRecv(head.rstrip("\n"))

    def sendMSG(self, ev: ESLevent, uuid: str | None = None) -> ESLevent | None:  # noqa: N802
        lines = [f"sendmsg {uuid}" if uuid else "sendmsg"]
        for n, v in ev.event:
            lines.append(f"{n}: {v if isinstance(v, str) else '|'.join(v)}")
        body = ev.getBody()
        if body:
            lines.append(f"Content-Length: {len(body.encode())}\n\n{body}")
            with self._lock:
                if not self._send_raw("\n".join(lines)):
                    return None
                return self._await_reply()
        return self.sendRecv("\n".join(lines))

    def _send_raw(self, data: str) -> bool:
        if self.sock is None:
            return False
        try:
            self.sock.sendall(data.encode())
            return True
        except OSError:
            self.disconnect()
            return False

    def _await_reply(self) -> ESLevent | None:
        while True:
            e = self._read()
            if e is None:
                return None
            if (e.getHeader("Content-Type") or "") in ("command/reply", "api/response"):
                return e
            self._queue.append(e)

    def recvEvent(self) -> ESLevent | None:  # noqa: N802
        return self.recvEventTimed(0)

    def recvEventTimed(self, ms: int) -> ESLevent | None:  # noqa: N802
        """The next event (0: wait for ever); None on timeout or disconnect."""
        with self._lock:
            if self._queue:
                return self._queue.pop(0)
            e = self._read(None if ms <= 0 else ms / 1000.0)
            if e is not None and (e.getHeader("Content-Type") or "") == "text/disconnect-notice" \
                    and e.getHeader("Content-Disposition") != "linger":
                self.disconnect()
            return e

    def filter(self, header: str, value: str) -> ESLevent | None:
        return self.sendRecv(f"filter {header} {value}")

    def events(self, etype: str, value: str) -> ESLevent | None:
        fmt = etype if etype in ("json", "xml") else "plain"
        return self.sendRecv(f"event {fmt} {value}")

    def execute(self, app: str, arg: str | None = None, uuid: str | None = None) -> ESLevent | None:
        lines = [f"sendmsg {uuid}" if uuid else "sendmsg", "call-command: execute",
                 f"execute-app-name: {app}"]
        if arg:
            lines.append(f"execute-app-arg: {arg}")
        if self.event_lock:
            lines.append("event-lock: true")
        if self.async_execute:
            lines.append("async: true")
        return self.sendRecv("\n".join(lines))

    def executeAsync(self, app: str, arg: str | None = None, uuid: str | None = None) -> ESLevent | None:  # noqa: N802
        saved = self.async_execute
        self.async_execute = True
        try:
            return self.execute(app, arg, uuid)
        finally:
            self.async_execute = saved

    def setAsyncExecute(self, val: str) -> int:  # noqa: N802
        self.async_execute = is_true(val)
        return 1

    def setEventLock(self, val: str) -> int:  # noqa: N802
        self.event_lock = is_true(val)
        return 1

    def disconnect(self) -> int:
        s, self.sock = self.sock, None
        if s is None:
            return 0
        try:
            s.close()
        except OSError:
            pass
        return 1

    def __del__(self) -> None:  # pragma: no cover - best effort
        try:
            self.disconnect()
        except Exception:
            pass


def new_job_uuid() -> str:
    return str(uuidlib.uuid4())
