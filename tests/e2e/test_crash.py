"""SIGKILL the agent at random instants during a sync; no handoff is lost or written twice.

The sandbox runs in this test process (it outlives every agent); the agent runs as
``sync-agent run --once`` in a child process that is killed with SIGKILL after a random
delay, again and again, then restarted until a pass completes. The CRM state in the
sandbox must then agree with the audit log: every accepted lead has its SAL status and
exactly one note and (when it has a Salesforce lead) exactly one task; nothing is pending.
Two sources: HubSpot MQLs (the default pipeline) and a lead file (matched by e-mail).
"""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from lead_files import file_pipeline_config, write_lead_file

from connectors.sandbox import Sandbox
from sync_agent.demo import prepare_sandbox

MQLS = 3000
KILLS = 10


@pytest.fixture()
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(contacts=MQLS, seed=5, mql_share=1.0) as sb:
        yield sb


RUN = ("run", "--once")
#: a backfill whose writes go through a writer process (killed with the agent)
BACKFILL = ("backfill", "--since", "2000-01-01", "--writer", "process")


def agent(config: Path, command: tuple[str, ...] = RUN) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "sync_agent.cli", *command, "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def kill_at_random(config: Path, rng: random.Random, command: tuple[str, ...] = RUN,
                   kills: int = KILLS) -> int:
    """Start the agent and SIGKILL it after a random delay; how many kills landed mid-run."""
    landed = 0
    for _ in range(kills):
        proc = agent(config, command)
        try:
            proc.wait(timeout=rng.uniform(0.8, 4.0))
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            landed += 1
    return landed


def finish(config: Path, audit_db: Path) -> None:
    """Run passes, as cron would, until one exits cleanly with nothing left open."""
    for _ in range(8):
        proc = agent(config)
        _, err = proc.communicate(timeout=240)
        if proc.returncode == 0 and open_writes(audit_db) == 0:
            return
    raise AssertionError(f"agent never finished cleanly: {err.decode()[-2000:]}")


def open_writes(audit_db: Path) -> int:
    with sqlite3.connect(audit_db) as db:
        row = db.execute(
            "SELECT count(*) FROM writes WHERE state IN ('pending', 'in_flight', 'retryable')"
        ).fetchone()
    return int(row[0])


def crash_then_finish(sandbox: Sandbox, config_path: Path, audit_db: Path, seed: int,
                      command: tuple[str, ...] = RUN, kills: int = KILLS) -> None:
    # HubSpot search sees new notes late; writes cut off by a kill are reconciled after 1 s,
    # longer than the sandbox's 300 ms index lag (production default: 600 s).
    sandbox.faults.search_lag_ms = 300
    with config_path.open("a", encoding="utf-8") as fh:
        fh.write("\n[writeback]\nreconcile_after_seconds = 1\n")
    landed = kill_at_random(config_path, random.Random(seed), command, kills)
    finish(config_path, audit_db)
    assert landed >= 3, "too few kills landed mid-run for this test to mean anything"


def assert_once_each(sandbox: Sandbox, audit_db: Path) -> dict[str, str]:
    """One note per accepted handoff, one task per Salesforce-written one, nothing open;
    returns {lead key: handoff key} of the accepted leads."""
    db = sqlite3.connect(audit_db)
    accepted = dict(db.execute(
        "SELECT lead_key, handoff_key FROM decisions WHERE outcome = 'accepted'"
    ).fetchall())  # fmt: skip
    sf_written = {k for (k,) in db.execute(
        "SELECT handoff_key FROM writes WHERE sink = 'salesforce' AND state = 'written'"
    )}  # fmt: skip
    state = sandbox.state()
    assert len(accepted) > 20, "the seeded data should give many accepted handoffs"
    assert open_writes(audit_db) == 0
    notes = Counter(n["properties"].get("sal_handoff_key") for n in state["notes"])
    # the seeded org has older tasks of its own (no handoff key): count the agent's only
    tasks = Counter(t["SAL_Handoff_Key__c"] for t in state["tasks"] if t["SAL_Handoff_Key__c"])
    assert set(notes) == set(accepted.values())
    assert max(notes.values()) == 1
    assert set(tasks) == set(accepted.values()) & sf_written
    assert max(tasks.values(), default=1) == 1
    return accepted


def test_sigkill_at_random_points_loses_nothing_and_writes_nothing_twice(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    config, _ = prepare_sandbox(sandbox, tmp_path)
    crash_then_finish(sandbox, config.path, config.audit_db, 20261125)
    accepted = assert_once_each(sandbox, config.audit_db)
    state = sandbox.state()
    db = sqlite3.connect(config.audit_db)
    decided = {key for (key,) in db.execute("SELECT DISTINCT lead_key FROM decisions")}
    # nothing lost: every MQL in HubSpot was decided
    assert decided == {f"hubspot:{c['id']}" for c in state["contacts"]}
    # the CRM agrees with the audit log on every accepted lead
    status = {f"hubspot:{c['id']}": c["properties"].get("sal_status") for c in state["contacts"]}
    assert all(status[key] == "accepted" for key in accepted)


def test_sigkill_during_a_lead_file_run_loses_nothing_and_writes_nothing_twice(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    prepare_sandbox(sandbox, tmp_path / "setup")
    lead_file = tmp_path / "list.csv"
    rows = write_lead_file(sandbox, lead_file)
    config_path = file_pipeline_config(sandbox, tmp_path, lead_file)
    crash_then_finish(sandbox, config_path, tmp_path / "sync-agent.db", 20261202)
    accepted = assert_once_each(sandbox, tmp_path / "sync-agent.db")
    db = sqlite3.connect(tmp_path / "sync-agent.db")
    decided = {key for (key,) in db.execute("SELECT DISTINCT lead_key FROM decisions")}
    assert len(decided) == rows, "every row of the file was decided"
    by_email = {str(c["properties"].get("email")).lower(): c for c in sandbox.state()["contacts"]}
    assert all(
        by_email[key.split(":", 1)[1]]["properties"].get("sal_status") == "accepted"
        for key in accepted
    ), "the CRM agrees with the audit log on every accepted lead"


def test_sigkill_during_a_backfill_with_a_writer_process_loses_nothing_and_writes_nothing_twice(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """The same, for a backfill whose writes run in a process of its own: the writer dies
    with the agent, and the next runs finish its batches exactly once."""
    config, _ = prepare_sandbox(sandbox, tmp_path)
    crash_then_finish(sandbox, config.path, config.audit_db, 20261203, BACKFILL, kills=6)
    accepted = assert_once_each(sandbox, config.audit_db)
    status = {f"hubspot:{c['id']}": c["properties"].get("sal_status")
              for c in sandbox.state()["contacts"]}  # fmt: skip
    assert all(status[key] == "accepted" for key in accepted)

