"""UDP and TCP listeners of a profile, on the switch's asyncio loop.

UDP: one datagram is one message.  TCP: messages are framed by the blank line ending the
headers and Content-Length (missing on a stream = 0).  Garbage never raises out of here:
an unanswerable message is dropped and counted; one with enough headers to answer gets
the ParseError's status (400, 505, 513).  Outgoing TCP connections are opened on demand and
kept per remote address, so requests and responses reuse them.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

from fsd.log import DEBUG, WARNING, log

from .message import (
    MAX_HEADER_BYTES,
    MAX_MESSAGE_BYTES,
    ParseError,
    SipMessage,
    header_end,
    is_digits,
    parse,
)

Addr = tuple[str, int]


UDP_BUFFER = 4 << 20
UDP_BATCH = 64


class Stats:
    def __init__(self) -> None:
        self.received = 0
        self.sent = 0
        self.dropped = 0
        self.bad = 0


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, owner: Transport) -> None:
        self.owner = owner
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if not data.strip(b"\r\n\x00 "):
            return  # keep-alive (CRLF ping)
        self.owner.received(data, (addr[0], addr[1]), "udp", None)

    def error_received(self, exc: Exception) -> None:
        log(DEBUG, f"sip udp error: {exc}")


class _TcpConn:
    """One TCP connection: framing in, writes out."""

    def __init__(self, owner: Transport, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        self.owner = owner
        self.reader = reader
        self.writer = writer
        peer = writer.get_extra_info("peername") or ("", 0)
        self.peer: Addr = (peer[0], peer[1])

    def send(self, data: bytes) -> None:
        if not self.writer.is_closing():
            self.writer.write(data)

    async def run(self) -> None:
        buf = b""
        try:
            while True:
                chunk = await self.reader.read(65536)
                if not chunk:
                    break
                buf += chunk
                while True:
                    buf = buf.lstrip(b"\r\n")
                    if not buf:
                        break
                    end = header_end(buf)
                    if end < 0:
                        if len(buf) > MAX_HEADER_BYTES:
                            self.owner.stats.bad += 1
                            self.owner.reject_raw(buf, 513, self)
                            return  # cannot find the next message: close
                        break
                    length = _content_length(buf[:end])
                    if length is None or length > MAX_MESSAGE_BYTES:
                        self.owner.stats.bad += 1
                        self.owner.reject_raw(buf[:end], 400 if length is None else 513, self)
                        return
                    if len(buf) < end + length:
                        break
                    data, buf = buf[:end + length], buf[end + length:]
                    self.owner.received(data, self.peer, "tcp", self)
        except (ConnectionError, OSError):
            pass
        finally:
            self.owner.forget(self)
            try:
                self.writer.close()
            except Exception:  # noqa: BLE001
                pass


def _content_length(head: bytes) -> int | None:
    for line in head.split(b"\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() in (b"content-length", b"l"):
            v = value.strip()
            return int(v) if is_digits(v) else None
    return 0


class Transport:
    """Both listeners of one profile; ``handler(msg)`` gets every parsed message."""

    def __init__(self, loop: asyncio.AbstractEventLoop, ip: str, port: int,
                 handler: Callable[[SipMessage], None]) -> None:
        self.loop = loop
        self.ip = ip
        self.port = port
        self.handler = handler
        self.stats = Stats()
        self.udp: _Udp | None = None
        self.tcp_server: asyncio.AbstractServer | None = None
        self.conns: dict[Addr, _TcpConn] = {}

    async def start(self) -> None:
        family = socket.AF_INET6 if ":" in self.ip else socket.AF_INET
        if self.port == 0:
            self.port = _free_port(self.ip, family)
        self.udp = _Udp(self)
        self.udp.connection_made(_BatchedUdp(self.loop, self.ip, self.port, family, self.udp))
        self.tcp_server = await asyncio.start_server(self._accept, self.ip, self.port,
                                                     family=family, reuse_address=True)

    async def stop(self) -> None:
        if self.udp is not None and self.udp.transport is not None:
            self.udp.transport.close()
        if self.tcp_server is not None:
            self.tcp_server.close()
        for c in list(self.conns.values()):
            try:
                c.writer.close()
            except Exception:  # noqa: BLE001
                pass
        self.conns.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = _TcpConn(self, reader, writer)
        self.conns[conn.peer] = conn
        await conn.run()

    def forget(self, conn: _TcpConn) -> None:
        if self.conns.get(conn.peer) is conn:
            del self.conns[conn.peer]

    # -- in --------------------------------------------------------------------------
    def received(self, data: bytes, src: Addr, proto: str, conn: _TcpConn | None) -> None:
        self.stats.received += 1
        try:
            msg = parse(data, stream=proto == "tcp")
        except ParseError as e:
            self.stats.bad += 1
            log(DEBUG, f"bad SIP message from {src[0]}:{src[1]}: {e}")
            if e.status:
                self.reject_raw(data, e.status, conn, src)
            else:
                self.stats.dropped += 1
            return
        except Exception as e:  # noqa: BLE001 - the parser must never take the stack down
            self.stats.bad += 1
            self.stats.dropped += 1
            log(WARNING, f"SIP parser failure on a message from {src[0]}: {e!r}")
            return
        msg.source = src
        msg.transport = proto
        msg.conn = conn  # type: ignore[attr-defined]
        try:
            self.handler(msg)
        except Exception as e:  # noqa: BLE001
            import traceback

            log(WARNING, f"SIP handler failed: {e!r}\n{traceback.format_exc()}")

    def reject_raw(self, data: bytes, status: int, conn: _TcpConn | None,
                   src: Addr | None = None) -> None:
        """Answer a message we could not parse fully, if it is a request with the headers
        a response needs; otherwise drop it."""
        from .rawreply import raw_reply

        reply = raw_reply(data, status)
        if reply is None:
            self.stats.dropped += 1
            return
        if conn is not None:
            conn.send(reply)
        elif src is not None and self.udp is not None and self.udp.transport is not None:
            self.udp.transport.sendto(reply, src)

    # -- out -------------------------------------------------------------------------
    def send(self, data: bytes, dest: Addr, proto: str = "udp", conn: Any = None) -> None:
        """Send bytes; TCP uses ``conn`` or a kept/new connection to ``dest``."""
        self.stats.sent += 1
        if proto == "tcp":
            c = conn if conn is not None else self.conns.get(dest)
            if c is not None and not c.writer.is_closing():
                c.send(data)
                return
            self.loop.create_task(self._connect_and_send(data, dest))
            return
        if self.udp is not None and self.udp.transport is not None:
            self.udp.transport.sendto(data, dest)

    async def _connect_and_send(self, data: bytes, dest: Addr) -> None:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(dest[0], dest[1]), 5)
        except (TimeoutError, OSError) as e:
            log(DEBUG, f"sip tcp connect to {dest[0]}:{dest[1]} failed: {e}")
            return
        conn = _TcpConn(self, reader, writer)
        conn.peer = dest
        self.conns[dest] = conn
        conn.send(data)
        self.loop.create_task(conn.run())


class _BatchedUdp:
    """The SIP UDP socket with the two calls the stack uses (``sendto``, ``close``).

    It reads up to ``UDP_BATCH`` datagrams per readiness where asyncio's datagram
    transport reads one per loop iteration: at 300 INVITEs/s offered the loop also runs
    every call's timers and hand-offs, and one datagram per iteration let the kernel drop
    22 660 datagrams in 30 s (bench_sip --cps 300 --profile-sps 150, /proc/net/udp), the
    INVITE retransmissions among them.  It asks for 4 MB socket buffers (capped by
    net.core.rmem_max) so a moment without the GIL does not overflow the default 208 KB.
    Sends are non-blocking; a full send buffer drops the datagram (UDP: the transaction
    layer retransmits)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, ip: str, port: int, family: int,
                 proto: _Udp) -> None:
        self.loop = loop
        self.proto = proto
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            self.sock.bind((ip, port))
        except OSError:
            self.sock.close()
            raise
        self.sock.setblocking(False)
        for opt in (socket.SO_RCVBUF, socket.SO_SNDBUF):
            try:
                self.sock.setsockopt(socket.SOL_SOCKET, opt, UDP_BUFFER)
            except OSError:
                pass
        self.closed = False
        loop.add_reader(self.sock.fileno(), self._ready)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        if name == "socket":
            return self.sock
        if name == "sockname":
            return self.sock.getsockname()
        return default

    def sendto(self, data: bytes, addr: Any) -> None:
        if self.closed:
            return
        try:
            self.sock.sendto(data, addr)
        except (BlockingIOError, InterruptedError):
            pass
        except OSError as e:
            self.proto.error_received(e)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self.loop.remove_reader(self.sock.fileno())
        except (ValueError, OSError, RuntimeError):
            pass
        self.sock.close()

    def _ready(self) -> None:
        sock, proto = self.sock, self.proto
        for _ in range(UDP_BATCH):
            try:
                data, addr = sock.recvfrom(MAX_MESSAGE_BYTES + 1)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:  # ICMP errors surface here, as in asyncio's reader
                if self.closed:
                    return
                proto.error_received(e)
                continue
            try:
                proto.datagram_received(data, addr)
            except Exception as e:  # noqa: BLE001 - one datagram must not stop the reader
                log(WARNING, f"SIP datagram handling failed: {e!r}")


def _free_port(ip: str, family: int) -> int:
    """A port free for both UDP and TCP (a profile listens on both)."""
    for _ in range(50):
        with socket.socket(family, socket.SOCK_DGRAM) as u:
            u.bind((ip, 0))
            port = u.getsockname()[1]
            try:
                with socket.socket(family, socket.SOCK_STREAM) as t:
                    t.bind((ip, port))
                return port
            except OSError:
                continue
    raise OSError("no free port for both UDP and TCP")
