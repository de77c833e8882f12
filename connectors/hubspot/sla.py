"""Follow-up SLA breach actions in HubSpot (the sink's ``act`` capability).

HubSpot has no built-in lead-response SLA (teams build one from workflows and tasks,
``docs/sales-loop.md``), so the agent's actions are plain CRM writes:

* ``mark``: the contact property ``sal_sla_status`` (``[connectors.X.sal] sla_status``,
  created by ``hubspot setup-properties``) set to ``sla_breached_value`` ("breached"): a
  list, a report, or a HubSpot workflow (e.g. "create a task for the owner's team lead")
  can start from it.
* ``escalate``: a note on the contact saying who should act (the configured owner, or
  "the owner's manager": HubSpot owners carry no manager, so routing to a person is the
  workflow's job). The note carries the action key in ``sal_handoff_key`` and is created
  exactly like the handoff's note (search before create when recovering): never twice.
* ``reassign``: ``hubspot_owner_id`` set to the configured owner id.

Calls per batch: the e-mail search for contacts without an id, one batch update per 100
contacts (mark and reassign of one contact folded into one input), the note creates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from hubspot.crm.contacts import (
    BatchInputSimplePublicObjectBatchInput,
    SimplePublicObjectBatchInput,
)

from connectors.hubspot.writeback import OWNER, batch_outcome, contact_id, note_text
from sync_agent.errors import PermanentApiError
from sync_agent.model import Handoff, SlaAction, SlaActionKind, WriteResult, WriteState

#: the sink whose helpers (matching, sending, logging) the actions use; not imported here
#: (the sink imports this module)
Sink = Any


def action_properties(sink: Sink, action: SlaAction) -> dict[str, str]:
    """The contact properties one mark or reassign action writes."""
    if action.kind is SlaActionKind.MARK:
        return {sink.settings.sal.sla_status: sink.settings.sla_breached_value}
    return {OWNER: action.target}


def escalation_note(action: SlaAction) -> str:
    """The escalation note's text: who should act, by when it was due, the handoff note."""
    who = f"owner {action.target}" if action.target else "the lead owner's manager"
    due = action.deadline.strftime("%Y-%m-%d %H:%M UTC")
    return (f"SLA breached: no first touch by {due} "
            f"({action.handoff.follow_up_hours:g} h follow-up SLA). Escalated to {who}.\n\n"
            f"{note_text(action.handoff)}")


def act(sink: Sink, actions: Sequence[SlaAction], recovering: bool) -> list[WriteResult]:
    """One result per action (by ``action.key``); only whole-call failures raise."""
    unique = list(dict((a.key, a) for a in actions).values())
    results: dict[str, WriteResult] = {}
    handoffs = list({a.handoff.key: a.handoff for a in unique}.values())
    contacts: dict[str, str] = {}
    unknown: list[Handoff] = []
    for handoff in handoffs:
        cid = contact_id(handoff, sink.name)
        if cid is None:
            unknown.append(handoff)
        else:
            contacts[handoff.key] = cid
    missing: dict[str, WriteResult] = {}
    for handoff, cid in sink._match_by_email(unknown, missing):
        contacts[handoff.key] = cid
    updates: dict[str, list[SlaAction]] = {}
    notes: list[tuple[Handoff, str]] = []
    for action in unique:
        cid = contacts.get(action.handoff.key)
        if cid is None:
            gone = missing.get(action.handoff.key)
            results[action.key] = WriteResult(action.key, WriteState.SKIPPED,
                                              gone.reason if gone else "no HubSpot contact")
        elif action.kind is SlaActionKind.REASSIGN and not action.target:
            results[action.key] = WriteResult(action.key, WriteState.SKIPPED,
                                              "no [sla.reassign_to] owner for this instance")
        elif action.kind is SlaActionKind.ESCALATE:
            # the note's hs_timestamp (its place on the timeline) is the missed deadline
            when = replace(action.handoff.decision, decided_at=action.deadline)
            notes.append((replace(action.handoff, key=action.key, note=escalation_note(action),
                                  decision=when), cid))
        else:
            updates.setdefault(cid, []).append(action)
    _update(sink, updates, results)
    sink._notes(notes, recovering, results)
    for action in unique:
        results.setdefault(action.key, WriteResult(
            action.key, WriteState.WRITTEN, target_id=contacts.get(action.handoff.key)))
    sink.log.info("hubspot_sla_actions", actions=len(unique), notes=len(notes),
                  recovering=recovering)
    return [results[a.key] for a in actions]


def _update(sink: Sink, updates: dict[str, list[SlaAction]],
            results: dict[str, WriteResult]) -> None:
    """Mark and reassign, one input per contact, 100 contacts a call."""
    ids = list(updates)
    for start in range(0, len(ids), sink.settings.batch_size):
        chunk = ids[start : start + sink.settings.batch_size]
        inputs = []
        for cid in chunk:
            props: dict[str, str] = {}
            for action in updates[cid]:
                props.update(action_properties(sink, action))
            inputs.append(SimplePublicObjectBatchInput(id=cid, properties=props))
        try:
            response = sink.client.update_contacts(
                BatchInputSimplePublicObjectBatchInput(inputs=inputs))
        except PermanentApiError as error:
            if error.configuration or len(chunk) > 1:
                raise
            for action in updates[chunk[0]]:
                results[action.key] = WriteResult(action.key, WriteState.DEAD, str(error),
                                                  target_id=chunk[0])
            continue
        _, failed = batch_outcome(response.status, response.body, response.headers, chunk)
        for cid in chunk:
            failure = failed.get(cid)
            if failure is None:
                continue
            for action in updates[cid]:
                results[action.key] = WriteResult(action.key, failure.status,
                                                  f"sla {action.kind.value}: {failure.reason}",
                                                  target_id=cid)
