"""The handoff: its idempotency key and the context note sales reads (pure functions).

The key is what makes note/task creation idempotent: sinks stamp it on what they create
and look for it when ``recovering``. An accepted lead has ONE key for ever, whichever
pipeline decided it (a lead is handed off to sales once); other outcomes are keyed by the
lead version and ruleset that decided them, so a re-read of the same version maps to the
same key.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from sync_agent.audit.records import dumps
from sync_agent.model import MQL, Check, Decision, Outcome
from sync_agent.rules.shown import bounded_repr
from sync_agent.text import SURROGATE, printable, printable_value

#: Signals worth a line in the note, with their labels (canonical field names).
SIGNALS: tuple[tuple[str, str], ...] = (
    ("demo_requested", "Demo requested"),
    ("trial_started", "Free trial started"),
    ("webinar_attended_date", "Webinar attended"),
    ("pricing_page_views", "Pricing page views"),
    ("recent_conversion", "Recent conversion"),
    ("conversion_events", "Conversion events"),
    ("page_views", "Page views"),
    ("lead_score", "Marketing lead score"),
    ("lead_source", "Lead source"),
    ("mql_date", "MQL since"),
)
PROFILE: tuple[tuple[str, str], ...] = (
    ("title", "Title"),
    ("company", "Company"),
    ("industry", "Industry"),
    ("employees", "Employees"),
    ("country", "Country"),
    ("budget", "Budget"),
    ("authority", "Authority"),
    ("need", "Need"),
    ("timeline", "Timeline"),
)


def handoff_key(mql: MQL, decision: Decision) -> str:
    """Stable idempotency key (``sal-`` + 32 hex) for this handoff.

    It names the lead, not the pipeline: a renamed pipeline, or a second one over the same
    leads, produces the same key, so a sink that already holds the note or task finds it.
    """
    if decision.outcome is Outcome.ACCEPTED:
        material = f"{mql.key}|accepted"
    else:
        version = mql.modified_at.isoformat() if mql.modified_at else ""
        material = f"{mql.key}|{decision.outcome.value}|{decision.ruleset_hash}|{version}"
    return "sal-" + hashlib.sha256(material.encode()).hexdigest()[:32]


#: Raw properties that change when WE write back (modification stamps, SAL fields, note
#: counters); left out of a lead's fingerprint so our own write never looks like news.
VOLATILE = (
    "lastmodified",
    "modstamp",
    "updatedat",
    "updated_at",
    "num_notes",
    "notes_last",
    "last_sales_activity",
)


def printable_id(mql: MQL) -> MQL:
    """The lead with lone surrogates in its id replaced (see :mod:`sync_agent.text`): a
    plugin source may hand any JSON text over, and its id goes into SQL and logs."""
    if SURROGATE.search(mql.source_id):
        return replace(mql, source_id=printable(mql.source_id))
    return mql


def fingerprinted(mql: MQL) -> tuple[MQL, str]:
    """``(lead, fingerprint)``: the lead's fields made printable when they don't encode
    (one lone surrogate must not stop a run at the hash, the snapshot or a log line)."""
    try:
        return mql, lead_fingerprint(mql)
    except UnicodeEncodeError:
        mql = replace(mql, fields=printable_value(dict(mql.fields)),
                      crm_ids=printable_value(dict(mql.crm_ids)))
        return mql, lead_fingerprint(mql)


#: The fingerprint's formula version; a stored fingerprint without it is the first formula.
FINGERPRINT_V2 = "v2:"


def lead_fingerprint(mql: MQL) -> str:
    """Hash of the lead's content that matters to a decision (volatile fields left out).

    The same content decided under the same ruleset is skipped on a re-read, so the
    re-reads our own write-back causes (it bumps the modification date) cost no writes.
    The content is written as the audit log writes its JSON (:func:`dumps`: orjson where
    it writes what ``json.dumps`` would, the standard encoder otherwise), which took the
    fingerprint from about a tenth of a backfill's page loop to a few per cent; the
    prefix names that formula, so fingerprints stored before it still compare
    (:func:`same_content`).
    """
    fields = mql.fields
    kept = {name: fields[name] for name in _kept(tuple(fields))}
    return FINGERPRINT_V2 + hashlib.sha256(dumps(kept).encode()).hexdigest()[:32]


def same_content(stored: str, mql: MQL, fingerprint: str) -> bool:
    """Whether ``stored`` (a decision's fingerprint) names the content ``fingerprint`` does;
    one stored by the first formula is compared with that formula, so an upgrade decides
    no lead again."""
    if not stored or stored.startswith(FINGERPRINT_V2):
        return stored == fingerprint
    return stored == _first_fingerprint(mql)


def _first_fingerprint(mql: MQL) -> str:
    """The first formula (``json.dumps``, sorted keys), as releases before 2026-12 stored it."""
    fields = mql.fields
    kept = {name: fields[name] for name in _kept(tuple(fields))}
    blob = json.dumps(kept, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


@lru_cache(maxsize=64)
def _kept(names: tuple[str, ...]) -> tuple[str, ...]:
    """The names of ``names`` that count for the fingerprint: leads of one source carry the
    same field names, so the filter runs once per set of names, not per lead."""
    return tuple(name for name in names if not _volatile(name))


@lru_cache(maxsize=4096)
def _volatile(name: str) -> bool:
    """Field names repeat on every lead: decide once per name."""
    lowered = name.lower()
    raw = lowered.split(".", 1)[1] if "." in lowered else ""
    return raw.startswith("sal_") or any(v in lowered for v in VOLATILE)


def compose_note(mql: MQL, decision: Decision, *, sla_hours: float, key: str) -> str:
    """The context note for sales: why this outcome, the signals, the profile, what to do.

    Accepted: the reasons and the follow-up SLA. Review: why the lead needs a person (the
    score against the band, what passed, each criterion's points and what it missed), so
    whoever decides does not need the agent to see why. Values are clipped: a lead's text
    is typed by strangers and must not turn a note into a megabyte.
    """
    f = mql.fields
    name = " ".join(_clip(_fmt(f[k])) for k in ("first_name", "last_name") if f.get(k))
    name = name or mql.key
    company = f" ({_clip(_fmt(f['company']))})" if f.get("company") else ""
    lines = [f"SAL {decision.outcome.value}: {name}{company}"]
    lines.append(
        f"Score {decision.score:g} under ruleset {decision.ruleset_name} "
        f"({decision.ruleset_hash[:12]}), decided {_fmt(decision.decided_at)}."
    )
    if decision.outcome is Outcome.REVIEW:
        lines += _review(decision)
    else:
        if decision.fast_lane:
            lines.append(f"Fast lane: {decision.fast_lane}.")
        if decision.reasons:
            lines.append("Why:")
            lines += [f"- {r}" for r in decision.reasons]
    lines += _section("Signals:", f, SIGNALS)
    lines += _section("Profile:", f, PROFILE)
    if decision.outcome is Outcome.ACCEPTED:
        due = decision.decided_at + timedelta(hours=sla_hours)
        lines.append(f"Follow up within {sla_hours:g} h (by {_fmt(due)}).")
    elif decision.outcome is Outcome.REVIEW:
        lines.append("A person decides: accept or reject this lead.")
    lines.append(f"sync-agent handoff {key}")
    return "\n".join(lines)


#: Conditions a criterion missed, listed per criterion (the rest are counted).
MAX_MISSED = 5


def _review(decision: Decision) -> list[str]:
    """Why a person must decide: the band, then every check by kind, passed or not."""
    checks = decision.explanation
    threshold = next((c for c in checks if c.kind == "threshold"), None)
    band = f" ({_clip(threshold.name)})" if threshold is not None else ""
    lines = [f"Needs a person: score {decision.score:g} is in the review band{band}."]
    if threshold is None:
        lines += [f"- {_clip(r)}" for r in decision.reasons]
    gates = [c for c in checks if c.kind == "gate"]
    if gates:
        failed = [c for c in gates if not c.passed]
        lines.append("Gates passed: " + (_names(c for c in gates if c.passed) or "none")
                     + (f"; failed: {_names(failed)}" if failed else "") + ".")
    blockers = [c for c in checks if c.kind == "disqualifier"]
    fired = [c for c in blockers if not c.passed]
    if fired:
        lines.append(f"Disqualifiers fired: {_names(fired)}.")
    elif blockers:
        lines.append(f"No disqualifier fired ({_names(blockers)}).")
    lanes = [c for c in checks if c.kind == "fast_lane"]
    if lanes and not any(c.passed for c in lanes):
        lines.append("No fast lane matched:")
        lines += [f"- {_clip(c.name)}; missed: {_missed(c) or 'its condition'}" for c in lanes]
    criteria = [c for c in checks if c.kind == "criterion"]
    if criteria:
        lines.append("Score by criterion (points / weight):")
    for c in criteria:
        line = f"- {_clip(c.name)} {c.points or 0:g} / {c.max_points or 0:g}"
        line += f": {_clip(c.detail)}" if c.detail else ""
        missed = _missed(c) if (c.points or 0) < (c.max_points or 0) else ""
        lines.append(line + (f"; missed: {missed}" if missed else ""))
    return lines


def _missed(check: Check) -> str:
    """The leaf conditions under ``check`` that did not hold, with the value seen."""
    leaves: list[Check] = []
    stack = [c for c in reversed(check.children) if not c.passed]
    while stack:
        node = stack.pop()
        if node.children:
            stack += [c for c in reversed(node.children) if not c.passed]
        else:
            leaves.append(node)
    shown = [f"{_clip(c.name)} ({_seen(c)})" for c in leaves[:MAX_MISSED]]
    more = len(leaves) - MAX_MISSED
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _seen(condition: Check) -> str:
    if condition.value is None:
        return _clip(condition.detail or "no value", 40)
    return _clip(_fmt(condition.value), 40)


def _names(checks: Iterable[Check]) -> str:
    return ", ".join(_clip(c.name) for c in checks)


def _clip(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _section(
    title: str, fields: Mapping[str, Any], names: tuple[tuple[str, str], ...]
) -> list[str]:
    rows = [
        f"- {label}: {_clip(_fmt(fields[k]), 200)}"
        for k, label in names
        if fields.get(k) not in (None, "", False)
    ]
    return [title, *rows] if rows else []


def _fmt(value: Any) -> str:
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            return value.isoformat()
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if value is True:
        return "yes"
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple | set | frozenset | dict) or (
        isinstance(value, int) and value.bit_length() > 1000  # thousands of digits
    ):
        return bounded_repr(value)
    return str(value)
