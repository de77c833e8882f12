"""End to end: the real HubSpot and Salesforce connectors against the local sandbox.

Each test starts its own sandbox (a few hundred seeded contacts) and checks the CRM state
the sandbox reports against the audit log: every accepted lead has its SAL status, exactly
one note and (when it has a Salesforce lead) exactly one task; nothing is written twice.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from click.testing import CliRunner

from connectors.sandbox.config import config_for_sandbox
from sync_agent.audit import AuditLog
from sync_agent.cli import main
from sync_agent.config import Config
from sync_agent.engine import backfill, replay, run_once
from sync_agent.scheduler import build_scheduler

sandbox_mod = pytest.importorskip("connectors.sandbox")
hubspot = pytest.importorskip("connectors.hubspot")
pytest.importorskip("connectors.salesforce")
setup = pytest.importorskip("connectors.hubspot.setup")

MQL = "marketingqualifiedlead"


@pytest.fixture
def sandbox() -> Iterator[Any]:
    with sandbox_mod.Sandbox(contacts=400, seed=11, mql_share=0.7) as sb:
        yield sb


def make_config(sb: Any, workdir: Path, **options: Any) -> Config:
    info = {
        **sb.info(),
        "hubspot_options": options.pop("hubspot_options", {}),
        "salesforce_options": options.pop("salesforce_options", {}),
    }
    config = config_for_sandbox(info, workdir, **options)
    client = hubspot.build_client(config.connectors["hubspot"].settings, config.secrets)
    setup.setup_properties(client, client.settings)
    return config


def writes(sb: Any) -> int:
    """Write calls the sandbox answered (HubSpot updates/notes, Salesforce collections)."""
    state = sb.state(include_records=False)
    return sum(
        r["count"]
        for r in state["requests"]
        if r["endpoint"] in ("contacts.batch_update", "notes.batch_create")
        or r["endpoint"].startswith("PATCH composite")
    )


def assert_crm_matches_audit(sb: Any, config: Config) -> int:
    """Exactly-once check; returns the number of accepted leads."""
    state = sb.state()
    notes = Counter(n["properties"].get("sal_handoff_key") for n in state["notes"])
    # the seeded org has older tasks of its own (no handoff key): count the agent's only
    tasks = Counter(t["SAL_Handoff_Key__c"] for t in state["tasks"] if t.get("SAL_Handoff_Key__c"))
    contacts = {c["id"]: c["properties"] for c in state["contacts"]}
    with AuditLog.open(config.audit_db) as log:
        accepted = log.rows(
            "SELECT d.source_id, d.handoff_key, w.state AS sf FROM decisions d JOIN writes w "
            "ON w.decision_id = d.id AND w.sink = 'salesforce' WHERE d.outcome = 'accepted'"
        )
        states = log.write_states()
    # settled, or waiting for a Lead HubSpot's own sync has not created (yet)
    assert set(states) <= {"written", "skipped", "waiting"}, states
    for row in accepted:
        assert contacts[row["source_id"]]["sal_status"] == "accepted"
        assert notes[row["handoff_key"]] == 1
        assert tasks[row["handoff_key"]] == (1 if row["sf"] == "written" else 0)
    assert sum(notes.values()) == len(accepted), "no note without an accepted decision"
    assert max(tasks.values(), default=1) == 1
    return len(accepted)


def add_mqls(sb: Any, count: int) -> list[str]:
    """New MQLs modelled on an existing one (a strong lead), modified now."""
    store = sb.store
    template = next(
        c["properties"]
        for c in store.contacts.values()
        if c["properties"].get("lifecyclestage") == MQL
    )
    ids = []
    for i in range(count):
        props = {
            k: v
            for k, v in template.items()
            if k not in ("hs_object_id", "createdate", "lastmodifieddate", "salesforceleadid")
            and not k.startswith("sal_")
        }
        props["email"] = f"new.lead{i}@northwind-example.com"
        ids.append(store.add_contact(props))
    return ids


def test_incremental_runs_are_idempotent_and_pick_up_only_new_mqls(sandbox, tmp_path) -> None:
    config = make_config(sandbox, tmp_path)
    mqls = len(sandbox.store.mqls())
    [first] = run_once(config)
    assert first.outcome == "ok" and first.decided == mqls and first.malformed == 0
    accepted = assert_crm_matches_audit(sandbox, config)
    assert accepted == first.accepted
    calls = writes(sandbox)
    [again] = run_once(config)
    assert again.decided == 0 and writes(sandbox) == calls, "a re-run writes nothing"
    new = add_mqls(sandbox, 3)
    [third] = run_once(config)
    assert third.decided == 3 and third.outcome == "ok"
    with AuditLog.open(config.audit_db) as log:
        assert {d["lead_key"] for d in log.list_decisions(limit=3)} == {f"hubspot:{i}" for i in new}
    assert_crm_matches_audit(sandbox, config)


def test_dry_run_writes_nothing(sandbox, tmp_path) -> None:
    config = make_config(sandbox, tmp_path)
    [dry] = run_once(config, dry_run=True)
    assert dry.decided == len(sandbox.store.mqls()) and writes(sandbox) == 0
    state = sandbox.state()
    # the seeded org has older tasks of its own; none carries a handoff key
    assert not state["notes"] and not any(t.get("SAL_Handoff_Key__c") for t in state["tasks"])
    assert not any(c["properties"].get("sal_status") for c in state["contacts"])


def test_backfill_interrupted_then_resumed(sandbox, tmp_path) -> None:
    config = make_config(sandbox, tmp_path, hubspot_options={"page_size": 50})
    stop = threading.Event()
    [first] = backfill(config, since="2020-01-01", stop=stop, progress=lambda done, _t: stop.set())
    assert first.outcome == "interrupted" and first.read == 50
    [rest] = backfill(config, since="2020-01-01")
    assert rest.outcome == "ok"
    assert first.decided + rest.decided == len(sandbox.store.mqls())
    assert_crm_matches_audit(sandbox, config)


def test_dead_letters_are_replayed_once_the_cause_is_fixed(sandbox, tmp_path) -> None:
    config = make_config(sandbox, tmp_path, max_attempts=1, salesforce_options={"lock_retries": 0})
    sandbox.salesforce_faults.rate_lock = 1.0  # every Lead row stays locked
    [summary] = run_once(config)
    assert summary.writes.dead > 0 and summary.exit_code == 1
    with AuditLog.open(config.audit_db) as log:
        dead = log.dead_letters()
    assert dead and {d["sink"] for d in dead} == {"salesforce"}
    sandbox.salesforce_faults.rate_lock = 0.0
    [replayed] = replay(config)
    assert replayed.writes.dead == 0 and replayed.writes.written + replayed.writes.skipped == len(
        dead
    )
    assert_crm_matches_audit(sandbox, config)


def test_scheduled_job_with_an_injected_clock(sandbox, tmp_path) -> None:
    config = make_config(sandbox, tmp_path)
    # a fixed clock after the sandbox's data (a run reads what was modified before its start)
    start = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=2)
    sched = build_scheduler(
        config, scheduler=BackgroundScheduler(timezone=UTC), clock=lambda: start
    )
    [job] = [j for j in sched.get_jobs() if j.id == "hubspot-mqls"]
    assert job.next_run_time == start
    next_fire = job.trigger.get_next_fire_time(start, start)
    assert next_fire == start + timedelta(minutes=1)  # every_minutes = 1
    [summary] = job.func(*job.args)  # what the executor runs, without waiting for it
    assert summary.decided == len(sandbox.store.mqls())
    with AuditLog.open(config.audit_db) as log:
        assert log.runs()[0]["started_at"] == start.isoformat()
    assert_crm_matches_audit(sandbox, config)


def test_two_agents_started_at_once(sandbox, tmp_path) -> None:
    config = make_config(sandbox, tmp_path)
    hold = (
        "import sys; from sync_agent.lock import acquire; acquire(sys.argv[1]); "
        "print('held', flush=True); sys.stdin.read()"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", hold, str(config.audit_db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        result = CliRunner().invoke(main, ["run", "--once", "--config", str(config.path)])
        assert result.exit_code == 3 and "already running" in result.output
    finally:
        proc.kill()
        proc.wait()
    assert writes(sandbox) == 0
    assert CliRunner().invoke(main, ["run", "--once", "--config", str(config.path)]).exit_code == 0
