"""Progress a person can trust: the bar's total is the source's own count (HubSpot's search
total), not a guess from how far the cursor moved in time; `run --once` shows a bar on a
terminal too, and neither prints per-page log lines through it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from connectors.sandbox import Sandbox
from sync_agent.cli import main
from sync_agent.cli import sync as sync_cli
from sync_agent.demo import prepare_sandbox
from sync_agent.engine import backfill


def test_the_backfill_total_is_the_sources_count_from_the_first_page(tmp_path: Path) -> None:
    with Sandbox(contacts=1200, seed=4, mql_share=0.8) as sb:
        config, _ = prepare_sandbox(sb, tmp_path, hubspot_options={"page_size": 100})
        mqls = len(sb.store.mqls())
        calls: list[tuple[int, int | None]] = []
        [summary] = backfill(config, since=datetime(2000, 1, 1, tzinfo=UTC),
                             progress=lambda done, total: calls.append((done, total)))
    assert summary.read == mqls and len(calls) >= 5
    first_done, first_total = calls[0]
    assert first_done == 100 and first_total == mqls, "the true total from the first page"
    # ties re-read by id may shift it by a few, never past the count or below what is done
    assert all(total is not None and done <= total <= mqls for done, total in calls)
    assert calls[-1] == (mqls, mqls)


@pytest.mark.parametrize("command", [["run", "--once"], ["backfill", "--since", "2000-01-01"]])
def test_a_terminal_gets_a_bar_and_no_per_page_log_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.setattr(sync_cli, "on_terminal", lambda: True)
    with Sandbox(contacts=400, seed=4, mql_share=1.0) as sb:
        config, _ = prepare_sandbox(sb, tmp_path, hubspot_options={"page_size": 100})
        result = CliRunner().invoke(main, [*command, "--config", str(config.path)])
    assert result.exit_code == 0, result.output
    bar = [line for line in result.stderr.splitlines() if "leads/s" in line]
    assert bar and bar[-1].startswith(command[0]) and "400 leads" in bar[-1]
    assert "page_recorded" not in result.stderr and "hubspot_read_done" not in result.stderr


def test_without_a_terminal_no_bar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sync_cli, "on_terminal", lambda: False)
    with Sandbox(contacts=100, seed=4, mql_share=1.0) as sb:
        config, _ = prepare_sandbox(sb, tmp_path)
        result = CliRunner().invoke(main, ["run", "--once", "--config", str(config.path)])
    assert result.exit_code == 0, result.output
    assert "leads/s" not in result.stderr
