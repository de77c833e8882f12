"""Each sink's ``act`` against the sandbox: idempotent per action key, odd leads skipped."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sla_world import action_counts, sla_config

from connectors.sandbox import Sandbox
from connectors.sandbox.sales_team import TeamConfig
from sync_agent.model import (
    MQL,
    Decision,
    Handoff,
    Outcome,
    SlaAction,
    SlaActionKind,
    WriteState,
)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(contacts=30, seed=3, team=TeamConfig(enabled=False)) as sb:
        yield sb


def action(sb: Sandbox, kind: SlaActionKind, key: str, target: str = "", *,
           lead_id: str | None = None, contact_id: str | None = None) -> SlaAction:
    now = sb.now()
    mql = MQL("hubspot", contact_id or "0", {"email": "nobody@example.com"},
              crm_ids={"salesforce": lead_id} if lead_id else {})
    decision = Decision(Outcome.ACCEPTED, 80.0, ("score 80 >= 70",), (), "sal", "h", now)
    handoff = Handoff(key, mql, decision, "SAL accepted: score 80", 24.0,
                      now + timedelta(hours=24))
    return SlaAction(f"{key}:sla:{kind.value}", kind, handoff, now + timedelta(hours=24), target)


def test_salesforce_actions(sandbox, tmp_path) -> None:
    config = sla_config(sandbox, tmp_path)
    inst = config.instance("salesforce")
    sink = inst.spec.build_sink(inst)
    leads = list(sandbox.store.leads.values())
    open_lead = next(lead for lead in leads if not lead.get("IsConverted")
                     and lead["OwnerId"].startswith("005"))
    converted = next(lead for lead in leads if lead.get("IsConverted"))
    boss = next(u["Id"] for u in sandbox.store.users.values() if u.get("ManagerId") is None
                and u["IsActive"] and u["Id"] != open_lead["OwnerId"])
    batch = [
        action(sandbox, SlaActionKind.ESCALATE, "sal-a", boss, lead_id=open_lead["Id"]),
        action(sandbox, SlaActionKind.MARK, "sal-a", lead_id=open_lead["Id"]),
        action(sandbox, SlaActionKind.REASSIGN, "sal-a", lead_id=open_lead["Id"]),
        action(sandbox, SlaActionKind.MARK, "sal-b", lead_id=converted["Id"]),
    ]
    results = {r.key: r for r in sink.act(batch)}
    assert results["sal-a:sla:escalate"].status is WriteState.WRITTEN
    assert results["sal-a:sla:mark"].status is WriteState.WRITTEN
    assert results["sal-a:sla:reassign"].status is WriteState.SKIPPED  # no owner configured
    assert results["sal-b:sla:mark"].status is WriteState.SKIPPED
    assert "converted" in results["sal-b:sla:mark"].reason
    again = sink.act(batch[:1], recovering=True)  # a re-send after a crash: same Task
    assert again[0].status is WriteState.WRITTEN
    _, tasks = action_counts(sandbox)
    assert tasks == {"sal-a:sla:escalate": 1}
    task = next(t for t in sandbox.store.tasks.values()
                if t.get("SAL_Handoff_Key__c") == "sal-a:sla:escalate")
    assert task["OwnerId"] == boss and task["WhoId"] == open_lead["Id"]
    assert sandbox.store.leads[open_lead["Id"]]["SAL_SLA_Status__c"] == "breached"
    assert sandbox.store.leads[open_lead["Id"]]["OwnerId"] == open_lead["OwnerId"]


def test_hubspot_actions(sandbox, tmp_path) -> None:
    config = sla_config(sandbox, tmp_path)
    inst = config.instance("hubspot")
    sink = inst.spec.build_sink(inst)
    cid = next(iter(sandbox.store.contacts))
    owner = config.sla.reassign_to["hubspot"]
    batch = [action(sandbox, kind, "sal-c", owner if kind is SlaActionKind.REASSIGN else "",
                    contact_id=cid) for kind in SlaActionKind]
    batch.append(action(sandbox, SlaActionKind.MARK, "sal-d"))  # no contact id, no match
    results = {r.key: r for r in sink.act(batch)}
    assert all(results[f"sal-c:sla:{k.value}"].status is WriteState.WRITTEN
               for k in SlaActionKind)
    assert results["sal-d:sla:mark"].status is WriteState.SKIPPED
    sink.act(batch[:3], recovering=True)  # a re-send after a crash: the note is found
    notes, _ = action_counts(sandbox)
    assert notes == {"sal-c:sla:escalate": 1}
    props = sandbox.store.contacts[cid]["properties"]
    assert props["sal_sla_status"] == "breached" and props["hubspot_owner_id"] == owner
    note = next(n for n in sandbox.store.notes.values()
                if n["properties"].get("sal_handoff_key") == "sal-c:sla:escalate")
    assert "Escalated to the lead owner's manager" in note["properties"]["hs_note_body"]
    assert note["properties"]["hs_timestamp"][:16] == batch[0].deadline.strftime("%Y-%m-%dT%H:%M")
