"""Rows of the audit log as Python values: what the outbox carries, and their conversions.

Pure (no I/O): :mod:`sync_agent.audit.db` writes these, the engine reads them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from itertools import compress
from operator import not_
from typing import Any

import orjson

from sync_agent.model import (
    MQL,
    SLA_ACTION_SEP,
    Check,
    Decision,
    Handoff,
    HandoffStatus,
    WriteState,
    _jsonable,
    sla_action_key,
)
from sync_agent.rules.checks import make_check

#: orjson: keys sorted as ``json.dumps(sort_keys=True)`` does; dataclasses handed to
#: ``_jsonable`` as the standard encoder does (orjson would make objects of them).
_ORJSON = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATACLASS
#: Types orjson writes as ``json.dumps(default=_jsonable)`` does (a date as its ISO text).
_NATIVE = frozenset({str, int, bool, type(None), date})
_MINUTE = timedelta(minutes=1)
#: Nesting checked at most (deeper values go to ``json.dumps``, as orjson would refuse them).
_DEPTH = 32


def dumps(value: Any) -> str:
    """JSON for the audit columns: datetimes as ISO strings, unknown types as text.

    The snapshot and explanation columns are written for every decision, so this is on
    the hot path of a backfill: ``orjson`` (C, several times the standard encoder's speed,
    compact separators) encodes the values it writes as ``json.dumps`` would. Anything
    else goes through ``json.dumps`` as before (a non-finite float, which orjson writes as
    ``null`` where ``json`` writes ``NaN``; an enum, written by value rather than as text; a
    UTC offset with seconds; a big integer, a lone surrogate or a non-text key, which
    orjson refuses), so what reads a column back (``json.loads``, SQLite's JSON
    functions) sees the same values either way.
    """
    if _plain(value):
        try:
            return orjson.dumps(value, default=_jsonable, option=_ORJSON).decode()
        except orjson.JSONEncodeError:
            pass
    return json.dumps(value, default=_jsonable, ensure_ascii=False, sort_keys=True)


def _plain(value: Any, depth: int = 0) -> bool:
    """Whether orjson writes ``value`` as ``json.dumps`` does: checked by the set of types
    at each level (a C-speed pass over a flat snapshot), then value by value for the few
    that need a look (floats, datetimes, nested values). Keys need none: orjson refuses
    what is not text, and the refusal falls back to ``json.dumps``."""
    kind = value.__class__
    if kind is dict:
        items: Any = value.values()
    elif kind is list or kind is tuple:
        items = value
    else:
        return _plain([value], depth)
    if set(map(type, items)) <= _NATIVE:
        return True
    if depth >= _DEPTH:
        return False
    for item in compress(items, map(not_, map(_NATIVE.__contains__, map(type, items)))):
        kind = item.__class__
        if kind is datetime:  # orjson writes the offset to the minute, isoformat() to the second
            if item.tzinfo is not None and item.tzinfo is not UTC:
                offset = item.utcoffset()
                if offset is None or offset % _MINUTE:
                    return False
        elif kind is float:
            if not math.isfinite(item):
                return False
        elif kind is dict or kind is list or kind is tuple:
            if not _plain(item, depth + 1):
                return False
        elif not hasattr(kind, "__dataclass_fields__"):
            return False
    return True


#: Explanation nodes' JSON by node identity, bounded (emptied when full).
_NODE_JSON: dict[int, tuple[Check, str]] = {}
_NODE_LIMIT = 16384


def explanation_json(checks: Sequence[Check]) -> str:
    """The explanation column: ``dumps([c.to_dict() for c in checks])``, node by node."""
    get = _NODE_JSON.get
    parts = []
    for check in checks:  # most top-level nodes were written before: no call for them
        found = get(id(check))
        parts.append(found[1] if found is not None else _check_json(check))
    return "[" + ",".join(parts) + "]"


def _check_json(check: Check) -> str:
    """One node's JSON (``check.to_dict()``), kept by node identity at every level.

    The rules engine shares one node between the leads that saw the same values
    (:mod:`sync_agent.rules.memo`), so most of a page's nodes were written before; a new
    node reuses its children's JSON ("children" sorts first among its keys). Each entry
    keeps its node alive, so an ``id`` in the cache is never another object's.
    """
    found = _NODE_JSON.get(id(check))
    if found is not None:
        return found[1]
    if len(_NODE_JSON) >= _NODE_LIMIT:
        _NODE_JSON.clear()
    if check.children:
        shell = make_check(check.kind, check.name, check.passed, check.detail, check.value,
                           check.points, check.max_points)  # fmt: skip
        own = _node_json(shell.to_dict())
        text = '{"children":[' + ",".join(map(_check_json, check.children)) + "]," + own[1:]
    else:
        text = _node_json(check.to_dict())
    _NODE_JSON[id(check)] = (check, text)
    return text


def _node_json(node: dict[str, Any]) -> str:
    """One node's JSON. ``Check.to_dict`` gives JSON's own types only (its values went
    through ``_jsonable``), where orjson and ``json`` differ only on non-finite floats,
    which orjson writes as ``null``: an answer without ``null`` is the same either way,
    and the rare one with it (a ``None`` in a list value, or the text) takes :func:`dumps`.
    """
    try:
        raw = orjson.dumps(node, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:  # a big integer, a lone surrogate
        return dumps(node)
    return dumps(node) if b"null" in raw else raw.decode()


def iso(moment: datetime | None) -> str | None:
    """ISO text of ``moment``; the few moments of a page (its ``now``, a reconcile time)
    are stamped on every row, so their text is kept by identity (each entry holds its
    moment, so an ``id`` in the cache is never another object's)."""
    if moment is None:
        return None
    found = _ISO.get(id(moment))
    if found is not None and found[0] is moment:
        return found[1]
    if len(_ISO) >= 64:
        _ISO.clear()
    text = moment.isoformat()
    _ISO[id(moment)] = (moment, text)
    return text


_ISO: dict[int, tuple[datetime, str]] = {}


@dataclass(frozen=True)
class NewDecision:
    """A decision to record, with a pending write for each of ``sinks`` (none: ``status``)."""

    mql: MQL
    decision: Decision
    handoff_key: str
    note: str
    sinks: tuple[str, ...] = ()
    status: HandoffStatus = HandoffStatus.SKIPPED
    fingerprint: str = ""


@dataclass(frozen=True)
class OutboxItem:
    """A write waiting for (or being retried by) a sink."""

    write_id: int
    decision_id: int
    sink: str
    attempts: int
    sent: bool
    handoff: Handoff
    created_at: datetime | None = None  # when the write was queued (how long it has waited)
    #: an SLA breach action (``mark``, ``escalate``, ``reassign``), not the handoff itself
    action: str = ""

    @property
    def key(self) -> str:
        """The key its sink answers under: the handoff's, or the action's."""
        return sla_action_key(self.handoff.key, self.action) if self.action else self.handoff.key


@dataclass(frozen=True)
class SinkPrior:
    """What one sink last got for a lead, whichever pipeline sent it."""

    accepted: bool  # an accepted handoff went to it: the lead is handed off there for good
    last: tuple[str, float, tuple[str, ...]] | None  # newest result sent: outcome, score, why


@dataclass(frozen=True)
class Prior:
    """What the log knows about a lead: per sink what it got (any pipeline), and this
    pipeline's latest decision (rules and content) for skipping unchanged re-reads."""

    sinks: Mapping[str, SinkPrior]
    rules_hash: str = ""
    fingerprint: str = ""

    def accepted_by(self, sink: str) -> bool:
        found = self.sinks.get(sink)
        return found is not None and found.accepted

    def unchanged_for(
        self, sink: str, outcome: str, score: float, reasons: tuple[str, ...]
    ) -> bool:
        """The sink already shows exactly this result (a re-decision that changed nothing)."""
        found = self.sinks.get(sink)
        return found is not None and found.last == (outcome, round(score, 6), tuple(reasons))


@dataclass(frozen=True)
class WriteUpdate:
    """A write's new state after a sink answered."""

    write_id: int
    state: WriteState
    error: str = ""
    target_id: str | None = None
    next_attempt_at: datetime | None = None
    refund: bool = False  # the attempt did not count (fatal error: operator must act)


#: The decision columns an outbox item is rebuilt from (not the explanation: the largest
#: column, which sinks never read).
OUTBOX_COLUMNS = (
    "d.id, d.source, d.source_id, d.snapshot, d.crm_ids, d.modified_at, d.handoff_key, "
    "d.note, d.outcome, d.score, d.reasons, d.rules_name, d.rules_hash, d.decided_at, "
    "d.fast_lane"
)


def outbox_items(rows: Iterable[Mapping[str, Any]]) -> list[OutboxItem]:
    """:func:`outbox_item` for each row; the writes of one decision (one per sink) share
    its handoff, parsed once."""
    handoffs: dict[Any, Handoff] = {}
    items = []
    for row in rows:
        handoff = handoffs.get(row["id"])
        if handoff is None:
            handoff = handoffs[row["id"]] = _handoff_of(row)
        items.append(outbox_item(row, handoff))
    return items


def outbox_item(row: Mapping[str, Any], handoff: Handoff | None = None) -> OutboxItem:
    """Rebuild the handoff a write carries from its decision row (resume after a crash, a
    writer process); ``handoff``: already rebuilt from this row's decision."""
    handoff = handoff or _handoff_of(row)
    created = row.get("wcreated")
    write_key = row.get("write_key") or row["handoff_key"]
    action = write_key.rpartition(SLA_ACTION_SEP)[2] if write_key != row["handoff_key"] else ""
    return OutboxItem(
        int(row["wid"]),
        int(row["id"]),
        row["sink"],
        int(row["attempts"]),
        bool(row["sent"]),
        handoff,
        datetime.fromisoformat(created) if created else None,
        action,
    )


def _handoff_of(row: Mapping[str, Any]) -> Handoff:
    modified = row["modified_at"]
    mql = MQL(
        source=row["source"],
        source_id=row["source_id"],
        fields=json.loads(row["snapshot"]),
        modified_at=datetime.fromisoformat(modified) if modified else None,
        crm_ids=json.loads(row["crm_ids"]),
    )
    decision = decision_from_row(row, explanation=False)  # slim: sinks never read the tree
    return slim_handoff(row["handoff_key"], mql, decision, row["note"])


def slim_handoff(key: str, mql: MQL, decision: Decision, note: str) -> Handoff:
    """The handoff as sinks get it: canonical fields only, no explanation tree.

    Sinks write SAL fields from the outcome, score, reasons and dates, match by the
    canonical fields and crm ids, and take the context from the note; the full snapshot and
    explanation stay in the audit log. Keeping write batches small in memory is what lets a
    100,000-lead backfill run in constant memory with large batches in flight.
    """
    values = mql.fields
    fields = {k: values[k] for k in _canonical(tuple(values))}
    return Handoff(
        key,
        _frozen(MQL, {**mql.__dict__, "fields": fields}),
        _frozen(Decision, {**decision.__dict__, "explanation": ()}),
        note,
    )


_new = object.__new__
_set = object.__setattr__


def _frozen(kind: type[Any], values: dict[str, Any]) -> Any:
    """``kind(**values)`` for a frozen dataclass (``MQL``, ``Decision``: no
    ``__post_init__``, no slots) with every field given: its ``__dict__`` filled in one step,
    as :func:`~sync_agent.rules.checks.make_check` does. Every recorded decision gets a slim
    handoff, and ``dataclasses.replace`` (field introspection, then the frozen
    ``__init__``'s one ``object.__setattr__`` per field) made that about 35 µs of the page
    loop per lead; the objects compare, hash and print the same
    (tests/sync/test_slim_handoff.py)."""
    made = _new(kind)
    _set(made, "__dict__", values)
    return made


@lru_cache(maxsize=64)
def _canonical(names: tuple[str, ...]) -> tuple[str, ...]:
    """The canonical names among ``names`` (raw ones carry their source's prefix); leads of
    one source carry the same names, so this runs once per set of names, not per lead."""
    return tuple(name for name in names if "." not in name)


def decision_from_row(row: Mapping[str, Any], *, explanation: bool = True) -> Decision:
    """The decision a row records; ``explanation=False`` leaves the tree out without parsing
    it (an outbox item drops it anyway, and it is most of a row's JSON)."""
    return Decision.from_dict(
        {
            "outcome": row["outcome"],
            "score": row["score"],
            "reasons": json.loads(row["reasons"]),
            "explanation": json.loads(row["explanation"]) if explanation else (),
            "ruleset_name": row["rules_name"],
            "ruleset_hash": row["rules_hash"],
            "decided_at": row["decided_at"],
            "fast_lane": row["fast_lane"],
        }
    )


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
