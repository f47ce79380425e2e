"""What a module sees of the core while it declares itself: :class:`ModuleInterface`.

Everything a module adds goes through its ``ModuleInterface``; the interface remembers it,
so ``unload`` removes exactly what the module added and nothing else.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from fsd.switch import Switch


class ModuleLoadError(Exception):
    """Raised by a module's load hook to refuse loading, with a reason for the log."""


# Application flags (FreeSWITCH's SAF_*): where an application may run.
APP_SUPPORT_NOMEDIA = 1 << 0
APP_ROUTING_EXEC = 1 << 1  # may run inline while routing (inline="true")
APP_ZOMBIE_EXEC = 1 << 2  # may run on a hung-up channel


@dataclass
class ApiInterface:
    """An API command: ``func(args: str, session, stream) -> bool | None``.

    ``args`` is the trimmed argument text (``""`` when none), ``session`` the calling
    session or ``None``, ``stream`` an :class:`fsd.api.Stream` whose ``write`` builds the
    output.  Return ``False`` for failure (the core appends ``COMMAND RETURNED ERROR!``)."""

    name: str
    description: str
    syntax: str
    func: Callable[..., Any]
    module: str = ""


@dataclass
class AppInterface:
    """A dialplan application: ``func(session, data: str) -> None``."""

    name: str
    func: Callable[..., Any]
    short_description: str = ""
    syntax: str = ""
    flags: int = 0
    module: str = ""


@dataclass
class EndpointInterface:
    """An endpoint (``loopback``, ``null``, ``sofia``…).

    ``outgoing(request) -> Session`` creates the outbound channel for one dial-string
    target; see :mod:`fsd.originate` for the request object."""

    name: str
    outgoing: Callable[..., Any]
    module: str = ""


@dataclass
class DialplanInterface:
    """A dialplan (``XML``, ``LUA``): ``hunt(session) -> list[(app, data)] | None``.

    Return ``None`` (or an empty list) when nothing matched."""

    name: str
    hunt: Callable[..., Any]
    module: str = ""


@dataclass
class SayInterface:
    """A say language: ``say(session, text, say_type, say_method, gender) -> list[str]``
    returning the sound files (or ``tone_stream://`` etc.) to play in order."""

    language: str
    say: Callable[..., Any]
    module: str = ""


@dataclass
class XmlBinding:
    """A dynamic XML lookup handler: ``func(section, tag, key, value, params) -> str|None``
    returning an XML document text (FreeSWITCH's ``<document>`` form) or ``None``."""

    sections: set[str]
    func: Callable[..., Any]
    module: str = ""


@dataclass
class LanguageInterface:
    """A script language (``lua``, ``python``…).  Every entry point is optional; the core
    routes what is generic through them (see :mod:`fsd.scripting.languages`):

    * ``app(session, data)`` — the dialplan application ``<name>`` (run a script on a call);
    * ``api(args, session, stream)`` — the API ``<name>``: ``stream`` is the output and
      ``stream.param_event`` the ``env`` event; ``session`` is ``None`` outside a call;
    * ``background(args) -> bool`` — start a script in its own thread (API
      ``background_api``, e.g. ``luarun``/``pyrun``);
    * ``inline(code, session) -> str | None`` — run a piece of source text;
    * ``hangup_hook(session, args, env)`` — ``api_hangup_hook=<name> args`` (without it
      the core runs the API ``<name>`` as for any other command);
    * ``expand(args, session) -> str`` — ``${<name>(args)}`` (without it: the API).

    ``extensions`` (``(".lua",)``) let the core pick the language of a script file."""

    name: str
    extensions: tuple[str, ...] = ()
    app: Callable[..., Any] | None = None
    api: Callable[..., Any] | None = None
    background: Callable[..., Any] | None = None
    background_api: str = ""
    inline: Callable[..., Any] | None = None
    hangup_hook: Callable[..., Any] | None = None
    expand: Callable[..., Any] | None = None
    module: str = ""


