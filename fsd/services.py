"""The service registry: how modules find each other's services without importing
each other.

A module that offers a service registers an object under a :class:`ServiceKey` in its
load hook (``module.add_service(DATABASE, obj)``); a module that needs one asks the switch
when it needs it (``switch.services.get(DATABASE)``), and copes with ``None`` (the provider
is not loaded).  The registry records the owner: unloading the provider removes its
services, and a second module cannot take a key another module owns.

The well-known keys and the Protocol each object satisfies are below; a key's ``type``
is checked at registration (method names, through ``runtime_checkable``).  Third-party
modules define their own keys the same way: ``ServiceKey("acme.billing", Billing)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable

from fsd.registry import ModuleLoadError, Registry

T = TypeVar("T")


@dataclass(frozen=True)
class ServiceKey(Generic[T]):
    """A service's name and the type (usually a Protocol) its object satisfies."""

    name: str
    type: type[T]
    description: str = ""


@runtime_checkable
class DbHandleLike(Protocol):
    """A pooled database handle (``freeswitch.Dbh`` in Lua)."""

    def connected(self) -> bool: ...
    def release(self) -> bool: ...
    def query(self, sql: str, callback: Any = None) -> bool: ...
    def test_reactive(self, test_sql: str | None, drop_sql: str | None = None,
                      reactive_sql: str | None = None) -> bool: ...
    def affected_rows(self) -> int: ...
    def last_error(self) -> str | None: ...


@runtime_checkable
class DatabaseService(Protocol):
    """Database handles from pools keyed by DSN (mod_db)."""

    #: The core database (channels, calls, registrations) once its writer started, else
    #: ``None``; offers ``query(sql)``, ``flush()`` and the registration calls.
    coredb: Any

    def connect(self, dsn: str, user: str | None = None, password: str | None = None, *,
                owner: Any = None, cancel: Any = None) -> DbHandleLike:
        """A handle leased for ``owner``; a failed connection gives a handle whose
        ``connected()`` is False (the reason is logged).  ``cancel`` (a
        ``threading.Event``, e.g. a script's kill flag) ends a wait for a free handle."""
        ...

    def release_owner(self, owner: Any) -> None:
        """Return every handle ``owner`` still holds (a script ended)."""
        ...


@runtime_checkable
class MailerService(Protocol):
    """Sending mail as FreeSWITCH's switch_simple_email does (mod_email)."""

    def send(self, to: str, from_: str = "", headers: str = "", body: str = "",
             file: str | None = None, convert_cmd: str | None = None,
             convert_ext: str | None = None) -> bool:
        """True when delivered or safely queued for retry; False (reason logged) when
        refused."""
        ...


DATABASE: ServiceKey[DatabaseService] = ServiceKey(
    "database", DatabaseService, "pooled database handles (mod_db)")
MAILER: ServiceKey[MailerService] = ServiceKey(
    "mailer", MailerService, "outgoing mail (mod_email)")


@dataclass
class ServiceEntry:
    key: ServiceKey[Any]
    obj: Any
    module: str


class ServiceRegistry:
    """``switch.services``: typed lookups of what loaded modules offer."""

    def __init__(self) -> None:
        self.entries: Registry[ServiceEntry] = Registry("service")

    def register(self, key: ServiceKey[T], obj: T, owner: str) -> None:
        """Offer ``obj`` as ``key`` on behalf of module ``owner`` (``module.add_service``
        calls this and remembers it for unload)."""
        kind = key.type
        if getattr(kind, "_is_runtime_protocol", False) or not getattr(kind, "_is_protocol", False):
            if not isinstance(obj, kind):
                raise ModuleLoadError(f"module {owner}: service {key.name} must be a "
                                      f"{kind.__name__}, got {type(obj).__name__}")
        self.entries.add(key.name, ServiceEntry(key, obj, owner), owner)

    def get(self, key: ServiceKey[T]) -> T | None:
        """The object offered as ``key``, or ``None`` when no loaded module offers it."""
        entry = self.entries.get(key.name.lower())
        return None if entry is None else entry.obj

    def owner(self, key: ServiceKey[Any]) -> str | None:
        return self.entries.owner(key.name)

    def names(self) -> list[tuple[str, str]]:
        """``(service, module)`` pairs, sorted."""
        return sorted((e.key.name, e.module) for e in self.entries.values())
