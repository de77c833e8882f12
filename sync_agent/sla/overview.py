"""What ``sync-agent sla`` shows: per pipeline, the SLA states of its accepted handoffs,
the breach actions by outbox state, and the open breaches (read only, no API call).

States keep the report's meaning (``sync_agent/report``): *breached* = an ``sla_breached``
row, *met* = a first touch and no breach, *pending* = neither; pending handoffs whose
deadline has passed are counted as *due* (the next run's watch records them).
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from sync_agent.audit import AuditLog
from sync_agent.audit.sla import Touch, touches, watched
from sync_agent.config import Config
from sync_agent.model import OutcomeKind
from sync_agent.sla.clock import deadline
from sync_agent.sla.settings import SlaSection
from sync_agent.sla.watch import sla_hours

#: open breaches listed per pipeline (the counts cover all of them)
SHOWN = 20


def overview(config: Config, audit: AuditLog, now: datetime) -> dict[str, Any]:
    """``{"enabled", "hours", "calendar", "actions", "pipelines": [...]}`` as ``--json``."""
    sla = config.sla or SlaSection()
    hours = sla_hours(sla, config.follow_up_sla_hours)
    cal = sla.calendar()
    out: dict[str, Any] = {
        "enabled": config.sla is not None, "hours": hours,
        "business_hours": sla.business_hours, "time_zone": sla.time_zone,
        "actions": list(sla.actions), "pipelines": []}
    for spec in config.pipelines:
        found = watched(audit, spec.name)
        seen = touches(audit, [w.handoff_key for w in found])
        counts: Counter[str] = Counter()
        for w in found:
            touch = seen.get(w.handoff_key, Touch())
            if touch.at is not None:
                counts["met"] += 1
            else:
                counts["due" if now > deadline(w.decided_at, hours, cal) else "pending"] += 1
        breaches = audit.rows(
            "SELECT o.lead_key, o.handoff_key, o.at, o.detail, EXISTS (SELECT 1 FROM outcomes t "
            "WHERE t.handoff_key = o.handoff_key AND t.kind = ?) AS touched FROM outcomes o "
            "WHERE o.kind = ? AND EXISTS (SELECT 1 FROM decisions d WHERE d.lead_key = "
            "o.lead_key AND d.handoff_key = o.handoff_key AND d.pipeline = ?) ORDER BY o.at",
            (OutcomeKind.FIRST_TOUCH, OutcomeKind.SLA_BREACHED, spec.name))
        open_ = [b for b in breaches if not b["touched"]]
        actions = audit.rows(
            "SELECT state, COUNT(*) AS n FROM writes WHERE pipeline = ? AND handoff_key LIKE "
            "'%:sla:%' GROUP BY state", (spec.name,))
        out["pipelines"].append({
            "name": spec.name,
            "met": counts["met"], "pending": counts["pending"], "due": counts["due"],
            "breached": len(breaches), "open_breaches": len(open_),
            "actions": {r["state"]: int(r["n"]) for r in actions},
            "open": [{"lead_key": b["lead_key"], "handoff_key": b["handoff_key"],
                      "deadline": b["at"], "owner": _owner(b["detail"])}
                     for b in open_[:SHOWN]],
        })
    return out


def render(data: dict[str, Any]) -> str:
    """The text ``sync-agent sla`` prints."""
    if not data["enabled"]:
        head = "SLA watch off: add an [sla] table to the config (docs/sla.md)"
    else:
        where = (f"{data['business_hours']} {data['time_zone']}" if data["business_hours"]
                 else "24/7")
        head = (f"SLA {data['hours']:g} h ({where}); actions: "
                f"{', '.join(data['actions']) or 'none (breaches recorded only)'}")
    lines = [head]
    for p in data["pipelines"]:
        lines.append(f"{p['name']}: met {p['met']}, pending {p['pending']}, due {p['due']}, "
                     f"breached {p['breached']} ({p['open_breaches']} open)")
        if p["actions"]:
            lines.append("  actions        " + ", ".join(
                f"{state} {n}" for state, n in sorted(p["actions"].items())))
        for b in p["open"]:
            lines.append(f"  open breach    {b['lead_key']} due {_minute(b['deadline'])} "
                         f"owner {b['owner'] or '-'}")
        if p["open_breaches"] > len(p["open"]):
            lines.append(f"  ... and {p['open_breaches'] - len(p['open'])} more (--json)")
    return "\n".join(lines)


def _minute(stamp: str) -> str:
    """An ISO deadline to the minute, in UTC, for people (``--json`` keeps it whole)."""
    try:
        moment = datetime.fromisoformat(stamp)
    except (TypeError, ValueError):
        return str(stamp)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _owner(detail: str | None) -> str | None:
    try:
        data = json.loads(detail or "{}")
    except ValueError:
        return None
    return data.get("owner") if isinstance(data, dict) else None
