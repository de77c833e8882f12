"""The demo: a full sync on the sandbox, then a second pass that hands off nothing.

It narrates its steps in order (each heading before its progress bar), explains why
Salesforce got fewer tasks than there were accepted leads, ends with commands that work on
what it leaves behind, and leaves no temporary folder.
"""

from __future__ import annotations

import shlex
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from sync_agent.audit import AuditLog
from sync_agent.cli import main
from sync_agent.demo import LOOP_DAYS, STEPS, Step, run_demo


def test_demo_syncs_once_and_the_second_pass_hands_off_nothing(tmp_path: Path) -> None:
    result = run_demo(contacts=600, seed=3, workdir=tmp_path)
    first, second = result.first[0], result.second[0]
    assert "contacts.sal_status" in result.properties_created
    # The seeded org has leads owned by queues and inactive users: their tasks go to the
    # integration user (no fallback configured), never to a dead letter.
    # (The loop step's run, ten days on, parks the tasks still waiting for their lead.)
    with AuditLog.open(tmp_path / "sync-agent.db") as audit:
        parked = audit.dead_letters()
    assert all(d["sink"] == "salesforce" and d["last_error"].startswith(
        "waiting for the CRM record: no lead with this e-mail yet") for d in parked)
    assert len(parked) == sum(s.writes.dead for s in result.later)
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
    # ICP fit decided from company data: the example's fields say which came from its company
    assert result.origins and all(v.startswith("company.") for v in result.origins.values())
    assert (tmp_path / "sync-agent.db").exists() and result.kept

    # The notes/tasks gap adds up: every accepted lead got a task or a reason why not.
    tasks = result.accepted_writes["salesforce"]
    assert tasks.pop("written") == result.crm_before_second["tasks"]
    assert result.crm_before_second["tasks"] + sum(tasks.values()) == first.accepted
    assert tasks, "the seeded org has converted and missing leads: the gap is not empty"
    gap = "\n".join(map(str, result.shown["Why fewer tasks than accepted leads"]))
    for why, n in tasks.items():
        assert f"{why} {n:,}" in gap

    # The HTTP requests shown are the ones the sandbox received, per system.
    assert result.requests["first pass"] == first.api_calls
    assert result.requests["second pass"] == second.api_calls

    # Next steps: every one is a real command, and works on the folder the demo kept.
    assert any("audit show" in cmd for cmd, _ in result.next_steps)
    for cmd, _ in result.next_steps:
        args = shlex.split(cmd)
        assert args[0] == "sync-agent"
        out = CliRunner().invoke(main, args[1:], catch_exceptions=False)
        unhealthy = args[1] == "status" and parked and "dead letter" in out.output
        assert out.exit_code == (1 if unhealthy else 0), f"{cmd}\n{out.output}"


