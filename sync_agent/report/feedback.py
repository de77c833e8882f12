"""Feedback per rule: of the SALs each rule let through, what sales did with them.

A rule *let a SAL through* when its check in the handing-off decision's explanation
passed: a gate held, a disqualifier did not fire, a fast lane matched, the score reached the
threshold. A criterion is split in four **bands** by the points it gave, as a share of its
weight: ``none`` (0), ``low`` (under half), ``high`` (half or more), ``full`` (all of it);
every SAL falls in one band of each criterion its ruleset has.

**The flag.** A rule is flagged when sales rejects its SALs far more often than the other
SALs of the window (those it did not let through), all of these holding:

* at least :data:`MIN_LEADS` SALs on each side;
* its rejection rate is at least :data:`RATIO` × the others' rate;
* a one-sided two-proportion z-test (pooled) says the difference is unlikely to be chance:
  z ≥ :data:`Z_CRITICAL` (p < 0.05).

A gate or disqualifier lets every SAL of its ruleset through, so it has no "others" (and
is never flagged) unless the window mixes rulesets with and without it. Pure: rows come
from :mod:`.loop`.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from sync_agent.model import OutcomeKind
from sync_agent.report.funnel import pct, rejection_reason, sql_at
from sync_agent.report.loop import Check, Sal

MIN_LEADS = 10
RATIO = 1.5
Z_CRITICAL = 1.645  # one-sided, p < 0.05
TOP_REASONS = 3
_COUNTS = ("sals", "sql", "opportunity", "rejected", "recycled")

#: The order rules are listed in, and how each kind reads.
KINDS = ("gate", "disqualifier", "fast_lane", "threshold", "criterion")
BANDS = ("none", "low", "high", "full")
_BAND_WORDS = {"none": "0 points", "low": "< half", "high": "≥ half", "full": "full points"}


@dataclass
class RuleFeedback:
    """One rule (or criterion band) and the SALs it let through."""

    rule: str  # "gate:email_present", "fast_lane:trial", "criterion:lead_score:full"
    kind: str
    name: str
    band: str | None  # criteria only: none | low | high | full
    label: str
    sals: int = 0
    sql: int = 0  # reached SQL (sql or opportunity event)
    opportunity: int = 0
    rejected: int = 0
    recycled: int = 0
    sql_pct: float | None = None
    opportunity_pct: float | None = None
    rejected_pct: float | None = None
    others_sals: int = 0  # the window's other SALs (that this rule did not let through)
    others_rejected: int = 0
    others_rejected_pct: float | None = None
    ratio: float | None = None  # rejected_pct / others_rejected_pct
    z: float | None = None  # the two-proportion z statistic
    flagged: bool = False
    top_rejection_reasons: dict[str, int] = field(default_factory=dict)


def band(check: Check) -> str | None:
    """A criterion's band by the points it gave (None: not a criterion with a weight)."""
    if check.kind != "criterion" or not check.max_points or check.max_points <= 0:
        return None
    points = check.points or 0.0
    if points <= 0:
        return "none"
    if points >= check.max_points - 1e-9:
        return "full"
    return "high" if points / check.max_points >= 0.5 else "low"


def rules_of(sal: Sal) -> set[str]:
    """The rules (and criterion bands) that let this SAL through."""
    found: set[str] = set()
    for check in sal.checks:
        if check.kind == "criterion":
            b = band(check)
            if b:
                found.add(f"criterion:{check.name}:{b}")
        elif check.kind in KINDS and check.passed:
            found.add(f"{check.kind}:{check.name}")
    return found


def label(rule: str) -> str:
    kind, _, rest = rule.partition(":")
    if kind == "criterion":
        name, _, b = rest.rpartition(":")
        return f"criterion {name} {_BAND_WORDS.get(b, b)}"
    if kind == "threshold":
        return f"threshold reached ({rest})"
    if kind == "disqualifier":
        return f"disqualifier {rest} not fired"
    return f"{kind.replace('_', ' ')} {rest}"


def z_test(x1: int, n1: int, x0: int, n0: int) -> float | None:
    """The pooled two-proportion z statistic of x1/n1 against x0/n0 (None: undefined)."""
    if not n1 or not n0:
        return None
    pooled = (x1 + x0) / (n1 + n0)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    if spread == 0:
        return None
    return (x1 / n1 - x0 / n0) / spread


class FeedbackCounter:
    """Adds SALs up per rule; :meth:`result` applies the flag test."""

    def __init__(self) -> None:
        self.total = 0
        self.total_rejected = 0
        self.counts: dict[str, list[int]] = {}  # rule -> [sals, sql, opportunity, ...]
        self.reasons: dict[str, Counter[str]] = {}
        self.seen: dict[tuple[Check, ...], set[str]] = {}

    def add(self, sal: Sal) -> None:
        rejected = sal.has(OutcomeKind.REJECTED)
        self.total += 1
        self.total_rejected += rejected
        rules = self.seen.get(sal.checks)
        if rules is None:
            rules = self.seen[sal.checks] = rules_of(sal)
        adds = (1, sql_at(sal) is not None, sal.has(OutcomeKind.OPPORTUNITY), rejected,
                sal.has(OutcomeKind.RECYCLED))  # fmt: skip
        reason = rejection_reason(sal) if rejected else None
        for rule in rules:
            c = self.counts.get(rule)
            if c is None:
                c = self.counts[rule] = [0] * len(_COUNTS)
            for i, n in enumerate(adds):
                c[i] += n
            if reason is not None:
                self.reasons.setdefault(rule, Counter())[reason] += 1

    def result(self) -> list[RuleFeedback]:
        out = [self._one(rule, c) for rule, c in self.counts.items()]
        return sorted(out, key=_order)

    def _one(self, rule: str, counts: list[int]) -> RuleFeedback:
        c = dict(zip(_COUNTS, counts, strict=True))
        kind, _, rest = rule.partition(":")
        name, b = (rest.rpartition(":")[0], rest.rpartition(":")[2]) if kind == "criterion" \
            else (rest, None)  # fmt: skip
        f = RuleFeedback(rule, kind, name, b, label(rule), c["sals"], c["sql"],
                         c["opportunity"], c["rejected"], c["recycled"])  # fmt: skip
        f.sql_pct, f.opportunity_pct = pct(f.sql, f.sals), pct(f.opportunity, f.sals)
        f.rejected_pct = pct(f.rejected, f.sals)
        f.others_sals = self.total - f.sals
        f.others_rejected = self.total_rejected - f.rejected
        f.others_rejected_pct = pct(f.others_rejected, f.others_sals)
        mine = f.rejected / f.sals if f.sals else 0.0
        theirs = f.others_rejected / f.others_sals if f.others_sals else None
        if theirs:
            f.ratio = round(mine / theirs, 2)
        z = z_test(f.rejected, f.sals, f.others_rejected, f.others_sals)
        f.z = round(z, 2) if z is not None else None
        f.flagged = (
            f.sals >= MIN_LEADS
            and f.others_sals >= MIN_LEADS
            and theirs is not None
            and mine > 0
            and mine >= RATIO * theirs
            and z is not None
            and z >= Z_CRITICAL
        )
        reasons = self.reasons.get(rule, Counter())
        f.top_rejection_reasons = dict(
            sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_REASONS]
        )
        return f


def _order(f: RuleFeedback) -> tuple[int, str, int]:
    kind = KINDS.index(f.kind) if f.kind in KINDS else len(KINDS)
    return kind, f.name, BANDS.index(f.band) if f.band in BANDS else -1
