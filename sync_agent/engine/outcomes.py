"""Outcome read-back: ask each sink's system what sales did after the agent's handoffs.

After the writes of every run (and on ``sync-agent outcomes``), for each sink whose
connector offers ``read_outcomes`` (:class:`connectors.base.ConnectorSpec`): the accepted
handoffs written to it within ``[outcomes] lookback_days`` whose story there has not
finished (:func:`sync_agent.audit.outcomes.open_handoffs`) go to the connector in chunks,
through the run's own built sink (its call counters, its API budget), and the events it
answers are recorded append-only (re-reading changes nothing).

A read-back never fails the run it follows: a failing sink is logged as a warning and
left for the next run; what was recorded before the failure stays.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from connectors.base import OutcomeEvent, OutcomeRequest, Sink
from sync_agent.audit.db import AuditLog
from sync_agent.audit.outcomes import (
    NewOutcome,
    OpenHandoff,
    last_read,
    mark_read,
    open_handoffs,
    record_outcomes,
)
from sync_agent.config import Config
from sync_agent.errors import BudgetExhausted
from sync_agent.logs import Logger, get_logger
from sync_agent.model import OutcomeKind

#: Handoffs per connector call (the connector chunks further, per its API's limits);
#: each chunk's events are committed before the next is read.
CHUNK = 1000
_KINDS = {k.value for k in OutcomeKind} - {OutcomeKind.SLA_BREACHED.value}


@dataclass
class SinkReadBack:
    """What one sink's read-back did: handoffs asked about, new events by kind, calls."""

    pipeline: str
    sink: str
    handoffs: int = 0
    events: dict[str, int] = field(default_factory=dict)
    api_calls: int = 0
    error: str = ""
    #: the error was the API budget running out (exit 4: resume later)
    budget: bool = False

    @property
    def ok(self) -> bool:
        return not self.error

    def to_dict(self) -> dict[str, Any]:
        return {"pipeline": self.pipeline, "sink": self.sink, "handoffs": self.handoffs,
                "events": dict(sorted(self.events.items())), "api_calls": self.api_calls,
                "error": self.error, "budget": self.budget}


def can_read(config: Config, sink: str) -> bool:
    """Whether sink instance ``sink``'s connector reads outcomes back."""
    conn = config.connectors.get(sink)
    return conn is not None and conn.spec.read_outcomes is not None


def read_back(
    config: Config,
    audit: AuditLog,
    pipeline: str,
    sinks: Mapping[str, Sink],
    clock: Callable[[], datetime],
    log: Logger | None = None,
    *,
    force: bool = False,
) -> list[SinkReadBack]:
    """Read and record the outcomes of ``pipeline``'s open handoffs, sink by sink.

    Unless ``force``, a sink read back less than ``[outcomes] every_minutes`` ago is left
    for a later run (the read costs API calls; sales moves in hours, not minutes)."""
    log = log or get_logger("sync_agent.outcomes", pipeline=pipeline)
    out: list[SinkReadBack] = []
    for name, sink in sinks.items():
        reader = config.connectors[name].spec.read_outcomes if name in config.connectors \
            else None
        if reader is None:
            continue
        last = last_read(audit, pipeline, name)
        if not force and last is not None and \
                clock() - last < timedelta(minutes=config.outcomes_every_minutes):
            log.debug("outcomes_not_due", sink=name, last_read=last.isoformat())
            continue
        result = SinkReadBack(pipeline, name)
        out.append(result)
        calls_before = _calls(sink)
        try:
            since = clock() - timedelta(days=config.outcomes_lookback_days)
            todo = open_handoffs(audit, pipeline, name, since)
            for start in range(0, len(todo), CHUNK):
                chunk = todo[start : start + CHUNK]
                result.handoffs += len(chunk)
                events = reader(sink, [_request(h) for h in chunk])
                for e in record_outcomes(audit, name, _valid(events, chunk, log), clock()):
                    result.events[e.kind] = result.events.get(e.kind, 0) + 1
        except Exception as exc:  # a read-back never fails the run
            result.error = f"{type(exc).__name__}: {exc}"
            result.budget = isinstance(exc, BudgetExhausted)
            log.warning("outcomes_read_failed", sink=name, error=result.error,
                        handoffs=result.handoffs)
        if not result.error:
            mark_read(audit, pipeline, name, clock())
        result.api_calls = _calls(sink) - calls_before
        log.info("outcomes_read", sink=name, handoffs=result.handoffs, api_calls=result.api_calls,
                 **{f"new_{k}": n for k, n in sorted(result.events.items())})
    return out


def _request(h: OpenHandoff) -> OutcomeRequest:
    return OutcomeRequest(h.handoff_key, h.lead_key, h.target_id, h.decided_at, h.crm_ids,
                          h.source, h.source_id, h.known)


def _valid(events: list[OutcomeEvent], chunk: list[OpenHandoff], log: Logger) -> list[NewOutcome]:
    """The events that belong to a handoff asked about and have a known kind."""
    leads = {h.handoff_key: h.lead_key for h in chunk}
    out: list[NewOutcome] = []
    for e in events:
        if e.kind not in _KINDS or e.handoff_key not in leads or e.at.tzinfo is None:
            log.warning("outcome_event_ignored", kind=e.kind, handoff_key=e.handoff_key)
            continue
        out.append(NewOutcome(e.handoff_key, leads[e.handoff_key], e.kind, e.at, e.reason,
                              e.detail))
    return out


def _calls(sink: Sink) -> int:
    calls = getattr(sink, "api_calls", None)
    return calls if isinstance(calls, int) else 0


def summarize(results: list[SinkReadBack]) -> dict[str, int]:
    """New events by kind over every sink."""
    total: dict[str, int] = {}
    for r in results:
        for kind, n in r.events.items():
            total[kind] = total.get(kind, 0) + n
    return dict(sorted(total.items()))

