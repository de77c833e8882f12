"""Outcome events for a report test's audit log, as the CRM read-back would store them.

The read-back and the SLA watch write the ``outcomes`` table in production; here rows are
inserted directly (``INSERT``, the schema's own columns), drawn from a seeded generator so
every run gets the same log. Sales rejects far more of the SALs that earned under half of
the ``readiness`` criterion, so the feedback has a rule to flag. Some handoffs are
read from two systems (a later first touch, a rejection reason only the second one gives)
to exercise the merge.
"""

from __future__ import annotations

import json
import random
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

OWNERS = ("005A00000000001", "005A00000000002", "005A00000000003", "72001")
REASONS = ("no budget", "wrong contact", "not the decision maker", None)
CAMPAIGN_FIELD = "test.utm_campaign"  # a raw property the snapshots are given here
CAMPAIGNS = ("spring-webinar", "pricing-ads", None)


def _little_readiness(explanation: list[dict[str, Any]]) -> bool:
    """Whether the readiness criterion gave under half its points."""
    for check in explanation:
        if check.get("kind") == "criterion" and check.get("name") == "readiness":
            return float(check.get("points") or 0) < float(check.get("max_points") or 0) / 2
    return False


def add_outcomes(db: Path, seed: int = 7) -> None:
    """Insert outcomes for every accepted handoff of the log; give snapshots a campaign."""
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    first = conn.execute(
        "SELECT id, lead_key, handoff_key, decided_at, explanation FROM decisions d "
        "WHERE dry_run = 0 AND outcome = 'accepted' AND decided_at = (SELECT MIN(decided_at) "
        "FROM decisions x WHERE x.lead_key = d.lead_key AND x.dry_run = 0 "
        "AND x.outcome = 'accepted') ORDER BY id"
    ).fetchall()
    rows: list[tuple[Any, ...]] = []
    for d in first:
        rng = random.Random(f"{seed}:{d['handoff_key']}")
        campaign = CAMPAIGNS[rng.randrange(len(CAMPAIGNS))]
        if campaign:
            conn.execute(
                "UPDATE decisions SET snapshot = json_set(snapshot, ?, ?) WHERE id = ?",
                (f'$."{CAMPAIGN_FIELD}"', campaign, d["id"]),
            )
        at = datetime.fromisoformat(d["decided_at"])
        owner = OWNERS[rng.randrange(len(OWNERS))]

        def add(kind: str, hours: float, reason: str | None = None, system: str = "crm",
                who: str | None = owner, rng: random.Random = rng, d: Any = d,
                at: datetime = at) -> None:  # fmt: skip
            detail = json.dumps({"owner": who} if who else {})
            rows.append((d["lead_key"], d["handoff_key"], system, kind,
                         (at + timedelta(hours=hours)).isoformat(), reason, detail,
                         at.isoformat()))  # fmt: skip

        if rng.random() < 0.1:
            continue  # nothing read back yet
        touch = rng.uniform(0.5, 60) if rng.random() < 0.8 else None
        if touch is not None:
            add("first_touch", touch)
            if rng.random() < 0.3:  # the other system saw a later touch, by someone else
                add("first_touch", touch + 5, system="other", who=OWNERS[0])
        if (touch is None or touch > 24) and rng.random() < 0.9:
            add("sla_breached", 24, system="agent", who=None)
        if rng.random() < (0.5 if _little_readiness(json.loads(d["explanation"])) else 0.1):
            reason = REASONS[rng.randrange(len(REASONS))]
            if reason == "no budget" and rng.random() < 0.5:
                add("rejected", 70, None)
                add("rejected", 80, reason, system="other")  # only the second gives it
            else:
                add("rejected", 70, reason)
            if rng.random() < 0.5:
                add("recycled", 90)
        elif rng.random() < 0.5:
            if rng.random() < 0.9:
                add("sql", rng.uniform(30, 200))
            if rng.random() < 0.4:
                add("opportunity", rng.uniform(200, 400))
    conn.executemany(
        "INSERT INTO outcomes (lead_key, handoff_key, system, kind, at, reason, detail, "
        "recorded_at) VALUES (?,?,?,?,?,?,?,?)",
        rows,
    )
    conn.commit()
    conn.close()
