"""The SLA watch end to end: real SDK clients against the sandbox, time moved forward.

Leads are handed off; the test records first touches as the read-back would (on time for
some, late for others, none for the rest), moves sandbox time past the deadline and runs
the agent twice: each breach is recorded once, and each action (mark, escalation,
reassignment) lands once in each CRM, checked in the sandbox's own state.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sla_world import (
    accepted,
    action_counts,
    action_states,
    breached_keys,
    escalation,
    sla_config,
    touch,
)

from connectors.sandbox import Sandbox
from connectors.sandbox.sales_team import TeamConfig
from connectors.sandbox.salesforce_auth import USER_ID
from sync_agent.audit import AuditLog
from sync_agent.cli import main
from sync_agent.engine import replay, run_once


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(contacts=150, seed=11, mql_share=0.7, team=TeamConfig(enabled=False)) as sb:
        yield sb


def test_breaches_are_recorded_once_and_each_action_lands_once(sandbox, tmp_path) -> None:
    config = sla_config(sandbox, tmp_path)
    clock = sandbox.now
    [first] = run_once(config, clock=clock)
    assert first.outcome == "ok" and first.accepted >= 6
    sandbox.advance(hours=1)  # HubSpot's own sync creates the missing Salesforce leads
    run_once(config, clock=clock)
    handed = accepted(config)
    third = len(handed) // 3
    on_time, late, untouched = handed[:third], handed[third : 2 * third], handed[2 * third :]
    touch(config, on_time, timedelta(hours=3), clock())
    touch(config, late, timedelta(hours=30), clock())
    sandbox.advance(hours=10)
    run_once(config, clock=clock)
    assert breached_keys(config) == [], "nothing is breached before the deadline"

    owners = {lead["Id"]: lead["OwnerId"] for lead in sandbox.store.leads.values()}
    managers = {u["Id"]: u.get("ManagerId") for u in sandbox.store.users.values()}
    sandbox.advance(hours=40)
    run_once(config, clock=clock)
    run_once(config, clock=clock)  # the watch again: nothing new
    expected = sorted(r["handoff_key"] for r in late + untouched)
    assert breached_keys(config) == expected

    state = sandbox.state()
    contacts = {c["id"]: c["properties"] for c in state["contacts"]}
    notes, tasks = action_counts(sandbox)
    queue = config.sla.reassign_to["salesforce"]
    owner = config.sla.reassign_to["hubspot"]
    sf_tasks = {t["SAL_Handoff_Key__c"]: t for t in state["tasks"]
                if ":sla:" in (t.get("SAL_Handoff_Key__c") or "")}
    breached = {r["handoff_key"]: r for r in late + untouched}
    sf_breached = [r for r in breached.values() if "salesforce" in r["sinks"]]
    assert sf_breached, "some breached leads are in Salesforce"
    for key, row in breached.items():
        props = contacts[row["source_id"]]
        assert props["sal_sla_status"] == "breached" and props["hubspot_owner_id"] == owner
        assert notes[escalation(key)] == 1
    for row in on_time:
        assert contacts[row["source_id"]].get("sal_sla_status") in (None, "")
    assert sum(notes.values()) == len(breached), "one escalation note per breach"
    assert sum(tasks.values()) == len(sf_breached), "one escalation task per breach"
    by_task_lead = {t["WhoId"]: t for t in sf_tasks.values()}
    for lead_id, task in by_task_lead.items():
        lead = sandbox.store.leads[lead_id]
        assert lead["SAL_SLA_Status__c"] == "breached" and lead["OwnerId"] == queue
        manager = managers.get(owners[lead_id])  # a queue has none, nor has a manager
        if manager:
            assert task["OwnerId"] == manager, "the owner's manager gets the escalation"
        else:
            assert task["OwnerId"] == USER_ID and "this escalation went to" in task["Description"]
    assert len(by_task_lead) == len(sf_breached)
    cli = CliRunner().invoke(main, ["sla", "--config", str(config.path), "--json"])
    assert cli.exit_code == 0, cli.output
    [pipeline] = json.loads(cli.output)["pipelines"]
    assert (pipeline["met"], pipeline["breached"], pipeline["open_breaches"]) == (
        len(on_time), len(breached), len(untouched)), "late touches close a breach"
    assert pipeline["pending"] == pipeline["due"] == 0
    assert pipeline["actions"] == {"written": sum(len(r["sinks"].split(",")) for r in
                                                  breached.values()) * 3}
    text = CliRunner().invoke(main, ["sla", "--config", str(config.path)]).output
    assert f"met {len(on_time)}" in text and "open breach" in text
    assert {lead_id for lead_id in by_task_lead if managers.get(owners[lead_id])}, "some managers"
    assert action_states(config) == {"written"}


def test_a_failing_action_is_retried_then_dead_lettered_then_replayed(sandbox, tmp_path) -> None:
    config = sla_config(sandbox, tmp_path, max_attempts=2,
                        hubspot_options={"max_attempts": 1, "backoff_base": 0})
    clock = sandbox.now
    run_once(config, clock=clock)
    sandbox.advance(hours=30)
    sandbox.faults.fail_next(1, 503, "hubspot:batch_update")
    run_once(config, clock=clock)  # breaches found; HubSpot's mark/reassign call fails
    with AuditLog.open(config.audit_db) as log:
        retrying = log.rows("SELECT handoff_key FROM writes WHERE state = 'retryable'")
    assert retrying and all(":sla:" in r["handoff_key"] for r in retrying)
    sandbox.advance(hours=2)
    sandbox.faults.fail_next(1, 503, "hubspot:batch_update")
    run_once(config, clock=clock)  # second and last attempt fails: dead letters
    with AuditLog.open(config.audit_db) as log:
        dead = [d for d in log.dead_letters() if ":sla:" in d["handoff_key"]]
    assert {d["handoff_key"] for d in dead} == {r["handoff_key"] for r in retrying}
    [summary] = replay(config, dead_letter_ids=[d["id"] for d in dead], clock=clock)
    assert summary.outcome == "ok"
    notes, _ = action_counts(sandbox)
    contacts = {c["id"]: c["properties"] for c in sandbox.state()["contacts"]}
    breached = breached_keys(config)
    assert breached and sorted(k.rpartition(":sla:")[0] for k in notes) == breached
    assert all(n == 1 for n in notes.values())
    for row in accepted(config):
        if row["handoff_key"] in breached:
            assert contacts[row["source_id"]]["sal_sla_status"] == "breached"
    assert action_states(config) == {"written"}


def test_a_webhook_run_of_serve_runs_the_watch_too(sandbox, tmp_path) -> None:
    from sync_agent.engine.by_id import run_ids

    config = sla_config(sandbox, tmp_path)
    run_once(config, clock=sandbox.now)
    handed = accepted(config)
    sandbox.advance(hours=30)
    # what `serve` runs for a webhook batch: one record read by id, then the watch
    summary = run_ids(config, pipeline="hubspot-mqls", ids=[handed[0]["source_id"]],
                      clock=sandbox.now)
    assert summary.mode == "webhook"  # (handoffs still waiting for a Lead after 24 h fail)
    assert breached_keys(config) == sorted(r["handoff_key"] for r in handed)
    notes, _ = action_counts(sandbox)
    assert sorted(notes) == sorted(escalation(r["handoff_key"]) for r in handed)
    assert action_states(config) == {"written"}
