"""Compute the report from the audit log: SQL aggregates over one row per lead.

Every figure starts from the ``leads`` common table expression: per slice key and lead,
its latest non-dry-run decision in the window ``[since, until)`` and the moment it was
first accepted (any time before ``until``: "accepted" is sticky). Counting leads, not
decisions, is what keeps the figures consistent after ``backfill --reevaluate``.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sync_agent.reasons import reason_label
from sync_agent.report import loop
from sync_agent.report.benchmarks import advise, assess
from sync_agent.report.feedback import FeedbackCounter
from sync_agent.report.figures import (
    TIME_BUCKETS,
    Period,
    Report,
    Section,
    SinkWrites,
    TimeToSal,
)
from sync_agent.report.funnel import FunnelCounter

if TYPE_CHECKING:
    from sync_agent.audit.queries import QueriesMixin

Slices = dict[tuple[str, str], Section]

#: Slice dimensions: name -> column of ``decisions`` (None: everything in one slice).
DIMENSIONS: dict[str, str | None] = {"all": None, "pipeline": "pipeline", "source": "source"}
FOREVER = "9999-12-31T23:59:59"  # an upper bound above every ISO timestamp
DAILY_UP_TO_DAYS = 31  # windows up to this long are charted per day, longer ones per week


def build_report(
    log: QueriesMixin,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    now: datetime | None = None,
    campaign_fields: Sequence[str] = loop.CAMPAIGN_FIELDS,
    owner_fields: Sequence[str] = loop.OWNER_FIELDS,
) -> Report:
    """The report for decisions made in ``[since, until)`` (both optional; naive = UTC);
    ``campaign_fields`` / ``owner_fields``: the snapshot fields the SLA's campaign and
    (when no outcome event names one) owner are read from, the first with a value."""
    since, until = _utc(since), _utc(until)
    params = {"since": since.isoformat() if since else "", "until": _iso(until) or FOREVER}
    slices: Slices = defaultdict(Section)
    rejections: dict[int, Rejection] = {}  # decision id -> what it counts for, all slices
    for dim, column in DIMENSIONS.items():
        key = f"d.{column}" if column else "'all'"
        cte = _leads_cte(key)
        _counts(log, slices, dim, cte, params)
        _rejections(log, slices, dim, cte, params, rejections)
        _time_to_sal(log, slices, dim, cte, params)
        _writes(log, slices, dim, cte, key, params)
    for section in slices.values():
        _finish(section)
    step, periods = _periods(log, since, until, params)
    funnel, feedback = FunnelCounter(since), FeedbackCounter()
    for sal in loop.sals(log, params, campaign_fields, owner_fields):
        funnel.add(sal)
        feedback.add(sal)
    return Report(
        since=since.isoformat() if since else None,
        until=_iso(until),
        generated_at=(now or datetime.now(UTC)).isoformat(),
        overall=slices.get(("all", "all"), Section(assessment=assess(None))),
        pipelines={k: v for (d, k), v in sorted(slices.items()) if d == "pipeline"},
        sources={k: v for (d, k), v in sorted(slices.items()) if d == "source"},
        period=step,
        periods=periods,
        outcome_events=loop.outcome_events(log),
        funnel=funnel.result(),
        feedback=feedback.result(),
    )


def _utc(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment and moment.tzinfo is None else moment


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _leads_cte(key: str) -> str:
    """One row per (slice key, lead): latest decision in the window, first acceptance.

    One grouping pass over the covering index ``decisions_window`` (schema v6), nothing
    read from the table: per lead, its latest decision in the window as ``"<zero-padded id>
    <outcome>"`` (the largest is the latest) and its first acceptance before ``until`` as
    ``"<decided_at> <id>"`` (the smallest is the earliest).
    """
    return f"""
