"""``GET /metrics``: Prometheus text format, with ``prometheus_client``.

The audit database is the truth, so most figures are read from it at scrape time by a
custom collector (the library's documented way to export values another system keeps):
runs by outcome, decisions by outcome, outbox writes by state, dead letters, SLA breaches,
API budget, seconds since each pipeline's last good run, the lag, health. Figures only the
running process knows (webhook requests accepted and refused) are the library's own
counters (:mod:`sync_agent.serve.intake`). Everything goes to one registry per agent, not
the library's global one, so tests can start several agents in one process.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, disable_created_metrics, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from sync_agent.audit import AuditLog
from sync_agent.audit.health import decision_counts, run_counts
from sync_agent.config import Config
from sync_agent.status import WRITE_STATES, AgentStatus, collect

__all__ = ["CONTENT_TYPE_LATEST", "AuditCollector", "render"]

# No ``*_created`` series: counters here restart with the process, and the audit log's
# totals have no creation time worth a series each.
disable_created_metrics()


class AuditCollector(Collector):
    """Reads the audit log (and the status built from it) on every scrape."""

    def __init__(self, config: Config, audit: AuditLog,
                 status: Callable[[], AgentStatus] | None = None,
                 scheduler_up: Callable[[], bool] | None = None) -> None:
        self.config = config
        self.audit = audit
        self.status = status or (lambda: collect(config, log=audit))
        self.scheduler_up = scheduler_up

    def describe(self) -> list[Metric]:
        """Nothing up front: registering must not read the database (names vary by data)."""
        return []

    def collect(self) -> Iterator[Metric]:
        status = self.status()
        runs = CounterMetricFamily("sync_agent_runs", "Finished runs by pipeline, mode and outcome",
                                   labels=["pipeline", "mode", "outcome"])
        for r in run_counts(self.audit):
            runs.add_metric([r["pipeline"], r["mode"], r["outcome"]], r["n"])
        yield runs
        decisions = CounterMetricFamily("sync_agent_decisions",
                                        "Decisions by pipeline and outcome (dry runs left out)",
                                        labels=["pipeline", "outcome"])
        for r in decision_counts(self.audit):
            decisions.add_metric([r["pipeline"], r["outcome"]], r["n"] or 0)
        yield decisions
        yield from self._pipelines(status)
        yield from self._budgets(status)
        backlog = GaugeMetricFamily("sync_agent_webhook_backlog_events",
                                    "Webhook events whose record was not read yet",
                                    labels=["source"])
        for source, n in sorted(status.webhook_backlog.items()):
            backlog.add_metric([source], n)
        yield backlog
        yield GaugeMetricFamily("sync_agent_healthy", "1 when /healthz answers 200",
                                value=1 if status.healthy else 0)
        if self.scheduler_up is not None:
            yield GaugeMetricFamily("sync_agent_scheduler_up", "1 while the scheduler runs",
                                    value=1 if self.scheduler_up() else 0)

    def _pipelines(self, status: AgentStatus) -> Iterator[Metric]:
        writes = GaugeMetricFamily("sync_agent_writes", "Outbox writes by pipeline and state",
                                   labels=["pipeline", "state"])
        dead = GaugeMetricFamily("sync_agent_dead_letters",
                                 "Writes parked after their last attempt (sync-agent replay)",
                                 labels=["pipeline"])
        waiting = GaugeMetricFamily("sync_agent_waiting_handoffs",
                                    "Handoffs waiting for their CRM record to exist",
                                    labels=["pipeline"])
        breaches = CounterMetricFamily("sync_agent_sla_breaches",
                                       "Follow-up SLA breaches recorded", labels=["pipeline"])
        open_breaches = GaugeMetricFamily("sync_agent_sla_breaches_open",
                                          "SLA breaches with no first touch yet",
                                          labels=["pipeline"])
        since = GaugeMetricFamily("sync_agent_seconds_since_last_good_run",
                                  "Seconds since the pipeline's last run that ended ok",
                                  labels=["pipeline"])
        lag = GaugeMetricFamily("sync_agent_lag_seconds",
                                "Seconds between now and the newest lead the pipeline saw",
                                labels=["pipeline"])
        healthy = GaugeMetricFamily("sync_agent_pipeline_healthy",
                                    "1 when the pipeline has no problem (see /healthz)",
                                    labels=["pipeline"])
        for p in status.pipelines:
            for state in WRITE_STATES:
                writes.add_metric([p.name, state], p.writes.get(state, 0))
            dead.add_metric([p.name], p.writes.get("dead", 0))
            waiting.add_metric([p.name], p.waiting)
            breaches.add_metric([p.name], p.sla_breaches)
            open_breaches.add_metric([p.name], p.open_sla_breaches)
            if p.seconds_since_good is not None:
                since.add_metric([p.name], p.seconds_since_good)
            if p.lag_seconds is not None:
                lag.add_metric([p.name], p.lag_seconds)
            healthy.add_metric([p.name], 1 if p.healthy else 0)
        yield from (writes, dead, waiting, breaches, open_breaches, since, lag, healthy)

    def _budgets(self, status: AgentStatus) -> Iterator[Metric]:
        used = GaugeMetricFamily("sync_agent_api_budget_used_calls",
                                 "API calls used in the budget period, by connector",
                                 labels=["connector", "period"])
        allowed = GaugeMetricFamily("sync_agent_api_budget_allowed_calls",
                                    "API calls the agent allows itself in the period",
                                    labels=["connector", "period"])
        seen: set[str] = set()
        for p in status.pipelines:
            for name, budget in p.budgets.items():
                if budget is None or name in seen:
                    continue
                seen.add(name)
                used.add_metric([name, budget.period], budget.used)
                allowed.add_metric([name, budget.period], budget.allowed)
        yield from (used, allowed)


def render(registry: CollectorRegistry) -> bytes:
    """The registry in the text exposition format."""
    return generate_latest(registry)
