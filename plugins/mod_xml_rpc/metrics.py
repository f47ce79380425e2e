"""``/metrics``: one ``prometheus_client`` registry per switch, filled at each scrape by the
``fsd_metrics`` broadcast hook — every loaded module returns its own metric families (see
fsd/hookspecs.py); this module contributes the core's (sessions, calls per second, channels
per endpoint, the event bus, the media clock) and its own HTTP counters.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
)

from fsd import __version__
from fsd.log import ERR, log


class _ModulesCollector:
    """Asks every loaded module for its families at scrape time."""

    def __init__(self, switch: Any) -> None:
        self.switch = switch

    def describe(self) -> list[Any]:  # no collect() at registration time
        return []

    def collect(self) -> Any:
        seen: set[str] = set()
        # broadcast asks each module on its own: one failing is logged, the rest report
        for families in self.switch.modules.broadcast("fsd_metrics", switch=self.switch):
            for fam in families or ():
                if fam.name in seen:  # two modules claiming one name would break the format
                    log(ERR, f"/metrics: metric {fam.name} reported twice, second one dropped")
                    continue
                seen.add(fam.name)
                yield fam


def new_registry(switch: Any) -> CollectorRegistry:
    """A registry of this switch's own (never prometheus_client's global one)."""
    reg = CollectorRegistry(auto_describe=False)
    reg.register(_ModulesCollector(switch))
    return reg


def render(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)


class HttpCounters:
    """Requests served, by kind (api, webapi, txtapi, lua, metrics, health…) and status."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[tuple[str, str]] = Counter()
        self.in_flight = 0

    def count(self, kind: str, status: int) -> None:
        with self._lock:
            self.requests[(kind, str(status))] += 1

    def families(self) -> list[Any]:
        req = CounterMetricFamily("fsd_http_requests", "HTTP requests answered",
                                  labels=["kind", "code"])
        with self._lock:
            items = sorted(self.requests.items())
            flight = self.in_flight
        for (kind, code), n in items:
            req.add_metric([kind, code], n)
        g = GaugeMetricFamily("fsd_http_requests_in_flight", "HTTP requests being answered")
        g.add_metric([], flight)
        return [req, g]


#: media clock lateness buckets, seconds (the clock counts into them, fsd/media/clock.py)
def _clock_families() -> list[Any]:
    from fsd.media import clock as mclock

    hist = HistogramMetricFamily("fsd_media_clock_lateness_seconds",
                                 "How late each media clock tick started", labels=["ptime"])
    ports = GaugeMetricFamily("fsd_media_clock_ports", "Media ports on each clock",
                              labels=["ptime"])
    overruns = CounterMetricFamily("fsd_media_clock_overruns",
                                   "Ticks skipped because the clock fell behind",
                                   labels=["ptime"])
    with mclock._clocks_lock:
        clocks = list(mclock._clocks.values())
    for c in clocks:
        label = [str(c.ptime)]
        counts = list(c.late_counts)
        buckets, acc = [], 0
        for bound, n in zip(mclock.LATE_BUCKETS, counts, strict=False):
            acc += n
            buckets.append((repr(bound), acc))
        acc += counts[-1]
        buckets.append(("+Inf", acc))
        hist.add_metric(label, buckets, c.late_sum)
        ports.add_metric(label, c.port_count)
        overruns.add_metric(label, c.overruns)
    return [hist, ports, overruns]


def core_families(switch: Any) -> list[Any]:
    """The core's figures (the core knows no Prometheus; this module reads them)."""
    out: list[Any] = []
    info = InfoMetricFamily("fsd", "fsd build and identity")
    info.add_metric([], {"version": __version__, "switchname": switch.switchname,
                         "core_uuid": switch.core_uuid})
    out.append(info)
    g = GaugeMetricFamily("fsd_accepting_calls",
                          "1 while new calls are accepted (not paused, not shutting down)")
    g.add_metric([], 1 if switch.core_ready() else 0)
    out.append(g)
    g = GaugeMetricFamily("fsd_uptime_seconds", "Seconds since the switch started")
    g.add_metric([], switch.uptime_seconds())
    out.append(g)

    with switch.sessions_lock:
        sessions = list(switch.sessions.values())
    g = GaugeMetricFamily("fsd_sessions", "Sessions (channels) now")
    g.add_metric([], len(sessions))
    out.append(g)
    c = CounterMetricFamily("fsd_sessions_created", "Sessions created since start")
    c.add_metric([], switch.session_count_total)
    out.append(c)
    g = GaugeMetricFamily("fsd_sessions_peak", "Most sessions at once since start")
    g.add_metric([], switch.session_peak)
    out.append(g)
    g = GaugeMetricFamily("fsd_calls_per_second", "Sessions created in the last second")
    g.add_metric([], switch.current_sps())
    out.append(g)
    g = GaugeMetricFamily("fsd_calls_per_second_peak", "Highest sessions per second since start")
    g.add_metric([], switch.sps_peak)
    out.append(g)

    per_endpoint: Counter[str] = Counter()
    for s in sessions:
        name = getattr(s, "name", "") or ""
        per_endpoint[name.split("/", 1)[0] or "unknown"] += 1
    g = GaugeMetricFamily("fsd_channels", "Channels now, by endpoint", labels=["endpoint"])
    for ep in sorted(set(switch.endpoints) | set(per_endpoint)):
        g.add_metric([ep], per_endpoint.get(ep, 0))
    out.append(g)

    st = switch.events.stats()
    c = CounterMetricFamily("fsd_events_fired", "Events accepted by the event bus")
    c.add_metric([], st.get("fired", 0))
    out.append(c)
    c = CounterMetricFamily("fsd_events_dropped", "Events the bus itself dropped (queue full)")
    c.add_metric([], st.get("dropped", 0))
    out.append(c)
    g = GaugeMetricFamily("fsd_events_queued", "Events waiting on the bus")
    g.add_metric([], st.get("queued", 0))
    out.append(g)
    c = CounterMetricFamily("fsd_event_subscriber_dropped",
                            "Events dropped by a subscriber's full queue", labels=["subscriber"])
    for name, sub in sorted(st.get("subscribers", {}).items()):
        c.add_metric([name], sub.get("dropped", 0))
    out.append(c)

    out.extend(_clock_families())
    return out
