"""Sessions (channels): states, variables, answer/hangup, the per-session thread, messages.

One thread per session runs its state machine: CS_INIT → CS_ROUTING (dialplan hunt) →
CS_EXECUTE (applications) … → CS_HANGUP (hooks) → CS_REPORTING → CS_DESTROY.  Other
threads never run a session's state machine; they *request* changes (hangup, transfer,
break, queued messages) and wake the session, which acts on them.  Blocking operations
(sleep, park, waiting for answer, media) wait on the session's condition so that a hangup
or break from anywhere ends them at once.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fsd import causes, routing
from fsd.caller_profile import CallerProfile, now_us
from fsd.events import Event
from fsd.log import DEBUG, ERR, INFO, NOTICE, log
from fsd.routing import app_refusal
from fsd.session_data import ChannelData
from fsd.session_queues import SessionQueues
from fsd.states import CALLSTATES, CS, STATE_NUM, STATES, TEARDOWN, WAITING_STATES, ChannelState  # noqa: F401
from fsd.truth import is_true
from fsd.uuids import uuid4_str

if TYPE_CHECKING:  # pragma: no cover
    from fsd.switch import Switch


class SessionError(Exception):
    """A session cannot be created; ``cause`` is the hangup cause name."""

    def __init__(self, cause: str, message: str = "") -> None:
        super().__init__(message or cause)
        self.cause = cause


class Endpoint:
    """What an endpoint implements for its channels (defaults do nothing).

    Subclass per channel technology; ``Session.tech`` holds one instance."""

    def on_answer(self, session: Session) -> None: ...
    def on_pre_answer(self, session: Session) -> None: ...
    def on_ring_ready(self, session: Session) -> None: ...
    def on_hangup(self, session: Session, cause: str) -> None: ...
    def on_destroy(self, session: Session) -> None: ...
    def send_dtmf(self, session: Session, digits: str, duration_ms: int) -> None: ...


class Session(ChannelData, SessionQueues):
    """A channel.  Create it with :meth:`Session.create`, then :meth:`start` its thread."""

    def __init__(self, switch: Switch, *, name: str, direction: str,
                 profile: CallerProfile, tech: Endpoint | None = None,
                 variables: dict[str, str] | None = None, uuid: str | None = None,
                 endpoint_name: str = "") -> None:
        self.switch = switch
        self.uuid = uuid or uuid4_str()
        self.name = name
        self.direction = direction
        self.endpoint_name = endpoint_name
        self.tech = tech or Endpoint()
        self.caller_profile = profile
        profile.uuid = self.uuid
        profile.chan_name = name
        profile.direction = direction
        profile.logical_direction = direction
        self.profiles: list[CallerProfile] = [profile]
        self.originator_profile: CallerProfile | None = None
        self.originatee_profile: CallerProfile | None = None
        self.created_epoch = int(time.time())
        self.variables: dict[str, str] = {}
        # ``_state`` is the requested state (FreeSWITCH's channel->state), ``_running_state``
        # the one the session thread is in; both change only in ``_set_state``.
        self._state = CS.CS_NEW
        self._running_state = CS.CS_NEW
        self.callstate = "DOWN"
        self._answered = False
        self._early = False
        self.hangup_cause: str | None = None
        self.hit_dialplan = direction == "inbound"
        self._transferring = False
        self._peer: Session | None = None
        self.media: Any = None  # a media port, attached by the media engine
        self.extension: list[tuple[str, str]] = []
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self._messages: deque[tuple[Any, Callable[[], None] | None]] = deque()
        self._private_events: deque[Event] = deque()
        self._dtmf: deque[tuple[str, int]] = deque()
        self.queue_drops: dict[str, int] = {}
        self._private: dict[str, Any] = {}
        self._break = False
        self._state_listeners: list[Callable[[Session, str], None]] = []
        # None once fired: a listener added later runs at once (each runs exactly once).
        self._hangup_listeners: list[Callable[[Session], None]] | None = []
        self._kill_listeners: list[Callable[[Session], None]] | None = []
        self._watchers: set[threading.Event] = set()
        self.killed = False
        self.thread: threading.Thread | None = None
        # Who runs the hangup sequence (CS_HANGUP → CS_DESTROY): "thread" once the session
        # thread is started, "hangup" when hangup() came first; claimed under the lock.
        self._teardown_by: str | None = None
        self._teardown_claimed = False
        self.destroyed = threading.Event()
        self.app_lock = threading.RLock()
        self.current_app: str | None = None
        if variables:
            for k, v in variables.items():
                self.set_variable(k, v)
        self.variables.setdefault("uuid", self.uuid)
        self.variables["channel_name"] = name
        self.variables.setdefault("direction", direction)

    # -- creation ---------------------------------------------------------------
    @classmethod
    def create(cls, switch: Switch, **kwargs: Any) -> Session:
        """Create and register a session, enforcing max-sessions and sessions-per-second
        (refused with DESTINATION_OUT_OF_ORDER, the cause FreeSWITCH's endpoints report)."""
        if not switch.running:
            raise SessionError("DESTINATION_OUT_OF_ORDER", "The system cannot create any sessions at this time.")
        direction = kwargs.get("direction", "")
        if direction in ("inbound", "outbound") and not switch.core_ready(direction):
            text = f"The system cannot create any {direction} sessions at this time."
            log(CRIT_LEVEL, text)
            raise SessionError("DESTINATION_OUT_OF_ORDER", text)
        max_sessions = switch.setting_int("max-sessions", 1000)
        sps = switch.setting_int("sessions-per-second", 30)
        with switch.sessions_lock:
            if len(switch.sessions) + 1 > max_sessions:
                log(CRIT_LEVEL, f"Over Session Limit! {max_sessions}")
                raise SessionError("DESTINATION_OUT_OF_ORDER", f"Over Session Limit! {max_sessions}")
            if sps > 0 and switch.current_sps() >= sps:
                log(CRIT_LEVEL, f"Throttle Error! {len(switch.sessions)}")
                raise SessionError("DESTINATION_OUT_OF_ORDER", f"Over Session Rate of {sps}!")
            uuid = kwargs.get("uuid")
            if uuid and uuid in switch.sessions:
                raise SessionError("DESTINATION_OUT_OF_ORDER", f"Duplicate UUID {uuid}")
            s = cls(switch, **kwargs)
            switch.sessions[s.uuid] = s
            switch.note_session_start()
        switch.modules.broadcast("fsd_session_created", switch=switch, session=s)
        attach_media = getattr(switch, "attach_media", None)
        if attach_media:
            attach_media(s)
        s.fire("CHANNEL_CREATE")
        return s

    def start(self, initial_state: str | None = None) -> None:
        """Start the session thread.  Inbound sessions route through the dialplan;
        outbound ones wait in ``initial_state`` (default CS_CONSUME_MEDIA) for orders."""
        target = CS(initial_state or ("CS_ROUTING" if self.direction == "inbound" else "CS_CONSUME_MEDIA"))
        if self.direction == "outbound":
            self.fire("CHANNEL_OUTGOING")
        self._set_state(CS.CS_INIT)
        self._set_state(target, enter=False)
        with self.cond:
            if self._teardown_by is not None:
                return  # hung up before it started: hangup() tears it down, no thread
            self._teardown_by = "thread"
            self.thread = threading.Thread(target=self._run, name=f"session-{self.uuid[:8]}", daemon=True)
        self.thread.start()

    # -- logging ------------------------------------------------------------------
    def log(self, level: int, text: str) -> None:
        log(level, text, uuid=self.uuid, file="session.py", func=self.name, line=0)

    # -- variables ----------------------------------------------------------------
    def set_variable(self, name: str, value: Any) -> None:
        """Set a channel variable; None or "" unsets it (as FreeSWITCH)."""
        if not name:
            return
        with self.lock:
            if value is None or value == "":
                self.variables.pop(name, None)
            else:
                self.variables[name] = str(value)

    def get_variable(self, name: str) -> str | None:
        """Variables, then caller-profile fields (``aleg_``/``bleg_`` prefixes), then globals."""
        if not name:
            return None
        v = self.variables.get(name)
        if v is not None:
            return v
        v = self._profile_field(name)
        if v is not None:
            return v
        return self.switch.globals.get(name)

    def _profile_field(self, name: str) -> str | None:
        low = name.lower()
        prof: CallerProfile | None = self.caller_profile
        if low.startswith("aleg_"):
            prof, low = self.originator_profile or (self.caller_profile if self.direction == "inbound" else None), low[5:]
        elif low.startswith("bleg_"):
            prof, low = self.originatee_profile, low[5:]
        if prof is None:
            return None
        if low == "state":
            return self.running_state
        return prof.get_field(low)

    def get_private(self, key: str) -> Any:
        """A module's own data kept on the channel (FreeSWITCH's channel private)."""
        with self.lock:
            return self._private.get(key)

    def set_private(self, key: str, value: Any) -> Any:
        """Store (None removes) a module's data on the channel; returns ``value``."""
        with self.lock:
            if value is None:
                self._private.pop(key, None)
            else:
                self._private[key] = value
        return value

    def var_true(self, name: str) -> bool:
        return is_true(self.get_variable(name))

    def expand(self, text: str) -> str:
        return self.switch.expand(text, self)

    # -- readiness ----------------------------------------------------------------
    def answered(self) -> bool:
        return self._answered

    def early_media(self) -> bool:
        return self._early

    def hungup(self) -> bool:
        return self.hangup_cause is not None

    def ready(self) -> bool:
        """FreeSWITCH's channel_ready: not hung up, between routing and hangup, not
        transferring.  Answering is not required."""
        if self.hangup_cause is not None or self._transferring:
            return False
        st = self._state
        return CS.CS_ROUTING.number < st.number < CS.CS_HANGUP.number and st is not CS.CS_RESET

    def up(self) -> bool:
        """Alive (not hung up) whatever the state."""
        return self.hangup_cause is None

    def media_ready(self) -> bool:
        return self.ready() and (self._answered or self._early)

    def interrupted(self) -> bool:
        """True when a blocking operation should return: hangup, break or transfer."""
        return self.hangup_cause is not None or self._break or self._transferring

    # -- read-only views of what only the core changes -------------------------------
    @property
    def state(self) -> ChannelState:
        """The requested state (what the session thread moves to next)."""
        return self._state

    @property
    def running_state(self) -> ChannelState:
        """The state the session thread is in (``Channel-State``)."""
        return self._running_state

    @property
    def transferring(self) -> bool:
        return self._transferring

    @property
    def peer(self) -> Session | None:
        """The bridged channel, if any (see :meth:`bridge_to`)."""
        return self._peer

    # -- waiting --------------------------------------------------------------------
    def wake(self) -> None:
        """Wake whatever waits on this channel: its own thread and any watcher."""
        with self.cond:
            self.cond.notify_all()
            watchers = list(self._watchers)
        for w in watchers:
            w.set()

    def add_watcher(self, event: threading.Event) -> None:
        """``event`` is set on every change worth re-checking (answer, early media, hangup,
        state): lets one thread wait for several channels at once (originate)."""
        with self.cond:
            self._watchers.add(event)

    def remove_watcher(self, event: threading.Event) -> None:
        with self.cond:
            self._watchers.discard(event)

    def wait_for(self, predicate: Callable[[], bool], timeout: float | None = None) -> bool:
        """Wait until ``predicate()`` or interruption or timeout; returns predicate()."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self.cond:
            while True:
                if predicate():
                    return True
                if self.interrupted():
                    return predicate()
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return predicate()
                self.cond.wait(remaining)

    def sleep(self, ms: int) -> bool:
        """Sleep ``ms`` milliseconds; False when interrupted."""
        end = time.monotonic() + max(0, ms) / 1000.0
        self.wait_for(lambda: time.monotonic() >= end, max(0, ms) / 1000.0)
        return not self.interrupted()

    def break_(self) -> None:
        """Stop the current blocking operation (uuid_break)."""
        with self.cond:
            self._break = True
            self.cond.notify_all()
        if self.media is not None:
            self.media.break_media()

    def clear_break(self) -> None:
        self._break = False

    # -- state ------------------------------------------------------------------------
    def _set_state(self, new: ChannelState | str, *, enter: bool = True) -> bool:
        """The one transition method: every change of ``state``/``running_state`` is made
        here, under the session lock.  ``enter=False`` only *requests* ``new`` (the session
        thread moves there); ``enter=True`` moves the calling thread (the session's own,
        or the hanging-up thread of a session that never started) into it.

        Refused (False): anything before CS_HANGUP once hung up, anything but CS_ROUTING
        while a transfer is pending, and any step back during teardown — so CS_HANGUP,
        CS_REPORTING and CS_DESTROY are each entered exactly once, in that order.
        The event, the state listeners and the broadcast hook run after the lock is let go."""
        new = CS(new)
        with self.cond:
            old = self._running_state
            if old is CS.CS_DESTROY:
                return False
            if new in TEARDOWN:
                if old in TEARDOWN and new.number <= old.number:
                    return enter is False  # a request for where teardown already is
            else:
                if self.hangup_cause is not None:
                    return False
                if self._transferring and new is not CS.CS_ROUTING:
                    return False  # a pending transfer wins over a later state request
            self._state = new
            if enter:
                self._running_state = new
                if new is CS.CS_ROUTING:
                    self._transferring = False
            self.cond.notify_all()
            watchers = list(self._watchers)
            listeners = list(self._state_listeners) if enter and old is not new else ()
        for w in watchers:
            w.set()
        if not enter or old is new:
            return True
        # -- outside the lock: tell the world (log, CHANNEL_STATE, listeners, hook) --------
        self.log(DEBUG, f"State Change {old} -> {new}")
        self.fire("CHANNEL_STATE")
        self.switch.modules.broadcast("fsd_channel_state", switch=self.switch, session=self, old=str(old), new=str(new))
        for cb in listeners:
            try:
                cb(self, new)
            except Exception as e:
                self.log(ERR, f"state listener failed: {e}")
        return True

    def set_state(self, state: ChannelState | str) -> bool:
        """Request a state; the session thread moves there (False when refused)."""
        return self._set_state(state, enter=False)

    def enter_state(self, state: ChannelState | str) -> bool:
        """Move this (the session's own) thread into ``state`` now, unless a hangup or a
        transfer is pending — which must win.  Returns False when it did not."""
        return self._set_state(state)

    def service(self, state: ChannelState | str) -> None:
        """Wait in a servicing state (park…), running queued messages, until the state
        changes, the channel hangs up or is transferred.  Call from the session's thread."""
        state = CS(state)
        while self.hangup_cause is None and self._state is state:
            if self._messages:
                self.process_messages()
                continue
            with self.cond:
                if self.hangup_cause is None and self._state is state and not self._messages:
                    self.cond.wait()

    def set_callstate(self, callstate: str) -> None:
        with self.cond:
            old = self.callstate
            if callstate == old or old == "HANGUP":
                return  # HANGUP is final: a late answer from another thread cannot undo it
            self.callstate = callstate
        ev = self.new_event("CHANNEL_CALLSTATE")
        ev.add_header("Original-Channel-Call-State", old)
        ev.add_header("Channel-Call-State-Number", str(CALLSTATES.index(callstate)))
        self.switch.events.fire(ev)

    def add_state_listener(self, cb: Callable[[Session, str], None]) -> None:
        """``cb(session, state)`` after each state the session enters (and on a transfer
        request, with CS_ROUTING), in the thread that made the change."""
        with self.cond:
            self._state_listeners.append(cb)

    def remove_state_listener(self, cb: Callable[[Session, str], None]) -> None:
        with self.cond:
            if cb in self._state_listeners:
                self._state_listeners.remove(cb)

    def add_hangup_listener(self, cb: Callable[[Session], None]) -> None:
        """``cb(session)`` runs exactly once: in the thread that hangs the channel up, or
        at once (in this thread) when the listeners have already been run."""
        with self.cond:
            if self._hangup_listeners is not None:
                self._hangup_listeners.append(cb)
                return
        self._call_listener(cb, "hangup")

    def remove_hangup_listener(self, cb: Callable[[Session], None]) -> None:
        with self.cond:
            if self._hangup_listeners is not None and cb in self._hangup_listeners:
                self._hangup_listeners.remove(cb)

    def _call_listener(self, cb: Callable[[Session], None], what: str) -> None:
        try:
            cb(self)
        except Exception as e:
            self.log(ERR, f"{what} listener failed: {e}\n{traceback.format_exc()}")

    # -- answer / progress ---------------------------------------------------------------
    def answer(self) -> bool:
        """Answer (inbound) or mark answered (the endpoint calls this for outbound)."""
        with self.lock:
            if self._answered:
                return True
            if self.hangup_cause is not None:
                return False
            self._answered = True
            self.caller_profile.answered_time = now_us()
        self.set_variable("endpoint_disposition", "ANSWER")
        try:
            self.tech.on_answer(self)
        except Exception as e:
            self.log(ERR, f"endpoint answer failed: {e}")
        self.log(NOTICE, f"Channel [{self.name}] has been answered")
        self.fire("CHANNEL_ANSWER")
        self.set_callstate("ACTIVE")
        self._run_on_hooks("answer")
        self.wake()
        if self.peer is not None:
            self.peer.wake()  # a bridge waiting on this leg's answer
        return True

    mark_answered = answer

    def pre_answer(self) -> bool:
        with self.lock:
            if self._answered or self._early:
                return True
            if self.hangup_cause is not None:
                return False
            self._early = True
            self.caller_profile.progress_media_time = now_us()
        self.set_variable("endpoint_disposition", "EARLY MEDIA")
        try:
            self.tech.on_pre_answer(self)
        except Exception as e:
            self.log(ERR, f"endpoint pre_answer failed: {e}")
        self.fire("CHANNEL_PROGRESS_MEDIA")
        self.set_callstate("EARLY")
        self._run_on_hooks("pre_answer")
        self._run_on_hooks("media")
        self.wake()
        return True

    def ring_ready(self) -> bool:
        if self.hangup_cause is not None:
            return False
        if self.callstate in ("RINGING", "EARLY", "ACTIVE"):
            return True
        self.caller_profile.progress_time = now_us()
        try:
            self.tech.on_ring_ready(self)
        except Exception as e:
            self.log(ERR, f"endpoint ring_ready failed: {e}")
        self.fire("CHANNEL_PROGRESS")
        self.set_callstate("RINGING")
        self._run_on_hooks("ring")
        return True

    def _run_on_hooks(self, what: str) -> None:
        """``execute_on_<what>`` and ``api_on_<what>`` variables (and ``…_<suffix>``)."""
        for prefix in (f"execute_on_{what}", f"api_on_{what}"):
            for name, value in list(self.variables.items()):
                if not name.startswith(prefix) or not value:
                    continue
                if prefix.startswith("execute"):
                    app, _, data = value.partition(" ")
                    if threading.current_thread() is self.thread:
                        self.execute(app, data)
                    else:
                        self.queue_app(app, data, priority=True)
                else:
                    cmd, _, args = value.partition(" ")
                    self.switch.api.execute(cmd, self.expand(args), self)

    # -- hangup -----------------------------------------------------------------------
    def hangup(self, cause: str | int = "NORMAL_CLEARING") -> bool:
        """Hang up with a cause (name or number); the first hangup wins (False after)."""
        name = causes.str2cause(cause)
        with self.cond:
            if self.hangup_cause is not None:
                return False
            self.hangup_cause = name
            self.caller_profile.hungup_time = now_us()
            self.variables["hangup_cause"] = name
            self.variables["hangup_cause_q850"] = str(causes.q850(name))
            self._set_state(CS.CS_HANGUP, enter=False)
            # A session whose thread was never started is torn down by this thread; a
            # start() that comes later sees the claim and starts no thread.
            teardown_here = self._teardown_by is None
            if teardown_here:
                self._teardown_by = "hangup"
        self.wake()
        self.log(NOTICE, f"Hangup {self.name} [{self.running_state}] [{name}]")
        self.set_callstate("HANGUP")
        peer = self._peer
        if peer is not None:
            peer.wake()  # the bridge on the other side ends now, not at its next poll
        ev = self.new_event("CHANNEL_HANGUP")
        self.switch.events.fire(ev)
        if self.media is not None and hasattr(self.media, "close"):
            try:
                self.media.close()
            except Exception as e:
                self.log(ERR, f"closing media failed: {e}")
        try:
            self.tech.on_hangup(self, name)
        except Exception as e:
            self.log(ERR, f"endpoint hangup failed: {e}")
        with self.cond:
            listeners, self._hangup_listeners = self._hangup_listeners or [], None
        for cb in listeners:
            self._call_listener(cb, "hangup")
        if teardown_here:
            self._hangup_sequence()
        return True

    def kill(self, cause: str | int = "NORMAL_CLEARING") -> bool:
        """Kill the channel from outside (``uuid_kill``): hang up, and tell whatever runs
        on its behalf (scripts) to stop even if it never touches the channel again.
        Kill listeners run once, on the first kill."""
        with self.cond:
            self.killed = True
            listeners, self._kill_listeners = self._kill_listeners or [], None
        for cb in listeners:
            self._call_listener(cb, "kill")
        return self.hangup(cause)

    def add_kill_listener(self, cb: Callable[[Session], None]) -> None:
        """``cb(session)`` runs when the channel is killed (see :meth:`kill`); at once if
        it already was."""
        with self.cond:
            if self._kill_listeners is not None:
                self._kill_listeners.append(cb)
                return
        self._call_listener(cb, "kill")

    def remove_kill_listener(self, cb: Callable[[Session], None]) -> None:
        with self.cond:
            if self._kill_listeners is not None and cb in self._kill_listeners:
                self._kill_listeners.remove(cb)

    # -- transfer -------------------------------------------------------------------------
    def transfer(self, extension: str, dialplan: str | None = None, context: str | None = None) -> bool:
        """Re-enter routing with a new destination (switch_ivr_session_transfer)."""
        if self.hangup_cause is not None:
            return False
        extension = extension or self.caller_profile.destination_number
        old = self.caller_profile
        new = old.clone(destination_number=extension,
                        dialplan=dialplan or old.dialplan or "XML",
                        context=context or old.context or "default",
                        transfer_source=f"{int(time.time())}:{self.uuid}:bl_xfer:{extension}/{context or old.context}/{dialplan or old.dialplan}",
                        profile_index=str(int(old.profile_index or "1") + 1))
        new.transfer_time = now_us()
        hist = self.variables.get("transfer_history", "")
        entry = f"{int(time.time())}:{self.uuid}:bl_xfer:{extension}/{new.context}/{new.dialplan}"
        self.set_variable("transfer_history", f"{hist}|:{entry}" if hist else entry)
        with self.cond:
            if self.hangup_cause is not None:
                return False
            self.caller_profile = new
            self.profiles.append(new)
            self._transferring = True
            self._set_state(CS.CS_ROUTING, enter=False)
            listeners = list(self._state_listeners)
        for cb in listeners:  # a transfer is announced when requested (Lua hangup hooks)
            try:
                cb(self, CS.CS_ROUTING)
            except Exception as e:
                self.log(ERR, f"state listener failed: {e}")
        if self._peer is not None:
            self.break_()
        if self.media is not None:
            self.media.break_media()
        self.log(NOTICE, f"Transfer {self.name} to {new.dialplan}[{extension}@{new.context}]")
        return True

    # -- call control: bridging (fsd/bridge.py) ----------------------------------------------
    def bridge_to(self, other: Session, *, own_other: bool = False) -> str:
        """Bridge this channel to ``other`` until one side leaves, a transfer or a break;
        call it from this channel's thread.  Returns the cause that ended the bridge.
        ``own_other``: ``other`` was originated for this bridge and hangs up with us."""
        from fsd import bridge

        return bridge.bridge(self, other, own_other)

    def request_bridge(self, other: Session) -> None:
        """From any thread (``uuid_bridge``): this channel's thread bridges it to ``other``."""
        from fsd import bridge

        bridge.request_bridge(self, other)

    def unbridge(self) -> bool:
        """Break this channel's bridge; both sides go on (False when not bridged)."""
        from fsd import bridge

        return bridge.unbridge(self)

    # -- applications ---------------------------------------------------------------------
    def execute(self, app_name: str, data: str = "", *, expand: bool = True,
                inline: bool = False) -> bool:
        """Run a dialplan application synchronously in the calling thread."""
        app = self.switch.applications.get((app_name or "").strip().lower())
        if app is None:
            self.log(ERR, f"Invalid Application {app_name}")
            self.hangup("DESTINATION_OUT_OF_ORDER")
            return False
        refused = app_refusal(self, app, inline=inline)  # the core checks the app's flags
        if refused is not None:
            if refused:
                self.log(ERR, refused)
            return False
        data = data or ""
        if expand and not self.var_true("app_disable_expand_variables"):
            data = self.expand(data)
        app_uuid = self.variables.get("app_uuid") or uuid4_str()
        with self.app_lock:
            self.current_app = app.name
            self.set_variable("current_application", app.name)
            self.set_variable("current_application_data", data)
            self.log(DEBUG, f"EXECUTE [depth=0] {self.name} {app.name}({data})")
            ev = self.new_event("CHANNEL_EXECUTE")
            ev.add_header("Application", app.name)
            ev.add_header("Application-Data", data)
            ev.add_header("Application-UUID", app_uuid)
            self.switch.events.fire(ev)
            self.variables.pop("current_application_response", None)
            try:
                app.func(self, data)
            except Exception as e:
                self.log(ERR, f"application {app.name} failed: {type(e).__name__}: {e}\n{traceback.format_exc()}")
            ev = self.new_event("CHANNEL_EXECUTE_COMPLETE")
            ev.add_header("Application", app.name)
            ev.add_header("Application-Data", data)
            ev.add_header("Application-Response", self.variables.get("current_application_response", "_none_"))
            ev.add_header("Application-UUID", app_uuid)
            self.switch.events.fire(ev)
            self.current_app = None
        return True

    def execute_inline(self, app_name: str, data: str = "") -> bool:
        """Run an application during routing (``inline="true"``); refused unless the
        application is flagged ``APP_ROUTING_EXEC``."""
        return self.execute(app_name, data, inline=True)

    # -- the session thread ---------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._state_loop()
        except Exception as e:
            self.log(ERR, f"session thread crashed: {type(e).__name__}: {e}\n{traceback.format_exc()}")
            self.hangup("CRASH")
        finally:
            self._hangup_sequence()

    def _state_loop(self) -> None:
        while self.hangup_cause is None:
            target = self._state
            if target is CS.CS_ROUTING:
                if self._set_state(CS.CS_ROUTING):
                    self._route()
            elif target is CS.CS_EXECUTE:
                if self._set_state(CS.CS_EXECUTE):
                    self._execute_extension()
            elif target is CS.CS_RESET:
                if self._set_state(CS.CS_RESET):
                    self._set_state(CS.CS_EXECUTE if self.extension else CS.CS_PARK, enter=False)
            elif target in TEARDOWN:
                return
            elif self._set_state(target):  # WAITING_STATES and the rest: service them
                self.service(target)

    def _route(self) -> None:
        """Hunt the dialplan(s) named in the caller profile ("XML", "XML,LUA"…)."""
        self.hit_dialplan = True
        prof = self.caller_profile
        names = [d.strip() for d in (prof.dialplan or "XML").split(",") if d.strip()]
        extension = None
        for name in names:
            dp_name, _, dp_args = name.partition(":")
            found, extension = routing.hunt(self, dp_name, dp_args)  # hook, then registry
            if not found:
                continue
            if self.hangup_cause is not None or self._state is not CS.CS_ROUTING:
                if self._state is CS.CS_ROUTING and self._transferring:
                    return  # an inline transfer: route again
                if self.hangup_cause is not None:
                    return
            if extension:
                break
        if self.hangup_cause is not None:
            return
        if self._transferring:
            return
        if not extension:
            self.log(NOTICE, f"No Route, Aborting [{prof.destination_number}@{prof.context}]")
            self.hangup("NO_ROUTE_DESTINATION")
            return
        self.extension = list(extension)
        with self.cond:
            if self._state is CS.CS_ROUTING:
                self._set_state(CS.CS_EXECUTE, enter=False)

    def _execute_extension(self) -> None:
        steps = list(self.extension)
        for app, data in steps:
            if self.hangup_cause is not None or self._state is not CS.CS_EXECUTE or self._transferring:
                break
            self.process_messages()
            self.clear_break()
            self.execute(app, data)
        if self.hangup_cause is None and self._state is CS.CS_EXECUTE and not self._transferring:
            self.process_messages()
            if self._state is CS.CS_EXECUTE and self.hangup_cause is None:
                self.log(NOTICE, f"{self.name} has executed the last dialplan instruction, hanging up.")
                self.hangup("NORMAL_CLEARING")

    def _hangup_sequence(self) -> None:
        """CS_HANGUP → CS_REPORTING → CS_DESTROY, run once: by the session thread when it
        ends, or by hangup() for a session whose thread never started."""
        with self.cond:
            if self._teardown_claimed:
                return
            self._teardown_claimed = True
        if self.hangup_cause is None:
            self.hangup("NORMAL_CLEARING")  # the thread ended on its own (CS_HANGUP request)
        self._set_state(CS.CS_HANGUP)
        self._api_hook("api_hangup_hook")
        self._set_state(CS.CS_REPORTING)
        ev = self.new_event("CHANNEL_HANGUP_COMPLETE")
        self.switch.events.fire(ev)
        self._api_hook("api_reporting_hook")
        self._set_state(CS.CS_DESTROY)
        try:
            self.tech.on_destroy(self)
        except Exception as e:
            self.log(ERR, f"endpoint destroy failed: {e}")
        self.fire("CHANNEL_DESTROY")
        self.switch.forget_session(self)
        self.switch.modules.broadcast("fsd_session_destroyed", switch=self.switch, session=self)
        self.destroyed.set()
        self.log(INFO, f"Session {self.name} Ended")

    def _api_hook(self, var: str) -> None:
        value = self.variables.get(var)
        if not value:
            return
        if "::" in value:
            cmd, _, args = value.partition("::")
        else:
            cmd, _, args = value.partition(" ")
        env = self.env_event()
        args = self.switch.expand(args, None, lookup=lambda n: env.get_header(n))
        sess = self if self.var_true("session_in_hangup_hook") else None
        try:
            from fsd.api import Stream
            from fsd.scripting.languages import run_hangup_hook

            if run_hangup_hook(self.switch, cmd, args, sess, env):
                return
            self.switch.api.execute(cmd.strip(), args, sess, Stream(env), param_event=env)
        except Exception as e:
            self.log(ERR, f"{var} {cmd} failed: {e}\n{traceback.format_exc()}")


CRIT_LEVEL = 2  # fsd.log.CRIT; kept local to avoid a cycle in type checkers
