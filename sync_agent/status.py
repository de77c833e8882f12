"""Is the agent healthy? One answer for ``sync-agent status``, ``/healthz`` and ``/metrics``.

:func:`collect` reads the facts (the audit database, each connector's budget from its
stored state, no API call) and :func:`judge` decides, without I/O, per pipeline:

* its latest finished run (scheduled or webhook) ended other than ``ok`` or
  ``interrupted`` (a failing source, bad credentials, writes that failed ...);
* dead letters wait for an operator (``sync-agent replay`` once the cause is fixed);
* no run for two of its scheduled slots plus the misfire grace (nothing runs it);
* it never ran.

A disabled pipeline is shown, never judged. Open SLA breaches, the lag (the newest lead
seen vs now) and the API budget are reported, not judged: they are the sales team's
and the vendor's numbers, not the agent's health. ``serve`` adds its own problems (the
scheduler or a webhook worker stopped).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.base import Budget
from sync_agent.audit import AuditLog
from sync_agent.audit.health import PipelineFacts, pipeline_facts, webhook_backlog
from sync_agent.config import Config, PipelineConfig
from sync_agent.triggers import describe, next_due

#: Run outcomes that do not make a pipeline failing (a signal stopped it: it resumes).
FINE_OUTCOMES = ("ok", "interrupted")
WRITE_STATES = ("pending", "in_flight", "retryable", "waiting", "dead", "written", "skipped")


@dataclass
class PipelineStatus:
    """One pipeline, as ``status`` shows it and ``/metrics`` exports it."""

    name: str
    enabled: bool
    schedule: str
    last_run: dict[str, Any] | None
    last_good_at: datetime | None
    seconds_since_good: float | None
    newest_lead_at: datetime | None
    lag_seconds: float | None
    writes: dict[str, int]
    sla_breaches: int
    open_sla_breaches: int
    budgets: dict[str, Budget | None]
    problems: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.problems

    @property
    def waiting(self) -> int:
        """Handoffs waiting for the CRM record to exist (a CRM sync creates it later)."""
        return self.writes.get("waiting", 0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "enabled": self.enabled,
            "healthy": self.healthy,
            "problems": list(self.problems),
            "schedule": self.schedule,
            "last_run": self.last_run,
            "last_good_at": _iso(self.last_good_at),
            "seconds_since_good_run": _round(self.seconds_since_good),
            "newest_lead_at": _iso(self.newest_lead_at),
            "lag_seconds": _round(self.lag_seconds),
            "writes": {state: self.writes.get(state, 0) for state in WRITE_STATES},
            "waiting_handoffs": self.waiting,
            "dead_letters": self.writes.get("dead", 0),
            "sla_breaches": self.sla_breaches,
            "open_sla_breaches": self.open_sla_breaches,
            "api_budget": {
                name: None if b is None else {"used": b.used, "allowed": b.allowed,
                                              "left": b.left, "period": b.period}
                for name, b in self.budgets.items()
            },
        }  # fmt: skip


@dataclass
class AgentStatus:
    """Every pipeline's status, plus problems of the running process (``serve``)."""

    checked_at: datetime
    pipelines: list[PipelineStatus]
    problems: list[str] = field(default_factory=list)
    webhook_backlog: dict[str, int] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        return not self.problems and all(p.healthy for p in self.pipelines)

    @property
    def exit_code(self) -> int:
        """0 healthy, 1 not (what a monitor calling ``sync-agent status`` checks)."""
        return 0 if self.healthy else 1

    def reasons(self) -> list[str]:
        """Every problem, each prefixed with its pipeline."""
        return [*self.problems,
                *(f"{p.name}: {problem}" for p in self.pipelines for problem in p.problems)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "healthy": self.healthy,
            "checked_at": _iso(self.checked_at),
            "problems": self.reasons(),
            "pipelines": [p.to_dict() for p in self.pipelines],
            "webhook_backlog": dict(self.webhook_backlog),
        }


