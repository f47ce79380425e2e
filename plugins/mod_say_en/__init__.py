"""mod_say_en: English say (numbers, money, dates and times, IP addresses, spelling).

Declares the ``en`` say interface.  It also reports the media clock's figures in
``status`` (the media engine has no module of its own, and this is the media module that
is always loaded)."""

from __future__ import annotations

from typing import Any

from fsd_modules.mod_say_en.say import en_say

import fsd
from fsd.module import ModuleInterface


@fsd.hookimpl
def fsd_module_load(module: ModuleInterface) -> None:
    module.add_say("en", en_say)


@fsd.hookimpl
def fsd_status_lines(switch: Any) -> list[str]:
    from fsd.media.clock import all_stats

    lines = []
    for st in all_stats():
        lines.append(
            f"media clock {st['ptime_ms']} ms: {st['ports']} port(s), {st['ticks']} ticks, "
            f"late p50 {st['late_p50_ms']:.2f} ms p99 {st['late_p99_ms']:.2f} ms "
            f"max {st['late_max_ms']:.2f} ms, work {st['work_mean_ms']:.2f} ms/tick, "
            f"overruns {st['overruns']}, priority {st['priority']}")
    return lines
