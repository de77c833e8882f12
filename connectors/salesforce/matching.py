"""Pure logic of the Salesforce sink: which Lead a handoff goes to, and what to write.

No I/O here: the sink queries leads and hands the rows to :func:`resolve_by_id` and
:func:`resolve_by_email`, then builds collection records with :func:`lead_update` (a review
decision may re-own the lead: :func:`new_owner`) and :func:`task_upsert`. A handoff that
cannot be written (converted, deleted, missing, ambiguous lead) becomes a SKIPPED result
with a reason instead of an error, so one odd lead never stops a batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, timedelta
from typing import Any

from connectors.salesforce.ids import looks_like_id, to18
from connectors.salesforce.settings import SalesforceSettings
from sync_agent.model import Handoff, Outcome, WriteResult, WriteState

LEAD_MATCH_FIELDS = ("Id", "Email", "IsConverted", "IsDeleted", "OwnerId", "Status")


@dataclass(frozen=True)
class LeadRow:
    """The few Lead fields matching needs."""

    id: str
    email: str
    converted: bool
    deleted: bool
    owner_id: str | None
    status: str | None = None

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> LeadRow | None:
        rid = record.get("Id")
        if not isinstance(rid, str) or not rid:
            return None
        owner = record.get("OwnerId")
        return cls(id=rid, email=str(record.get("Email") or "").strip().lower(),
                   converted=record.get("IsConverted") is True,
                   deleted=record.get("IsDeleted") is True,
                   owner_id=owner if isinstance(owner, str) and owner else None,
                   status=str(record["Status"]) if record.get("Status") is not None else None)


def lead_id_of(handoff: Handoff, instance: str = "salesforce") -> str | None:
    """The Lead id the lead carries for this org (its own id when it came from this org,
    else one a source linked under the type name ``salesforce``), as 18 characters."""
    ids = handoff.mql.crm_ids
    raw = ids.get(instance) or ids.get("salesforce") or (
        handoff.mql.source_id if handoff.mql.source == instance else None)
    if not isinstance(raw, str) or not looks_like_id(raw.strip()):
        return None
    return to18(raw.strip())


def email_of(handoff: Handoff) -> str | None:
    value = handoff.mql.fields.get("email")
    if isinstance(value, str) and "@" in value:
        return value.strip().lower()
    return None


def skipped(handoff: Handoff, reason: str, target: str | None = None) -> WriteResult:
    return WriteResult(handoff.key, WriteState.SKIPPED, reason, target)


def resolve_by_id(handoff: Handoff, rows: Mapping[str, LeadRow]) -> LeadRow | WriteResult | None:
    """The lead for an id-carrying handoff; None when the id is unknown (fall back to email)."""
    lead_id = lead_id_of(handoff)
    row = rows.get(lead_id) if lead_id else None
    if row is None:
        return None
    if row.deleted:
        return skipped(handoff, "lead deleted", row.id)
    if row.converted:
        return skipped(handoff, "lead converted", row.id)
    return row


def resolve_by_email(
    handoff: Handoff, rows: Mapping[str, Sequence[LeadRow]]
) -> LeadRow | WriteResult:
    """The single open lead with the handoff's e-mail, or a SKIPPED result saying why not."""
    email = email_of(handoff)
    if email is None:
        return skipped(handoff, "no matching lead: no Salesforce id and no email")
    found = [r for r in rows.get(email, ()) if not r.deleted]
    open_leads = [r for r in found if not r.converted]
    if len(open_leads) == 1:
        return open_leads[0]
    if len(open_leads) > 1:
        return skipped(handoff, f"ambiguous: {len(open_leads)} leads share this email")
    if found:
        return skipped(handoff, "lead converted", found[0].id)
    # Often "not yet": HubSpot's own Salesforce sync creates the Lead minutes later.
    return WriteResult(handoff.key, WriteState.WAITING, "waiting for the CRM record: no lead "
                       "with this e-mail yet")


def index_by_email(rows: Iterable[LeadRow]) -> dict[str, list[LeadRow]]:
    out: dict[str, list[LeadRow]] = {}
    for row in rows:
        if row.email:
            out.setdefault(row.email, []).append(row)
    return out


def _reason_text(handoff: Handoff, limit: int) -> str:
    decision = handoff.decision
    text = f"{decision.outcome.value}: " + "; ".join(decision.reasons)
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


def new_owner(handoff: Handoff, lead: LeadRow, settings: SalesforceSettings) -> str | None:
    """The OwnerId a review decision gives the lead (None: it keeps its owner).

    Only when the lead enters review and sales has not started on it: a Status the agent
    may not move (a rep set "Working - Contacted") means someone works it, and a lead
    already in ``status_review`` is held by whoever the review gave it to. (With no
    ``status_review`` the agent cannot tell a lead already reviewed from a new one.)"""
    owner = settings.review_owner
    if handoff.decision.outcome is not Outcome.REVIEW or not owner or lead.owner_id == owner:
        return None
    if settings.status_review and lead.status == settings.status_review:
        return None
    return owner if settings.may_move_status(lead.status) else None


