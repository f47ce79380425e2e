"""mod_db's figures for /metrics (the ``fsd_metrics`` hook): each pool's handles, waiters,
leases, timeouts and errors, labelled by DSN (passwords hidden)."""

from __future__ import annotations

from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from .pool import DbManager


def families(manager: DbManager) -> list[Any]:
    lab = ["dsn"]
    size = GaugeMetricFamily("fsd_db_pool_size", "Most handles a pool may open", labels=lab)
    in_use = GaugeMetricFamily("fsd_db_pool_in_use", "Handles leased now", labels=lab)
    idle = GaugeMetricFamily("fsd_db_pool_idle", "Open handles waiting for a lease", labels=lab)
    waiting = GaugeMetricFamily("fsd_db_pool_waiting", "Callers waiting for a handle now",
                                labels=lab)
    acquired = CounterMetricFamily("fsd_db_pool_acquired", "Handles leased since start",
                                   labels=lab)
    timeouts = CounterMetricFamily("fsd_db_pool_wait_timeouts",
                                   "Waits for a handle that timed out", labels=lab)
    errors = CounterMetricFamily("fsd_db_pool_errors", "Database errors", labels=lab)
    for st in manager.status():
        v = [st.dsn]
        size.add_metric(v, st.size)
        in_use.add_metric(v, st.in_use)
        idle.add_metric(v, st.idle)
        waiting.add_metric(v, st.waiting)
        acquired.add_metric(v, st.acquired)
        timeouts.add_metric(v, st.timeouts)
        errors.add_metric(v, st.errors)
    return [size, in_use, idle, waiting, acquired, timeouts, errors]
