"""The limit subsystem (FreeSWITCH's switch_limit.c): named backends counting resource use
per ``realm``/``resource`` for channels.

A module declares a backend (mod_hash: ``hash``; mod_db: ``db``) with :func:`register`;
the ``limit`` applications and ``limit_*`` APIs reach it by name through :func:`incr`,
:func:`release`, :func:`usage`….  A channel that took a resource releases it on hangup,
and on transfer unless ``limit_ignore_transfer`` is true, as FreeSWITCH's limit state
handler does; the backends in use are listed in the ``limit_backend`` variable.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from fsd.events import Event
from fsd.log import DEBUG, ERR, log

BACKEND_VARIABLE = "limit_backend"
IGNORE_TRANSFER_VARIABLE = "limit_ignore_transfer"
EVENT_USAGE = "limit::usage"
DEFAULT_XFER_EXTEN = "limit_exceeded"


class LimitBackend(Protocol):
    def incr(self, session: Any, realm: str, resource: str, max: int, interval: int) -> bool: ...
    def release(self, session: Any, realm: str | None, resource: str | None) -> None: ...
    def usage(self, realm: str, resource: str) -> tuple[int, int]: ...
    def reset(self) -> bool: ...
    def status(self) -> str: ...


class _Registry:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.backends: dict[str, tuple[Any, str]] = {}


def _registry(switch: Any) -> _Registry:
    reg = getattr(switch, "_limit_registry", None)
    if reg is None:
        reg = _Registry()
        switch._limit_registry = reg
    return reg


def register(switch: Any, name: str, backend: LimitBackend, module: str) -> None:
    """Declare a limit backend (call ``unregister`` when the module unloads)."""
    with _registry(switch).lock:
        _registry(switch).backends[name] = (backend, module)


def unregister(switch: Any, name: str) -> None:
    with _registry(switch).lock:
        _registry(switch).backends.pop(name, None)


def backends(switch: Any) -> list[tuple[str, str]]:
    """``[(name, module)]`` of the registered backends (``show limits``)."""
    with _registry(switch).lock:
        return sorted((n, m) for n, (_, m) in _registry(switch).backends.items())


def get(switch: Any, name: str | None) -> Any:
    if not name:
        return None
    with _registry(switch).lock:
        entry = _registry(switch).backends.get(name)
    return entry[0] if entry else None


def _missing(name: str, session: Any = None) -> None:
    text = f"Limit subsystem {name} not found!\n"
    if session is not None:
        session.log(ERR, text)
    else:
        log(ERR, text)


def fire_usage(switch: Any, backend: str, realm: str, key: str, usage: int, rate: int,
               max: int, ratemax: int) -> None:
    """The ``CUSTOM limit::usage`` event a backend fires when usage grows."""
    ev = Event("CUSTOM", EVENT_USAGE)
    for k, v in (("backend", backend), ("realm", realm), ("key", key), ("usage", usage),
                 ("rate", rate), ("max", max), ("ratemax", ratemax)):
        ev.add_header(k, str(v))
    switch.events.fire(ev)


def incr(switch: Any, name: str, session: Any, realm: str, resource: str, max: int,
         interval: int = 0) -> bool:
    """Take one unit of ``realm``/``resource``; False when over the limit or no backend."""
    backend = get(switch, name)
    if backend is None:
        _missing(name, session)
        return False
    session.log(DEBUG, f"incr called: {realm}_{resource} max:{max}, interval:{interval}\n")
    if not backend.incr(session, realm, resource, max, interval):
        return False
    existing = session.get_variable(BACKEND_VARIABLE)
    if existing:
        if name not in existing.split(","):
            session.set_variable(BACKEND_VARIABLE, f"{existing},{name}")
    else:
        session.set_variable(BACKEND_VARIABLE, name)
        _watch(switch, session)
    return True


def _watch(switch: Any, session: Any) -> None:
    """Release everything the channel holds when it hangs up or (unless told not to)
    is transferred."""
    done = threading.Event()

    def release_all(s: Any) -> None:
        if done.is_set():
            return
        done.set()
        for b in (s.get_variable(BACKEND_VARIABLE) or "").split(","):
            if b:
                release(switch, b, s, None, None)
        s.set_variable(BACKEND_VARIABLE, None)

    def on_state(s: Any, state: str) -> None:
        from fsd.truth import is_true

        if state in ("CS_HANGUP", "CS_REPORTING", "CS_DESTROY") or (
                state == "CS_ROUTING" and not is_true(s.get_variable(IGNORE_TRANSFER_VARIABLE))):
            s.remove_state_listener(on_state)
            release_all(s)

    session.add_state_listener(on_state)
    session.add_hangup_listener(release_all)


def release(switch: Any, name: str, session: Any, realm: str | None, resource: str | None) -> bool:
    backend = get(switch, name)
    if backend is None:
        _missing(name, session)
        return False
    backend.release(session, realm, resource)
    return True


def usage(switch: Any, name: str, realm: str, resource: str) -> tuple[int, int] | None:
    """``(count, rate)`` or None when there is no such backend."""
    backend = get(switch, name)
    if backend is None:
        _missing(name)
        return None
    return backend.usage(realm, resource)


def reset(switch: Any, name: str) -> bool:
    backend = get(switch, name)
    if backend is None:
        _missing(name)
        return False
    return bool(backend.reset())


def interval_reset(switch: Any, name: str, realm: str, resource: str) -> bool:
    backend = get(switch, name)
    if backend is None:
        _missing(name)
        return False
    fn = getattr(backend, "interval_reset", None)
    if fn is None:
        log(ERR, f"Limit subsystem {name} does not implement interval_reset!\n")
        return False
    return bool(fn(realm, resource))


def status(switch: Any, name: str) -> str:
    backend = get(switch, name)
    if backend is None:
        _missing(name)
        return "-ERR"
    return backend.status()