def after_update(handoff: Handoff, lead: LeadRow, settings: SalesforceSettings) -> LeadRow:
    """The lead as its update leaves it, as far as its Task is concerned (the owner)."""
    owner = new_owner(handoff, lead, settings)
    return replace(lead, owner_id=owner) if owner else lead


def lead_update(handoff: Handoff, lead: LeadRow, settings: SalesforceSettings) -> dict[str, Any]:
    """The collection record writing Status, the SAL fields and (review) the owner."""
    decision = handoff.decision
    record: dict[str, Any] = {"attributes": {"type": "Lead"}, "id": lead.id}
    status = settings.status_for(decision.outcome.value)
    if status and settings.may_move_status(lead.status):
        record["Status"] = status
    owner = new_owner(handoff, lead, settings)
    if owner:
        record["OwnerId"] = owner
    if settings.score_field:
        record[settings.score_field] = round(float(decision.score), 2)
    if settings.date_field:
        record[settings.date_field] = decision.decided_at.astimezone(UTC).strftime(
            "%Y-%m-%dT%H:%M:%S.000+0000")
    if settings.reason_field:
        record[settings.reason_field] = _reason_text(handoff, settings.reason_max_chars)
    return record


def note_text(handoff: Handoff) -> str:
    """The context note, or (a handoff the engine wrote no note for) its reasons."""
    decision = handoff.decision
    return handoff.note or f"SAL {decision.outcome.value}: " + "; ".join(decision.reasons)


def _display_name(handoff: Handoff) -> str:
    fields = handoff.mql.fields
    parts = [str(fields[k]) for k in ("first_name", "last_name") if fields.get(k)]
    name = " ".join(parts) or str(fields.get("email") or handoff.mql.source_id)
    company = fields.get("company")
    return f"{name} ({company})" if company else name


@dataclass(frozen=True)
class Owner:
    """Who owns a lead, as far as a Task is concerned: a user (active or not) or a queue."""

    id: str
    name: str
    queue: bool = False
    active: bool = True


def task_assignee(
    lead: LeadRow, owner: Owner | None, settings: SalesforceSettings
) -> tuple[str | None, str]:
    """The Task's OwnerId (None: the integration user creating it) and, when it is not the
    lead's owner, the line that tells sales why. Queues can't own Tasks and inactive users
    can't be given one: the configured fallback (or the integration user) gets it."""
    if lead.owner_id is None:
        return None, ""
    queue = owner.queue if owner is not None else lead.owner_id.startswith("00G")
    if not queue and (owner is None or owner.active):
        return lead.owner_id, ""
    who = owner.name if owner is not None else lead.owner_id
    what = f"queue {who}" if queue else f"inactive user {who}"
    taker = settings.fallback_task_owner or None
    to = "the fallback owner" if taker else "the integration user"
    return taker, f"The lead is owned by {what}, which cannot take this task: it went to {to}."


def task_upsert(
    handoff: Handoff, lead: LeadRow, settings: SalesforceSettings, owner: Owner | None = None
) -> dict[str, Any]:
    """The Task for the lead owner (a review Task: for the reviewer, when one is set), keyed
    by the handoff key so a retry never duplicates it."""
    hours = settings.sla_hours if settings.sla_hours is not None else handoff.follow_up_hours
    due = (handoff.decision.decided_at + timedelta(hours=hours)).astimezone(UTC)
    if settings.sla_hours is None and handoff.due_at is not None:
        due = handoff.due_at.astimezone(UTC)
    sla = f"{hours:g}"
    review = handoff.decision.outcome is Outcome.REVIEW
    template = settings.review_task_subject if review else settings.task_subject
    subject = template.format(name=_display_name(handoff), sla_hours=sla,
                              score=handoff.decision.score)
    assignee: str | None
    if review and settings.review_task_assignee:
        assignee, why = settings.review_task_assignee, ""
    else:
        assignee, why = task_assignee(lead, owner, settings)
    note = note_text(handoff)
    description = f"{why}\n\n{note}" if why else note
    record: dict[str, Any] = {
        "attributes": {"type": "Task"},
        settings.task_key_field: handoff.key[:255],
        "WhoId": lead.id,
        "Subject": subject[:255],
        "Description": description[:32_000],
        "ActivityDate": due.date().isoformat(),
        "Status": settings.task_status,
        "Priority": settings.task_priority,
    }
    if assignee:
        record["OwnerId"] = assignee
    return record


def rounds(
    pairs: Sequence[tuple[Handoff, LeadRow]], size: int
) -> list[list[tuple[Handoff, LeadRow]]]:
    """Chunks of at most ``size`` in which no lead appears twice (one update per record a call)."""
    chunks: list[list[tuple[Handoff, LeadRow]]] = []
    ids_in: list[set[str]] = []
    for pair in pairs:
        for chunk, ids in zip(chunks, ids_in, strict=True):
            if len(chunk) < size and pair[1].id not in ids:
                chunk.append(pair)
                ids.add(pair[1].id)
                break
        else:
            chunks.append([pair])
            ids_in.append({pair[1].id})
    return chunks
