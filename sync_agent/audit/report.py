"""The SAL report: MQL→SAL conversion against the seed-004 benchmark bands, rejections by
reason and by criterion, median time from MQL date to SAL, write-back failures and dead
letters — overall, per pipeline and per source. Dry-run decisions never count.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sync_agent.audit.queries import QueriesMixin

#: Seed 004: MQL→SAL benchmarks. (low, high, label) in percent.
BANDS: tuple[tuple[float, float, str], ...] = (
    (20.0, 30.0, "fast sales cycles"),
    (5.0, 15.0, "technology"),
)
MISALIGNMENT_BELOW = 10.0


@dataclass
class Section:
    """Figures for one slice (all, one pipeline, one source)."""

    mqls: int = 0
    sals: int = 0
    rejected: int = 0
    review: int = 0
    decisions: int = 0
    rate_pct: float | None = None
    rejections_by_reason: dict[str, int] = field(default_factory=dict)
    rejections_by_criterion: dict[str, int] = field(default_factory=dict)
    median_hours_mql_to_sal: float | None = None
    write_failures: int = 0
    dead_letters: int = 0
    assessment: str = ""


@dataclass
class Report:
    since: str | None
    generated_at: str
    overall: Section
    pipelines: dict[str, Section]
    sources: dict[str, Section]
    bands: list[dict[str, Any]] = field(
        default_factory=lambda: (
            [{"low_pct": lo, "high_pct": hi, "label": label} for lo, hi, label in BANDS]
            + [{"below_pct": MISALIGNMENT_BELOW, "label": "suggests misalignment"}]
        )
    )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def assess(rate: float | None) -> str:
    """Place a conversion rate against the seed-004 bands."""
    if rate is None:
        return "no MQLs evaluated"
    notes = [
        f"within the {label} band ({lo:g}–{hi:g} %)" for lo, hi, label in BANDS if lo <= rate <= hi
    ]
    if rate < MISALIGNMENT_BELOW:
        notes.append(
            f"below {MISALIGNMENT_BELOW:g} %: suggests misalignment between marketing and sales"
        )
    return "; ".join(notes) or "outside the benchmark bands"


def build_report(
    log: QueriesMixin, *, since: datetime | None = None, now: datetime | None = None
) -> Report:
    """Compute the report from the audit log (SQL aggregates; no whole-log lists)."""
    cond, params = "dry_run = 0", []
    if since:
        cond += " AND decided_at >= ?"
        params.append(since.isoformat())
    slices: dict[tuple[str, str], Section] = defaultdict(Section)
    for dim in ("all", "pipeline", "source"):
        key = "'all'" if dim == "all" else dim
        _counts(log, slices, dim, key, cond, params)
        _reasons(log, slices, dim, key, cond, params)
        _criteria(log, slices, dim, key, cond, params)
        _writes(log, slices, dim, f"decisions.{dim}" if dim != "all" else key, cond, params)
        _medians(log, slices, dim, key, cond, params)
    for section in slices.values():
        section.rate_pct = round(100.0 * section.sals / section.mqls, 1) if section.mqls else None
        section.assessment = assess(section.rate_pct)
    return Report(
        since=since.isoformat() if since else None,
        generated_at=(now or datetime.now(UTC)).isoformat(),
        overall=slices.get(("all", "all"), Section(assessment=assess(None))),
        pipelines={k: v for (d, k), v in sorted(slices.items()) if d == "pipeline"},
        sources={k: v for (d, k), v in sorted(slices.items()) if d == "source"},
    )


def _counts(
    log: QueriesMixin,
    out: dict[tuple[str, str], Section],
    dim: str,
    key: str,
    cond: str,
    params: list[Any],
) -> None:
    sql = (
        f"SELECT {key} AS k, COUNT(*) AS decisions, COUNT(DISTINCT lead_key) AS mqls, "
        "COUNT(DISTINCT CASE WHEN outcome='accepted' THEN lead_key END) AS sals, "
        "SUM(outcome='rejected') AS rejected, SUM(outcome='review') AS review "
        f"FROM decisions WHERE {cond} GROUP BY 1"
    )
    for r in log.rows(sql, params):
        s = out[(dim, str(r["k"]))]
        s.decisions, s.mqls, s.sals = r["decisions"], r["mqls"], r["sals"]
        s.rejected, s.review = r["rejected"] or 0, r["review"] or 0


def _reasons(
    log: QueriesMixin,
    out: dict[tuple[str, str], Section],
    dim: str,
    key: str,
    cond: str,
    params: list[Any],
) -> None:
    # "score 42.5 < 70" and "score 51 < 70" are one reason: below the threshold.
    sql = (
        f"SELECT {key} AS k, CASE WHEN j.value GLOB 'score * < *' "
        "THEN 'score < ' || substr(j.value, instr(j.value, ' < ') + 3) ELSE j.value END "
        "AS reason, COUNT(*) AS n FROM decisions, json_each(decisions.reasons) j "
        f"WHERE {cond} AND outcome = 'rejected' GROUP BY 1, 2 ORDER BY n DESC"
    )
    for r in log.rows(sql, params):
        out[(dim, str(r["k"]))].rejections_by_reason[str(r["reason"])] = r["n"]


def _criteria(
    log: QueriesMixin,
    out: dict[tuple[str, str], Section],
    dim: str,
    key: str,
    cond: str,
    params: list[Any],
) -> None:
    """Top-level checks that did not pass on rejected leads, by name."""
    sql = (
        f"SELECT {key} AS k, json_extract(j.value, '$.kind') || ':' || json_extract(j.value, "
        "'$.name') AS crit, "
        "COUNT(*) AS n FROM decisions, json_each(decisions.explanation) j "
        f"WHERE {cond} AND outcome = 'rejected' AND json_extract(j.value, '$.passed') = 0 "
        "AND json_extract(j.value, '$.kind') IN ('gate', 'disqualifier', 'criterion', 'threshold') "
        "GROUP BY 1, 2 ORDER BY n DESC"
    )
    for r in log.rows(sql, params):
        out[(dim, str(r["k"]))].rejections_by_criterion[str(r["crit"])] = r["n"]


def _writes(
    log: QueriesMixin,
    out: dict[tuple[str, str], Section],
    dim: str,
    key: str,
    cond: str,
    params: list[Any],
) -> None:
    sql = (
        f"SELECT {key} AS k, SUM(w.state='retryable') AS failures, SUM(w.state='dead') AS dead "
        f"FROM writes w JOIN decisions ON decisions.id = w.decision_id WHERE {cond} GROUP BY 1"
    )
    for r in log.rows(sql, params):
        s = out[(dim, str(r["k"]))]
        s.write_failures, s.dead_letters = r["failures"] or 0, r["dead"] or 0


def _medians(
    log: QueriesMixin,
    out: dict[tuple[str, str], Section],
    dim: str,
    key: str,
    cond: str,
    params: list[Any],
) -> None:
    hours: dict[str, list[float]] = defaultdict(list)
    sql = (
        f"SELECT {key} AS k, mql_date, MIN(decided_at) AS sal_at FROM decisions "
        f"WHERE {cond} AND outcome = 'accepted' AND mql_date IS NOT NULL GROUP BY lead_key, 1"
    )
    for r in log.rows(sql, params):
        start, end = _parse(r["mql_date"]), _parse(r["sal_at"])
        if start and end:
            hours[str(r["k"])].append((end - start).total_seconds() / 3600)
    for k, values in hours.items():
        out[(dim, k)].median_hours_mql_to_sal = round(statistics.median(values), 2)


def _parse(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def render_text(report: Report) -> str:
    """The report as plain text for a terminal."""
    lines = [
        f"SAL report{' since ' + report.since if report.since else ''} (generated "
        f"{report.generated_at})"
    ]
    bands = ", ".join(f"{lo:g}–{hi:g} % {label}" for lo, hi, label in BANDS)
    lines.append(
        f"Benchmarks (seed 004): {bands}; below {MISALIGNMENT_BELOW:g} % suggests misalignment"
    )
    blocks = [("All pipelines", report.overall)]
    blocks += [(f"Pipeline {k}", v) for k, v in report.pipelines.items()]
    blocks += [(f"Source {k}", v) for k, v in report.sources.items()]
    for title, s in blocks:
        lines += ["", title, _line(s)]
        lines.append(f"  median MQL date → SAL: {_hours(s.median_hours_mql_to_sal)}")
        lines.append(f"  write-back failures: {s.write_failures}, dead letters: {s.dead_letters}")
        lines += _top("rejections by reason", s.rejections_by_reason)
        lines += _top("rejections by criterion", s.rejections_by_criterion)
    return "\n".join(lines) + "\n"


def _line(s: Section) -> str:
    rate = f"{s.rate_pct:.1f} %" if s.rate_pct is not None else "n/a"
    return (
        f"  MQLs evaluated: {s.mqls}, SALs: {s.sals}, rejected: {s.rejected}, review: {s.review}\n"
        f"  MQL→SAL rate: {rate} ({s.assessment})"
    )


def _hours(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} h"


def _top(title: str, counts: dict[str, int], n: int = 8) -> list[str]:
    if not counts:
        return []
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
    return [f"  {title}:"] + [f"    {count:6d}  {name}" for name, count in ranked]
