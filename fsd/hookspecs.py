"""The whole contract between the fsd core and its modules.

A module is a plain Python module (or package) registered under the entry-point group
``fsd.modules``; the entry-point name is the module name used in
``conf/autoload/modules.conf.xml`` (e.g. ``mod_commands``).  It implements some of the
hooks below with ``@fsd.hookimpl``.  Nothing else in the core knows the module exists.

Per-module hooks (``fsd_module_load``, ``fsd_module_runtime``, ``fsd_module_shutdown``)
are called **only for the module being loaded or unloaded**, with that module's
:class:`fsd.module.ModuleInterface`.  Broadcast hooks are called for every loaded module.

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
    from fsd.module import ModuleInterface
    from fsd.switch import Switch

hookspec = pluggy.HookspecMarker("fsd")


@hookspec
def fsd_module_load(module: ModuleInterface) -> None:
    """Called once when the module is loaded (at startup or by the ``load`` API).

    Declare every interface here through ``module`` (``add_api``, ``add_application``,
    ``add_endpoint``, ``add_dialplan``, ``add_say``, ``add_file_format``, ``bind_event``,
    ``bind_xml``, ``add_chat_application``) and read the module's configuration with
    ``module.switch.config``.  Raise :class:`fsd.module.ModuleLoadError` (or any exception)
    to refuse loading; the reason is logged and the daemon goes on unless the
    modules.conf.xml entry says ``critical="true"``.  The return value is ignored.
    """


@hookspec
def fsd_module_runtime(module: ModuleInterface) -> None:
    """Called after every module of the startup list has loaded (or right after a later
    ``load``), in the thread that started the switch (not the event loop's).  Start
    background tasks here: schedule coroutines on ``module.switch.loop`` with
    ``module.switch.run_coroutine`` or start threads with ``module.spawn_thread``.
    Must not block for long.  (A listener whose port may be taken is better started in
    ``fsd_module_load``, so that a failure refuses the module with a clear reason.)"""


@hookspec
def fsd_module_shutdown(module: ModuleInterface) -> None:
    """Called when the module is unloaded or the switch shuts down, before its interfaces
    are removed.  Close sockets, stop threads, flush what must not be lost."""


@hookspec
def fsd_session_created(switch: Switch, session: Any) -> None:
    """Broadcast: a new session (channel) exists, before CHANNEL_CREATE is fired.  Used
    by modules that attach per-channel state.  Must not block."""


@hookspec
def fsd_session_destroyed(switch: Switch, session: Any) -> None:
    """Broadcast: a session reached CS_DESTROY and left the sessions table."""


@hookspec
def fsd_status_lines(switch: Switch) -> list[str]:
    """Broadcast, from the ``status`` API: extra lines a module wants appended (each
    without a trailing newline).  Return ``[]`` or ``None`` for nothing."""


# -- metrics (mod_xml_rpc's /metrics) ----------------------------------------------------


@hookspec
def fsd_metrics(switch: Switch) -> list[Any]:
    """Broadcast, each time ``/metrics`` is scraped: the module's own metrics as a list of
    ``prometheus_client`` metric families (``GaugeMetricFamily``, ``CounterMetricFamily``,
    ``HistogramMetricFamily``…), read from the module's live state.  Name them ``fsd_…``;
    a counter's name is given without ``_total``.  Must be quick and must not block (it
    runs on the HTTP worker threads).  Return ``[]`` or ``None`` for nothing."""
