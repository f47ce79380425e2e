"""``limit_usage``, ``limit_hash_usage``, ``limit_status``, ``limit_reset`` and
``limit_interval_reset`` (mod_commands.c) over the core limit subsystem (fsd.limit)."""

from __future__ import annotations

from typing import Any

from fsd import limit
from fsd.log import WARNING, log

USAGE_SYNTAX = "<backend> <realm> <id> [rate]"
HASH_USAGE_SYNTAX = "<realm> <id> [rate] (Using deprecated limit api, check limit_usage with backend param)"
STATUS_SYNTAX = "<backend>"
RESET_SYNTAX = "<backend>"
INTERVAL_RESET_SYNTAX = "<backend> <realm> <resource>"


class LimitApis:
    def __init__(self, switch: Any) -> None:
        self.switch = switch

    def usage(self, args: str, session: Any, stream: Any) -> None:
        argv = (args or "").split()[:5]
        if len(argv) == 2:
            log(WARNING, "Using deprecated limit api: Please specify backend.  Defaulting to "
                         "'db' backend.\n")
            argv = ["db", *argv]
        if len(argv) < 3:
            stream.write(f"USAGE: limit_usage {USAGE_SYNTAX}\n")
            return
        count, rate = limit.usage(self.switch, argv[0], argv[1], argv[2]) or (0, 0)
        if len(argv) > 3 and argv[3].lower() == "rate":
            stream.write(f"{count}/{rate}")
        else:
            stream.write(str(count))

    def hash_usage(self, args: str, session: Any, stream: Any) -> None:
        if not (args or "").strip():
            stream.write(f"USAGE: limit_hash_usage {HASH_USAGE_SYNTAX}\n")
            return
        self.usage(f"hash {args}", session, stream)

    def status(self, args: str, session: Any, stream: Any) -> None:
        argv = (args or "").split()
        if not argv:
            stream.write(f"USAGE: limit_status {STATUS_SYNTAX}\n")
            return
        stream.write(limit.status(self.switch, argv[0]))

    def reset(self, args: str, session: Any, stream: Any) -> None:
        argv = (args or "").split()
        if not argv:
            stream.write(f"USAGE: limit_reset {RESET_SYNTAX}\n")
            return
        stream.write("+OK" if limit.reset(self.switch, argv[0]) else "-ERR")

    def interval_reset(self, args: str, session: Any, stream: Any) -> None:
        argv = (args or "").split()
        if len(argv) < 3:
            stream.write(f"USAGE: limit_interval_reset {INTERVAL_RESET_SYNTAX}\n")
            return
        limit.interval_reset(self.switch, argv[0], argv[1], argv[2])
        stream.write("+OK")


def declare(module: Any) -> None:
    c = LimitApis(module.switch)
    add = module.add_api
    add("limit_usage", "Get the usage count of a limited resource", USAGE_SYNTAX, c.usage)
    add("limit_hash_usage", "Deprecated: gets the usage count of a limited resource",
        HASH_USAGE_SYNTAX, c.hash_usage)
    add("limit_status", "Get the status of a limit backend", STATUS_SYNTAX, c.status)
    add("limit_reset", "Reset the counters of a limit backend", RESET_SYNTAX, c.reset)
    add("limit_interval_reset", "Reset the interval counter for a limited resource",
        INTERVAL_RESET_SYNTAX, c.interval_reset)
