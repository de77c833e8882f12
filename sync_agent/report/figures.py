"""The report's figures as plain data: what ``--json`` prints and the renderers read.

How leads are counted (the same everywhere, see ``docs/report.md``): a lead counts once
per slice (all, one pipeline, one source) by its latest non-dry-run decision in the window;
a lead accepted at any time before the window's end counts as a SAL ("accepted" is sticky:
the agent never hands a lead off twice, and its CRM keeps the SAL status even when a later
re-evaluation would reject it). Where one lead counts more than once, the field says so.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sync_agent.report.benchmarks import BANDS, MISALIGNMENT_BELOW, SOURCE
from sync_agent.report.feedback import RuleFeedback
from sync_agent.report.funnel import Funnel

#: Time from MQL date to SAL, the buckets of its distribution: (label, upper bound in hours).
TIME_BUCKETS: tuple[tuple[str, float], ...] = (
    ("< 1 h", 1),
    ("1–24 h", 24),
    ("1–3 days", 72),
    ("3–7 days", 168),
    ("1–4 weeks", 672),
    ("1–3 months", 2160),
    ("> 3 months", float("inf")),
)


@dataclass
class SinkWrites:
    """Where the slice's leads stand with one sink: the state of each lead's latest write.

    States are the ``writes`` table's; a lead counts once per sink (and so once in each
    sink's figures: the sinks do not add up to leads).
    """

    leads: int = 0  # leads of the slice with a write for this sink
    written: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> leads
    pending: int = 0  # pending or in_flight: not answered yet
    waiting: int = 0  # the CRM record does not exist yet (a CRM sync creates it later)
    retryable: int = 0  # failed for now, being retried
    dead: int = 0  # dead letters: `sync-agent replay` once the cause is fixed
    sals: int = 0
    sals_written: int = 0
    sals_not_written: dict[str, int] = field(default_factory=dict)  # why -> SAL leads

    @property
    def sals_not_written_total(self) -> int:
        return sum(self.sals_not_written.values())


@dataclass
class TimeToSal:
    """Time from a lead's MQL date to its first acceptance, for the leads that became SALs
    in the window (SALs without an MQL date are left out; ``sals`` is how many are in)."""

    sals: int = 0
    median_hours: float | None = None
    p25_hours: float | None = None
    p75_hours: float | None = None
    max_hours: float | None = None
    buckets: dict[str, int] = field(default_factory=dict)  # TIME_BUCKETS label -> leads


@dataclass
class Section:
    """Figures for one slice (all, one pipeline, one source); counts are leads unless named
    otherwise."""

    mqls: int = 0  # leads evaluated in the window
    sals: int = 0
    review: int = 0  # latest decision: review (never accepted)
    rejected: int = 0  # latest decision: rejected (never accepted)
    decisions: int = 0  # decisions in the window: a re-decided lead has several
    redecided: int = 0  # leads with more than one decision in the window
    rate_pct: float | None = None
    # Rejected leads by the reasons of their latest decision. A lead can have several
    # reasons (two gates failed), so these add up to more than ``rejected``.
    rejections_by_reason: dict[str, int] = field(default_factory=dict)
    several_reasons: int = 0  # rejected leads counted under more than one reason
    # The checks that rejected: failed gates and firing disqualifiers; for leads rejected
    # on the score alone, ``threshold:…`` and the criteria that earned no points.
    rejections_by_criterion: dict[str, int] = field(default_factory=dict)
    below_threshold: int = 0  # rejected on the score alone (no gate or disqualifier)
    time_to_sal: TimeToSal = field(default_factory=TimeToSal)
    median_hours_mql_to_sal: float | None = None
    writes: dict[str, SinkWrites] = field(default_factory=dict)  # sink -> where leads stand
    write_failures: int = 0  # leads being retried, summed over sinks
    dead_letters: int = 0  # leads with a dead letter, summed over sinks
    assessment: str = ""
    advice: str = ""


@dataclass
class Period:
    """One day or week of the rate over time, counted like a report of that period alone
    (a lead decided in several periods counts in each)."""

    start: str  # date, inclusive
    end: str  # date, exclusive
    mqls: int = 0
    sals: int = 0
    review: int = 0
    rejected: int = 0
    rate_pct: float | None = None


def _bands() -> list[dict[str, Any]]:
    return [{"low_pct": lo, "high_pct": hi, "label": label} for lo, hi, label in BANDS] + [
        {"below_pct": MISALIGNMENT_BELOW, "label": "suggests misalignment"}
    ]


@dataclass
class Report:
    since: str | None
    until: str | None
    generated_at: str
    overall: Section
    pipelines: dict[str, Section]
    sources: dict[str, Section]
    period: str = "week"  # the step of ``periods``: "day" or "week"
    periods: list[Period] = field(default_factory=list)
    bands: list[dict[str, Any]] = field(default_factory=_bands)
    bands_source: str = SOURCE
    # What sales did after the handoffs (``funnel.py``, ``feedback.py``): the overall SALs'
    # funnel and SLA, and the feedback per rule. ``outcome_events`` = 0: no read-back yet.
    outcome_events: int = 0
    funnel: Funnel = field(default_factory=Funnel)
    feedback: list[RuleFeedback] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for section in (data["overall"], *data["pipelines"].values(), *data["sources"].values()):
            for sink in section["writes"].values():
                sink["sals_not_written_total"] = sum(sink["sals_not_written"].values())
        return data
