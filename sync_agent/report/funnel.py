"""Past the SAL: SAL→SQL and SAL→opportunity, SAL velocity, and the follow-up SLA.

Pure: :class:`FunnelCounter` takes the window's SALs one at a time (:mod:`.loop` streams
them) and keeps counts, plus one duration per SAL for the medians. ``docs/report.md``
defines every figure; in short:

* **reached SQL** = an ``sql`` or an ``opportunity`` event (a lead converted straight to an
  opportunity went past SQL); its time is the ``sql`` event's, else the opportunity's.
* **SLA**: *met* = a first touch and no ``sla_breached`` event, *breached* = an
  ``sla_breached`` event, *pending* = neither. Attainment = met / (met + breached).
* **owner**: of the first touch, else of the SLA breach, else an owner field of the lead's
  snapshot, else ``(unknown)``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sync_agent.model import OutcomeKind
from sync_agent.report.loop import Sal

UNKNOWN = "(unknown)"
NONE = "(none)"
NO_REASON = "(no reason given)"


@dataclass
class Durations:
    """How long a step took, over the SALs that made it (hours)."""

    leads: int = 0
    median_hours: float | None = None
    p90_hours: float | None = None


@dataclass
class Attainment:
    """The follow-up SLA over a group of SALs (each counts once)."""

    sals: int = 0
    met: int = 0
    breached: int = 0
    pending: int = 0
    attainment_pct: float | None = None  # met / (met + breached); None while all pending


@dataclass
class Funnel:
    """What sales did with the window's SALs (counts are SAL leads)."""

    sals: int = 0  # the report's SALs
    with_outcomes: int = 0  # of them, with at least one event read back
    first_touched: int = 0
    sql: int = 0  # reached SQL (an sql or an opportunity event)
    opportunity: int = 0
    rejected: int = 0  # sales rejected them
    recycled: int = 0  # sent back to nurture
    sal_to_sql_pct: float | None = None
    sal_to_opportunity_pct: float | None = None
    rejected_pct: float | None = None
    rejection_reasons: dict[str, int] = field(default_factory=dict)  # reason -> SALs
    mql_to_sal: Durations = field(default_factory=Durations)  # SALs first accepted in window
    sal_to_first_touch: Durations = field(default_factory=Durations)
    sal_to_sql: Durations = field(default_factory=Durations)
    sla: Attainment = field(default_factory=Attainment)
    sla_by_owner: dict[str, Attainment] = field(default_factory=dict)
    sla_by_lead_source: dict[str, Attainment] = field(default_factory=dict)
    sla_by_campaign: dict[str, Attainment] = field(default_factory=dict)


def sla_state(sal: Sal) -> str:
    """met, breached or pending (see the module docstring)."""
    if sal.has(OutcomeKind.SLA_BREACHED):
        return "breached"
    return "met" if sal.has(OutcomeKind.FIRST_TOUCH) else "pending"


def sql_at(sal: Sal) -> datetime | None:
    """When the SAL reached SQL: its sql event, else its opportunity event."""
    return sal.at(OutcomeKind.SQL) or sal.at(OutcomeKind.OPPORTUNITY)


def owner(sal: Sal) -> str:
    for kind in (OutcomeKind.FIRST_TOUCH, OutcomeKind.SLA_BREACHED):
        event = sal.events.get(kind)
        if event and event.owner:
            return event.owner
    return sal.crm_owner or UNKNOWN


def rejection_reason(sal: Sal) -> str:
    event = sal.events.get(OutcomeKind.REJECTED)
    return (event.reason if event else None) or NO_REASON


def hours(start: datetime, end: datetime) -> float:
    """Hours from start to end; an event stamped before its start counts as 0."""
    return max(0.0, (end - start).total_seconds() / 3600)


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by linear interpolation between closest ranks (numpy's
    default, Excel's PERCENTILE.INC) of sorted ``values``."""
    position = q * (len(values) - 1)
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


def durations(values: list[float]) -> Durations:
    if not values:
        return Durations()
    values = sorted(values)
    return Durations(
        leads=len(values),
        median_hours=round(percentile(values, 0.5), 2),
        p90_hours=round(percentile(values, 0.9), 2),
    )


def pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


class FunnelCounter:
    """Adds SALs up into a :class:`Funnel`; ``since`` limits MQL→SAL to the SALs first
    accepted in the window (as the report's own time to SAL)."""

    def __init__(self, since: datetime | None) -> None:
        self.since = since
        self.funnel = Funnel()
        self.reasons: Counter[str] = Counter()
        self.times: dict[str, list[float]] = {"mql": [], "touch": [], "sql": []}
        self.groups: dict[str, dict[str, Attainment]] = {"owner": {}, "source": {}, "campaign": {}}

    def add(self, sal: Sal) -> None:
        f = self.funnel
        f.sals += 1
        f.with_outcomes += bool(sal.events)
        touched, reached = sal.at(OutcomeKind.FIRST_TOUCH), sql_at(sal)
        f.first_touched += touched is not None
        f.sql += reached is not None
        f.opportunity += sal.has(OutcomeKind.OPPORTUNITY)
        f.recycled += sal.has(OutcomeKind.RECYCLED)
        if sal.has(OutcomeKind.REJECTED):
            f.rejected += 1
            self.reasons[rejection_reason(sal)] += 1
        if sal.mql_date and (self.since is None or sal.accepted_at >= self.since):
            self.times["mql"].append(hours(sal.mql_date, sal.accepted_at))
        if touched:
            self.times["touch"].append(hours(sal.accepted_at, touched))
        if reached:
            self.times["sql"].append(hours(sal.accepted_at, reached))
        state = sla_state(sal)
        _count(f.sla, state)
        for group, key in (("owner", owner(sal)), ("source", sal.lead_source or NONE),
                           ("campaign", sal.campaign or NONE)):  # fmt: skip
            _count(self.groups[group].setdefault(key, Attainment()), state)

    def result(self) -> Funnel:
        f = self.funnel
        f.sal_to_sql_pct = pct(f.sql, f.sals)
        f.sal_to_opportunity_pct = pct(f.opportunity, f.sals)
        f.rejected_pct = pct(f.rejected, f.sals)
        f.rejection_reasons = dict(sorted(self.reasons.items(), key=lambda kv: (-kv[1], kv[0])))
        f.mql_to_sal = durations(self.times["mql"])
        f.sal_to_first_touch = durations(self.times["touch"])
        f.sal_to_sql = durations(self.times["sql"])
        _finish(f.sla)
        f.sla_by_owner = _ranked(self.groups["owner"])
        f.sla_by_lead_source = _ranked(self.groups["source"])
        f.sla_by_campaign = _ranked(self.groups["campaign"])
        return f


def _count(a: Attainment, state: str) -> None:
    a.sals += 1
    setattr(a, state, getattr(a, state) + 1)


def _finish(a: Attainment) -> Attainment:
    a.attainment_pct = pct(a.met, a.met + a.breached)
    return a


def _ranked(groups: dict[str, Attainment]) -> dict[str, Attainment]:
    """Largest group first, then by name."""
    return {k: _finish(v) for k, v in sorted(groups.items(), key=lambda kv: (-kv[1].sals, kv[0]))}