def collect(
    config: Config,
    *,
    now: datetime | None = None,
    log: AuditLog | None = None,
    runtime_problems: Iterable[str] = (),
) -> AgentStatus:
    """Read the facts and judge them (``log``: an open audit log to read, e.g. the server's).

    Without an audit database yet, every enabled pipeline "never ran" (nothing is created).
    """
    now = now or datetime.now(UTC)
    problems = list(runtime_problems)
    if log is None and not config.audit_db.exists():
        return AgentStatus(now, [
            judge(PipelineFacts(p.name), p, now, config.misfire_grace_seconds, {})
            for p in config.pipelines
        ], [*problems, f"no audit database at {config.audit_db} yet: the agent never ran"])
    own = log is None
    audit = log or AuditLog.open(config.audit_db)
    try:
        states = audit.connector_states(config)
        pipelines = []
        for spec in config.pipelines:
            budgets: dict[str, Budget | None] = {}
            for name in dict.fromkeys((spec.source, *spec.sinks)):
                conn = config.connectors.get(name)
                if conn is not None and conn.spec.budget is not None:
                    budgets[name] = conn.spec.budget(config.instance(name, states[name]), now)
            facts = pipeline_facts(audit, spec.name)
            position = _position_ms(config, spec, facts)
            pipelines.append(judge(facts, spec, now, config.misfire_grace_seconds, budgets,
                                   cursor_ms=position))
        backlog = webhook_backlog(audit)
    finally:
        if own:
            audit.close()
    return AgentStatus(now, pipelines, problems, backlog)


def _position_ms(config: Config, spec: PipelineConfig, facts: PipelineFacts) -> int | None:
    conn = config.connectors.get(spec.source)
    if conn is None or not facts.cursor:
        return None
    try:
        return conn.spec.position_ms(facts.cursor)
    except Exception:  # a connector's cursor reader must not break a health check
        return None


def judge(
    facts: PipelineFacts,
    spec: PipelineConfig,
    now: datetime,
    grace_seconds: float,
    budgets: Mapping[str, Budget | None],
    *,
    cursor_ms: int | None = None,
) -> PipelineStatus:
    """A pipeline's status from its facts (pure)."""
    good = _time(facts.last_good_at)
    newest = _time(facts.newest_lead_at)
    if cursor_ms is not None:
        at_cursor = datetime.fromtimestamp(cursor_ms / 1000, UTC)
        newest = max(newest, at_cursor) if newest else at_cursor
    last = _public_run(facts.last_run)
    status = PipelineStatus(
        name=spec.name,
        enabled=spec.enabled,
        schedule=describe(spec.schedule),
        last_run=last,
        last_good_at=good,
        seconds_since_good=(now - good).total_seconds() if good else None,
        newest_lead_at=newest,
        lag_seconds=max(0.0, (now - newest).total_seconds()) if newest else None,
        writes=dict(facts.writes),
        sla_breaches=facts.sla_breaches,
        open_sla_breaches=facts.open_sla_breaches,
        budgets=dict(budgets),
    )
    if spec.enabled:
        status.problems = _problems(facts, spec, now, grace_seconds)
    return status


def _problems(facts: PipelineFacts, spec: PipelineConfig, now: datetime,
              grace_seconds: float) -> list[str]:
    out: list[str] = []
    finished = facts.last_finished
    if finished is not None and finished.get("outcome") not in FINE_OUTCOMES:
        error = f": {finished['error']}" if finished.get("error") else ""
        out.append(f"last run #{finished['id']} ({finished['mode']}) ended "
                   f"{finished['outcome']}{error}")
    dead = facts.writes.get("dead", 0)
    if dead:
        out.append(f"{dead} dead letter(s) wait for you: sync-agent audit dead-letters, fix "
                   "the cause, then sync-agent replay")
    last = facts.last_run
    if last is None:
        out.append("never ran: start the agent (sync-agent serve, or run)")
    elif last.get("ended_at"):
        ended = _time(last["ended_at"])
        if ended is not None:
            late = next_due(spec.schedule, next_due(spec.schedule, ended))
            if now > late + timedelta(seconds=grace_seconds):
                out.append(f"no run since {_iso(ended)} ({describe(spec.schedule)}): is the "
                           "agent running?")
    return out


def _public_run(run: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if run is None:
        return None
    counts = run.get("counts") or {}
    return {
        "id": run.get("id"), "mode": run.get("mode"), "started_at": run.get("started_at"),
        "ended_at": run.get("ended_at"), "outcome": run.get("outcome"),
        "error": run.get("error"),
        "decided": counts.get("decided", 0), "written": counts.get("written", 0),
    }  # fmt: skip


def _time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
