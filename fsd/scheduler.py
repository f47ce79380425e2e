"""The task scheduler (FreeSWITCH's switch_scheduler.c): numbered tasks with a group name,
run at an epoch time by one thread.  ``sched_api``, ``sched_hangup``, ``sched_transfer``,
``sched_broadcast`` add tasks; ``sched_del``/``unsched_api``/``sched_cancel`` remove them by
id or group; ``show tasks`` lists them.  A task's callback runs in the scheduler thread and
must not block (the schedulers of calls only *request* a hangup/transfer/broadcast)."""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fsd.log import ERR, log
from fsd.numbers import leading_int


@dataclass(order=True)
class Task:
    runtime: float
    id: int
    desc: str = field(compare=False)
    group: str = field(compare=False)
    func: Callable[[], None] = field(compare=False, repr=False)
    created: float = field(compare=False, default_factory=time.time)


class Scheduler:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[Task] = []
        self._tasks: dict[int, Task] = {}
        self._ids = itertools.count(1)
        self._thread: threading.Thread | None = None

    def add(self, runtime: float, func: Callable[[], None], desc: str, group: str = "") -> int:
        """Run ``func()`` at epoch ``runtime``; returns the task id."""
        with self._cond:
            task = Task(runtime, next(self._ids), desc, group or "", func)
            self._tasks[task.id] = task
            heapq.heappush(self._heap, task)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="fsd-scheduler", daemon=True)
                self._thread.start()
            self._cond.notify()
            return task.id

    def delete_id(self, task_id: int) -> int:
        with self._cond:
            return 1 if self._tasks.pop(task_id, None) is not None else 0

    def delete_group(self, group: str) -> int:
        with self._cond:
            ids = [t.id for t in self._tasks.values() if t.group == group]
            for i in ids:
                del self._tasks[i]
            return len(ids)

    def tasks(self) -> list[Task]:
        with self._cond:
            return sorted(self._tasks.values(), key=lambda t: t.id)

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    while self._heap and self._heap[0].id not in self._tasks:
                        heapq.heappop(self._heap)  # deleted
                    delay = (self._heap[0].runtime - time.time()) if self._heap else None
                    if delay is not None and delay <= 0:
                        task = heapq.heappop(self._heap)
                        self._tasks.pop(task.id, None)
                        break
                    self._cond.wait(delay if delay is not None else 60)
            try:
                task.func()
            except Exception as e:  # a failing task must not stop the scheduler
                log(ERR, f"scheduled task {task.id} ({task.desc}) failed: {e}\n")


_LOCK = threading.Lock()


def scheduler(switch: Any) -> Scheduler:
    """The switch's scheduler (created on first use)."""
    with _LOCK:
        s = getattr(switch, "_scheduler", None)
        if s is None:
            s = Scheduler()
            switch._scheduler = s
        return s


def parse_when(text: str) -> float:
    """``+<secs>`` from now, ``@<secs>`` (also from now: a repeating task in FreeSWITCH,
    run once here) or an absolute epoch."""
    t = (text or "").strip()
    if t[:1] in "+@":
        return time.time() + leading_int(t[1:], 0)
    return float(leading_int(t, 0))


# -- the call schedulers (switch_ivr_schedule_*): the group is the channel's uuid --------
def schedule_hangup(switch: Any, when: float, uuid: str, cause: str) -> int:
    def run() -> None:
        s = switch.sessions.get(uuid)
        if s is not None:
            s.hangup(cause)
    return scheduler(switch).add(when, run, "hangup", uuid)


def schedule_transfer(switch: Any, when: float, uuid: str, exten: str,
                      dialplan: str | None = None, context: str | None = None) -> int:
    def run() -> None:
        s = switch.sessions.get(uuid)
        if s is not None:
            s.transfer(exten, dialplan, context)
    return scheduler(switch).add(when, run, "transfer", uuid)


def schedule_broadcast(switch: Any, when: float, uuid: str, path: str, leg: str) -> int:
    def run() -> None:
        switch.api_execute("uuid_broadcast", f"{uuid} {path} {leg}")
    return scheduler(switch).add(when, run, "broadcast", uuid)


def enable_heartbeat(switch: Any, session: Any, seconds: int) -> None:
    """SESSION_HEARTBEAT every ``seconds`` while the channel is up (0 stops); the task group
    is ``heartbeat-<uuid>``."""
    group = f"heartbeat-{session.uuid}"
    sched = scheduler(switch)
    sched.delete_group(group)
    if seconds <= 0:
        return

    def beat() -> None:
        if not session.up():
            return
        session.switch.events.fire(session.new_event("SESSION_HEARTBEAT"))
        sched.add(time.time() + seconds, beat, "heartbeat", group)

    sched.add(time.time() + seconds, beat, "heartbeat", group)
