"""Module discovery (entry-point group ``fsd.modules``), load, unload and reload.

A module is loaded by importing its entry point, registering it with pluggy, and calling
its ``fsd_module_load`` hook alone.  Unloading calls ``fsd_module_shutdown``, removes every
interface the module declared (its :class:`ModuleInterface` remembers them) and unregisters
it.  MODULE_LOAD / MODULE_UNLOAD events are fired for each interface, as FreeSWITCH does.

``fsd_module_load`` and ``fsd_module_runtime`` run on a thread of their own under
switch.conf.xml's ``module-load-timeout`` (see :mod:`fsd.hook_timeout`): a load that hangs
is refused naming the module, and one that calls ``sys.exit`` or raises any
``BaseException`` is refused with what it raised instead of ending the daemon.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Iterator
from importlib import metadata
from typing import TYPE_CHECKING, Any

import pluggy

from fsd import hookspecs
from fsd.hook_timeout import HookTimeout, call_bounded, hook_timeout
from fsd.log import ERR, INFO, log
from fsd.module import ModuleInterface, ModuleLoadError

if TYPE_CHECKING:  # pragma: no cover
    from fsd.switch import Switch

ENTRY_POINT_GROUP = "fsd.modules"


def available_modules() -> dict[str, metadata.EntryPoint]:
    """Every installed module, by name."""
    return {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}


class ModuleManager:
    """Loads and unloads the switch's modules."""

    def __init__(self, switch: Switch) -> None:
        self.switch = switch
        self.pm = pluggy.PluginManager("fsd")
        self.pm.add_hookspecs(hookspecs)
        self.loaded: dict[str, ModuleInterface] = {}
        self.load_times: dict[str, float] = {}
        self._lock = threading.RLock()

    def _call_one(self, hook_name: str, plugin: Any, **kwargs: Any) -> None:
        others = [p for p in self.pm.get_plugins() if p is not plugin]
        caller = self.pm.subset_hook_caller(hook_name, remove_plugins=others)
        caller(**kwargs)

    def load(self, name: str, run_runtime: bool = True) -> ModuleInterface:
        """Load module ``name``; raises :class:`ModuleLoadError` with the reason."""
        with self._lock:
            if name in self.loaded:
                raise ModuleLoadError(f"Module {name} Already Loaded!")
            eps = available_modules()
            ep = eps.get(name)
            if ep is None:
                raise ModuleLoadError(f"module {name} is not installed (no '{ENTRY_POINT_GROUP}' entry point)")
            try:
                plugin = ep.load()
            except Exception as e:
                raise ModuleLoadError(f"module {name} failed to import: {type(e).__name__}: {e}") from e
            if self.pm.is_registered(plugin):
                self.pm.unregister(plugin)
            self._check_hooks(name, plugin)
            try:
                self.pm.register(plugin, name=name)
            except pluggy.PluginValidationError as e:
                reason = " ".join(str(e).split())
                raise ModuleLoadError(f"module {name} does not fit the plugin contract: {reason}") from e
            mi = ModuleInterface(name=name, switch=self.switch, plugin=plugin)
            try:
                call_bounded(name, "fsd_module_load", lambda: self._call_one(
                    "fsd_module_load", plugin, module=mi), self._timeout(),
                    on_late_return=mi.remove_interfaces)
            except BaseException as e:  # noqa: BLE001 - a module's sys.exit names the module
                mi.remove_interfaces()
                self.pm.unregister(plugin)
                if isinstance(e, ModuleLoadError):
                    raise
                if isinstance(e, HookTimeout):
                    raise ModuleLoadError(str(e)) from None
                if not isinstance(e, Exception):
                    log(ERR, traceback.format_exc())
                    raise ModuleLoadError(f"module {name} failed to load: it raised "
                                          f"{type(e).__name__}({e!s}) in fsd_module_load") from None
                log(ERR, traceback.format_exc())
                raise ModuleLoadError(f"module {name} failed to load: {type(e).__name__}: {e}") from e
            self.loaded[name] = mi
            self.load_times[name] = time.time()
            self._fire_interfaces("MODULE_LOAD", mi)
            log(INFO, f"Successfully Loaded [{name}]")
        if run_runtime:
            self.runtime(name)
        return mi

    def _check_hooks(self, name: str, plugin: Any) -> None:
        """Refuse a module implementing a hook the contract does not have (a typo such as
        ``fsd_chanel_state`` would otherwise never be called, silently)."""
        for attr in dir(plugin):
            opts = self.pm.parse_hookimpl_opts(plugin, attr)
            if opts is None or opts.get("optionalhook"):
                continue
            caller = getattr(self.pm.hook, attr, None)
            if caller is None or not caller.has_spec():
                raise ModuleLoadError(
                    f"module {name}: {attr} is not a hook of fsd's plugin contract "
                    f"{'.'.join(map(str, hookspecs.CONTRACT_VERSION))} (see fsd/hookspecs.py)")

    def runtime(self, name: str) -> None:
        mi = self.loaded.get(name)
        if mi is None:
            return
        try:
            call_bounded(name, "fsd_module_runtime", lambda: self._call_one(
                "fsd_module_runtime", mi.plugin, module=mi), self._timeout())
        except HookTimeout as e:
            # The hook goes on in its thread (as a FreeSWITCH runtime thread would); the
            # switch does not wait for it.
            log(ERR, f"{e}; left running, startup goes on")
        except BaseException as e:  # noqa: BLE001 - a module's sys.exit names the module
            log(ERR, f"module {name} runtime failed: {type(e).__name__}: {e}\n{traceback.format_exc()}")

    def _timeout(self) -> float:
        return hook_timeout(getattr(self.switch, "settings", None))

    def unload(self, name: str) -> None:
        with self._lock:
            mi = self.loaded.get(name)
            if mi is None:
                raise ModuleLoadError(f"module {name} is not loaded")
            try:
                self._call_one("fsd_module_shutdown", mi.plugin, module=mi)
            except Exception as e:
                log(ERR, f"module {name} shutdown failed: {e}\n{traceback.format_exc()}")
            self._fire_interfaces("MODULE_UNLOAD", mi)
            mi.remove_interfaces()
            for t in mi.threads:
                t.join(timeout=1.0)
            self.pm.unregister(mi.plugin)
            del self.loaded[name]
            self.load_times.pop(name, None)
            log(INFO, f"Stopping: {name}")

    def unload_all(self) -> None:
        for name in reversed(list(self.loaded)):
            try:
                self.unload(name)
            except ModuleLoadError:
                pass

    def broadcast(self, hook_name: str, **kwargs: Any) -> list[Any]:
        """Call a broadcast hook on every loaded module, each on its own: one raising is
        logged with its module's name and the others still run.  Returns the non-``None``
        results in pluggy's order (last registered first)."""
        return list(self._results(hook_name, kwargs))

    def first_result(self, hook_name: str, **kwargs: Any) -> Any:
        """Call a ``firstresult`` hook: modules in turn until one returns non-``None``.  A
        module raising is logged with its name and the next one is asked."""
        return next(self._results(hook_name, kwargs), None)

    def _results(self, hook_name: str, kwargs: dict[str, Any]) -> Iterator[Any]:
        """Each implementation's non-``None`` result, lazily, in pluggy's call order."""
        for impl in reversed(getattr(self.pm.hook, hook_name).get_hookimpls()):
            if impl.hookwrapper or impl.wrapper:
                continue  # wrappers are not part of fsd's contract
            # ``module`` is each implementation's own ModuleInterface, not a shared argument
            args = [self.loaded.get(impl.plugin_name) if a == "module" else kwargs[a]
                    for a in impl.argnames]
            try:
                res = impl.function(*args)
            except Exception as e:
                log(ERR, f"module {impl.plugin_name}: hook {hook_name} failed: "
                         f"{type(e).__name__}: {e}\n{traceback.format_exc()}")
                continue
            if res is not None:
                yield res

    def _fire_interfaces(self, event_name: str, mi: ModuleInterface) -> None:
        from fsd.events import Event

        kinds = [("api", mi.apis), ("application", mi.applications), ("endpoint", mi.endpoints),
                 ("dialplan", mi.dialplans), ("say", mi.says), ("file", mi.file_formats)]
        fired = False
        for kind, names in kinds:
            for n in names:
                ev = Event(event_name)
                ev.add_header("type", kind)
                ev.add_header("name", n)
                ev.add_header("key", mi.name)
                ev.add_header("filename", mi.name)
                self.switch.events.fire(ev)
                fired = True
        if not fired:
            ev = Event(event_name)
            ev.add_header("type", "generic")
            ev.add_header("name", mi.name)
            ev.add_header("key", mi.name)
            self.switch.events.fire(ev)
