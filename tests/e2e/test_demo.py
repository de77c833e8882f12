"""The demo: a full sync on the sandbox, then a second pass that hands off nothing.

It narrates its steps in order (each heading before its progress bar), explains why
Salesforce got fewer tasks than there were accepted leads, ends with commands that work on
what it leaves behind, and leaves no temporary folder.
"""

from __future__ import annotations

import shlex
import tempfile
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from sync_agent.audit import AuditLog
from sync_agent.cli import main
from sync_agent.demo import STEPS, Step, run_demo


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
        assert out.exit_code == 0, f"{cmd}\n{out.output}"


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
