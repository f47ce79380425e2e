"""The typed shapes of the plugin contract: what the core hands a module (a session, a
stream, an outgoing request) and what a module hands the core (the callbacks behind
``add_api``, ``add_application``, ``add_endpoint``, ``add_dialplan``, ``add_say``,
``add_file_format``, ``add_chat_application``, ``bind_xml``).

They are ``typing.Protocol`` classes: a module never subclasses them, it writes functions
and objects of that shape, and a type checker holds both sides to it.  The concrete
classes are :class:`fsd.session.Session`, :class:`fsd.api.Stream`,
:class:`fsd.originate.OutgoingRequest`, :class:`fsd.media.files.AudioReader`/``AudioWriter``.
Only what is listed here is the contract; anything else on those classes may change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:  # pragma: no cover
    from fsd.switch import Switch

# Application flags (FreeSWITCH's SAF_*), checked by the core (fsd.session), never by
# the module that runs the application.
APP_SUPPORT_NOMEDIA = 1 << 0  # may run on a channel without media (bypass/proxy)
APP_ROUTING_EXEC = 1 << 1  # may run inline while routing (inline="true")
APP_ZOMBIE_EXEC = 1 << 2  # may run on a hung-up channel


# -- what the core hands a module ----------------------------------------------------------
@runtime_checkable
class SessionLike(Protocol):
    """A channel.  Blocking calls (``sleep``, ``execute``) block the calling thread only and
    return early when the channel hangs up."""

    uuid: str
    name: str
    direction: str  # "inbound" | "outbound"
    switch: Switch

    def get_variable(self, name: str) -> str | None: ...
    def set_variable(self, name: str, value: Any) -> None: ...
    def expand(self, text: str) -> str: ...
    def ready(self) -> bool: ...
    def answered(self) -> bool: ...
    def answer(self) -> bool: ...
    def pre_answer(self) -> bool: ...
    def hangup(self, cause: str | int = "NORMAL_CLEARING") -> bool: ...
    def execute(self, app_name: str, data: str = "", *, expand: bool = True) -> bool: ...
    def transfer(self, extension: str, dialplan: str | None = None,
                 context: str | None = None) -> bool: ...
    def sleep(self, ms: int) -> bool: ...
    def log(self, level: int, text: str) -> None: ...


@runtime_checkable
class ChannelTech(Protocol):
    """What an endpoint implements for each of its channels (``Session.tech``): the core
    calls these when the channel is answered, hung up… and when DTMF is sent to it.
    Subclass :class:`fsd.session.Endpoint` (every method a no-op) and override what the
    technology needs; ``add_endpoint``'s ``outgoing`` creates sessions with one."""

    def on_answer(self, session: SessionLike) -> None: ...
    def on_pre_answer(self, session: SessionLike) -> None: ...
    def on_ring_ready(self, session: SessionLike) -> None: ...
    def on_hangup(self, session: SessionLike, cause: str) -> None: ...
    def on_destroy(self, session: SessionLike) -> None: ...
    def send_dtmf(self, session: SessionLike, digits: str, duration_ms: int) -> None: ...


@runtime_checkable
class StreamLike(Protocol):
    """Where an API command writes its output."""

    def write(self, text: Any) -> None: ...


@runtime_checkable
class OutgoingRequestLike(Protocol):
    """One dial-string target handed to an endpoint (:class:`fsd.originate.OutgoingRequest`)."""

    switch: Switch
    destination: str  # the dial string after "<endpoint>/"
    variables: dict[str, str]  # {…} and […] variables of the dial string
    originator: SessionLike | None
    profile: Any  # fsd.caller_profile.CallerProfile for the new leg


class AudioReaderLike(Protocol):
    """Mono int16 samples at the rate asked for; an empty array means the end."""

    def read(self, n: int) -> Any: ...
    def close(self) -> None: ...


class AudioWriterLike(Protocol):
    def write(self, frame: Any) -> None: ...
    def close(self) -> None: ...


# -- what a module hands the core ------------------------------------------------------------
class ApiFunc(Protocol):
    """``func(args, session, stream)``: ``args`` is the trimmed argument text (``""`` when
    none), ``session`` the calling channel or ``None``.  Return ``False`` for failure (the
    core appends ``COMMAND RETURNED ERROR!``); ``None``/``True`` otherwise."""

    def __call__(self, args: str, session: SessionLike | None, stream: StreamLike) -> bool | None: ...


class AppFunc(Protocol):
    """``func(session, data)``: a dialplan application, run in the channel's thread."""

    def __call__(self, session: SessionLike, data: str) -> None: ...


class ChatAppFunc(Protocol):
    """``func(message_event, data)``: a chatplan application."""

    def __call__(self, message: Any, data: str) -> None: ...


class EndpointOutgoing(Protocol):
    """``outgoing(request) -> session``: create (and start) the outbound channel for one
    target; raise :class:`fsd.session.SessionError` with a hangup cause to refuse."""

    def __call__(self, request: OutgoingRequestLike) -> SessionLike: ...


#: What a dialplan hunt returns: ``(application, data)`` pairs in order, or ``None``/empty
#: when nothing matched.
Extension = Sequence[tuple[str, str]]


class DialplanHunt(Protocol):
    """``hunt(session, args) -> [(app, data), …] | None``: ``args`` is the text after
    ``NAME:`` in the caller profile's dialplan list (``"XML:foo"`` gives ``"foo"``,
    ``""`` when none).  Return ``None`` (or an empty list) when nothing matched."""

    def __call__(self, session: SessionLike, args: str) -> Extension | None: ...


class SayFunc(Protocol):
    """``say(session, text, say_type, say_method, gender) -> [files]``: the sound files
    (or ``tone_stream://`` etc.) to play in order."""

    def __call__(self, session: SessionLike, text: str, say_type: str, say_method: str,
                 gender: str) -> list[str]: ...


class FileReaderFactory(Protocol):
    """``reader(path, rate) -> AudioReader`` for playback at the channel ``rate``."""

    def __call__(self, path: str, rate: int) -> AudioReaderLike: ...


class FileWriterFactory(Protocol):
    """``writer(path, rate) -> AudioWriter`` for recording at ``rate``."""

    def __call__(self, path: str, rate: int) -> AudioWriterLike: ...


class XmlLookup(Protocol):
    """``func(section, tag, key, value, params) -> xml text | None``: answer an XML lookup
    with a FreeSWITCH ``<document>`` text, or ``None`` to let the next source answer."""

    def __call__(self, section: str, tag: str, key: str, value: str,
                 params: Mapping[str, str]) -> str | None: ...


EventCallback = Callable[[Any], None]


# -- the registry records ------------------------------------------------------------------
@dataclass
class ApiInterface:
    name: str
    description: str
    syntax: str
    func: ApiFunc
    module: str = ""


@dataclass
class AppInterface:
    name: str
    func: AppFunc | ChatAppFunc
    short_description: str = ""
    syntax: str = ""
    flags: int = 0
    module: str = ""


@dataclass
class EndpointInterface:
    name: str
    outgoing: EndpointOutgoing
    module: str = ""


@dataclass
class DialplanInterface:
    name: str
    hunt: DialplanHunt
    module: str = ""


@dataclass
class SayInterface:
    language: str
    say: SayFunc
    module: str = ""


@dataclass
class FileFormatInterface:
    """Read by playback and recording (:mod:`fsd.media.files`) before the built-in
    libsndfile formats."""

    name: str
    reader: FileReaderFactory | None
    writer: FileWriterFactory | None = None
    module: str = ""


@dataclass
class XmlBinding:
    sections: set[str]
    func: XmlLookup
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
