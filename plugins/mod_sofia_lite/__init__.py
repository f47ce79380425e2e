"""mod_sofia_lite: the SIP endpoint — profiles from sofia.conf.xml, registrar, gateways,
``sofia/...`` dial strings, the ``sofia`` and ``sofia_contact`` APIs (docs/sip.md).

The SIP stack runs on the switch's asyncio loop (``ua.py``, ``transaction.py``,
``transport.py``); anything that may block or touches a session runs on a small set of
worker threads, one per call chosen by Call-ID so a call's events stay in order."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import zlib
from collections.abc import Callable
from typing import Any

import fsd
from fsd.log import ERR, INFO, log
from fsd.module import ModuleInterface, ModuleLoadError
from fsd.truth import is_true

from . import rtp_io
from .auth import Nonces
from .config import parse_profiles
from .gateway import Gateway
from .message import SipUri
from .registrar import Registrar
from .ua import Stack

WORKERS = 4


class Sofia:
    def __init__(self, switch: Any) -> None:
        self.switch = switch
        self.stacks: dict[str, Stack] = {}
        self.aliases: dict[str, str] = {}
        self.gateways: dict[str, Gateway] = {}
        self.registrar = Registrar(self)
        self.nonces = Nonces()
        self.workers = [concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix=f"sofia-w{i}")
                        for i in range(WORKERS)]
        self._reaper: Any = None

    # -- threads -------------------------------------------------------------------------
    def work(self, key: str, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn`` on the worker for ``key`` (a Call-ID): in order per call, never on
        the loop."""
        w = self.workers[zlib.crc32(key.encode()) % len(self.workers)]

        def run() -> None:
            try:
                fn(*args)
            except Exception as e:  # noqa: BLE001
                import traceback

                log(ERR, f"sofia worker: {e!r}\n{traceback.format_exc()}")
        try:
            w.submit(run)
        except RuntimeError:
            pass  # shutting down

    def call_on_loop(self, fn: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Run ``fn`` on the loop from another thread and return its result."""
        async def wrap() -> Any:
            return fn()
        return asyncio.run_coroutine_threadsafe(wrap(), self.switch.loop).result(timeout)

    # -- lookups ---------------------------------------------------------------------------
    def find_profile(self, name: str) -> Stack | None:
        if name in self.stacks:
            return self.stacks[name]
        real = self.aliases.get(name)
        if real is not None:
            return self.stacks.get(real)
        for st in self.stacks.values():
            if st.cfg.domain and st.cfg.domain == name:
                return st
        return None

    def find_gateway(self, name: str) -> Gateway | None:
        return self.gateways.get(name)

    def gateway_for_invite(self, stack: Stack, req_uri: SipUri) -> Gateway | None:
        name = req_uri.params.get("gw") or ""
        if not name and req_uri.user.startswith("gw+"):
            name = req_uri.user[3:]
        gw = self.gateways.get(name) if name else None
        return gw if gw is not None and gw.stack is stack else None

    # -- lifecycle -----------------------------------------------------------------------------
    def load(self) -> None:
        sw = self.switch
        # switch.conf rtp-kernel-timing (default true): RTP packets queued with the
        # kernel for each tick's deadline where io_uring allows (rtp_timed.py).
        settings = getattr(sw, "settings", None) or {}
        rtp_io.set_kernel_timing(is_true(settings.get("rtp-kernel-timing"), True))
        conf = sw.config.get_configuration("sofia.conf") if sw.config is not None else None
        for cfg in parse_profiles(conf, sw.ipv4):
            st = Stack(self, cfg)
            try:
                asyncio.run_coroutine_threadsafe(st.start(), sw.loop).result(10)
            except OSError as e:
                log(ERR, f"profile {cfg.name} cannot listen on {cfg.sip_ip}:{cfg.sip_port}: {e}")
                continue
            self.stacks[cfg.name] = st
            for a in cfg.aliases:
                self.aliases[a] = cfg.name
            for g in cfg.gateways:
                if g.name in self.gateways:
                    log(ERR, f"gateway {g.name} is defined twice; ignoring the second")
                    continue
                self.gateways[g.name] = Gateway(st, g)
            sw.globals.set(f"sofia_{cfg.name}_port", str(st.port))
            log(INFO, f"sofia profile {cfg.name} listening on {cfg.sip_ip}:{st.port} (udp, tcp)")

    def runtime(self) -> None:
        for g in self.gateways.values():
            self.switch.loop.call_soon_threadsafe(g.start)
        self._schedule_reap()
        self._restore()

    def _restore(self) -> None:
        """Bindings kept in the core database (mod_db's DATABASE service) by an earlier run."""
        import time

        from fsd.services import DATABASE

        # mod_db starts its writer in a thread at runtime; wait for it (up to 30 s).
        for _ in range(600):
            db = self.switch.services.get(DATABASE)
            if db is None:
                return
            core = getattr(db, "coredb", None)
            if core is not None:
                self.registrar.restore(core, getattr(self.switch, "switchname", "") or self.switch.hostname)
                return
            time.sleep(0.05)

    def _schedule_reap(self) -> None:
        def tick() -> None:
            self.work("reaper", self.registrar.reap)
            self._reaper = self.switch.loop.call_later(_reap_interval(), tick)
        self._reaper = self.switch.loop.call_soon_threadsafe(
            lambda: setattr(self, "_reaper", self.switch.loop.call_later(_reap_interval(), tick)))

    def shutdown(self) -> None:
        sw = self.switch
        if sw.loop.is_running():
            def stop_all() -> None:
                for g in self.gateways.values():
                    g.stop()
                if self._reaper is not None and hasattr(self._reaper, "cancel"):
                    self._reaper.cancel()
            try:
                self.call_on_loop(stop_all)
                for st in self.stacks.values():
                    asyncio.run_coroutine_threadsafe(st.stop(), sw.loop).result(5)
            except Exception as e:  # noqa: BLE001
                log(ERR, f"sofia shutdown: {e}")
        for w in self.workers:
            w.shutdown(wait=False)


def _reap_interval() -> float:
    try:
        return float(os.environ.get("FSD_SOFIA_REAP_INTERVAL", "5"))
    except ValueError:
        return 5.0


@fsd.hookimpl
def fsd_module_load(module: ModuleInterface) -> None:
    from .api import sofia_api, sofia_contact
    from .outbound import outgoing

    sw = module.switch
    if sw.loop is None or not sw.loop.is_running():
        raise ModuleLoadError("mod_sofia_lite needs the running event loop")
    sofia = Sofia(sw)
    sofia.load()
    module.state["sofia"] = sofia
    module.add_endpoint("sofia", lambda req: outgoing(sofia, req))
    module.add_api("sofia", "Sofia Controls", "<cmd> <args>",
                   lambda args, session, stream: sofia_api(sofia, args or "", session, stream))
    module.add_api("sofia_contact", "Sofia Contacts", "[profile/]<user>@<domain>",
                   lambda args, session, stream: sofia_contact(sofia, args or "", session, stream))


@fsd.hookimpl
def fsd_module_runtime(module: ModuleInterface) -> None:
    sofia: Sofia | None = module.state.get("sofia")
    if sofia is not None:
        module.spawn_thread(sofia.runtime, name="sofia-runtime")


@fsd.hookimpl
def fsd_module_shutdown(module: ModuleInterface) -> None:
    sofia: Sofia | None = module.state.pop("sofia", None)
    if sofia is not None:
        sofia.shutdown()


@fsd.hookimpl
def fsd_status_lines(switch: Any, module: ModuleInterface | None) -> list[str]:
    sofia = module.state.get("sofia") if module is not None else None
    if sofia is None:
        return []
    lines = [f"sofia: {len(sofia.stacks)} profile(s), {len(sofia.registrar.all())} registration(s)"]
    for ptime, mode, streams in rtp_io.send_modes():
        how = ("queued with the kernel for each deadline (io_uring)" if mode == "kernel"
               else "sent by the media clock thread")
        lines.append(f"RTP {ptime} ms: {streams} stream(s), packets {how}")
    return lines


@fsd.hookimpl
def fsd_metrics(switch: Any, module: ModuleInterface | None) -> list[Any]:
    from prometheus_client.core import GaugeMetricFamily

    sofia = module.state.get("sofia") if module is not None else None
    if sofia is None:
        return []
    regs = GaugeMetricFamily("fsd_sip_registrations", "Registered contacts", labels=["profile"])
    tx = GaugeMetricFamily("fsd_sip_transactions", "SIP transactions in progress",
                           labels=["profile", "side"])
    calls = GaugeMetricFamily("fsd_sip_dialogs", "SIP calls (INVITE dialogs)", labels=["profile"])
    for name, st in list(sofia.stacks.items()):
        regs.add_metric([name], sofia.registrar.count(name))
        tx.add_metric([name, "server"], len(st.server_tx))
        tx.add_metric([name, "client"], len(st.client_tx))
        calls.add_metric([name], len(st.calls))
    return [regs, tx, calls]