WITH g AS (
  SELECT {key} AS k, d.lead_key, SUM(d.decided_at >= :since) AS n,
         MAX(CASE WHEN d.decided_at >= :since THEN printf('%015d ', d.id) || d.outcome END)
           AS last,
         MIN(CASE WHEN d.outcome = 'accepted' THEN d.decided_at || ' ' || d.id END) AS acc
  FROM decisions d WHERE d.dry_run = 0 AND d.decided_at < :until GROUP BY 1, 2
  HAVING last IS NOT NULL),
leads AS (
  SELECT g.k, g.lead_key, CAST(substr(g.last, 1, 15) AS INTEGER) AS latest, g.n,
         substr(g.acc, 1, instr(g.acc, ' ') - 1) AS first_sal,
         CAST(substr(g.acc, instr(g.acc, ' ') + 1) AS INTEGER) AS first_sal_id,
         CASE WHEN g.acc IS NOT NULL THEN 'accepted' ELSE substr(g.last, 17) END AS outcome
  FROM g)
"""


def _counts(log: QueriesMixin, out: Slices, dim: str, cte: str, params: dict[str, Any]) -> None:
    sql = cte + (
        "SELECT k, COUNT(*) AS mqls, SUM(outcome = 'accepted') AS sals, "
        "SUM(outcome = 'review') AS review, SUM(outcome = 'rejected') AS rejected, "
        "SUM(n) AS decisions, SUM(n > 1) AS redecided FROM leads GROUP BY k"
    )
    for r in log.rows(sql, params):
        s = out[(dim, str(r["k"]))]
        s.mqls, s.sals, s.review, s.rejected = r["mqls"], r["sals"], r["review"], r["rejected"]
        s.decisions, s.redecided = r["decisions"], r["redecided"]


#: A rejected decision as the report counts it: its reasons (the score's made one),
#: whether it has more than one, whether the score rejected it, the checks that did.
Rejection = tuple[tuple[str, ...], bool, bool, tuple[str, ...]]


def _rejections(
    log: QueriesMixin,
    out: Slices,
    dim: str,
    cte: str,
    params: dict[str, Any],
    known: dict[int, Rejection],
) -> None:
    """Rejected leads by the reasons of their latest decision, and the checks that rejected
    them: failed gates and firing disqualifiers; when the verdict's reason was the score,
    the threshold and the criteria that earned no points. Each decision is read once for
    every slice (``known``), a page at a time, its explanation parsed once."""
    latest = log.rows(cte + "SELECT k, latest FROM leads WHERE outcome = 'rejected'", params)
    missing = sorted({int(r["latest"]) for r in latest} - known.keys())
    seen: dict[str, tuple[loop.Check, ...]] = {}
    for start in range(0, len(missing), loop.PAGE):
        page = json.dumps(missing[start : start + loop.PAGE])
        for r in log.rows(
            f"SELECT d.id, d.reasons, {loop.CHECKS_SQL} FROM decisions d "
            "WHERE d.id IN (SELECT value FROM json_each(:ids))",
            {"ids": page},
        ):
            known[int(r["id"])] = _rejection(r, seen)
    for r in latest:
        reasons, several, on_score, checks = known[int(r["latest"])]
        section = out[(dim, str(r["k"]))]
        for reason in reasons:
            section.rejections_by_reason[reason] = section.rejections_by_reason.get(reason, 0) + 1
        section.several_reasons += several
        section.below_threshold += on_score
        for key in checks:
            section.rejections_by_criterion[key] = section.rejections_by_criterion.get(key, 0) + 1


def _rejection(row: dict[str, Any], seen: dict[str, tuple[loop.Check, ...]]) -> Rejection:
    try:
        raw = json.loads(row["reasons"] or "[]")
    except ValueError:
        raw = []
    reasons = [v for v in raw if isinstance(v, str)] if isinstance(raw, list) else []
    # "score 42.5 < 70" and "score 51 < 70" are one reason: below the threshold.
    named = tuple(
        "score < " + r[r.index(" < ") + 3 :] if r.startswith("score ") and r.find(" < ", 6) >= 0
        else r
        for r in reasons
    )  # fmt: skip
    on_score = any(r.startswith("score ") for r in reasons)
    kinds = ("criterion", "threshold") if on_score else ("gate", "disqualifier")
    checks = tuple(
        f"{c.kind}:{c.name}" for c in loop.checks_of(row, seen) if not c.passed and c.kind in kinds
    )
    return named, len(reasons) > 1, on_score, checks


def _time_to_sal(
    log: QueriesMixin, out: Slices, dim: str, cte: str, params: dict[str, Any]
) -> None:
    """MQL date → first acceptance, for the leads that became SALs in the window."""
    hours: dict[str, list[float]] = defaultdict(list)
    sql = cte + (
        "SELECT leads.k, leads.first_sal, a.mql_date FROM leads "
        "JOIN decisions a ON a.id = leads.first_sal_id "
        "WHERE leads.first_sal >= :since AND a.mql_date IS NOT NULL"
    )
    for r in log.rows(sql, params):
        start, end = loop.parse_time(r["mql_date"]), loop.parse_time(r["first_sal"])
        if start and end:
            hours[str(r["k"])].append(max(0.0, (end - start).total_seconds() / 3600))
    for k, values in hours.items():
        out[(dim, k)].time_to_sal = _distribution(values)


def _distribution(values: list[float]) -> TimeToSal:
    values = sorted(values)
    buckets = dict.fromkeys((label for label, _ in TIME_BUCKETS), 0)
    for v in values:
        label = next(label for label, upper in TIME_BUCKETS if v < upper)
        buckets[label] += 1
    quartiles = (
        statistics.quantiles(values, n=4, method="inclusive") if len(values) > 1 else values * 3
    )
    return TimeToSal(
        sals=len(values),
        median_hours=round(statistics.median(values), 2),
        p25_hours=round(quartiles[0], 2),
        p75_hours=round(quartiles[2], 2),
        max_hours=round(values[-1], 2),
        buckets=buckets,
    )


#: Skip reasons that carry an id or a count, made into one reason each (see the sinks).
_NOT_WRITTEN = {
    "pending": "waiting to be sent",
    "in_flight": "waiting to be sent",
    "waiting": "waiting for the CRM record",
    "retryable": "failed, being retried",
    "dead": "dead letter",
}


def _writes(
    log: QueriesMixin, out: Slices, dim: str, cte: str, key: str, params: dict[str, Any]
) -> None:
    """Each lead's latest write per sink (before ``until``), by state and skip reason."""
    sql = cte + (
        f", lw AS (SELECT {key} AS k, d.lead_key, w.sink, MAX(w.id) AS wid FROM writes w "
        "JOIN decisions d ON d.id = w.decision_id WHERE d.dry_run = 0 AND d.decided_at < :until "
        "GROUP BY 1, 2, 3) "
        "SELECT leads.k, leads.outcome = 'accepted' AS sal, lw.sink, w.state, w.last_error, "
        "COUNT(*) AS n FROM leads JOIN lw ON lw.k = leads.k AND lw.lead_key = leads.lead_key "
        "JOIN writes w ON w.id = lw.wid GROUP BY 1, 2, 3, 4, 5"
    )
    for r in log.rows(sql, params):
        section = out[(dim, str(r["k"]))]
        sink = section.writes.setdefault(str(r["sink"]), SinkWrites())
        state, n = str(r["state"]), int(r["n"])
        sink.leads += n
        if state == "written":
            sink.written += n
        elif state == "skipped":
            label = reason_label(r["last_error"])
            sink.skipped[label] = sink.skipped.get(label, 0) + n
        elif state == "retryable":
            sink.retryable += n
        elif state == "waiting":
            sink.waiting += n
        elif state == "dead":
            sink.dead += n
        else:
            sink.pending += n
        if r["sal"]:
            sink.sals += n
            if state == "written":
                sink.sals_written += n
            else:
                why = reason_label(r["last_error"]) if state == "skipped" else _NOT_WRITTEN[state]
                sink.sals_not_written[why] = sink.sals_not_written.get(why, 0) + n