def test_the_demo_closes_the_loop_with_what_the_sales_team_did(tmp_path: Path) -> None:
    """Ten sandbox days on: the read-back, the SLA watch, the report and the simulation
    agree with what the sandbox's sales team planned and did (its own record of it)."""
    result = run_demo(contacts=600, seed=3, workdir=tmp_path)
    [later] = result.later
    assert later.decided == 0, "contacts sales touched are read again, and not re-decided"
    plans = {h["contact_id"]: h for h in result.team if h["contact_id"]}
    with AuditLog.open(tmp_path / "sync-agent.db") as audit:
        sals = audit.rows("SELECT source_id, decided_at FROM decisions WHERE outcome = "
                          "'accepted' AND dry_run = 0")
    assert sals and {s["source_id"] for s in sals} <= set(plans)

    def late(sal: dict[str, object]) -> bool:
        touched = plans[str(sal["source_id"])]["first_touch_at"]
        due = datetime.fromisoformat(str(sal["decided_at"])) + timedelta(hours=24)
        return touched is None or datetime.fromisoformat(touched.replace("Z", "+00:00")) > due

    breached = sum(map(late, sals))
    assert 0 < breached < len(sals)
    [sla] = result.sla["pipelines"]
    assert sla["breached"] == breached and sla["met"] == len(sals) - breached
    funnel = result.loop_report.funnel
    assert (funnel.sals, funnel.sla.breached, funnel.sla.met) == (
        len(sals), breached, len(sals) - breached)
    # each breach is marked in HubSpot (the demo's [sla] actions: mark, escalate)
    assert sla["actions"].get("written", 0) >= breached
    # what sales concluded: the plans that are due within the ten days
    concluded = [plans[str(s["source_id"])] for s in sals
                 if plans[str(s["source_id"])]["outcome_at"]]
    assert funnel.opportunity == sum(p["outcome"] == "converted" for p in concluded)
    assert funnel.rejected == sum(p["outcome"] == "rejected" for p in concluded)
    assert funnel.recycled == sum(p["outcome"] == "recycled" for p in concluded)
    assert funnel.first_touched == sum(bool(plans[str(s["source_id"])]["first_touch_at"])
                                       for s in sals)
    assert later.outcomes["first_touch"] >= funnel.first_touched  # per CRM that saw it
    # the stricter ruleset, replayed on the same leads, says what it would have cost
    sim = result.simulation
    assert sim.flips and sim.outcomes is not None
    shown = "\n".join(map(str, result.shown[STEPS[-2].title]))
    for words in ("SAL→SQL", "Follow-up SLA", "Feedback per rule", "MQL→SAL rate",
                  f"moves {LOOP_DAYS} days on"):
        assert words in shown, words


def test_demo_command_shows_each_heading_before_its_progress_bar(tmp_path: Path) -> None:
    out = CliRunner().invoke(main, ["demo", "--contacts", "300", "--workdir", str(tmp_path)])
    assert out.exit_code == 0, out.output
    text = out.output
    places = [text.index(f"{n}. {step.title}") for n, step in enumerate(STEPS, 1)]
    assert places == sorted(places), "the steps print in order"
    first_bar, second_bar = text.index("first pass"), text.index("second pass")
    assert places[1] < first_bar < places[2] < second_bar < places[3]
    assert "seed" not in text.lower(), "no jargon: the data is described as made-up contacts"
    assert "Next steps" in text and f"--config {tmp_path}" in text
    example = text[places[4]:places[5]]
    assert "company." in example, "the example's table says which fields its company gave"

    # The same folder again would start from the first demo's cursor: refused, with the fix.
    again = CliRunner().invoke(main, ["demo", "--contacts", "300", "--workdir", str(tmp_path)])
    assert again.exit_code == 2
    assert "new or empty folder" in again.output and "Traceback" not in again.output


def test_demo_removes_its_temporary_folder_unless_given_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    seen: list[Path] = []

    def look(demo: object) -> None:
        seen.append(demo.workdir)  # type: ignore[attr-defined]
        assert (demo.workdir / "sync-agent.db").exists()  # type: ignore[attr-defined]

    steps = [*STEPS[:2], Step("look", look), STEPS[-1]]
    result = run_demo(contacts=200, seed=5, steps=steps)
    assert seen and seen[0].parent == tmp_path
    assert not result.workdir.exists() and not result.kept
    assert list(tmp_path.iterdir()) == []
    # without a folder to come back to, the next steps say how to keep one, and use a sandbox
    commands = [cmd for cmd, _ in result.next_steps]
    assert "sync-agent demo --workdir sal-demo" in commands
    assert all("--config" not in cmd for cmd in commands)
    for cmd in commands:
        assert _command_exists(shlex.split(cmd)[1:]), cmd
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    [sandbox] = [cmd for cmd in commands if cmd.startswith("sync-agent sandbox serve")]
    assert sandbox in readme, "the sandbox it suggests is the README walkthrough's"


def _command_exists(args: list[str]) -> bool:
    """The words name a sync-agent command (group by group), and its options parse."""
    command: click.Command = main
    while isinstance(command, click.Group) and args and not args[0].startswith("-"):
        found = command.get_command(click.Context(command), args[0])
        if found is None:
            return False
        command, args = found, args[1:]
    ctx = command.make_context(command.name, list(args), resilient_parsing=True)
    return not isinstance(command, click.Group) and ctx is not None
