"""Scheduler APIs (mod_commands.c): sched_api, sched_del, unsched_api, sched_hangup,
sched_transfer, sched_broadcast — over the core scheduler (fsd.scheduler)."""

from __future__ import annotations

from typing import Any

from fsd.api import split_command
from fsd.numbers import is_digits
from fsd.scheduler import (
    parse_when,
    schedule_broadcast,
    schedule_hangup,
    schedule_transfer,
    scheduler,
)
from fsd.separate import separate_string

SCHED_SYNTAX = "[+@]<time> <group_name> <command_string>[&]"
UNSCHED_SYNTAX = "<task_id>"
SCHED_TRANSFER_SYNTAX = "[+]<time> <uuid> <extension> [<dialplan>] [<context>]"
SCHED_HANGUP_SYNTAX = "[+]<time> <uuid> [<cause>]"
SCHED_BROADCAST_SYNTAX = "[[+]<time>|@time] <uuid> <path> [aleg|bleg|both]"


class SchedApis:
    def __init__(self, switch: Any) -> None:
        self.switch = switch

    def sched_api(self, args: str, session: Any, stream: Any) -> None:
        words = (args or "").split(None, 2)
        if len(words) < 3:
            stream.write(f"-ERR Invalid syntax. USAGE: {SCHED_SYNTAX}\n")
            return
        when, group, cmdline = words
        background = cmdline.endswith("&")
        cmdline = cmdline.rstrip("&").strip()
        sw = self.switch

        def run() -> None:
            cmd, cargs = split_command(cmdline)
            if background:
                sw.api.background(cmd, cargs)
            else:
                import threading  # an API may block: never in the scheduler thread

                threading.Thread(target=sw.api.execute, args=(cmd, cargs), daemon=True,
                                 name="sched-api").start()

        task_id = scheduler(sw).add(parse_when(when), run, cmdline,
                                    "" if group == "none" else group)
        stream.write(f"+OK Added: {task_id}\n")

    def sched_del(self, args: str, session: Any, stream: Any) -> None:
        text = (args or "").strip()
        if not text:
            stream.write("-ERR Invalid syntax\n")
            return
        s = scheduler(self.switch)
        n = s.delete_id(int(text)) if is_digits(text) else s.delete_group(text)
        stream.write(f"+OK Deleted: {n}\n")

    def unsched_api(self, args: str, session: Any, stream: Any) -> None:
        text = (args or "").strip()
        if not text:
            stream.write(f"-ERR Invalid syntax. USAGE: {UNSCHED_SYNTAX}\n")
            return
        tid = int(text) if is_digits(text) else 0
        if tid:
            stream.write("+OK\n" if scheduler(self.switch).delete_id(tid) else "-ERR No such id\n")
        else:
            stream.write(f"-ERR Invalid syntax. USAGE: {UNSCHED_SYNTAX}\n")

    def sched_hangup(self, args: str, session: Any, stream: Any) -> None:
        argv = separate_string(args or "", " ", 4)
        if len(argv) < 2 or not argv[0]:
            stream.write(f"-USAGE: {SCHED_HANGUP_SYNTAX}\n")
            return
        if argv[1] not in self.switch.sessions:
            stream.write("-ERR No such channel!\n")
            return
        cause = argv[2] if len(argv) > 2 else "ALLOTTED_TIMEOUT"
        schedule_hangup(self.switch, parse_when(argv[0]), argv[1], cause)
        stream.write("+OK\n")

    def sched_transfer(self, args: str, session: Any, stream: Any) -> None:
        argv = separate_string(args or "", " ", 6)
        if not 2 <= len(argv) <= 5 or not argv[0] or len(argv) < 3:
            stream.write(f"-USAGE: {SCHED_TRANSFER_SYNTAX}\n")
            return
        if argv[1] not in self.switch.sessions:
            stream.write("-ERR No such channel!\n")
            return
        schedule_transfer(self.switch, parse_when(argv[0]), argv[1], argv[2],
                          argv[3] if len(argv) > 3 else None, argv[4] if len(argv) > 4 else None)
        stream.write("+OK\n")

    def sched_broadcast(self, args: str, session: Any, stream: Any) -> None:
        argv = separate_string(args or "", " ", 4)
        if len(argv) < 3 or not argv[0]:
            stream.write(f"-USAGE: {SCHED_BROADCAST_SYNTAX}\n")
            return
        leg = argv[3].lower() if len(argv) > 3 and argv[3].lower() in ("aleg", "bleg", "both") else "aleg"
        schedule_broadcast(self.switch, parse_when(argv[0]), argv[1], argv[2], leg)
        stream.write("+OK Message scheduled\n")


def show_tasks(switch: Any) -> tuple[list[str], list[tuple[str, ...]]]:
    cols = ["task_id", "task_desc", "task_group", "task_runtime", "task_sql_manager", "hostname"]
    rows = [(str(t.id), t.desc, t.group, str(int(t.runtime)), "0", getattr(switch, "hostname", ""))
            for t in scheduler(switch).tasks()]
    return cols, rows


def declare(module: Any) -> None:
    c = SchedApis(module.switch)
    add = module.add_api
    add("sched_api", "Schedule an api command", SCHED_SYNTAX, c.sched_api)
    add("sched_del", "Delete a scheduled task", "<task_id>|<group_id>", c.sched_del)
    add("unsched_api", "Unschedule an api command", UNSCHED_SYNTAX, c.unsched_api)
    add("sched_hangup", "Schedule a running call to hangup", SCHED_HANGUP_SYNTAX, c.sched_hangup)
    add("sched_transfer", "Schedule a transfer for a running call", SCHED_TRANSFER_SYNTAX,
        c.sched_transfer)
    add("sched_broadcast", "Schedule a broadcast event to a running call", SCHED_BROADCAST_SYNTAX,
        c.sched_broadcast)