def _finish(section: Section) -> None:
    """Derived figures: rate, assessment, advice; dicts ordered largest first."""
    section.rate_pct = round(100.0 * section.sals / section.mqls, 1) if section.mqls else None
    section.rejections_by_reason = _ranked(section.rejections_by_reason)
    section.rejections_by_criterion = _ranked(section.rejections_by_criterion)
    section.median_hours_mql_to_sal = section.time_to_sal.median_hours
    section.writes = dict(sorted(section.writes.items()))
    for sink in section.writes.values():
        sink.skipped = _ranked(sink.skipped)
        sink.sals_not_written = _ranked(sink.sals_not_written)
    section.write_failures = sum(s.retryable for s in section.writes.values())
    section.dead_letters = sum(s.dead for s in section.writes.values())
    section.assessment = assess(section.rate_pct)
    top = next(iter(section.rejections_by_reason), None)
    section.advice = advise(section.rate_pct, top)


def _ranked(counts: dict[str, int]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def _periods(
    log: QueriesMixin, since: datetime | None, until: datetime | None, params: dict[str, Any]
) -> tuple[str, list[Period]]:
    """The rate per day (windows up to 31 days) or per week (Monday to Monday, UTC)."""
    [span] = log.rows(
        "SELECT MIN(decided_at) AS first, MAX(decided_at) AS last FROM decisions "
        "WHERE dry_run = 0 AND decided_at >= :since AND decided_at < :until",
        params,
    )
    first, last = loop.parse_time(span["first"]), loop.parse_time(span["last"])
    if first is None or last is None:
        return "week", []
    start = (since or first).astimezone(UTC).date()
    end = (until or last).astimezone(UTC).date()
    daily = (end - start).days <= DAILY_UP_TO_DAYS
    step = timedelta(days=1 if daily else 7)
    bucket = "date(d.decided_at)" if daily else "date(d.decided_at, '-6 days', 'weekday 1')"
    bucket_end = f"MIN(date(b.k, '+{step.days} days'), :until)"
    sal = f"(acc.first_sal < {bucket_end})"
    sql = (
        f"WITH b AS (SELECT {bucket} AS k, d.lead_key, MAX(d.id) AS latest FROM decisions d "
        "WHERE d.dry_run = 0 AND d.decided_at >= :since AND d.decided_at < :until GROUP BY 1, 2), "
        "acc AS (SELECT lead_key, MIN(decided_at) AS first_sal FROM decisions "
        "WHERE dry_run = 0 AND outcome = 'accepted' GROUP BY 1) "
        f"SELECT b.k, COUNT(*) AS mqls, SUM(IFNULL({sal}, 0)) AS sals, "
        f"SUM(NOT IFNULL({sal}, 0) AND d.outcome = 'review') AS review, "
        f"SUM(NOT IFNULL({sal}, 0) AND d.outcome = 'rejected') AS rejected "
        "FROM b JOIN decisions d ON d.id = b.latest LEFT JOIN acc ON acc.lead_key = b.lead_key "
        "GROUP BY 1 ORDER BY 1"
    )
    found = {r["k"]: r for r in log.rows(sql, params)}
    day = start if daily else start - timedelta(days=start.weekday())
    periods: list[Period] = []
    while day <= end and (until is None or _midnight(day) < until):
        r = found.get(day.isoformat(), {})
        mqls, sals = int(r.get("mqls") or 0), int(r.get("sals") or 0)
        periods.append(
            Period(
                start=day.isoformat(),
                end=(day + step).isoformat(),
                mqls=mqls,
                sals=sals,
                review=int(r.get("review") or 0),
                rejected=int(r.get("rejected") or 0),
                rate_pct=round(100.0 * sals / mqls, 1) if mqls else None,
            )
        )
        day += step
    return ("day" if daily else "week"), periods


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)