@dataclass
class ModuleInterface:
    """The handle a module gets in its hooks.  ``switch`` is the running switch."""

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
    event_bindings: list[Any] = field(default_factory=list)
    xml_bindings: list[XmlBinding] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    threads: list[threading.Thread] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)

    # -- declarations -------------------------------------------------------------
    def add_api(self, name: str, description: str, syntax: str, func: Callable[..., Any]) -> None:
        """Register API command ``name``; see :class:`ApiInterface` for ``func``."""
        self.switch.apis[name.lower()] = ApiInterface(name, description, syntax, func, self.name)
        self.apis.append(name.lower())

    def add_application(
        self,
        name: str,
        func: Callable[..., Any],
        short_description: str = "",
        syntax: str = "",
        flags: int = 0,
    ) -> None:
        """Register dialplan application ``name``; see :class:`AppInterface`."""
        self.switch.applications[name.lower()] = AppInterface(
            name, func, short_description, syntax, flags, self.name
        )
        self.applications.append(name.lower())

    def add_chat_application(self, name: str, func: Callable[..., Any]) -> None:
        """Register a chatplan application ``func(message_event, data)``."""
        self.switch.chat_applications[name.lower()] = AppInterface(name, func, module=self.name)
        self.chat_applications.append(name.lower())

    def add_endpoint(self, name: str, outgoing: Callable[..., Any]) -> None:
        """Register endpoint ``name`` (the first part of a dial string ``name/...``)."""
        self.switch.endpoints[name.lower()] = EndpointInterface(name, outgoing, self.name)
        self.endpoints.append(name.lower())

    def add_dialplan(self, name: str, hunt: Callable[..., Any]) -> None:
        """Register dialplan type ``name`` (matched case-insensitively)."""
        self.switch.dialplans[name.lower()] = DialplanInterface(name, hunt, self.name)
        self.dialplans.append(name.lower())

    def add_say(self, language: str, say: Callable[..., Any]) -> None:
        """Register a say language (``en``)."""
        self.switch.says[language.lower()] = SayInterface(language, say, self.name)
        self.says.append(language.lower())

    def add_file_format(self, extension: str, opener: Callable[..., Any]) -> None:
        """Register a sound-file format by extension: ``opener(path, mode, rate)``."""
        self.switch.file_formats[extension.lower()] = opener
        self.file_formats.append(extension.lower())

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
        self.switch.languages[key] = lang
        self.languages.append(key)
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

    def bind_event(
        self, event_name: str, subclass: str | None, callback: Callable[..., Any]
    ) -> Any:
        """Call ``callback(event)`` for each fired event of that type (``ALL`` for every
        type).  Runs in the dispatch thread with a copy; must not block for long."""
        binding = self.switch.events.bind(event_name, subclass, callback, owner=self.name)
        self.event_bindings.append(binding)
        return binding

    def bind_xml(self, sections: str | set[str], func: Callable[..., Any]) -> XmlBinding:
        """Answer XML lookups of the given sections (``configuration``, ``directory``,
        ``dialplan``, ``phrases``, ``chatplan``) dynamically; see :class:`XmlBinding`."""
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
        """Undo every declaration (called by the module loader on unload)."""
        sw = self.switch
        for n in self.apis:
            if sw.apis.get(n) and sw.apis[n].module == self.name:
                del sw.apis[n]
        for n in self.applications:
            if sw.applications.get(n) and sw.applications[n].module == self.name:
                del sw.applications[n]
        for n in self.chat_applications:
            sw.chat_applications.pop(n, None)
        for n in self.endpoints:
            sw.endpoints.pop(n, None)
        for n in self.dialplans:
            sw.dialplans.pop(n, None)
        for n in self.says:
            sw.says.pop(n, None)
        for n in self.file_formats:
            sw.file_formats.pop(n, None)
        for n in self.languages:
            lang = sw.languages.get(n)
            if lang is not None and lang.module == self.name:
                del sw.languages[n]
        self.languages.clear()
        for b in self.event_bindings:
            sw.events.unbind(b)
        for b in self.xml_bindings:
            if b in sw.xml_bindings:
                sw.xml_bindings.remove(b)
        self.apis.clear()
        self.applications.clear()
        self.event_bindings.clear()
        self.xml_bindings.clear()
