"""mod_dialplan_xml: FreeSWITCH's XML dialplan (the ``XML`` dialplan type).

The logic lives in :mod:`.hunt` (contexts and extensions), :mod:`.conditions` (conditions,
actions, break rules), :mod:`.regexmatch` (PCRE-style matching and ``$N``) and
:mod:`.timematch` (time-of-day conditions).  See docs/dialplan.md.
"""

from __future__ import annotations

from typing import Any

import fsd

from .conditions import Extension
from .hunt import hunt

__all__ = ["Extension", "hunt"]


@fsd.hookimpl
def fsd_module_load(module: Any) -> None:
    module.add_dialplan("XML", hunt)
