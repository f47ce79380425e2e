"""The whole contract between the fsd core and its modules.

A module is a plain Python module (or package) registered under the entry-point group
``fsd.modules``; the entry-point name is the module name used in
``conf/autoload/modules.conf.xml`` (e.g. ``mod_commands``).  It implements some of the
hooks below with ``@fsd.hookimpl`` and declares its interfaces through the
:class:`fsd.module.ModuleInterface` it gets at load.  Nothing else in the core knows the
module exists.  The shapes of sessions and callbacks are the Protocols of
:mod:`fsd.interfaces`; modules find each other's services through
``switch.services`` (:mod:`fsd.services`), never by importing each other.

Hooks come in three kinds, grouped below by when they run in a module's and a channel's
life:

* **per-module** (``fsd_module_*``): called only for the module being loaded or unloaded;
  an exception refuses the load (load) or is logged (runtime, shutdown);
* **broadcast**: called for every loaded module, each on its own — one raising is logged
  with its module's name and the others still run; return values are collected;
* **first-result**: modules are asked in turn (last loaded first) until one returns
  something other than ``None``; one raising is logged and the next is asked.

Broadcast and first-result hooks may also take ``module``: the implementing module's own
``ModuleInterface`` (``None`` for a plugin registered without being loaded), so a module
keeps its state in ``module.state`` and needs no module globals.  As with every pluggy
hook, an implementation lists only the arguments it uses.

Hooks run in the thread named in their docstring and must not block for long unless it
says otherwise.  :data:`CONTRACT_VERSION` says which contract a module is built against.

Example (the smallest useful module)::

    import fsd

    @fsd.hookimpl
    def fsd_module_load(module):
        module.add_api("hello", "say hello", "hello [name]",
                       lambda args, session, stream: stream.write(f"hello {args}\\n"))
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:  # pragma: no cover
    from fsd.interfaces import Extension, OutgoingRequestLike, SessionLike
    from fsd.module import ModuleInterface
    from fsd.switch import Switch

#: The plugin contract's version, ``(major, minor)``: the minor grows when hooks or
#: ``ModuleInterface`` methods are added (a module needing one checks
#: ``fsd.CONTRACT_VERSION >= (1, n)``), the major when anything is removed or changes
#: meaning.  1.0: the module hooks, session created/destroyed, status lines.  1.1: typed
#: callbacks, owned registries and services, fsd_channel_state, fsd_outgoing_channel,
#: fsd_dialplan_hunt, fsd_metrics.
CONTRACT_VERSION: tuple[int, int] = (1, 1)

hookspec = pluggy.HookspecMarker("fsd")


# == 1. A module's life (per-module) =========================================================
@hookspec
def fsd_module_load(module: ModuleInterface) -> None:
    """**When**: once, when the module is loaded (at startup in modules.conf.xml order, or
    by the ``load`` API); in the thread that loads it.

    **With**: the module's own ``ModuleInterface``.  Declare every interface here
    (``add_api``, ``add_application``, ``add_endpoint``, ``add_dialplan``, ``add_say``,
    ``add_file_format``, ``add_chat_application``, ``add_service``, ``bind_event``,
    ``bind_xml``) and read configuration through ``module.switch.config``.

    **Returns**: nothing.  Raise :class:`fsd.module.ModuleLoadError` (or any exception)
    to refuse loading: what the module already declared is removed, the reason is logged
    and the daemon goes on unless the modules.conf.xml entry says ``critical="true"``.
    Declaring a name another module owns raises :class:`fsd.registry.NameTaken`, which
    refuses the load the same way."""


@hookspec
def fsd_module_runtime(module: ModuleInterface) -> None:
    """**When**: after every module of the startup list has loaded (or right after a later
    ``load``), in the thread that started the switch (not the event loop's).

    **With**: the module's ``ModuleInterface``.  Start background work here: coroutines on
    ``module.switch.loop`` through ``module.switch.run_coroutine``, threads through
    ``module.spawn_thread``.  Services of other modules are all registered by now.

    **Returns**: nothing; must not block for long.  (A listener whose port may be taken is
    better opened in ``fsd_module_load``, so that a failure refuses the module.)"""


@hookspec
def fsd_module_shutdown(module: ModuleInterface) -> None:
    """**When**: the module is unloaded (``unload``/``reload`` API) or the switch shuts
    down (modules in reverse load order), before its interfaces are removed.

    **With**: the module's ``ModuleInterface``.  Close sockets, stop threads, flush what
    must not be lost; a listener on the loop is stopped with
    ``module.switch.finish_on_loop(server.stop(), "my listener")``, which waits for it from
    here and only schedules it when called on the loop.  **Returns**: nothing; an exception
    is logged."""


# == 2. A channel's life (broadcast) =========================================================
@hookspec
def fsd_session_created(switch: Switch, session: SessionLike,
                        module: ModuleInterface | None) -> None:
    """**When**: a new channel exists (inbound or outbound), before CHANNEL_CREATE is
    fired and before its thread starts; in the creating thread.

    **With**: the switch and the new session.  Attach per-channel state here.
    **Returns**: nothing; must not block."""


@hookspec
def fsd_outgoing_channel(switch: Switch, originator: SessionLike | None, leg: SessionLike,
                         request: OutgoingRequestLike, module: ModuleInterface | None) -> None:
    """**When**: an endpoint has just created an outbound leg for a dial-string target
    (``originate``, ``bridge``, ``user/``, a loopback pair…), before the core waits for
    it to answer; in the originating thread.  The leg's own thread may already run.

    **With**: the switch, the originating channel (``None`` for the ``originate`` API),
    the new leg and the endpoint's request (``request.destination``,
    ``request.variables``).  **Returns**: nothing; must not block."""


@hookspec
def fsd_channel_state(switch: Switch, session: SessionLike, old: str, new: str,
                      module: ModuleInterface | None) -> None:
    """**When**: a channel's running state changed (``CS_ROUTING`` → ``CS_EXECUTE`` …),
    right after CHANNEL_STATE is fired; in the thread that made the change (usually the
    channel's own).  Called once per change, never for a repeated state.

    **With**: the switch, the session, the old and the new state names.
    **Returns**: nothing; must not block (it delays the call it reports on)."""


@hookspec
def fsd_session_destroyed(switch: Switch, session: SessionLike,
                          module: ModuleInterface | None) -> None:
    """**When**: a channel reached CS_DESTROY and left the sessions table; in its thread.

    **With**: the switch and the session (its variables are still readable).
    **Returns**: nothing.  Drop what ``fsd_session_created`` attached."""


# == 3. Routing (first result) ===============================================================
@hookspec(firstresult=True)
def fsd_dialplan_hunt(switch: Switch, session: SessionLike, dialplan: str, args: str,
                      module: ModuleInterface | None) -> Extension | None:
    """**When**: a channel is routed (CS_ROUTING), once for each dialplan named in its
    caller profile (``"XML"``, ``"inline"``, ``"XML,LUA"`` gives two), *before* the
    dialplan registered under that name with ``add_dialplan``; in the channel's thread.

    **With**: the switch, the session, the dialplan name as written, and the text after
    ``name:`` (``""`` when none).

    **Returns**: ``None`` to let the next module, then the registered dialplan, answer; or
    the extension as ``[(application, data), …]`` — the first module to answer wins and
    the registered dialplan is not consulted.  An empty list means "found, nothing to
    run"."""


# == 4. Reporting (broadcast) ================================================================
@hookspec
def fsd_status_lines(switch: Switch, module: ModuleInterface | None) -> list[str] | None:
    """**When**: the ``status`` API runs; in the API's thread.

    **With**: the switch.  **Returns**: extra lines to append (each without a trailing
    newline), ``[]`` or ``None`` for nothing."""


@hookspec
def fsd_metrics(switch: Switch, module: ModuleInterface | None) -> list[Any] | None:
    """**When**: each time mod_xml_rpc's ``/metrics`` is scraped; on the HTTP worker
    threads.

    **With**: the switch.  **Returns**: the module's own metrics as a list of
    ``prometheus_client`` metric families (``GaugeMetricFamily``, ``CounterMetricFamily``,
    ``HistogramMetricFamily``…), read from the module's live state; ``[]`` or ``None`` for
    nothing.  Name them ``fsd_…``; a counter's name is given without ``_total``.  Must be
    quick and must not block."""


# Further hooks are added below their lifecycle group, with a CONTRACT_VERSION minor bump.
