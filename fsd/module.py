"""What a module sees of the core while it declares itself: :class:`ModuleInterface`.

Everything a module adds goes through its ``ModuleInterface`` into a registry of the switch
that records the owner (:mod:`fsd.registry`).  A name another module owns is refused with
:class:`~fsd.registry.NameTaken` (the error names both modules) and the load fails;
``unload`` removes exactly what the module added and nothing else.  The callback shapes
are the Protocols of :mod:`fsd.interfaces`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from fsd.interfaces import (  # noqa: F401  (re-exported: the contract's names live here too)
    APP_ROUTING_EXEC,
    APP_SUPPORT_NOMEDIA,
    APP_ZOMBIE_EXEC,
    ApiFunc,
    ApiInterface,
    AppFunc,
    AppInterface,
    ChatAppFunc,
    DialplanHunt,
    DialplanInterface,
    EndpointInterface,
    EndpointOutgoing,
    EventCallback,
    FileFormatInterface,
    FileReaderFactory,
    FileWriterFactory,
    LanguageInterface,
    SayFunc,
    SayInterface,
    XmlBinding,
    XmlLookup,
)
from fsd.registry import ModuleLoadError, NameTaken  # noqa: F401  (re-exported)
from fsd.services import ServiceKey

if TYPE_CHECKING:  # pragma: no cover
    from fsd.switch import Switch

T = TypeVar("T")


@dataclass
class ModuleInterface:
    """The handle a module gets in its hooks.  ``switch`` is the running switch;
    ``state`` is the module's own dict for whatever it keeps between hooks (a module
    keeps no module-global state: the same code may serve two switches in one process)."""

    name: str
    switch: Switch
    plugin: Any = None
    apis: list[str] = field(default_factory=list)
    applications: list[str] = field(default_factory=list)
    chat_applications: list[str] = field(default_factory=list)
    endpoints: list[str] = field(default_factory=list)
    dialplans: list[str] = field(default_factory=list)
    says: list[str] = field(default_factory=list)
    file_formats: list[str] = field(default_factory=list)
    services: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    event_bindings: list[Any] = field(default_factory=list)
    xml_bindings: list[XmlBinding] = field(default_factory=list)
    threads: list[threading.Thread] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)

    @staticmethod
    def _remember(names: list[str], key: str) -> None:
        if key not in names:
            names.append(key)

    # -- declarations (each raises NameTaken when another module owns the name) ---------
    def add_api(self, name: str, description: str, syntax: str, func: ApiFunc) -> None:
        """Register API command ``name``: ``func(args, session, stream) -> bool | None``."""
        key = self.switch.apis.add(name, ApiInterface(name, description, syntax, func, self.name), self.name)
        self._remember(self.apis, key)

    def add_application(self, name: str, func: AppFunc, short_description: str = "",
                        syntax: str = "", flags: int = 0) -> None:
        """Register dialplan application ``name``: ``func(session, data)``.  ``flags``
        (``APP_ROUTING_EXEC``, ``APP_ZOMBIE_EXEC``, ``APP_SUPPORT_NOMEDIA``) say where the
        core lets it run."""
        iface = AppInterface(name, func, short_description, syntax, flags, self.name)
        self._remember(self.applications, self.switch.applications.add(name, iface, self.name))

    def add_chat_application(self, name: str, func: ChatAppFunc) -> None:
        """Register a chatplan application ``func(message_event, data)``."""
        iface = AppInterface(name, func, module=self.name)
        self._remember(self.chat_applications, self.switch.chat_applications.add(name, iface, self.name))

    def add_endpoint(self, name: str, outgoing: EndpointOutgoing) -> None:
        """Register endpoint ``name`` (the first part of a dial string ``name/...``):
        ``outgoing(request) -> Session``."""
        iface = EndpointInterface(name, outgoing, self.name)
        self._remember(self.endpoints, self.switch.endpoints.add(name, iface, self.name))

    def add_dialplan(self, name: str, hunt: DialplanHunt) -> None:
        """Register dialplan type ``name`` (matched case-insensitively):
        ``hunt(session, args) -> [(app, data), …] | None``."""
        iface = DialplanInterface(name, hunt, self.name)
        self._remember(self.dialplans, self.switch.dialplans.add(name, iface, self.name))

    def add_say(self, language: str, say: SayFunc) -> None:
        """Register a say language (``en``)."""
        iface = SayInterface(language, say, self.name)
        self._remember(self.says, self.switch.says.add(language, iface, self.name))

    def add_file_format(self, extension: str, reader: FileReaderFactory | None,
                        writer: FileWriterFactory | None = None) -> None:
        """Register a sound-file format by extension (without the dot): playback opens
        ``.ext`` files with ``reader(path, rate)``, recording with ``writer(path, rate)``.
        Module formats are tried before the built-in libsndfile ones."""
        ext = extension.lower().lstrip(".")
        iface = FileFormatInterface(ext, reader, writer, self.name)
        self._remember(self.file_formats, self.switch.file_formats.add(ext, iface, self.name))

    def add_language(
        self,
        name: str,
        extensions: tuple[str, ...] | list[str] = (),
        *,
        app: Callable[..., Any] | None = None,
        api: Callable[..., Any] | None = None,
        background: Callable[..., Any] | None = None,
        background_api: str = "",
        declare_background_api: bool = True,
        inline: Callable[..., Any] | None = None,
        hangup_hook: Callable[..., Any] | None = None,
        expand: Callable[..., Any] | None = None,
        app_flags: int = APP_SUPPORT_NOMEDIA,
        syntax: str = "<script> [args]",
        app_description: str = "",
        api_description: str = "",
        background_description: str = "",
    ) -> LanguageInterface:
        """Register script language ``name``; see :class:`LanguageInterface`.  Also
        declares, for the entry points given, the application ``name``, the API ``name``
        and the API ``background_api`` (``<name>run`` by default; ``"+OK"`` on start; pass
        ``declare_background_api=False`` to declare it yourself with other texts) — so one
        call is all a language module needs for the dialplan, the CLI, ``${name(...)}``
        and hooks."""
        key = name.lower()
        exts = tuple(e.lower() if e.startswith(".") else "." + e.lower() for e in extensions)
        bg_name = background_api or (f"{key}run" if background is not None else "")
        lang = LanguageInterface(key, exts, app, api, background, bg_name, inline,
                                 hangup_hook, expand, self.name)
        self._remember(self.languages, self.switch.languages.add(key, lang, self.name))
        if app is not None:
            self.add_application(key, app, app_description or f"Launch {name} script",
                                 syntax, app_flags)
        if api is not None:
            self.add_api(key, api_description or "run a script as an api function", syntax, api)
        if background is not None and declare_background_api:
            def run_bg(args: str, session: Any, stream: Any) -> bool | None:
                if not args or not args.strip():
                    stream.write("-ERR no args specified!\n")
                    return None
                ok = background(args.strip())
                stream.write("+OK\n" if ok is not False else "-ERR could not start\n")
                return None

            self.add_api(bg_name, background_description or "run a script", syntax, run_bg)
        return lang

    def add_service(self, key: ServiceKey[T], obj: T) -> None:
        """Offer a service to other modules (``switch.services.get(key)``); see
        :mod:`fsd.services`."""
        self.switch.services.register(key, obj, self.name)
        self._remember(self.services, key.name.lower())

    def bind_event(self, event_name: str, subclass: str | None, callback: EventCallback) -> Any:
        """Call ``callback(event)`` for each fired event of that type (``ALL`` for every
        type).  Runs in the dispatch thread with a copy; must not block for long."""
        binding = self.switch.events.bind(event_name, subclass, callback, owner=self.name)
        self.event_bindings.append(binding)
        return binding

    def bind_xml(self, sections: str | set[str], func: XmlLookup) -> XmlBinding:
        """Answer XML lookups of the given sections (``configuration``, ``directory``,
        ``dialplan``, ``phrases``, ``chatplan``) dynamically."""
        if isinstance(sections, str):
            sections = {s.strip().lower() for s in sections.replace(",", " ").split() if s}
        binding = XmlBinding(set(sections), func, self.name)
        self.switch.xml_bindings.append(binding)
        self.xml_bindings.append(binding)
        return binding

    def spawn_thread(self, target: Callable[..., Any], *args: Any, name: str = "") -> threading.Thread:
        """Start a daemon thread owned by this module (joined briefly on unload)."""
        t = threading.Thread(target=target, args=args, name=name or f"{self.name}-worker", daemon=True)
        self.threads.append(t)
        t.start()
        return t

    # -- removal ------------------------------------------------------------------
    def remove_interfaces(self) -> None:
        """Undo every declaration of this module, and only this module's (called by the
        module loader on unload and after a failed load)."""
        sw = self.switch
        for registry, names in ((sw.apis, self.apis), (sw.applications, self.applications),
                                (sw.chat_applications, self.chat_applications),
                                (sw.endpoints, self.endpoints), (sw.dialplans, self.dialplans),
                                (sw.says, self.says), (sw.file_formats, self.file_formats),
                                (sw.languages, self.languages),
                                (sw.services.entries, self.services)):
            registry.remove_owned(self.name, names)
            names.clear()
        for b in self.event_bindings:
            sw.events.unbind(b)
        for b in self.xml_bindings:
            if b in sw.xml_bindings:
                sw.xml_bindings.remove(b)
        self.event_bindings.clear()
        self.xml_bindings.clear()
