"""The funnel, SLA and per-rule feedback computed again, independently, from the raw rows.

Plain Python over ``SELECT *`` of ``decisions`` and ``outcomes``, from the definitions in
``docs/report.md`` (no code shared with ``sync_agent.report``): the window's SALs are the
leads with a decision in ``[since, until)`` accepted before ``until``; each is described by
its first accepted decision; its events are the earliest of each kind over every system.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

COUNTED = ("sals", "with_outcomes", "first_touched", "sql", "opportunity", "rejected", "recycled")


def when(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def load(db: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    decisions = [dict(r) for r in conn.execute("SELECT * FROM decisions")]
    outcomes = [dict(r) for r in conn.execute("SELECT * FROM outcomes")]
    conn.close()
    return decisions, outcomes


def window_sals(decisions: list[dict[str, Any]], since: datetime | None,
                until: datetime | None) -> list[dict[str, Any]]:  # fmt: skip
    low = since or datetime.min.replace(tzinfo=UTC)
    high = until or datetime.max.replace(tzinfo=UTC)
    real = [d for d in decisions if not d["dry_run"]]
    in_window = {d["lead_key"] for d in real if low <= when(d["decided_at"]) < high}
    first: dict[str, dict[str, Any]] = {}
    for d in sorted(real, key=lambda d: (when(d["decided_at"]), d["id"])):
        if d["outcome"] == "accepted" and when(d["decided_at"]) < high:
            first.setdefault(d["lead_key"], d)
    return [first[k] for k in sorted(in_window) if k in first]


def events_of(outcomes: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """handoff key -> kind -> {at, reason, owner}: the earliest, with a reason or owner any
    system gave."""
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for o in outcomes:
        grouped[(o["handoff_key"], o["kind"])].append(o)
    out: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for (key, kind), rows in grouped.items():
        rows.sort(key=lambda o: when(o["at"]))
        owners = [json.loads(o["detail"]).get("owner") for o in rows]
        out[key][kind] = {
            "at": when(rows[0]["at"]),
            "reason": next((o["reason"] for o in rows if o["reason"]), None),
            "owner": next((w for w in owners if w), None),
        }
    return out


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = q * (len(ordered) - 1)
    below, above = math.floor(rank), math.ceil(rank)
    return ordered[below] + (ordered[above] - ordered[below]) * (rank - below)


def spread(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"leads": 0, "median_hours": None, "p90_hours": None}
    return {"leads": len(values), "median_hours": round(quantile(values, 0.5), 2),
            "p90_hours": round(quantile(values, 0.9), 2)}  # fmt: skip


def share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def expected_loop(db: Path, since: datetime | None = None, until: datetime | None = None,
                  campaign_field: str = "campaign") -> dict[str, Any]:  # fmt: skip
    """``funnel`` and ``feedback`` (rule -> figures) as the report's JSON should have them."""
    decisions, outcomes = load(db)
    sals = window_sals(decisions, since, until)
    events = events_of(outcomes)
    hours: dict[str, list[float]] = defaultdict(list)
    counts: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    sla: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    per_rule: dict[str, Counter[str]] = defaultdict(Counter)
    rule_reasons: dict[str, Counter[str]] = defaultdict(Counter)
    for d in sals:
        ev = events.get(d["handoff_key"], {})
        accepted = when(d["decided_at"])
        snapshot = json.loads(d["snapshot"])
        counts["sals"] += 1
        counts["with_outcomes"] += bool(ev)
        reached = ev.get("sql", ev.get("opportunity"))
        flags = {"sql": reached is not None, "opportunity": "opportunity" in ev,
                 "rejected": "rejected" in ev, "recycled": "recycled" in ev}  # fmt: skip
        counts["first_touched"] += "first_touch" in ev
        for name, yes in flags.items():
            counts[name] += yes
        why = (ev["rejected"]["reason"] or "(no reason given)") if flags["rejected"] else None
        if why:
            reasons[why] += 1
        if d["mql_date"] and (since is None or accepted >= since):
            hours["mql"].append(max(0.0, (accepted - when(d["mql_date"])).total_seconds() / 3600))
        if "first_touch" in ev:
            hours["touch"].append(max(0.0, (ev["first_touch"]["at"] - accepted).total_seconds()
                                      / 3600))  # fmt: skip
        if reached:
            hours["sql"].append(max(0.0, (reached["at"] - accepted).total_seconds() / 3600))
        state = ("breached" if "sla_breached" in ev else
                 "met" if "first_touch" in ev else "pending")  # fmt: skip
        owner = ((ev.get("first_touch") or {}).get("owner")
                 or (ev.get("sla_breached") or {}).get("owner")
                 or snapshot.get("owner") or snapshot.get("owner_id") or "(unknown)")  # fmt: skip
        for group, key in (("all", "all"), ("owner", owner),
                           ("source", snapshot.get("lead_source") or "(none)"),
                           ("campaign", snapshot.get(campaign_field) or "(none)")):  # fmt: skip
            sla[group][key][state] += 1
        for rule in rules_let_through(json.loads(d["explanation"])):
            per_rule[rule]["sals"] += 1
            for name, yes in flags.items():
                per_rule[rule][name] += yes
            if why:
                rule_reasons[rule][why] += 1
    funnel = {
        **{k: counts[k] for k in COUNTED},
        "sal_to_sql_pct": share(counts["sql"], counts["sals"]),
        "sal_to_opportunity_pct": share(counts["opportunity"], counts["sals"]),
        "rejected_pct": share(counts["rejected"], counts["sals"]),
        "rejection_reasons": dict(reasons),
        "mql_to_sal": spread(hours["mql"]),
        "sal_to_first_touch": spread(hours["touch"]),
        "sal_to_sql": spread(hours["sql"]),
        "sla": attainment(sla["all"]["all"]),
        "sla_by_owner": {k: attainment(v) for k, v in sla["owner"].items()},
        "sla_by_lead_source": {k: attainment(v) for k, v in sla["source"].items()},
        "sla_by_campaign": {k: attainment(v) for k, v in sla["campaign"].items()},
    }
    return {"funnel": funnel, "feedback": feedback(per_rule, rule_reasons, counts)}


