"""A run summary tells the truth: the HTTP calls each system answered, and what was not
written where, with why."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from connectors.sandbox import Sandbox
from sync_agent.cli import main
from sync_agent.demo import prepare_sandbox
from sync_agent.engine import run_once


def test_api_calls_are_the_requests_each_system_answered(tmp_path: Path) -> None:
    with Sandbox(contacts=300, seed=9, mql_share=1.0) as sb:
        config, _ = prepare_sandbox(sb, tmp_path)
        before = {s: sb.store.request_count(s) for s in ("hubspot", "salesforce")}
        [run] = run_once(config)
        after = {s: sb.store.request_count(s) for s in ("hubspot", "salesforce")}
    assert run.api_calls == {s: after[s] - before[s] for s in after}
    assert run.api_calls["hubspot"] > run.writes.calls, "more than one call per sink batch"
    assert run.to_dict()["api_calls"] == sum(run.api_calls.values())


def test_the_run_line_names_what_was_not_written_and_why(tmp_path: Path) -> None:
    with Sandbox(contacts=300, seed=9, mql_share=1.0) as sb:
        config, _ = prepare_sandbox(sb, tmp_path)
        result = CliRunner().invoke(main, ["run", "--once", "--config", str(config.path)])
    assert result.exit_code == 0, result.output
    assert "not written to salesforce:" in result.output
    assert "lead converted" in result.output or "waiting for the CRM record" in result.output
    assert "API calls: hubspot" in result.output and "salesforce" in result.output
