"""What the audit database says about a pipeline's health (read only).

The facts ``sync-agent status``, ``/healthz`` and ``/metrics`` are made of: the latest runs,
the outbox by state, the newest lead seen, SLA breaches, webhook events. Every query is
bounded by an index, so a scrape every few seconds stays cheap on a large log. Judging
the facts (healthy or not, and why) is :mod:`sync_agent.status`, free of I/O.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

#: Runs that say how the pipeline does now: scheduled (or ``--once``) runs, webhook runs, and
#: replays (an operator's fix); a backfill or a dry run says nothing of the schedule.
LIVE_MODES = ("run", "webhook", "replay")
_LIVE = "('" + "','".join(LIVE_MODES) + "')"
#: Decisions looked at for the newest lead seen (the latest ones, by id).
RECENT_DECISIONS = 1000


class Rows(Protocol):
    def rows(self, sql: str, params: Any = ()) -> list[dict[str, Any]]: ...  # pragma: no cover


@dataclass
class PipelineFacts:
    """Raw facts of one pipeline, as stored (times as ISO text)."""

    name: str
    last_run: dict[str, Any] | None = None  # the latest run, finished or not
    last_finished: dict[str, Any] | None = None  # the latest finished one
    last_good_at: str | None = None  # when the latest 'ok' run ended
    writes: dict[str, int] = field(default_factory=dict)  # open and settled, by state
    newest_lead_at: str | None = None  # the newest modification time among recent decisions
    cursor: dict[str, Any] | None = None
    sla_breaches: int = 0
    open_sla_breaches: int = 0


def _run(row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    out = dict(row)
    try:
        out["counts"] = json.loads(out.get("counts") or "{}")
    except ValueError:
        out["counts"] = {}
    return out


def _one(log: Rows, sql: str, params: Any) -> dict[str, Any] | None:
    found = log.rows(sql, params)
    return found[0] if found else None


def pipeline_facts(log: Rows, name: str) -> PipelineFacts:
    """Everything :mod:`sync_agent.status` judges for pipeline ``name``."""
    facts = PipelineFacts(name)
    columns = "id, mode, started_at, ended_at, outcome, error, counts"
    facts.last_run = _run(_one(log, f"SELECT {columns} FROM runs WHERE pipeline = ? AND mode IN "
                               f"{_LIVE} ORDER BY id DESC LIMIT 1", (name,)))
    facts.last_finished = _run(_one(
        log, f"SELECT {columns} FROM runs WHERE pipeline = ? AND mode IN {_LIVE} AND "
        "ended_at IS NOT NULL ORDER BY id DESC LIMIT 1", (name,)))
    good = _one(log, f"SELECT MAX(ended_at) AS at FROM runs WHERE pipeline = ? AND mode IN "
                f"{_LIVE} AND outcome = 'ok'", (name,))
    facts.last_good_at = good["at"] if good else None
    facts.writes = {
        r["state"]: int(r["n"])
        for r in log.rows("SELECT state, COUNT(*) AS n FROM writes WHERE pipeline = ? "
                          "GROUP BY state", (name,))
    }
    # NOT INDEXED: walk back from the newest row and stop after the LIMIT (an index on
    # dry_run would make SQLite read every decision and sort them, on each status call).
    newest = _one(log, "SELECT MAX(modified_at) AS at FROM (SELECT modified_at FROM decisions "
                  "NOT INDEXED WHERE pipeline = ? AND dry_run = 0 ORDER BY id DESC LIMIT ?)",
                  (name, RECENT_DECISIONS))
    facts.newest_lead_at = newest["at"] if newest else None
    cursor = _one(log, "SELECT position FROM cursors WHERE pipeline = ? AND kind = 'run'", (name,))
    if cursor:
        try:
            facts.cursor = json.loads(cursor["position"])
        except ValueError:
            facts.cursor = None
    sla = _one(
        log,
        "SELECT COUNT(*) AS total, SUM(NOT EXISTS (SELECT 1 FROM outcomes t WHERE "
        "t.handoff_key = o.handoff_key AND t.kind = 'first_touch')) AS open "
        "FROM outcomes o WHERE o.kind = 'sla_breached' AND EXISTS (SELECT 1 FROM decisions d "
        "WHERE d.lead_key = o.lead_key AND d.pipeline = ?)",
        (name,),
    )
    if sla:
        facts.sla_breaches = int(sla["total"] or 0)
        facts.open_sla_breaches = int(sla["open"] or 0)
    return facts


def run_counts(log: Rows) -> list[dict[str, Any]]:
    """Runs by pipeline, mode and outcome (finished ones)."""
    return log.rows("SELECT pipeline, mode, outcome, COUNT(*) AS n FROM runs WHERE ended_at IS "
                    "NOT NULL GROUP BY pipeline, mode, outcome")


def decision_counts(log: Rows) -> list[dict[str, Any]]:
    """Decisions by pipeline and outcome (dry runs left out), pruned ones included (their
    daily aggregates), so the totals only grow."""
    return log.rows(
        "SELECT pipeline, outcome, SUM(n) AS n FROM ("
        "SELECT pipeline, outcome, COUNT(*) AS n FROM decisions WHERE dry_run = 0 "
        "GROUP BY pipeline, outcome UNION ALL "
        "SELECT pipeline, outcome, SUM(decisions) AS n FROM aggregates GROUP BY pipeline, outcome"
        ") GROUP BY pipeline, outcome")


def webhook_backlog(log: Rows) -> dict[str, int]:
    """Events received whose record was not read yet, by receiving instance."""
    rows = log.rows("SELECT source, COUNT(*) AS n FROM webhook_events WHERE processed_at IS NULL "
                    "GROUP BY source")
    return {r["source"]: int(r["n"]) for r in rows}
