"""Read the window's SALs with what sales did after each handoff (the ``outcomes`` table).

The SALs are the report's (``build.py``): leads with a non-dry-run decision in
``[since, until)`` that were accepted at some time before ``until``. Each SAL is described
by its *first* accepted decision, the one that handed it off: its time, its MQL date, the
checks of its explanation (which rules let it through), the fields of its snapshot the
funnel is sliced by, and the outcome events of its handoff, every system merged.

Streaming: one query finds the SALs' decision ids (ints only), then the details come a page
at a time (``PAGE`` decisions, looked up by primary key; outcomes by their
``(handoff_key, system, kind)`` unique index), so a large log is never loaded whole.
Figures are made by the pure modules :mod:`.funnel` and :mod:`.feedback`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

from sync_agent.model import OutcomeKind

if TYPE_CHECKING:
    from sync_agent.audit.queries import QueriesMixin

PAGE = 2000

#: Snapshot fields the campaign is read from, the first one with a value. Raw fields are
#: ``<source prefix>.<property>``: ``--campaign-field`` names the portal's own property.
CAMPAIGN_FIELDS: tuple[str, ...] = ("campaign", "utm_campaign")
#: Snapshot fields the CRM owner is read from when no outcome event names one
#: (``--owner-field`` adds the portal's own, e.g. a raw ``<prefix>.<owner property>``).
OWNER_FIELDS: tuple[str, ...] = ("owner", "owner_id")
#: The lead's channel (a canonical field every source maps).
LEAD_SOURCE_FIELD = "lead_source"
#: Top-level checks read from an explanation by position; a longer one is read whole.
MAX_CHECKS = 25  # 5 paths each: json_extract takes at most 127 arguments


@dataclass(frozen=True)
class Event:
    """The earliest event of one kind for a handoff, over every system it was read from."""

    at: datetime
    reason: str | None = None
    owner: str | None = None


@dataclass(frozen=True)
class Check:
    """One top-level check of the handing-off decision's explanation."""

    FIELDS: ClassVar[tuple[str, ...]] = ("kind", "name", "passed", "points", "max_points")

    kind: str  # gate | disqualifier | fast_lane | criterion | threshold
    name: str
    passed: bool
    points: float | None = None
    max_points: float | None = None


@dataclass(frozen=True)
class Sal:
    """One SAL of the window as the funnel and the feedback see it."""

    lead_key: str
    accepted_at: datetime  # its first acceptance (the handoff)
    mql_date: datetime | None
    checks: tuple[Check, ...]
    lead_source: str | None = None
    campaign: str | None = None
    crm_owner: str | None = None  # an owner field of the snapshot, when the source read one
    events: dict[str, Event] = field(default_factory=dict)  # OutcomeKind value -> earliest

    def has(self, kind: OutcomeKind) -> bool:
        return kind in self.events  # a StrEnum member is its value as a key

    def at(self, kind: OutcomeKind) -> datetime | None:
        event = self.events.get(kind)
        return event.at if event else None


def outcome_events(log: QueriesMixin) -> int:
    """How many outcome events the log holds (0: the read-back has never run)."""
    [row] = log.rows("SELECT COUNT(*) AS n FROM (SELECT 1 FROM outcomes LIMIT 1)")
    if not row["n"]:
        return 0
    [row] = log.rows("SELECT COUNT(*) AS n FROM outcomes")
    return int(row["n"])


def sals(
    log: QueriesMixin,
    params: dict[str, Any],
    campaign_fields: Sequence[str] = CAMPAIGN_FIELDS,
    owner_fields: Sequence[str] = OWNER_FIELDS,
) -> Iterator[Sal]:
    """The window's SALs (``params``: ``since``, ``until`` as ISO text), oldest first."""
    # One pass over the covering index decisions_window: per lead, its first acceptance
    # ("<decided_at> <id>", the smallest sorts first) and whether it has a decision in the
    # window. (A join of two grouped subqueries would be planned as a nested loop.)
    found = log.rows(
        "SELECT MIN(CASE WHEN outcome = 'accepted' THEN decided_at || ' ' || id END) AS first "
        "FROM decisions WHERE dry_run = 0 AND decided_at < :until GROUP BY lead_key "
        "HAVING first IS NOT NULL AND MAX(decided_at >= :since)",
        params,
    )
    ids = sorted(int(str(r["first"]).rpartition(" ")[2]) for r in found)
    sql, named = _details_sql(campaign_fields, owner_fields)
    seen: dict[str, tuple[Check, ...]] = {}  # SALs of one ruleset share few check patterns
    for start in range(0, len(ids), PAGE):
        page = json.dumps(ids[start : start + PAGE])
        for row in log.rows(sql, {**named, "ids": page}):
            yield _sal(row, seen)


