"""Follow-up SLA breach actions in Salesforce (the sink's ``act`` capability).

* ``mark``: the Lead's ``sla_status_field`` (``SAL_SLA_Status__c``, a Text field the org
  adds) set to ``sla_breached_value`` ("breached"): a list view or report of breached leads.
* ``escalate``: a Task on the Lead for the configured user (``[sla.escalate_to]``), else
  for the lead owner's manager (``User.ManagerId``), else (a queue owns the lead, or the
  owner has no manager) for ``fallback_task_owner`` or the integration user, saying why.
  It is an upsert on ``task_key_field`` keyed by the action key, so a retry, a replay or
  a re-send after a crash updates the same Task: never a second one.
* ``reassign``: the Lead's ``OwnerId`` set to the configured user or queue.

Calls per batch: the sink's matching queries, one query for the owners' managers (only
for escalations without a configured user), then the update and upsert collections (the
sink's ``_send``: lock retries, smaller batches on trigger limits, per-record results).
A converted or deleted lead is SKIPPED with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from simple_salesforce import format_soql

import connectors.salesforce.matching as m
from connectors.salesforce.ids import looks_like_id, to18
from connectors.salesforce.settings import SalesforceSettings
from sync_agent.model import Handoff, SlaAction, SlaActionKind, WriteResult, WriteState

#: the sink whose helpers (matching, sending, logging) the actions use; not imported here
#: (the sink imports this module)
Sink = Any

Pair = tuple[Handoff, m.LeadRow]


def _id(value: str) -> str:
    value = value.strip()
    return to18(value) if looks_like_id(value) else value


def mark_update(action: SlaAction, lead: m.LeadRow, s: SalesforceSettings) -> dict[str, Any]:
    return {"attributes": {"type": "Lead"}, "id": lead.id,
            s.sla_status_field: s.sla_breached_value}


def reassign_update(action: SlaAction, lead: m.LeadRow, s: SalesforceSettings) -> dict[str, Any]:
    return {"attributes": {"type": "Lead"}, "id": lead.id, "OwnerId": _id(action.target)}


def escalation_task(action: SlaAction, lead: m.LeadRow, s: SalesforceSettings,
                    manager: str | None) -> dict[str, Any]:
    """The escalation Task: for the configured user, the owner's manager, or the fallback."""
    handoff = action.handoff
    hours = f"{handoff.follow_up_hours:g}"
    due = action.deadline.strftime("%Y-%m-%d %H:%M UTC")
    why = ""
    assignee: str | None = _id(action.target) if action.target else manager
    if assignee is None:
        assignee = s.fallback_task_owner or None
        who = "a queue" if (lead.owner_id or "").startswith("00G") else "an owner with no manager"
        to = "the fallback owner" if assignee else "the integration user"
        why = f"The lead is owned by {who}: this escalation went to {to}.\n\n"
    subject = s.escalation_subject.format(name=m._display_name(handoff), sla_hours=hours,
                                          score=handoff.decision.score)
    record: dict[str, Any] = {
        "attributes": {"type": "Task"},
        s.task_key_field: action.key[:255],
        "WhoId": lead.id,
        "Subject": subject[:255],
        "Description": (f"{why}No first touch by the follow-up deadline ({due}); lead owner "
                        f"{lead.owner_id or 'unknown'}.\n\n{m.note_text(handoff)}")[:32_000],
        "ActivityDate": action.deadline.date().isoformat(),
        "Status": s.task_status,
        "Priority": "High",
    }
    if assignee:
        record["OwnerId"] = assignee
    return record


def act(sink: Sink, actions: Sequence[SlaAction], recovering: bool) -> list[WriteResult]:
    """One result per action (by ``action.key``); only whole-call failures raise."""
    s = sink.settings
    results: dict[str, WriteResult] = {}
    handoffs = list({a.handoff.key: a.handoff for a in actions}.values())
    found = {h.key: row for h, row in sink._match(handoffs)}
    by_kind: dict[SlaActionKind, list[tuple[SlaAction, m.LeadRow]]] = {k: [] for k in SlaActionKind}
    for action in dict((a.key, a) for a in actions).values():
        row = found.get(action.handoff.key)
        if isinstance(row, m.LeadRow):
            by_kind[action.kind].append((action, row))
            continue
        status = row.status if row is not None else WriteState.SKIPPED
        results[action.key] = WriteResult(
            action.key, WriteState.SKIPPED if status is WriteState.WAITING else status,
            row.reason if row is not None else "no lead", row.target_id if row else None)
    if by_kind[SlaActionKind.MARK] and not s.sla_status_field:
        for action, row in by_kind.pop(SlaActionKind.MARK):
            results[action.key] = WriteResult(action.key, WriteState.SKIPPED,
                                              "no sla_status_field configured", row.id)
    for action, row in [p for p in by_kind[SlaActionKind.REASSIGN] if not p[0].target]:
        by_kind[SlaActionKind.REASSIGN].remove((action, row))
        results[action.key] = WriteResult(action.key, WriteState.SKIPPED,
                                          "no [sla.reassign_to] owner for this instance", row.id)
    keyed = {a.key: a for pairs in by_kind.values() for a, _ in pairs}

    def pairs(kind: SlaActionKind) -> list[Pair]:
        return [(replace(a.handoff, key=a.key), row) for a, row in by_kind.get(kind, [])]

    def marked(h: Handoff, lead: m.LeadRow, st: SalesforceSettings) -> dict[str, Any]:
        return mark_update(keyed[h.key], lead, st)

    def reassigned(h: Handoff, lead: m.LeadRow, st: SalesforceSettings) -> dict[str, Any]:
        return reassign_update(keyed[h.key], lead, st)

    for kind, build in ((SlaActionKind.MARK, marked), (SlaActionKind.REASSIGN, reassigned)):
        sink._send(pairs(kind), build, "composite/sobjects", results, f"sla {kind.value}",
                   lambda todo, size: m.rounds(todo, size))
    escalations = pairs(SlaActionKind.ESCALATE)
    managers = _managers(sink, {lead.owner_id for h, lead in escalations
                                if lead.owner_id and not keyed[h.key].target})
    sink._send(escalations, lambda h, lead, st: escalation_task(
        keyed[h.key], lead, st, managers.get(lead.owner_id or "")),
        f"composite/sobjects/Task/{s.task_key_field}", results, "sla escalation task",
        lambda todo, size: [todo[i : i + size] for i in range(0, len(todo), size)])
    for kind_pairs in by_kind.values():
        for action, row in kind_pairs:
            results.setdefault(action.key, WriteResult(action.key, WriteState.WRITTEN,
                                                       target_id=row.id))
    sink.log.info("salesforce_sla_actions", actions=len(actions), recovering=recovering)
    return [results[a.key] for a in actions]


def _managers(sink: Sink, owners: set[str]) -> dict[str, str]:
    """``{user id: manager id}`` for the users among ``owners`` whose manager is active (an
    inactive user cannot be given a Task)."""
    users = sorted(o for o in owners if not o.startswith("00G"))
    chunk = sink.settings.id_chunk
    soqls = [format_soql("SELECT Id, ManagerId FROM User WHERE Id IN {}",
                         users[i : i + chunk]) for i in range(0, len(users), chunk)]
    out: dict[str, str] = {}
    for record in sink.client.query_many(soqls) if soqls else []:
        manager = record.get("ManagerId")
        if isinstance(manager, str) and manager:
            out[str(record.get("Id"))] = manager
    known = sink._owners(set(out.values())) if out else {}
    return {user: mgr for user, mgr in out.items() if mgr in known and known[mgr].active}