def attainment(c: Counter[str]) -> dict[str, Any]:
    total = c["met"] + c["breached"] + c["pending"]
    return {"sals": total, "met": c["met"], "breached": c["breached"], "pending": c["pending"],
            "attainment_pct": share(c["met"], c["met"] + c["breached"])}  # fmt: skip


def rules_let_through(explanation: list[dict[str, Any]]) -> set[str]:
    found = set()
    for check in explanation:
        kind, name = check["kind"], check["name"]
        if kind == "criterion":
            got, most = float(check.get("points") or 0), float(check["max_points"])
            part = ("none" if got == 0 else "full" if got == most
                    else "high" if got * 2 >= most else "low")  # fmt: skip
            found.add(f"criterion:{name}:{part}")
        elif kind in ("gate", "disqualifier", "fast_lane", "threshold") and check["passed"]:
            found.add(f"{kind}:{name}")
    return found


def feedback(per_rule: dict[str, Counter[str]], rule_reasons: dict[str, Counter[str]],
             counts: Counter[str]) -> dict[str, dict[str, Any]]:  # fmt: skip
    out = {}
    for rule, c in per_rule.items():
        n1, x1 = c["sals"], c["rejected"]
        n0, x0 = counts["sals"] - n1, counts["rejected"] - x1
        p1, p0 = x1 / n1, (x0 / n0 if n0 else None)
        z = None
        if n0:
            p = (x1 + x0) / (n1 + n0)
            se = math.sqrt(p * (1 - p) * (1 / n1 + 1 / n0))
            z = (p1 - x0 / n0) / se if se else None
        flagged = bool(n1 >= 10 and n0 >= 10 and p0 is not None and p1 > 0
                       and p1 >= 1.5 * p0 and z is not None and z >= 1.645)  # fmt: skip
        top = sorted(rule_reasons[rule].items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        out[rule] = {"sals": n1, "sql": c["sql"], "opportunity": c["opportunity"],
                     "rejected": x1, "recycled": c["recycled"], "others_sals": n0,
                     "others_rejected": x0, "flagged": flagged,
                     "top_rejection_reasons": dict(top)}  # fmt: skip
    return out
