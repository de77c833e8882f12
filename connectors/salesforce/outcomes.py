"""Outcome read-back from Salesforce: what sales did with the Leads the agent handed off.

Per chunk of ``id_chunk`` Leads (one Composite call when ``use_composite``; else one call
per query), three SOQL queries through ``queryAll`` (archived Tasks are skipped by
``query``; ``sales-loop.md``, ``salesforce-api.md``):

* ``Lead``: ``Status``, ``OwnerId``, ``IsConverted``, ``ConvertedDate``,
  ``ConvertedOpportunityId``, ``SystemModstamp`` and the configured rejection reason field;
* ``Task`` on those Leads that are closed (``IsClosed``, ``CompletedDateTime``): the agent's
  SAL Task once a rep completes it, and any other completed Task;
* ``LeadHistory`` rows of ``Status`` (only where field history tracking is on for Status,
  and only from then on): when each Status change happened.

The events (pure :func:`events_for`): **first touch** = the earliest of a Task completed
after the handoff, a Status change away from the agent's own statuses, a conversion;
**sql** = a change to a configured SQL status (or the conversion); **opportunity** = the
conversion (``ConvertedOpportunityId``); **rejected** (with the reason field's value) and
**recycled** = the current Status in the configured lists. Without history rows the
current Status and its ``SystemModstamp`` stand in, and the event's detail says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from connectors.base import OutcomeEvent, OutcomeRequest, Sink
from connectors.salesforce.ids import to18
from connectors.salesforce.settings import SalesforceSettings
from connectors.salesforce.sink import SalesforceSink
from sync_agent.logs import get_logger
from sync_agent.model import OutcomeKind

LEAD_FIELDS = ("Id", "Status", "OwnerId", "IsConverted", "ConvertedDate",
               "ConvertedOpportunityId", "SystemModstamp")
TASK_FIELDS = ("Id", "WhoId", "OwnerId", "Subject", "Status", "CompletedDateTime")
HISTORY_FIELDS = ("LeadId", "Field", "OldValue", "NewValue", "CreatedDate")
FALLBACK = "current Status and SystemModstamp (no LeadHistory rows: field history " \
           "tracking is off for Lead Status, or status_history = false)"


@dataclass
class LeadFacts:
    """What Salesforce holds about one Lead, as the three queries returned it."""

    lead: Mapping[str, Any]
    tasks: list[Mapping[str, Any]] = field(default_factory=list)
    history: list[Mapping[str, Any]] = field(default_factory=list)
    #: whether Status history is tracked: some Lead of its chunk has a Status history row
    #: (the agent's own SAL Status change makes one where tracking is on)
    tracked: bool = True


def read_outcomes(sink: Sink, requests: Sequence[OutcomeRequest]) -> list[OutcomeEvent]:
    """``ConnectorSpec.read_outcomes``: the events Salesforce shows for these handoffs."""
    if not isinstance(sink, SalesforceSink):
        raise TypeError(f"not a Salesforce sink: {type(sink).__name__}")
    settings = sink.settings
    if not settings.outcomes.enabled:
        return []
    wanted: dict[str, list[OutcomeRequest]] = {}
    for request in requests:
        lead_id = lead_id_of(request, sink.name)
        if lead_id:
            wanted.setdefault(lead_id, []).append(request)
    ids = sorted(wanted)
    events: list[OutcomeEvent] = []
    for start in range(0, len(ids), settings.id_chunk):
        chunk = ids[start : start + settings.id_chunk]
        facts = _read(sink, chunk)
        for lead_id in chunk:
            found = facts.get(lead_id)
            if found is None:
                continue  # deleted or merged away: nothing to say
            for request in wanted[lead_id]:
                events += events_for(request, found, settings)
    get_logger("connectors.salesforce.outcomes").info(
        "salesforce_outcomes_read", handoffs=len(requests), leads=len(ids), events=len(events))
    return events


def lead_id_of(request: OutcomeRequest, instance: str) -> str | None:
    """The Lead a handoff was written to: the write's target, else the ids the lead carried."""
    for candidate in (request.record_id, request.crm_ids.get(instance),
                      request.crm_ids.get("salesforce"),
                      request.source_id if request.source == instance else None):
        if candidate and str(candidate).startswith("00Q") and len(str(candidate)) in (15, 18):
            return to18(str(candidate))
    return None


def queries(settings: SalesforceSettings, ids: Sequence[str]) -> list[str]:
    """The SOQL for one chunk of Lead ids (ids come from our own audit log, quoted anyway)."""
    listed = ", ".join("'" + i.replace("\\", "").replace("'", "") + "'" for i in ids)
    reason = settings.outcomes.rejection_reason_field
    lead_fields = ", ".join([*LEAD_FIELDS, *([reason] if reason else [])])
    out = [
        f"SELECT {lead_fields} FROM Lead WHERE Id IN ({listed}) AND IsDeleted = false",
        f"SELECT {', '.join(TASK_FIELDS)} FROM Task WHERE WhoId IN ({listed}) "
        "AND IsClosed = true AND IsDeleted = false",
    ]
    if settings.outcomes.status_history:
        out.append(f"SELECT {', '.join(HISTORY_FIELDS)} FROM LeadHistory WHERE LeadId IN "
                   f"({listed}) AND Field = 'Status'")
    return out


