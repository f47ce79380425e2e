"""A session's queues: sendmsg messages, private events and DTMF (mixed into Session).

Other threads only *queue* here; the session's own thread runs what was queued
(``process_messages``) when it services its state, between applications or in park.

Every queue is bounded with FreeSWITCH's lengths (its message queue, private event queue
and DTMF queue): when one is full the new item is dropped, counted in the session's
``queue_drops`` and the switch's ``session_queue_drops``, and logged (first drop, then
every 100th) — a stuck channel cannot eat the daemon's memory."""

from __future__ import annotations

import traceback
from typing import Any

from fsd.events import Event
from fsd.log import DEBUG, ERR, WARNING

#: Queue lengths (FreeSWITCH: SWITCH_MESSAGE_QUEUE_LEN, SWITCH_EVENT_QUEUE_LEN, the DTMF queue).
MAX_MESSAGES = 9999
MAX_PRIVATE_EVENTS = 256
MAX_DTMF = 128


class SessionQueues:
    """Mixin for :class:`fsd.session.Session`; relies on its lock, condition, media and
    ``execute``/``hangup``/``new_event``/``log``."""

    # -- messages (sendmsg) -------------------------------------------------------------
    def queue_message(self, msg: Any, priority: bool = False) -> None:
        """Queue a sendmsg-style Event (or a callable) for the session thread."""
        if isinstance(msg, Event) and (msg.get_header("call-command") or "").lower() == "hangup":
            cause = msg.get_header("hangup-cause") or "NORMAL_CLEARING"
            self.hangup(cause)
            return
        with self.cond:
            if len(self._messages) >= MAX_MESSAGES:
                full = True
            else:
                full = False
                if priority:
                    self._messages.appendleft((msg, None))
                else:
                    self._messages.append((msg, None))
            self.cond.notify_all()
        if full:
            self._dropped("messages")

    def queue_app(self, app: str, data: str = "", priority: bool = False) -> None:
        ev = Event("COMMAND", standard_headers=False)
        ev.add_header("call-command", "execute")
        ev.add_header("execute-app-name", app)
        ev.add_header("execute-app-arg", data)
        self.queue_message(ev, priority)

    def _dropped(self, queue: str) -> None:
        """Count (session and switch) and log one item dropped from a full queue."""
        with self.cond:
            n = self.queue_drops[queue] = self.queue_drops.get(queue, 0) + 1
        sw = self.switch
        with sw.sessions_lock:
            drops = sw.session_queue_drops
            drops[queue] = drops.get(queue, 0) + 1
        if n == 1 or n % 100 == 0:
            self.log(WARNING, f"{queue} queue of {self.name} is full: {n} dropped so far")

    def has_messages(self) -> bool:
        return bool(self._messages)

    def process_messages(self) -> int:
        """Run every queued message now (in this thread); returns how many ran."""
        n = 0
        while True:
            with self.cond:
                if not self._messages:
                    return n
                msg, _ = self._messages.popleft()
            n += 1
            if callable(msg) and not isinstance(msg, Event):
                try:
                    msg()
                except Exception as e:
                    self.log(ERR, f"queued call failed: {e}\n{traceback.format_exc()}")
            else:
                self.execute_message(msg)

    def execute_message(self, msg: Event) -> bool:
        """Execute one sendmsg Event (behaviour reference §14.4) in this thread."""
        cmd = (msg.get_header("call-command") or "").lower()
        if cmd == "execute":
            app = msg.get_header("execute-app-name") or ""
            arg = msg.get_header("execute-app-arg")
            if arg is None and (msg.get_header("content-type") or "").lower().startswith("text/plain"):
                arg = msg.body or ""
            loops = msg.get_header("loops")
            try:
                count = int(loops) if loops else 1
            except ValueError:
                count = 1
            ev_uuid = msg.get_header("event-uuid")
            if ev_uuid:
                self.set_variable("app_uuid", ev_uuid)
            i = 0
            while count < 0 or i < count:
                if count != 1:
                    self.set_variable("current_loop", str(i + 1))
                    self.set_variable("total_loops", str(count))
                if not self.execute(app, arg or ""):
                    break
                i += 1
                if self.hangup_cause is not None:
                    break
            if ev_uuid:
                self.variables.pop("app_uuid", None)
            return True
        if cmd == "hangup":
            self.hangup(msg.get_header("hangup-cause") or "NORMAL_CLEARING")
            return True
        if cmd == "xferext":
            steps = []
            for name, value in msg.headers:
                if name.lower() == "application":
                    v = value if isinstance(value, str) else " ".join(value)
                    a, _, d = v.partition(" ")
                    steps.append((a, d))
            for a, d in steps:
                self.execute(a, d)
            return True
        if cmd in ("unicast", "nomedia"):
            self.log(WARNING, f"sendmsg call-command {cmd} is not supported by fsd")
            return False
        self.log(WARNING, f"unknown sendmsg call-command [{cmd}]")
        return False

    # -- private events / DTMF -----------------------------------------------------------
    def queue_event(self, event: Event) -> None:
        """Queue an event to this session (input callbacks see it; ESL divert_events)."""
        with self.cond:
            full = len(self._private_events) >= MAX_PRIVATE_EVENTS
            if not full:
                self._private_events.append(event)
            self.cond.notify_all()
        if full:
            self._dropped("events")
            return
        if self.media is not None:
            self.media.wake()  # a waiting playback/sleep polls the queue at once
        listener = getattr(self, "divert_listener", None)
        if listener is not None:
            listener(self)

    def pop_event(self) -> Event | None:
        with self.cond:
            return self._private_events.popleft() if self._private_events else None

    def flush_events(self) -> None:
        with self.cond:
            self._private_events.clear()

    def has_events(self) -> bool:
        return bool(self._private_events)

    def queue_dtmf(self, digits: str, duration_ms: int = 100, source: str = "APP") -> None:
        """DTMF arriving at this channel (from the endpoint, uuid_recv_dtmf…).

        Each digit first goes through the switch's ``dtmf_filters`` (``f(session, digit,
        duration_ms) -> True`` when it took the digit: bind_meta_app, bind_digit_action)."""
        filters = getattr(self.switch, "dtmf_filters", None)
        if filters:
            digits = "".join(d for d in digits if not self._filtered(filters, d, duration_ms))
            if not digits:
                return
        if self.media is not None:
            # The port fires DTMF events when a digit is taken off its queue.
            for d in digits:
                self.media.queue_dtmf(d, duration_ms * 8, source)
            self.wake()
            self._wake_bridge_peer()
            return
        taken = ""
        with self.cond:
            for d in digits:
                if len(self._dtmf) >= MAX_DTMF:
                    break
                self._dtmf.append((d, duration_ms))
                taken += d
            self.cond.notify_all()
        self._wake_bridge_peer()
        for _ in digits[len(taken):]:
            self._dropped("dtmf")
        for d in taken:
            self._fire_dtmf(d, duration_ms, source)

    def _wake_bridge_peer(self) -> None:
        """A bridge is run by one leg's thread; a digit on the other leg must wake it."""
        peer = getattr(self, "_peer", None)
        if peer is not None:
            peer.wake()

    def _filtered(self, filters: list, digit: str, duration_ms: int) -> bool:
        for f in list(filters):
            try:
                if f(self, digit, duration_ms):
                    return True
            except Exception as e:  # a broken filter must not lose the digit
                self.log(ERR, f"DTMF filter failed: {e}")
        return False

    def _fire_dtmf(self, digit: str, duration_ms: int, source: str) -> None:
        ev = self.new_event("DTMF")
        ev.add_header("DTMF-Digit", digit)
        ev.add_header("DTMF-Duration", str(duration_ms * 8))
        ev.add_header("DTMF-Source", source)
        self.switch.events.fire(ev)
        self.log(DEBUG if not self.var_true("sensitive_dtmf") else DEBUG, f"RECV DTMF {digit if not self.var_true('sensitive_dtmf') else 'X'}:{duration_ms * 8}")

    def pop_dtmf(self) -> tuple[str, int] | None:
        if self.media is not None:
            d = self.media.get_dtmf(0)
            return (d.digit, d.duration) if d is not None else None
        with self.cond:
            return self._dtmf.popleft() if self._dtmf else None

    def has_dtmf(self) -> bool:
        if self.media is not None and hasattr(self.media, "has_dtmf"):
            return self.media.has_dtmf()
        return bool(self._dtmf)

    def flush_dtmf(self) -> None:
        if self.media is not None and hasattr(self.media, "flush_dtmf"):
            self.media.flush_dtmf()
        with self.cond:
            self._dtmf.clear()

    def send_dtmf(self, digits: str, duration_ms: int = 100) -> None:
        """Send DTMF out of this channel (to the far end)."""
        self.tech.send_dtmf(self, digits, duration_ms)

