"""The report's figures computed again, independently: plain Python over the raw rows.

No SQL beyond ``SELECT *``, no code shared with ``sync_agent.report``: what the report
computes with common table expressions is done here with dicts, from the definition in
``docs/report.md`` (a lead counts once, by its latest decision in the window; a lead
accepted before the window's end is a SAL).
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def load(db: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    decisions = [dict(r) for r in conn.execute("SELECT * FROM decisions")]
    writes = [dict(r) for r in conn.execute("SELECT * FROM writes")]
    conn.close()
    return decisions, writes


@dataclass
class Expected:
    mqls: int = 0
    sals: int = 0
    review: int = 0
    rejected: int = 0
    decisions: int = 0
    redecided: int = 0
    by_reason: Counter[str] = field(default_factory=Counter)
    several_reasons: int = 0
    score_rejected: int = 0
    gates: Counter[str] = field(default_factory=Counter)
    hours_to_sal: list[float] = field(default_factory=list)
    sink_states: dict[str, Counter[str]] = field(default_factory=dict)
    sals_not_written: dict[str, Counter[str]] = field(default_factory=dict)


def expected(
    decisions: list[dict[str, Any]],
    writes: list[dict[str, Any]],
    since: datetime | None = None,
    until: datetime | None = None,
) -> Expected:
    low = since or datetime.min.replace(tzinfo=UTC)
    high = until or datetime.max.replace(tzinfo=UTC)
    real = [d for d in decisions if not d["dry_run"]]
    window = [d for d in real if low <= when(d["decided_at"]) < high]
    latest: dict[str, dict[str, Any]] = {}
    count: Counter[str] = Counter()
    for d in sorted(window, key=lambda d: d["id"]):
        latest[d["lead_key"]] = d
        count[d["lead_key"]] += 1
    first_sal: dict[str, dict[str, Any]] = {}
    for d in sorted(real, key=lambda d: when(d["decided_at"])):
        if d["outcome"] == "accepted" and when(d["decided_at"]) < high:
            first_sal.setdefault(d["lead_key"], d)
    out = Expected(decisions=len(window), redecided=sum(n > 1 for n in count.values()))
    for key, d in latest.items():
        out.mqls += 1
        if key in first_sal:
            out.sals += 1
            sal = first_sal[key]
            if sal["mql_date"] and when(sal["decided_at"]) >= low:
                delta = when(sal["decided_at"]) - when(sal["mql_date"])
                out.hours_to_sal.append(delta.total_seconds() / 3600)
        elif d["outcome"] == "review":
            out.review += 1
        else:
            out.rejected += 1
            reasons = json.loads(d["reasons"])
            out.several_reasons += len(reasons) > 1
            for reason in reasons:
                out.by_reason[reason.split(" ")[0] + " < " + reason.split(" < ")[-1]
                              if reason.startswith("score ") else reason] += 1  # fmt: skip
            if any(r.startswith("score ") for r in reasons):
                out.score_rejected += 1
            for check in json.loads(d["explanation"]):
                if check["kind"] in ("gate", "disqualifier") and not check["passed"]:
                    out.gates[f"{check['kind']}:{check['name']}"] += 1
    # each lead's latest write per sink, among its decisions made before the window's end
    by_decision = {d["id"]: d for d in real}
    last_write: dict[tuple[str, str], dict[str, Any]] = {}
    for w in sorted(writes, key=lambda w: w["id"]):
        d = by_decision.get(w["decision_id"])
        if d is not None and when(d["decided_at"]) < high and d["lead_key"] in latest:
            last_write[(d["lead_key"], w["sink"])] = w
    for (key, sink), w in last_write.items():
        out.sink_states.setdefault(sink, Counter())[w["state"]] += 1
        if key in first_sal and w["state"] != "written":
            out.sals_not_written.setdefault(sink, Counter())[
                w["last_error"] if w["state"] == "skipped" else w["state"]
            ] += 1
    return out
