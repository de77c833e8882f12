"""The simulation's result as plain data: what ``--json`` prints and the text renderer reads.

Built from the merged :class:`~sync_agent.simulate.tally.Tally` of the whole log. The
MQL→SAL rates are placed against the benchmark bands of :mod:`sync_agent.report.benchmarks`
(the report's own bands, not a copy). Sales outcomes are ``None`` when none is known for
the simulated leads, with ``outcomes_note`` saying why: zeros would read as facts.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sync_agent.model import OutcomeKind
from sync_agent.report.benchmarks import BANDS, MISALIGNMENT_BELOW, SOURCE, advise, assess, in_bands
from sync_agent.simulate.tally import ACCEPTED, Example, Tally

OUTCOMES = ("accepted", "review", "rejected")
#: Sales outcome kinds that say the lead was worth handing off / not worth it.
GOOD_KINDS = ("sql", "opportunity")
NO_OUTCOMES = "no sales outcomes recorded yet"


@dataclass(frozen=True)
class Rate:
    """MQL→SAL on one side: SALs among the simulated leads, placed against the bands."""

    sals: int
    mqls: int
    rate_pct: float | None
    bands: list[str]  # the bands it falls in
    assessment: str
    advice: str


def rate(sals: int, mqls: int) -> Rate:
    pct = round(100.0 * sals / mqls, 1) if mqls else None
    return Rate(sals, mqls, pct, in_bands(pct) if pct is not None else [], assess(pct),
                advise(pct))  # fmt: skip


@dataclass(frozen=True)
class Flip:
    before: str
    after: str
    leads: int


@dataclass(frozen=True)
class RecordedRules:
    """A ruleset (by content hash) that made some of the recorded decisions."""

    name: str
    hash: str
    leads: int
    flips: int
    is_candidate: bool


@dataclass(frozen=True)
class SalesOutcomes:
    """What sales did with the simulated leads, where the CRMs reported it back.

    Leads are counted once per kind (a lead that became an SQL and then an opportunity
    counts in both). "Stopped" and "lost" are about the leads the candidate REJECTS;
    those it sends to review and those it still accepts are counted apart.
    """

    leads: int  # simulated leads with at least one sales outcome
    sals_with_outcomes: int  # of them, recorded as accepted (handed off)
    recorded_sals: int  # all simulated leads recorded as accepted
    by_kind: dict[str, int]
    stopped: int  # the candidate rejects them and sales had rejected them: good
    stopped_reasons: dict[str, int]  # sales' reasons for those
    lost_sql: int  # the candidate rejects them, yet they became SQLs: bad
    lost_opportunity: int  # ... or opportunities: bad
    to_review: dict[str, int]  # the candidate sends them to review: kind -> leads
    still_accepted: dict[str, int]  # the candidate keeps handing them off: kind -> leads


@dataclass
class Simulation:
    """Everything ``rules simulate`` found; :meth:`to_dict` for JSON."""

    audit_db: str
    candidate: dict[str, Any]  # name, hash, path
    since: str | None
    until: str | None
    pipeline: str | None
    now: str | None  # the fixed clock, or None: each lead at its own decision time
    snapshots: int  # leads re-decided
    flips: int
    by_kind: list[Flip]
    score_changed: int
    before: Rate
    after: Rate
    recorded: list[RecordedRules]
    outcomes: SalesOutcomes | None
    outcomes_note: str
    examples: list[Example]
    limit: int
    pruned: int = 0
    unreadable: int = 0
    errors: list[str] = field(default_factory=list)
    decisions_in_window: int = 0
    first_decided_at: str | None = None
    last_decided_at: str | None = None
    workers: int = 1
    live_rulesets: dict[str, str] = field(default_factory=dict)  # pipeline -> hash configured now
    message: str = ""  # set when there was nothing to simulate
    notes: list[str] = field(default_factory=list)

    @classmethod
    def empty(
        cls,
        audit_db: str,
        candidate: dict[str, Any],
        since: datetime | None,
        until: datetime | None,
        pipeline: str | None,
        now: datetime | None,
        limit: int,
        live_rulesets: dict[str, str] | None,
    ) -> Simulation:
        """A result with nothing counted yet (what an empty window returns as it is)."""
        return cls(
            audit_db=audit_db, candidate=candidate,
            since=since.isoformat() if since else None,
            until=until.isoformat() if until else None,
            pipeline=pipeline, now=now.isoformat() if now else None,
            snapshots=0, flips=0, by_kind=[], score_changed=0,
            before=rate(0, 0), after=rate(0, 0), recorded=[], outcomes=None,
            outcomes_note="", examples=[], limit=limit,
            live_rulesets=dict(live_rulesets or {}),
        )  # fmt: skip

    @property
    def flip_share_pct(self) -> float | None:
        return round(100.0 * self.flips / self.snapshots, 1) if self.snapshots else None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["examples"] = [e.to_dict() for e in self.examples]
        data["flip_share_pct"] = self.flip_share_pct
        data["bands"] = [{"low_pct": lo, "high_pct": hi, "label": label}
                         for lo, hi, label in BANDS]  # fmt: skip
        data["misalignment_below_pct"] = MISALIGNMENT_BELOW
        data["bands_source"] = SOURCE
        return data


def recorded_rules(t: Tally, candidate_hash: str) -> list[RecordedRules]:
    rows = [RecordedRules(name, h, leads, flips, h == candidate_hash)
            for h, (name, leads, flips) in t.recorded.items()]  # fmt: skip
    return sorted(rows, key=lambda r: (-r.leads, r.hash))


def flips(t: Tally) -> list[Flip]:
    """Counts by (before, after) where they differ, largest first."""
    found = [Flip(b, a, n) for (b, a), n in t.pairs.items() if b != a and n]
    return sorted(found, key=lambda f: (-f.leads, f.before, f.after))


_ORDER = {kind.value: i for i, kind in enumerate(OutcomeKind)}


def _in_order(item: tuple[tuple[str, str, str], int]) -> tuple[int, str]:
    kind = item[0][2]
    return _ORDER.get(kind, len(_ORDER)), kind


def sales_outcomes(t: Tally, outcomes_in_log: int) -> tuple[SalesOutcomes | None, str]:
    """The outcome figures, or None and why not."""
    if not outcomes_in_log:
        return None, (
            f"{NO_OUTCOMES}: nothing reads them back from the CRMs in this log, so "
            "there is nothing to say about SALs stopped or SQLs lost"
        )
    leads = sum(t.with_outcomes.values())
    if not leads:
        return None, (
            f"no sales outcome recorded for these leads ({outcomes_in_log:,} outcome "
            "event(s) in the log belong to other leads or pipelines)"
        )

    def kinds(after: str | None) -> dict[str, int]:
        """Leads by outcome kind (in the sales loop's order), of one ``after`` or all."""
        found: dict[str, int] = {}
        for (_, a, kind), n in sorted(t.outcome_kinds.items(), key=_in_order):
            if after is None or a == after:
                found[kind] = found.get(kind, 0) + n
        return found

    rejected = kinds("rejected")
    by_kind = kinds(None)
    reasons = {
        why: n for (after, why), n in t.rejection_reasons.most_common() if after == "rejected"
    }
    summary = SalesOutcomes(
        leads=leads,
        sals_with_outcomes=sum(n for (b, _), n in t.with_outcomes.items() if b == ACCEPTED),
        recorded_sals=sum(n for (b, _), n in t.pairs.items() if b == ACCEPTED),
        by_kind=by_kind,
        stopped=rejected.get("rejected", 0),
        stopped_reasons=reasons,
        lost_sql=rejected.get("sql", 0),
        lost_opportunity=rejected.get("opportunity", 0),
        to_review=kinds("review"),
        still_accepted=kinds(ACCEPTED),
    )
    return summary, ""