def _read(sink: SalesforceSink, ids: Sequence[str]) -> dict[str, LeadFacts]:
    records = sink.client.query_many(queries(sink.settings, ids), include_deleted=True)
    facts: dict[str, LeadFacts] = {}
    for record in records:
        if _type(record) == "Lead" and record.get("Id"):
            facts[to18(str(record["Id"]))] = LeadFacts(record)
    for record in records:
        kind = _type(record)
        owner = record.get("WhoId") if kind == "Task" else record.get("LeadId")
        found = facts.get(to18(str(owner))) if owner else None
        if found is not None and kind == "Task":
            found.tasks.append(record)
        elif found is not None and kind == "LeadHistory":
            found.history.append(record)
    tracked = any(f.history for f in facts.values())
    for found in facts.values():
        found.tracked = tracked
    return facts


def _type(record: Mapping[str, Any]) -> str:
    attributes = record.get("attributes")
    return str(attributes.get("type")) if isinstance(attributes, Mapping) else ""


# -- pure: facts to events -----------------------------------------------------------------


def events_for(request: OutcomeRequest, facts: LeadFacts,
               settings: SalesforceSettings) -> list[OutcomeEvent]:
    """The outcome events one Lead's facts show for one handoff (none before it)."""
    lead, conf, since = facts.lead, settings.outcomes, request.handed_off_at
    status = str(lead.get("Status") or "")
    own = {s for s in (settings.status_accepted, settings.status_rejected,
                       settings.status_review) if s}
    changes = sorted(
        ((at, row) for row in facts.history
         if (at := parse_time(row.get("CreatedDate"))) is not None and at >= since
         and str(row.get("NewValue") or "") not in own),
        key=lambda pair: pair[0])
    modstamp = parse_time(lead.get("SystemModstamp"))
    # Without Status history (tracking off, or not asked) the current Status and its
    # modstamp stand in: approximate, and said so in the detail.
    fallback = not settings.outcomes.status_history or not facts.tracked
    base = {"owner": _owner(lead, facts.tasks), "lead_id": lead.get("Id"), "status": status}
    found: dict[str, OutcomeEvent] = {}

    def add(kind: OutcomeKind, at: datetime | None, reason: str | None = None,
            **detail: Any) -> None:
        if at is not None and kind.value not in found:
            found[kind.value] = OutcomeEvent(request.handoff_key, kind.value, at, reason,
                                             {**base, **detail})

    def status_time(values: Sequence[str]) -> tuple[datetime | None, dict[str, Any]]:
        """When the Status became one of ``values``: history, else the modstamp fallback."""
        for at, row in changes:
            if str(row.get("NewValue") or "") in values:
                return at, {"time_from": "LeadHistory", "from": row.get("OldValue")}
        if fallback and status in values and modstamp is not None and modstamp >= since:
            return modstamp, {"time_from": FALLBACK}
        return None, {}

    converted = bool(lead.get("IsConverted"))
    converted_at: datetime | None = None
    conversion: dict[str, Any] = {}
    if converted:
        converted_at, conversion = status_time([status]) if status else (None, {})
        if converted_at is None:
            converted_at = parse_time(lead.get("ConvertedDate"))
            conversion = {"time_from": "ConvertedDate (a date only)"}
        if converted_at is not None and converted_at < since:
            converted_at = None  # converted before the handoff: not this story
    touches: list[tuple[datetime, dict[str, Any]]] = []
    for task in facts.tasks:
        done = parse_time(task.get("CompletedDateTime"))
        if done is not None and done >= since:
            touches.append((done, {"via": "task", "task_id": task.get("Id"),
                                   "by": task.get("OwnerId"), "subject": task.get("Subject")}))
    if changes:
        at, row = changes[0]
        touches.append((at, {"via": "status", "from": row.get("OldValue"),
                             "to": row.get("NewValue"), "time_from": "LeadHistory"}))
    elif fallback and status and status not in own and modstamp is not None \
            and modstamp >= since:
        touches.append((modstamp, {"via": "status", "to": status, "time_from": FALLBACK}))
    if converted_at is not None:
        touches.append((converted_at, {"via": "conversion"}))
    if touches:
        at, detail = min(touches, key=lambda pair: pair[0])
        add(OutcomeKind.FIRST_TOUCH, at, **detail)
    if conf.sql_statuses:
        at, how = status_time(conf.sql_statuses)
        add(OutcomeKind.SQL, at, **how)
    if converted_at is not None:
        opportunity = lead.get("ConvertedOpportunityId")
        add(OutcomeKind.SQL, converted_at, via="conversion")
        if opportunity:
            add(OutcomeKind.OPPORTUNITY, converted_at, opportunity_id=opportunity,
                converted_date=lead.get("ConvertedDate"), **conversion)
    if status in conf.rejected_statuses:
        at, how = status_time(conf.rejected_statuses)
        field_name = conf.rejection_reason_field
        reason = lead.get(field_name) if field_name else None
        add(OutcomeKind.REJECTED, at, str(reason) if reason else None, **how)
    if status in conf.recycled_statuses:
        at, how = status_time(conf.recycled_statuses)
        add(OutcomeKind.RECYCLED, at, **how)
    return [e for kind, e in found.items() if kind not in request.known]


def _owner(lead: Mapping[str, Any], tasks: Sequence[Mapping[str, Any]]) -> str | None:
    """The rep responsible: the Lead's owner when a user, else who completed a Task."""
    owner = lead.get("OwnerId")
    if isinstance(owner, str) and owner.startswith("005"):
        return owner
    done = sorted((t for t in tasks if t.get("CompletedDateTime")),
                  key=lambda t: str(t.get("CompletedDateTime")))
    return str(done[0]["OwnerId"]) if done and done[0].get("OwnerId") else owner


def parse_time(value: Any) -> datetime | None:
    """Salesforce datetimes (``...+0000``, ``Z``) and dates (midnight UTC), aware."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-4:].isdigit():
        text = f"{text[:-2]}:{text[-2:]}"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
