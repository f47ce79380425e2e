"""mod_loopback: the ``loopback/``, ``null/`` and ``error/`` endpoints (test endpoints that
need no network).  Everything this module offers is declared in ``fsd_module_load``."""

from __future__ import annotations

from fsd_modules.mod_loopback.endpoints import error_outgoing, loopback_outgoing, null_outgoing

import fsd
from fsd.module import ModuleInterface


@fsd.hookimpl
def fsd_module_load(module: ModuleInterface) -> None:
    module.add_endpoint("loopback", loopback_outgoing)
    module.add_endpoint("null", null_outgoing)
    module.add_endpoint("error", error_outgoing)
    module.add_application("unloop", lambda session, data: None, "Tell loopback to unfold", "")