def _path(name: str) -> str:
    """A JSON path to a top-level key of the snapshot (raw names have dots in them)."""
    return '$."' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _first_of(prefix: str, fields: Sequence[str]) -> tuple[str, dict[str, str]]:
    """SQL for the first of the snapshot's ``fields`` with a value, and its parameters."""
    named = {f"{prefix}{i}": _path(name) for i, name in enumerate(fields)}
    if not named:
        return "NULL", {}
    picks = ", ".join(f"NULLIF(json_extract(d.snapshot, :{k}), '')" for k in named)
    return f"COALESCE({picks}, NULL)", named


def _details_sql(
    campaign_fields: Sequence[str], owner_fields: Sequence[str]
) -> tuple[str, dict[str, str]]:
    campaign, c_named = _first_of("c", campaign_fields)
    owner, o_named = _first_of("o", owner_fields)
    sql = f"""
SELECT d.id, d.lead_key, d.decided_at, d.mql_date, {CHECKS_SQL},
  NULLIF(json_extract(d.snapshot, '$.{LEAD_SOURCE_FIELD}'), '') AS lead_source,
  {campaign} AS campaign,
  {owner} AS crm_owner,
  (SELECT json_group_array(json_array(o.kind, o.at, o.reason,
          CASE WHEN json_valid(o.detail) THEN o.detail ->> '$.owner' END))
   FROM outcomes o WHERE o.handoff_key = d.handoff_key) AS events
FROM decisions d WHERE d.id IN (SELECT value FROM json_each(:ids)) ORDER BY d.id
"""
    return sql, {**c_named, **o_named}


# One parse of the explanation: each top-level check's five fields by position (json_each
# would serialise and parse every check again, children and all: six times slower).
_PATHS = ", ".join(f"'$[{i}].{key}'" for i in range(MAX_CHECKS) for key in Check.FIELDS)
#: Columns (of ``decisions d``) :func:`checks_of` reads a decision's top-level checks from.
CHECKS_SQL = f"""json_array_length(d.explanation) AS n_checks,
  CASE WHEN json_array_length(d.explanation) > {MAX_CHECKS} THEN d.explanation END
    AS explanation,
  json_extract(d.explanation, {_PATHS}) AS checks"""


def checks_of(row: dict[str, Any], seen: dict[str, tuple[Check, ...]]) -> tuple[Check, ...]:
    """The top-level checks of a row selected with :data:`CHECKS_SQL`; ``seen`` caches
    them by their text (the decisions of one ruleset share few patterns)."""
    key = row["explanation"] or row["checks"] or ""
    checks = seen.get(key)
    if checks is None:
        checks = seen[key] = _checks(row)
    return checks


def _checks(row: dict[str, Any]) -> tuple[Check, ...]:
    width = len(Check.FIELDS)
    flat = json.loads(row["checks"] or "[]")
    if (row["n_checks"] or 0) > MAX_CHECKS:  # a long ruleset: read the whole explanation
        flat = [
            c.get(key) if isinstance(c, dict) else None
            for c in json.loads(row["explanation"] or "[]")
            for key in Check.FIELDS
        ]
    return tuple(
        Check(str(kind), str(name), bool(passed), _number(points), _number(most))
        for kind, name, passed, points, most in (
            flat[i : i + width] for i in range(0, len(flat), width)
        )
        if kind and name is not None
    )


def _sal(row: dict[str, Any], seen: dict[str, tuple[Check, ...]]) -> Sal:
    checks = checks_of(row, seen)
    events: dict[str, Event] = {}
    for kind, at, reason, owner in json.loads(row["events"] or "[]"):
        moment = parse_time(at)
        if moment is None or not kind:
            continue
        events[kind] = _merge(events.get(kind), Event(moment, reason or None, _text(owner)))
    accepted = parse_time(row["decided_at"])
    assert accepted is not None  # decided_at is NOT NULL, written by the engine
    return Sal(
        lead_key=str(row["lead_key"]),
        accepted_at=accepted,
        mql_date=parse_time(row["mql_date"]),
        checks=checks,
        lead_source=_text(row["lead_source"]),
        campaign=_text(row["campaign"]),
        crm_owner=_text(row["crm_owner"]),
        events=events,
    )


def _merge(known: Event | None, new: Event) -> Event:
    """The earliest time of two systems' events; a reason or owner only one gave is kept."""
    if known is None:
        return new
    first, other = (new, known) if new.at < known.at else (known, new)
    return Event(first.at, first.reason or other.reason, first.owner or other.owner)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip()
    return text or None


def parse_time(value: Any) -> datetime | None:
    """An ISO time as stored (naive = UTC); None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
