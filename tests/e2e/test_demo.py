"""The demo: a full sync on the sandbox, then a second pass that hands off nothing."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from sync_agent.audit import AuditLog
from sync_agent.cli import main
from sync_agent.demo import run_demo


def test_demo_syncs_once_and_the_second_pass_hands_off_nothing(tmp_path: Path) -> None:
    result = run_demo(contacts=600, seed=3, workdir=tmp_path)
    first, second = result.first[0], result.second[0]
    assert "contacts.sal_status" in result.properties_created
    # The seeded org has leads owned by queues and inactive users: their tasks go to the
    # integration user (no fallback configured), never to a dead letter.
    with AuditLog.open(tmp_path / "sync-agent.db") as audit:
        assert audit.dead_letters() == []
    assert first.outcome == "ok"
    assert first.accepted > 0 and first.decided == first.read
    assert second.decided == 0 and second.writes.written == 0
    assert second.skipped_accepted == first.accepted
    assert result.crm_after_second == result.crm_before_second
    assert result.crm_before_second["notes"] == first.accepted
    # the example shown to the user is a real accepted handoff, with its note and task
    assert result.decision is not None and result.decision.outcome == "accepted"
    assert result.note is not None
    assert result.note["properties"]["sal_handoff_key"] == result.example["handoff_key"]
    assert result.task is None or result.task["SAL_Handoff_Key__c"] == result.example["handoff_key"]
    assert result.report.overall.sals == first.accepted
    assert (tmp_path / "sync-agent.db").exists()


def test_demo_command_narrates_the_steps(tmp_path: Path) -> None:
    out = CliRunner().invoke(main, ["demo", "--contacts", "400", "--workdir", str(tmp_path)])
    assert out.exit_code == 0, out.output
    for heading in ("setup-properties", "First pass", "Second pass", "Report", "Exactly once"):
        assert heading in out.output
